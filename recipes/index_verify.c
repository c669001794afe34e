/* recipes/index_verify.c - verify and rebuild of an index collection:
 * every record's expected entries and guards against the stored ones, and
 * the repairs that make them agree. Public API only. Layout:
 * docs/recipes/index.md. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zkc/batch.h"
#include "zkc/cache.h"
#include "zkc/index.h"
#include "zkc/multi.h"
#include "index_internal.h"
#include "index_key.h"
#include "support.h"

/* ------------------------------------------------------------ verify, rebuild */

const char *zkc_index_issue_name(int kind)
{
	static const char *const names[] = { "unknown", "missing_entry", "stale_entry",
		"missing_unique", "stale_unique", "unique_conflict", "bad_record", "bad_entry" };

	return kind >= 1 && kind <= ZKC_INDEX_BAD_ENTRY ? names[kind] : names[0];
}

void zkc_index_report_free(zkc_index_report_t *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->count; i++) {
		free(r->issues[i].field);
		free(r->issues[i].value);
		free(r->issues[i].id);
		free(r->issues[i].path);
	}
	free(r->issues);
	free(r);
}

static int add_issue(zkc_index_report_t *r, int kind, const char *field, const void *value,
                     size_t vlen, const void *id, size_t id_len, const char *path, int32_t version)
{
	zkc_index_issue_t *is;

	if ((r->count & (r->count + 1)) == 0 || r->count == 0) {
		size_t cap = r->count ? (r->count + 1) * 2 : 8;
		zkc_index_issue_t *ni = realloc(r->issues, cap * sizeof(*ni));

		if (!ni)
			return zkc_error_set(ZKC_ENOMEM, "index: out of memory");
		r->issues = ni;
	}
	is = &r->issues[r->count];
	memset(is, 0, sizeof(*is));
	is->kind = kind;
	is->field = field ? strdup(field) : NULL;
	is->value = value ? zkcr_index_dup_bytes(value, vlen) : NULL;
	is->value_len = value ? vlen : 0;
	is->id = id ? zkcr_index_dup_bytes(id, id_len) : NULL;
	is->id_len = id ? id_len : 0;
	is->path = path ? strdup(path) : NULL;
	is->version = version;
	r->count++;
	return ZKC_OK;
}

/* One record as verify read it. */
typedef struct srec {
	const char *ename;      /* the node's name (borrowed from the listing) */
	const char *path;
	unsigned char *id;      /* decoded, NULL if the name is no encoding */
	size_t id_len;
	int32_t version;
	int ok;                 /* parsed */
	zkcr_index_bytes_t vals[ZKC_INDEX_MAX_FIELDS];
} srec_t;

/* An expected node: its name, its path and the record that explains it. */
typedef struct expn {
	char *path;
	const char *name;   /* points into path */
	size_t rec;
} expn_t;

static int cmp_exp(const void *a, const void *b)
{
	const expn_t *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->rec > y->rec) - (x->rec < y->rec);
}

static void exp_free(expn_t *e, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(e[i].path);
	free(e);
}

static int split_entry(unsigned char *vbuf, size_t *vl, unsigned char *ibuf, size_t *il,
                       const char *name)
{
	const char *sep = strchr(name, ZKCR_IKEY_SEP);

	if (!sep || zkcr_ikey_dec(vbuf, vl, name, (size_t)(sep - name)) != 0)
		return -1;
	if (!ibuf)
		return sep[1] ? -1 : 0;
	return zkcr_ikey_dec(ibuf, il, sep + 1, strlen(sep + 1)) == 0 && *il > 0 ? 0 : -1;
}

/* The expected entries (guard 0) or guards (1) of field fi, sorted. */
static int expected(expn_t **out, size_t *out_n, zkc_index_t *ix, size_t fi, srec_t *recs,
                    size_t nrec, int guard)
{
	zkcr_index_field_t *f = &ix->f[fi];
	expn_t *e = calloc(nrec + 1, sizeof(*e));
	size_t i, n = 0;

	if (!e)
		return zkc_error_set(ZKC_ENOMEM, "index: out of memory");
	for (i = 0; i < nrec; i++) {
		const zkcr_index_bytes_t *v = &recs[i].vals[fi];

		if (!recs[i].ok || !v->present)
			continue;
		e[n].rec = i;
		e[n].path = zkcr_index_bpath(guard ? f->udir : f->idir, ix->nb, v->p, v->len, 1,
		                  guard ? NULL : recs[i].ename);
		if (!e[n].path) {
			exp_free(e, n);
			return zkc_error_set(ZKC_ENOMEM, "index: out of memory");
		}
		e[n].name = strrchr(e[n].path, '/') + 1;
		n++;
	}
	qsort(e, n, sizeof(*e), cmp_exp);
	*out = e;
	*out_n = n;
	return ZKC_OK;
}

/* An actual node no record explains (or in the wrong bucket). */
static int stale(zkc_index_report_t *r, const zkcr_index_field_t *f, const zkcr_index_ditem_t *it, int guard)
{
	size_t l = strlen(it->name), vl = 0, il = 0;
	unsigned char *vb = malloc(l + 1), *ib = malloc(l + 1);
	int rc;

	if (!vb || !ib)
		rc = zkc_error_set(ZKC_ENOMEM, "index: out of memory");
	else if (split_entry(vb, &vl, guard ? NULL : ib, &il, it->name) != 0)
		rc = add_issue(r, ZKC_INDEX_BAD_ENTRY, f->name, NULL, 0, guard ? it->data : NULL,
		               guard ? it->len : 0, it->path, it->ver);
	else if (guard)
		rc = add_issue(r, ZKC_INDEX_STALE_UNIQUE, f->name, vb, vl, it->data, it->len, it->path,
		               it->ver);
	else
		rc = add_issue(r, ZKC_INDEX_STALE_ENTRY, f->name, vb, vl, ib, il, it->path, -1);
	free(vb);
	free(ib);
	return rc;
}

/* Checks field fi's entries against the records. */
static int verify_entries(zkc_index_report_t *r, zkc_index_t *ix, size_t fi, srec_t *recs,
                          size_t nrec)
{
	zkcr_index_field_t *f = &ix->f[fi];
	zkcr_index_dlist_t act;
	expn_t *exp = NULL;
	size_t ne = 0, i, j;
	int rc;

	if ((rc = expected(&exp, &ne, ix, fi, recs, nrec, 0)) != ZKC_OK)
		return rc;
	if ((rc = zkcr_index_read_dir(&act, ix->zk, f->idir, ix->nb, -1, 0)) != ZKC_OK) {
		exp_free(exp, ne);
		return rc;
	}
	r->entries += act.n;
	for (i = 0, j = 0; rc == ZKC_OK && (i < ne || j < act.n);) {
		int c = i >= ne ? 1 : j >= act.n ? -1 : strcmp(exp[i].name, act.it[j].name);

		if (c == 0 && strcmp(exp[i].path, act.it[j].path) == 0) {
			i++;
			j++;
		} else if (c <= 0) {
			srec_t *s = &recs[exp[i].rec];

			rc = add_issue(r, ZKC_INDEX_MISSING_ENTRY, f->name, s->vals[fi].p, s->vals[fi].len,
			               s->id, s->id_len, exp[i].path, s->version);
			i++;
		} else {
			rc = stale(r, f, &act.it[j], 0);
			j++;
		}
	}
	exp_free(exp, ne);
	zkcr_index_dlist_free(&act);
	return rc;
}

static int holds(const zkcr_index_ditem_t *g, const srec_t *s)
{
	return g->ver != -2 && g->len == s->id_len && memcmp(g->data, s->id, g->len) == 0;
}

/* Checks unique field fi's guard nodes against the records. */
static int verify_guards(zkc_index_report_t *r, zkc_index_t *ix, size_t fi, srec_t *recs,
                         size_t nrec)
{
	zkcr_index_field_t *f = &ix->f[fi];
	zkcr_index_dlist_t act;
	expn_t *exp = NULL;
	size_t ne = 0, i, j, k;
	int rc;

	if ((rc = expected(&exp, &ne, ix, fi, recs, nrec, 1)) != ZKC_OK)
		return rc;
	if ((rc = zkcr_index_read_dir(&act, ix->zk, f->udir, ix->nb, -1, 1)) != ZKC_OK) {
		exp_free(exp, ne);
		return rc;
	}
	r->entries += act.n;
	for (i = 0, j = 0; rc == ZKC_OK && (i < ne || j < act.n);) {
		int c = i >= ne ? 1 : j >= act.n ? -1 : strcmp(exp[i].name, act.it[j].name);
		size_t g = i;

		if (c > 0 || (c == 0 && strcmp(exp[i].path, act.it[j].path) != 0 &&
		              strcmp(exp[i].path, act.it[j].path) > 0)) {
			if (act.it[j].ver != -2)
				rc = stale(r, f, &act.it[j], 1);
			j++;
			continue;
		}
		/* the group of records sharing exp[i]'s value, and the guard of
		 * that value if it is where it belongs */
		while (g < ne && strcmp(exp[g].name, exp[i].name) == 0)
			g++;
		if (c == 0 && strcmp(exp[i].path, act.it[j].path) != 0)
			c = -1;  /* a guard of this name in the wrong bucket: stale later */
		if (g - i > 1) {
			for (k = i; rc == ZKC_OK && k < g; k++) {
				srec_t *s = &recs[exp[k].rec];

				rc = add_issue(r, ZKC_INDEX_UNIQUE_CONFLICT, f->name, s->vals[fi].p,
				               s->vals[fi].len, s->id, s->id_len, exp[k].path, s->version);
			}
		} else {
			srec_t *s = &recs[exp[i].rec];
			int ok = c == 0 && holds(&act.it[j], s);

			if (c == 0 && !ok && act.it[j].ver != -2)
				rc = add_issue(r, ZKC_INDEX_STALE_UNIQUE, f->name, s->vals[fi].p,
				               s->vals[fi].len, act.it[j].data, act.it[j].len, act.it[j].path,
				               act.it[j].ver);
			if (rc == ZKC_OK && !ok)
				rc = add_issue(r, ZKC_INDEX_MISSING_UNIQUE, f->name, s->vals[fi].p,
				               s->vals[fi].len, s->id, s->id_len, exp[i].path, s->version);
		}
		if (c == 0)
			j++;
		i = g;
	}
	exp_free(exp, ne);
	zkcr_index_dlist_free(&act);
	return rc;
}

int zkc_index_verify(zkc_index_report_t **out, zkc_index_t *ix)
{
	zkc_index_report_t *r;
	zkcr_index_dlist_t d;
	size_t i, n = 0;
	srec_t *recs = NULL;
	int rc;

	zkc_error_clear();
	if (!out)
		return zkc_error_set(ZKC_EBADARGUMENTS, "index verify: out is NULL");
	*out = NULL;
	if (!ix)
		return zkc_error_set(ZKC_EBADARGUMENTS, "index verify: index is NULL");
	if (zkc_on_event_thread(ix->zk))
		return zkc_error_set(ZKC_EDEADLK, "index %s: verify from the client's event "
		                     "thread would wait on itself", ix->path);
	r = calloc(1, sizeof(*r));
	if (!r)
		return zkc_error_set(ZKC_ENOMEM, "index %s: out of memory", ix->path);
	rc = zkcr_index_read_dir(&d, ix->zk, ix->rdir, ix->nb, -1, 1);
	if (rc == ZKC_OK) {
		n = d.n;
		recs = calloc(n + 1, sizeof(*recs));
		if (!recs) {
			zkcr_index_dlist_free(&d);
			rc = zkc_error_set(ZKC_ENOMEM, "index %s: out of memory", ix->path);
		}
	}
	for (i = 0; rc == ZKC_OK && i < n; i++) {
		srec_t *s = &recs[i];
		size_t l = strlen(d.it[i].name);
		char *want = NULL;

		s->ename = d.it[i].name;
		s->path = d.it[i].path;
		s->version = d.it[i].ver;
		if (s->version == -2)
			continue;  /* deleted while we read */
		r->records++;
		s->id = malloc(l + 1);
		if (!s->id) {
			rc = zkc_error_set(ZKC_ENOMEM, "index %s: out of memory", ix->path);
			break;
		}
		if (zkcr_ikey_dec(s->id, &s->id_len, s->ename, l) != 0 || s->id_len == 0) {
			free(s->id);
			s->id = NULL;
		}
		/* a record counts only in its bucket */
		if (s->id && (want = zkcr_index_bpath(ix->rdir, ix->nb, s->id, s->id_len, 0, NULL)) &&
		    strcmp(want, s->path) == 0 &&
		    zkcr_index_record_values(s->vals, ix, d.it[i].data, d.it[i].len, NULL, NULL) == 0)
			s->ok = 1;
		free(want);
		if (!s->ok)
			rc = add_issue(r, ZKC_INDEX_BAD_RECORD, NULL, NULL, 0, s->id, s->id_len, s->path,
			               s->version);
	}
	for (i = 0; rc == ZKC_OK && i < ix->nf; i++) {
		rc = verify_entries(r, ix, i, recs, n);
		if (rc == ZKC_OK && ix->f[i].udir)
			rc = verify_guards(r, ix, i, recs, n);
	}
	for (i = 0; recs && i < n; i++)
		free(recs[i].id);
	free(recs);
	if (n || rc == ZKC_OK)
		zkcr_index_dlist_free(&d);
	if (rc != ZKC_OK) {
		zkc_index_report_free(r);
		return rc;
	}
	*out = r;
	return ZKC_OK;
}

/* Repairs one issue in one transaction; ZKC_OK if repaired. */
static int repair(zkc_index_t *ix, const zkc_index_issue_t *is)
{
	zkc_multi_t *m = NULL;
	char *rpath = NULL;
	int rc = zkc_multi_new(&m);

	if (rc != ZKC_OK)
		return rc;
	switch (is->kind) {
	case ZKC_INDEX_STALE_ENTRY:
		rc = zkc_multi_delete(m, is->path, -1);
		break;
	case ZKC_INDEX_STALE_UNIQUE:
		rc = zkc_multi_delete(m, is->path, is->version);
		break;
	case ZKC_INDEX_MISSING_ENTRY:
	case ZKC_INDEX_MISSING_UNIQUE:
		/* only while the record is as verify saw it */
		rpath = zkcr_index_bpath(ix->rdir, ix->nb, is->id, is->id_len, 0, NULL);
		rc = rpath ? zkc_multi_check(m, rpath, is->version) : ZKC_ENOMEM;
		if (rc == ZKC_OK)
			rc = zkc_multi_create(m, is->path, is->kind == ZKC_INDEX_MISSING_UNIQUE ? is->id : NULL,
			                      is->kind == ZKC_INDEX_MISSING_UNIQUE ? is->id_len : 0,
			                      ZKC_PERSISTENT, NULL);
		break;
	default:
		rc = zkc_error_set(ZKC_ENOTSUP, "index %s: repair of an issue of unknown kind %d",
		                   ix->path, is->kind);
	}
	if (rc == ZKC_OK)
		rc = zkc_multi_commit(NULL, ix->zk, m);
	zkc_multi_free(m);
	free(rpath);
	return rc;
}

int zkc_index_rebuild(zkc_index_report_t **out, zkc_index_t *ix)
{
	zkc_index_report_t *r = NULL;
	int rc, pass, worst = ZKC_OK;
	size_t i;

	zkc_error_clear();
	if (out)
		*out = NULL;
	if (!ix)
		return zkc_error_set(ZKC_EBADARGUMENTS, "index rebuild: index is NULL");
	rc = zkc_index_verify(&r, ix);
	if (rc != ZKC_OK)
		return rc;
	/* deletions first, so a guard that names the wrong id is gone before
	 * the right one is created */
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < r->count; i++) {
			int k = r->issues[i].kind, del = k == ZKC_INDEX_STALE_ENTRY ||
			                                 k == ZKC_INDEX_STALE_UNIQUE;

			if (k != ZKC_INDEX_STALE_ENTRY && k != ZKC_INDEX_STALE_UNIQUE &&
			    k != ZKC_INDEX_MISSING_ENTRY && k != ZKC_INDEX_MISSING_UNIQUE)
				continue;
			if (del != (pass == 0))
				continue;
			rc = repair(ix, &r->issues[i]);
			if (rc == ZKC_OK)
				r->repaired++;
			else if (worst == ZKC_OK)
				worst = rc;
		}
	if (out)
		*out = r;
	else
		zkc_index_report_free(r);
	return worst;
}
