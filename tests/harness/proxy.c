/* tests/harness/proxy.c - the fault-injecting TCP proxy: one poll() loop on
 * its own thread; control calls change flags and wait for the loop to act. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF_SIZE 65536
#define LOSE_MIN_CHUNK 16        /* a ping is 12 bytes: not a request */
#define LOSE_DEADLINE_MS 10000

/* Follows ZooKeeper's length-prefixed frames in one direction, so the
 * lost-reply fault can tell which server frame answers which request.
 * Every frame starts with a 4-byte big-endian length; after the handshake
 * frame, the next 4 bytes are the xid (request id). */
struct framer {
	unsigned char hdr[8];
	size_t have;              /* header bytes collected */
	uint64_t skip;            /* body bytes left in the current frame */
	uint64_t frames;          /* headers completed so far */
};

struct half {
	char *buf;
	size_t len, off;          /* bytes buf[off..len) wait for dst */
	int eof;                  /* src sent FIN */
	int shut;                 /* FIN passed on to dst */
	struct framer fr;
};

struct conn {
	int cfd, sfd;
	int connecting;           /* sfd's connect() still in progress */
	struct half up;           /* client -> server */
	struct half down;         /* server -> client */
	int lose_wait_xid;        /* the next completed request header names
	                           * the request whose reply we will lose */
	int losing;               /* discarding server bytes until lose_xid */
	int32_t lose_xid;
	long long lose_deadline;
	int holding;              /* server bytes wait for a client frame */
	int32_t hold_xid;         /* ... after this request's reply */
	int hold_seen;            /* its reply has arrived */
	int gone;
};

struct h_proxy {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int lfd, wfd;             /* listener; eventfd that wakes the loop */
	int port;
	/* control, under mu */
	struct sockaddr_storage target;
	socklen_t target_len;
	int blackhole, refuse, stop, lose_armed;
	int hold_every;           /* h_proxy_hold_replies */
	uint64_t hold_count;      /* requests seen while it is on */
	uint64_t seq, ack;        /* requests made / seen by the loop */
	uint64_t cut_seq, cut_done;
	h_proxy_stats_t st;
	/* loop-only */
	struct conn **conns;
	size_t nconns, capconns;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Feeds bytes through the framer; returns 1 and the xid when a header
 * completes in them (the first one only; *used says how far it read). */
static int framer_feed(struct framer *f, const unsigned char *p, size_t n,
    size_t *used, int32_t *xid)
{
	size_t i = 0;

	while (i < n) {
		if (f->skip > 0) {
			size_t take = n - i < f->skip ? n - i : (size_t)f->skip;

			f->skip -= take;
			i += take;
			continue;
		}
		f->hdr[f->have++] = p[i++];
		if (f->have < 8)
			continue;
		{
			uint32_t len = (uint32_t)f->hdr[0] << 24 |
			    (uint32_t)f->hdr[1] << 16 | (uint32_t)f->hdr[2] << 8 |
			    f->hdr[3];
			uint32_t x = (uint32_t)f->hdr[4] << 24 |
			    (uint32_t)f->hdr[5] << 16 | (uint32_t)f->hdr[6] << 8 |
			    f->hdr[7];

			f->have = 0;
			f->skip = len >= 4 ? len - 4 : 0;
			f->frames++;
			*xid = (int32_t)x;
			*used = i;
			return 1;
		}
	}
	*used = i;
	return 0;
}

/* Close with an RST instead of a FIN: what a crashed peer looks like. */
static void close_rst(int fd)
{
	struct linger lg = { 1, 0 };

	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	close(fd);
}

static void conn_free(struct conn *c)
{
	free(c->up.buf);
	free(c->down.buf);
	free(c);
}

static void conn_close(h_proxy_t *p, struct conn *c, int rst)
{
	if (c->gone)
		return;
	if (rst) {
		close_rst(c->cfd);
		close_rst(c->sfd);
	} else {
		close(c->cfd);
		if (c->sfd >= 0)
			close(c->sfd);
	}
	c->gone = 1;
	pthread_mutex_lock(&p->mu);
	p->st.active--;
	pthread_mutex_unlock(&p->mu);
}

static void accept_one(h_proxy_t *p, int refuse)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct conn *c;
	int cfd, sfd;

	cfd = accept4(p->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return;
	pthread_mutex_lock(&p->mu);
	p->st.accepted++;
	if (refuse)
		p->st.refused++;
	ss = p->target;
	sl = p->target_len;
	pthread_mutex_unlock(&p->mu);
	if (refuse) {
		close_rst(cfd);
		return;
	}
	sfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (sfd < 0 || (connect(sfd, (struct sockaddr *)&ss, sl) < 0 &&
	    errno != EINPROGRESS)) {
		/* the target is down: the client sees what it would see
		 * connecting to it directly */
		if (sfd >= 0)
			close(sfd);
		close_rst(cfd);
		return;
	}
	c = calloc(1, sizeof *c);
	if (c) {
		c->up.buf = malloc(BUF_SIZE);
		c->down.buf = malloc(BUF_SIZE);
	}
	if (c && c->up.buf && c->down.buf && p->nconns == p->capconns) {
		size_t ncap = p->capconns ? p->capconns * 2 : 16;
		struct conn **nc = realloc(p->conns, ncap * sizeof *nc);

		if (nc) {
			p->conns = nc;
			p->capconns = ncap;
		}
	}
	if (!c || !c->up.buf || !c->down.buf || p->nconns == p->capconns) {
		if (c)
			conn_free(c);
		close(sfd);
		close_rst(cfd);
		return;
	}
	{
		int one = 1;

		setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	}
	c->cfd = cfd;
	c->sfd = sfd;
	c->connecting = 1;
	p->conns[p->nconns++] = c;
	pthread_mutex_lock(&p->mu);
	p->st.active++;
	pthread_mutex_unlock(&p->mu);
}

/* Reads what src has into h (only when h is empty, or after what waits in
 * it when `append`). Returns the number of bytes read, or -1 on a
 * connection error (the pair is then reset). */
static ssize_t fill(int src, struct half *h, int append)
{
	ssize_t r;

	if (h->eof || (!append && h->len > h->off) || h->len == BUF_SIZE)
		return 0;
	if (h->len == h->off)
		h->len = h->off = 0;
	r = recv(src, h->buf + h->len, BUF_SIZE - h->len, 0);
	if (r < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (r == 0)
		h->eof = 1;
	h->len += (size_t)r;
	return r;
}

/* Writes what waits in h to dst, then passes a FIN on. */
static int drain(h_proxy_t *p, int dst, struct half *h, int is_up)
{
	while (h->len > h->off) {
		ssize_t w = send(dst, h->buf + h->off, h->len - h->off,
		    MSG_NOSIGNAL);

		if (w < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		h->off += (size_t)w;
		pthread_mutex_lock(&p->mu);
		if (is_up)
			p->st.bytes_up += (uint64_t)w;
		else
			p->st.bytes_down += (uint64_t)w;
		pthread_mutex_unlock(&p->mu);
	}
	if (h->eof && !h->shut) {
		shutdown(dst, SHUT_WR);
		h->shut = 1;
	}
	return 0;
}

/* A client frame (xid) just started: it releases a hold whose reply has
 * arrived, or may start one. */
static void hold_on_request(h_proxy_t *p, struct conn *c, int32_t xid)
{
	pthread_mutex_lock(&p->mu);
	if (c->holding) {
		if (c->hold_seen) {
			c->holding = 0;
			p->st.released++;
		}
	} else if (p->hold_every > 0 && xid > 0 &&
	    ++p->hold_count % (uint64_t)p->hold_every == 0) {
		c->holding = 1;
		c->hold_xid = xid;
		c->hold_seen = 0;
		p->st.held++;
	}
	pthread_mutex_unlock(&p->mu);
}

/* Client bytes just read: track frames and arm the lost reply. */
static void inspect_up(h_proxy_t *p, struct conn *c, size_t n)
{
	const unsigned char *b = (const unsigned char *)c->up.buf;
	uint64_t before = c->up.fr.frames;
	size_t pos = 0, used;
	int32_t xid;

	if (n > LOSE_MIN_CHUNK && before >= 1 && !c->losing &&
	    !c->lose_wait_xid) {
		pthread_mutex_lock(&p->mu);
		if (p->lose_armed) {
			p->lose_armed = 0;
			c->lose_wait_xid = 1;
		}
		pthread_mutex_unlock(&p->mu);
	}
	while (pos < n && framer_feed(&c->up.fr, b + pos, n - pos, &used, &xid)) {
		pos += used;
		/* frame 1 is the connect handshake: it has no xid */
		if (c->up.fr.frames >= 2)
			hold_on_request(p, c, xid);
		if (c->lose_wait_xid && c->up.fr.frames >= 2) {
			c->lose_wait_xid = 0;
			c->losing = 1;
			c->lose_xid = xid;
			c->lose_deadline = now_ms() + LOSE_DEADLINE_MS;
		}
	}
}

/* Server bytes while losing: discard them; reset once the reply passed. */
static void inspect_down_losing(h_proxy_t *p, struct conn *c)
{
	const unsigned char *b = (const unsigned char *)c->down.buf + c->down.off;
	size_t n = c->down.len - c->down.off, pos = 0, used;
	int32_t xid;
	int hit = 0;

	while (pos < n && framer_feed(&c->down.fr, b + pos, n - pos, &used, &xid)) {
		pos += used;
		if (c->down.fr.frames >= 2 && xid == c->lose_xid)
			hit = 1;
	}
	c->down.len = c->down.off = 0;  /* nothing of it reaches the client */
	if (hit || c->down.eof || now_ms() >= c->lose_deadline) {
		pthread_mutex_lock(&p->mu);
		if (hit)
			p->st.replies_lost++;
		p->st.cut++;
		pthread_mutex_unlock(&p->mu);
		conn_close(p, c, 1);
	}
}

/* Server bytes in normal flow (the last n read): only tracked, so frame
 * boundaries are known when a lost reply is armed later, and a held reply
 * is noticed. */
static void track_down(struct conn *c, size_t n)
{
	const unsigned char *b = (const unsigned char *)c->down.buf + c->down.len - n;
	size_t pos = 0, used;
	int32_t xid;

	while (pos < n && framer_feed(&c->down.fr, b + pos, n - pos, &used, &xid)) {
		pos += used;
		if (c->holding && c->down.fr.frames >= 2 && xid == c->hold_xid)
			c->hold_seen = 1;
	}
}

static void service(h_proxy_t *p, struct conn *c, short cev, short sev)
{
	if (c->connecting) {
		int err = 0;
		socklen_t sl = sizeof err;

		if (!(sev & (POLLOUT | POLLERR | POLLHUP)))
			return;
		getsockopt(c->sfd, SOL_SOCKET, SO_ERROR, &err, &sl);
		if (err) {
			conn_close(p, c, 1);
			return;
		}
		c->connecting = 0;
		return;
	}
	/* client -> server */
	if (cev & (POLLIN | POLLHUP | POLLERR)) {
		ssize_t r = fill(c->cfd, &c->up, 0);

		if (r < 0) {
			conn_close(p, c, 1);
			return;
		}
		if (r > 0)
			inspect_up(p, c, (size_t)r);
	}
	if (drain(p, c->sfd, &c->up, 1) < 0) {
		conn_close(p, c, 1);
		return;
	}
	/* server -> client */
	if (sev & (POLLIN | POLLHUP | POLLERR)) {
		ssize_t r = fill(c->sfd, &c->down, c->holding && !c->losing);

		if (r < 0) {
			conn_close(p, c, 1);
			return;
		}
		if (c->losing) {
			inspect_down_losing(p, c);
			if (c->gone)
				return;
		} else if (r > 0) {
			track_down(c, (size_t)r);
		}
	}
	if (c->holding && !c->losing)
		return;  /* what the server sent waits for the client's next frame */
	if (c->losing && now_ms() >= c->lose_deadline) {
		inspect_down_losing(p, c);
		if (c->gone)
			return;
	}
	if (drain(p, c->cfd, &c->down, 0) < 0) {
		conn_close(p, c, 1);
		return;
	}
	if (c->up.shut && c->down.shut)
		conn_close(p, c, 0);
}

static void cut_all(h_proxy_t *p)
{
	size_t i;
	uint64_t n = 0;

	for (i = 0; i < p->nconns; i++) {
		if (!p->conns[i]->gone) {
			conn_close(p, p->conns[i], 1);
			n++;
		}
	}
	pthread_mutex_lock(&p->mu);
	p->st.cut += n;
	pthread_mutex_unlock(&p->mu);
}

static void reap_conns(h_proxy_t *p)
{
	size_t i, j = 0;

	for (i = 0; i < p->nconns; i++) {
		if (p->conns[i]->gone)
			conn_free(p->conns[i]);
		else
			p->conns[j++] = p->conns[i];
	}
	p->nconns = j;
}

static void *loop(void *arg)
{
	h_proxy_t *p = arg;
	struct pollfd *pfd = NULL;
	size_t cap = 0;

	for (;;) {
		int blackhole, refuse, do_cut, timeout = -1;
		uint64_t seq;
		size_t i, n, npolled;

		pthread_mutex_lock(&p->mu);
		if (p->stop) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		blackhole = p->blackhole;
		refuse = p->refuse;
		do_cut = p->cut_seq != p->cut_done;
		p->cut_done = p->cut_seq;
		seq = p->seq;
		pthread_mutex_unlock(&p->mu);

		if (do_cut)
			cut_all(p);
		reap_conns(p);
		/* the flags read above are in force from here on */
		pthread_mutex_lock(&p->mu);
		p->ack = seq;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);

		if (cap < 2 + 2 * p->nconns) {
			struct pollfd *np = realloc(pfd, (2 + 2 * p->nconns + 16) *
			    sizeof *np);

			if (!np) {
				struct timespec ts = { 0, 10000000 };

				nanosleep(&ts, NULL);
				continue;
			}
			pfd = np;
			cap = 2 + 2 * p->nconns + 16;
		}
		pfd[0] = (struct pollfd){ p->wfd, POLLIN, 0 };
		pfd[1] = (struct pollfd){ p->lfd, POLLIN, 0 };
		n = 2;
		for (i = 0; i < p->nconns; i++) {
			struct conn *c = p->conns[i];
			short ce = 0, se = 0;

			if (c->connecting) {
				se = POLLOUT;
			} else if (!blackhole) {
				int hold = c->holding && !c->losing;

				if (c->up.len == c->up.off && !c->up.eof)
					ce |= POLLIN;
				if (c->down.len > c->down.off && !hold)
					ce |= POLLOUT;
				if ((c->down.len == c->down.off || (hold && c->down.len < BUF_SIZE)) &&
				    !c->down.eof)
					se |= POLLIN;
				if (c->up.len > c->up.off)
					se |= POLLOUT;
				if (c->losing)
					timeout = 100;
			}
			/* a negative fd makes poll() skip it: in a partition even
			 * a reset from the far side must go unnoticed, and a side
			 * we wait for no event from must not wake us in a loop */
			pfd[n++] = (struct pollfd){ ce ? c->cfd : -1, ce, 0 };
			pfd[n++] = (struct pollfd){ se ? c->sfd : -1, se, 0 };
		}
		npolled = p->nconns;
		if (poll(pfd, n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[0].revents & POLLIN) {
			uint64_t v;

			if (read(p->wfd, &v, sizeof v) < 0) {
				/* nothing to do: the counter is only a wakeup */
			}
		}
		/* connections accepted now get their pollfds next round */
		for (i = 0, n = 2; i < npolled; i++, n += 2) {
			struct conn *c = p->conns[i];

			if (c->gone || (blackhole && !c->connecting))
				continue;
			if (pfd[n].revents || pfd[n + 1].revents || c->losing)
				service(p, c, pfd[n].revents, pfd[n + 1].revents);
		}
		if (pfd[1].revents & POLLIN)
			accept_one(p, refuse);
	}
	free(pfd);
	return NULL;
}

static int resolve(const char *host, int port, struct sockaddr_storage *ss,
    socklen_t *sl)
{
	struct addrinfo hints, *res;
	char sport[16];
	int rc;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(sport, sizeof sport, "%d", port);
	rc = getaddrinfo(host, sport, &hints, &res);
	if (rc != 0) {
		fprintf(stderr, "# proxy: cannot resolve %s: %s\n", host,
		    gai_strerror(rc));
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sl = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

int h_proxy_new(h_proxy_t **out, const char *host, int port)
{
	h_proxy_t *p = calloc(1, sizeof *p);
	struct sockaddr_in sa;
	socklen_t sl = sizeof sa;
	int one = 1;

	*out = NULL;
	if (!p)
		return -1;
	p->lfd = p->wfd = -1;
	if (resolve(host, port, &p->target, &p->target_len) < 0) {
		free(p);
		return -1;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	p->wfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (p->lfd < 0 || p->wfd < 0 ||
	    setsockopt(p->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(p->lfd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(p->lfd, 128) < 0 ||
	    getsockname(p->lfd, (struct sockaddr *)&sa, &sl) < 0) {
		fprintf(stderr, "# proxy: cannot listen: %s\n", strerror(errno));
		goto fail;
	}
	p->port = ntohs(sa.sin_port);
	if (pthread_create(&p->thread, NULL, loop, p) != 0) {
		fprintf(stderr, "# proxy: cannot start its thread\n");
		goto fail;
	}
	*out = p;
	return 0;
fail:
	if (p->lfd >= 0)
		close(p->lfd);
	if (p->wfd >= 0)
		close(p->wfd);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p);
	return -1;
}

static void wake(h_proxy_t *p)
{
	uint64_t one = 1;

	if (write(p->wfd, &one, sizeof one) < 0) {
		/* the counter is saturated: the loop is awake anyway */
	}
}

/* Called with mu held: waits until the loop has seen this request. */
static void sync_loop(h_proxy_t *p)
{
	uint64_t my = ++p->seq;

	wake(p);
	while (p->ack < my && !p->stop)
		pthread_cond_wait(&p->cv, &p->mu);
}

void h_proxy_free(h_proxy_t *p)
{
	size_t i;

	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	wake(p);
	pthread_join(p->thread, NULL);
	for (i = 0; i < p->nconns; i++) {
		conn_close(p, p->conns[i], 0);
		conn_free(p->conns[i]);
	}
	free(p->conns);
	close(p->lfd);
	close(p->wfd);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p);
}

int h_proxy_port(const h_proxy_t *p)
{
	return p->port;
}

int h_proxy_set_target(h_proxy_t *p, const char *host, int port)
{
	struct sockaddr_storage ss;
	socklen_t sl;

	if (resolve(host, port, &ss, &sl) < 0)
		return -1;
	pthread_mutex_lock(&p->mu);
	p->target = ss;
	p->target_len = sl;
	pthread_mutex_unlock(&p->mu);
	return 0;
}

void h_proxy_cut(h_proxy_t *p)
{
	pthread_mutex_lock(&p->mu);
	p->cut_seq++;
	sync_loop(p);
	pthread_mutex_unlock(&p->mu);
}

void h_proxy_blackhole(h_proxy_t *p, int on)
{
	pthread_mutex_lock(&p->mu);
	p->blackhole = on != 0;
	sync_loop(p);
	pthread_mutex_unlock(&p->mu);
}

void h_proxy_refuse(h_proxy_t *p, int on)
{
	pthread_mutex_lock(&p->mu);
	p->refuse = on != 0;
	sync_loop(p);
	pthread_mutex_unlock(&p->mu);
}

void h_proxy_hold_replies(h_proxy_t *p, int every)
{
	pthread_mutex_lock(&p->mu);
	p->hold_every = every > 0 ? every : 0;
	p->hold_count = 0;
	sync_loop(p);
	pthread_mutex_unlock(&p->mu);
}

void h_proxy_lose_next_reply(h_proxy_t *p)
{
	pthread_mutex_lock(&p->mu);
	p->lose_armed = 1;
	pthread_mutex_unlock(&p->mu);
}

void h_proxy_stats(h_proxy_stats_t *out, h_proxy_t *p)
{
	pthread_mutex_lock(&p->mu);
	*out = p->st;
	pthread_mutex_unlock(&p->mu);
}
