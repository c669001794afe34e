/* tools/cmd_watch.c - `zkc watch --tree PATH`: a zkc_cache of the subtree
 * whose events are printed as they come, one line each. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

typedef struct wt {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int node_events;   /* ADDED/UPDATED/REMOVED printed */
	int show_data;
} wt_t;

/* Data as one line: printable bytes kept, others as '.', cut at 64. */
static void print_data(const char *d, size_t len)
{
	size_t i, n = len > 64 ? 64 : len;

	putchar(' ');
	for (i = 0; i < n; i++)
		putchar(d[i] >= 0x20 && d[i] < 0x7f ? d[i] : '.');
	if (n < len)
		fputs("...", stdout);
}

static void print_event_json(const zkc_cache_event_t *ev, int show_data)
{
	printf("{\"event\":\"%s\"", zkc_cache_event_name(ev->type));
	if (ev->path) {
		printf(",\"path\":");
		cli_json_string(ev->path, strlen(ev->path));
	}
	if (ev->stat && ev->type != ZKC_CACHE_REMOVED) {
		printf(",\"stat\":");
		cli_json_stat(ev->stat);
	}
	if (show_data && ev->data && ev->type != ZKC_CACHE_REMOVED) {
		putchar(',');
		cli_json_data(ev->data, ev->len);
	}
	printf("}\n");
}

/* Runs on the client's event thread; the main thread only waits. */
static void wt_event(zkc_cache_t *c, const zkc_cache_event_t *ev, void *payload)
{
	wt_t *w = payload;

	(void)c;
	if (cli_json) {
		print_event_json(ev, w->show_data);
	} else {
		printf("%s", zkc_cache_event_name(ev->type));
		if (ev->path)
			printf(" %s", ev->path);
		if (ev->stat && ev->type != ZKC_CACHE_REMOVED)
			printf(" czxid=0x%llx mzxid=0x%llx version=%d len=%d",
			       (unsigned long long)ev->stat->czxid,
			       (unsigned long long)ev->stat->mzxid, ev->stat->version,
			       ev->stat->data_length);
		if (w->show_data && ev->data && ev->type != ZKC_CACHE_REMOVED)
			print_data(ev->data, ev->len);
		putchar('\n');
	}
	fflush(stdout);
	pthread_mutex_lock(&w->mu);
	if (ev->type <= ZKC_CACHE_REMOVED)
		w->node_events++;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

static int wt_usage(void)
{
	fprintf(stderr, "usage: zkc watch --tree [--depth N] [--data] [--count N] "
	        "[--timeout SEC] [--json] PATH\nTry `zkc watch --help'.\n");
	return CLI_USAGE;
}

/* `zkc watch --tree PATH`: prints ADDED/UPDATED/REMOVED for every node of
 * the subtree (the initial load first, then INITIALIZED), and SUSPENDED /
 * RESYNCED around faults, until --count node events, --timeout seconds
 * without one, or SIGINT/SIGTERM. argv[0] is the command name. */
int cli_watch_tree(int argc, char **argv)
{
	static const struct option opts[] = { { "tree", no_argument, NULL, 'T' },
	                                      { "depth", required_argument, NULL, 'd' },
	                                      { "data", no_argument, NULL, 'D' },
	                                      { "count", required_argument, NULL, 'n' },
	                                      { "timeout", required_argument, NULL, 't' },
	                                      { 0, 0, 0, 0 } };
	zkc_cache_options_t co = ZKC_CACHE_OPTIONS_INIT;
	int count = -1, timeout_s = -1, c, code = CLI_OK, rc, last = 0;
	wt_t w = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0 };
	struct timespec idle_since;
	zkc_cache_t *cache = NULL;
	zkc_t *zk;

	cli_getopt_reset("");
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		int v = 0;

		if (c == 'T')
			continue;
		if (c == 'D') {
			w.show_data = 1;
			continue;
		}
		if (c != 'd' && c != 'n' && c != 't')
			return wt_usage();
		if (cli_parse_int(optarg, c == 'd' ? -1 : 1, INT_MAX, &v) != 0)
			return wt_usage();
		if (c == 'd')
			co.depth = v;
		else if (c == 'n')
			count = v;
		else
			timeout_s = v;
	}
	if (optind != argc - 1)
		return wt_usage();
	if (zkc_path_validate(argv[optind], (size_t)-1) != ZKC_OK)
		return cli_fail("watch", ZKC_EBADARGUMENTS);
	cli_signals_catch(NULL);
	if (!(zk = cli_open(&code)))
		return code;
	co.event_fn = wt_event;
	co.event_payload = &w;
	rc = zkc_cache_open(&cache, zk, argv[optind], &co);
	clock_gettime(CLOCK_MONOTONIC, &idle_since);
	while (rc == ZKC_OK && !cli_stop_signal()) {
		struct timespec now, ts;
		int n;

		pthread_mutex_lock(&w.mu);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 200 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (w.node_events == last)
			pthread_cond_timedwait(&w.cv, &w.mu, &ts);
		n = w.node_events;
		pthread_mutex_unlock(&w.mu);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (n != last) {
			last = n;
			idle_since = now;
		}
		if (count > 0 && n >= count)
			break;
		if (timeout_s > 0 && now.tv_sec - idle_since.tv_sec >= timeout_s)
			break;
	}
	code = cli_fail("watch", rc);
	zkc_cache_close(cache);
	zkc_close(zk);
	return code;
}
