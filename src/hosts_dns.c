/* src/hosts_dns.c - the DNS host provider: zk+dns:// names (A/AAAA) and
 * zk+srv:// records, re-resolved by a thread that reports list changes. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1  /* struct __res_state members */
#endif
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <resolv.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "internal.h"

#define DNS_INTERVAL_DEFAULT_MS 5000
/* current() waits this long for the first lookup, then answers "" and
 * lets the thread notify when the lookup finishes. */
#define DNS_FIRST_WAIT_MS 5000
/* A list longer than this is a misconfiguration (or a hostile answer);
 * libzookeeper copes badly with thousands of servers. */
#define DNS_MAX_SERVERS 256
#define DNS_MAX_TARGETS 256
#define DNS_NAME_MAX 253
#define DNS_LABEL_MAX 63
#define DNS_ANSWER_MAX 65536      /* the largest DNS message (over TCP) */
#define DNS_PORT_DEFAULT 53
#define DNS_PROBLEMS_MAX 4096     /* bytes of problem text kept per pass */
/* Per query with a configured server: 1 s, then 2 s (glibc doubles the
 * timeout per try), so one unanswered query costs at most 3 s. */
#define DNS_RETRANS_S 1
#define DNS_RETRY 2

#define ADDR_TEXT_MAX 64          /* INET6_ADDRSTRLEN (46) rounded up */

typedef struct dns_name {
	char *name;               /* host name, or a normalised IP literal */
	int port;
	int literal;              /* IP literal: used as is, never looked up */
} dns_name_t;

typedef struct dns_hosts {
	zkc__hosts_t base;        /* first: the provider is cast to it */
	int srv;                  /* zk+srv: names[0] is the SRV name */
	dns_name_t *names;
	size_t nnames;
	char *label;              /* "zk+dns a:2181,b:2181", for log lines */
	int use_server;           /* ask `server` instead of the system resolver */
	struct sockaddr_in server;    /* an IPv4 server */
	struct sockaddr_in6 server6;  /* an IPv6 server (server.sin_family 0) */
	char server_text[ADDR_TEXT_MAX + 16];
	int interval_ms;

	/* lock, latest list, what the client has, notify (f.latest: the list the last pass produced) */
	zkc__follow_t f;
	pthread_t thread;
	int thread_running;

	/* the resolver thread's own */
	char *last_problems;      /* problems of the previous pass, for WARN once */
} dns_hosts_t;

/* One resolution pass: everything here lives on the resolver thread. */
typedef struct dns_pass {
	dns_hosts_t *h;
	struct __res_state res;   /* private resolver state: no globals */
	int res_ready;
	int res_failed;           /* never fall back to the system's servers */
	int res_nscount;          /* restored before res_nclose frees per server */
	unsigned char *answer;    /* DNS_ANSWER_MAX bytes */
	char **servers;           /* "ip:port", unique, at most DNS_MAX_SERVERS */
	size_t nservers;
	int capped;
	char *problems;           /* one problem per line */
	size_t problems_len;
	int oom;
} dns_pass_t;

/* ------------------------------------------------------------ validation */

static int is_name_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/* Rejects what DNS cannot carry, so a typo fails at open with a reason
 * instead of resolving to nothing forever. */
static int check_name(const char *scheme, const char *name)
{
	size_t len, label = 0;

	if (!name || !*name)
		return zkc__error(ZKC_EBADARGUMENTS, "%s: empty host name", scheme);
	len = strlen(name);
	if (name[len - 1] == '.')
		len--;            /* a fully qualified name's root dot */
	if (len == 0)
		return zkc__error(ZKC_EBADARGUMENTS, "%s: empty host name", scheme);
	if (len > DNS_NAME_MAX)
		return zkc__error(ZKC_EBADARGUMENTS,
		                  "%s: host name \"%.40s...\" has %zu characters; DNS allows %d",
		                  scheme, name, len, DNS_NAME_MAX);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c == '.') {
			if (label == 0)
				return zkc__error(ZKC_EBADARGUMENTS,
				                  "%s: host name \"%.64s\" has an empty label",
				                  scheme, name);
			label = 0;
			continue;
		}
		if (!is_name_char(c))
			return zkc__error(ZKC_EBADARGUMENTS,
			                  "%s: host name \"%.64s\" has an invalid character at "
			                  "position %zu (letters, digits, '-', '_' and '.' only; "
			                  "write international names in punycode)",
			                  scheme, name, i + 1);
		if (++label > DNS_LABEL_MAX)
			return zkc__error(ZKC_EBADARGUMENTS,
			                  "%s: host name \"%.64s\" has a label longer than %d characters",
			                  scheme, name, DNS_LABEL_MAX);
	}
	if (label == 0)
		return zkc__error(ZKC_EBADARGUMENTS, "%s: host name \"%.64s\" has an empty label",
		                  scheme, name);
	return ZKC_OK;
}

/* RFC 2782 names are _service._proto.domain; a plain host name given to
 * zk+srv:// is the usual mistake (meant zk+dns://), so say so. */
static int check_srv_name(const char *name)
{
	const char *dot1, *dot2;

	if (name[0] == '_' && (dot1 = strchr(name, '.')) && dot1[1] == '_' &&
	    (dot2 = strchr(dot1 + 1, '.')) && dot2[1] != '\0')
		return ZKC_OK;
	return zkc__error(ZKC_EBADARGUMENTS,
	                  "zk+srv: \"%.64s\" is not an SRV name: expected _service._proto.domain "
	                  "(e.g. _client._tcp.zk-hs.ns.svc.cluster.local); for host names use "
	                  "zk+dns://", name);
}

/* Writes the canonical text of an IP literal into buf (so "::0001" and
 * "::1" are one server); 0 when text is not an IP literal. */
static int ip_literal(const char *text, char *buf, size_t cap)
{
	unsigned char addr[16];

	if (inet_pton(AF_INET, text, addr) == 1)
		return inet_ntop(AF_INET, addr, buf, (socklen_t)cap) != NULL;
	if (inet_pton(AF_INET6, text, addr) == 1)
		return inet_ntop(AF_INET6, addr, buf, (socklen_t)cap) != NULL;
	return 0;
}

/* ------------------------------------------------------------ pass helpers */

static int dns_stopping(dns_hosts_t *h)
{
	int stop;

	pthread_mutex_lock(&h->f.mu);
	stop = h->f.stop;
	pthread_mutex_unlock(&h->f.mu);
	return stop;
}

static void pass_problem(dns_pass_t *p, const char *fmt, ...) ZKC__PRINTF(2, 3);
static void pass_problem(dns_pass_t *p, const char *fmt, ...)
{
	char line[512];
	size_t n;
	char *grown;
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(line, sizeof(line), fmt, ap) < 0)
		line[0] = '\0';
	va_end(ap);
	n = strlen(line);
	/* A huge answer may fail in many ways; the first few say enough. */
	if (p->problems_len + n + 2 > DNS_PROBLEMS_MAX)
		return;
	grown = realloc(p->problems, p->problems_len + n + 2);
	if (!grown) {
		p->oom = 1;
		return;
	}
	p->problems = grown;
	memcpy(p->problems + p->problems_len, line, n);
	p->problems_len += n;
	p->problems[p->problems_len++] = '\n';
	p->problems[p->problems_len] = '\0';
}

/* Adds "ip:port" unless present. IPv6 goes without brackets: libzookeeper
 * splits host and port at the last ':'. */
static void pass_add_text(dns_pass_t *p, const char *ip, int port)
{
	char item[ADDR_TEXT_MAX + 8];
	char **grown;

	snprintf(item, sizeof(item), "%s:%d", ip, port);
	for (size_t i = 0; i < p->nservers; i++)
		if (strcmp(p->servers[i], item) == 0)
			return;
	if (p->nservers >= DNS_MAX_SERVERS) {
		p->capped = 1;
		return;
	}
	grown = realloc(p->servers, (p->nservers + 1) * sizeof(*grown));
	if (!grown) {
		p->oom = 1;
		return;
	}
	p->servers = grown;
	p->servers[p->nservers] = zkc__strdup(item);
	if (!p->servers[p->nservers]) {
		p->oom = 1;
		return;
	}
	p->nservers++;
}

static void pass_add_addr(dns_pass_t *p, int family, const void *addr, int port)
{
	char ip[ADDR_TEXT_MAX];

	if (inet_ntop(family, addr, ip, sizeof(ip)))
		pass_add_text(p, ip, port);
}

static const char *herrno_text(int herr)
{
	switch (herr) {
	case HOST_NOT_FOUND:
		return "no such name (NXDOMAIN)";
	case NO_DATA:
		return "no records of this type";
	case TRY_AGAIN:
		return "no answer from the DNS server (timeout, refused or server failure)";
	case NO_RECOVERY:
		return "the DNS server refused the query or failed";
	case NETDB_INTERNAL:
		return "resolver error";
	default:
		return "lookup failed";
	}
}

static void pass_res_close(dns_pass_t *p);

/* Sets up the private resolver state: the system's configuration, or the
 * configured server alone, with timeouts short enough for current()'s
 * bound. */
static int pass_res_init(dns_pass_t *p)
{
	dns_hosts_t *h = p->h;

	memset(&p->res, 0, sizeof(p->res));
	if (res_ninit(&p->res) != 0) {
		p->res_failed = 1;
		return -1;
	}
	p->res_ready = 1;
	/* res_nclose frees the per-server slot 0 below, so it must count. */
	p->res_nscount = p->res.nscount > 0 ? p->res.nscount : 1;
	if (!h->use_server)
		return 0;
	if (h->server.sin_family == AF_INET) {
		/* glibc uses nsaddr_list[n] whenever its family is set, even
		 * where resolv.conf put an IPv6 server in slot n. */
		p->res.nsaddr_list[0] = h->server;
	} else {
#if defined(__GLIBC__)
		/* IPv6 servers live in glibc's extension slots, which
		 * res_nclose frees: give slot 0 a heap copy. */
		struct sockaddr_in6 *a6 = malloc(sizeof(*a6));

		if (!a6) {
			p->oom = 1;
			pass_res_close(p);
			p->res_failed = 1;
			return -1;
		}
		*a6 = h->server6;
		free(p->res._u._ext.nsaddrs[0]);
		p->res._u._ext.nsaddrs[0] = a6;
		p->res.nsaddr_list[0].sin_family = 0;
#endif
	}
	p->res.nscount = 1;
	p->res.retrans = DNS_RETRANS_S;
	p->res.retry = DNS_RETRY;
	return 0;
}

static void pass_res_close(dns_pass_t *p)
{
	if (!p->res_ready)
		return;
	/* res_nclose frees per-server state up to nscount: give back the
	 * count res_ninit filled in, or servers past the first would leak. */
	p->res.nscount = p->res_nscount;
	res_nclose(&p->res);
	p->res_ready = 0;
}

/* Sends one query. Returns the answer length, or -1 with *why set. The
 * configured server gets the name as given (no search list); the system
 * resolver applies its search list as getaddrinfo would. */
static int pass_query(dns_pass_t *p, const char *name, int type, const char **why)
{
	int n;

	if (p->res_failed || (!p->res_ready && pass_res_init(p) != 0)) {
		*why = "resolver initialisation failed";
		return -1;
	}
	if (p->h->use_server)
		n = res_nquery(&p->res, name, ns_c_in, type, p->answer, DNS_ANSWER_MAX);
	else
		n = res_nsearch(&p->res, name, ns_c_in, type, p->answer, DNS_ANSWER_MAX);
	if (n < 0) {
		*why = herrno_text(p->res.res_h_errno);
		return -1;
	}
	if (n > DNS_ANSWER_MAX) {
		/* Cannot happen with a 64 KiB buffer; a cut message would
		 * parse as garbage, so refuse it outright. */
		*why = "answer larger than a DNS message";
		return -1;
	}
	return n;
}

/* Checks every answer record first and adds only if all parse: a half
 * parsed answer would make the list flap between passes. */
static int parse_addrs(dns_pass_t *p, int len, ns_type type, int port, const char **why)
{
	ns_msg msg;
	ns_rr rr;
	int count, added = 0;
	size_t want = type == ns_t_a ? 4 : 16;

	if (ns_initparse(p->answer, len, &msg) < 0) {
		*why = "malformed answer";
		return -1;
	}
	count = ns_msg_count(msg, ns_s_an);
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < count; i++) {
			if (ns_parserr(&msg, ns_s_an, i, &rr) < 0) {
				*why = "malformed answer record";
				return -1;
			}
			if (ns_rr_class(rr) != ns_c_in || ns_rr_type(rr) != type)
				continue;  /* the CNAME chain leading to the addresses */
			if (ns_rr_rdlen(rr) != want) {
				*why = "address record of the wrong size";
				return -1;
			}
			if (pass == 1) {
				pass_add_addr(p, type == ns_t_a ? AF_INET : AF_INET6,
				              ns_rr_rdata(rr), port);
				added++;
			}
		}
	}
	if (added == 0) {
		*why = "no records of this type";
		return -1;
	}
	return added;
}

static int lookup_type(dns_pass_t *p, const char *name, ns_type type, int port, const char **why)
{
	int n = pass_query(p, name, type, why);

	if (n < 0)
		return -1;
	return parse_addrs(p, n, type, port, why);
}

/* The configured server: an A and an AAAA query for the name. */
static int lookup_addrs_server(dns_pass_t *p, const char *what, const char *name, int port)
{
	dns_hosts_t *h = p->h;
	const char *why4 = "", *why6 = "";
	int ok4, ok6 = 0;

	ok4 = lookup_type(p, name, ns_t_a, port, &why4) > 0;
	if (!dns_stopping(h))
		ok6 = lookup_type(p, name, ns_t_aaaa, port, &why6) > 0;
	if (ok4 || ok6)
		return 0;
	if (strcmp(why4, why6) == 0)
		pass_problem(p, "%s %s: %s (DNS server %s)", what, name, why4, h->server_text);
	else
		pass_problem(p, "%s %s: A: %s; AAAA: %s (DNS server %s)", what, name, why4, why6,
		             h->server_text);
	return -1;
}

/* The system resolver through getaddrinfo, which honours nsswitch, the
 * search list and ndots as every other program on the machine does. */
static int lookup_addrs_system(dns_pass_t *p, const char *what, const char *name, int port)
{
	struct addrinfo hints, *res = NULL;
	int rc, added = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;  /* one entry per address */
	rc = getaddrinfo(name, NULL, &hints, &res);
	if (rc != 0) {
		pass_problem(p, "%s %s: %s", what, name,
		             rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return -1;
	}
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET) {
			pass_add_addr(p, AF_INET, &((struct sockaddr_in *)(void *)ai->ai_addr)->sin_addr,
			              port);
			added++;
		} else if (ai->ai_family == AF_INET6) {
			pass_add_addr(p, AF_INET6,
			              &((struct sockaddr_in6 *)(void *)ai->ai_addr)->sin6_addr, port);
			added++;
		}
	}
	freeaddrinfo(res);
	if (added == 0) {
		pass_problem(p, "%s %s: no IPv4 or IPv6 address", what, name);
		return -1;
	}
	return 0;
}

/* Adds every address of name with port; 0 on success, -1 when the name
 * contributed nothing (recorded as a problem, never an error: a name that
 * does not resolve is a server that is down). */
static int lookup_addrs(dns_pass_t *p, const char *what, const char *name, int port)
{
	if (p->h->use_server)
		return lookup_addrs_server(p, what, name, port);
	return lookup_addrs_system(p, what, name, port);
}

/* ------------------------------------------------------------ SRV */

typedef struct srv_target {
	char name[NS_MAXDNAME];
	int port;
} srv_target_t;

static int get16(const unsigned char *b)
{
	return (b[0] << 8) | b[1];
}

/* Reads the SRV answer into targets (unique target:port, capped). Priority
 * and weight are ignored: every ZooKeeper server is as good as another. */
static int parse_srv(dns_pass_t *p, int len, srv_target_t **out, size_t *nout, const char **why)
{
	ns_msg msg;
	ns_rr rr;
	int count;
	srv_target_t *t = NULL;
	size_t n = 0;

	*out = NULL;
	*nout = 0;
	if (ns_initparse(p->answer, len, &msg) < 0) {
		*why = "malformed answer";
		return -1;
	}
	count = ns_msg_count(msg, ns_s_an);
	for (int i = 0; i < count; i++) {
		char target[NS_MAXDNAME];
		const unsigned char *rd;
		int rdlen, port, used;
		int dup = 0;

		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0) {
			*why = "malformed answer record";
			goto bad;
		}
		if (ns_rr_class(rr) != ns_c_in || ns_rr_type(rr) != ns_t_srv)
			continue;
		rd = ns_rr_rdata(rr);
		rdlen = ns_rr_rdlen(rr);
		if (rdlen < 7) {
			*why = "SRV record too short";
			goto bad;
		}
		port = get16(rd + 4);
		used = dn_expand(ns_msg_base(msg), ns_msg_end(msg), rd + 6, target, sizeof(target));
		if (used < 0 || used > rdlen - 6) {
			*why = "SRV record with a malformed target name";
			goto bad;
		}
		/* "." means "no such service here" (RFC 2782); port 0 is no port. */
		if (target[0] == '\0' || port == 0)
			continue;
		for (size_t j = 0; j < n && !dup; j++)
			dup = t[j].port == port && strcmp(t[j].name, target) == 0;
		if (dup)
			continue;
		if (n >= DNS_MAX_TARGETS) {
			p->capped = 1;
			continue;
		}
		srv_target_t *grown = realloc(t, (n + 1) * sizeof(*t));
		if (!grown) {
			p->oom = 1;
			break;
		}
		t = grown;
		memcpy(t[n].name, target, strlen(target) + 1);
		t[n].port = port;
		n++;
	}
	if (n == 0) {
		free(t);
		*why = "no usable SRV records";
		return -1;
	}
	*out = t;
	*nout = n;
	return 0;
bad:
	free(t);
	return -1;
}

static void lookup_srv(dns_pass_t *p, const char *name)
{
	dns_hosts_t *h = p->h;
	srv_target_t *targets;
	size_t ntargets;
	const char *why = "";
	int len;

	len = pass_query(p, name, ns_t_srv, &why);
	if (len < 0 || parse_srv(p, len, &targets, &ntargets, &why) < 0) {
		if (h->use_server)
			pass_problem(p, "SRV %s: %s (DNS server %s)", name, why, h->server_text);
		else
			pass_problem(p, "SRV %s: %s", name, why);
		return;
	}
	for (size_t i = 0; i < ntargets && !dns_stopping(h); i++) {
		char ip[ADDR_TEXT_MAX];

		if (ip_literal(targets[i].name, ip, sizeof(ip)))
			pass_add_text(p, ip, targets[i].port);
		else
			lookup_addrs(p, "SRV target", targets[i].name, targets[i].port);
		if (p->nservers >= DNS_MAX_SERVERS && i + 1 < ntargets) {
			p->capped = 1;
			break;
		}
	}
	free(targets);
}

/* ------------------------------------------------------------ one pass */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted list "ip:port,..." (malloc'd, "" when nothing resolves). */
static char *pass_join(dns_pass_t *p)
{
	size_t total = 1, off = 0;
	char *s;

	if (p->nservers > 1)   /* qsort's array may not be NULL, even for 0 items */
		qsort(p->servers, p->nservers, sizeof(*p->servers), cmp_str);
	for (size_t i = 0; i < p->nservers; i++)
		total += strlen(p->servers[i]) + 1;
	s = malloc(total);
	if (!s)
		return NULL;
	for (size_t i = 0; i < p->nservers; i++) {
		size_t n = strlen(p->servers[i]);
		if (i > 0)
			s[off++] = ',';
		memcpy(s + off, p->servers[i], n);
		off += n;
	}
	s[off] = '\0';
	return s;
}

/* Logs this pass's problems at WARN when they differ from the last pass's,
 * at DEBUG when they repeat, so a name that stays down is not a WARN every
 * few seconds. */
static void pass_report(dns_pass_t *p)
{
	dns_hosts_t *h = p->h;
	int same = h->last_problems && p->problems && strcmp(h->last_problems, p->problems) == 0;
	int level = same ? ZKC_LOG_DEBUG : ZKC_LOG_WARN;

	if (p->problems) {
		char *line = p->problems, *nl;

		while (*line && (nl = strchr(line, '\n')) != NULL) {
			zkc__log(h->base.log, level, "%s: %.*s; retrying every %d ms", h->label,
			         (int)(nl - line), line, h->interval_ms);
			line = nl + 1;
		}
	} else if (h->last_problems) {
		zkc__log(h->base.log, ZKC_LOG_INFO, "%s: every name resolves again", h->label);
	}
	free(h->last_problems);
	h->last_problems = p->problems;
	p->problems = NULL;
}

static char *dns_pass_run(dns_hosts_t *h)
{
	dns_pass_t p;
	char *list = NULL;

	memset(&p, 0, sizeof(p));
	p.h = h;
	p.answer = malloc(DNS_ANSWER_MAX);
	if (!p.answer)
		return NULL;
	for (size_t i = 0; i < h->nnames && !dns_stopping(h); i++) {
		const dns_name_t *n = &h->names[i];

		if (h->srv)
			lookup_srv(&p, n->name);
		else if (n->literal)
			pass_add_text(&p, n->name, n->port);
		else
			lookup_addrs(&p, "name", n->name, n->port);
	}
	pass_res_close(&p);
	if (dns_stopping(h))
		goto out;   /* a cut-short pass is neither reported nor used */
	if (p.capped)
		pass_problem(&p, "more than %d servers; using %zu of them", DNS_MAX_SERVERS,
		             p.nservers);
	if (p.nservers == 0)
		pass_problem(&p, "no server resolves: the server list is empty");
	if (!p.oom)
		list = pass_join(&p);
	if (!list)
		zkc__log(h->base.log, ZKC_LOG_ERROR, "%s: out of memory while resolving; keeping "
		         "the previous server list", h->label);
	else
		pass_report(&p);
out:
	for (size_t i = 0; i < p.nservers; i++)
		free(p.servers[i]);
	free(p.servers);
	free(p.problems);
	free(p.answer);
	return list;
}

/* ------------------------------------------------------------ the thread */

/* Hands the latest list to the client if it differs from what the client
 * has. Called and returns with mu held; drops it around the callback. */
static void dns_notify_locked(dns_hosts_t *h)
{
	zkc__follow_notify_locked(&h->f);
}

static void *dns_thread(void *arg)
{
	dns_hosts_t *h = arg;
	struct timespec ts;

	pthread_mutex_lock(&h->f.mu);
	while (!h->f.stop) {
		char *list;

		pthread_mutex_unlock(&h->f.mu);
		list = dns_pass_run(h);
		pthread_mutex_lock(&h->f.mu);
		if (h->f.stop) {
			free(list);
			break;
		}
		if (list) {
			if (!h->f.latest || strcmp(h->f.latest, list) != 0)
				zkc__log(h->base.log, ZKC_LOG_INFO, "%s: servers now \"%s\"", h->label,
				         list);
			free(h->f.latest);
			h->f.latest = list;
			h->f.have_first = 1;
			pthread_cond_broadcast(&h->f.cond);   /* current() may wait */
		}
		dns_notify_locked(h);
		/* A timed wait, not a sleep, so free() stops the thread at once. */
		zkc__deadline_ts(&ts, h->interval_ms);
		while (!h->f.stop) {
			if (h->f.kick) {
				h->f.kick = 0;
				dns_notify_locked(h);
				continue;
			}
			if (pthread_cond_timedwait(&h->f.cond, &h->f.mu, &ts) == ETIMEDOUT)
				break;
		}
	}
	pthread_mutex_unlock(&h->f.mu);
	return NULL;
}

/* ------------------------------------------------------------ ops */

static int dns_current(zkc__hosts_t *base, char **out)
{
	dns_hosts_t *h = (dns_hosts_t *)base;
	int late = 0, rc = zkc__follow_current(&h->f, DNS_FIRST_WAIT_MS, h->label, out, &late);

	if (rc == ZKC_OK && late)
		zkc__log(h->base.log, ZKC_LOG_WARN,
		         "%s: the first lookup did not finish within %d ms; starting with no "
		         "servers, the list follows when it does", h->label, DNS_FIRST_WAIT_MS);
	return rc;
}

static int dns_start(zkc__hosts_t *base, zkc__hosts_notify_fn fn, void *ctx)
{
	dns_hosts_t *h = (dns_hosts_t *)base;

	return zkc__follow_start(&h->f, fn, ctx, h->label);
}

/* Must not be called from the notify function: it joins the thread that
 * runs it. */
static void dns_free(zkc__hosts_t *base)
{
	dns_hosts_t *h = (dns_hosts_t *)base;

	if (h->thread_running) {
		pthread_mutex_lock(&h->f.mu);
		h->f.stop = 1;
		pthread_cond_broadcast(&h->f.cond);
		pthread_mutex_unlock(&h->f.mu);
		/* Waits out at most the query in flight (a few seconds). */
		pthread_join(h->thread, NULL);
	}
	pthread_cond_destroy(&h->f.cond);
	pthread_mutex_destroy(&h->f.mu);
	for (size_t i = 0; i < h->nnames; i++)
		free(h->names[i].name);
	free(h->names);
	free(h->label);
	free(h->f.latest);
	free(h->f.reported);
	free(h->last_problems);
	free(h);
}

static const struct zkc__hosts_ops dns_ops = {
	.name = "dns",
	.current = dns_current,
	.start = dns_start,
	.free = dns_free,
};

/* ------------------------------------------------------------ construction */

static int dns_config(dns_hosts_t *h, const zkc__url_t *url)
{
	const char *scheme = h->srv ? "zk+srv" : "zk+dns";
	int port = url->dns_port ? url->dns_port : DNS_PORT_DEFAULT;

	if (url->dns_interval_ms < 0)
		return zkc__error(ZKC_EBADARGUMENTS, "%s: dns interval %d ms is negative", scheme,
		                  url->dns_interval_ms);
	h->interval_ms = url->dns_interval_ms ? url->dns_interval_ms : DNS_INTERVAL_DEFAULT_MS;
	if (!url->dns_server)
		return ZKC_OK;
	if (port < 1 || port > 65535)
		return zkc__error(ZKC_EBADARGUMENTS, "%s: dns port %d is not in 1..65535", scheme,
		                  url->dns_port);
	memset(&h->server, 0, sizeof(h->server));
	memset(&h->server6, 0, sizeof(h->server6));
	if (inet_pton(AF_INET, url->dns_server, &h->server.sin_addr) == 1) {
		h->server.sin_family = AF_INET;
		h->server.sin_port = htons((uint16_t)port);
		snprintf(h->server_text, sizeof(h->server_text), "%.*s:%d", ADDR_TEXT_MAX,
		         url->dns_server, port);
#if defined(__GLIBC__)
	} else if (inet_pton(AF_INET6, url->dns_server, &h->server6.sin6_addr) == 1) {
		h->server6.sin6_family = AF_INET6;
		h->server6.sin6_port = htons((uint16_t)port);
		snprintf(h->server_text, sizeof(h->server_text), "[%.*s]:%d", ADDR_TEXT_MAX,
		         url->dns_server, port);
#endif
	} else {
		return zkc__error(ZKC_EBADARGUMENTS,
		                  "%s: dns server \"%.64s\" is not an IP address (IPv6 needs "
		                  "glibc)", scheme,
		                  url->dns_server);
	}
	h->use_server = 1;
	return ZKC_OK;
}

static int dns_names(dns_hosts_t *h, const zkc__url_t *url)
{
	const char *scheme = h->srv ? "zk+srv" : "zk+dns";
	char ip[ADDR_TEXT_MAX];

	if (url->nhosts == 0 || !url->hosts)
		return zkc__error(ZKC_EBADARGUMENTS, "%s: the URL names no host", scheme);
	if (h->srv && url->nhosts != 1)
		return zkc__error(ZKC_EBADARGUMENTS, "zk+srv: exactly one SRV name expected, got %zu",
		                  url->nhosts);
	h->names = calloc(url->nhosts, sizeof(*h->names));
	if (!h->names)
		return zkc__error(ZKC_ENOMEM, "%s: out of memory", scheme);
	for (size_t i = 0; i < url->nhosts; i++) {
		const zkc__hostport_t *hp = &url->hosts[i];
		dns_name_t *n = &h->names[i];
		int rc;

		if (!h->srv && ip_literal(hp->host ? hp->host : "", ip, sizeof(ip))) {
			n->literal = 1;
			n->name = zkc__strdup(ip);
		} else {
			rc = check_name(scheme, hp->host);
			if (rc == ZKC_OK && h->srv)
				rc = check_srv_name(hp->host);
			if (rc != ZKC_OK)
				return rc;
			n->name = zkc__strdup(hp->host);
		}
		if (!n->name)
			return zkc__error(ZKC_ENOMEM, "%s: out of memory", scheme);
		h->nnames = i + 1;
		if (!h->srv && (hp->port < 1 || hp->port > 65535))
			return zkc__error(ZKC_EBADARGUMENTS, "zk+dns: port %d of \"%.64s\" is not in "
			                  "1..65535", hp->port, hp->host);
		n->port = hp->port;
	}
	return ZKC_OK;
}

static char *dns_label(const dns_hosts_t *h)
{
	size_t total = 8, off;
	char *s;

	for (size_t i = 0; i < h->nnames; i++)
		total += strlen(h->names[i].name) + 8;
	s = malloc(total);
	if (!s)
		return NULL;
	off = (size_t)snprintf(s, total, "%s", h->srv ? "zk+srv " : "zk+dns ");
	for (size_t i = 0; i < h->nnames; i++) {
		if (h->srv)
			off += (size_t)snprintf(s + off, total - off, "%s", h->names[i].name);
		else
			off += (size_t)snprintf(s + off, total - off, "%s%s:%d", i ? "," : "",
			                        h->names[i].name, h->names[i].port);
	}
	return s;
}

int zkc__hosts_dns_new(zkc__hosts_t **out, const zkc__url_t *url, const zkc__log_t *log)
{
	dns_hosts_t *h;
	int rc;

	if (!out || !url)
		return zkc__error(ZKC_EBADARGUMENTS, "dns hosts: NULL argument");
	*out = NULL;
	if (url->scheme != ZKC__SCHEME_DNS && url->scheme != ZKC__SCHEME_SRV)
		return zkc__error(ZKC_EBADARGUMENTS, "dns hosts: URL scheme %d is not zk+dns or zk+srv",
		                  url->scheme);
	h = calloc(1, sizeof(*h));
	if (!h)
		return zkc__error(ZKC_ENOMEM, "dns hosts: out of memory");
	h->base.ops = &dns_ops;
	h->base.log = log;
	h->srv = url->scheme == ZKC__SCHEME_SRV;
	if (pthread_mutex_init(&h->f.mu, NULL) != 0) {
		free(h);
		return zkc__error(ZKC_EOS, "dns hosts: pthread_mutex_init failed");
	}
	if ((rc = zkc__cond_init(&h->f.cond)) != ZKC_OK) {
		pthread_mutex_destroy(&h->f.mu);
		free(h);
		return rc;
	}
	/* From here dns_free cleans up whatever was filled in. */
	if ((rc = dns_config(h, url)) != ZKC_OK || (rc = dns_names(h, url)) != ZKC_OK)
		goto fail;
	h->label = dns_label(h);
	if (!h->label) {
		rc = zkc__error(ZKC_ENOMEM, "dns hosts: out of memory");
		goto fail;
	}
	/* The first lookup starts now, so current() usually finds it done. */
	rc = pthread_create(&h->thread, NULL, dns_thread, h);
	if (rc != 0) {
		rc = zkc__error(ZKC_EOS, "%s: cannot start the resolver thread: %s", h->label,
		                strerror(rc));
		goto fail;
	}
	h->thread_running = 1;
	*out = &h->base;
	return ZKC_OK;
fail:
	dns_free(&h->base);
	return rc;
}
