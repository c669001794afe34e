/* tests/unit/test_url_docs.c - every scheme and query option the URL parser
 * accepts is documented where users look: the zkc_open comment in
 * include/zkc/client.h and the tables of docs/getting-started.md; and every
 * option those tables name is one the parser accepts. So they cannot drift. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"

#ifndef ZKC_TOP_SRCDIR
#error "ZKC_TOP_SRCDIR must name the source tree"
#endif

static char *slurp(const char *rel)
{
	char path[4096];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof path, "%s/%s", ZKC_TOP_SRCDIR, rel);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* The comment right above zkc_open's declaration. */
static char *open_comment(void)
{
	char *h = slurp("include/zkc/client.h");
	char *decl = strstr(h, "ZKC_EXTERN int zkc_open(");
	char *start, *end, *out;

	assert_non_null(decl);
	end = decl;
	while (end > h && strncmp(end, "*/", 2) != 0)
		end--;
	start = end;
	while (start > h && strncmp(start, "/*", 2) != 0)
		start--;
	assert_true(start < end);
	out = strndup(start, (size_t)(end - start));
	free(h);
	assert_non_null(out);
	return out;
}

static int is_word(int c)
{
	return isalnum(c) || c == '_';
}

/* `needle` in `hay` with no word character right before it. */
static int has_at_word_start(const char *hay, const char *needle)
{
	const char *p;

	for (p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		if (p == hay || !is_word((unsigned char)p[-1]))
			return 1;
	return 0;
}

static void every_option_is_in_the_zkc_open_comment(void **state)
{
	char *c = open_comment();
	char want[64];
	size_t i;

	(void)state;
	for (i = 0; zkc__url_option_name(i); i++) {
		snprintf(want, sizeof want, "%s=", zkc__url_option_name(i));
		if (!has_at_word_start(c, want))
			fail_msg("the zkc_open comment (include/zkc/client.h) does not "
			         "name option %s", want);
	}
	assert_true(i >= 18);    /* the parser's table was found at all */
	free(c);
}

static void every_scheme_is_in_the_zkc_open_comment(void **state)
{
	char *c = open_comment();
	char want[64];
	size_t i;

	(void)state;
	for (i = 0; zkc__url_scheme_name(i); i++) {
		snprintf(want, sizeof want, "%s://", zkc__url_scheme_name(i));
		if (!has_at_word_start(c, want))
			fail_msg("the zkc_open comment does not name scheme %s", want);
	}
	assert_true(i >= 8);
	free(c);
}

static void every_option_and_scheme_is_in_getting_started(void **state)
{
	char *doc = slurp("docs/getting-started.md");
	char want[64];
	size_t i;

	(void)state;
	for (i = 0; zkc__url_option_name(i); i++) {
		/* a row of the options table */
		snprintf(want, sizeof want, "\n| `%s` |", zkc__url_option_name(i));
		if (!strstr(doc, want))
			fail_msg("docs/getting-started.md has no options-table row "
			         "for %s", zkc__url_option_name(i));
	}
	for (i = 0; zkc__url_scheme_name(i); i++) {
		snprintf(want, sizeof want, "`%s://", zkc__url_scheme_name(i));
		if (!strstr(doc, want))
			fail_msg("docs/getting-started.md does not name scheme %s://",
			         zkc__url_scheme_name(i));
	}
	free(doc);
}

static int parser_accepts(const char *name)
{
	size_t i;

	for (i = 0; zkc__url_option_name(i); i++)
		if (strcmp(zkc__url_option_name(i), name) == 0)
			return 1;
	return 0;
}

/* The other way: a table row or a name= in the comment that the parser
 * does not know is a documented option that fails with ZKC_EURL. */
static void every_documented_option_is_accepted(void **state)
{
	char *doc = slurp("docs/getting-started.md");
	char *c = open_comment();
	const char *p;
	int rows = 0;

	(void)state;
	for (p = strstr(doc, "\n| `"); p; p = strstr(p + 1, "\n| `")) {
		char name[64];
		size_t n = strspn(p + 4, "abcdefghijklmnopqrstuvwxyz_");

		if (n == 0 || n >= sizeof name || strncmp(p + 4 + n, "` |", 3) != 0)
			continue;      /* not a bare option name: a URL row */
		memcpy(name, p + 4, n);
		name[n] = '\0';
		rows++;
		if (!parser_accepts(name))
			fail_msg("docs/getting-started.md documents option %s, which "
			         "the URL parser rejects", name);
	}
	assert_true(rows >= 18);
	for (p = c; *p; p++) {
		char name[64];
		size_t n;

		if (p > c && is_word((unsigned char)p[-1]))
			continue;
		n = strspn(p, "abcdefghijklmnopqrstuvwxyz_");
		if (n == 0 || n >= sizeof name || p[n] != '=')
			continue;
		memcpy(name, p, n);
		name[n] = '\0';
		if (!parser_accepts(name))
			fail_msg("the zkc_open comment documents option %s=, which the "
			         "URL parser rejects", name);
	}
	free(c);
	free(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_option_is_in_the_zkc_open_comment),
		cmocka_unit_test(every_scheme_is_in_the_zkc_open_comment),
		cmocka_unit_test(every_option_and_scheme_is_in_getting_started),
		cmocka_unit_test(every_documented_option_is_accepted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
