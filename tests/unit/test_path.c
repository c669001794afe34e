/* tests/unit/test_path.c - znode path validation with ZooKeeper's rules,
 * the reasons it gives, and the join/parent/basename helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"

#define NOLEN ((size_t)-1)

/* Asserts that path is rejected with ZKC_EBADARGUMENTS and a message that
 * contains each of the given fragments. */
static void expect_reject(const char *path, size_t len, const char *frag1, const char *frag2)
{
	zkc_error_clear();
	assert_int_equal(zkc_path_validate(path, len), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_error_last()->code, ZKC_EBADARGUMENTS);
	if (!strstr(zkc_error_last()->message, frag1) ||
	    (frag2 && !strstr(zkc_error_last()->message, frag2)))
		fail_msg("message \"%s\" lacks \"%s\" / \"%s\"", zkc_error_last()->message, frag1,
		         frag2 ? frag2 : "");
}

static void expect_ok(const char *path)
{
	if (zkc_path_validate(path, NOLEN) != ZKC_OK)
		fail_msg("\"%s\" rejected: %s", path, zkc_error_last()->message);
}

static void valid_paths_pass(void **state)
{
	(void)state;
	static const char *ok[] = {
		"/", "/a", "/a/b/c", "/zookeeper", "/a.b", "/..a", "/a..", "/...", "/.a/b.",
		"/a b", "/a-b_c:d@e", "/lock-0000000001", "/x/%2F", "/\xc3\xbc/\xe6\x97\xa5\xe6\x9c\xac",
		"/\xc2\xa0",          /* U+00A0, just after the C1 block */
		"/\xed\x9f\xbf",      /* U+D7FF, just before the surrogates */
		"/\xef\xa4\x80",      /* U+F900, just after the private-use block */
		"/\xef\xbf\xaf",      /* U+FFEF, just before the specials */
		"/~!$&'()*+,;=",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		expect_ok(ok[i]);
}

static void null_and_empty_paths_are_rejected(void **state)
{
	(void)state;
	expect_reject(NULL, NOLEN, "NULL", NULL);
	expect_reject("", NOLEN, "empty", NULL);
	expect_reject("/abc", 0, "empty", NULL);
}

static void relative_path_is_rejected(void **state)
{
	(void)state;
	expect_reject("a", NOLEN, "invalid path \"a\"", "must start with '/'");
	expect_reject("a/b", NOLEN, "must start with '/'", NULL);
	expect_reject(" /a", NOLEN, "must start with '/'", NULL);
}

static void trailing_slash_is_rejected(void **state)
{
	(void)state;
	expect_reject("/a/", NOLEN, "invalid path \"/a/\": trailing '/'", NULL);
	expect_reject("/a/b//", NOLEN, "trailing '/'", NULL);
	expect_reject("//", NOLEN, "trailing '/'", NULL);
}

static void empty_component_is_rejected_with_its_offset(void **state)
{
	(void)state;
	expect_reject("//a", NOLEN, "empty component at byte 1", NULL);
	expect_reject("/a//b", NOLEN, "empty component at byte 3", NULL);
}

static void dot_components_are_rejected(void **state)
{
	(void)state;
	expect_reject("/.", NOLEN, "\".\"", "at byte 1");
	expect_reject("/./a", NOLEN, "\".\"", NULL);
	expect_reject("/a/.", NOLEN, "\".\"", "at byte 3");
	expect_reject("/..", NOLEN, "\"..\"", NULL);
	expect_reject("/a/../b", NOLEN, "\"..\"", "at byte 3");
	expect_reject("/a/..", NOLEN, "\"..\"", NULL);
}

static void embedded_nul_is_rejected_when_length_given(void **state)
{
	(void)state;
	static const char buf[] = "/a\0b";

	expect_reject(buf, 4, "NUL", "at byte 2");
	/* strlen stops at the NUL: "/a" alone is fine */
	assert_int_equal(zkc_path_validate(buf, NOLEN), ZKC_OK);
	/* a length shorter than the string checks only that prefix */
	assert_int_equal(zkc_path_validate("/abc/", 4), ZKC_OK);
	expect_reject("/\0", 2, "NUL", "at byte 1");
}

static void control_characters_are_rejected_and_escaped(void **state)
{
	(void)state;
	expect_reject("/a\x01", NOLEN, "U+0001", "\\x01");
	expect_reject("/a\x1f", NOLEN, "U+001F", "at byte 2");
	expect_reject("/a\x7f", NOLEN, "U+007F", NULL);
	expect_reject("/a\nb", NOLEN, "U+000A", "\\x0a");
	/* the message itself carries no raw control character */
	zkc_path_validate("/a\x01\x1b[31m", NOLEN);
	for (const char *m = zkc_error_last()->message; *m; m++)
		assert_true((unsigned char)*m >= 0x20 && (unsigned char)*m < 0x7f);
}

static void forbidden_unicode_ranges_are_rejected(void **state)
{
	(void)state;
	expect_reject("/\xc2\x80", NOLEN, "U+0080", NULL);          /* C1 start */
	expect_reject("/\xc2\x9f", NOLEN, "U+009F", NULL);          /* C1 end */
	expect_reject("/\xed\xa0\x80", NOLEN, "U+D800", NULL);      /* surrogate */
	expect_reject("/\xed\xbf\xbf", NOLEN, "U+DFFF", NULL);
	expect_reject("/\xee\x80\x80", NOLEN, "U+E000", NULL);      /* private use */
	expect_reject("/\xef\xa3\xbf", NOLEN, "U+F8FF", NULL);
	expect_reject("/\xef\xbf\xb0", NOLEN, "U+FFF0", NULL);      /* specials */
	expect_reject("/\xef\xbf\xbf", NOLEN, "U+FFFF", NULL);
}

/* ZooKeeper checks UTF-16 units: a character beyond U+FFFF is a surrogate
 * pair there, which it refuses. */
static void characters_beyond_the_bmp_are_rejected(void **state)
{
	(void)state;
	expect_reject("/smile\xf0\x9f\x98\x80", NOLEN, "U+1F600", "beyond U+FFFF");
	expect_reject("/\xf0\x90\x80\x80", NOLEN, "U+10000", NULL);
}

static void invalid_utf8_is_rejected(void **state)
{
	(void)state;
	expect_reject("/\x80", NOLEN, "invalid UTF-8", "at byte 1");      /* stray continuation */
	expect_reject("/a\xc3", NOLEN, "invalid UTF-8", "at byte 2");     /* truncated */
	expect_reject("/\xc3(", NOLEN, "invalid UTF-8", NULL);            /* bad continuation */
	expect_reject("/\xc0\xaf", NOLEN, "invalid UTF-8", NULL);         /* overlong '/' */
	expect_reject("/\xe0\x80\xaf", NOLEN, "invalid UTF-8", NULL);     /* overlong */
	expect_reject("/\xf4\x90\x80\x80", NOLEN, "invalid UTF-8", NULL); /* > U+10FFFF */
	expect_reject("/\xf8\x88\x80\x80\x80", NOLEN, "invalid UTF-8", NULL);
	expect_reject("/\xff", NOLEN, "invalid UTF-8", "\\xff");
}

static void path_length_limit_is_4096_bytes(void **state)
{
	(void)state;
	char *p = malloc(4098);

	p[0] = '/';
	memset(p + 1, 'a', 4096);
	p[4096] = '\0';  /* 4096 bytes */
	assert_int_equal(zkc_path_validate(p, NOLEN), ZKC_OK);
	p[4096] = 'a';
	p[4097] = '\0';  /* 4097 bytes */
	expect_reject(p, NOLEN, "4097 bytes", "4096");
	/* the message quotes only the start of such a path */
	assert_true(strlen(zkc_error_last()->message) < 400);
	assert_non_null(strstr(zkc_error_last()->message, "...\""));
	free(p);
}

static void quotes_in_path_are_escaped_in_messages(void **state)
{
	(void)state;
	expect_reject("/a\"b/", NOLEN, "\"/a\\\"b/\"", NULL);
	expect_reject("/a\\b/", NOLEN, "\"/a\\\\b/\"", NULL);
}

static void join_puts_exactly_one_slash_between(void **state)
{
	(void)state;
	struct {
		const char *parent, *child, *want;
	} cases[] = {
		{ "/", "a", "/a" },    { "/a", "b", "/a/b" },  { "/a/", "b", "/a/b" },
		{ "/a", "/b", "/a/b" }, { "/a", "b/c", "/a/b/c" }, { "/a", "", "/a" },
		{ "/", "", "/" },       { "", "a", "/a" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *j = zkc__path_join(cases[i].parent, cases[i].child);
		assert_non_null(j);
		assert_string_equal(j, cases[i].want);
		free(j);
	}
	assert_null(zkc__path_join(NULL, "a"));
	assert_null(zkc__path_join("/a", NULL));
}

static void parent_of_top_level_node_is_root_and_root_has_none(void **state)
{
	(void)state;
	char *p;

	p = zkc__path_parent("/a");
	assert_string_equal(p, "/");
	free(p);
	p = zkc__path_parent("/a/b/c");
	assert_string_equal(p, "/a/b");
	free(p);
	assert_null(zkc__path_parent("/"));
	assert_null(zkc__path_parent(NULL));
	assert_null(zkc__path_parent("noslash"));
}

static void basename_points_into_the_path(void **state)
{
	(void)state;
	const char *p = "/a/bc";

	assert_ptr_equal(zkc__path_basename(p), p + 3);
	assert_string_equal(zkc__path_basename("/a"), "a");
	assert_string_equal(zkc__path_basename("/"), "");
	assert_string_equal(zkc__path_basename("x"), "x");
	assert_null(zkc__path_basename(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid_paths_pass),
		cmocka_unit_test(null_and_empty_paths_are_rejected),
		cmocka_unit_test(relative_path_is_rejected),
		cmocka_unit_test(trailing_slash_is_rejected),
		cmocka_unit_test(empty_component_is_rejected_with_its_offset),
		cmocka_unit_test(dot_components_are_rejected),
		cmocka_unit_test(embedded_nul_is_rejected_when_length_given),
		cmocka_unit_test(control_characters_are_rejected_and_escaped),
		cmocka_unit_test(forbidden_unicode_ranges_are_rejected),
		cmocka_unit_test(characters_beyond_the_bmp_are_rejected),
		cmocka_unit_test(invalid_utf8_is_rejected),
		cmocka_unit_test(path_length_limit_is_4096_bytes),
		cmocka_unit_test(quotes_in_path_are_escaped_in_messages),
		cmocka_unit_test(join_puts_exactly_one_slash_between),
		cmocka_unit_test(parent_of_top_level_node_is_root_and_root_has_none),
		cmocka_unit_test(basename_points_into_the_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
