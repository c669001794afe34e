/* tools/ens_4lw.c - the four-letter-word client: sends a word (`srvr`,
 * `mntr`, `ruok`) to a server's client port and reads the answer to EOF,
 * within a deadline; and a node's mode from its `srvr` answer. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "ens_impl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A non-blocking TCP connection to host:port, established before the
 * deadline (monotonic ms). *out_fd is the socket on ZKC_OK. */
static int connect_by(int *out_fd, const char *host, int port, long long deadline,
    int timeout_ms)
{
	struct sockaddr_in sa;
	int fd, err = 0, rc;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return ens__fail(ZKC_EBADARGUMENTS, "bad address %s", host);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ens__fail(ZKC_EOS, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 &&
	    errno != EINPROGRESS && errno != EINTR) {
		err = errno;
		close(fd);
		return ens__fail(ZKC_EOS, "%s:%d: %s", host, port, strerror(err));
	}
	/* wait for the connection */
	for (;;) {
		struct pollfd p = { fd, POLLOUT, 0 };
		long long left = deadline - ens__now_ms();
		socklen_t sl = sizeof err;

		if (left <= 0) {
			close(fd);
			return ens__fail(ZKC_ETIMEDOUT, "%s:%d: no connection within %d ms",
			    host, port, timeout_ms);
		}
		rc = poll(&p, 1, (int)left);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0) {
			err = errno;
			close(fd);
			return ens__fail(ZKC_EOS, "poll: %s", strerror(err));
		}
		if (rc == 0)
			continue;
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl);
		if (err) {
			close(fd);
			return ens__fail(ZKC_EOS, "%s:%d: %s", host, port, strerror(err));
		}
		*out_fd = fd;
		return ZKC_OK;
	}
}

/* Reads fd to EOF (the server answers and closes) before the deadline,
 * into *out (malloc'd). Does not close fd. */
static int read_answer(char **out, int fd, const char *host, int port, const char *word,
    long long deadline, int timeout_ms)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	int rc, err;

	if (!buf)
		return ens__fail(ZKC_ENOMEM, "out of memory");
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		long long left = deadline - ens__now_ms();
		ssize_t r;

		if (left <= 0) {
			free(buf);
			return ens__fail(ZKC_ETIMEDOUT, "%s:%d: no answer to %s within %d ms",
			    host, port, word, timeout_ms);
		}
		rc = poll(&p, 1, (int)left);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			continue;
		if (len + 1 >= cap) {
			char *nb = cap < (1u << 20) ? realloc(buf, cap * 2) : NULL;

			if (!nb)
				break;      /* enough of an answer */
			buf = nb;
			cap *= 2;
		}
		r = recv(fd, buf + len, cap - len - 1, 0);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r < 0) {
			err = errno;
			free(buf);
			return ens__fail(ZKC_EOS, "%s:%d: recv: %s", host, port, strerror(err));
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	buf[len] = '\0';
	*out = buf;
	return ZKC_OK;
}

int ens__4lw(char **out, const char *host, int port, const char *word,
    int timeout_ms)
{
	long long deadline = ens__now_ms() + timeout_ms;
	int fd = -1, err, rc;

	*out = NULL;
	rc = connect_by(&fd, host, port, deadline, timeout_ms);
	if (rc != ZKC_OK)
		return rc;
	while ((rc = (int)send(fd, word, strlen(word), MSG_NOSIGNAL)) < 0 &&
	    errno == EINTR)
		;
	if (rc < 0) {
		err = errno;
		close(fd);
		return ens__fail(ZKC_EOS, "%s:%d: send: %s", host, port, strerror(err));
	}
	rc = read_answer(out, fd, host, port, word, deadline, timeout_ms);
	close(fd);
	return rc;
}

static int parse_mode(const char *answer)
{
	const char *m;

	if (strstr(answer, "not currently serving"))
		return ZKC_ENS_MODE_NOT_SERVING;
	m = strstr(answer, "Mode: ");
	if (!m)
		return ZKC_ENS_MODE_UNKNOWN;
	m += 6;
	if (strncmp(m, "leader", 6) == 0)
		return ZKC_ENS_MODE_LEADER;
	if (strncmp(m, "follower", 8) == 0)
		return ZKC_ENS_MODE_FOLLOWER;
	if (strncmp(m, "standalone", 10) == 0)
		return ZKC_ENS_MODE_STANDALONE;
	if (strncmp(m, "observer", 8) == 0)
		return ZKC_ENS_MODE_OBSERVER;
	return ZKC_ENS_MODE_UNKNOWN;
}

int ens__probe_mode(struct ens_node *nd, int timeout_ms)
{
	char *answer;
	char saved[ENS__ERR_LEN];
	int mode;

	/* a failed probe is an answer ("unknown"), not an error to report */
	memcpy(saved, ens__errbuf(), sizeof saved);
	if (ens__4lw(&answer, nd->host, nd->port, "srvr", timeout_ms) != ZKC_OK) {
		memcpy(ens__errbuf(), saved, sizeof saved);
		return ZKC_ENS_MODE_UNKNOWN;
	}
	mode = parse_mode(answer);
	free(answer);
	return mode;
}

int ens__mode_serves(int mode)
{
	return mode == ZKC_ENS_MODE_LEADER || mode == ZKC_ENS_MODE_FOLLOWER ||
	    mode == ZKC_ENS_MODE_STANDALONE || mode == ZKC_ENS_MODE_OBSERVER;
}
