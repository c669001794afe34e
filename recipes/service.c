/* recipes/service.c - the service registry (instances as ephemeral nodes kept
 * by zkc_pnode) and router (weighted rendezvous hashing over an immutable
 * snapshot rebuilt from a zkc_cache of the service's children). Public API
 * only. Layout, format and hash: docs/recipes/service.md. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "zkc/cache.h"
#include "zkc/pnode.h"
#include "zkc/service.h"
#include "support.h"

#define FORMAT_VERSION 1
#define DEFAULT_TIMEOUT_MS 30000

/* ================================================================ hashing
 * Written for this recipe and specified in docs/recipes/service.md so other
 * languages can reproduce it bit for bit: the splitmix64 finalizer as the
 * mixing step, and a natural logarithm made of IEEE adds, multiplies and
 * divides only (no libm: every platform computes the same scores). */

static inline uint64_t mix64(uint64_t z)
{
	z ^= z >> 30;
	z *= 0xbf58476d1ce4e5b9ULL;
	z ^= z >> 27;
	z *= 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return z;
}

uint64_t zkc_service_hash64(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ ((uint64_t)len * 0xc2b2ae3d27d4eb4fULL);
	size_t i = 0;

	if (!p)
		len = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w = 0;
		int b;

		for (b = 7; b >= 0; b--)
			w = (w << 8) | p[i + (size_t)b];
		h = mix64(h ^ w) + 0x9e3779b97f4a7c15ULL;
	}
	if (i < len) {
		uint64_t w = 0;
		size_t b;

		for (b = len; b > i; b--)
			w = (w << 8) | p[b - 1];
		h = mix64(h ^ w ^ 0xff51afd7ed558ccdULL) + 0x9e3779b97f4a7c15ULL;
	}
	return mix64(h ^ (uint64_t)len);
}

/* ln(x) for x in (0, 1]: x = m * 2^e with m in [sqrt(1/2), sqrt(2)), then
 * ln(m) = 2 atanh(s) = 2 s (1 + z/3 + z^2/5 + ... + z^11/23), s = (m-1)/(m+1),
 * z = s^2 < 0.0295: twelve terms leave a truncation error below 1e-18 of
 * the result, evaluated by Horner (a fixed sequence of IEEE operations). */
static double ln01(double x)
{
	static const double ln2 = 0.6931471805599453;
	uint64_t bits;
	int e, k;
	double m, s, z, p;

	memcpy(&bits, &x, sizeof(bits));
	e = (int)((bits >> 52) & 0x7ff) - 1023;
	bits = (bits & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL;
	memcpy(&m, &bits, sizeof(m));
	if (m > 1.4142135623730951) {
		/* near x = 1, m - 1 is then exact and the result keeps its
		 * relative precision (the winning scores are those with u near 1) */
		m *= 0.5;
		e += 1;
	}
	s = (m - 1.0) / (m + 1.0);
	z = s * s;
	p = 1.0 / 23.0;
	for (k = 21; k >= 1; k -= 2)
		p = p * z + 1.0 / (double)k;
	return (double)e * ln2 + 2.0 * s * p;
}

/* weight / -ln(u), u uniform in (0,1) from a mixed (key, instance) hash:
 * the instance's rate-`weight` exponential race, won with probability
 * weight / total weight, and unaffected by other instances joining or
 * leaving (highest random weight). */
static inline uint64_t pair_bits(uint64_t key_hash, uint64_t id_hash)
{
	return mix64(mix64(key_hash ^ id_hash) + id_hash) >> 11;
}

static inline double score_of_bits(uint64_t g, int weight)
{
	double u = ((double)g + 0.5) * (1.0 / 9007199254740992.0);

	return (double)weight / -ln01(u);
}

double zkc_service_score(uint64_t key_hash, uint64_t id_hash, int weight)
{
	return score_of_bits(pair_bits(key_hash, id_hash), weight);
}

/* ================================================================ format
 * Curator's ServiceInstance JSON, written and read with jansson. */

static int bad_text(const char *s, size_t max)
{
	size_t n;

	if (!s)
		return 1;
	n = strnlen(s, max + 1);
	if (n == 0 || n > max)
		return 1;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* `svc` (the service's path or name) is for the messages. */
static int check_instance(const char *svc, const zkc_service_instance_t *in, size_t *meta_len)
{
	if (!svc)
		svc = "(null)";
	if (!in)
		return zkc_error_set(ZKC_EBADARGUMENTS, "service %s: instance is NULL (use "
		                     "ZKC_SERVICE_INSTANCE_INIT)", svc);
	if (zkc_options_version_check("service instance", in->version,
	                              ZKC_SERVICE_INSTANCE_VERSION) != ZKC_OK)
		return zkc_error_set(ZKC_EBADARGUMENTS, "service %s: %s", svc,
		                     zkc_error_last()->message);
	if (bad_text(in->id, ZKC_SERVICE_ID_MAX) || strchr(in->id, '/') ||
	    strcmp(in->id, ".") == 0 || strcmp(in->id, "..") == 0)
		return zkc_error_set(ZKC_EBADARGUMENTS, "service %s: bad instance id \"%.*s\" (1..%d "
		                     "bytes, no '/', no control characters, not . or ..)", svc,
		                     in->id ? 64 : 6, in->id ? in->id : "(null)", ZKC_SERVICE_ID_MAX);
	if (bad_text(in->address, ZKC_SERVICE_ADDRESS_MAX))
		return zkc_error_set(ZKC_EBADARGUMENTS, "service %s: instance %s: bad address (1..%d "
		                     "bytes, no control characters)", svc, in->id,
		                     ZKC_SERVICE_ADDRESS_MAX);
	if (in->port < 0 || in->port > 65535)
		return zkc_error_set(ZKC_EBADARGUMENTS, "service %s: instance %s: port %d is not "
		                     "0..65535", svc, in->id, in->port);
	if (in->weight < 1 || in->weight > ZKC_SERVICE_WEIGHT_MAX)
		return zkc_error_set(ZKC_EBADARGUMENTS, "service %s: instance %s: weight %d is not "
		                     "1..%d", svc, in->id, in->weight, ZKC_SERVICE_WEIGHT_MAX);
	*meta_len = !in->metadata ? 0 : in->metadata_len == (size_t)-1
	            ? strnlen(in->metadata, ZKC_SERVICE_METADATA_MAX + 1) : in->metadata_len;
	if (*meta_len > ZKC_SERVICE_METADATA_MAX)
		return zkc_error_set(ZKC_ETOOLARGE, "service %s: instance %s: metadata over %d bytes",
		                     svc, in->id, ZKC_SERVICE_METADATA_MAX);
	return ZKC_OK;
}

/* Serializes `j` (stolen) into a malloc'd string: zkc_free must free it,
 * whatever allocator an application gave jansson. */
static int dump_json(char **out, size_t *out_len, json_t *j, const char *id)
{
	size_t n;
	char *p;

	if (!j)
		return zkc_error_set(ZKC_ENOMEM, "service %s: out of memory", id);
	n = json_dumpb(j, NULL, 0, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (n == 0 || n > ZKC_MAX_DATA_LEN) {
		json_decref(j);
		return n ? zkc_error_set(ZKC_ETOOLARGE, "service %s: encoded instance over %d bytes",
		                         id, ZKC_MAX_DATA_LEN)
		         : zkc_error_set(ZKC_ENOMEM, "service %s: out of memory", id);
	}
	if (!(p = malloc(n + 1)) || json_dumpb(j, p, n, JSON_COMPACT | JSON_PRESERVE_ORDER) != n) {
		free(p);
		json_decref(j);
		return zkc_error_set(ZKC_ENOMEM, "service %s: out of memory", id);
	}
	p[n] = '\0';
	json_decref(j);
	*out = p;
	if (out_len)
		*out_len = n;
	return ZKC_OK;
}

int zkc_service_encode(char **out, size_t *out_len, const char *service_name,
                       const zkc_service_instance_t *in)
{
	struct timespec ts;
	size_t meta_len = 0;
	json_t *name, *jid, *addr, *meta, *j;
	int rc;

	if (out)
		*out = NULL;
	if (!out)
		return zkc_error_set(ZKC_EBADARGUMENTS, "zkc_service_encode: out is NULL");
	if ((rc = check_instance(service_name, in, &meta_len)) != ZKC_OK)
		return rc;
	/* JSON strings are text: jansson refuses bytes that are not UTF-8 */
	name = json_stringn(service_name ? service_name : "", service_name ? strlen(service_name) : 0);
	jid = json_string(in->id);
	addr = json_string(in->address);
	meta = json_stringn(in->metadata ? in->metadata : "", meta_len);
	if (!name || !jid || !addr || !meta) {
		json_decref(name);
		json_decref(jid);
		json_decref(addr);
		json_decref(meta);
		return zkc_error_set(ZKC_EBADARGUMENTS, "service %s: the %s is not UTF-8 text",
		                     in->id, !name ? "service name" : !jid ? "id" :
		                     !addr ? "address" : "metadata");
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	/* the field order of Curator's ServiceInstance; zkc's fields go in its
	 * payload */
	j = json_pack("{s:o, s:o, s:o, s:i, s:n, s:{s:i, s:i, s:b, s:o}, s:I, s:s, s:n, s:b}",
	              "name", name, "id", jid, "address", addr, "port", in->port,
	              "sslPort", "payload", "zkc", FORMAT_VERSION, "weight", in->weight,
	              "draining", in->draining != 0, "metadata", meta,
	              "registrationTimeUTC", (json_int_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000,
	              "serviceType", "DYNAMIC", "uriSpec", "enabled", !in->draining);
	return dump_json(out, out_len, j, in->id);
}

/* ---------------------------------------------------------------- decoding
 * One JSON object: the fields zkc needs are read, any other value
 * (Curator's or an application's) is ignored. */

/* A string field: 0 and *out (borrowed, may hold NULs) when present as a
 * string or absent (*out NULL); -1 with *why when of another type. */
static int get_str(json_t *o, const char *key, int null_ok, json_t **out, const char **why)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (!v || (null_ok && json_is_null(v)))
		return 0;
	if (!json_is_string(v)) {
		*why = "expected a string";
		return -1;
	}
	*out = v;
	return 0;
}

/* An integer field, kept at its default when absent (or null if null_ok). */
static int get_int(json_t *o, const char *key, int null_ok, long long *out, const char **why)
{
	json_t *v = json_object_get(o, key);

	if (!v || (null_ok && json_is_null(v)))
		return 0;
	if (!json_is_integer(v)) {
		*why = "expected an integer";
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

/* A boolean field; absent or null keeps the default. */
static int get_bool(json_t *o, const char *key, int *out, const char **why)
{
	json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v)) {
		*why = "expected true or false";
		return -1;
	}
	*out = json_is_true(v);
	return 0;
}

static char *dup_str(json_t *s)
{
	size_t n = s ? json_string_length(s) : 0;
	char *p = malloc(n + 1);

	if (p) {
		if (n)
			memcpy(p, json_string_value(s), n);
		p[n] = '\0';
	}
	return p;
}

void zkc_service_entry_clear(zkc_service_entry_t *e)
{
	if (!e)
		return;
	free(e->id);
	free(e->address);
	free(e->metadata);
	memset(e, 0, sizeof(*e));
}

int zkc_service_decode(zkc_service_entry_t *out, const char *id, const char *data, size_t len)
{
	json_t *root, *payload, *jid = NULL, *jaddr = NULL, *jmeta = NULL;
	json_error_t err;
	long long port = 0, weight = 1;
	int draining = 0, enabled = 1;
	const char *why = NULL;
	int rc = ZKC_OK;

	if (!out)
		return zkc_error_set(ZKC_EBADARGUMENTS, "zkc_service_decode: out is NULL");
	memset(out, 0, sizeof(*out));
	/* JSON_ALLOW_NUL: metadata may hold NULs (written as \u0000) */
	root = json_loadb(data ? data : "", data ? len : 0, JSON_ALLOW_NUL, &err);
	payload = root ? json_object_get(root, "payload") : NULL;
	if (!payload || !json_is_object(payload))
		payload = NULL;
	if (!root)
		why = err.text;
	else if (!json_is_object(root))
		why = "expected an object";
	else if (get_str(root, "id", 0, &jid, &why) != 0 ||
	         get_str(root, "address", 0, &jaddr, &why) != 0 ||
	         get_int(root, "port", 1, &port, &why) != 0 ||
	         get_bool(root, "enabled", &enabled, &why) != 0)
		;
	else if (payload && (get_int(payload, "weight", 0, &weight, &why) != 0 ||
	                     get_bool(payload, "draining", &draining, &why) != 0 ||
	                     get_str(payload, "metadata", 1, &jmeta, &why) != 0))
		;
	else if (!jaddr || bad_text(json_string_value(jaddr), ZKC_SERVICE_ADDRESS_MAX))
		why = "no valid address";
	else if (port < 0 || port > 65535)
		why = "port out of range";
	else if (weight < 1 || weight > ZKC_SERVICE_WEIGHT_MAX)
		why = "weight out of range";
	else if (jid && id && strcmp(json_string_value(jid), id) != 0)
		why = "id differs from the node name";
	if (why) {
		rc = zkc_error_set(ZKC_EBADARGUMENTS, "service instance %s: not an instance (%s)",
		                   id ? id : "?", why);
	} else {
		out->id = jid ? dup_str(jid) : strdup(id ? id : "");
		out->address = dup_str(jaddr);
		out->metadata_len = jmeta ? json_string_length(jmeta) : 0;
		out->metadata = dup_str(jmeta);
		out->port = (int)port;
		out->weight = (int)weight;
		out->draining = draining || !enabled;
		if (!out->id || !out->address || !out->metadata) {
			zkc_service_entry_clear(out);
			rc = zkc_error_set(ZKC_ENOMEM, "out of memory");
		}
	}
	json_decref(root);
	return rc;
}

void zkc_service_list_free(zkc_service_list_t *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->count; i++)
		zkc_service_entry_clear(&l->items[i]);
	free(l->items);
	free(l);
}

/* ================================================================ registry */

struct zkc_service_reg {
	zkc_t *zk;
	zkc_pnode_t *node;
	char *path;
	char *name;
	pthread_mutex_t mu;   /* serialises updates of the fields below */
	char *id, *address, *metadata;
	size_t metadata_len;
	int port, weight, draining;
	int unregistered;     /* zkc_service_unregister ran (under mu) */
};

static int check_service_path(const char *p, const char *who)
{
	int rc;

	if (!p)
		return zkc_error_set(ZKC_EBADARGUMENTS, "%s: service path is NULL", who);
	if ((rc = zkc_path_validate(p, (size_t)-1)) != ZKC_OK)
		return rc;
	if (strcmp(p, "/") == 0)
		return zkc_error_set(ZKC_EBADARGUMENTS, "%s: the root is not a service path", who);
	return ZKC_OK;
}

static void reg_free(zkc_service_reg_t *r)
{
	free(r->path);
	free(r->name);
	free(r->id);
	free(r->address);
	free(r->metadata);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

static int reg_encode(char **out, size_t *out_len, zkc_service_reg_t *r)
{
	zkc_service_instance_t in = ZKC_SERVICE_INSTANCE_INIT;

	in.id = r->id;
	in.address = r->address;
	in.port = r->port;
	in.weight = r->weight;
	in.draining = r->draining;
	in.metadata = r->metadata;
	in.metadata_len = r->metadata_len;
	return zkc_service_encode(out, out_len, r->name, &in);
}

int zkc_service_reg_open(zkc_service_reg_t **out, zkc_t *zk, const char *service_path,
                         const zkc_service_instance_t *in)
{
	zkc_service_reg_t *r;
	char *data = NULL;
	size_t len = 0, meta_len = 0;
	zkc_stat_t st;
	int64_t sid = 0;
	int rc;

	if (!out)
		return zkc_error_set(ZKC_EBADARGUMENTS, "zkc_service_reg_open: out is NULL");
	*out = NULL;
	if (!zk)
		return zkc_error_set(ZKC_EBADARGUMENTS, "zkc_service_reg_open: client is NULL");
	if ((rc = check_service_path(service_path, "zkc_service_reg_open")) != ZKC_OK ||
	    (rc = check_instance(service_path, in, &meta_len)) != ZKC_OK)
		return rc;
	if (zkc_on_event_thread(zk))
		return zkc_error_set(ZKC_EDEADLK, "zkc_service_reg_open: called on the client's "
		                  "event thread");
	r = calloc(1, sizeof(*r));
	if (!r)
		return zkc_error_set(ZKC_ENOMEM, "out of memory");
	pthread_mutex_init(&r->mu, NULL);
	r->zk = zk;
	r->path = malloc(strlen(service_path) + strlen(in->id) + 2);
	r->name = strdup(strrchr(service_path, '/') + 1);
	r->id = strdup(in->id);
	r->address = strdup(in->address);
	r->metadata = malloc(meta_len + 1);
	if (!r->path || !r->name || !r->id || !r->address || !r->metadata) {
		reg_free(r);
		return zkc_error_set(ZKC_ENOMEM, "out of memory");
	}
	sprintf(r->path, "%s/%s", service_path, in->id);
	if (meta_len)
		memcpy(r->metadata, in->metadata, meta_len);
	r->metadata[meta_len] = '\0';
	r->metadata_len = meta_len;
	r->port = in->port;
	r->weight = in->weight;
	r->draining = in->draining != 0;
	if ((rc = zkc_path_validate(r->path, (size_t)-1)) != ZKC_OK ||
	    (rc = reg_encode(&data, &len, r)) != ZKC_OK) {
		reg_free(r);
		return rc;
	}
	/* An id held by another session: a live twin must not be silently
	 * evicted (zkc_pnode would wait for it), unless asked to. */
	rc = zkc_exists(&st, zk, r->path);
	if (rc == ZKC_OK) {
		zkc_session(&sid, NULL, NULL, zk);
		if (!in->replace || st.ephemeral_owner == sid) {
			rc = zkc_error_set(ZKC_ENODEEXISTS, "service instance %s is already registered "
			                "(session 0x%llx)", r->path,
			                (unsigned long long)st.ephemeral_owner);
			zkc_free(data);
			reg_free(r);
			return rc;
		}
		rc = zkc_delete(zk, r->path, st.version, 0);
		if (rc == ZKC_ENONODE || rc == ZKC_EBADVERSION)
			rc = ZKC_OK; /* gone or changed: pnode settles it */
	} else if (rc == ZKC_ENONODE) {
		rc = ZKC_OK;
	}
	if (rc == ZKC_OK)
		rc = zkc_pnode_open(&r->node, zk, r->path, data, len, ZKC_EPHEMERAL);
	zkc_free(data);
	if (rc != ZKC_OK) {
		if (r->node) {
			/* nothing is left registered: wait for the delete */
			zkc_pnode_delete(r->node);
			zkc_pnode_close(r->node);
		}
		reg_free(r);
		return rc;
	}
	*out = r;
	return ZKC_OK;
}

/* New data: kept for re-creations (pnode) and written now so that return
 * means routers are being told. */
static int reg_update(zkc_service_reg_t *r, int weight, int draining)
{
	char *data = NULL;
	size_t len = 0;
	int rc;

	pthread_mutex_lock(&r->mu);
	if (r->unregistered) {
		pthread_mutex_unlock(&r->mu);
		return zkc_error_set(ZKC_EINVALIDSTATE, "service %s: unregistered", r->path);
	}
	if (weight)
		r->weight = weight;
	if (draining >= 0)
		r->draining = draining != 0;
	rc = reg_encode(&data, &len, r);
	if (rc == ZKC_OK)
		rc = zkc_pnode_set(r->node, data, len);
	if (rc == ZKC_OK) {
		rc = zkc_set(NULL, r->zk, r->path, data, len, -1);
		if (rc == ZKC_ENONODE)
			rc = ZKC_OK; /* being re-created, with the new data */
		else if (rc == ZKC_EUNKNOWN)
			rc = ZKC_OK; /* unversioned: the pnode writes it again anyway */
	}
	pthread_mutex_unlock(&r->mu);
	zkc_free(data);
	return rc;
}

int zkc_service_set_draining(zkc_service_reg_t *r, int draining)
{
	if (!r)
		return zkc_error_set(ZKC_EBADARGUMENTS, "zkc_service_set_draining: handle is NULL");
	return reg_update(r, 0, draining != 0);
}

int zkc_service_set_weight(zkc_service_reg_t *r, int weight)
{
	if (!r)
		return zkc_error_set(ZKC_EBADARGUMENTS, "zkc_service_set_weight: handle is NULL");
	if (weight < 1 || weight > ZKC_SERVICE_WEIGHT_MAX)
		return zkc_error_set(ZKC_EBADARGUMENTS, "service %s: weight %d is not 1..%d", r->id,
		                  weight, ZKC_SERVICE_WEIGHT_MAX);
	return reg_update(r, weight, -1);
}

int zkc_service_reg_wait(zkc_service_reg_t *r, int timeout_ms)
{
	if (!r)
		return zkc_error_set(ZKC_EBADARGUMENTS, "zkc_service_reg_wait: handle is NULL");
	return zkc_pnode_wait(r->node, timeout_ms);
}

const char *zkc_service_reg_path(const zkc_service_reg_t *r)
{
	return r ? r->path : NULL;
}

int zkc_service_unregister(zkc_service_reg_t *r)
{
	int rc;

	if (!r)
		return zkc_error_set(ZKC_EBADARGUMENTS, "zkc_service_unregister: handle is NULL");
	pthread_mutex_lock(&r->mu);
	r->unregistered = 1;
	rc = zkc_pnode_delete(r->node);
	pthread_mutex_unlock(&r->mu);
	return rc;
}

void zkc_service_reg_close(zkc_service_reg_t *r)
{
	if (!r)
		return;
	zkc_pnode_close(r->node);
	reg_free(r);
}

/* ================================================================ router */

/* Decisions find each weight class's best instance by comparing integers
 * and score only the few near the top (see zkc_service_route), for up to
 * this many distinct weights among the routable instances. */
#define MAX_CLASSES 32
/* A candidate whose bits are this far below its class's best cannot tie it:
 * the gap in -ln(u) is then >= 2^-33 relative, far above ln01's error. */
#define CLASS_WINDOW ((uint64_t)1 << 20)

/* One valid instance with its id hash, allocated once when its node data
 * is decoded and shared by every snapshot that holds it. */
typedef struct ent {
	zkc_service_entry_t e;
	uint64_t ih;                /* hash64(id) */
} ent_t;

/* An immutable view of the service: every valid instance (for listing,
 * sorted by id) and the routable ones as compact arrays scanned per
 * decision. A snapshot made from its predecessor for one changed child
 * shares the unchanged entries with it; `dropped` / `dropped_name` are
 * what the predecessor held and this one does not, freed once the
 * predecessor is unreachable. `owns` marks a snapshot built from scratch:
 * when it replaces one, every entry of the old one goes. */
typedef struct snap {
	int exists;                 /* the service node exists */
	size_t count;
	ent_t **items;              /* [count] sorted by id */
	size_t invalid;
	char **invalid_names;       /* [invalid] sorted: children that are not instances */
	size_t n;                   /* routable */
	uint64_t *id_hash;          /* [n] */
	int *weight;                /* [n] */
	size_t *entry;              /* [n] index into items */
	unsigned char *cls;         /* [n] weight class, when classes > 0 */
	size_t classes;             /* distinct weights (0: more than MAX_CLASSES) */
	int class_weight[MAX_CLASSES];
	ent_t *dropped;
	char *dropped_name;
	int owns;
} snap_t;

struct zkc_service_router {
	zkc_t *zk;
	char *path;
	size_t path_len;
	zkc_cache_t *cache;
	pthread_mutex_t build_mu;   /* one snapshot change at a time */
	int ready;                  /* events may change the snapshot (under build_mu) */
	pthread_rwlock_t lock;      /* guards cur (writers only swap it) */
	snap_t *cur;
	uint64_t generation;        /* atomic */
	uint64_t full_builds;       /* atomic: snapshots built from scratch */
};

static void ent_free(ent_t *x)
{
	if (!x)
		return;
	zkc_service_entry_clear(&x->e);
	free(x);
}

/* Frees the arrays of a snapshot; with `deep`, its entries and names too. */
static void snap_free(snap_t *s, int deep)
{
	size_t i;

	if (!s)
		return;
	if (deep) {
		for (i = 0; i < s->count; i++)
			ent_free(s->items[i]);
		for (i = 0; i < s->invalid; i++)
			free(s->invalid_names[i]);
	}
	ent_free(s->dropped);
	free(s->dropped_name);
	free(s->items);
	free(s->invalid_names);
	free(s->id_hash);
	free(s->weight);
	free(s->entry);
	free(s->cls);
	free(s);
}

/* Fills the routable arrays of s from its items: a copy per instance, no
 * hashing or decoding. */
static int snap_index(snap_t *s)
{
	size_t i, n = 0;

	for (i = 0; i < s->count; i++)
		n += !s->items[i]->e.draining;
	s->id_hash = malloc((n ? n : 1) * sizeof(*s->id_hash));
	s->weight = malloc((n ? n : 1) * sizeof(*s->weight));
	s->entry = malloc((n ? n : 1) * sizeof(*s->entry));
	s->cls = malloc(n ? n : 1);
	if (!s->id_hash || !s->weight || !s->entry || !s->cls)
		return ZKC_ENOMEM;
	s->n = 0;
	s->classes = 0;
	for (i = 0; i < s->count; i++) {
		const ent_t *x = s->items[i];
		size_t c;

		if (x->e.draining)
			continue;
		s->id_hash[s->n] = x->ih;
		s->weight[s->n] = x->e.weight;
		s->entry[s->n] = i;
		if (s->n == 0 || s->classes) {
			for (c = 0; c < s->classes && s->class_weight[c] != x->e.weight; c++)
				;
			if (c == MAX_CLASSES) {
				s->classes = 0; /* too many weights: decisions score everyone */
			} else {
				if (c == s->classes)
					s->class_weight[s->classes++] = x->e.weight;
				s->cls[s->n] = (unsigned char)c;
			}
		}
		s->n++;
	}
	return ZKC_OK;
}

typedef struct build {
	const char *root;
	size_t root_len;
	snap_t *s;
	size_t cap, icap;
	int oom;
} build_t;

/* Decodes one child into a new entry (NULL with *invalid set when the data
 * is not an instance, NULL alone when out of memory). */
static ent_t *ent_make(const char *name, const char *data, size_t len, const zkc_stat_t *st,
                       int *invalid)
{
	ent_t *x = calloc(1, sizeof(*x));

	*invalid = 0;
	if (!x)
		return NULL;
	if (zkc_service_decode(&x->e, name, data, len) != ZKC_OK) {
		free(x);
		*invalid = 1;
		return NULL;
	}
	x->e.session_id = st ? st->ephemeral_owner : 0;
	x->ih = zkc_service_hash64(x->e.id, strlen(x->e.id));
	return x;
}

static int grow(void **p, size_t *cap, size_t count, size_t size)
{
	size_t c;
	void *q;

	if (count < *cap)
		return 0;
	c = *cap ? *cap * 2 : 16;
	q = realloc(*p, c * size);
	if (!q)
		return -1;
	*p = q;
	*cap = c;
	return 0;
}

static int visit(const char *path, const char *data, size_t len, const zkc_stat_t *st,
                 void *payload)
{
	build_t *b = payload;
	const char *name;
	ent_t *x;
	int invalid;

	if (strcmp(path, b->root) == 0) {
		b->s->exists = 1;
		return 0;
	}
	name = path + b->root_len + 1;
	if (strchr(name, '/'))
		return 0;
	x = ent_make(name, data, len, st, &invalid);
	if (!x && invalid) {
		char *dup = strdup(name);

		if (!dup || grow((void **)&b->s->invalid_names, &b->icap, b->s->invalid,
		                 sizeof(char *))) {
			free(dup);
			b->oom = 1;
			return 1;
		}
		b->s->invalid_names[b->s->invalid++] = dup;
		return 0;
	}
	if (!x || grow((void **)&b->s->items, &b->cap, b->s->count, sizeof(ent_t *))) {
		ent_free(x);
		b->oom = 1;
		return 1;
	}
	b->s->items[b->s->count++] = x;
	return 0;
}

static int by_id(const void *a, const void *b)
{
	return strcmp((*(ent_t *const *)a)->e.id, (*(ent_t *const *)b)->e.id);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Swaps s in as the current snapshot and frees the old one: all of it when
 * s was built from scratch, else its arrays and what s dropped. */
static void publish(zkc_service_router_t *r, snap_t *s)
{
	snap_t *old;

	pthread_rwlock_wrlock(&r->lock);
	old = r->cur;
	r->cur = s;
	__atomic_add_fetch(&r->generation, 1, __ATOMIC_SEQ_CST);
	pthread_rwlock_unlock(&r->lock);
	/* no reader holds old from here on */
	if (s->owns) {
		snap_free(old, 1);
	} else {
		ent_free(s->dropped);
		free(s->dropped_name);
		s->dropped = NULL;
		s->dropped_name = NULL;
		snap_free(old, 0);
	}
}

/* Reads the whole cache into a new snapshot and swaps it in. */
static int rebuild(zkc_service_router_t *r)
{
	build_t b;
	snap_t *s;
	int rc;

	s = calloc(1, sizeof(*s));
	if (!s)
		return zkc_error_set(ZKC_ENOMEM, "service %s: out of memory", r->path);
	s->owns = 1;
	memset(&b, 0, sizeof(b));
	b.root = r->path;
	b.root_len = r->path_len;
	b.s = s;
	rc = zkc_cache_foreach(r->cache, r->path, visit, &b);
	if (b.oom || (rc != ZKC_OK && rc != ZKC_ENONODE)) {
		snap_free(s, 1);
		return zkc_error_set(ZKC_ENOMEM, "service %s: %s", r->path, b.oom ? "out of memory"
		                     : "reading its instances from the cache failed");
	}
	if (s->count)
		qsort(s->items, s->count, sizeof(*s->items), by_id);
	if (s->invalid)
		qsort(s->invalid_names, s->invalid, sizeof(*s->invalid_names), by_name);
	if (snap_index(s) != ZKC_OK) {
		snap_free(s, 1);
		return zkc_error_set(ZKC_ENOMEM, "service %s: out of memory", r->path);
	}
	__atomic_add_fetch(&r->full_builds, 1, __ATOMIC_SEQ_CST);
	publish(r, s);
	return ZKC_OK;
}

/* Lower bound of `name` in a sorted array of n names reached through get. */
static size_t lower_bound(const void *arr, size_t n, const char *name,
                          const char *(*get)(const void *arr, size_t i), int *found)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(get(arr, mid), name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < n && strcmp(get(arr, lo), name) == 0;
	return lo;
}

static const char *item_id(const void *arr, size_t i)
{
	return ((ent_t *const *)arr)[i]->e.id;
}

static const char *name_at(const void *arr, size_t i)
{
	return ((char *const *)arr)[i];
}

/* Copies src[0..n) into a new array of n - removed + added slots, leaving
 * out index `at` when removing and opening a slot at `at` when adding. */
static void *splice(const void *src, size_t n, size_t size, size_t at, int remove, int add)
{
	size_t m = n - (size_t)remove + (size_t)add;
	char *p = malloc((m ? m : 1) * size);
	const char *s = src;

	if (!p)
		return NULL;
	if (at)
		memcpy(p, s, at * size);
	if (n > at + (size_t)remove)
		memcpy(p + (at + (size_t)add) * size, s + (at + (size_t)remove) * size,
		       (n - at - (size_t)remove) * size);
	return p;
}

/* Makes the next snapshot from the current one for one changed child of
 * the service node: the child's data is decoded once and the unchanged
 * entries are shared, so a change costs a decode and a copy of pointers.
 * removed: the child is gone; else x (a valid entry) or, when x is NULL,
 * the child's data is not an instance. */
static int apply_child(zkc_service_router_t *r, const char *name, int removed, ent_t *x)
{
	const snap_t *c = r->cur;
	snap_t *s;
	int in_items, in_invalid, add_item = !removed && x, add_name = !removed && !x;
	size_t at, at_name;

	at = lower_bound(c->items, c->count, name, item_id, &in_items);
	at_name = lower_bound(c->invalid_names, c->invalid, name, name_at, &in_invalid);
	if (removed && !in_items && !in_invalid)
		return ZKC_OK; /* already gone */
	s = calloc(1, sizeof(*s));
	if (!s)
		goto oom;
	s->exists = c->exists;
	/* items: replace in place, remove or insert */
	if (in_items && add_item) {
		s->items = splice(c->items, c->count, sizeof(*c->items), at, 0, 0);
		s->count = c->count;
		if (s->items)
			s->items[at] = x;
	} else {
		s->items = splice(c->items, c->count, sizeof(*c->items), at, in_items, add_item);
		s->count = c->count - (size_t)in_items + (size_t)add_item;
		if (s->items && add_item)
			s->items[at] = x;
	}
	if (in_items)
		s->dropped = c->items[at];
	/* invalid names: likewise */
	if (in_invalid && add_name) {
		s->invalid_names = splice(c->invalid_names, c->invalid, sizeof(char *), at_name, 0, 0);
		s->invalid = c->invalid;
	} else {
		char *dup = add_name ? strdup(name) : NULL;

		s->invalid_names = splice(c->invalid_names, c->invalid, sizeof(char *), at_name,
		                          in_invalid, add_name);
		s->invalid = c->invalid - (size_t)in_invalid + (size_t)add_name;
		if (add_name && (!dup || !s->invalid_names)) {
			free(dup);
			s->invalid = c->invalid;
			s->dropped = NULL;
			goto oom;
		}
		if (add_name)
			s->invalid_names[at_name] = dup;
		if (in_invalid)
			s->dropped_name = c->invalid_names[at_name];
	}
	if (!s->items || !s->invalid_names || snap_index(s) != ZKC_OK) {
		s->dropped = NULL;
		s->dropped_name = NULL;
		goto oom;
	}
	publish(r, s);
	return ZKC_OK;
oom:
	if (s && add_name && s->invalid_names && s->invalid > c->invalid)
		free(s->invalid_names[at_name]);
	snap_free(s, 0);
	ent_free(x);
	return ZKC_ENOMEM;
}

/* One cache event: a child's change goes into the snapshot on its own;
 * anything else (the service node itself, a resync or reset, data not at
 * hand) rebuilds from the whole cache. */
static void apply_event(zkc_service_router_t *r, const zkc_cache_event_t *ev)
{
	const char *name;
	ent_t *x = NULL;
	int invalid = 0, removed;

	if ((ev->type != ZKC_CACHE_ADDED && ev->type != ZKC_CACHE_UPDATED &&
	     ev->type != ZKC_CACHE_REMOVED) || !ev->path ||
	    strncmp(ev->path, r->path, r->path_len) != 0 || ev->path[r->path_len] != '/' ||
	    !r->cur->exists)
		goto full;
	name = ev->path + r->path_len + 1;
	if (!*name || strchr(name, '/'))
		return; /* deeper than the instances: never read */
	removed = ev->type == ZKC_CACHE_REMOVED;
	if (!removed) {
		if (!ev->data)
			goto full;
		x = ent_make(name, ev->data, ev->len, ev->stat, &invalid);
		if (!x && !invalid)
			goto full;
	}
	if (apply_child(r, name, removed, x) == ZKC_OK)
		return;
full:
	rebuild(r); /* on ENOMEM the previous snapshot stays */
}

static void on_cache(zkc_cache_t *cache, const zkc_cache_event_t *ev, void *payload)
{
	zkc_service_router_t *r = payload;

	(void)cache;
	if (ev->type == ZKC_CACHE_SUSPENDED || ev->type == ZKC_CACHE_OVERFLOW)
		return; /* keep answering from what is known */
	pthread_mutex_lock(&r->build_mu);
	if (r->ready)
		apply_event(r, ev);
	pthread_mutex_unlock(&r->build_mu);
}

static void router_free(zkc_service_router_t *r)
{
	snap_free(r->cur, 1);
	free(r->path);
	pthread_rwlock_destroy(&r->lock);
	pthread_mutex_destroy(&r->build_mu);
	free(r);
}

static int router_open_bound(zkc_service_router_t **out, zkc_t *zk, const char *service_path,
                             int timeout_ms);

int zkc_service_router_open(zkc_service_router_t **out, zkc_t *zk, const char *service_path,
                            const zkc_service_router_options_t *opts)
{
	zkc_service_router_options_t o = ZKC_SERVICE_ROUTER_OPTIONS_INIT;
	int64_t prev;
	int rc;

	if (!out)
		return zkc_error_set(ZKC_EBADARGUMENTS, "zkc_service_router_open: out is NULL");
	*out = NULL;
	if (opts)
		o = *opts;
	if (!zk)
		return zkc_error_set(ZKC_EBADARGUMENTS, "zkc_service_router_open: client is NULL");
	if ((rc = zkc_options_version_check("zkc_service_router_open", o.version,
	                                    ZKC_SERVICE_ROUTER_OPTIONS_VERSION)) != ZKC_OK)
		return zkc_error_set(rc, "service %s: %s", service_path ? service_path : "(null)",
		                     zkc_error_last()->message);
	if ((rc = check_service_path(service_path, "zkc_service_router_open")) != ZKC_OK)
		return rc;
	if (o.timeout_ms >= 0 && zkc_on_event_thread(zk))
		return zkc_error_set(ZKC_EDEADLK, "zkc_service_router_open: cannot wait for the first "
		                  "load on the client's event thread");
	if (o.timeout_ms == 0)
		o.timeout_ms = DEFAULT_TIMEOUT_MS;
	/* everything the open waits for ends by its timeout (the first load
	 * itself runs in the background, on the cache's requests) */
	prev = zkcr_deadline_enter_timeout(o.timeout_ms);
	rc = router_open_bound(out, zk, service_path, o.timeout_ms);
	zkc_deadline_bind(prev);
	return rc;
}

/* zkc_service_router_open once its arguments are checked and its
 * deadline bound. */
static int router_open_bound(zkc_service_router_t **out, zkc_t *zk, const char *service_path,
                             int timeout_ms)
{
	zkc_cache_options_t co = ZKC_CACHE_OPTIONS_INIT;
	pthread_rwlockattr_t ra;
	zkc_service_router_t *r;
	int rc;

	r = calloc(1, sizeof(*r));
	if (!r)
		return zkc_error_set(ZKC_ENOMEM, "out of memory");
	r->zk = zk;
	pthread_mutex_init(&r->build_mu, NULL);
	/* routing threads must not starve snapshot swaps */
	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&r->lock, &ra);
	pthread_rwlockattr_destroy(&ra);
	r->path = strdup(service_path);
	r->path_len = strlen(service_path);
	r->cur = calloc(1, sizeof(*r->cur));
	if (!r->path || !r->cur) {
		router_free(r);
		return zkc_error_set(ZKC_ENOMEM, "out of memory");
	}
	co.depth = 1;
	co.event_fn = on_cache;
	co.event_payload = r;
	rc = zkc_cache_open(&r->cache, zk, service_path, &co);
	if (rc != ZKC_OK) {
		router_free(r);
		return rc;
	}
	if (timeout_ms >= 0) {
		rc = zkc_cache_wait_initialized(r->cache, timeout_ms);
		if (rc != ZKC_OK && rc != ZKC_ETOOLARGE) {
			zkc_cache_close(r->cache);
			router_free(r);
			return rc == ZKC_ETIMEDOUT ? zkc_error_set(rc, "service %s: first load not done "
			                                        "in time", service_path) : rc;
		}
	}
	/* From here on every cache event rebuilds; this first build covers
	 * whatever the cache loaded before. */
	pthread_mutex_lock(&r->build_mu);
	r->ready = 1;
	rebuild(r);
	pthread_mutex_unlock(&r->build_mu);
	*out = r;
	return ZKC_OK;
}

void zkc_service_router_close(zkc_service_router_t *r)
{
	if (!r)
		return;
	zkc_cache_close(r->cache);
	router_free(r);
}

static void fill(zkc_service_endpoint_t *out, const zkc_service_entry_t *e)
{
	size_t n = strlen(e->id);

	memcpy(out->id, e->id, n + 1);
	n = strlen(e->address);
	memcpy(out->address, e->address, n + 1);
	out->port = e->port;
	out->weight = e->weight;
}

static int check_route(const void *out, const zkc_service_router_t *r, const void *key,
                       size_t len)
{
	if (!out || !r)
		return zkc_error_set(ZKC_EBADARGUMENTS, "zkc_service_route: %s is NULL",
		                  out ? "router" : "out");
	if (!key || len == 0)
		return zkc_error_set(ZKC_EBADARGUMENTS, "zkc_service_route: empty key");
	return ZKC_OK;
}

/* The winner among s's routable instances for key hash kh: the highest
 * score, ties to the smaller index (the array is in id order). Within one
 * weight class the score grows with the pair's bits (u), so a pass keeps
 * each class's best bits and scores only an instance that comes within
 * CLASS_WINDOW of them: every instance that could win or tie is scored, in
 * index order, and the answer is the one of scoring everyone. */
static size_t winner(const snap_t *s, uint64_t kh)
{
	uint64_t top[MAX_CLASSES];
	double best = -1.0;
	size_t i, win = 0;

	if (!s->classes) {
		for (i = 0; i < s->n; i++) {
			double sc = zkc_service_score(kh, s->id_hash[i], s->weight[i]);

			if (sc > best) {
				best = sc;
				win = i;
			}
		}
		return win;
	}
	memset(top, 0, s->classes * sizeof(*top));
	for (i = 0; i < s->n; i++) {
		uint64_t g = pair_bits(kh, s->id_hash[i]);
		uint64_t *t = &top[s->cls[i]];

		if (g + CLASS_WINDOW >= *t) {
			double sc = score_of_bits(g, s->weight[i]);

			if (g > *t)
				*t = g;
			if (sc > best) {
				best = sc;
				win = i;
			}
		}
	}
	return win;
}

int zkc_service_route(zkc_service_endpoint_t *out, zkc_service_router_t *r, const void *key,
                      size_t len)
{
	uint64_t kh;
	const snap_t *s;
	size_t n;
	int rc;

	if ((rc = check_route(out, r, key, len)) != ZKC_OK)
		return rc;
	kh = zkc_service_hash64(key, len);
	pthread_rwlock_rdlock(&r->lock);
	s = r->cur;
	n = s->n;
	if (n)
		fill(out, &s->items[s->entry[winner(s, kh)]]->e);
	pthread_rwlock_unlock(&r->lock);
	/* s may be freed from here on */
	if (!n)
		return zkc_error_set(ZKC_ENONODE, "service %s: no routable instance", r->path);
	return ZKC_OK;
}

int zkc_service_route_n(zkc_service_endpoint_t *out, size_t *out_count, size_t n,
                        zkc_service_router_t *r, const void *key, size_t len)
{
	double stack_sc[16], *sc = stack_sc;
	size_t stack_ix[16], *ix = stack_ix;
	uint64_t kh;
	const snap_t *s;
	size_t i, k = 0, m;
	int rc;

	if (out_count)
		*out_count = 0;
	if ((rc = check_route(out, r, key, len)) != ZKC_OK)
		return rc;
	if (!out_count || n == 0)
		return zkc_error_set(ZKC_EBADARGUMENTS, "zkc_service_route_n: %s",
		                  out_count ? "n is 0" : "out_count is NULL");
	kh = zkc_service_hash64(key, len);
	pthread_rwlock_rdlock(&r->lock);
	s = r->cur;
	m = n < s->n ? n : s->n;
	if (m > 16) {
		sc = malloc(m * sizeof(*sc));
		ix = malloc(m * sizeof(*ix));
		if (!sc || !ix) {
			pthread_rwlock_unlock(&r->lock);
			if (sc != stack_sc)
				free(sc);
			if (ix != stack_ix)
				free(ix);
			return zkc_error_set(ZKC_ENOMEM, "out of memory");
		}
	}
	/* insertion into the m best so far, best first */
	for (i = 0; i < s->n && m; i++) {
		double v = zkc_service_score(kh, s->id_hash[i], s->weight[i]);
		size_t at;

		if (k == m && v <= sc[k - 1])
			continue;
		at = k < m ? k++ : m - 1;
		while (at > 0 && sc[at - 1] < v) {
			sc[at] = sc[at - 1];
			ix[at] = ix[at - 1];
			at--;
		}
		sc[at] = v;
		ix[at] = i;
	}
	for (i = 0; i < k; i++)
		fill(&out[i], &s->items[s->entry[ix[i]]]->e);
	pthread_rwlock_unlock(&r->lock);
	if (sc != stack_sc)
		free(sc);
	if (ix != stack_ix)
		free(ix);
	*out_count = k;
	if (!k)
		return zkc_error_set(ZKC_ENONODE, "service %s: no routable instance", r->path);
	return ZKC_OK;
}

int zkc_service_router_list(zkc_service_list_t **out, zkc_service_router_t *r)
{
	zkc_service_list_t *l;
	const snap_t *s;
	size_t i;
	int rc = ZKC_OK;

	if (!out || !r)
		return zkc_error_set(ZKC_EBADARGUMENTS, "zkc_service_router_list: NULL argument");
	*out = NULL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return zkc_error_set(ZKC_ENOMEM, "out of memory");
	pthread_rwlock_rdlock(&r->lock);
	s = r->cur;
	if (!s->exists) {
		rc = ZKC_ENONODE;
	} else if (s->count) {
		l->items = calloc(s->count, sizeof(*l->items));
		if (!l->items)
			rc = ZKC_ENOMEM;
	}
	for (i = 0; rc == ZKC_OK && i < s->count; i++) {
		const zkc_service_entry_t *e = &s->items[i]->e;
		zkc_service_entry_t *c = &l->items[i];

		*c = *e;
		c->id = strdup(e->id);
		c->address = strdup(e->address);
		c->metadata = malloc(e->metadata_len + 1);
		l->count++;
		if (!c->id || !c->address || !c->metadata)
			rc = ZKC_ENOMEM;
		else
			memcpy(c->metadata, e->metadata, e->metadata_len + 1);
	}
	l->invalid = s->invalid;
	pthread_rwlock_unlock(&r->lock);
	if (rc != ZKC_OK) {
		zkc_service_list_free(l);
		return rc == ZKC_ENONODE ? zkc_error_set(rc, "service %s does not exist", r->path)
		                         : zkc_error_set(rc, "out of memory");
	}
	*out = l;
	return ZKC_OK;
}

size_t zkc_service_router_count(zkc_service_router_t *r)
{
	size_t n;

	if (!r)
		return 0;
	pthread_rwlock_rdlock(&r->lock);
	n = r->cur->n;
	pthread_rwlock_unlock(&r->lock);
	return n;
}

uint64_t zkc_service_router_generation(zkc_service_router_t *r)
{
	return r ? __atomic_load_n(&r->generation, __ATOMIC_SEQ_CST) : 0;
}

int zkc_service_router_options_init(zkc_service_router_options_t *opts, unsigned int version)
{
	static const zkc_service_router_options_t init = ZKC_SERVICE_ROUTER_OPTIONS_INIT;
	int rc;

	if (!opts)
		return zkc_error_set(ZKC_EBADARGUMENTS, "zkc_service_router_options_init: opts is NULL");
	rc = zkc_options_version_check("zkc_service_router_options_init", (int)version, ZKC_SERVICE_ROUTER_OPTIONS_VERSION);
	if (rc != ZKC_OK)
		return rc;
	*opts = init;
	opts->version = (int)version;
	return ZKC_OK;
}

int zkc_service_instance_init(zkc_service_instance_t *instance, unsigned int version)
{
	static const zkc_service_instance_t init = ZKC_SERVICE_INSTANCE_INIT;
	int rc;

	if (!instance)
		return zkc_error_set(ZKC_EBADARGUMENTS, "zkc_service_instance_init: instance is NULL");
	rc = zkc_options_version_check("zkc_service_instance_init", (int)version, ZKC_SERVICE_INSTANCE_VERSION);
	if (rc != ZKC_OK)
		return rc;
	*instance = init;
	instance->version = (int)version;
	return ZKC_OK;
}
