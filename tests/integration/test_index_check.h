/* tests/integration/test_index_check.h - the property both index tests
 * end with: verify finds no disagreement, and every lookup from the cache
 * equals a scan of the records read from the servers (both ways: each hit
 * is a record with that value, each record's value finds the record). */
#ifndef ZKC_TEST_INDEX_CHECK_H
#define ZKC_TEST_INDEX_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

static int chk_has_value(const zkc_index_record_t *rec, const char *field, const char *v,
                         size_t len)
{
	size_t f;

	for (f = 0; f < rec->nfields; f++)
		if (strcmp(rec->fields[f].name, field) == 0 && rec->fields[f].len == len &&
		    (len == 0 || memcmp(rec->fields[f].value, v, len) == 0))
			return 1;
	return 0;
}

/* Fails the test with the first disagreement; returns the number of
 * records scanned. ix must have its cache on and be synced. */
static size_t chk_lookups_match_scan(zkc_t *zk, zkc_index_t *ix, const char *path)
{
	char rdir[2048];
	zkc_strings_t *names = calloc(1, sizeof(*names));
	size_t i, j, f, nf = zkc_index_field_count(ix), *present = calloc(nf + 1, sizeof(size_t));

	/* every record of the 64 buckets */
	for (i = 0; i < 64; i++) {
		zkc_strings_t *b = NULL;

		snprintf(rdir, sizeof(rdir), "%s/records/%02x", path, (unsigned)i);
		assert_int_equal(zkc_children(&b, NULL, zk, rdir), ZKC_OK);
		names->items = realloc(names->items, (names->count + b->count + 1) * sizeof(char *));
		for (j = 0; j < b->count; j++)
			names->items[names->count++] = strdup(b->items[j]);
		zkc_strings_free(b);
	}
	/* records -> lookups */
	for (i = 0; i < names->count; i++) {
		zkc_index_record_t *rec = NULL;
		char *id = NULL;
		size_t idl = 0;

		assert_int_equal(zkc_index_decode(&id, &idl, names->items[i], strlen(names->items[i])),
		                 ZKC_OK);
		assert_int_equal(zkc_index_get(&rec, ix, id, idl, ZKC_INDEX_SERVER), ZKC_OK);
		for (f = 0; f < rec->nfields; f++) {
			zkc_index_hits_t *h = NULL;
			int found = 0;

			assert_int_equal(zkc_index_find(&h, ix, rec->fields[f].name, rec->fields[f].value,
			                                rec->fields[f].len, 0, 0), ZKC_OK);
			for (j = 0; j < h->count; j++)
				found |= h->items[j].id_len == idl && memcmp(h->items[j].id, id, idl) == 0;
			if (!found)
				fail_msg("record %s: its %s is not found by a lookup", names->items[i],
				         rec->fields[f].name);
			zkc_index_hits_free(h);
		}
		for (f = 0; f < nf; f++) {
			const char *fname;

			zkc_index_field_at(&fname, NULL, ix, f);
			for (j = 0; j < rec->nfields; j++)
				present[f] += strcmp(rec->fields[j].name, fname) == 0;
		}
		zkc_index_record_free(rec);
		zkc_free(id);
	}
	/* lookups -> records: every entry of every field is a record with it */
	for (f = 0; f < nf; f++) {
		zkc_index_hits_t *all = NULL;
		const char *fname;

		zkc_index_field_at(&fname, NULL, ix, f);
		assert_int_equal(zkc_index_range(&all, ix, fname, NULL, 0, NULL, 0, 0, 0), ZKC_OK);
		if (all->count != present[f])
			fail_msg("field %s: %zu entries in the cache, %zu records have it", fname,
			         all->count, present[f]);
		for (j = 0; j < all->count; j++) {
			zkc_index_record_t *rec = NULL;

			assert_int_equal(zkc_index_get(&rec, ix, all->items[j].id, all->items[j].id_len,
			                               ZKC_INDEX_SERVER), ZKC_OK);
			if (!chk_has_value(rec, fname, all->items[j].value, all->items[j].value_len))
				fail_msg("field %s: entry for %s names a record without that value", fname,
				         all->items[j].id);
			zkc_index_record_free(rec);
		}
		zkc_index_hits_free(all);
	}
	i = names->count;
	zkc_strings_free(names);
	free(present);
	return i;
}

static void chk_verify_clean(zkc_index_t *ix)
{
	zkc_index_report_t *r = NULL;

	assert_int_equal(zkc_index_verify(&r, ix), ZKC_OK);
	if (r->count)
		fail_msg("verify: %zu issues, first %s at %s", r->count,
		         zkc_index_issue_name(r->issues[0].kind), r->issues[0].path);
	zkc_index_report_free(r);
}

#endif
