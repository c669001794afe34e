/* src/hosts.c - picks the host provider a URL's scheme asks for, and the
 * static provider: the URL's own "h:p,h:p" list, which never changes. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct static_hosts {
	zkc__hosts_t base;
	char *servers;            /* fixed at creation; the URL may be freed */
} static_hosts_t;

static int static_current(zkc__hosts_t *h, char **out)
{
	static_hosts_t *s = (static_hosts_t *)h;

	if (!out)
		return zkc__error(ZKC_EBADARGUMENTS, "hosts current: out is NULL");
	*out = zkc__strdup(s->servers);
	if (!*out)
		return zkc__error(ZKC_ENOMEM, "static hosts: out of memory");
	return ZKC_OK;
}

/* The list never changes, so there is nothing to follow and notify is
 * never called. */
static int static_start(zkc__hosts_t *h, zkc__hosts_notify_fn fn, void *ctx)
{
	(void)h;
	(void)fn;
	(void)ctx;
	return ZKC_OK;
}

static void static_free(zkc__hosts_t *h)
{
	static_hosts_t *s = (static_hosts_t *)h;

	free(s->servers);
	free(s);
}

static const struct zkc__hosts_ops static_ops = {
	.name = "static",
	.current = static_current,
	.start = static_start,
	.free = static_free,
};

int zkc__hosts_static_new(zkc__hosts_t **out, const zkc__url_t *url, const zkc__log_t *log)
{
	static_hosts_t *s;

	if (!out || !url)
		return zkc__error(ZKC_EBADARGUMENTS, "static hosts: NULL argument");
	*out = NULL;
	if (url->nhosts == 0 || !url->hosts)
		return zkc__error(ZKC_EBADARGUMENTS, "static hosts: the URL names no server");
	s = calloc(1, sizeof(*s));
	if (!s)
		return zkc__error(ZKC_ENOMEM, "static hosts: out of memory");
	/* Names stay names: libzookeeper re-resolves them at each reconnect,
	 * and a name that does not resolve now is a server that is down, not
	 * a reason to refuse the open (DESIGN.md, rule 1). */
	s->servers = zkc__url_hosts_string(url);
	if (!s->servers) {
		free(s);
		return zkc__error(ZKC_ENOMEM, "static hosts: out of memory");
	}
	s->base.ops = &static_ops;
	s->base.log = log;
	*out = &s->base;
	return ZKC_OK;
}

int zkc__hosts_new(zkc__hosts_t **out, const zkc__url_t *url, const zkc__log_t *log)
{
	if (!out || !url)
		return zkc__error(ZKC_EBADARGUMENTS, "hosts: NULL argument");
	*out = NULL;
	switch (url->scheme) {
	case ZKC__SCHEME_STATIC:
		return zkc__hosts_static_new(out, url, log);
	case ZKC__SCHEME_DNS:
	case ZKC__SCHEME_SRV:
		return zkc__hosts_dns_new(out, url, log);
	case ZKC__SCHEME_K8S:
		return zkc__hosts_k8s_new(out, url, log);
	default:
		return zkc__error(ZKC_EBADARGUMENTS, "hosts: unknown URL scheme %d", url->scheme);
	}
}
