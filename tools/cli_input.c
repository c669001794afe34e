/* tools/cli_input.c - reading the commands' arguments: strict numbers
 * ("12abc" and "" are usage errors, not 12 and 0) and data given inline,
 * in a file, or as "-" for standard input. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void cli_getopt_reset(const char *optstring)
{
	static char zkc[] = "zkc";
	static char *none[] = { zkc, NULL };
	int quiet = opterr;

	/* optind = 0: glibc re-initialises getopt at the next call, taking the
	 * ordering from that call's optstring; a scan of no arguments does it
	 * now and leaves optind at 1 */
	optind = 0;
	opterr = 0;
	(void)getopt(1, none, optstring);
	opterr = quiet;
}

int cli_parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
	char *end;
	long long v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*out = (int64_t)v;
	return 0;
}

int cli_parse_int(const char *s, int lo, int hi, int *out)
{
	int64_t v;

	if (cli_parse_i64(s, lo, hi, &v) != 0)
		return -1;
	*out = (int)v;
	return 0;
}

/* Reads f to its end, or to a little past the largest node: what is too
 * large is still passed on, so the library's error names the limit. */
static int read_stream(FILE *f, char **out, size_t *len)
{
	size_t cap = 4096, n = 0, got;
	char *buf = malloc(cap);

	while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			char *m = cap > (size_t)ZKC_MAX_DATA_LEN ? NULL : realloc(buf, cap * 2);

			if (!m)
				break;
			buf = m;
			cap *= 2;
		}
	}
	if (!buf || ferror(f)) {
		free(buf);
		return -1;
	}
	*out = buf;
	*len = n;
	return 0;
}

int cli_read_arg(const char *arg, char **out, size_t *len)
{
	if (strcmp(arg, "-") == 0)
		return read_stream(stdin, out, len);
	*out = strdup(arg);
	*len = strlen(arg);
	return *out ? 0 : -1;
}

int cli_read_file(const char *path, char **out, size_t *len)
{
	FILE *f;
	int rc;

	if (strcmp(path, "-") == 0)
		return read_stream(stdin, out, len);
	if (!(f = fopen(path, "rb")))
		return -1;
	rc = read_stream(f, out, len);
	fclose(f);
	return rc;
}
