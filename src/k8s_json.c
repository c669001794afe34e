/* src/k8s_json.c - EndpointSlice answers (list and watch events) to a
 * ZooKeeper server list: pure functions, no I/O, so every edge case of
 * the API's format is tested without an API server (tests/unit). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "internal.h"

#define ADDR_MAX 64              /* INET6_ADDRSTRLEN rounded up */
#define NAME_MAX_LEN 253

/* ------------------------------------------------------------ helpers */

static int bad(const char *what, const char *detail)
{
	return zkc__error(ZKC_EMARSHALLING, "Kubernetes API answer: %s%s%s", what,
	                  detail ? ": " : "", detail ? detail : "");
}

static void slice_free(zkc__k8s_slice_t *sl)
{
	for (size_t i = 0; i < sl->neps; i++)
		free(sl->eps[i].addr);
	free(sl->eps);
	free(sl->name);
	free(sl->problem);
	memset(sl, 0, sizeof(*sl));
}

void zkc__k8s_set_init(zkc__k8s_set_t *s, int want_port)
{
	memset(s, 0, sizeof(*s));
	s->want_port = want_port;
}

void zkc__k8s_set_clear(zkc__k8s_set_t *s)
{
	for (size_t i = 0; i < s->nslices; i++)
		slice_free(&s->slices[i]);
	free(s->slices);
	free(s->resource_version);
	s->slices = NULL;
	s->nslices = 0;
	s->resource_version = NULL;
}

static int is_name_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_';
}

/* An FQDN address must be a plain DNS name: it goes into libzookeeper's
 * comma-separated host string, where ',' or ':' would split it. */
static int valid_fqdn(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > NAME_MAX_LEN || s[0] == '.' || s[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!is_name_char((unsigned char)s[i]))
			return 0;
	return 1;
}

/* "ready" per the API docs: true or absent (null) means ready. */
static int ep_ready(json_t *ep)
{
	json_t *cond = json_object_get(ep, "conditions");
	json_t *ready = json_is_object(cond) ? json_object_get(cond, "ready") : NULL;

	return !ready || json_is_null(ready) || json_is_true(ready);
}

/* Chooses the slice's port for the URL's port: the entry with that port
 * number, else the entry named "client", else the only TCP entry. No
 * ports (or an entry without a port: "all ports") means the URL's port. */
static int pick_port(json_t *ports, int want, char **problem)
{
	json_t *p;
	size_t i;
	int client = 0, only = 0, tcp = 0, any_all = 0;

	*problem = NULL;
	if (!ports || json_is_null(ports))
		return want;
	if (!json_is_array(ports)) {
		*problem = zkc__strdup("\"ports\" is not an array");
		return 0;
	}
	if (json_array_size(ports) == 0)
		return want;
	json_array_foreach(ports, i, p) {
		json_t *proto, *num, *name;
		json_int_t v;

		if (!json_is_object(p))
			continue;
		proto = json_object_get(p, "protocol");
		if (proto && !json_is_null(proto) &&
		    (!json_is_string(proto) || strcmp(json_string_value(proto), "TCP") != 0))
			continue;   /* UDP and SCTP carry no ZooKeeper */
		num = json_object_get(p, "port");
		if (!num || json_is_null(num)) {
			any_all = 1;
			continue;
		}
		if (!json_is_integer(num))
			continue;
		v = json_integer_value(num);
		if (v < 1 || v > 65535)
			continue;
		tcp++;
		only = (int)v;
		if (v == want)
			return want;
		name = json_object_get(p, "name");
		if (json_is_string(name) && strcmp(json_string_value(name), "client") == 0)
			client = (int)v;
	}
	if (client)
		return client;
	if (tcp == 1)
		return only;
	if (any_all)
		return want;
	*problem = zkc__sprintf("no port %d, none named \"client\" and %d TCP ports to choose "
	                        "from", want, tcp);
	return 0;
}

/* Reads one EndpointSlice object into *out. Endpoints that cannot be used
 * (no address, an address that is not of the slice's type) are skipped;
 * only a slice without a name or of the wrong shape is an error. */
static int slice_parse(zkc__k8s_slice_t *out, json_t *obj, int want_port)
{
	json_t *meta, *name, *atype, *eps, *ep;
	const char *type;
	int family;
	size_t i, n;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(obj))
		return bad("an EndpointSlice is not an object", NULL);
	meta = json_object_get(obj, "metadata");
	name = json_is_object(meta) ? json_object_get(meta, "name") : NULL;
	if (!json_is_string(name) || json_string_length(name) == 0)
		return bad("an EndpointSlice has no metadata.name", NULL);
	out->name = zkc__strdup(json_string_value(name));
	if (!out->name)
		return zkc__error(ZKC_ENOMEM, "Kubernetes: out of memory");
	atype = json_object_get(obj, "addressType");
	type = json_is_string(atype) ? json_string_value(atype) : "";
	if (strcmp(type, "IPv4") == 0) {
		family = AF_INET;
	} else if (strcmp(type, "IPv6") == 0) {
		family = AF_INET6;
	} else if (strcmp(type, "FQDN") == 0) {
		family = 0;
	} else {
		out->problem = zkc__sprintf("addressType \"%.32s\" is not IPv4, IPv6 or FQDN", type);
		return out->problem ? ZKC_OK : zkc__error(ZKC_ENOMEM, "Kubernetes: out of memory");
	}
	out->port = pick_port(json_object_get(obj, "ports"), want_port, &out->problem);
	eps = json_object_get(obj, "endpoints");
	if (!eps || json_is_null(eps))
		return ZKC_OK;      /* a slice with no endpoints (yet) */
	if (!json_is_array(eps)) {
		slice_free(out);
		return bad("\"endpoints\" is not an array in EndpointSlice", json_string_value(name));
	}
	n = json_array_size(eps);
	out->eps = calloc(n ? n : 1, sizeof(*out->eps));
	if (!out->eps) {
		slice_free(out);
		return zkc__error(ZKC_ENOMEM, "Kubernetes: out of memory");
	}
	json_array_foreach(eps, i, ep) {
		json_t *addrs = json_is_object(ep) ? json_object_get(ep, "addresses") : NULL;
		json_t *first = json_is_array(addrs) ? json_array_get(addrs, 0) : NULL;
		const char *a = json_is_string(first) ? json_string_value(first) : NULL;
		char canon[ADDR_MAX];
		unsigned char bin[16];

		/* "No semantics are defined for additional addresses beyond the
		 * first" (the API reference): only the first is used. */
		if (!a)
			continue;
		if (family) {
			if (inet_pton(family, a, bin) != 1 ||
			    !inet_ntop(family, bin, canon, sizeof(canon)))
				continue;
			out->eps[out->neps].addr = zkc__strdup(canon);
		} else {
			if (!valid_fqdn(a))
				continue;
			out->eps[out->neps].addr = zkc__strdup(a);
		}
		if (!out->eps[out->neps].addr) {
			slice_free(out);
			return zkc__error(ZKC_ENOMEM, "Kubernetes: out of memory");
		}
		out->eps[out->neps].ready = ep_ready(ep);
		out->neps++;
	}
	return ZKC_OK;
}

static int take_rv(json_t *obj, char **out)
{
	json_t *meta = json_is_object(obj) ? json_object_get(obj, "metadata") : NULL;
	json_t *rv = json_is_object(meta) ? json_object_get(meta, "resourceVersion") : NULL;

	*out = NULL;
	if (!json_is_string(rv) || json_string_length(rv) == 0)
		return -1;
	*out = zkc__strdup(json_string_value(rv));
	return *out ? 0 : -2;
}

static json_t *load(const char *text, size_t len, int *rc)
{
	json_error_t err;
	json_t *root;

	if (!text) {
		*rc = bad("empty answer", NULL);
		return NULL;
	}
	root = json_loadb(text, len, 0, &err);
	if (!root) {
		char msg[256];

		snprintf(msg, sizeof(msg), "%.160s (line %d, column %d)", err.text, err.line,
		         err.column);
		*rc = bad("malformed JSON", msg);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		*rc = bad("not a JSON object", NULL);
		return NULL;
	}
	*rc = ZKC_OK;
	return root;
}

/* ------------------------------------------------------------ list */

int zkc__k8s_parse_list(zkc__k8s_set_t *s, const char *json, size_t len)
{
	json_t *root, *items, *it;
	zkc__k8s_set_t fresh;
	size_t i;
	int rc;

	if (!s)
		return zkc__error(ZKC_EBADARGUMENTS, "k8s list: NULL set");
	root = load(json, len, &rc);
	if (!root)
		return rc;
	items = json_object_get(root, "items");
	if (json_is_string(json_object_get(root, "kind")) &&
	    strcmp(json_string_value(json_object_get(root, "kind")), "Status") == 0) {
		json_t *msg = json_object_get(root, "message");

		rc = bad("a Status instead of an EndpointSliceList",
		         json_is_string(msg) ? json_string_value(msg) : NULL);
		json_decref(root);
		return rc;
	}
	if (items && !json_is_null(items) && !json_is_array(items)) {
		json_decref(root);
		return bad("\"items\" is not an array", NULL);
	}
	zkc__k8s_set_init(&fresh, s->want_port);
	if (take_rv(root, &fresh.resource_version) != 0) {
		json_decref(root);
		return bad("the list has no metadata.resourceVersion", NULL);
	}
	if (items && json_array_size(items) > 0) {
		fresh.slices = calloc(json_array_size(items), sizeof(*fresh.slices));
		if (!fresh.slices) {
			zkc__k8s_set_clear(&fresh);
			json_decref(root);
			return zkc__error(ZKC_ENOMEM, "Kubernetes: out of memory");
		}
		json_array_foreach(items, i, it) {
			rc = slice_parse(&fresh.slices[fresh.nslices], it, s->want_port);
			if (rc != ZKC_OK) {
				zkc__k8s_set_clear(&fresh);
				json_decref(root);
				return rc;
			}
			fresh.nslices++;
		}
	}
	json_decref(root);
	zkc__k8s_set_clear(s);
	*s = fresh;
	return ZKC_OK;
}

/* ------------------------------------------------------------ watch events */

static zkc__k8s_slice_t *find_slice(zkc__k8s_set_t *s, const char *name, size_t *idx)
{
	for (size_t i = 0; i < s->nslices; i++)
		if (strcmp(s->slices[i].name, name) == 0) {
			*idx = i;
			return &s->slices[i];
		}
	return NULL;
}

static int upsert(zkc__k8s_set_t *s, zkc__k8s_slice_t *sl)
{
	size_t idx;
	zkc__k8s_slice_t *old = find_slice(s, sl->name, &idx), *grown;

	if (old) {
		slice_free(old);
		*old = *sl;
		return ZKC_OK;
	}
	grown = realloc(s->slices, (s->nslices + 1) * sizeof(*grown));
	if (!grown)
		return zkc__error(ZKC_ENOMEM, "Kubernetes: out of memory");
	s->slices = grown;
	s->slices[s->nslices++] = *sl;
	return ZKC_OK;
}

static void remove_slice(zkc__k8s_set_t *s, const char *name)
{
	size_t idx;

	if (!find_slice(s, name, &idx))
		return;
	slice_free(&s->slices[idx]);
	s->slices[idx] = s->slices[s->nslices - 1];
	s->nslices--;
}

static int error_event(json_t *obj, zkc__k8s_event_t *out)
{
	json_t *code = json_is_object(obj) ? json_object_get(obj, "code") : NULL;
	json_t *msg = json_is_object(obj) ? json_object_get(obj, "message") : NULL;

	out->type = ZKC__K8S_ERROR;
	out->code = json_is_integer(code) ? (int)json_integer_value(code) : 0;
	snprintf(out->message, sizeof(out->message), "%s",
	         json_is_string(msg) ? json_string_value(msg) : "(no message)");
	return ZKC_OK;
}

int zkc__k8s_apply_event(zkc__k8s_set_t *s, const char *line, size_t len,
                         zkc__k8s_event_t *out)
{
	zkc__k8s_event_t ev;
	json_t *root, *type, *obj;
	const char *t;
	char *rv = NULL;
	int rc;

	memset(&ev, 0, sizeof(ev));
	if (out)
		*out = ev;
	if (!s)
		return zkc__error(ZKC_EBADARGUMENTS, "k8s event: NULL set");
	root = load(line, len, &rc);
	if (!root)
		return rc;
	type = json_object_get(root, "type");
	obj = json_object_get(root, "object");
	t = json_is_string(type) ? json_string_value(type) : NULL;
	if (!t) {
		json_decref(root);
		return bad("a watch event without a \"type\"", NULL);
	}
	if (strcmp(t, "ERROR") == 0) {
		rc = error_event(obj, &ev);
		goto done;
	}
	if (!json_is_object(obj)) {
		rc = bad("a watch event without an \"object\"", t);   /* t lives in root */
		json_decref(root);
		return rc;
	}
	if (take_rv(obj, &rv) == -2) {
		json_decref(root);
		return zkc__error(ZKC_ENOMEM, "Kubernetes: out of memory");
	}
	if (strcmp(t, "BOOKMARK") == 0) {
		if (!rv) {
			json_decref(root);
			return bad("a BOOKMARK without metadata.resourceVersion", NULL);
		}
		ev.type = ZKC__K8S_BOOKMARK;
		rc = ZKC_OK;
	} else if (strcmp(t, "ADDED") == 0 || strcmp(t, "MODIFIED") == 0) {
		zkc__k8s_slice_t sl;

		ev.type = t[0] == 'A' ? ZKC__K8S_ADDED : ZKC__K8S_MODIFIED;
		rc = slice_parse(&sl, obj, s->want_port);
		if (rc == ZKC_OK && (rc = upsert(s, &sl)) != ZKC_OK)
			slice_free(&sl);
	} else if (strcmp(t, "DELETED") == 0) {
		json_t *meta = json_object_get(obj, "metadata");
		json_t *name = json_is_object(meta) ? json_object_get(meta, "name") : NULL;

		ev.type = ZKC__K8S_DELETED;
		if (!json_is_string(name)) {
			rc = bad("a DELETED event without metadata.name", NULL);
		} else {
			remove_slice(s, json_string_value(name));
			rc = ZKC_OK;
		}
	} else {
		char q[ZKC__QUOTE_BUF];

		zkc__quote(q, sizeof(q), t, strlen(t));
		rc = zkc__error(ZKC_EMARSHALLING, "Kubernetes API answer: unknown watch event type: "
		                "\"%s\"", q);
	}
	if (rc == ZKC_OK && rv) {
		free(s->resource_version);
		s->resource_version = rv;
		rv = NULL;
	}
done:
	free(rv);
	json_decref(root);
	if (rc == ZKC_OK && out)
		*out = ev;
	return rc;
}

/* ------------------------------------------------------------ server list */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts the n strings of items and frees duplicates; returns how many
 * remain (at the front). */
static size_t sort_unique(char **items, size_t n)
{
	size_t u = 0;

	if (n > 1)
		qsort(items, n, sizeof(*items), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (u > 0 && strcmp(items[u - 1], items[i]) == 0) {
			free(items[i]);
			continue;
		}
		items[u++] = items[i];
	}
	return u;
}

/* "a,b,c" from the n strings of items (malloc'd); NULL if out of memory. */
static char *join_list(char *const *items, size_t n)
{
	size_t len = 1, off = 0;
	char *list;

	for (size_t i = 0; i < n; i++)
		len += strlen(items[i]) + 1;
	list = malloc(len);
	if (!list)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(items[i]);

		if (i)
			list[off++] = ',';
		memcpy(list + off, items[i], l);
		off += l;
	}
	list[off] = '\0';
	return list;
}

int zkc__k8s_servers(char **out, zkc__k8s_stats_t *stats, const zkc__k8s_set_t *s,
                     int include_not_ready)
{
	zkc__k8s_stats_t st;
	size_t total = 0, n = 0;
	char **items = NULL;
	int rc = ZKC_OK;

	memset(&st, 0, sizeof(st));
	if (!out || !s)
		return zkc__error(ZKC_EBADARGUMENTS, "k8s servers: NULL argument");
	*out = NULL;
	for (size_t i = 0; i < s->nslices; i++)
		total += s->slices[i].neps;
	if (total > 0 && !(items = calloc(total, sizeof(*items))))
		return zkc__error(ZKC_ENOMEM, "Kubernetes: out of memory");
	st.slices = s->nslices;
	for (size_t i = 0; i < s->nslices && rc == ZKC_OK; i++) {
		const zkc__k8s_slice_t *sl = &s->slices[i];

		if (!sl->port) {
			st.unusable_slices++;
			continue;
		}
		for (size_t j = 0; j < sl->neps; j++) {
			if (sl->eps[j].ready)
				st.ready++;
			else
				st.not_ready++;
			if (!sl->eps[j].ready && !include_not_ready)
				continue;
			items[n] = zkc__sprintf("%s:%d", sl->eps[j].addr, sl->port);
			if (!items[n]) {
				rc = zkc__error(ZKC_ENOMEM, "Kubernetes: out of memory");
				break;
			}
			n++;
		}
	}
	if (rc == ZKC_OK) {
		n = sort_unique(items, n);
		if (n > ZKC__K8S_MAX_SERVERS) {
			for (size_t i = ZKC__K8S_MAX_SERVERS; i < n; i++)
				free(items[i]);
			n = ZKC__K8S_MAX_SERVERS;
			st.capped = 1;
		}
		if (!(*out = join_list(items, n)))
			rc = zkc__error(ZKC_ENOMEM, "Kubernetes: out of memory");
	}
	for (size_t i = 0; i < n; i++)
		free(items[i]);
	free(items);
	st.servers = rc == ZKC_OK ? n : 0;
	if (stats)
		*stats = st;
	return rc;
}

/* ------------------------------------------------------------ stream lines */

void zkc__k8s_lines_reset(zkc__k8s_lines_t *l)
{
	free(l->buf);
	l->buf = NULL;
	l->len = l->cap = 0;
}

static int lines_emit(const char *line, size_t len, zkc__k8s_line_fn fn, void *ctx)
{
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0)
		return ZKC_OK;       /* keep-alive blank lines */
	return fn(ctx, line, len);
}

int zkc__k8s_lines_feed(zkc__k8s_lines_t *l, const char *data, size_t n,
                        zkc__k8s_line_fn fn, void *ctx)
{
	size_t max = l->max ? l->max : ZKC__K8S_MAX_LINE;

	while (n > 0) {
		const char *nl = memchr(data, '\n', n);
		size_t part = nl ? (size_t)(nl - data) : n;
		int rc;

		if (l->len + part > max) {
			size_t had = l->len;

			zkc__k8s_lines_reset(l);
			return zkc__error(ZKC_ETOOLARGE, "Kubernetes watch: an event line longer than "
			                  "%zu bytes (%zu so far)", max, had + part);
		}
		if (nl && l->len == 0) {
			/* the whole line is in data: no copy */
			rc = lines_emit(data, part, fn, ctx);
		} else {
			if (l->len + part + 1 > l->cap) {
				size_t cap = l->cap ? l->cap : 4096;
				char *grown;

				while (cap < l->len + part + 1)
					cap *= 2;
				grown = realloc(l->buf, cap);
				if (!grown) {
					zkc__k8s_lines_reset(l);
					return zkc__error(ZKC_ENOMEM, "Kubernetes watch: out of memory");
				}
				l->buf = grown;
				l->cap = cap;
			}
			memcpy(l->buf + l->len, data, part);
			l->len += part;
			if (!nl)
				return ZKC_OK;
			l->buf[l->len] = '\0';
			rc = lines_emit(l->buf, l->len, fn, ctx);
			l->len = 0;
		}
		if (rc != ZKC_OK)
			return rc;
		data += part + 1;
		n -= part + 1;
	}
	return ZKC_OK;
}

int zkc__k8s_lines_end(zkc__k8s_lines_t *l)
{
	size_t had = l->len;

	zkc__k8s_lines_reset(l);
	if (had == 0)
		return ZKC_OK;
	return zkc__error(ZKC_EMARSHALLING, "Kubernetes watch: the stream ended inside an "
	                  "event (%zu bytes without a newline)", had);
}
