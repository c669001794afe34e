/* bindings/python/zkc_python.i - the Python side of the SWIG binding: module
 * name, typemaps (out-parameters become return values, byte buffers become
 * bytes, failures become zkc.Error subclasses) and the few helpers whose
 * shapes the C API does not give directly. It includes the language-neutral
 * bindings/zkc.i last. Built with `swig -python -threads -noproxy`: every
 * wrapped call releases the GIL while C runs, and the idiomatic layer
 * (zkc/*.py) calls the generated functions directly. */

%module(package="zkc") _zkc_c

%{
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>
#include <zkc.h>

/* Set once by zkc/_errors.py at import: a callable (code, message) ->
 * exception instance, and the ZnodeStat type built from 11 ints. */
static PyObject *zkc_py_error_factory = NULL;
static PyObject *zkc_py_stat_type = NULL;

/* Raises the exception for a zkc code; the detail comes from the calling
 * thread's zkc_error_last(), read before anything else can overwrite it. */
static void zkc_py_raise(int code)
{
	const zkc_error_t *e = zkc_error_last();
	const char *msg = (e && e->code == code && e->message && e->message[0]) ? e->message
	                                                                   : zkc_strerror(code);
	if (!zkc_py_error_factory) {
		PyErr_Format(PyExc_RuntimeError, "%s: %s", zkc_strcode(code), msg);
		return;
	}
	PyObject *exc = PyObject_CallFunction(zkc_py_error_factory, "is", code, msg);
	if (!exc)
		return;
	PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
	Py_DECREF(exc);
}

/* Output values are collected in a tuple, whatever their own type. */
static PyObject *zkc_py_append(PyObject *result, PyObject *obj)
{
	if (!obj) {
		Py_XDECREF(result);
		return NULL;
	}
	if (!result && !(result = PyTuple_New(0))) {
		Py_DECREF(obj);
		return NULL;
	}
	Py_ssize_t n = PyTuple_GET_SIZE(result);
	PyObject *t = PyTuple_New(n + 1);
	if (!t) {
		Py_DECREF(obj);
		Py_DECREF(result);
		return NULL;
	}
	for (Py_ssize_t i = 0; i < n; i++) {
		PyObject *it = PyTuple_GET_ITEM(result, i);
		Py_INCREF(it);
		PyTuple_SET_ITEM(t, i, it);
	}
	PyTuple_SET_ITEM(t, n, obj);
	Py_DECREF(result);
	return t;
}

static PyObject *zkc_py_str(const char *s)
{
	if (!s)
		Py_RETURN_NONE;
	return PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "surrogateescape");
}

static PyObject *zkc_py_stat(const zkc_stat_t *st)
{
	if (!st)
		Py_RETURN_NONE;
	PyObject *args = Py_BuildValue("(LLLLiiiLiiL)", (long long)st->czxid, (long long)st->mzxid,
	                               (long long)st->ctime, (long long)st->mtime, (int)st->version,
	                               (int)st->cversion, (int)st->aversion,
	                               (long long)st->ephemeral_owner, (int)st->data_length,
	                               (int)st->num_children, (long long)st->pzxid);
	if (!args || !zkc_py_stat_type)
		return args;
	PyObject *r = PyObject_Call(zkc_py_stat_type, args, NULL);
	Py_DECREF(args);
	return r;
}

static PyObject *zkc_py_strings(const zkc_strings_t *l)
{
	if (!l)
		return PyList_New(0);
	PyObject *list = PyList_New((Py_ssize_t)l->count);
	for (size_t i = 0; list && i < l->count; i++) {
		PyObject *s = zkc_py_str(l->items[i]);
		if (!s) {
			Py_DECREF(list);
			return NULL;
		}
		PyList_SET_ITEM(list, (Py_ssize_t)i, s);
	}
	return list;
}

/* A str argument as UTF-8 borrowed from the object (no copy); embedded NUL
 * bytes are refused, since C would silently cut the string there. */
static int zkc_py_cstr(PyObject *o, const char **out, const char *what)
{
	if (o == Py_None) {
		*out = NULL;
		return 0;
	}
	if (!PyUnicode_Check(o)) {
		PyErr_Format(PyExc_TypeError, "%s must be str, not %.100s", what, Py_TYPE(o)->tp_name);
		return -1;
	}
	Py_ssize_t n;
	const char *s = PyUnicode_AsUTF8AndSize(o, &n);
	if (!s)
		return -1;
	if ((size_t)n != strlen(s)) {
		PyErr_Format(PyExc_ValueError, "%s must not contain NUL characters", what);
		return -1;
	}
	*out = s;
	return 0;
}

/* A bytes-like argument (bytes, bytearray, memoryview, ...); str is refused
 * so text never reaches a node without an explicit encoding. */
static int zkc_py_buffer(PyObject *o, Py_buffer *view, const char *what)
{
	if (PyUnicode_Check(o)) {
		PyErr_Format(PyExc_TypeError, "%s must be bytes-like, not str (encode it first)", what);
		return -1;
	}
	if (PyObject_GetBuffer(o, view, PyBUF_SIMPLE) < 0) {
		PyErr_Clear();
		PyErr_Format(PyExc_TypeError, "%s must be bytes-like, not %.100s", what,
		             Py_TYPE(o)->tp_name);
		return -1;
	}
	return 0;
}
%}

/* ------------------------------------------------------------ return codes */

/* Functions returning a zkc code: raise on failure; on success the result
 * is the tuple of their out-parameters (empty when there are none). */
%typemap(out) int {
	if ($1 < 0) {
		zkc_py_raise($1);
		SWIG_fail;
	}
	$result = PyTuple_New(0);
}

/* Functions returning a plain int (a state, an fd, a flag). */
%typemap(out) int ZKC_PLAIN {
	$result = PyLong_FromLong((long)$1);
}
%apply int ZKC_PLAIN {
	int zkc_state, int zkc_on_event_thread, int zkc_events_fd, int zkc_retry_backoff_ms,
	int zkc_lock_valid, int zkc_lock_events_fd, int zkc_election_events_fd, int zkc_batch_code,
	int zkc_semaphore_lease_valid, int zkc_cache_status, int zkc_cancel_fired,
	int zkc_testing_open_clients,
	int version, int session_timeout_ms, int connect_timeout_ms, int log_level, int base_ms,
	int max_ms, int max_attempts, int deadline_ms, int verify_host, int mode, int flags,
	int depth, int data, int events, int shards, int timeout_ms, int bucket_size, int cache,
	int cache_records, int count, int code, int type, int state, int perms, int port,
	int weight, int draining, int replace, int step_down, int priority, int kind
};

/* Functions whose code is a result, not a failure: (code, outputs...). */
%typemap(out) int ZKC_CODE_TUPLE {
	$result = Py_BuildValue("(i)", (int)$1);
}
%apply int ZKC_CODE_TUPLE {
	int zkc_events_next, int zkc_lock_events_next, int zkc_multi_commit, int zkc_queue_take,
	int zkc_election_is_leader, int zkc_election_events_next, int zkc_completions_next
};

/* Batch op adders return the op's index (zkc_completions_fd: the fd), or a
 * negative code. */
%typemap(out) int ZKC_INDEX {
	if ($1 < 0) {
		zkc_py_raise($1);
		SWIG_fail;
	}
	$result = PyLong_FromLong((long)$1);
}
%apply int ZKC_INDEX {
	int zkc_batch_get, int zkc_batch_exists, int zkc_batch_children, int zkc_batch_create,
	int zkc_batch_set, int zkc_batch_delete, int zkc_batch_sync, int zkc_batch_get_acl,
	int zkc_completions_fd
};

/* ------------------------------------------------------------ inputs */

%typemap(in) const char * {
	if (zkc_py_cstr($input, (const char **)&$1, "$1_name") < 0)
		SWIG_fail;
}
%typemap(freearg) const char * ""

/* String members of option structs borrow their pointers; from Python
 * they are passed as arguments of the zkc_py_* helpers instead. */
%typemap(memberin) const char * {
	(void)$input;
	SWIG_exception_fail(SWIG_AttributeError, "string members are set through the zkc module");
}
%typemap(typecheck, precedence=SWIG_TYPECHECK_STRING) const char * {
	$1 = ($input == Py_None || PyUnicode_Check($input)) ? 1 : 0;
}

%define ZKC_PY_BYTES_IN(PTR, LEN)
%typemap(in) (const void *PTR, size_t LEN) (Py_buffer view, int have_view = 0) {
	if ($input == Py_None) {
		$1 = NULL;
		$2 = 0;
	} else {
		if (zkc_py_buffer($input, &view, "PTR") < 0)
			SWIG_fail;
		have_view = 1;
		$1 = view.buf;
		$2 = (size_t)view.len;
	}
}
%typemap(freearg) (const void *PTR, size_t LEN) {
	if (have_view$argnum)
		PyBuffer_Release(&view$argnum);
}
%enddef
ZKC_PY_BYTES_IN(data, len)
ZKC_PY_BYTES_IN(id, id_len)
ZKC_PY_BYTES_IN(value, len)
ZKC_PY_BYTES_IN(key, len)
ZKC_PY_BYTES_IN(prefix, len)
ZKC_PY_BYTES_IN(lo, lo_len)
ZKC_PY_BYTES_IN(hi, hi_len)

/* Watches and async completions land in the event queue (fn NULL); the
 * payload is an integer token the Python layer maps back to its waiter. */
%typemap(in, numinputs=0) zkc_watch_fn fn "$1 = NULL;"
%typemap(in) void *payload {
	$1 = PyLong_AsVoidPtr($input);
	if (!$1 && PyErr_Occurred())
		SWIG_fail;
}

/* ------------------------------------------------------------ outputs */

/* Opaque handles: a pointer object the Python layer owns and closes. */
%typemap(in, numinputs=0) SWIGTYPE **out ($*1_ltype tmp = NULL) "$1 = &tmp;"
%typemap(argout) SWIGTYPE **out {
	$result = zkc_py_append($result, SWIG_NewPointerObj((void *)tmp$argnum, $*1_descriptor, 0));
}

/* Strings the caller frees. */
%define ZKC_PY_STR_OUT(NAME)
%typemap(in, numinputs=0) char **NAME (char *tmp = NULL) "$1 = &tmp;"
%typemap(argout) char **NAME {
	$result = zkc_py_append($result, zkc_py_str(tmp$argnum));
}
%typemap(freearg) char **NAME "zkc_free(tmp$argnum);"
%enddef
ZKC_PY_STR_OUT(out)
ZKC_PY_STR_OUT(out_path)
ZKC_PY_STR_OUT(out_id)
ZKC_PY_STR_OUT(out_name)

%typemap(in, numinputs=0) const char **out_name (const char *tmp = NULL) "$1 = ($1_ltype)(void *)&tmp;"
%typemap(argout) const char **out_name {
	$result = zkc_py_append($result, zkc_py_str(tmp$argnum));
}
%typemap(freearg) const char **out_name ""

/* Data buffers the caller frees: bytes. */
%typemap(in, numinputs=0) (char **out, size_t *out_len) (char *tmp = NULL, size_t tmplen = 0) {
	$1 = &tmp;
	$2 = &tmplen;
}
%typemap(argout) (char **out, size_t *out_len) {
	$result = zkc_py_append($result, tmp$argnum ? PyBytes_FromStringAndSize(tmp$argnum,
	                                  (Py_ssize_t)tmplen$argnum) : (Py_INCREF(Py_None), Py_None));
}
%typemap(freearg) (char **out, size_t *out_len) "zkc_free(tmp$argnum);"

/* Stats. */
%typemap(in, numinputs=0) zkc_stat_t *out_stat (zkc_stat_t tmp), zkc_stat_t *out (zkc_stat_t tmp) {
	memset(&tmp, 0, sizeof tmp);
	$1 = &tmp;
}
%typemap(argout) zkc_stat_t *out_stat, zkc_stat_t *out {
	$result = zkc_py_append($result, zkc_py_stat($1));
}

/* Lists of names. */
%typemap(in, numinputs=0) zkc_strings_t **out (zkc_strings_t *tmp = NULL) "$1 = &tmp;"
%typemap(argout) zkc_strings_t **out {
	$result = zkc_py_append($result, zkc_py_strings(tmp$argnum));
}
%typemap(freearg) zkc_strings_t **out "zkc_strings_free(tmp$argnum);"

/* Numbers. */
%define ZKC_PY_NUM_OUT(TYPE, NAME, CONV)
%typemap(in, numinputs=0) TYPE *NAME (TYPE tmp = 0) "$1 = &tmp;"
%typemap(argout) TYPE *NAME {
	$result = zkc_py_append($result, CONV(tmp$argnum));
}
%enddef
ZKC_PY_NUM_OUT(int64_t, out, PyLong_FromLongLong)
ZKC_PY_NUM_OUT(int64_t, out_value, PyLong_FromLongLong)
ZKC_PY_NUM_OUT(int64_t, out_current, PyLong_FromLongLong)
ZKC_PY_NUM_OUT(int64_t, out_epoch, PyLong_FromLongLong)
ZKC_PY_NUM_OUT(int64_t, out_id, PyLong_FromLongLong)
ZKC_PY_NUM_OUT(int, out_event, PyLong_FromLong)
ZKC_PY_NUM_OUT(int, out_flags, PyLong_FromLong)
ZKC_PY_NUM_OUT(int, out_id, PyLong_FromLong)
ZKC_PY_NUM_OUT(size_t, out, PyLong_FromSize_t)
ZKC_PY_NUM_OUT(size_t, out_taken, PyLong_FromSize_t)
ZKC_PY_NUM_OUT(uint64_t, out_tag, PyLong_FromUnsignedLongLong)

/* The session: (id, timeout_ms, password bytes). */
%typemap(in, numinputs=0) zkc_session_info_t *out (zkc_session_info_t tmp) {
	memset(&tmp, 0, sizeof tmp);
	$1 = &tmp;
}
%typemap(argout) zkc_session_info_t *out {
	$result = zkc_py_append($result, Py_BuildValue("(Liy#)", (long long)$1->id, $1->timeout_ms,
	                                               (const char *)$1->passwd,
	                                               (Py_ssize_t)$1->passwd_len));
}

/* Events from the queue: (type, state, path, session_id, payload) or None. */
%typemap(in, numinputs=0) zkc_event_t **out (zkc_event_t *tmp = NULL) "$1 = &tmp;"
%typemap(argout) zkc_event_t **out {
	zkc_event_t *ev = tmp$argnum;
	$result = zkc_py_append($result, !ev ? (Py_INCREF(Py_None), Py_None)
		: Py_BuildValue("(iiNLN)", ev->type, ev->state, zkc_py_str(ev->path),
		                (long long)ev->session_id, PyLong_FromVoidPtr(ev->payload)));
}
%typemap(freearg) zkc_event_t **out "zkc_event_free(tmp$argnum);"

/* Transaction results: [(code, path, stat), ...], also on an op failure. */
%typemap(in, numinputs=0) zkc_multi_results_t **out (zkc_multi_results_t *tmp = NULL) "$1 = &tmp;"
%typemap(argout) zkc_multi_results_t **out {
	zkc_multi_results_t *r = tmp$argnum;
	PyObject *list = PyList_New(0);
	for (size_t i = 0; list && r && i < r->count; i++) {
		PyObject *it = Py_BuildValue("(iNN)", r->results[i].code, zkc_py_str(r->results[i].path),
		                             zkc_py_stat(&r->results[i].stat));
		if (!it || PyList_Append(list, it) < 0) {
			Py_XDECREF(it);
			Py_CLEAR(list);
			break;
		}
		Py_DECREF(it);
	}
	$result = zkc_py_append($result, list);
}
%typemap(freearg) zkc_multi_results_t **out "zkc_multi_results_free(tmp$argnum);"

/* A lock lease, copied: (path, session_id, token). */
%typemap(in, numinputs=0) zkc_lock_lease_t *out (zkc_lock_lease_t tmp) {
	memset(&tmp, 0, sizeof tmp);
	$1 = &tmp;
}
%typemap(argout) zkc_lock_lease_t *out {
	$result = zkc_py_append($result, Py_BuildValue("(NLL)", zkc_py_str($1->path),
	                                  (long long)$1->session_id, (long long)$1->token));
}

/* A leadership event, by value: (type, epoch, reason); zeros when none
 * was taken (the code in front says so). */
%typemap(in, numinputs=0) zkc_election_event_t *out (zkc_election_event_t tmp) {
	memset(&tmp, 0, sizeof tmp);
	$1 = &tmp;
}
%typemap(argout) zkc_election_event_t *out {
	$result = zkc_py_append($result, Py_BuildValue("(iLi)", $1->type, (long long)$1->epoch,
	                                               $1->reason));
}

/* A counter add's outcome: (value, version, shard). */
%typemap(in, numinputs=0) zkc_counter_outcome_t *out (zkc_counter_outcome_t tmp) {
	memset(&tmp, 0, sizeof tmp);
	$1 = &tmp;
}
%typemap(argout) zkc_counter_outcome_t *out {
	$result = zkc_py_append($result, Py_BuildValue("(Lii)", (long long)$1->value,
	                                  (int)$1->version, $1->shard));
}

/* Queue items stay C objects (ack and release take them back), freed by
 * the Python QueueItem that holds them (-noproxy has no SWIG-owned
 * destructors). zkc_queue_take returns one also with EUNKNOWN. */
%typemap(in, numinputs=0) zkc_queue_item_t **out (zkc_queue_item_t *tmp = NULL) "$1 = &tmp;"
%typemap(argout) zkc_queue_item_t **out {
	$result = zkc_py_append($result, tmp$argnum
		? SWIG_NewPointerObj((void *)tmp$argnum, $*1_descriptor, 0)
		: (Py_INCREF(Py_None), Py_None));
}

/* A routed endpoint: (id, address, port, weight). */
%typemap(in, numinputs=0) zkc_service_endpoint_t *out (zkc_service_endpoint_t tmp) {
	memset(&tmp, 0, sizeof tmp);
	$1 = &tmp;
}
%typemap(argout) zkc_service_endpoint_t *out {
	$result = zkc_py_append($result, Py_BuildValue("(NNii)", zkc_py_str($1->id),
	                                  zkc_py_str($1->address), $1->port, $1->weight));
}

/* ------------------------------------------------------------ index */

/* Schema: a sequence of (name, flags). */
%typemap(in) (const zkc_index_field_t *fields, size_t nfields) (PyObject *fast = NULL) {
	fast = PySequence_Fast($input, "fields must be a sequence of (name, flags)");
	if (!fast)
		SWIG_fail;
	$2 = (size_t)PySequence_Fast_GET_SIZE(fast);
	$1 = calloc($2 ? $2 : 1, sizeof *$1);
	if (!$1) {
		PyErr_NoMemory();
		SWIG_fail;
	}
	for (size_t i = 0; i < $2; i++) {
		PyObject *t = PySequence_Fast_GET_ITEM(fast, (Py_ssize_t)i);
		PyObject *name;
		int flags;
		if (!PyTuple_Check(t) || !PyArg_ParseTuple(t, "Ui", &name, &flags)) {
			PyErr_Clear();
			PyErr_SetString(PyExc_TypeError, "fields must be (name: str, flags: int) tuples");
			SWIG_fail;
		}
		if (zkc_py_cstr(name, &$1[i].name, "field name") < 0)
			SWIG_fail;
		$1[i].flags = flags;
	}
}
%typemap(freearg) (const zkc_index_field_t *fields, size_t nfields) {
	free((void *)$1);
	Py_XDECREF(fast$argnum);
}

/* Field values of a record: a sequence of (name, bytes). */
%typemap(in) (const zkc_index_kv_t *fields, size_t nfields)
	(PyObject *fast = NULL, Py_buffer *views = NULL, size_t nviews = 0) {
	fast = PySequence_Fast($input, "fields must be a sequence of (name, value)");
	if (!fast)
		SWIG_fail;
	$2 = (size_t)PySequence_Fast_GET_SIZE(fast);
	$1 = calloc($2 ? $2 : 1, sizeof *$1);
	views = calloc($2 ? $2 : 1, sizeof *views);
	if (!$1 || !views) {
		PyErr_NoMemory();
		SWIG_fail;
	}
	for (size_t i = 0; i < $2; i++) {
		PyObject *t = PySequence_Fast_GET_ITEM(fast, (Py_ssize_t)i);
		if (!PyTuple_Check(t) || PyTuple_GET_SIZE(t) != 2) {
			PyErr_SetString(PyExc_TypeError, "fields must be (name, value) pairs");
			SWIG_fail;
		}
		if (zkc_py_cstr(PyTuple_GET_ITEM(t, 0), &$1[i].name, "field name") < 0 ||
		    zkc_py_buffer(PyTuple_GET_ITEM(t, 1), &views[i], "field value") < 0)
			SWIG_fail;
		nviews = i + 1;
		$1[i].value = views[i].buf;
		$1[i].len = (size_t)views[i].len;
	}
}
%typemap(freearg) (const zkc_index_kv_t *fields, size_t nfields) {
	for (size_t i = 0; i < nviews$argnum; i++)
		PyBuffer_Release(&views$argnum[i]);
	free(views$argnum);
	free((void *)$1);
	Py_XDECREF(fast$argnum);
}

/* A record: (id, data, [(field, value)...], version). */
%typemap(in, numinputs=0) zkc_index_record_t **out (zkc_index_record_t *tmp = NULL) "$1 = &tmp;"
%typemap(argout) zkc_index_record_t **out {
	zkc_index_record_t *r = tmp$argnum;
	PyObject *fields = PyList_New(0);
	for (size_t i = 0; fields && r && i < r->nfields; i++) {
		PyObject *kv = Py_BuildValue("(Ny#)", zkc_py_str(r->fields[i].name),
		                             (const char *)r->fields[i].value,
		                             (Py_ssize_t)r->fields[i].len);
		if (!kv || PyList_Append(fields, kv) < 0) {
			Py_XDECREF(kv);
			Py_CLEAR(fields);
			break;
		}
		Py_DECREF(kv);
	}
	$result = zkc_py_append($result, !fields ? NULL : Py_BuildValue("(y#y#Ni)", r->id,
		(Py_ssize_t)r->id_len, r->data, (Py_ssize_t)r->len, fields, (int)r->version));
}
%typemap(freearg) zkc_index_record_t **out "zkc_index_record_free(tmp$argnum);"

/* Lookup hits: [(id, value), ...]. */
%typemap(in, numinputs=0) zkc_index_hits_t **out (zkc_index_hits_t *tmp = NULL) "$1 = &tmp;"
%typemap(argout) zkc_index_hits_t **out {
	zkc_index_hits_t *h = tmp$argnum;
	PyObject *list = PyList_New(0);
	for (size_t i = 0; list && h && i < h->count; i++) {
		PyObject *it = Py_BuildValue("(y#y#)", h->items[i].id, (Py_ssize_t)h->items[i].id_len,
		                             h->items[i].value, (Py_ssize_t)h->items[i].value_len);
		if (!it || PyList_Append(list, it) < 0) {
			Py_XDECREF(it);
			Py_CLEAR(list);
			break;
		}
		Py_DECREF(it);
	}
	$result = zkc_py_append($result, list);
}
%typemap(freearg) zkc_index_hits_t **out "zkc_index_hits_free(tmp$argnum);"

/* verify/rebuild: (records, entries, [(kind, field, value, id, path,
 * version)...], repaired). */
%typemap(in, numinputs=0) zkc_index_report_t **out (zkc_index_report_t *tmp = NULL) "$1 = &tmp;"
%typemap(argout) zkc_index_report_t **out {
	zkc_index_report_t *r = tmp$argnum;
	PyObject *issues = PyList_New(0);
	for (size_t i = 0; issues && r && i < r->count; i++) {
		zkc_index_issue_t *is = &r->issues[i];
		PyObject *value = is->value ? PyBytes_FromStringAndSize(is->value, (Py_ssize_t)is->value_len)
		                            : (Py_INCREF(Py_None), Py_None);
		PyObject *id = is->id ? PyBytes_FromStringAndSize(is->id, (Py_ssize_t)is->id_len)
		                      : (Py_INCREF(Py_None), Py_None);
		PyObject *it = Py_BuildValue("(sNNNNi)", zkc_index_issue_name(is->kind),
		                             zkc_py_str(is->field), value, id, zkc_py_str(is->path),
		                             (int)is->version);
		if (!it || PyList_Append(issues, it) < 0) {
			Py_XDECREF(it);
			Py_CLEAR(issues);
			break;
		}
		Py_DECREF(it);
	}
	$result = zkc_py_append($result, !issues ? NULL : !r ? (Py_DECREF(issues), Py_INCREF(Py_None), Py_None)
		: Py_BuildValue("(nnNn)", (Py_ssize_t)r->records, (Py_ssize_t)r->entries, issues,
		                (Py_ssize_t)r->repaired));
}
%typemap(freearg) zkc_index_report_t **out "zkc_index_report_free(tmp$argnum);"

/* ------------------------------------------------------------ not for Python */

/* Multi-valued shapes the helpers below give in Python form instead. */
%ignore zkc_batch_data;
%ignore zkc_batch_stat;
%ignore zkc_batch_path;
%ignore zkc_batch_children_of;
%ignore zkc_service_route_n;
%ignore zkc_queue_put_many;
%ignore zkc_counter_encode;
%ignore zkc_counter_decode;
%ignore zkc_error_last;
%ignore zkc_error;
%ignore zkc_election_participants;
%ignore zkc_service_router_list;
%ignore zkc_service_decode;
%ignore zkc_service_entry_clear;
%ignore zkc_index_record_free;
%ignore zkc_index_hits_free;
%ignore zkc_index_report_free;

/* ------------------------------------------------------------ helpers */

/* Calls that never wait keep the GIL: releasing and taking it back would
 * cost more than the call (cache reads take the cache's read lock, which
 * no C thread holds across anything that needs Python). */
%nothread zkc_state;
%nothread zkc_batch_run_queued;
%nothread zkc_completions_fd;
%nothread zkc_completions_next;
%nothread zkc_session_info;
%nothread zkc_lock_valid;
%nothread zkc_semaphore_lease_valid;
%nothread zkc_election_is_leader;
%nothread zkc_cache_get;
%nothread zkc_cache_children;
%nothread zkc_cache_count;
%nothread zkc_cache_bytes;
%nothread zkc_cache_status;
%nothread zkc_service_route;
%nothread zkc_service_router_count;
%nothread zkc_batch_get;
%nothread zkc_batch_exists;
%nothread zkc_batch_children;
%nothread zkc_batch_set;
%nothread zkc_batch_delete;
%nothread zkc_batch_sync;
%nothread zkc_batch_get_acl;
%nothread zkc_py_batch_create;
%nothread zkc_batch_new;
%nothread zkc_batch_clear;
%nothread zkc_multi_new;
%nothread zkc_multi_create;
%nothread zkc_multi_set;
%nothread zkc_multi_delete;
%nothread zkc_multi_check;
%nothread zkc_events_next;
%nothread zkc_lock_events_next;
%nothread zkc_election_events_next;
%nothread zkc_py_cache_data;
%nothread zkc_py_set_hooks;
%nothread zkc_py_error_last;
%nothread zkc_py_batch_results;
%nothread zkc_py_queue_item;
%nothread zkc_py_acl_list;
%nothread zkc_py_route_n;
%nothread zkc_py_router_list;
%nothread zkc_py_election_participants;
%nothread zkc_py_queue_put_many;

/* ACL lists are freed by the Python holder (zkc._client._AclList). */
%exception zkc_py_acl_list {
	$action
	if (!result)
		SWIG_fail;
}
%extend zkc_acl_list {
	~zkc_acl_list() {
		for (int i = 0; i < $self->count; i++) {
			free((char *)$self->acls[i].scheme);
			free((char *)$self->acls[i].id);
		}
		free((void *)$self->acls);
		free($self);
	}
}

%apply int ZKC_INDEX { int zkc_py_batch_create };

%inline %{
/* Installs the exception factory and the ZnodeStat type (zkc/_errors.py). */
PyObject *zkc_py_set_hooks(PyObject *error_factory, PyObject *stat_type)
{
	Py_XINCREF(error_factory);
	Py_XDECREF(zkc_py_error_factory);
	zkc_py_error_factory = error_factory;
	Py_XINCREF(stat_type);
	Py_XDECREF(zkc_py_stat_type);
	zkc_py_stat_type = stat_type;
	Py_RETURN_NONE;
}

/* (code, message) of the calling thread's last failure. */
PyObject *zkc_py_error_last(void)
{
	const zkc_error_t *e = zkc_error_last();
	return Py_BuildValue("(iN)", e->code, zkc_py_str(e->message ? e->message : ""));
}

static PyObject *zkc_py_acl_out(const zkc_acl_list_t *l)
{
	if (!l)
		Py_RETURN_NONE;
	PyObject *list = PyList_New(l->count);
	for (int i = 0; list && i < l->count; i++) {
		PyObject *it = Py_BuildValue("(iNN)", (int)l->acls[i].perms,
		                             zkc_py_str(l->acls[i].scheme), zkc_py_str(l->acls[i].id));
		if (!it) {
			Py_CLEAR(list);
			break;
		}
		PyList_SET_ITEM(list, i, it);
	}
	return list;
}

/* Results of a batch after a run: one (code, data, stat, path, children,
 * acl) tuple per op, None where an op kind has no such result. */
PyObject *zkc_py_batch_results(const zkc_batch_t *b)
{
	size_t n = zkc_batch_count(b);
	PyObject *list = PyList_New((Py_ssize_t)n);
	for (size_t i = 0; list && i < n; i++) {
		size_t len = 0;
		const char *data = zkc_batch_data(b, i, &len);
		zkc_stat_t st;
		int have_stat = zkc_batch_stat(&st, b, i) == ZKC_OK;
		const zkc_strings_t *kids = zkc_batch_children_of(b, i);
		PyObject *it = Py_BuildValue("(iNNNNN)", zkc_batch_code(b, i),
			data ? PyBytes_FromStringAndSize(data, (Py_ssize_t)len) : (Py_INCREF(Py_None), Py_None),
			have_stat ? zkc_py_stat(&st) : (Py_INCREF(Py_None), Py_None),
			zkc_py_str(zkc_batch_path(b, i)),
			kids ? zkc_py_strings(kids) : (Py_INCREF(Py_None), Py_None),
			zkc_py_acl_out(zkc_batch_acl(b, i)));
		if (!it) {
			Py_DECREF(list);
			return NULL;
		}
		PyList_SET_ITEM(list, (Py_ssize_t)i, it);
	}
	zkc_error_clear();
	return list;
}

/* A cached node's data only (no stat to build): the fast path of
 * cache[path]. None when the node is not cached. */
PyObject *zkc_py_cache_data(zkc_cache_t *cache, const char *path)
{
	char *data = NULL;
	size_t len = 0;
	int rc = zkc_cache_get(&data, &len, NULL, cache, path);
	if (rc == ZKC_ENONODE)
		Py_RETURN_NONE;
	if (rc < 0) {
		zkc_py_raise(rc);
		return NULL;
	}
	PyObject *r = PyBytes_FromStringAndSize(data, (Py_ssize_t)len);
	zkc_free(data);
	return r;
}

/* A queue item's fields, copied: (name, data, priority, session_id). */
PyObject *zkc_py_queue_item(const zkc_queue_item_t *item)
{
	if (!item) {
		PyErr_SetString(PyExc_ValueError, "no queue item");
		return NULL;
	}
	return Py_BuildValue("(Ny#iL)", zkc_py_str(item->name), item->data, (Py_ssize_t)item->len,
	                     item->priority, (long long)item->session_id);
}

/* The n best instances for key: [(id, address, port, weight), ...]. */
PyObject *zkc_py_route_n(zkc_service_router_t *r, PyObject *key, size_t n)
{
	Py_buffer view;
	if (zkc_py_buffer(key, &view, "key") < 0)
		return NULL;
	if (n == 0 || n > 4096) {
		PyBuffer_Release(&view);
		PyErr_SetString(PyExc_ValueError, "n must be 1..4096");
		return NULL;
	}
	zkc_service_endpoint_t *eps = calloc(n, sizeof *eps);
	size_t got = 0;
	int rc;
	if (!eps) {
		PyBuffer_Release(&view);
		return PyErr_NoMemory();
	}
	Py_BEGIN_ALLOW_THREADS
	rc = zkc_service_route_n(eps, &got, n, r, view.buf, (size_t)view.len);
	Py_END_ALLOW_THREADS
	PyBuffer_Release(&view);
	if (rc < 0) {
		free(eps);
		zkc_py_raise(rc);
		return NULL;
	}
	PyObject *list = PyList_New((Py_ssize_t)got);
	for (size_t i = 0; list && i < got; i++) {
		PyObject *it = Py_BuildValue("(NNii)", zkc_py_str(eps[i].id), zkc_py_str(eps[i].address),
		                             eps[i].port, eps[i].weight);
		if (!it) {
			Py_CLEAR(list);
			break;
		}
		PyList_SET_ITEM(list, (Py_ssize_t)i, it);
	}
	free(eps);
	return list;
}

/* Every instance a router sees: [(id, address, port, weight, draining,
 * metadata, session_id), ...]. */
PyObject *zkc_py_router_list(zkc_service_router_t *r)
{
	zkc_service_list_t *l = NULL;
	int rc;
	Py_BEGIN_ALLOW_THREADS
	rc = zkc_service_router_list(&l, r);
	Py_END_ALLOW_THREADS
	if (rc < 0) {
		zkc_py_raise(rc);
		return NULL;
	}
	PyObject *list = PyList_New((Py_ssize_t)l->count);
	for (size_t i = 0; list && i < l->count; i++) {
		zkc_service_entry_t *e = &l->items[i];
		PyObject *it = Py_BuildValue("(NNiiiy#L)", zkc_py_str(e->id), zkc_py_str(e->address),
		                             e->port, e->weight, e->draining, e->metadata,
		                             (Py_ssize_t)e->metadata_len, (long long)e->session_id);
		if (!it) {
			Py_CLEAR(list);
			break;
		}
		PyList_SET_ITEM(list, (Py_ssize_t)i, it);
	}
	zkc_service_list_free(l);
	return list;
}

/* The participants of an election, first (the leader) first:
 * [(id, node, czxid, session_id, is_leader), ...]. */
PyObject *zkc_py_election_participants(zkc_t *zk, const char *path)
{
	zkc_election_participants_t *p = NULL;
	int rc;
	Py_BEGIN_ALLOW_THREADS
	rc = zkc_election_participants(&p, zk, path);
	Py_END_ALLOW_THREADS
	if (rc < 0) {
		zkc_py_raise(rc);
		return NULL;
	}
	PyObject *list = PyList_New((Py_ssize_t)p->count);
	for (size_t i = 0; list && i < p->count; i++) {
		zkc_election_participant_t *e = &p->items[i];
		PyObject *it = Py_BuildValue("(NNLLi)", zkc_py_str(e->id), zkc_py_str(e->node),
		                             (long long)e->czxid, (long long)e->session_id, e->is_leader);
		if (!it) {
			Py_CLEAR(list);
			break;
		}
		PyList_SET_ITEM(list, (Py_ssize_t)i, it);
	}
	zkc_election_participants_free(p);
	return list;
}

/* Puts several items in one transaction (all or none): each element is
 * bytes-like (with the default priority) or a (bytes-like, priority) pair. */
PyObject *zkc_py_queue_put_many(zkc_queue_t *q, PyObject *items, int priority)
{
	PyObject *fast = PySequence_Fast(items, "items must be a sequence of bytes-like objects");
	if (!fast)
		return NULL;
	Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
	Py_buffer *views = calloc(n ? (size_t)n : 1, sizeof *views);
	zkc_queue_put_item_t *put = calloc(n ? (size_t)n : 1, sizeof *put);
	Py_ssize_t got = 0;
	int rc = 0;
	PyObject *ret = NULL;
	if (!views || !put) {
		PyErr_NoMemory();
		goto out;
	}
	for (; got < n; got++) {
		PyObject *it = PySequence_Fast_GET_ITEM(fast, got);
		int prio = priority;
		if (PyTuple_Check(it)) {
			if (PyTuple_GET_SIZE(it) != 2) {
				PyErr_SetString(PyExc_TypeError, "an item pair must be (data, priority)");
				goto out;
			}
			prio = (int)PyLong_AsLong(PyTuple_GET_ITEM(it, 1));
			if (prio == -1 && PyErr_Occurred())
				goto out;
			it = PyTuple_GET_ITEM(it, 0);
		}
		if (zkc_py_buffer(it, &views[got], "item") < 0)
			goto out;
		put[got].data = views[got].buf;
		put[got].len = (size_t)views[got].len;
		put[got].priority = prio;
	}
	Py_BEGIN_ALLOW_THREADS
	rc = zkc_queue_put_many(q, put, (size_t)n);
	Py_END_ALLOW_THREADS
	if (rc < 0)
		zkc_py_raise(rc);
	else
		ret = (Py_INCREF(Py_None), Py_None);
out:
	for (Py_ssize_t i = 0; i < got; i++)
		PyBuffer_Release(&views[i]);
	free(views);
	free(put);
	Py_DECREF(fast);
	return ret;
}

/* An ACL list from a sequence of (perms, scheme, id) tuples, owned by the
 * returned object. */
zkc_acl_list_t *zkc_py_acl_list(PyObject *seq)
{
	PyObject *fast = PySequence_Fast(seq, "acl must be a sequence of (perms, scheme, id)");
	if (!fast)
		return NULL;
	Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
	zkc_acl_list_t *l = calloc(1, sizeof *l);
	zkc_acl_t *a = calloc(n ? (size_t)n : 1, sizeof *a);
	if (!l || !a) {
		free(l);
		free(a);
		Py_DECREF(fast);
		PyErr_NoMemory();
		return NULL;
	}
	l->acls = a;
	for (Py_ssize_t i = 0; i < n; i++) {
		int perms;
		const char *scheme, *id;
		PyObject *t = PySequence_Fast_GET_ITEM(fast, i);
		if (!PyTuple_Check(t) || !PyArg_ParseTuple(t, "iss", &perms, &scheme, &id)) {
			if (!PyErr_Occurred() || PyErr_ExceptionMatches(PyExc_TypeError)) {
				PyErr_Clear();
				PyErr_SetString(PyExc_TypeError,
				                "acl entries must be (perms: int, scheme: str, id: str)");
			}
			goto fail;
		}
		a[i].perms = perms;
		a[i].scheme = strdup(scheme);
		a[i].id = strdup(id);
		l->count = (int)i + 1;
		if (!a[i].scheme || !a[i].id) {
			PyErr_NoMemory();
			goto fail;
		}
	}
	Py_DECREF(fast);
	return l;
fail:
	for (int i = 0; i < l->count; i++) {
		free((char *)a[i].scheme);
		free((char *)a[i].id);
	}
	free(a);
	free(l);
	Py_DECREF(fast);
	return NULL;
}

/* zkc_open with the option strings as arguments (the options struct holds
 * borrowed char pointers, which a generated setter cannot fill safely); the
 * TLS strings apply only when `tls` is given. */
int zkc_py_open(zkc_t **out, const char *url, const zkc_options_t *opts, const char *chroot,
                const char *digest, const zkc_acl_list_t *acl, const zkc_tls_options_t *tls,
                const char *ca_file, const char *cert_file, const char *key_file,
                const char *key_password, const char *server_name)
{
	zkc_options_t o = ZKC_OPTIONS_INIT;
	zkc_tls_options_t t = ZKC_TLS_OPTIONS_INIT;
	if (opts)
		o = *opts;
	o.chroot = chroot;
	o.digest = digest;
	o.acl = acl;
	o.log_fn = NULL;
	o.event_fn = NULL;
	if (tls) {
		t = *tls;
		t.ca_file = ca_file;
		t.cert_file = cert_file;
		t.key_file = key_file;
		t.key_password = key_password;
		t.server_name = server_name;
		o.tls = &t;
	} else {
		o.tls = NULL;
	}
	return zkc_open(out, url, &o);
}

/* zkc_create with its options as arguments. */
int zkc_py_create(char **out_path, zkc_stat_t *out_stat, zkc_t *zk, const char *path,
                  const void *data, size_t len, int mode, int flags, int64_t ttl_ms,
                  const zkc_acl_list_t *acl)
{
	zkc_create_options_t o = ZKC_CREATE_OPTIONS_INIT;
	o.mode = mode;
	o.flags = flags;
	o.ttl_ms = ttl_ms;
	o.acl = acl;
	return zkc_create(out_path, out_stat, zk, path, data, len, &o);
}

/* ------------------------------------------------------------ recipe openers
 * Each takes its options as arguments: the option structs hold borrowed
 * pointers (ACL, data, strings) that generated setters cannot fill safely. */

int zkc_py_lock_open(zkc_lock_t **out, zkc_t *zk, const char *path, int flags,
                     const zkc_acl_list_t *acl, const void *data, size_t len)
{
	zkc_lock_options_t o = ZKC_LOCK_OPTIONS_INIT;
	o.flags = flags;
	o.acl = acl;
	o.data = data;
	o.data_len = len;
	return zkc_lock_open(out, zk, path, &o);
}

int zkc_py_rwlock_open(zkc_rwlock_t **out, zkc_t *zk, const char *path,
                       const zkc_acl_list_t *acl, const void *data, size_t len)
{
	zkc_lock_options_t o = ZKC_LOCK_OPTIONS_INIT;
	o.acl = acl;
	o.data = data;
	o.data_len = len;
	return zkc_rwlock_open(out, zk, path, &o);
}

/* The ACL is borrowed by the semaphore: the Python object keeps it alive. */
int zkc_py_semaphore_open(zkc_semaphore_t **out, zkc_t *zk, const char *path, int max_leases,
                          const zkc_acl_list_t *acl, const void *data, size_t len)
{
	zkc_lock_options_t o = ZKC_LOCK_OPTIONS_INIT;
	o.acl = acl;
	o.data = data;
	o.data_len = len;
	return zkc_semaphore_open(out, zk, path, max_leases, &o);
}

/* The ACL must outlive the election: the Python object keeps it alive. */
int zkc_py_election_open(zkc_election_t **out, zkc_t *zk, const char *path, const char *id,
                         int step_down, const zkc_acl_list_t *acl)
{
	zkc_election_options_t o = ZKC_ELECTION_OPTIONS_INIT;
	o.id = id;
	o.step_down = step_down;
	o.acl = acl;
	return zkc_election_open(out, zk, path, &o);
}

int zkc_py_counter_open(zkc_counter_t **out, zkc_t *zk, const char *path, int shards,
                        int timeout_ms)
{
	zkc_counter_options_t o = ZKC_COUNTER_OPTIONS_INIT;
	o.shards = shards;
	o.timeout_ms = timeout_ms;
	return zkc_counter_open(out, zk, path, &o);
}

int zkc_py_queue_open(zkc_queue_t **out, zkc_t *zk, const char *path, int flags,
                      int bucket_size, const zkc_acl_list_t *acl)
{
	zkc_queue_options_t o = ZKC_QUEUE_OPTIONS_INIT;
	o.flags = flags;
	o.bucket_size = bucket_size;
	o.acl = acl;
	return zkc_queue_open(out, zk, path, &o);
}

/* Cache events go to the client's event queue with `payload` (the Python
 * cache's token), where the binding's dispatcher routes them. */
int zkc_py_cache_open(zkc_cache_t **out, zkc_t *zk, const char *path, int depth, int data,
                      size_t max_nodes, size_t max_bytes, int events, void *payload)
{
	zkc_cache_options_t o = ZKC_CACHE_OPTIONS_INIT;
	o.depth = depth;
	o.data = data;
	o.max_nodes = max_nodes;
	o.max_bytes = max_bytes;
	o.events = events;
	o.event_payload = payload;
	return zkc_cache_open(out, zk, path, &o);
}

int zkc_py_service_reg_open(zkc_service_reg_t **out, zkc_t *zk, const char *service_path,
                            const char *id, const char *address, int port, int weight,
                            int draining, const void *data, size_t len, int replace)
{
	zkc_service_instance_t in = ZKC_SERVICE_INSTANCE_INIT;
	in.id = id;
	in.address = address;
	in.port = port;
	in.weight = weight;
	in.draining = draining;
	in.metadata = data;
	in.metadata_len = data ? len : 0;
	in.replace = replace;
	return zkc_service_reg_open(out, zk, service_path, &in);
}

int zkc_py_index_open(zkc_index_t **out, zkc_t *zk, const char *path, int cache,
                      int cache_records, int timeout_ms)
{
	zkc_index_options_t o = ZKC_INDEX_OPTIONS_INIT;
	o.cache = cache;
	o.cache_records = cache_records;
	o.timeout_ms = timeout_ms;
	return zkc_index_open(out, zk, path, &o);
}

int zkc_py_router_open(zkc_service_router_t **out, zkc_t *zk, const char *service_path,
                       int timeout_ms)
{
	zkc_service_router_options_t o = ZKC_SERVICE_ROUTER_OPTIONS_INIT;
	o.timeout_ms = timeout_ms;
	return zkc_service_router_open(out, zk, service_path, &o);
}

/* zkc_batch_create with its options as arguments. */
int zkc_py_batch_create(zkc_batch_t *b, const char *path, const void *data, size_t len,
                        int mode, int flags, int64_t ttl_ms, const zkc_acl_list_t *acl)
{
	zkc_create_options_t o = ZKC_CREATE_OPTIONS_INIT;
	o.mode = mode;
	o.flags = flags;
	o.ttl_ms = ttl_ms;
	o.acl = acl;
	return zkc_batch_create(b, path, data, len, &o);
}
%}

%include "zkc.i"
