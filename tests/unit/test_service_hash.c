/* tests/unit/test_service_hash.c - the service router's math without a
 * server: the hash is pinned (other languages reproduce it), weighted
 * rendezvous moves only the changed instance's keys and honours weights,
 * and the node format round-trips and refuses what is not an instance. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "zkc.h"

#define KEYS 100000

/* The winner among ids[0..n) with weights w for key k (as the router). */
static int winner(char ids[][16], const int *w, int n, uint64_t kh)
{
	double best = -1;
	int i, win = -1;

	for (i = 0; i < n; i++) {
		double s = zkc_service_score(kh, zkc_service_hash64(ids[i], strlen(ids[i])), w[i]);

		if (s > best) {
			best = s;
			win = i;
		}
	}
	return win;
}

static uint64_t key_hash(int k)
{
	char key[32];
	int n = snprintf(key, sizeof(key), "key-%d", k);

	return zkc_service_hash64(key, (size_t)n);
}

static void test_hash_values_are_pinned_for_other_implementations(void **state)
{
	(void)state;
	/* Changing these moves every key of every deployed router: the values
	 * are the specification in docs/recipes/service.md. */
	assert_true(zkc_service_hash64("", 0) == zkc_service_hash64(NULL, 0));
	assert_true(zkc_service_hash64("a", 1) != zkc_service_hash64("b", 1));
	assert_true(zkc_service_hash64("a\0", 2) != zkc_service_hash64("a", 1));
	assert_true(zkc_service_hash64("abcdefgh", 8) != zkc_service_hash64("abcdefgh\0", 9));
	printf("# hash64(\"\")=%016llx hash64(\"key-1\")=%016llx hash64(\"instance-0001\")=%016llx\n",
	       (unsigned long long)zkc_service_hash64("", 0),
	       (unsigned long long)zkc_service_hash64("key-1", 5),
	       (unsigned long long)zkc_service_hash64("instance-0001", 13));
	assert_true(zkc_service_hash64("", 0) == 0xe220a8397b1dcdafULL);
	assert_true(zkc_service_hash64("key-1", 5) == 0x7957dc271c9c271cULL);
	assert_true(zkc_service_hash64("instance-0001", 13) == 0x11749f3fb0959011ULL);
}

/* ---- the specification of docs/recipes/service.md, written again from
 * the page (with libm's log): the library must match it. */

static uint64_t spec_mix(uint64_t z)
{
	z ^= z >> 30;
	z *= 0xbf58476d1ce4e5b9ULL;
	z ^= z >> 27;
	z *= 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return z;
}

static uint64_t spec_hash64(const unsigned char *p, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ (len * 0xc2b2ae3d27d4eb4fULL), w;
	size_t i, b;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&w, p + i, 8); /* little-endian host */
		h = spec_mix(h ^ w) + 0x9e3779b97f4a7c15ULL;
	}
	if (i < len) {
		w = 0;
		for (b = 0; b < len - i; b++)
			w |= (uint64_t)p[i + b] << (8 * b);
		h = spec_mix(h ^ w ^ 0xff51afd7ed558ccdULL) + 0x9e3779b97f4a7c15ULL;
	}
	return spec_mix(h ^ len);
}

static double spec_score(uint64_t kh, uint64_t ih, int w)
{
	uint64_t h = spec_mix(spec_mix(kh ^ ih) + ih);
	double u = ((double)(h >> 11) + 0.5) / 9007199254740992.0;

	return w / -log(u);
}

static void test_library_matches_the_documented_specification(void **state)
{
	unsigned char buf[40];
	double worst = 0;
	int i, j, len;
	(void)state;

	for (i = 0; i < 20000; i++) {
		uint64_t kh, ih;
		double a, b, rel;

		len = i % 40;
		for (j = 0; j < len; j++)
			buf[j] = (unsigned char)(spec_mix((uint64_t)i * 131 + (uint64_t)j) >> 13);
		kh = zkc_service_hash64(buf, (size_t)len);
		assert_true(kh == spec_hash64(buf, (size_t)len));
		ih = zkc_service_hash64("instance", 8);
		a = zkc_service_score(kh, ih, 1 + i % 5);
		b = spec_score(kh, ih, 1 + i % 5);
		rel = fabs(a - b) / b;
		if (rel > worst)
			worst = rel;
	}
	printf("# worst relative score difference against libm: %g\n", worst);
	assert_true(worst < 1e-13);
}

static void test_score_is_weight_over_minus_ln_u(void **state)
{
	uint64_t kh = key_hash(7), ih = zkc_service_hash64("x", 1);
	double s1 = zkc_service_score(kh, ih, 1);
	(void)state;

	assert_true(s1 > 0);
	/* linear in the weight: the same uniform draw scaled */
	assert_true(zkc_service_score(kh, ih, 3) > 2.9999999 * s1);
	assert_true(zkc_service_score(kh, ih, 3) < 3.0000001 * s1);
}

/* Exact bit of the test's statistical claims, without ZooKeeper: the
 * integration test checks the same through a real router. */
static void test_adding_an_instance_moves_only_keys_to_it(void **state)
{
	static char ids[11][16];
	int w[11], before, after, i, moved = 0, wrong = 0;
	(void)state;

	for (i = 0; i < 11; i++) {
		snprintf(ids[i], sizeof(ids[i]), "instance-%04d", i);
		w[i] = 1;
	}
	for (i = 0; i < KEYS; i++) {
		uint64_t kh = key_hash(i);

		before = winner(ids, w, 10, kh);
		after = winner(ids, w, 11, kh);
		if (before != after) {
			moved++;
			wrong += after != 10;
		}
	}
	/* 1/11 of 100,000 = 9091; moved ~ Binomial(100000, 1/11), sd 91:
	 * +-500 is 5.5 sd (see test_service.c) */
	printf("# moved %d of %d keys (expected 9091)\n", moved, KEYS);
	assert_int_equal(wrong, 0);
	assert_in_range(moved, 9091 - 500, 9091 + 500);
}

static void test_weights_are_honoured(void **state)
{
	static char ids[10][16];
	int w[10], count[10] = { 0 }, i;
	double others = 0;
	(void)state;

	for (i = 0; i < 10; i++) {
		snprintf(ids[i], sizeof(ids[i]), "w-%d", i);
		w[i] = i == 0 ? 2 : 1;
	}
	for (i = 0; i < KEYS; i++)
		count[winner(ids, w, 10, key_hash(i))]++;
	for (i = 1; i < 10; i++)
		others += count[i];
	others /= 9;
	printf("# weight 2: %d keys, weight 1: %.0f on average (ratio %.3f)\n", count[0], others,
	       count[0] / others);
	/* expected 2/11 = 18182 vs 9091; ratio sd ~0.02, tolerance 0.1 */
	assert_true(count[0] / others > 1.9 && count[0] / others < 2.1);
}

static void test_format_round_trips_with_nul_and_escapes(void **state)
{
	zkc_service_instance_t in = ZKC_SERVICE_INSTANCE_INIT;
	zkc_service_entry_t e;
	static const char meta[] = "a\0b\"c\\d\n\x01\xc3\xa9";
	char *data = NULL;
	size_t len = 0;
	(void)state;

	in.id = "node-1";
	in.address = "10.0.0.7";
	in.port = 8080;
	in.weight = 3;
	in.draining = 1;
	in.metadata = meta;
	in.metadata_len = sizeof(meta) - 1;
	assert_int_equal(zkc_service_encode(&data, &len, "web", &in), ZKC_OK);
	assert_int_equal(strlen(data), len);
	assert_non_null(strstr(data, "\"address\":\"10.0.0.7\""));
	assert_non_null(strstr(data, "\"enabled\":false"));
	assert_int_equal(zkc_service_decode(&e, "node-1", data, len), ZKC_OK);
	assert_string_equal(e.id, "node-1");
	assert_string_equal(e.address, "10.0.0.7");
	assert_int_equal(e.port, 8080);
	assert_int_equal(e.weight, 3);
	assert_int_equal(e.draining, 1);
	assert_int_equal(e.metadata_len, sizeof(meta) - 1);
	assert_memory_equal(e.metadata, meta, sizeof(meta) - 1);
	zkc_service_entry_clear(&e);
	zkc_free(data);
}

static void test_curator_shaped_instance_is_read_with_defaults(void **state)
{
	/* what Curator's ServiceDiscovery writes (no zkc payload) */
	static const char cur[] =
	    "{\"name\":\"web\",\"id\":\"c1\",\"address\":\"h1\",\"port\":81,\"sslPort\":null,"
	    "\"payload\":{\"@class\":\"x.Y\",\"list\":[1,2.5,{\"a\":null}]},"
	    "\"registrationTimeUTC\":1700000000000,\"serviceType\":\"DYNAMIC\","
	    "\"uriSpec\":{\"parts\":[{\"value\":\"http\",\"variable\":true}]}}";
	static const char disabled[] = "{\"address\":\"h2\",\"port\":82,\"enabled\":false}";
	zkc_service_entry_t e;
	(void)state;

	assert_int_equal(zkc_service_decode(&e, "c1", cur, sizeof(cur) - 1), ZKC_OK);
	assert_string_equal(e.address, "h1");
	assert_int_equal(e.port, 81);
	assert_int_equal(e.weight, 1);
	assert_int_equal(e.draining, 0);
	assert_int_equal(e.metadata_len, 0);
	zkc_service_entry_clear(&e);
	assert_int_equal(zkc_service_decode(&e, "c2", disabled, sizeof(disabled) - 1), ZKC_OK);
	assert_string_equal(e.id, "c2");
	assert_int_equal(e.draining, 1);
	zkc_service_entry_clear(&e);
}

static void test_bad_node_data_is_refused_with_a_reason(void **state)
{
	static const char *bad[] = {
		"", "{", "[]", "{\"address\":\"h\"", "{\"address\":\"h\",\"port\":70000}",
		"{\"address\":\"h\",\"port\":1.5}", "{\"port\":1}", "{\"address\":\"\"}",
		"{\"address\":\"h\",\"payload\":{\"weight\":0}}",
		"{\"address\":\"h\",\"payload\":{\"weight\":-3}}",
		"{\"address\":\"h\",\"id\":\"other\"}", "{\"address\":\"h\"} x",
		"{\"address\":\"a\\u0001b\"}", "{\"address\":\"h\",\"x\":\"\\q\"}",
		"{\"address\":\"h\",\"port\":99999999999999999999999}",
	};
	char deep[200];
	zkc_service_entry_t e;
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(zkc_service_decode(&e, "id", bad[i], strlen(bad[i])),
		                 ZKC_EBADARGUMENTS);
		assert_int_equal(zkc_error_last()->code, ZKC_EBADARGUMENTS);
		assert_non_null(strstr(zkc_error_last()->message, "not an instance"));
		assert_null(e.id);
	}
	/* nesting bounded: no stack exhaustion on hostile data */
	memset(deep, '[', sizeof(deep));
	memcpy(deep, "{\"x\":", 5);
	assert_int_equal(zkc_service_decode(&e, "id", deep, sizeof(deep)), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_service_decode(NULL, "id", "{}", 2), ZKC_EBADARGUMENTS);
}

static void test_bad_instances_are_refused_before_encoding(void **state)
{
	zkc_service_instance_t in = ZKC_SERVICE_INSTANCE_INIT;
	char *data = NULL, *big;
	(void)state;

	in.id = "ok";
	in.address = "h";
	in.id = "a/b";
	assert_int_equal(zkc_service_encode(&data, NULL, "s", &in), ZKC_EBADARGUMENTS);
	assert_non_null(strstr(zkc_error_last()->message, "id"));
	in.id = "";
	assert_int_equal(zkc_service_encode(&data, NULL, "s", &in), ZKC_EBADARGUMENTS);
	in.id = "..";
	assert_int_equal(zkc_service_encode(&data, NULL, "s", &in), ZKC_EBADARGUMENTS);
	in.id = "tab\there";
	assert_int_equal(zkc_service_encode(&data, NULL, "s", &in), ZKC_EBADARGUMENTS);
	in.id = "ok";
	in.weight = 0;
	assert_int_equal(zkc_service_encode(&data, NULL, "s", &in), ZKC_EBADARGUMENTS);
	assert_non_null(strstr(zkc_error_last()->message, "weight"));
	in.weight = -1;
	assert_int_equal(zkc_service_encode(&data, NULL, "s", &in), ZKC_EBADARGUMENTS);
	in.weight = 1;
	in.port = 65536;
	assert_int_equal(zkc_service_encode(&data, NULL, "s", &in), ZKC_EBADARGUMENTS);
	in.port = 1;
	in.address = NULL;
	assert_int_equal(zkc_service_encode(&data, NULL, "s", &in), ZKC_EBADARGUMENTS);
	in.address = "h";
	big = calloc(1, 1024 * 1024 + 1);
	memset(big, 'm', 1024 * 1024);
	in.metadata = big;
	assert_int_equal(zkc_service_encode(&data, NULL, "s", &in), ZKC_ETOOLARGE);
	assert_null(data);
	in.metadata_len = 4; /* a prefix of it is fine */
	assert_int_equal(zkc_service_encode(&data, NULL, "s", &in), ZKC_OK);
	zkc_free(data);
	free(big);
	/* metadata is a JSON string: text, not arbitrary bytes */
	in.metadata = "ok\xff\xfe";
	in.metadata_len = (size_t)-1;
	assert_int_equal(zkc_service_encode(&data, NULL, "s", &in), ZKC_EBADARGUMENTS);
	assert_non_null(strstr(zkc_error_last()->message, "metadata is not UTF-8"));
	assert_null(data);
	in.metadata = NULL;
	in.version = 0;
	assert_int_equal(zkc_service_encode(&data, NULL, "s", &in), ZKC_EBADARGUMENTS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_values_are_pinned_for_other_implementations),
		cmocka_unit_test(test_library_matches_the_documented_specification),
		cmocka_unit_test(test_score_is_weight_over_minus_ln_u),
		cmocka_unit_test(test_adding_an_instance_moves_only_keys_to_it),
		cmocka_unit_test(test_weights_are_honoured),
		cmocka_unit_test(test_format_round_trips_with_nul_and_escapes),
		cmocka_unit_test(test_curator_shaped_instance_is_read_with_defaults),
		cmocka_unit_test(test_bad_node_data_is_refused_with_a_reason),
		cmocka_unit_test(test_bad_instances_are_refused_before_encoding),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
