/* src/hosts.c - picks the host provider a URL's scheme asks for; the
 * static provider: the URL's own "h:p,h:p" list, which never changes; and
 * what the following providers (DNS, Kubernetes) share. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
	 * a reason to refuse the open (docs/design.md, rule 1). */
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
#ifdef ZKC_HAVE_K8S
		return zkc__hosts_k8s_new(out, url, log);
#else
		return zkc__error(ZKC_EURL, "zk+k8s://: zkc was built without Kubernetes support "
		                  "(configure --disable-k8s)");
#endif
	default:
		return zkc__error(ZKC_EBADARGUMENTS, "hosts: unknown URL scheme %d", url->scheme);
	}
}

/* ------------------------------------------------------------ following providers */

void zkc__follow_notify_locked(zkc__follow_t *f)
{
	while (f->fn && !f->stop && f->latest &&
	       strcmp(f->latest, f->reported ? f->reported : "") != 0) {
		char *copy = zkc__strdup(f->latest);
		char *mark = zkc__strdup(f->latest);
		zkc__hosts_notify_fn fn = f->fn;
		void *ctx = f->ctx;

		if (!copy || !mark) {
			free(copy);
			free(mark);
			return;   /* the next change tries again */
		}
		free(f->reported);
		f->reported = mark;
		pthread_mutex_unlock(&f->mu);
		fn(ctx, copy);
		pthread_mutex_lock(&f->mu);
		free(copy);
	}
}

int zkc__follow_current(zkc__follow_t *f, int first_wait_ms, const char *label, char **out,
                        int *late)
{
	struct timespec ts;
	char *list, *mark;

	if (!out)
		return zkc__error(ZKC_EBADARGUMENTS, "hosts current: out is NULL");
	*out = NULL;
	*late = 0;
	pthread_mutex_lock(&f->mu);
	if (!f->have_first) {
		zkc__deadline_ts(&ts, first_wait_ms);
		while (!f->have_first && !f->stop)
			if (pthread_cond_timedwait(&f->cond, &f->mu, &ts) == ETIMEDOUT)
				break;
		*late = !f->have_first;
	}
	list = zkc__strdup(f->latest ? f->latest : "");
	mark = zkc__strdup(list ? list : "");
	if (!list || !mark) {
		pthread_mutex_unlock(&f->mu);
		free(list);
		free(mark);
		return zkc__error(ZKC_ENOMEM, "%s: out of memory", label);
	}
	/* What the client holds now: the thread notifies only on a change
	 * from this. */
	free(f->reported);
	f->reported = mark;
	pthread_mutex_unlock(&f->mu);
	*out = list;
	return ZKC_OK;
}

int zkc__follow_start(zkc__follow_t *f, zkc__hosts_notify_fn fn, void *ctx, const char *label)
{
	if (!fn)
		return zkc__error(ZKC_EBADARGUMENTS, "%s: start without a notify function", label);
	pthread_mutex_lock(&f->mu);
	f->fn = fn;
	f->ctx = ctx;
	/* A change between current() and start() is told right away. */
	f->kick = 1;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->mu);
	return ZKC_OK;
}
