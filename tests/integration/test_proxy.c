/* tests/integration/test_proxy.c - the fault proxy against a real ZooKeeper
 * node, spoken to with four-letter words and raw protocol frames. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define QUIET_MS 300   /* how long "nothing arrives" is watched for */

/* ------------------------------------------------------------ sockets */

static int connect_port(int port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((unsigned short)port);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	return fd;
}

static void send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		assert_true(w > 0);
		p += w;
		len -= (size_t)w;
	}
}

/* Reads up to len bytes, waiting at most ms for the first ones.
 * Returns the count, 0 at EOF, -1 on error (errno set), -2 on timeout. */
static ssize_t read_wait(int fd, void *buf, size_t len, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };
	int64_t deadline = h_now_ms() + ms;

	for (;;) {
		int64_t left = deadline - h_now_ms();
		int rc;

		if (left < 0)
			left = 0;
		rc = poll(&p, 1, (int)left);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			return -1;
		if (rc == 0)
			return -2;
		return recv(fd, buf, len, 0);
	}
}

/* Reads until EOF (a 4lw answer) into buf; returns its length. */
static size_t read_to_eof(int fd, char *buf, size_t cap)
{
	size_t len = 0;

	for (;;) {
		ssize_t r = read_wait(fd, buf + len, cap - 1 - len,
		    h_timeout(10000));

		assert_true(r >= 0);
		if (r == 0)
			break;
		len += (size_t)r;
		assert_true(len < cap - 1);
	}
	buf[len] = '\0';
	return len;
}

static void ask(int port, const char *word, char *buf, size_t cap)
{
	int fd = connect_port(port);

	send_all(fd, word, strlen(word));
	read_to_eof(fd, buf, cap);
	close(fd);
}

/* ------------------------------------------------------------ jute */

struct out {
	unsigned char b[512];
	size_t n;
};

static void put_int(struct out *o, int32_t v)
{
	uint32_t u = htonl((uint32_t)v);

	memcpy(o->b + o->n, &u, 4);
	o->n += 4;
}

static void put_long(struct out *o, int64_t v)
{
	put_int(o, (int32_t)((uint64_t)v >> 32));
	put_int(o, (int32_t)(v & 0xffffffff));
}

static void put_str(struct out *o, const char *s)
{
	put_int(o, (int32_t)strlen(s));
	memcpy(o->b + o->n, s, strlen(s));
	o->n += strlen(s);
}

/* Sends o as one frame (length prefix, then the body). */
static void send_frame(int fd, const struct out *o)
{
	struct out f = { { 0 }, 0 };

	put_int(&f, (int32_t)o->n);
	memcpy(f.b + f.n, o->b, o->n);
	f.n += o->n;
	send_all(fd, f.b, f.n);
}

/* Reads one frame's body; returns its length, or -1 on EOF/reset/timeout. */
static ssize_t recv_frame(int fd, unsigned char *body, size_t cap)
{
	unsigned char hdr[4];
	size_t got = 0;
	uint32_t len;

	while (got < 4) {
		ssize_t r = read_wait(fd, hdr + got, 4 - got, h_timeout(10000));

		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	memcpy(&len, hdr, 4);
	len = ntohl(len);
	assert_true(len <= cap);
	got = 0;
	while (got < len) {
		ssize_t r = read_wait(fd, body + got, len - got, h_timeout(10000));

		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return (ssize_t)len;
}

static int32_t get_int(const unsigned char *p)
{
	uint32_t u;

	memcpy(&u, p, 4);
	return (int32_t)ntohl(u);
}

/* Opens a ZooKeeper session over fd (the handshake frame). */
static void zk_handshake(int fd)
{
	struct out o = { { 0 }, 0 };
	unsigned char body[256];

	put_int(&o, 0);              /* protocolVersion */
	put_long(&o, 0);             /* lastZxidSeen */
	put_int(&o, 10000);          /* timeOut */
	put_long(&o, 0);             /* sessionId */
	put_int(&o, 16);             /* passwd */
	memset(o.b + o.n, 0, 16);
	o.n += 16;
	o.b[o.n++] = 0;              /* readOnly */
	send_frame(fd, &o);
	assert_true(recv_frame(fd, body, sizeof body) >= 20);
}

/* Reply header: xid, zxid, err. */
static void expect_reply(int fd, int32_t xid, int32_t err)
{
	unsigned char body[1024];
	ssize_t n = recv_frame(fd, body, sizeof body);

	assert_true(n >= 16);
	assert_int_equal(get_int(body), xid);
	assert_int_equal(get_int(body + 12), err);
}

static void zk_ping(int fd)
{
	struct out o = { { 0 }, 0 };

	put_int(&o, -2);             /* xid of pings */
	put_int(&o, 11);             /* OpCode.ping */
	send_frame(fd, &o);
}

static void zk_create(int fd, int32_t xid, const char *path)
{
	struct out o = { { 0 }, 0 };

	put_int(&o, xid);
	put_int(&o, 1);              /* OpCode.create */
	put_str(&o, path);
	put_int(&o, 0);              /* data: empty */
	put_int(&o, 1);              /* one ACL: world:anyone, all perms */
	put_int(&o, 31);
	put_str(&o, "world");
	put_str(&o, "anyone");
	put_int(&o, 0);              /* persistent */
	send_frame(fd, &o);
}

static void zk_exists(int fd, int32_t xid, const char *path)
{
	struct out o = { { 0 }, 0 };

	put_int(&o, xid);
	put_int(&o, 3);              /* OpCode.exists */
	put_str(&o, path);
	o.b[o.n++] = 0;              /* no watch */
	send_frame(fd, &o);
}

static void zk_close_session(int fd, int32_t xid)
{
	struct out o = { { 0 }, 0 };

	put_int(&o, xid);
	put_int(&o, -11);            /* OpCode.closeSession */
	send_frame(fd, &o);
}

/* ------------------------------------------------------------ fixtures */

static int setup(void **state)
{
	/* the proxy test injects faults: always an own node */
	if (h_start(1) != 0)
		return -1;
	*state = NULL;
	return 0;
}

static int proxy_new(void **state)
{
	h_proxy_t *p;

	if (h_proxy_to_node(&p, 0) != 0)
		return -1;
	*state = p;
	return 0;
}

static int proxy_free(void **state)
{
	h_proxy_free(*state);
	return 0;
}

struct active_arg {
	h_proxy_t *p;
	uint64_t want;
};

static int active_is(void *arg)
{
	struct active_arg *a = arg;
	h_proxy_stats_t st;

	h_proxy_stats(&st, a->p);
	return st.active == a->want;
}

/* ------------------------------------------------------------ tests */

static void forwards_four_letter_words(void **state)
{
	h_proxy_t *p = *state;
	h_proxy_stats_t st;
	struct active_arg none = { p, 0 };
	char buf[4096];

	ask(h_proxy_port(p), "ruok", buf, sizeof buf);
	assert_string_equal(buf, "imok");
	ask(h_proxy_port(p), "srvr", buf, sizeof buf);
	assert_non_null(strstr(buf, "Mode: standalone"));
	/* the server closed each one; the proxy passes the FIN on and
	 * forgets the pair */
	assert_int_equal(h_wait_until(active_is, &none, H_TIMEOUT_MS), 0);
	h_proxy_stats(&st, p);
	assert_int_equal(st.accepted, 2);
	assert_int_equal(st.bytes_up, 8);
	assert_true(st.bytes_down > strlen("imok"));
	assert_int_equal(st.cut, 0);
}

static void refuse_resets_new_connections(void **state)
{
	h_proxy_t *p = *state;
	h_proxy_stats_t st;
	char buf[4096];
	ssize_t r;
	int fd;

	h_proxy_refuse(p, 1);
	fd = connect_port(h_proxy_port(p));
	/* the kernel completes the handshake; the proxy then resets it
	 * (nothing sent first, so recv() reports the reset itself) */
	r = read_wait(fd, buf, sizeof buf, h_timeout(10000));
	assert_true(r == -1 && errno == ECONNRESET);
	close(fd);
	h_proxy_stats(&st, p);
	assert_int_equal(st.refused, 1);

	h_proxy_refuse(p, 0);
	ask(h_proxy_port(p), "ruok", buf, sizeof buf);
	assert_string_equal(buf, "imok");
}

static void blackhole_holds_traffic_until_healed(void **state)
{
	h_proxy_t *p = *state;
	struct active_arg two = { p, 2 };
	char buf[4096];
	int a, b;

	a = connect_port(h_proxy_port(p));
	h_proxy_blackhole(p, 1);
	b = connect_port(h_proxy_port(p));   /* opened during the partition */
	send_all(a, "srvr", 4);
	send_all(b, "ruok", 4);
	assert_int_equal(h_wait_until(active_is, &two, H_TIMEOUT_MS), 0);
	/* absence can only be watched for a while */
	assert_int_equal(read_wait(a, buf, sizeof buf, QUIET_MS), -2);
	assert_int_equal(read_wait(b, buf, sizeof buf, 1), -2);

	h_proxy_blackhole(p, 0);
	read_to_eof(a, buf, sizeof buf);
	assert_non_null(strstr(buf, "Mode: standalone"));
	read_to_eof(b, buf, sizeof buf);
	assert_string_equal(buf, "imok");
	close(a);
	close(b);
}

static void cut_resets_open_connections(void **state)
{
	h_proxy_t *p = *state;
	struct active_arg one = { p, 1 }, none = { p, 0 };
	h_proxy_stats_t st;
	char buf[4096];
	ssize_t r;
	int fd;

	fd = connect_port(h_proxy_port(p));
	assert_int_equal(h_wait_until(active_is, &one, H_TIMEOUT_MS), 0);
	h_proxy_cut(p);
	/* synchronous: gone when the call returns */
	h_proxy_stats(&st, p);
	assert_int_equal(st.active, 0);
	assert_int_equal(st.cut, 1);
	r = read_wait(fd, buf, sizeof buf, h_timeout(10000));
	assert_true(r == -1 && errno == ECONNRESET);
	close(fd);
	assert_int_equal(h_wait_until(active_is, &none, H_TIMEOUT_MS), 0);

	ask(h_proxy_port(p), "ruok", buf, sizeof buf);
	assert_string_equal(buf, "imok");
}

static void set_target_moves_new_connections(void **state)
{
	h_proxy_t *p = *state;
	struct sockaddr_in sa;
	socklen_t sl = sizeof sa;
	char buf[4096];
	int lfd, cfd, sfd, dead_port;
	ssize_t r;

	/* a second "server": a plain listener owned by the test */
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);

	assert_int_equal(h_proxy_set_target(p, "127.0.0.1",
	    ntohs(sa.sin_port)), 0);
	cfd = connect_port(h_proxy_port(p));
	{
		struct pollfd pf = { lfd, POLLIN, 0 };

		assert_int_equal(poll(&pf, 1, h_timeout(10000)), 1);
	}
	sfd = accept(lfd, NULL, NULL);
	assert_true(sfd >= 0);
	send_all(sfd, "hello", 5);
	r = read_wait(cfd, buf, sizeof buf, h_timeout(10000));
	assert_int_equal(r, 5);
	assert_memory_equal(buf, "hello", 5);
	close(cfd);
	close(sfd);

	/* a target that is down: the client is reset, as if it had
	 * connected to the dead server itself */
	dead_port = ntohs(sa.sin_port);
	close(lfd);
	assert_int_equal(h_proxy_set_target(p, "127.0.0.1", dead_port), 0);
	cfd = connect_port(h_proxy_port(p));
	r = read_wait(cfd, buf, sizeof buf, h_timeout(10000));
	assert_true(r == -1 && errno == ECONNRESET);
	close(cfd);

	assert_int_equal(h_proxy_set_target(p, h_node_host(0),
	    h_node_port(0)), 0);
	ask(h_proxy_port(p), "ruok", buf, sizeof buf);
	assert_string_equal(buf, "imok");
	assert_int_equal(h_proxy_set_target(p, "no-such-host.invalid", 1), -1);
}

static void lost_reply_hides_an_executed_create(void **state)
{
	h_proxy_t *p = *state;
	h_proxy_stats_t st;
	char path[128];
	unsigned char body[256];
	int fd, direct;

	H_UNIQUE_PATH(path);
	fd = connect_port(h_proxy_port(p));
	zk_handshake(fd);
	/* armed before the ping: a 12-byte ping must not trigger it */
	h_proxy_lose_next_reply(p);
	zk_ping(fd);
	expect_reply(fd, -2, 0);

	zk_create(fd, 1, path);
	/* no reply, then a reset: the outcome is unknown to the client */
	assert_int_equal(recv_frame(fd, body, sizeof body), -1);
	close(fd);
	h_proxy_stats(&st, p);
	assert_int_equal(st.replies_lost, 1);
	assert_int_equal(st.cut, 1);

	/* ... but the server did create the node */
	direct = connect_port(h_node_port(0));
	zk_handshake(direct);
	zk_exists(direct, 1, path);
	expect_reply(direct, 1, 0);
	zk_close_session(direct, 2);
	close(direct);

	/* one-shot: the next request through the proxy gets its reply */
	fd = connect_port(h_proxy_port(p));
	zk_handshake(fd);
	zk_exists(fd, 1, path);
	expect_reply(fd, 1, 0);
	zk_close_session(fd, 2);
	close(fd);
	h_proxy_stats(&st, p);
	assert_int_equal(st.replies_lost, 1);
}

static void free_with_open_connections_is_clean(void **state)
{
	h_proxy_t *p;
	char buf[16];
	ssize_t r;
	int a, b;

	(void)state;
	assert_int_equal(h_proxy_to_node(&p, 0), 0);
	a = connect_port(h_proxy_port(p));
	h_proxy_blackhole(p, 1);
	b = connect_port(h_proxy_port(p));
	send_all(a, "ruok", 4);
	h_proxy_free(p);
	/* both are closed by the proxy (EOF), none hangs */
	r = read_wait(a, buf, sizeof buf, h_timeout(10000));
	assert_true(r == 0 || (r == -1 && errno == ECONNRESET));
	r = read_wait(b, buf, sizeof buf, h_timeout(10000));
	assert_true(r == 0 || (r == -1 && errno == ECONNRESET));
	close(a);
	close(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(forwards_four_letter_words,
		    proxy_new, proxy_free),
		cmocka_unit_test_setup_teardown(refuse_resets_new_connections,
		    proxy_new, proxy_free),
		cmocka_unit_test_setup_teardown(blackhole_holds_traffic_until_healed,
		    proxy_new, proxy_free),
		cmocka_unit_test_setup_teardown(cut_resets_open_connections,
		    proxy_new, proxy_free),
		cmocka_unit_test_setup_teardown(set_target_moves_new_connections,
		    proxy_new, proxy_free),
		cmocka_unit_test_setup_teardown(lost_reply_hides_an_executed_create,
		    proxy_new, proxy_free),
		cmocka_unit_test(free_with_open_connections_is_clean),
	};

	return cmocka_run_group_tests(tests, setup, h_teardown);
}
