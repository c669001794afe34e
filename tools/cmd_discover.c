/* tools/cmd_discover.c - `zkc discover`: the server list a URL's host
 * provider sees (static, DNS, SRV, Kubernetes), once or as it changes;
 * `zkc health`: exit 0 when a session is connected and writable, for
 * readiness probes. Exit codes of tools/cli.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

int cli_discover(int argc, char **argv);
int cli_health(int argc, char **argv);

static const char discover_usage[] =
    "usage: zkc discover [--watch] [--json] [--count N] [--timeout DUR] [URL]\n"
    "Prints the servers the URL's host provider finds, one per line (--json:\n"
    "{\"servers\":[...]} on one line). --watch prints the list again at every\n"
    "change until --count changes or --timeout (e.g. 30s) have passed.\n"
    "URL defaults to --url / $ZKC_URL. zk+k8s:// problems (API errors, unused\n"
    "EndpointSlices) are printed on stderr.\n"
    "Exit status: 0 ok; 1 no server found; 2 usage or bad URL/config.\n";

static const char health_usage[] =
    "usage: zkc health [--timeout DUR] [--json] [URL]\n"
    "Exit 0 when a session is connected to a server that is not read-only\n"
    "(a sync round trip succeeds) within DUR (default 5s); for readiness probes.\n"
    "Prints `ok: session ID on SERVER, STATE' (--json: {\"ok\", \"session\",\n"
    "\"server\", \"state\"}).\n"
    "Exit status: 0 healthy; 7 no connection in time; 1 read-only or other;\n"
    "2 usage or bad URL.\n";

/* "500ms", "5s", "2m", "1500" (ms). -1 when malformed. */
static int64_t parse_duration(const char *s)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || v < 0 || v > 86400000LL)
		return -1;
	if (*end == '\0' || strcmp(end, "ms") == 0)
		return v;
	if (strcmp(end, "s") == 0)
		return v * 1000;
	if (strcmp(end, "m") == 0)
		return v * 60000;
	return -1;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The provider's own warnings ("zk+k8s svc.ns:2181: HTTP 403 ..."), not
 * libzookeeper's connection noise, which discover does not care about. */
static void provider_log(int level, const char *message, void *payload)
{
	(void)payload;
	if (level <= ZKC_LOG_WARN && strncmp(message, "zk+", 3) == 0)
		fprintf(stderr, "zkc: %s\n", message);
}

static void print_list(const char *list, int json)
{
	const char *p = list;

	if (json)
		printf("{\"servers\":[");
	for (int i = 0; *p; i++) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);

		if (json) {
			if (i)
				putchar(',');
			cli_json_string(p, n);
		} else {
			printf("%.*s\n", (int)n, p);
		}
		p += n + (comma ? 1 : 0);
	}
	if (json)
		printf("]}\n");
	fflush(stdout);
}

static const char *url_arg(int argc, char **argv)
{
	if (optind < argc)
		return argv[optind];
	return getenv("ZKC_URL");
}

struct discover_args {
	int watch, json;
	int64_t count, timeout;
};

/* Options; CLI_OK, or the exit code (-1: --help printed). */
static int discover_parse(int argc, char **argv, struct discover_args *a)
{
	static const struct option opts[] = {
		{ "watch", no_argument, NULL, 'w' }, { "json", no_argument, NULL, 'j' },
		{ "count", required_argument, NULL, 'c' }, { "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' }, { 0, 0, 0, 0 }
	};
	int c;

	cli_getopt_reset("+h");
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'w': a->watch = 1; break;
		case 'j': a->json = 1; break;
		case 'c':
			if (cli_parse_i64(optarg, 1, INT_MAX, &a->count) != 0) {
				fprintf(stderr, "zkc discover: --count wants a positive number\n");
				return CLI_USAGE;
			}
			break;
		case 't':
			if ((a->timeout = parse_duration(optarg)) < 0) {
				fprintf(stderr, "zkc discover: --timeout wants a duration (5s, 500ms)\n");
				return CLI_USAGE;
			}
			break;
		case 'h': fputs(discover_usage, stdout); return -1;
		default: fputs(discover_usage, stderr); return CLI_USAGE;
		}
	}
	if (optind + 1 < argc) {
		fputs(discover_usage, stderr);
		return CLI_USAGE;
	}
	return CLI_OK;
}

/* --watch: the list again at every change, until --count or --timeout. */
static int discover_watch(zkc_t *zk, const struct discover_args *a, int code)
{
	int64_t deadline = a->timeout >= 0 ? now_ms() + a->timeout : -1;
	int rc;

	for (long seen = 0; a->count == 0 || seen < a->count;) {
		zkc_event_t *ev = NULL;
		int64_t left = deadline < 0 ? -1 : deadline - now_ms();

		if (deadline >= 0 && left <= 0)
			break;
		rc = zkc_events_next(&ev, zk, left < 0 ? 1000 : (int)(left < 1000 ? left : 1000));
		if (rc == ZKC_EAGAIN)
			continue;
		if (rc != ZKC_OK)
			return cli_fail("discover", rc);
		if (ev->type == ZKC_EVENT_HOSTS && ev->path) {
			print_list(ev->path, a->json);
			if (!a->json && !*ev->path)
				printf("\n");
			code = *ev->path ? CLI_OK : CLI_FAIL;
			seen++;
		}
		zkc_event_free(ev);
	}
	return code;
}

int cli_discover(int argc, char **argv)
{
	struct discover_args a = { .json = cli_json, .timeout = -1 };
	zkc_options_t o = ZKC_OPTIONS_INIT;
	char *list = NULL;
	zkc_t *zk = NULL;
	int rc, code;

	if ((code = discover_parse(argc, argv, &a)) != CLI_OK)
		return code < 0 ? CLI_OK : code;
	/* No wait for a session: this asks the provider only. */
	o.connect_timeout_ms = -1;
	o.log_fn = provider_log;
	o.log_level = ZKC_LOG_WARN;
	if (!(zk = cli_open_url("discover", url_arg(argc, argv), &o, &code)))
		return code;
	rc = zkc_servers(&list, zk);
	if (rc != ZKC_OK) {
		code = cli_fail("discover", rc);
		zkc_close(zk);
		return code;
	}
	print_list(list, a.json);
	code = *list ? CLI_OK : CLI_FAIL;
	if (!*list && !a.watch)
		fprintf(stderr, "zkc: discover: no server found\n");
	zkc_free(list);
	if (a.watch)
		code = discover_watch(zk, &a, code);
	zkc_close(zk);
	return code;
}

int cli_health(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "timeout", required_argument, NULL, 't' }, { "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 }
	};
	zkc_options_t o = ZKC_OPTIONS_INIT;
	zkc_retry_t r = ZKC_RETRY_INIT;
	int64_t timeout = 5000, sid = 0, t0 = now_ms();
	int c, rc, state, code;
	char *server = NULL;
	zkc_t *zk = NULL;

	cli_getopt_reset("+h");
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if ((timeout = parse_duration(optarg)) < 1) {
				fprintf(stderr, "zkc health: --timeout wants a duration (5s, 500ms)\n");
				return CLI_USAGE;
			}
			break;
		case 'h': fputs(health_usage, stdout); return CLI_OK;
		default: fputs(health_usage, stderr); return CLI_USAGE;
		}
	}
	if (optind + 1 < argc) {
		fputs(health_usage, stderr);
		return CLI_USAGE;
	}
	o.connect_timeout_ms = (int)timeout;
	if (!(zk = cli_open_url("health", url_arg(argc, argv), &o, &code)))
		return code;
	/* A sync is a real round trip, and a read-only server refuses it
	 * (ZKC_ENOTREADONLY): connected and writable in one call. */
	r.deadline_ms = (int)(timeout - (now_ms() - t0));
	if (r.deadline_ms < 100)
		r.deadline_ms = 100;
	zkc_set_retry(zk, &r);
	rc = zkc_sync(zk, "/");
	state = zkc_state(zk);
	if (rc == ZKC_OK && state != ZKC_STATE_CONNECTED && state != ZKC_STATE_RECONNECTED)
		rc = ZKC_ECONNECTIONLOSS;
	if (rc == ZKC_ENOTREADONLY) {
		fprintf(stderr, "zkc: health: the server is read-only (no quorum)\n");
		zkc_close(zk);
		return CLI_FAIL;
	}
	if (rc != ZKC_OK) {
		code = cli_fail("health", rc);
		zkc_close(zk);
		return code;
	}
	zkc_session(&sid, NULL, NULL, zk);
	zkc_current_server(&server, zk);
	if (cli_json)
		printf("{\"ok\":true,\"session\":\"0x%" PRIx64 "\",\"server\":\"%s\",\"state\":\"%s\"}\n",
		       (uint64_t)sid, server ? server : "", zkc_state_name(state));
	else
		printf("ok: session 0x%" PRIx64 " on %s, %s\n", (uint64_t)sid, server ? server : "?",
		       zkc_state_name(state));
	zkc_free(server);
	zkc_close(zk);
	return CLI_OK;
}
