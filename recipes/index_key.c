/* recipes/index_key.c - the order-preserving node-name encoding of the
 * index recipe and its record format (docs/recipes/index.md). Pure code:
 * no client, unit-tested on its own (tests/unit/test_index_key.c). */
#include <stdlib.h>
#include <string.h>

#include "zkc/index.h"
#include "index_key.h"

static const char hexd[] = "0123456789abcdef";

/* Bytes '0'..'}' are themselves; lower ones '-'+hex, higher '~'+hex.
 * '-' < '0' and '}' < '~', and every token's length follows from its first
 * character, so the code is prefix-free and keeps bytewise order. */
static int plain(unsigned char b)
{
	return b >= 0x30 && b <= 0x7d;
}

size_t zkcr_ikey_enc_len(const void *key, size_t len)
{
	const unsigned char *p = key;
	size_t n = 0, i;

	for (i = 0; i < len; i++)
		n += plain(p[i]) ? 1 : 3;
	return n;
}

char *zkcr_ikey_enc(char *dst, const void *key, size_t len)
{
	const unsigned char *p = key;
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char b = p[i];

		if (plain(b)) {
			*dst++ = (char)b;
		} else {
			*dst++ = b < 0x30 ? '-' : '~';
			*dst++ = hexd[b >> 4];
			*dst++ = hexd[b & 15];
		}
	}
	return dst;
}

static int hexv(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int zkcr_ikey_dec(unsigned char *dst, size_t *out_len, const char *name, size_t nlen)
{
	size_t i = 0, n = 0;

	while (i < nlen) {
		unsigned char c = (unsigned char)name[i];

		if (plain(c)) {
			dst[n++] = c;
			i++;
		} else if (c == '-' || c == '~') {
			int hi, lo, b;

			if (nlen - i < 3)
				return -1;
			hi = hexv(name[i + 1]);
			lo = hexv(name[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			b = hi * 16 + lo;
			/* only the canonical token of each byte decodes, so
			 * every key has exactly one name */
			if (plain((unsigned char)b) || (c == '-') != (b < 0x30))
				return -1;
			dst[n++] = (unsigned char)b;
			i += 3;
		} else {
			return -1;
		}
	}
	*out_len = n;
	return 0;
}

int zkc_index_encode(char **out, const void *key, size_t len)
{
	size_t n;
	char *s;

	if (!out || (!key && len))
		return zkc_error_set(ZKC_EBADARGUMENTS, "index encode: %s is NULL", !out ? "out"
		                     : "key");
	*out = NULL;
	n = zkcr_ikey_enc_len(key, len);
	s = malloc(n + 1);
	if (!s)
		return zkc_error_set(ZKC_ENOMEM, "index encode: out of memory");
	*zkcr_ikey_enc(s, key, len) = 0;
	*out = s;
	return ZKC_OK;
}

int zkc_index_decode(char **out, size_t *out_len, const char *name, size_t name_len)
{
	unsigned char *b;
	size_t n = 0;

	if (!out || (!name && name_len))
		return zkc_error_set(ZKC_EBADARGUMENTS, "index decode: %s is NULL", !out ? "out"
		                     : "name");
	*out = NULL;
	b = malloc(name_len + 1);
	if (!b)
		return zkc_error_set(ZKC_ENOMEM, "index decode: out of memory");
	if (zkcr_ikey_dec(b, &n, name, name_len) != 0) {
		free(b);
		return zkc_error_set(ZKC_EBADARGUMENTS, "index decode: \"%.*s\" is not an encoded "
		                     "key", (int)(name_len > 200 ? 200 : name_len), name);
	}
	b[n] = 0;
	*out = (char *)b;
	if (out_len)
		*out_len = n;
	return ZKC_OK;
}

/* ------------------------------------------------------------ record format */

static void put32(unsigned char *p, size_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static size_t get32(const unsigned char *p)
{
	return (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
}

size_t zkcr_irec_size(const zkcr_irec_field_t *f, size_t n, size_t payload_len)
{
	size_t s = 8 + payload_len, i;

	for (i = 0; i < n; i++)
		s += 8 + f[i].name_len + f[i].value_len;
	return s;
}

void zkcr_irec_write(unsigned char *dst, const zkcr_irec_field_t *f, size_t n,
                     const void *payload, size_t payload_len)
{
	size_t i;

	memcpy(dst, "ZKI1", 4);
	put32(dst + 4, n);
	dst += 8;
	for (i = 0; i < n; i++) {
		put32(dst, f[i].name_len);
		memcpy(dst + 4, f[i].name, f[i].name_len);
		dst += 4 + f[i].name_len;
		put32(dst, f[i].value_len);
		if (f[i].value_len)
			memcpy(dst + 4, f[i].value, f[i].value_len);
		dst += 4 + f[i].value_len;
	}
	if (payload_len)
		memcpy(dst, payload, payload_len);
}

int zkcr_irec_parse(zkcr_irec_field_t *f, size_t cap, size_t *out_n, const unsigned char **payload,
                    size_t *payload_len, const void *data, size_t len)
{
	const unsigned char *p = data, *end = p + len;
	size_t n, i;

	if (!data || len < 8 || memcmp(p, "ZKI1", 4) != 0)
		return -1;
	n = get32(p + 4);
	if (n > cap)
		return -1;
	p += 8;
	for (i = 0; i < n; i++) {
		size_t l;

		if ((size_t)(end - p) < 4 || (l = get32(p)) > (size_t)(end - p) - 4)
			return -1;
		f[i].name = (const char *)p + 4;
		f[i].name_len = l;
		p += 4 + l;
		if ((size_t)(end - p) < 4 || (l = get32(p)) > (size_t)(end - p) - 4)
			return -1;
		f[i].value = p + 4;
		f[i].value_len = l;
		p += 4 + l;
	}
	*out_n = n;
	*payload = p;
	*payload_len = (size_t)(end - p);
	return 0;
}
