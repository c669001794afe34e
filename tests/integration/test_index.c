/* tests/integration/test_index.c - the index recipe against a real
 * ensemble: layout, put/update/delete keep entries and guards with the
 * record, lookups (exact, prefix, range) in byte order from the cache and
 * the servers, unique values, verify/rebuild of planted disagreements,
 * contending writers, bad input, and the CLI. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client.h"
#include "test_index_check.h"

static zkc_t *zk;

static int setup(void **state)
{
	if (h_setup_shared(state) != 0)
		return -1;
	zk = h_open(NULL, NULL);
	return zk ? 0 : -1;
}

static int teardown(void **state)
{
	zkc_close(zk);
	return h_teardown(state);
}

/* The documented layout: a key's bucket is FNV-1a (32 bits) of its bytes
 * modulo 64, as two hex digits. Written here again on purpose: the test
 * pins the layout other programs rely on. */
static void bpath(char *buf, size_t cap, const char *dir, const char *key, size_t klen,
                  const char *suffix)
{
	uint32_t h = 2166136261u;
	char *enc = NULL;
	size_t i;

	for (i = 0; i < klen; i++) {
		h ^= (unsigned char)key[i];
		h *= 16777619u;
	}
	assert_int_equal(zkc_index_encode(&enc, key, klen), ZKC_OK);
	assert_true(strlen(dir) + strlen(enc) + strlen(suffix) + 5 <= cap);
	sprintf(buf, "%s/%02x/%s%s", dir, (unsigned)(h % 64), enc, suffix);
	zkc_free(enc);
}

static const zkc_index_field_t schema[] = {
	{ "color", 0 },
	{ "email", ZKC_INDEX_UNIQUE },
	{ "a/b", 0 },   /* a field name with '/' */
};

/* A collection at a fresh path and a handle on it (cache on). */
static zkc_index_t *make(char **out_path, const char *name)
{
	zkc_index_t *ix = NULL;
	char *p = h_path(name);

	assert_int_equal(zkc_index_create(zk, p, schema, 3), ZKC_OK);
	assert_int_equal(zkc_index_open(&ix, zk, p, NULL), ZKC_OK);
	*out_path = p;
	return ix;
}

static void done(zkc_index_t *ix, char *p)
{
	zkc_index_close(ix);
	assert_int_equal(zkc_index_drop(zk, p), ZKC_OK);
	free(p);
}

static int put3(zkc_index_t *ix, const char *id, const char *color, const char *email, int flags)
{
	zkc_index_kv_t kv[2];
	size_t n = 0;

	if (color) {
		kv[n].name = "color";
		kv[n].value = color;
		kv[n++].len = strlen(color);
	}
	if (email) {
		kv[n].name = "email";
		kv[n].value = email;
		kv[n++].len = strlen(email);
	}
	return zkc_index_put(ix, id, strlen(id), "payload", 7, kv, n, flags);
}

/* The ids (as "a,b,c") of an exact lookup. */
static char *ids_of(zkc_index_t *ix, const char *field, const void *v, size_t len, int flags)
{
	zkc_index_hits_t *h = NULL;
	char *s = calloc(1, 4096);
	size_t i;

	assert_int_equal(zkc_index_find(&h, ix, field, v, len, 0, flags), ZKC_OK);
	for (i = 0; i < h->count; i++) {
		assert_int_equal(h->items[i].value_len, len);
		assert_memory_equal(h->items[i].value, v, len);
		if (i)
			strcat(s, ",");
		strncat(s, h->items[i].id, h->items[i].id_len);
	}
	zkc_index_hits_free(h);
	return s;
}

static int ids_are(zkc_index_t *ix, const char *field, const char *v, const char *want)
{
	char *s = ids_of(ix, field, v, strlen(v), 0);
	int ok = strcmp(s, want) == 0;

	free(s);
	return ok;
}

static void expect_ids(zkc_index_t *ix, const char *field, const char *v, const char *want)
{
	char *c = ids_of(ix, field, v, strlen(v), 0), *s = ids_of(ix, field, v, strlen(v),
	                                                          ZKC_INDEX_SERVER);

	assert_string_equal(s, want);
	assert_string_equal(c, want);
	free(c);
	free(s);
}

static void test_layout_is_records_entries_and_guards_as_documented(void **state)
{
	char *p, path[2048], dir[2048];
	zkc_index_t *ix = make(&p, "layout");
	char *data = NULL;
	size_t len = 0;
	(void)state;

	assert_int_equal(put3(ix, "u/1", "red", "x@y", 0), ZKC_OK);
	snprintf(dir, sizeof(dir), "%s/records", p);
	bpath(path, sizeof(path), dir, "u/1", 3, "");
	assert_non_null(strstr(path, "/u-2f1"));
	assert_int_equal(zkc_exists(NULL, zk, path), ZKC_OK);
	snprintf(dir, sizeof(dir), "%s/idx/color", p);
	bpath(path, sizeof(path), dir, "red", 3, "+u-2f1");
	assert_int_equal(zkc_exists(NULL, zk, path), ZKC_OK);
	snprintf(dir, sizeof(dir), "%s/idx/email", p);
	bpath(path, sizeof(path), dir, "x@y", 3, "+u-2f1");
	assert_int_equal(zkc_exists(NULL, zk, path), ZKC_OK);
	snprintf(dir, sizeof(dir), "%s/uidx/email", p);
	bpath(path, sizeof(path), dir, "x@y", 3, "+");
	assert_int_equal(zkc_get(&data, &len, NULL, zk, path), ZKC_OK);
	assert_int_equal(len, 3);
	assert_memory_equal(data, "u/1", 3);
	zkc_free(data);
	snprintf(path, sizeof(path), "%s/idx/a-2fb/3f", p);
	assert_int_equal(zkc_exists(NULL, zk, path), ZKC_OK);
	assert_int_equal(zkc_get(&data, &len, NULL, zk, p), ZKC_OK);
	assert_string_equal(data, "zkc-index 1\nbuckets 64\nf color\nu email\nf a-2fb\n");
	zkc_free(data);
	done(ix, p);
}

static void test_put_get_update_delete_keep_entries_with_the_record(void **state)
{
	char *p;
	zkc_index_t *ix = make(&p, "crud");
	zkc_index_record_t *rec = NULL;
	(void)state;

	assert_int_equal(put3(ix, "1", "red", "a@x", ZKC_INDEX_WAIT), ZKC_OK);
	assert_int_equal(put3(ix, "2", "red", "b@x", ZKC_INDEX_WAIT), ZKC_OK);
	assert_int_equal(put3(ix, "3", "blue", NULL, ZKC_INDEX_WAIT), ZKC_OK);
	expect_ids(ix, "color", "red", "1,2");
	expect_ids(ix, "color", "blue", "3");
	expect_ids(ix, "email", "b@x", "2");

	assert_int_equal(zkc_index_get(&rec, ix, "2", 1, 0), ZKC_OK);
	assert_int_equal(rec->len, 7);
	assert_string_equal(rec->data, "payload");
	assert_int_equal(rec->nfields, 2);
	assert_string_equal(rec->fields[0].name, "color");
	assert_string_equal(rec->fields[0].value, "red");
	assert_string_equal(rec->fields[1].name, "email");
	assert_string_equal(rec->fields[1].value, "b@x");
	assert_int_equal(rec->version, 0);
	zkc_index_record_free(rec);

	/* update: color changes, email goes: both old entries and the guard
	 * leave, the new entry comes, in one step */
	assert_int_equal(put3(ix, "2", "blue", NULL, ZKC_INDEX_WAIT), ZKC_OK);
	expect_ids(ix, "color", "red", "1");
	expect_ids(ix, "color", "blue", "2,3");
	expect_ids(ix, "email", "b@x", "");
	/* the freed unique value may be taken by another record now */
	assert_int_equal(put3(ix, "3", "blue", "b@x", ZKC_INDEX_WAIT), ZKC_OK);
	expect_ids(ix, "email", "b@x", "3");
	assert_int_equal(zkc_index_get(&rec, ix, "2", 1, 0), ZKC_OK);
	assert_int_equal(rec->version, 1);
	assert_int_equal(rec->nfields, 1);
	zkc_index_record_free(rec);

	assert_int_equal(zkc_index_delete(ix, "3", 1, ZKC_INDEX_WAIT), ZKC_OK);
	expect_ids(ix, "color", "blue", "2");
	expect_ids(ix, "email", "b@x", "");
	assert_int_equal(zkc_index_get(&rec, ix, "3", 1, 0), ZKC_ENONODE);
	assert_null(rec);
	assert_int_equal(zkc_index_delete(ix, "3", 1, 0), ZKC_ENONODE);

	/* CREATE and UPDATE flags */
	assert_int_equal(put3(ix, "1", "green", NULL, ZKC_INDEX_CREATE), ZKC_ENODEEXISTS);
	assert_int_equal(put3(ix, "9", "green", NULL, ZKC_INDEX_UPDATE), ZKC_ENONODE);
	expect_ids(ix, "color", "green", "");
	chk_verify_clean(ix);
	done(ix, p);
}

static void test_unique_conflict_fails_whole_put_with_enodeexists(void **state)
{
	char *p;
	zkc_index_t *ix = make(&p, "uniq");
	zkc_index_record_t *rec = NULL;
	(void)state;

	assert_int_equal(put3(ix, "1", "red", "same@x", ZKC_INDEX_WAIT), ZKC_OK);
	/* a new record: nothing of it is written */
	assert_int_equal(put3(ix, "2", "blue", "same@x", 0), ZKC_ENODEEXISTS);
	assert_int_equal(zkc_index_get(&rec, ix, "2", 1, ZKC_INDEX_SERVER), ZKC_ENONODE);
	expect_ids(ix, "color", "blue", "");
	/* an existing record keeps its old state */
	assert_int_equal(put3(ix, "2", "blue", NULL, ZKC_INDEX_WAIT), ZKC_OK);
	assert_int_equal(put3(ix, "2", "green", "same@x", 0), ZKC_ENODEEXISTS);
	expect_ids(ix, "color", "blue", "2");
	expect_ids(ix, "color", "green", "");
	expect_ids(ix, "email", "same@x", "1");
	/* re-putting the holder with the same value is no conflict */
	assert_int_equal(put3(ix, "1", "pink", "same@x", ZKC_INDEX_WAIT), ZKC_OK);
	expect_ids(ix, "email", "same@x", "1");
	chk_verify_clean(ix);
	done(ix, p);
}

static void test_keys_with_any_bytes_sort_and_scan_in_byte_order(void **state)
{
	static const struct { const char *v; size_t n; } vals[] = {
		{ "", 0 }, { "\0", 1 }, { "\0\0", 2 }, { "/", 1 }, { "a", 1 }, { "a\0", 2 },
		{ "a/", 2 }, { "ab", 2 }, { "b", 1 }, { "~", 1 }, { "\x7f", 1 }, { "\xff\xff", 2 },
	};
	size_t nv = sizeof(vals) / sizeof(vals[0]), i;
	char *p;
	zkc_index_t *ix = make(&p, "bytes");
	zkc_index_hits_t *h = NULL;
	int pass;
	(void)state;

	/* put in reverse order; ids are the position, with bytes '/' and NUL */
	for (i = nv; i-- > 0;) {
		char id[4] = { (char)('a' + i), '/', 0, 'z' };
		zkc_index_kv_t kv = { "color", vals[i].v, vals[i].n };

		assert_int_equal(zkc_index_put(ix, id, 4, NULL, 0, &kv, 1, ZKC_INDEX_WAIT), ZKC_OK);
	}
	for (pass = 0; pass < 2; pass++) {
		int fl = pass ? ZKC_INDEX_SERVER : 0;

		/* everything, in value order */
		assert_int_equal(zkc_index_range(&h, ix, "color", NULL, 0, NULL, 0, 0, fl), ZKC_OK);
		assert_int_equal(h->count, nv);
		for (i = 0; i < nv; i++) {
			assert_int_equal(h->items[i].value_len, vals[i].n);
			assert_memory_equal(h->items[i].value, vals[i].v, vals[i].n);
			assert_int_equal(h->items[i].id_len, 4);
			assert_int_equal(h->items[i].id[0], 'a' + (int)i);
			assert_int_equal(h->items[i].id[2], 0);
		}
		zkc_index_hits_free(h);
		/* [a, b): a, a\0, a/, ab */
		assert_int_equal(zkc_index_range(&h, ix, "color", "a", 1, "b", 1, 0, fl), ZKC_OK);
		assert_int_equal(h->count, 4);
		assert_int_equal(h->items[0].id[0], 'a' + 4);
		assert_int_equal(h->items[3].id[0], 'a' + 7);
		zkc_index_hits_free(h);
		/* prefix "a": the same four; limit 2 keeps the first two */
		assert_int_equal(zkc_index_prefix(&h, ix, "color", "a", 1, 2, fl), ZKC_OK);
		assert_int_equal(h->count, 2);
		assert_int_equal(h->items[1].id[0], 'a' + 5);
		zkc_index_hits_free(h);
		/* prefix NUL: "\0" and "\0\0" only */
		assert_int_equal(zkc_index_prefix(&h, ix, "color", "\0", 1, 0, fl), ZKC_OK);
		assert_int_equal(h->count, 2);
		zkc_index_hits_free(h);
		/* exact "\0" is not "\0\0"; exact "" is only "" */
		assert_int_equal(zkc_index_find(&h, ix, "color", "\0", 1, 0, fl), ZKC_OK);
		assert_int_equal(h->count, 1);
		assert_int_equal(h->items[0].id[0], 'a' + 1);
		zkc_index_hits_free(h);
		assert_int_equal(zkc_index_find(&h, ix, "color", "", 0, 0, fl), ZKC_OK);
		assert_int_equal(h->count, 1);
		assert_int_equal(h->items[0].id[0], 'a');
		zkc_index_hits_free(h);
		/* from "~" on: "~", 0x7f, 0xff 0xff */
		assert_int_equal(zkc_index_range(&h, ix, "color", "~", 1, NULL, 0, 0, fl), ZKC_OK);
		assert_int_equal(h->count, 3);
		zkc_index_hits_free(h);
	}
	chk_verify_clean(ix);
	done(ix, p);
}

static void test_bad_input_gets_clear_codes(void **state)
{
	char *p, *big = calloc(1, 1024 * 1024 + 1), idbig[ZKC_INDEX_MAX_ID + 1];
	zkc_index_t *ix = make(&p, "bad"), *ix2 = NULL;
	zkc_index_kv_t kv[2] = { { "color", "x", 1 }, { "color", "y", 1 } };
	zkc_index_field_t dup[2] = { { "f", 0 }, { "f", 0 } }, nul[1] = { { "", 0 } };
	zkc_index_field_t badflag[1] = { { "f", 4 } };
	zkc_index_options_t o = ZKC_INDEX_OPTIONS_INIT;
	zkc_index_hits_t *h = NULL;
	char *other = h_path("notacoll");
	(void)state;

	assert_non_null(big);
	memset(idbig, 'i', sizeof(idbig));
	/* unknown collection; a node that is not one */
	assert_int_equal(zkc_index_open(&ix2, zk, "/zkct_no_such_collection_x", NULL), ZKC_ENONODE);
	assert_null(ix2);
	assert_int_equal(zkc_create(NULL, NULL, zk, other, "hello", 5, NULL), ZKC_OK);
	assert_int_equal(zkc_index_open(&ix2, zk, other, NULL), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_index_drop(zk, other), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_index_create(zk, other, schema, 3), ZKC_ENODEEXISTS);
	assert_int_equal(zkc_index_open(&ix2, zk, "no/slash", NULL), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_index_open(&ix2, zk, "/", NULL), ZKC_EBADARGUMENTS);
	o.version = 99;
	assert_int_equal(zkc_index_open(&ix2, zk, p, &o), ZKC_EBADARGUMENTS);
	/* schemas */
	assert_int_equal(zkc_index_create(zk, other, dup, 2), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_index_create(zk, other, nul, 1), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_index_create(zk, other, badflag, 1), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_index_create(zk, other, schema, 0), ZKC_EBADARGUMENTS);
	/* puts */
	assert_int_equal(zkc_index_put(ix, "", 0, NULL, 0, NULL, 0, 0), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_index_put(ix, NULL, 3, NULL, 0, NULL, 0, 0), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_index_put(ix, idbig, sizeof(idbig), NULL, 0, NULL, 0, 0), ZKC_ETOOLARGE);
	assert_int_equal(zkc_index_put(ix, "1", 1, NULL, 0, kv, 2, 0), ZKC_EBADARGUMENTS);
	kv[1].name = "nosuchfield";
	assert_int_equal(zkc_index_put(ix, "1", 1, NULL, 0, kv, 2, 0), ZKC_EBADARGUMENTS);
	kv[1].name = "email";
	kv[1].value = big;
	kv[1].len = 1024 * 1024;
	assert_int_equal(zkc_index_put(ix, "1", 1, NULL, 0, kv, 2, 0), ZKC_ETOOLARGE);
	kv[1].len = ZKC_INDEX_MAX_VALUE + 1;
	assert_int_equal(zkc_index_put(ix, "1", 1, NULL, 0, kv, 2, 0), ZKC_ETOOLARGE);
	assert_int_equal(zkc_index_put(ix, "1", 1, big, 1024 * 1024, kv, 1, 0), ZKC_ETOOLARGE);
	assert_int_equal(zkc_index_put(ix, "1", 1, big, ZKC_MAX_DATA_LEN, kv, 1, 0), ZKC_ETOOLARGE);
	assert_int_equal(zkc_index_put(ix, "1", 1, NULL, 0, kv, 1,
	                               ZKC_INDEX_CREATE | ZKC_INDEX_UPDATE), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_index_put(ix, "1", 1, NULL, 0, kv, 1, 0x100), ZKC_EBADARGUMENTS);
	/* a value with NUL and '/' at the limit is fine */
	memset(big, '/', ZKC_INDEX_MAX_VALUE);
	big[7] = 0;
	kv[1].len = ZKC_INDEX_MAX_VALUE;
	assert_int_equal(zkc_index_put(ix, idbig, ZKC_INDEX_MAX_ID, big, 100000, kv, 2,
	                               ZKC_INDEX_WAIT), ZKC_OK);
	free(ids_of(ix, "email", big, ZKC_INDEX_MAX_VALUE, 0));
	assert_int_equal(zkc_index_find(&h, ix, "email", big, ZKC_INDEX_MAX_VALUE, 0, 0), ZKC_OK);
	assert_int_equal(h->count, 1);
	assert_int_equal(h->items[0].id_len, ZKC_INDEX_MAX_ID);
	zkc_index_hits_free(h);
	/* lookups */
	assert_int_equal(zkc_index_find(&h, ix, "nosuch", "x", 1, 0, 0), ZKC_EBADARGUMENTS);
	assert_null(h);
	assert_int_equal(zkc_index_find(&h, ix, NULL, "x", 1, 0, 0), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_index_find(&h, ix, "color", big, 1024 * 1024, 0, 0), ZKC_ETOOLARGE);
	assert_int_equal(zkc_index_find(&h, ix, "color", NULL, 1, 0, 0), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_index_range(&h, ix, "color", "a", 1, big, 1024 * 1024, 0, 0),
	                 ZKC_ETOOLARGE);
	assert_int_equal(zkc_index_find(&h, ix, "color", "x", 1, 0, 0x4000), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_index_delete(ix, "", 0, 0), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_index_get(NULL, ix, "1", 1, 0), ZKC_EBADARGUMENTS);
	zkc_index_close(NULL);
	chk_verify_clean(ix);

	/* the collection dropped under an open handle: clear codes, no hang */
	assert_int_equal(zkc_index_drop(zk, p), ZKC_OK);
	assert_int_equal(put3(ix, "n", "red", NULL, 0), ZKC_ENONODE);
	assert_int_equal(zkc_index_find(&h, ix, "color", "x", 1, 0, ZKC_INDEX_SERVER), ZKC_ENONODE);
	zkc_index_close(ix);
	zkc_delete(zk, other, -1, 0);
	free(other);
	free(big);
	free(p);
}

static void test_longest_keys_fit_under_the_longest_collection_path(void **state)
{
	static const zkc_index_field_t f64[] = { { "................................................"
	                                           "................", ZKC_INDEX_UNIQUE } };
	char *base = h_path("longest"), p[ZKC_INDEX_MAX_PATH + 2], id[ZKC_INDEX_MAX_ID];
	char val[ZKC_INDEX_MAX_VALUE];
	zkc_index_kv_t kv = { f64[0].name, val, sizeof(val) };
	zkc_index_t *ix = NULL;
	zkc_index_hits_t *h = NULL;
	size_t n;
	(void)state;

	assert_int_equal(strlen(f64[0].name), ZKC_INDEX_MAX_FIELD_NAME);
	/* a path of exactly the limit: base/aaaa... */
	n = (size_t)snprintf(p, sizeof(p), "%s/", base);
	memset(p + n, 'a', ZKC_INDEX_MAX_PATH - n);
	p[ZKC_INDEX_MAX_PATH] = 0;
	memset(id, 0, sizeof(id));      /* every byte escaped: 3 x 512 */
	memset(val, 0xff, sizeof(val));
	assert_int_equal(zkc_index_create(zk, p, f64, 1), ZKC_OK);
	assert_int_equal(zkc_index_open(&ix, zk, p, NULL), ZKC_OK);
	assert_int_equal(zkc_index_put(ix, id, sizeof(id), "x", 1, &kv, 1, ZKC_INDEX_WAIT), ZKC_OK);
	assert_int_equal(zkc_index_find(&h, ix, f64[0].name, val, sizeof(val), 0, 0), ZKC_OK);
	assert_int_equal(h->count, 1);
	assert_int_equal(h->items[0].id_len, sizeof(id));
	assert_memory_equal(h->items[0].id, id, sizeof(id));
	zkc_index_hits_free(h);
	chk_verify_clean(ix);
	assert_int_equal(zkc_index_delete(ix, id, sizeof(id), 0), ZKC_OK);
	zkc_index_close(ix);
	/* one byte longer is refused before anything is sent */
	p[ZKC_INDEX_MAX_PATH] = 'a';
	p[ZKC_INDEX_MAX_PATH + 1] = 0;
	assert_int_equal(zkc_index_create(zk, p, f64, 1), ZKC_EBADARGUMENTS);
	assert_int_equal(zkc_delete(zk, base, -1, ZKC_DELETE_RECURSIVE), ZKC_OK);
	free(base);
}

static void test_verify_finds_planted_disagreements_and_rebuild_repairs_them(void **state)
{
	char *p, path[2048], dir[2048];
	zkc_index_t *ix = make(&p, "verify");
	zkc_index_report_t *r = NULL;
	int seen[8] = { 0 };
	size_t i;
	(void)state;

	assert_int_equal(put3(ix, "1", "red", "a@x", 0), ZKC_OK);
	assert_int_equal(put3(ix, "2", "blue", "b@x", 0), ZKC_OK);
	assert_int_equal(put3(ix, "3", "blue", "c@x", 0), ZKC_OK);
	chk_verify_clean(ix);
	/* plant: a missing entry, a stale entry, a guard naming another id,
	 * a missing guard, a record that is not one */
	snprintf(dir, sizeof(dir), "%s/idx/color", p);
	bpath(path, sizeof(path), dir, "red", 3, "+1");
	assert_int_equal(zkc_delete(zk, path, -1, 0), ZKC_OK);
	bpath(path, sizeof(path), dir, "green", 5, "+7");
	assert_int_equal(zkc_create(NULL, NULL, zk, path, NULL, 0, NULL), ZKC_OK);
	snprintf(dir, sizeof(dir), "%s/uidx/email", p);
	bpath(path, sizeof(path), dir, "b@x", 3, "+");
	assert_int_equal(zkc_set(NULL, zk, path, "3", 1, -1), ZKC_OK);
	bpath(path, sizeof(path), dir, "c@x", 3, "+");
	assert_int_equal(zkc_delete(zk, path, -1, 0), ZKC_OK);
	snprintf(path, sizeof(path), "%s/records/00/junk", p);
	assert_int_equal(zkc_create(NULL, NULL, zk, path, "xx", 2, NULL), ZKC_OK);

	assert_int_equal(zkc_index_verify(&r, ix), ZKC_OK);
	assert_int_equal(r->records, 4);
	for (i = 0; i < r->count; i++)
		seen[r->issues[i].kind]++;
	assert_int_equal(seen[ZKC_INDEX_MISSING_ENTRY], 1);
	assert_int_equal(seen[ZKC_INDEX_STALE_ENTRY], 1);
	assert_int_equal(seen[ZKC_INDEX_STALE_UNIQUE], 1);
	assert_int_equal(seen[ZKC_INDEX_MISSING_UNIQUE], 2);  /* b@x (wrong id) and c@x */
	assert_int_equal(seen[ZKC_INDEX_BAD_RECORD], 1);
	assert_int_equal(r->count, 6);
	zkc_index_report_free(r);

	/* a put of a record whose entry is missing says so, writes nothing */
	assert_int_equal(put3(ix, "1", "pink", "a@x", 0), ZKC_EDATAINCONSISTENCY);

	assert_int_equal(zkc_index_rebuild(&r, ix), ZKC_OK);
	assert_int_equal(r->count, 6);
	assert_int_equal(r->repaired, 5);  /* the bad record is left to a person */
	zkc_index_report_free(r);
	assert_int_equal(zkc_delete(zk, path, -1, 0), ZKC_OK);
	chk_verify_clean(ix);
	assert_int_equal(zkc_index_sync(ix, 30000), ZKC_OK);
	expect_ids(ix, "color", "red", "1");
	expect_ids(ix, "color", "green", "");
	expect_ids(ix, "email", "b@x", "2");
	assert_int_equal(put3(ix, "1", "pink", "a@x", 0), ZKC_OK);
	chk_verify_clean(ix);
	done(ix, p);
}

static void test_cache_follows_writes_of_another_client(void **state)
{
	char *p;
	zkc_index_t *ix = make(&p, "follow"), *other = NULL;
	zkc_t *zk2 = h_open(NULL, NULL);
	zkc_index_options_t o = ZKC_INDEX_OPTIONS_INIT;
	zkc_index_record_t *rec = NULL;
	(void)state;

	o.cache_records = 1;
	assert_int_equal(zkc_index_open(&other, zk2, p, &o), ZKC_OK);
	assert_int_equal(put3(other, "k", "red", NULL, 0), ZKC_OK);
	H_WAIT_UNTIL(ids_are(ix, "color", "red", "k"), 30000);
	assert_int_equal(put3(other, "k", "blue", NULL, 0), ZKC_OK);
	H_WAIT_UNTIL(ids_are(ix, "color", "red", ""), 30000);
	H_WAIT_UNTIL(ids_are(ix, "color", "blue", "k"), 30000);
	/* the writer's own cache (records too) shows its write at once */
	assert_int_equal(put3(other, "k", "teal", NULL, ZKC_INDEX_WAIT), ZKC_OK);
	assert_true(ids_are(other, "color", "teal", "k"));
	assert_int_equal(zkc_index_get(&rec, other, "k", 1, 0), ZKC_OK);
	assert_string_equal(rec->fields[0].value, "teal");
	/* a record is the caller's: it outlives the handle that read it */
	zkc_index_close(other);
	assert_string_equal(rec->fields[0].name, "color");
	zkc_index_record_free(rec);
	assert_int_equal(zkc_index_open(&other, zk2, p, &o), ZKC_OK);
	/* sync: a reader sees every write finished before it */
	assert_int_equal(put3(ix, "m", "gold", NULL, 0), ZKC_OK);
	assert_int_equal(zkc_index_sync(other, 30000), ZKC_OK);
	assert_true(ids_are(other, "color", "gold", "m"));
	zkc_index_close(other);
	zkc_close(zk2);
	done(ix, p);
}

/* ------------------------------------------------------------ contention */

typedef struct worker {
	zkc_index_t *ix;
	unsigned seed;
	int ok, conflicts, other;
} worker_t;

static void *churn(void *arg)
{
	static const char *const colors[] = { "red", "green", "blue" };
	worker_t *w = arg;
	int k;

	for (k = 0; k < 60; k++) {
		char id[8], em[16];
		int r = (int)(rand_r(&w->seed) % 10), rc;

		snprintf(id, sizeof(id), "r%d", (int)(rand_r(&w->seed) % 8));
		snprintf(em, sizeof(em), "e%d", (int)(rand_r(&w->seed) % 6));
		if (r < 2)
			rc = zkc_index_delete(w->ix, id, strlen(id), 0);
		else
			rc = put3(w->ix, id, colors[rand_r(&w->seed) % 3], r < 6 ? em : NULL, 0);
		if (rc == ZKC_OK)
			w->ok++;
		else if (rc == ZKC_ENODEEXISTS || rc == ZKC_ENONODE)
			w->conflicts++;
		else
			w->other++;
	}
	return NULL;
}

static void test_contending_threads_and_handles_keep_index_and_data_in_agreement(void **state)
{
	char *p;
	zkc_index_t *ix = make(&p, "contend"), *ix2 = NULL;
	worker_t w[4];
	pthread_t t[4];
	int i, ok = 0, other = 0;
	(void)state;

	assert_int_equal(zkc_index_open(&ix2, zk, p, NULL), ZKC_OK);
	for (i = 0; i < 4; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].ix = i % 2 ? ix2 : ix;
		w[i].seed = 1000u + (unsigned)i;
		assert_int_equal(pthread_create(&t[i], NULL, churn, &w[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		ok += w[i].ok;
		other += w[i].other;
	}
	assert_int_equal(other, 0);
	assert_true(ok > 0);
	chk_verify_clean(ix);
	assert_int_equal(zkc_index_sync(ix, 30000), ZKC_OK);
	chk_lookups_match_scan(zk, ix, p);
	assert_int_equal(zkc_index_sync(ix2, 30000), ZKC_OK);
	chk_lookups_match_scan(zk, ix2, p);
	zkc_index_close(ix2);
	done(ix, p);
}

/* ------------------------------------------------------------ CLI */

/* Runs `zkc ARGS` (shell words) on the test ensemble: exit status, and
 * stdout in *out (malloc'd) if out is given. */
static int run_cli(char **out, const char *args)
{
	return h_run_zkc(out, h_url(), args);
}

static void test_cli_commands_and_exit_codes(void **state)
{
	char *p = h_path("cli"), a[4096], *out = NULL;
	(void)state;

	snprintf(a, sizeof(a), "index create %s color --unique email", p);
	assert_int_equal(run_cli(NULL, a), 0);
	assert_int_equal(run_cli(NULL, a), 4);  /* exists */
	snprintf(a, sizeof(a), "index put --data hello %s u1 color=red email=a@x", p);
	assert_int_equal(run_cli(NULL, a), 0);
	snprintf(a, sizeof(a), "index put %s u2 color=red email=a@x 2>/dev/null", p);
	assert_int_equal(run_cli(NULL, a), 4);  /* unique conflict */
	snprintf(a, sizeof(a), "index put --hex %s 752f33 color=626c7565 email=00ff", p);
	assert_int_equal(run_cli(NULL, a), 0);  /* id "u/3", email NUL 0xff */
	snprintf(a, sizeof(a), "index put %s u4 shape=round 2>/dev/null", p);
	assert_int_equal(run_cli(NULL, a), 2);  /* unknown field */
	snprintf(a, sizeof(a), "index put --update %s nope color=red 2>/dev/null", p);
	assert_int_equal(run_cli(NULL, a), 3);

	snprintf(a, sizeof(a), "index find %s color red", p);
	assert_int_equal(run_cli(&out, a), 0);
	assert_string_equal(out, "u1\n");
	free(out);
	snprintf(a, sizeof(a), "index find --json --range %s color '' z", p);
	assert_int_equal(run_cli(&out, a), 0);
	assert_string_equal(out, "{\"count\":2,\"hits\":[{\"id\":\"u/3\",\"value\":\"blue\"},"
	                    "{\"id\":\"u1\",\"value\":\"red\"}]}\n");
	free(out);
	snprintf(a, sizeof(a), "index find --hex %s email 00ff", p);
	assert_int_equal(run_cli(&out, a), 0);
	assert_string_equal(out, "752f33\n");
	free(out);
	snprintf(a, sizeof(a), "index find %s shape x 2>/dev/null", p);
	assert_int_equal(run_cli(NULL, a), 2);
	snprintf(a, sizeof(a), "index get --json %s u1", p);
	assert_int_equal(run_cli(&out, a), 0);
	assert_string_equal(out, "{\"id\":\"u1\",\"version\":0,\"fields\":{\"color\":\"red\","
	                    "\"email\":\"a@x\"},\"data\":\"hello\"}\n");
	free(out);
	snprintf(a, sizeof(a), "index get %s nope 2>/dev/null", p);
	assert_int_equal(run_cli(NULL, a), 3);
	assert_int_equal(run_cli(NULL, "index get /zkct_no_such_coll u1 2>/dev/null"), 3);

	snprintf(a, sizeof(a), "index verify --json %s", p);
	assert_int_equal(run_cli(&out, a), 0);
	assert_non_null(strstr(out, "\"records\":2,"));
	assert_non_null(strstr(out, "\"issues\":0,"));
	free(out);
	/* break it by hand: verify exits 10, rebuild repairs, verify is 0 */
	{
		char dir[2048];

		snprintf(dir, sizeof(dir), "%s/idx/color", p);
		bpath(a, sizeof(a), dir, "red", 3, "+u1");
		assert_int_equal(zkc_delete(zk, a, -1, 0), ZKC_OK);
	}
	snprintf(a, sizeof(a), "index verify %s 2>/dev/null", p);
	assert_int_equal(run_cli(&out, a), 10);
	assert_non_null(strstr(out, "missing_entry\t"));
	free(out);
	snprintf(a, sizeof(a), "index rebuild %s 2>/dev/null", p);
	assert_int_equal(run_cli(NULL, a), 0);
	snprintf(a, sizeof(a), "index verify %s 2>/dev/null", p);
	assert_int_equal(run_cli(NULL, a), 0);

	snprintf(a, sizeof(a), "index delete %s u1", p);
	assert_int_equal(run_cli(NULL, a), 0);
	snprintf(a, sizeof(a), "index delete %s u1 2>/dev/null", p);
	assert_int_equal(run_cli(NULL, a), 3);
	assert_int_equal(run_cli(NULL, "index frob x 2>/dev/null"), 2);
	snprintf(a, sizeof(a), "index drop %s", p);
	assert_int_equal(run_cli(NULL, a), 0);
	assert_int_equal(zkc_exists(NULL, zk, p), ZKC_ENONODE);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_is_records_entries_and_guards_as_documented),
		cmocka_unit_test(test_put_get_update_delete_keep_entries_with_the_record),
		cmocka_unit_test(test_unique_conflict_fails_whole_put_with_enodeexists),
		cmocka_unit_test(test_keys_with_any_bytes_sort_and_scan_in_byte_order),
		cmocka_unit_test(test_bad_input_gets_clear_codes),
		cmocka_unit_test(test_longest_keys_fit_under_the_longest_collection_path),
		cmocka_unit_test(test_verify_finds_planted_disagreements_and_rebuild_repairs_them),
		cmocka_unit_test(test_cache_follows_writes_of_another_client),
		cmocka_unit_test(test_contending_threads_and_handles_keep_index_and_data_in_agreement),
		cmocka_unit_test(test_cli_commands_and_exit_codes),
	};

	return cmocka_run_group_tests_name("index", tests, setup, teardown);
}
