/* tests/unit/test_index_key.c - the index recipe's node-name encoding
 * (order kept, no '/', NUL or control characters, one name per key) and
 * its record format, without a server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "zkc/index.h"
#include "index_key.h"

static char *enc(const void *p, size_t n)
{
	char *s = NULL;

	assert_int_equal(zkc_index_encode(&s, p, n), ZKC_OK);
	return s;
}

static void test_known_encodings(void **state)
{
	static const struct { const char *in; size_t n; const char *out; } cases[] = {
		{ "", 0, "" },
		{ "abc", 3, "abc" },
		{ "a/b", 3, "a-2fb" },
		{ "\0", 1, "-00" },
		{ ".", 1, "-2e" },
		{ "..", 2, "-2e-2e" },
		{ "~", 1, "~7e" },
		{ "\xff", 1, "~ff" },
		{ "0}", 2, "0}" },
		{ "a b+c", 5, "a-20b-2bc" },
	};
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *s = enc(cases[i].in, cases[i].n);

		assert_string_equal(s, cases[i].out);
		assert_int_equal(zkcr_ikey_enc_len(cases[i].in, cases[i].n), strlen(cases[i].out));
		zkc_free(s);
	}
}

static void test_every_byte_round_trips_into_safe_characters(void **state)
{
	unsigned char all[256];
	char *s, *back = NULL;
	size_t i, n = 0;
	(void)state;

	for (i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	s = enc(all, 256);
	for (i = 0; s[i]; i++) {
		/* printable ASCII only (valid UTF-8, no control), never '/' */
		assert_true(s[i] > 0x20 && s[i] < 0x7f);
		assert_true(s[i] != '/');
		assert_true(s[i] != ZKCR_IKEY_SEP);
	}
	assert_int_equal(zkc_index_decode(&back, &n, s, strlen(s)), ZKC_OK);
	assert_int_equal(n, 256);
	assert_memory_equal(back, all, 256);
	zkc_free(back);
	zkc_free(s);
}

static int sgn(int x)
{
	return (x > 0) - (x < 0);
}

static int bytecmp(const unsigned char *a, size_t an, const unsigned char *b, size_t bn)
{
	size_t n = an < bn ? an : bn;
	int c = n ? memcmp(a, b, n) : 0;

	return c ? sgn(c) : (an > bn) - (an < bn);
}

static void rand_key(unsigned char *k, size_t *n, unsigned *seed)
{
	/* a small alphabet makes shared prefixes (the hard cases) common */
	static const unsigned char alpha[] = { 0, '+', '-', '.', '/', '0', 'a', '}', '~', 0x7f, 0xff };
	size_t i;

	*n = (size_t)(rand_r(seed) % 6);
	for (i = 0; i < *n; i++)
		k[i] = rand_r(seed) % 3 ? alpha[rand_r(seed) % sizeof(alpha)] : (unsigned char)rand_r(seed);
}

static void test_order_of_keys_and_of_value_id_entries_is_kept(void **state)
{
	unsigned seed = 12345;
	int t;
	(void)state;

	for (t = 0; t < 200000; t++) {
		unsigned char a[8], b[8], ia[8], ib[8];
		size_t an, bn, ian, ibn;
		char ea[64], eb[64], *e;
		int want;

		rand_key(a, &an, &seed);
		rand_key(b, &bn, &seed);
		*zkcr_ikey_enc(ea, a, an) = 0;
		*zkcr_ikey_enc(eb, b, bn) = 0;
		assert_int_equal(sgn(strcmp(ea, eb)), bytecmp(a, an, b, bn));

		/* entries "value+id" sort by value, then id */
		rand_key(ia, &ian, &seed);
		rand_key(ib, &ibn, &seed);
		e = zkcr_ikey_enc(ea, a, an);
		*e++ = ZKCR_IKEY_SEP;
		*zkcr_ikey_enc(e, ia, ian) = 0;
		e = zkcr_ikey_enc(eb, b, bn);
		*e++ = ZKCR_IKEY_SEP;
		*zkcr_ikey_enc(e, ib, ibn) = 0;
		want = bytecmp(a, an, b, bn);
		if (want == 0)
			want = bytecmp(ia, ian, ib, ibn);
		assert_int_equal(sgn(strcmp(ea, eb)), want);
	}
}

static void test_names_no_key_encodes_to_are_refused(void **state)
{
	static const char *const bad[] = { "-41", "~20", "+", "/", "-4", "-zz", "~7", "-2F", "a b",
	                                   "\x80" };
	size_t i, n;
	char *out = (char *)1;
	(void)state;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(zkc_index_decode(&out, &n, bad[i], strlen(bad[i])), ZKC_EBADARGUMENTS);
		assert_null(out);
	}
	assert_int_equal(zkc_index_decode(&out, &n, "", 0), ZKC_OK);
	assert_int_equal(n, 0);
	zkc_free(out);
	assert_int_equal(zkc_index_encode(NULL, "a", 1), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_index_encode(&out, NULL, 1), ZKC_EBADARGUMENTS);
}

static void test_record_format_round_trips_and_refuses_truncation(void **state)
{
	zkcr_irec_field_t f[2] = { { "color", 5, (const unsigned char *)"r\0d", 3 },
	                           { "e/m", 3, (const unsigned char *)"", 0 } }, g[4];
	const unsigned char *pl;
	size_t size = zkcr_irec_size(f, 2, 4), n = 0, pll = 0, cut;
	unsigned char *buf = malloc(size);
	(void)state;

	assert_non_null(buf);
	zkcr_irec_write(buf, f, 2, "\0pay", 4);
	assert_int_equal(zkcr_irec_parse(g, 4, &n, &pl, &pll, buf, size), 0);
	assert_int_equal(n, 2);
	assert_int_equal(g[0].name_len, 5);
	assert_memory_equal(g[0].name, "color", 5);
	assert_int_equal(g[0].value_len, 3);
	assert_memory_equal(g[0].value, "r\0d", 3);
	assert_int_equal(g[1].value_len, 0);
	assert_int_equal(pll, 4);
	assert_memory_equal(pl, "\0pay", 4);
	/* every cut inside the field table is refused, never read past */
	for (cut = 0; cut < size - 4; cut++)
		assert_int_equal(zkcr_irec_parse(g, 4, &n, &pl, &pll, buf, cut), -1);
	/* more fields than the caller has room for */
	assert_int_equal(zkcr_irec_parse(g, 1, &n, &pl, &pll, buf, size), -1);
	assert_int_equal(zkcr_irec_parse(g, 4, &n, &pl, &pll, "ZKI0\0\0\0\0", 8), -1);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_encodings),
		cmocka_unit_test(test_every_byte_round_trips_into_safe_characters),
		cmocka_unit_test(test_order_of_keys_and_of_value_id_entries_is_kept),
		cmocka_unit_test(test_names_no_key_encodes_to_are_refused),
		cmocka_unit_test(test_record_format_round_trips_and_refuses_truncation),
	};

	return cmocka_run_group_tests_name("index_key", tests, NULL, NULL);
}
