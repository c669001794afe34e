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
	free(o);
}

/* Lock node data: copied by zkc_lock_open, so a Go buffer may be lent for
 * the call. */
void zkcgo_lock_options_data(zkc_lock_options_t *o, const void *data, size_t len)
{
	o->data = data;
	o->data_len = len;
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

/* An election candidate with its id and step-down policy (the options'
 * id is a borrowed string: zkc copies it at open). */
int zkcgo_election_open(zkc_election_t **out, zkc_t *zk, const char *path, const char *id,
                        int step_down)
{
	zkc_election_options_t o = ZKC_ELECTION_OPTIONS_INIT;

	o.id = id;
	o.step_down = step_down;
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

/* The last error on this thread, message copied (the Go side reads both on
 * the thread that made the call). */
int zkcgo_error_code(void) { return zkc_error_last()->code; }
const char *zkcgo_error_message(void) { return zkc_error_last()->message; }
%}

%include "../zkc.i"
