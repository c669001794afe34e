/* tools/cli_json.c - the JSON writers of the `zkc` commands' --json output
 * (node names, data, metadata, keys: any bytes) and the base64 that binary
 * data takes in JSON (--json output and the dump format). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void put_json_string(const void *data, size_t len, int bytes)
{
	const unsigned char *s = data;
	size_t i;

	putchar('"');
	for (i = 0; i < len; i++) {
		unsigned char c = s[i];

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c == 0x7f || (bytes && c > 0x7f))
			printf("\\u%04x", c);   /* bytes mode: each byte its own code */
		else
			putchar(c);
	}
	putchar('"');
}

void cli_json_string(const void *data, size_t len)
{
	put_json_string(data, len, 0);
}

void cli_json_bytes(const void *data, size_t len)
{
	put_json_string(data, len, 1);
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *cli_b64_encode(const unsigned char *d, size_t n)
{
	char *out = malloc(4 * ((n + 2) / 3) + 1), *o = out;
	size_t i;

	if (!out)
		return NULL;
	for (i = 0; i + 2 < n; i += 3, o += 4) {
		o[0] = b64[d[i] >> 2];
		o[1] = b64[((d[i] & 3) << 4) | (d[i + 1] >> 4)];
		o[2] = b64[((d[i + 1] & 15) << 2) | (d[i + 2] >> 6)];
		o[3] = b64[d[i + 2] & 63];
	}
	if (i < n) {
		o[0] = b64[d[i] >> 2];
		o[1] = b64[((d[i] & 3) << 4) | (i + 1 < n ? d[i + 1] >> 4 : 0)];
		o[2] = i + 1 < n ? b64[(d[i + 1] & 15) << 2] : '=';
		o[3] = '=';
		o += 4;
	}
	*o = '\0';
	return out;
}

/* -1 for anything that is not canonical base64. */
long cli_b64_decode(const char *s, unsigned char *out)
{
	size_t n = strlen(s), i;
	long len = 0;

	if (n % 4)
		return -1;
	for (i = 0; i < n; i += 4) {
		int v[4], k;

		for (k = 0; k < 4; k++) {
			const char *p = s[i + k] ? strchr(b64, s[i + k]) : NULL;

			if (s[i + k] == '=' && i + 4 == n && k >= 2)
				v[k] = -1;
			else if (p)
				v[k] = (int)(p - b64);
			else
				return -1;
		}
		if (v[0] < 0 || v[1] < 0 || (v[2] < 0 && v[3] >= 0))
			return -1;
		out[len++] = (unsigned char)((v[0] << 2) | (v[1] >> 4));
		if (v[2] >= 0)
			out[len++] = (unsigned char)(((v[1] & 15) << 4) | (v[2] >> 2));
		if (v[3] >= 0)
			out[len++] = (unsigned char)(((v[2] & 3) << 6) | v[3]);
	}
	return len;
}

int cli_is_text(const char *d, size_t n)
{
	json_t *s;

	if (n && memchr(d, '\0', n))
		return 0;
	s = json_stringn(d ? d : "", n);   /* NULL unless valid UTF-8 */
	json_decref(s);
	return s != NULL;
}

void cli_json_data(const char *data, size_t len)
{
	char *e;

	if (cli_is_text(data, len)) {
		printf("\"data\":");
		cli_json_string(data ? data : "", len);
		return;
	}
	e = cli_b64_encode((const unsigned char *)data, len);
	printf("\"data_b64\":\"%s\"", e ? e : "");
	free(e);
}

void cli_json_stat(const zkc_stat_t *st)
{
	printf("{\"czxid\":%lld,\"mzxid\":%lld,\"pzxid\":%lld,\"ctime\":%lld,\"mtime\":%lld,"
	       "\"version\":%d,\"cversion\":%d,\"aversion\":%d,\"ephemeral_owner\":%lld,"
	       "\"data_length\":%d,\"num_children\":%d}",
	       (long long)st->czxid, (long long)st->mzxid, (long long)st->pzxid,
	       (long long)st->ctime, (long long)st->mtime, st->version, st->cversion,
	       st->aversion, (long long)st->ephemeral_owner, st->data_length,
	       st->num_children);
}
