/* src/url.c - the connection URL: scheme, hosts, chroot and query options
 * parsed into a zkc__url_t, with messages that say what is wrong and where
 * but never repeat a secret. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1  /* explicit_bzero */
#endif
#include <arpa/inet.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

#define URL_MAX_BYTES (64 * 1024)
#define HOST_MAX 253      /* longest DNS name */
#define DEFAULT_PORT 2181
#define DEFAULT_DNS_PORT 53

static const struct {
	const char *name;
	int scheme;
	int tls;
} schemes[] = {
	{ "zk", ZKC__SCHEME_STATIC, 0 },  { "zks", ZKC__SCHEME_STATIC, 1 },
	{ "zk+dns", ZKC__SCHEME_DNS, 0 }, { "zks+dns", ZKC__SCHEME_DNS, 1 },
	{ "zk+srv", ZKC__SCHEME_SRV, 0 }, { "zks+srv", ZKC__SCHEME_SRV, 1 },
	{ "zk+k8s", ZKC__SCHEME_K8S, 0 }, { "zks+k8s", ZKC__SCHEME_K8S, 1 },
};

enum opt_kind {
	OPT_DURATION,   /* int ms > 0 */
	OPT_CONNECT,    /* int ms > 0, or -1 */
	OPT_RETRY_MS,   /* int ms, a field of url->retry */
	OPT_COUNT,      /* int >= 0, a field of url->retry */
	OPT_BOOL,       /* 0 or 1 */
	OPT_STRING,     /* char *, may be echoed */
	OPT_SECRET,     /* char *, never echoed */
	OPT_DIGEST,     /* "user:password", the password never echoed */
	OPT_DNS_SERVER  /* ip, ip:port, [v6], [v6]:port */
};

struct option {
	const char *name;
	int kind;
	int tls;        /* naming it turns TLS on */
	size_t offset;  /* of the field in zkc__url_t */
};

#define OPT(name, kind, tls, field) { name, kind, tls, offsetof(zkc__url_t, field) }
static const struct option options[] = {
	OPT("session_timeout", OPT_DURATION, 0, session_timeout_ms),
	OPT("connect_timeout", OPT_CONNECT, 0, connect_timeout_ms),
	OPT("retry_base", OPT_RETRY_MS, 0, retry.base_ms),
	OPT("retry_max", OPT_RETRY_MS, 0, retry.max_ms),
	OPT("retry_deadline", OPT_RETRY_MS, 0, retry.deadline_ms),
	OPT("retry_attempts", OPT_COUNT, 0, retry.max_attempts),
	OPT("digest", OPT_DIGEST, 0, digest),
	OPT("dns_server", OPT_DNS_SERVER, 0, dns_server),
	OPT("dns_interval", OPT_DURATION, 0, dns_interval_ms),
	OPT("read_only", OPT_BOOL, 0, read_only),
	OPT("ca", OPT_STRING, 1, tls_ca),
	OPT("cert", OPT_STRING, 1, tls_cert),
	OPT("key", OPT_STRING, 1, tls_key),
	OPT("key_password", OPT_SECRET, 1, tls_key_password),
	OPT("server_name", OPT_STRING, 1, tls_server_name),
	OPT("verify_host", OPT_BOOL, 1, tls_verify_host),
	OPT("kubeconfig", OPT_STRING, 0, k8s_kubeconfig),
	OPT("include_not_ready", OPT_BOOL, 0, k8s_include_not_ready),
};
#define NOPTIONS (sizeof(options) / sizeof(options[0]))

struct parser {
	const char *url;
	size_t len;
	zkc__url_t *u;
	int seen[NOPTIONS];
};

/* ------------------------------------------------------------ messages */

#define QBUF ZKC__QUOTE_BUF

/* Records ZKC_EURL: the redacted URL, the reason and the byte offset of
 * the offending part ((size_t)-1: none). */
/* A reason may quote raw parts of the URL (a host, a port, a path). When a
 * secret option's name stands anywhere in the URL - also where the
 * redactor, which reads the query, does not look - quoted text is not
 * shown at all: "...in host \"***\"". */
static void hide_quotes(char *reason, const char *url)
{
	char *q = reason, *end;

	if (!strstr(url, "digest=") && !strstr(url, "key_password="))
		return;
	while ((q = strchr(q, '"')) != NULL) {
		/* zkc__quote() escapes '"' and '\\' inside: find the unescaped end */
		for (end = q + 1; *end && *end != '"'; end++)
			if (*end == '\\' && end[1])
				end++;
		if (!*end) {
			/* cut short by the reason's size: hide the rest */
			if (strlen(q) >= 5)
				memcpy(q + 1, "***\"", 5);
			else
				*q = '\0';
			break;
		}
		memmove(q + 4, end, strlen(end) + 1);
		memcpy(q + 1, "***", 3);
		q += 5;
	}
}

static int fail(const struct parser *p, size_t at, const char *fmt, ...) ZKC__PRINTF(3, 4);
static int fail(const struct parser *p, size_t at, const char *fmt, ...)
{
	char reason[512], q[QBUF];
	char *red = zkc__url_redact(p->url);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	hide_quotes(reason, p->url);
	zkc__quote(q, sizeof(q), red ? red : "", red ? strlen(red) : 0);
	free(red);
	if (at == (size_t)-1)
		return zkc__error(ZKC_EURL, "invalid URL \"%s\": %s", q, reason);
	return zkc__error(ZKC_EURL, "invalid URL \"%s\": %s (at offset %zu)", q, reason, at);
}

/* ------------------------------------------------------------ hosts */

static int is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_';
}

/* Parses the decimal port in [s, e) into *out (1..65535). */
static int parse_port(struct parser *p, const char *s, const char *e, int *out)
{
	char q[QBUF];
	long v = 0;

	zkc__quote(q, sizeof(q), s, (size_t)(e - s));
	if (s == e)
		return fail(p, (size_t)(s - p->url), "missing port after ':'");
	for (const char *c = s; c < e; c++) {
		if (*c < '0' || *c > '9')
			return fail(p, (size_t)(s - p->url), "invalid port \"%s\"", q);
		if (v <= 65535)
			v = v * 10 + (*c - '0');
	}
	if (v < 1 || v > 65535)
		return fail(p, (size_t)(s - p->url), "port \"%s\" out of range 1..65535", q);
	*out = (int)v;
	return ZKC_OK;
}

/* One "host[:port]" or "[v6][:port]" in [s, e). */
static int parse_host(struct parser *p, const char *s, const char *e, zkc__hostport_t *hp)
{
	const char *hs = s, *he, *port = NULL;
	char q[QBUF];
	size_t at = (size_t)(s - p->url);
	int scheme = p->u->scheme;

	zkc__quote(q, sizeof(q), s, (size_t)(e - s));
	if (s == e)
		return fail(p, at, "empty host");
	if (*s == '[') {
		char addr[INET6_ADDRSTRLEN + 1];
		struct in6_addr a6;
		const char *rb = memchr(s, ']', (size_t)(e - s));

		if (!rb)
			return fail(p, at, "missing ']' in \"%s\"", q);
		hs = s + 1;
		he = rb;
		if ((size_t)(he - hs) >= sizeof(addr))
			return fail(p, at, "invalid IPv6 address in \"%s\"", q);
		memcpy(addr, hs, (size_t)(he - hs));
		addr[he - hs] = '\0';
		if (inet_pton(AF_INET6, addr, &a6) != 1)
			return fail(p, at, "invalid IPv6 address in \"%s\"", q);
		if (rb + 1 < e) {
			if (rb[1] != ':')
				return fail(p, (size_t)(rb + 1 - p->url), "expected ':' after ']' in \"%s\"",
				            q);
			port = rb + 2;
		}
		if (scheme == ZKC__SCHEME_SRV || scheme == ZKC__SCHEME_K8S)
			return fail(p, at, "%s URLs take a name, not an address",
			            scheme == ZKC__SCHEME_SRV ? "SRV" : "Kubernetes");
	} else {
		const char *colon = memchr(s, ':', (size_t)(e - s));

		he = colon ? colon : e;
		if (colon && memchr(colon + 1, ':', (size_t)(e - colon - 1)))
			return fail(p, at, "IPv6 address \"%s\" must be in brackets ([::1]:2181)", q);
		if (he == hs)
			return fail(p, at, "empty host in \"%s\"", q);
		for (const char *c = hs; c < he; c++)
			if (!is_name_char(*c))
				return fail(p, (size_t)(c - p->url), "invalid character in host \"%s\"", q);
		if (he - hs > HOST_MAX)
			return fail(p, at, "host name longer than %d bytes", HOST_MAX);
		if (colon)
			port = colon + 1;
	}
	hp->port = DEFAULT_PORT;
	if (port) {
		if (scheme == ZKC__SCHEME_SRV)
			return fail(p, at, "an SRV name takes no port (its records give the ports)");
		int prc = parse_port(p, port, e, &hp->port);

		if (prc != ZKC_OK)
			return prc;     /* its message names the port */
	} else if (scheme == ZKC__SCHEME_SRV) {
		hp->port = 0;
	}
	hp->host = zkc__strndup(hs, (size_t)(he - hs));
	return hp->host ? ZKC_OK : zkc__error(ZKC_ENOMEM, "out of memory parsing URL");
}

/* A Kubernetes name label: lowercase letters, digits and '-', not at
 * either end, at most 63 bytes. */
static int is_k8s_label(const char *s, size_t n)
{
	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}

static int parse_hosts(struct parser *p, const char *s, const char *e)
{
	zkc__url_t *u = p->u;
	size_t n = 1;

	for (const char *c = s; c < e; c++)
		n += *c == ',';
	if (u->scheme == ZKC__SCHEME_SRV && n != 1)
		return fail(p, (size_t)(s - p->url), "an SRV URL takes exactly one name, got %zu", n);
	if (u->scheme == ZKC__SCHEME_K8S && n != 1)
		return fail(p, (size_t)(s - p->url),
		            "a Kubernetes URL takes exactly one service.namespace, got %zu", n);
	u->hosts = calloc(n, sizeof(*u->hosts));
	if (!u->hosts)
		return zkc__error(ZKC_ENOMEM, "out of memory parsing URL");
	for (const char *hs = s;; hs++) {
		const char *he = memchr(hs, ',', (size_t)(e - hs));
		int rc;

		if (!he)
			he = e;
		rc = parse_host(p, hs, he, &u->hosts[u->nhosts]);
		if (rc != ZKC_OK)
			return rc;
		u->nhosts++;
		if (he == e)
			break;
		hs = he;
	}
	if (u->scheme == ZKC__SCHEME_K8S) {
		const char *h = u->hosts[0].host, *dot = strchr(h, '.');
		char q[QBUF];

		zkc__quote(q, sizeof(q), h, strlen(h));
		if (!dot || strchr(dot + 1, '.') || !is_k8s_label(h, (size_t)(dot - h)) ||
		    !is_k8s_label(dot + 1, strlen(dot + 1)))
			return fail(p, (size_t)(s - p->url),
			            "expected service.namespace (lowercase names), got \"%s\"", q);
	}
	return ZKC_OK;
}

/* ------------------------------------------------------------ query */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decodes [s, e) into a malloc'd string; '+' stays '+' (RFC 3986,
 * and passwords contain it). A bad escape or %00 sets *bad to its offset
 * from s and returns NULL; out of memory returns NULL with *bad untouched. */
static char *percent_decode(const char *s, const char *e, size_t *bad)
{
	char *out = malloc((size_t)(e - s) + 1), *o = out;

	if (!out)
		return NULL;
	for (const char *c = s; c < e; c++) {
		int hi, lo;

		if (*c != '%') {
			*o++ = *c;
			continue;
		}
		hi = e - c >= 3 ? hexval(c[1]) : -1;
		lo = e - c >= 3 ? hexval(c[2]) : -1;
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
			*bad = (size_t)(c - s);
			free(out);
			return NULL;
		}
		*o++ = (char)(hi * 16 + lo);
		c += 2;
	}
	*o = '\0';
	return out;
}

/* A port number in s[0..n), or -1. */
static int port_value(const char *s, size_t n)
{
	long v = 0;

	if (n == 0 || n > 5)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v >= 1 && v <= 65535 ? (int)v : -1;
}

static const struct option *find_option(const char *name, size_t n)
{
	for (size_t i = 0; i < NOPTIONS; i++)
		if (strlen(options[i].name) == n && memcmp(options[i].name, name, n) == 0)
			return &options[i];
	return NULL;
}

static int *int_field(zkc__url_t *u, const struct option *o)
{
	return (int *)(void *)((char *)u + o->offset);
}

static char **str_field(zkc__url_t *u, const struct option *o)
{
	return (char **)(void *)((char *)u + o->offset);
}

/* Whether s reads as digits and a known unit, so a failed parse can only
 * have been an overflow. */
static int duration_syntax_ok(const char *s)
{
	size_t d = strspn(s, "0123456789");
	return d > 0 && (!s[d] || !strcmp(s + d, "ms") || !strcmp(s + d, "s") ||
	                 !strcmp(s + d, "m"));
}

static int apply_duration(struct parser *p, const struct option *o, const char *val, size_t at)
{
	char q[QBUF];
	int64_t ms;
	int *field = int_field(p->u, o);

	zkc__quote(q, sizeof(q), val, strlen(val));
	if (o->kind == OPT_CONNECT && strcmp(val, "-1") == 0) {
		*field = -1;
		return ZKC_OK;
	}
	if (zkc__parse_duration_ms(&ms, val) != ZKC_OK || ms > INT_MAX) {
		if (!duration_syntax_ok(val))
			return fail(p, at,
			            "option \"%s\": invalid duration \"%s\" (use e.g. 500ms, 10s, 2m; "
			            "a bare number is ms)",
			            o->name, q);
		return fail(p, at, "option \"%s\": duration \"%s\" too large (at most %d ms)", o->name,
		            q, INT_MAX);
	}
	if (ms == 0 && o->kind == OPT_CONNECT)
		return fail(p, at, "option \"%s\" must be > 0, or -1 to connect in the background",
		            o->name);
	if (ms == 0 && o->kind == OPT_DURATION)
		return fail(p, at, "option \"%s\" must be > 0", o->name);
	*field = (int)ms;
	return ZKC_OK;
}

static int apply_dns_server(struct parser *p, const struct option *o, const char *val, size_t at)
{
	char addr[INET6_ADDRSTRLEN + 1], q[QBUF];
	const char *as = val, *ae, *port = NULL;
	unsigned char buf[sizeof(struct in6_addr)];
	int family = AF_INET;
	const char *colon = strchr(val, ':');

	zkc__quote(q, sizeof(q), val, strlen(val));
	if (val[0] == '[') {
		const char *rb = strchr(val, ']');
		if (!rb || (rb[1] && rb[1] != ':'))
			goto bad;
		as = val + 1;
		ae = rb;
		port = rb[1] ? rb + 2 : NULL;
		family = AF_INET6;
	} else if (colon && strchr(colon + 1, ':')) {
		ae = val + strlen(val);  /* bare IPv6, no port */
		family = AF_INET6;
	} else {
		ae = colon ? colon : val + strlen(val);
		port = colon ? colon + 1 : NULL;
	}
	if ((size_t)(ae - as) >= sizeof(addr))
		goto bad;
	memcpy(addr, as, (size_t)(ae - as));
	addr[ae - as] = '\0';
	if (inet_pton(family, addr, buf) != 1)
		goto bad;
	p->u->dns_port = DEFAULT_DNS_PORT;
	if (port && (p->u->dns_port = port_value(port, strlen(port))) < 0)
		return fail(p, at, "option \"%s\": bad port in \"%s\" (1..65535)", o->name, q);
	p->u->dns_server = zkc__strdup(addr);
	return p->u->dns_server ? ZKC_OK : zkc__error(ZKC_ENOMEM, "out of memory parsing URL");
bad:
	return fail(p, at, "option \"%s\": \"%s\" is not ip, ip:port or [ipv6]:port", o->name, q);
}

/* Stores the decoded value of one option; takes ownership of val. */
static int apply_option(struct parser *p, const struct option *o, char *val, size_t at)
{
	zkc__url_t *u = p->u;
	char q[QBUF];
	int rc = ZKC_OK;

	if (o->tls)
		u->tls = 1;
	/* Only kinds that may echo their value quote it. */
	if (o->kind == OPT_COUNT || o->kind == OPT_BOOL)
		zkc__quote(q, sizeof(q), val, strlen(val));
	switch (o->kind) {
	case OPT_RETRY_MS:
	case OPT_COUNT:
		/* Any retry option makes a whole policy: the rest from the default. */
		if (u->retry.version == 0)
			u->retry = (zkc_retry_t)ZKC_RETRY_INIT;
		if (o->kind == OPT_RETRY_MS) {
			rc = apply_duration(p, o, val, at);
			break;
		}
		if (strspn(val, "0123456789") != strlen(val) || strlen(val) > 10 ||
		    strtoll(val, NULL, 10) > INT_MAX)
			rc = fail(p, at, "option \"%s\": \"%s\" is not a count (0..%d)", o->name, q,
			          INT_MAX);
		else
			*int_field(u, o) = (int)strtol(val, NULL, 10);
		break;
	case OPT_DURATION:
	case OPT_CONNECT:
		rc = apply_duration(p, o, val, at);
		break;
	case OPT_BOOL:
		if (strcmp(val, "0") != 0 && strcmp(val, "1") != 0)
			rc = fail(p, at, "option \"%s\" must be 0 or 1, not \"%s\"", o->name, q);
		else
			*int_field(u, o) = val[0] == '1';
		break;
	case OPT_DNS_SERVER:
		rc = apply_dns_server(p, o, val, at);
		break;
	case OPT_DIGEST:
		if (!strchr(val, ':'))
			rc = fail(p, at, "option \"digest\" must be user:password (value not shown)");
		else if (val[0] == ':')
			rc = fail(p, at, "option \"digest\" has an empty user name");
		else
			*str_field(u, o) = val, val = NULL;
		break;
	case OPT_STRING:
	case OPT_SECRET:
		*str_field(u, o) = val, val = NULL;
		break;
	}
	if (val) {
		explicit_bzero(val, strlen(val));  /* it may have been a password */
		free(val);
	}
	return rc;
}

/* One "name=value" in [s, e). *after_secret says the previous option held
 * a secret: text that fails to parse right after one may be a piece of a
 * password with an unescaped '&', so it is not quoted. */
static int parse_option(struct parser *p, const char *s, const char *e, int *after_secret)
{
	size_t at = (size_t)(s - p->url), bad = (size_t)-1;
	const char *eq = memchr(s, '=', (size_t)(e - s));
	const char *ne = eq ? eq : e;
	const struct option *o = find_option(s, (size_t)(ne - s));
	char q[QBUF], *val;
	int prev = *after_secret;

	*after_secret = 0;
	if (s == e)
		return fail(p, at, "empty option (stray '&')");
	if (!o && prev)
		return fail(p, at, "unexpected text after a secret option (value not shown); "
		                   "percent-encode '&' as %%26 in passwords");
	zkc__quote(q, sizeof(q), s, (size_t)(ne - s));
	if (!o && !eq)
		return fail(p, at, "expected name=value");
	if (!o)
		return fail(p, at, "unknown option \"%s\"", q);
	if (!eq)
		return fail(p, at, "option \"%s\" needs a value", o->name);
	if (p->seen[o - options]++)
		return fail(p, at, "option \"%s\" given twice", o->name);
	if (eq + 1 == e)
		return fail(p, at, "option \"%s\" has an empty value", o->name);
	val = percent_decode(eq + 1, e, &bad);
	if (!val && bad != (size_t)-1)
		return fail(p, (size_t)(eq + 1 - p->url) + bad,
		            "option \"%s\": bad percent-escape (%%XX, not %%00)", o->name);
	if (!val)
		return zkc__error(ZKC_ENOMEM, "out of memory parsing URL");
	*after_secret = o->kind == OPT_SECRET || o->kind == OPT_DIGEST;
	return apply_option(p, o, val, at);
}

static int parse_query(struct parser *p, const char *s, const char *e)
{
	int after_secret = 0;

	if (s == e)
		return ZKC_OK;  /* a bare '?' */
	for (const char *seg = s;;) {
		const char *end = memchr(seg, '&', (size_t)(e - seg));
		int rc;

		if (!end)
			end = e;
		rc = parse_option(p, seg, end, &after_secret);
		if (rc != ZKC_OK)
			return rc;
		if (end == e)
			return ZKC_OK;
		seg = end + 1;
	}
}

/* ------------------------------------------------------------ the whole URL */

static int parse_chroot(struct parser *p, const char *s, const char *e)
{
	size_t bad = (size_t)-1, len;
	char *path = percent_decode(s, e, &bad);

	if (!path && bad != (size_t)-1)
		return fail(p, (size_t)(s - p->url) + bad, "chroot: bad percent-escape (%%XX, not %%00)");
	if (!path)
		return zkc__error(ZKC_ENOMEM, "out of memory parsing URL");
	len = strlen(path);
	if (zkc_path_validate(path, len) != ZKC_OK) {
		int rc = fail(p, (size_t)(s - p->url), "chroot: %s", zkc_error_last()->message);
		free(path);
		return rc;
	}
	if (strcmp(path, "/") == 0)
		free(path);  /* "/" is no chroot */
	else
		p->u->chroot = path;
	return ZKC_OK;
}

static int parse_url(struct parser *p)
{
	const char *url = p->url, *sep, *as, *ae, *end = url + p->len;
	zkc__url_t *u = p->u;
	size_t i;
	int rc;

	for (i = 0; i < p->len; i++)
		if ((unsigned char)url[i] <= 0x20 || url[i] == 0x7f)
			return fail(p, i, "space or control character");

	sep = strstr(url, "://");
	if (!sep)
		return fail(p, 0, "missing scheme (expected zk://host:port)");
	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		if (strlen(schemes[i].name) == (size_t)(sep - url) &&
		    strncasecmp(schemes[i].name, url, (size_t)(sep - url)) == 0) {
			u->scheme = schemes[i].scheme;
			u->tls = schemes[i].tls;
			break;
		}
	}
	if (i == sizeof(schemes) / sizeof(schemes[0])) {
		char q[QBUF];
		zkc__quote(q, sizeof(q), url, (size_t)(sep - url));
		return fail(p, 0, "unknown scheme \"%s\" (use zk, zks, zk+dns, zks+dns, zk+srv, "
		                  "zks+srv, zk+k8s or zks+k8s)", q);
	}

	as = sep + 3;
	ae = as + strcspn(as, "/?");
	if (as == ae)
		return fail(p, (size_t)(as - url), "no hosts");
	if (memchr(as, '@', (size_t)(ae - as)))
		return fail(p, (size_t)(as - url),
		            "credentials before '@' are not supported (use ?digest=user:password)");
	if ((rc = parse_hosts(p, as, ae)) != ZKC_OK)
		return rc;
	if (*ae == '/') {
		const char *pe = ae + strcspn(ae, "?");
		if ((rc = parse_chroot(p, ae, pe)) != ZKC_OK)
			return rc;
		ae = pe;
	}
	if (*ae == '?' && (rc = parse_query(p, ae + 1, end)) != ZKC_OK)
		return rc;

	if (u->retry.version != 0 && zkc_retry_validate(&u->retry) != ZKC_OK)
		return fail(p, (size_t)-1, "retry options: %s", zkc_error_last()->message);
	return ZKC_OK;
}

int zkc__url_parse(zkc__url_t **out, const char *url)
{
	struct parser p;
	int rc;

	if (!out)
		return zkc__error(ZKC_EBADARGUMENTS, "zkc__url_parse: out is NULL");
	*out = NULL;
	if (!url)
		return zkc__error(ZKC_EURL, "no URL given");
	memset(&p, 0, sizeof(p));
	p.url = url;
	p.len = strnlen(url, URL_MAX_BYTES + 1);
	if (p.len > URL_MAX_BYTES)
		return zkc__error(ZKC_EURL, "URL longer than %d bytes", URL_MAX_BYTES);
	if (p.len == 0)
		return zkc__error(ZKC_EURL, "empty URL");
	p.u = calloc(1, sizeof(*p.u));
	if (!p.u)
		return zkc__error(ZKC_ENOMEM, "out of memory parsing URL");
	p.u->tls_verify_host = 1;
	p.u->dns_port = DEFAULT_DNS_PORT;
	rc = parse_url(&p);
	if (rc != ZKC_OK) {
		zkc__url_free(p.u);
		return rc;
	}
	*out = p.u;
	return ZKC_OK;
}

static void free_secret(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

const char *zkc__url_scheme_name(size_t i)
{
	return i < sizeof(schemes) / sizeof(schemes[0]) ? schemes[i].name : NULL;
}

const char *zkc__url_option_name(size_t i)
{
	return i < NOPTIONS ? options[i].name : NULL;
}

void zkc__url_free(zkc__url_t *url)
{
	if (!url)
		return;
	for (size_t i = 0; i < url->nhosts; i++)
		free(url->hosts[i].host);
	free(url->hosts);
	free(url->chroot);
	free_secret(url->digest);
	free(url->dns_server);
	free(url->tls_ca);
	free(url->tls_cert);
	free(url->tls_key);
	free_secret(url->tls_key_password);
	free(url->tls_server_name);
	free(url->k8s_kubeconfig);
	free(url);
}

/* ------------------------------------------------------------ redaction */

/* Options whose values may be shown. Everything else (digest's password,
 * key_password, unknown names that may be a misspelt secret) is masked. */
static int shows_value(const char *name, size_t n)
{
	const struct option *o = find_option(name, n);
	return o && o->kind != OPT_SECRET && o->kind != OPT_DIGEST;
}

static void put(char **o, const char *s, size_t n)
{
	memcpy(*o, s, n);
	*o += n;
}

/* One query segment [s, e): keeps known names, masks what may be secret.
 * Returns whether it held a secret, so that the next segment (perhaps the
 * rest of a password with an unescaped '&') is masked whole. */
static int redact_segment(char **o, const char *s, const char *e, int after_secret)
{
	const char *eq = memchr(s, '=', (size_t)(e - s));
	const char *ne = eq ? eq : e, *mask;
	int known = find_option(s, (size_t)(ne - s)) != NULL;

	if (s == e)
		return 0;
	if (after_secret && !known) {
		put(o, "***", 3);
		return 1;
	}
	put(o, s, (size_t)(ne - s));
	if (!eq)
		return 0;
	put(o, "=", 1);
	if (shows_value(s, (size_t)(ne - s))) {
		put(o, eq + 1, (size_t)(e - eq - 1));
		return 0;
	}
	mask = eq + 1;
	if (ne - s == 6 && memcmp(s, "digest", 6) == 0) {
		const char *colon = memchr(eq + 1, ':', (size_t)(e - eq - 1));
		if (colon) {
			put(o, eq + 1, (size_t)(colon + 1 - (eq + 1)));  /* the user stays */
			mask = colon + 1;
		}
	}
	if (e > mask)
		put(o, "***", 3);
	return 1;
}

/* Masks the password of "user:password@" before the hosts. */
static char *redact_userinfo(const char *url)
{
	const char *sep = strstr(url, "://");
	const char *as = sep ? sep + 3 : url, *ae = as + strcspn(as, "/?"), *at = NULL, *colon;
	char *out, *o;

	for (const char *c = as; c < ae; c++)
		if (*c == '@')
			at = c;
	colon = at ? memchr(as, ':', (size_t)(at - as)) : NULL;
	if (!colon)
		return zkc__strdup(url);
	out = malloc(strlen(url) + 4);
	if (!out)
		return NULL;
	o = out;
	put(&o, url, (size_t)(colon + 1 - url));
	put(&o, "***", 3);
	put(&o, at, strlen(at) + 1);
	return out;
}

char *zkc__url_redact(const char *url)
{
	char *tmp, *out, *o;
	const char *c;
	int after_secret = 0;

	if (!url)
		return NULL;
	tmp = redact_userinfo(url);
	if (!tmp)
		return NULL;
	/* Each masked value grows by at most two bytes ("x" -> "***"). */
	out = malloc(2 * strlen(tmp) + 4);
	if (!out) {
		free(tmp);
		return NULL;
	}
	o = out;
	/* Every segment after a '?' or '&' is treated as an option, even where
	 * the URL is malformed: masking too much is harmless, too little not. */
	for (c = tmp; *c;) {
		const char *e;

		if (*c != '?' && *c != '&') {
			*o++ = *c++;
			continue;
		}
		*o++ = *c++;
		e = c + strcspn(c, "&?");
		after_secret = redact_segment(&o, c, e, after_secret);
		c = e;
	}
	*o = '\0';
	free(tmp);
	return out;
}

char *zkc__url_hosts_string(const zkc__url_t *url)
{
	size_t cap = 1, i;
	char *out, *o;

	if (!url)
		return NULL;
	for (i = 0; i < url->nhosts; i++)
		cap += strlen(url->hosts[i].host) + 8;
	out = malloc(cap);
	if (!out)
		return NULL;
	o = out;
	*o = '\0';
	for (i = 0; i < url->nhosts; i++) {
		const zkc__hostport_t *h = &url->hosts[i];
		int n = h->port ? snprintf(o, cap - (size_t)(o - out), "%s%s:%d", i ? "," : "", h->host,
		                           h->port)
		                : snprintf(o, cap - (size_t)(o - out), "%s%s", i ? "," : "", h->host);
		o += n;
	}
	return out;
}
