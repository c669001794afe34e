/* bindings/go/zkc_go.i - the Go side of the SWIG description: the package
 * name, Go typemaps for zkc's out-parameters and byte buffers, and the few
 * Go-shaped helpers SWIG cannot derive; then the shared bindings/zkc.i.
 * `go generate ./...` in bindings/go turns it into internal/capi (the
 * generated files are committed; CI checks they are current). Nothing here
 * is seen by users: the hand-written package zkc sits on top. */
%module capi

%{
#include <poll.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zkc.h>
%}

/* ------------------------------------------------------------ handles
 * TYPE **out: Go passes a *uintptr; the handle comes back as a plain
 * address that the Go layer turns into the typed SWIG pointer. */
%define ZKCGO_HANDLE_OUT(TYPE)
%typemap(gotype) TYPE **out "*uintptr"
%typemap(imtype) TYPE **out "*uintptr"
%typemap(goin) TYPE **out "$result = $input"
%typemap(in) TYPE **out %{ $1 = (TYPE **)$input; %}
%typemap(argout) TYPE **out ""
%typemap(goargout) TYPE **out ""
%enddef

ZKCGO_HANDLE_OUT(zkc_t)
ZKCGO_HANDLE_OUT(zkc_cancel_t)
ZKCGO_HANDLE_OUT(zkc_event_t)
ZKCGO_HANDLE_OUT(zkc_strings_t)
ZKCGO_HANDLE_OUT(zkc_multi_t)
ZKCGO_HANDLE_OUT(zkc_batch_t)
ZKCGO_HANDLE_OUT(zkc_multi_results_t)
ZKCGO_HANDLE_OUT(zkc_lock_t)
ZKCGO_HANDLE_OUT(zkc_rwlock_t)
ZKCGO_HANDLE_OUT(zkc_semaphore_t)
ZKCGO_HANDLE_OUT(zkc_semaphore_lease_t)
ZKCGO_HANDLE_OUT(zkc_counter_t)
ZKCGO_HANDLE_OUT(zkc_queue_t)
ZKCGO_HANDLE_OUT(zkc_queue_item_t)
ZKCGO_HANDLE_OUT(zkc_cache_t)
ZKCGO_HANDLE_OUT(zkc_election_t)
ZKCGO_HANDLE_OUT(zkc_index_t)
ZKCGO_HANDLE_OUT(zkc_double_barrier_t)
ZKCGO_HANDLE_OUT(zkc_pnode_t)
ZKCGO_HANDLE_OUT(zkc_service_reg_t)
ZKCGO_HANDLE_OUT(zkc_service_router_t)

/* ------------------------------------------------------------ strings out
 * char **out*: Go passes a *string holding ""; C leaves a malloc'd copy
 * there and frees zkc's, and the Go side moves it into Go memory. */
%fragment("ZkcgoTakeString", "go_runtime") %{
type zkcgoCString struct {
	p unsafe.Pointer
	n int
}

func zkcgoTakeString(s *string) {
	h := (*zkcgoCString)(unsafe.Pointer(s))
	p, n := h.p, h.n
	if p == nil {
		*s = ""
		return
	}
	*s = string(unsafe.Slice((*byte)(p), n))
	Swig_free(uintptr(p))
}
%}

%define ZKCGO_STRING_OUT(NAME)
%typemap(gotype) char **NAME "*string"
%typemap(imtype) char **NAME "*string"
%typemap(in) char **NAME (char *tmp = NULL) %{ $1 = &tmp; %}
%typemap(argout) char **NAME %{
	if (*$1) {
		size_t l = strlen(*$1);
		$input->p = (char *)malloc(l ? l : 1);
		if ($input->p)
			memcpy($input->p, *$1, l);
		$input->n = $input->p ? (intgo)l : 0;
		zkc_free(*$1);
	} else {
		$input->p = NULL;
		$input->n = 0;
	}
%}
%typemap(goargout, fragment="ZkcgoTakeString") char **NAME %{
	zkcgoTakeString($input)
%}
%enddef

ZKCGO_STRING_OUT(out)
ZKCGO_STRING_OUT(out_path)
ZKCGO_STRING_OUT(out_name)
ZKCGO_STRING_OUT(out_id)

/* node data out: (char **out, size_t *out_len) */
%typemap(gotype) (char **out, size_t *out_len) "*string"
%typemap(imtype) (char **out, size_t *out_len) "*string"
%typemap(in) (char **out, size_t *out_len) (char *tmp = NULL, size_t tmplen = 0) %{
	$1 = &tmp;
	$2 = &tmplen;
%}
%typemap(argout) (char **out, size_t *out_len) %{
	if (*$1) {
		$input->p = (char *)malloc(*$2 ? *$2 : 1);
		if ($input->p)
			memcpy($input->p, *$1, *$2);
		$input->n = $input->p ? (intgo)*$2 : 0;
		zkc_free(*$1);
	} else {
		$input->p = NULL;
		$input->n = 0;
	}
%}
%typemap(goargout, fragment="ZkcgoTakeString") (char **out, size_t *out_len) %{
	zkcgoTakeString($input)
%}

/* ------------------------------------------------------------ bytes in */
%define ZKCGO_BYTES_IN(P, L)
%typemap(gotype) (const void *P, size_t L) "[]byte"
%typemap(imtype) (const void *P, size_t L) "[]byte"
%typemap(in) (const void *P, size_t L) %{
	$1 = ($1_ltype)($input.len ? $input.array : NULL);
	$2 = (size_t)$input.len;
%}
%enddef
ZKCGO_BYTES_IN(data, len)
ZKCGO_BYTES_IN(data, data_len)
ZKCGO_BYTES_IN(key, len)
ZKCGO_BYTES_IN(metadata, metadata_len)
ZKCGO_BYTES_IN(id, id_len)

/* ------------------------------------------------------------ stat out
 * zkc_stat_t *out_stat / *out (in stat positions): a []int64 of
 * ZKCGO_STAT_FIELDS (nil: not wanted). */
%define ZKCGO_STAT_OUT(NAME)
%typemap(gotype) zkc_stat_t *NAME "[]int64"
%typemap(imtype) zkc_stat_t *NAME "[]int64"
%typemap(in) zkc_stat_t *NAME (zkc_stat_t tmp) %{
	$1 = $input.len >= 11 ? &tmp : NULL;
%}
%typemap(argout) zkc_stat_t *NAME %{
	if ($1) {
		long long *o = (long long *)$input.array;
		o[0] = $1->czxid; o[1] = $1->mzxid; o[2] = $1->ctime; o[3] = $1->mtime;
		o[4] = $1->version; o[5] = $1->cversion; o[6] = $1->aversion;
		o[7] = $1->ephemeral_owner; o[8] = $1->data_length;
		o[9] = $1->num_children; o[10] = $1->pzxid;
	}
%}
%enddef
ZKCGO_STAT_OUT(out_stat)
ZKCGO_STAT_OUT(out)

/* ------------------------------------------------------------ numbers out */
%include <typemaps.i>
%apply long long *OUTPUT { int64_t *out_value, int64_t *out_epoch, int64_t *out_current,
                           int64_t *out_id };
%apply int *OUTPUT { int *out_event };
%apply unsigned long long *OUTPUT { size_t *out, size_t *out_taken };

/* ------------------------------------------------------------ callbacks
 * Go never gives C a function: watches go to the client's event queue,
 * carrying a number the Go side routes them by. */
%typemap(gotype) (zkc_watch_fn fn, void *payload) "uintptr"
%typemap(imtype) (zkc_watch_fn fn, void *payload) "uintptr"
%typemap(in) (zkc_watch_fn fn, void *payload) %{
	$1 = NULL;
	$2 = (void *)$input;
%}

/* ------------------------------------------------------------ private
 * C-only helpers of the %inline functions below (not wrapped). Ids,
 * values and records cross as packed bytes: each string a 32-bit
 * little-endian length then its bytes (0xffffffff: none), so any byte,
 * NUL included, passes both ways without a struct per item. */
%{
static char *zkcgo_dup(const char *s) { return s && *s ? strdup(s) : NULL; }

typedef struct zkcgo_buf {
	unsigned char *p;
	size_t len, cap;
	int failed;
} zkcgo_buf_t;

static void zkcgo_buf_add(zkcgo_buf_t *b, const void *d, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		unsigned char *p;

		while (cap < b->len + n)
			cap *= 2;
		if (!(p = realloc(b->p, cap))) {
			b->failed = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

static void zkcgo_buf_u32(zkcgo_buf_t *b, uint32_t v)
{
	unsigned char c[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24 };

	zkcgo_buf_add(b, c, 4);
}

static void zkcgo_buf_str(zkcgo_buf_t *b, const char *s, size_t n)
{
	if (!s) {
		zkcgo_buf_u32(b, 0xffffffffu);
		return;
	}
	zkcgo_buf_u32(b, (uint32_t)n);
	zkcgo_buf_add(b, s, n);
}

/* Hands the buffer to the (char **out, size_t *out_len) typemap. */
static int zkcgo_buf_out(char **out, size_t *out_len, zkcgo_buf_t *b)
{
	if (b->failed) {
		free(b->p);
		return ZKC_ENOMEM;
	}
	*out = (char *)b->p;
	*out_len = b->len;
	if (!*out)
		*out = calloc(1, 1);
	return *out ? ZKC_OK : ZKC_ENOMEM;
}

static int zkcgo_rd(const unsigned char **p, const unsigned char *end, const unsigned char **s,
                    size_t *n)
{
	uint32_t v;

	if (end - *p < 4)
		return -1;
	v = (uint32_t)(*p)[0] | (uint32_t)(*p)[1] << 8 | (uint32_t)(*p)[2] << 16 |
	    (uint32_t)(*p)[3] << 24;
	*p += 4;
	if ((size_t)(end - *p) < v)
		return -1;
	*s = *p;
	*n = v;
	*p += v;
	return 0;
}

/* Decodes packed (name, value) pairs into kv entries whose names are
 * NUL-terminated copies in one block; values point into `packed`. */
static int zkcgo_kvs(zkc_index_kv_t **out_kv, char **out_names, size_t *out_n,
                     const void *packed, size_t packed_len)
{
	const unsigned char *p = packed, *end = p + packed_len, *s;
	size_t n = 0, names = 0, len, i;
	zkc_index_kv_t *kv;
	char *block, *at;

	*out_kv = NULL;
	*out_names = NULL;
	*out_n = 0;
	while (p < end) {
		if (zkcgo_rd(&p, end, &s, &len) != 0)
			return ZKC_EBADARGUMENTS;
		names += len + 1;
		if (zkcgo_rd(&p, end, &s, &len) != 0)
			return ZKC_EBADARGUMENTS;
		n++;
	}
	if (n == 0)
		return ZKC_OK;
	kv = calloc(n, sizeof(*kv));
	block = malloc(names);
	if (!kv || !block) {
		free(kv);
		free(block);
		return ZKC_ENOMEM;
	}
	p = packed;
	at = block;
	for (i = 0; i < n; i++) {
		zkcgo_rd(&p, end, &s, &len);
		memcpy(at, s, len);
		at[len] = '\0';
		kv[i].name = at;
		at += len + 1;
		zkcgo_rd(&p, end, &s, &len);
		kv[i].value = s;
		kv[i].len = len;
	}
	*out_kv = kv;
	*out_names = block;
	*out_n = n;
	return ZKC_OK;
}

%}

/* ------------------------------------------------------------ helpers
 * Shapes the public API has that SWIG maps badly: waiting on two file
 * descriptors (the client's event fd and the binding's stop pipe), event
 * and item fields that are binary, and string lists. */
%inline %{
/* Waits until fd or stop_fd is readable: 1 fd, 2 stop, 0 timeout, <0 error. */
int zkcgo_wait2(int fd, int stop_fd, int timeout_ms)
{
	struct pollfd p[2];
	int n;

	p[0].fd = fd;
	p[0].events = POLLIN;
	p[1].fd = stop_fd;
	p[1].events = POLLIN;
	do
		n = poll(p, 2, timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if (n == 0)
		return 0;
	if (p[1].revents)
		return 2;
	return 1;
}

size_t zkcgo_strings_count(const zkc_strings_t *l) { return l ? l->count : 0; }
const char *zkcgo_strings_item(const zkc_strings_t *l, size_t i)
{
	return l && i < l->count ? l->items[i] : "";
}

/* A queued item's data as bytes. */
void zkcgo_item_data(char **out, size_t *out_len, const zkc_queue_item_t *it)
{
	*out = NULL;
	*out_len = 0;
	if (it && it->data && (*out = malloc(it->len ? it->len : 1)) != NULL) {
		memcpy(*out, it->data, it->len);
		*out_len = it->len;
	}
}

/* Frees an options struct whose string members were set through SWIG's
 * setters (they malloc a copy and never free it). */
void zkcgo_options_release(zkc_options_t *o)
{
	if (!o)
		return;
	free((void *)o->chroot);
	free((void *)o->digest);
	if (o->tls) {
		free((void *)o->tls->ca_file);
		free((void *)o->tls->cert_file);
		free((void *)o->tls->key_file);
		free((void *)o->tls->key_password);
		free((void *)o->tls->server_name);
		free((void *)o->tls);
	}
	free(o);
}

/* Lock node data: a C copy, because the options outlive the cgo call that
 * sets them (cgo forbids Go memory kept in C memory between calls).
 * zkcgo_lock_options_data_free releases it once the open has copied it.
 * Returns ZKC_ENOMEM when the copy cannot be made. */
int zkcgo_lock_options_data(zkc_lock_options_t *o, const void *data, size_t len)
{
	void *copy = NULL;

	if (len) {
		if (!(copy = malloc(len)))
			return zkc_error_set(ZKC_ENOMEM, "out of memory");
		memcpy(copy, data, len);
	}
	free((void *)o->data);
	o->data = copy;
	o->data_len = len;
	return ZKC_OK;
}

void zkcgo_lock_options_data_free(zkc_lock_options_t *o)
{
	free((void *)o->data);
	o->data = NULL;
	o->data_len = 0;
}

/* Transaction results, by index. */
size_t zkcgo_multi_count(const zkc_multi_results_t *r) { return r ? r->count : 0; }
int zkcgo_multi_code(const zkc_multi_results_t *r, size_t i)
{
	return r && i < r->count ? r->results[i].code : ZKC_EBADARGUMENTS;
}
const char *zkcgo_multi_path(const zkc_multi_results_t *r, size_t i)
{
	return r && i < r->count && r->results[i].path ? r->results[i].path : "";
}

/* Queue ack and release from the item's name and session (what the Go
 * side keeps of a taken item). */
int zkcgo_queue_ack(zkc_queue_t *q, const char *name, int64_t session_id, int release)
{
	zkc_queue_item_t it;

	memset(&it, 0, sizeof(it));
	it.name = (char *)name;
	it.data = (char *)"";
	it.session_id = session_id;
	return release ? zkc_queue_release(q, &it) : zkc_queue_ack(q, &it);
}

/* An election candidate with its id, step-down policy and ACL (the options'
 * id is a borrowed string: zkc copies it at open). */
int zkcgo_election_open(zkc_election_t **out, zkc_t *zk, const char *path, const char *id,
                        int step_down, const zkc_acl_list_t *acl)
{
	zkc_election_options_t o = ZKC_ELECTION_OPTIONS_INIT;

	o.id = id;
	o.step_down = step_down;
	o.acl = acl;    /* copied by zkc_election_open; NULL = the client's */
	return zkc_election_open(out, zk, path, &o);
}

/* A double barrier participant; an empty id means a random one. */
int zkcgo_double_barrier_open(zkc_double_barrier_t **out, zkc_t *zk, const char *path, int count,
                              const char *id)
{
	return zkc_double_barrier_open(out, zk, path, count, id && *id ? id : NULL);
}

/* A service registration from plain arguments (the instance struct's
 * strings are borrowed: zkc copies them at registration). */
int zkcgo_service_register(zkc_service_reg_t **out, zkc_t *zk, const char *service_path,
                           const char *id, const char *address, int port, int weight,
                           int draining, const void *metadata, size_t metadata_len,
                           int replace)
{
	zkc_service_instance_t in = ZKC_SERVICE_INSTANCE_INIT;

	in.id = id;
	in.address = address;
	in.port = port;
	in.weight = weight;
	in.draining = draining;
	in.metadata = metadata_len ? (const char *)metadata : NULL;
	in.metadata_len = metadata_len;
	in.replace = replace;
	return zkc_service_reg_open(out, zk, service_path, &in);
}

int zkcgo_router_open(zkc_service_router_t **out, zkc_t *zk, const char *service_path)
{
	zkc_service_router_options_t o = ZKC_SERVICE_ROUTER_OPTIONS_INIT;

	return zkc_service_router_open(out, zk, service_path, &o);
}

/* A batch op's data as bytes (zkc_batch_data's buffer belongs to the
 * batch and may hold NULs). */
void zkcgo_batch_data(char **out, size_t *out_len, const zkc_batch_t *b, size_t i)
{
	size_t len = 0;
	const char *d = zkc_batch_data(b, i, &len);

	*out = NULL;
	*out_len = 0;
	if (d && (*out = malloc(len ? len : 1)) != NULL) {
		memcpy(*out, d, len);
		*out_len = len;
	}
}

/* zkc_open with the URL from $ZKC_URL (Go strings cannot be NULL). */
int zkcgo_open_env(zkc_t **out, const zkc_options_t *opts)
{
	return zkc_open(out, NULL, opts);
}

/* TLS options for zkc_open: the strings are copied here and freed with the
 * options by zkcgo_options_release; "" means not set. */

int zkcgo_options_tls(zkc_options_t *o, const char *ca_file, const char *cert_file,
                      const char *key_file, const char *key_password, const char *server_name,
                      int verify_host)
{
	zkc_tls_options_t *t = calloc(1, sizeof(*t));

	if (!t || zkc_tls_options_init(t, ZKC_TLS_OPTIONS_VERSION) != ZKC_OK) {
		free(t);
		return ZKC_ENOMEM;
	}
	t->ca_file = zkcgo_dup(ca_file);
	t->cert_file = zkcgo_dup(cert_file);
	t->key_file = zkcgo_dup(key_file);
	t->key_password = zkcgo_dup(key_password);
	t->server_name = zkcgo_dup(server_name);
	t->verify_host = verify_host;
	o->tls = t;
	return ZKC_OK;
}

/* ACL lists built from Go: entries set one by one (strings copied), freed
 * with zkcgo_acl_free. */
zkc_acl_list_t *zkcgo_acl_new(int count)
{
	zkc_acl_list_t *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	if (count > 0 && !(l->acls = calloc((size_t)count, sizeof(zkc_acl_t)))) {
		free(l);
		return NULL;
	}
	l->count = count;
	return l;
}

int zkcgo_acl_set(zkc_acl_list_t *l, int i, int perms, const char *scheme, const char *id)
{
	zkc_acl_t *a;

	if (!l || i < 0 || i >= l->count)
		return ZKC_EBADARGUMENTS;
	a = (zkc_acl_t *)&l->acls[i];
	a->perms = perms;
	a->scheme = strdup(scheme ? scheme : "");
	a->id = strdup(id ? id : "");
	return a->scheme && a->id ? ZKC_OK : ZKC_ENOMEM;
}

void zkcgo_acl_free(zkc_acl_list_t *l)
{
	if (!l)
		return;
	for (int i = 0; i < l->count; i++) {
		free((void *)l->acls[i].scheme);
		free((void *)l->acls[i].id);
	}
	free((void *)l->acls);
	free(l);
}

/* An ACL list as zkc_acl_get returns it, by index. */
int zkcgo_acl_count(const zkc_acl_list_t *l) { return l ? l->count : 0; }
int zkcgo_acl_perms(const zkc_acl_list_t *l, int i)
{
	return l && i >= 0 && i < l->count ? l->acls[i].perms : 0;
}
const char *zkcgo_acl_scheme(const zkc_acl_list_t *l, int i)
{
	return l && i >= 0 && i < l->count && l->acls[i].scheme ? l->acls[i].scheme : "";
}
const char *zkcgo_acl_id(const zkc_acl_list_t *l, int i)
{
	return l && i >= 0 && i < l->count && l->acls[i].id ? l->acls[i].id : "";
}

/* zkc_acl_get into a list the Go side reads by index and frees. */
zkc_acl_list_t *zkcgo_acl_get(int *out_event, zkc_stat_t *out_stat, zkc_t *zk, const char *path)
{
	zkc_acl_list_t *l = NULL;

	*out_event = zkc_acl_get(&l, out_stat, zk, path);
	return l;
}

/* ------------------------------------------------------------ index
 * (packed bytes, see the private helpers above) */
/* The schema: packed (name, flags) pairs, the flags as the value's one
 * byte (0 or ZKC_INDEX_UNIQUE). */
int zkcgo_index_create(zkc_t *zk, const char *path, const void *data, size_t data_len)
{
	zkc_index_kv_t *kv;
	zkc_index_field_t *f;
	char *names;
	size_t n, i;
	int rc;

	if ((rc = zkcgo_kvs(&kv, &names, &n, data, data_len)) != ZKC_OK)
		return rc;
	if (!(f = calloc(n ? n : 1, sizeof(*f)))) {
		free(kv);
		free(names);
		return ZKC_ENOMEM;
	}
	for (i = 0; i < n; i++) {
		f[i].name = kv[i].name;
		f[i].flags = kv[i].len ? ((const unsigned char *)kv[i].value)[0] : 0;
	}
	rc = zkc_index_create(zk, path, f, n);
	free(f);
	free(kv);
	free(names);
	return rc;
}

int zkcgo_index_open(zkc_index_t **out, zkc_t *zk, const char *path, int cache,
                     int cache_records, int timeout_ms)
{
	zkc_index_options_t o = ZKC_INDEX_OPTIONS_INIT;

	o.cache = cache;
	o.cache_records = cache_records;
	o.timeout_ms = timeout_ms;
	return zkc_index_open(out, zk, path, &o);
}

/* The schema as packed (name, flags byte) pairs. */
int zkcgo_index_fields(char **out, size_t *out_len, const zkc_index_t *ix)
{
	zkcgo_buf_t b = { 0 };
	size_t i, n = zkc_index_field_count(ix);

	for (i = 0; i < n; i++) {
		const char *name = NULL;
		int flags = 0;
		unsigned char fl;

		if (zkc_index_field_at(&name, &flags, ix, i) != ZKC_OK)
			continue;
		fl = (unsigned char)flags;
		zkcgo_buf_str(&b, name, strlen(name));
		zkcgo_buf_str(&b, (const char *)&fl, 1);
	}
	return zkcgo_buf_out(out, out_len, &b);
}

/* key = the record id, metadata = packed (field, value) pairs. */
int zkcgo_index_put(zkc_index_t *ix, const void *key, size_t len, const void *data,
                    size_t data_len, const void *metadata, size_t metadata_len, int flags)
{
	zkc_index_kv_t *kv;
	char *names;
	size_t n;
	int rc;

	if ((rc = zkcgo_kvs(&kv, &names, &n, metadata, metadata_len)) != ZKC_OK)
		return rc;
	rc = zkc_index_put(ix, key, len, data_len ? data : "", data_len, kv, n, flags);
	free(kv);
	free(names);
	return rc;
}

/* A record, packed: version, id, data, then (field, value) pairs. */
int zkcgo_index_get(char **out, size_t *out_len, zkc_index_t *ix, const void *key, size_t len,
                    int flags)
{
	zkc_index_record_t *r = NULL;
	zkcgo_buf_t b = { 0 };
	size_t i;
	int rc = zkc_index_get(&r, ix, key, len, flags);

	if (rc != ZKC_OK)
		return rc;
	zkcgo_buf_u32(&b, (uint32_t)r->version);
	zkcgo_buf_str(&b, r->id, r->id_len);
	zkcgo_buf_str(&b, r->data, r->len);
	for (i = 0; i < r->nfields; i++) {
		zkcgo_buf_str(&b, r->fields[i].name, strlen(r->fields[i].name));
		zkcgo_buf_str(&b, r->fields[i].value, r->fields[i].len);
	}
	zkc_index_record_free(r);
	return zkcgo_buf_out(out, out_len, &b);
}

/* Lookups, packed as (id, value) pairs. kind 0 find, 1 prefix, 2 range
 * (key..data; has_hi 0 = no upper bound). */
int zkcgo_index_lookup(char **out, size_t *out_len, zkc_index_t *ix, int kind, const char *field,
                       const void *key, size_t len, const void *data, size_t data_len,
                       int has_hi, int limit, int flags)
{
	zkc_index_hits_t *h = NULL;
	zkcgo_buf_t b = { 0 };
	size_t i, lim = limit > 0 ? (size_t)limit : 0;
	const void *v = len ? key : "";
	int rc;

	if (kind == 0)
		rc = zkc_index_find(&h, ix, field, v, len, lim, flags);
	else if (kind == 1)
		rc = zkc_index_prefix(&h, ix, field, v, len, lim, flags);
	else
		rc = zkc_index_range(&h, ix, field, v, len, has_hi ? (data_len ? data : "") : NULL,
		                     data_len, lim, flags);
	if (rc != ZKC_OK)
		return rc;
	for (i = 0; i < h->count; i++) {
		zkcgo_buf_str(&b, h->items[i].id, h->items[i].id_len);
		zkcgo_buf_str(&b, h->items[i].value, h->items[i].value_len);
	}
	zkc_index_hits_free(h);
	return zkcgo_buf_out(out, out_len, &b);
}

/* verify (repair 0) or rebuild (repair 1), the report packed: records,
 * entries, repaired, then per issue kind, version, field, value, id, path. */
int zkcgo_index_check(char **out, size_t *out_len, zkc_index_t *ix, int repair)
{
	zkc_index_report_t *r = NULL;
	zkcgo_buf_t b = { 0 };
	size_t i;
	int rc = repair ? zkc_index_rebuild(&r, ix) : zkc_index_verify(&r, ix);

	if (!r)
		return rc != ZKC_OK ? rc : ZKC_ENOMEM;
	zkcgo_buf_u32(&b, (uint32_t)r->records);
	zkcgo_buf_u32(&b, (uint32_t)r->entries);
	zkcgo_buf_u32(&b, (uint32_t)r->repaired);
	for (i = 0; i < r->count; i++) {
		zkc_index_issue_t *is = &r->issues[i];

		zkcgo_buf_u32(&b, (uint32_t)is->kind);
		zkcgo_buf_u32(&b, (uint32_t)is->version);
		zkcgo_buf_str(&b, is->field, is->field ? strlen(is->field) : 0);
		zkcgo_buf_str(&b, is->value, is->value_len);
		zkcgo_buf_str(&b, is->id, is->id_len);
		zkcgo_buf_str(&b, is->path, is->path ? strlen(is->path) : 0);
	}
	zkc_index_report_free(r);
	if (rc != ZKC_OK) {
		free(b.p);
		return rc;
	}
	return zkcgo_buf_out(out, out_len, &b);
}

/* The last error on this thread, message copied (the Go side reads both on
 * the thread that made the call). */
int zkcgo_error_code(void) { return zkc_error_last()->code; }
const char *zkcgo_error_message(void) { return zkc_error_last()->message; }

/* What a blocking call binds to its OS thread, in one cgo call: the cancel
 * token c and, when in_ms >= 0, the deadline in_ms from now on
 * zkc_clock_ms's clock (the Go side never nests bindings, so no result:
 * a call's bind and unbind allocate nothing on the Go side). */
void zkcgo_call_bind(zkc_cancel_t *c, int64_t in_ms)
{
	(void)zkc_cancel_bind(c);
	if (in_ms >= 0)
		(void)zkc_deadline_bind(zkc_clock_ms() + in_ms);
}

/* Unbinds what zkcgo_call_bind bound. */
void zkcgo_call_unbind(void)
{
	(void)zkc_cancel_bind(NULL);
	(void)zkc_deadline_bind(ZKC_NO_DEADLINE);
}
%}

%include "../zkc.i"
