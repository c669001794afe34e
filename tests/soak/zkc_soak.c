/* tests/soak/zkc_soak.c - the steady mixed workload of scripts/soak.sh: in
 * one process, WORKERS threads each with its own client loop over lock
 * acquire/release, counter add, queue put and take, writes to a subtree
 * that every worker's cache follows, and reads from that cache; one more
 * thread opens and closes a client (with a watch and a pending batch)
 * again and again. Faults come from outside (the script kills, stops and
 * restarts servers): failed operations are counted, never fatal. Runs
 * until SIGTERM or SIGINT, printing one line per interval on stdout:
 *   ops T ok N failed N opens N
 * (cumulative). Reads ZKC_URL. Exit 0 after a clean stop, 1 if it could
 * not start. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "zkc.h"

#define WORKERS 6
#define TREE_NODES 16

static atomic_int stopping;
static atomic_long ok_ops, failed_ops, opens;
static char root[96];

static void on_signal(int sig)
{
	(void)sig;
	atomic_store(&stopping, 1);
}

static void count(int rc)
{
	if (rc == ZKC_OK)
		atomic_fetch_add(&ok_ops, 1);
	else
		atomic_fetch_add(&failed_ops, 1);
}

static void pause_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void *worker(void *arg)
{
	int id = (int)(intptr_t)arg, i = 0, rc;
	zkc_cache_t *cache = NULL;
	zkc_counter_t *counter = NULL;
	zkc_queue_t *queue = NULL;
	zkc_lock_t *lock = NULL;
	zkc_t *zk = NULL;
	char path[160], tree[128];

	snprintf(tree, sizeof tree, "%s/tree", root);
	while (!atomic_load(&stopping) && zkc_open(&zk, NULL, NULL) != ZKC_OK)
		pause_ms(500);
	if (!zk)
		return NULL;
	snprintf(path, sizeof path, "%s/lock", root);
	rc = zkc_lock_open(&lock, zk, path, NULL);
	snprintf(path, sizeof path, "%s/counter", root);
	if (rc == ZKC_OK)
		rc = zkc_counter_open(&counter, zk, path, NULL);
	snprintf(path, sizeof path, "%s/queue", root);
	if (rc == ZKC_OK) {
		zkc_queue_options_t qo = ZKC_QUEUE_OPTIONS_INIT;

		qo.flags = ZKC_QUEUE_CREATE;
		rc = zkc_queue_open(&queue, zk, path, &qo);
	}
	if (rc == ZKC_OK)
		rc = zkc_cache_open(&cache, zk, tree, NULL);
	if (rc != ZKC_OK) {
		fprintf(stderr, "zkc_soak: worker %d: %s: %s\n", id, zkc_strcode(rc),
		    zkc_error_last()->message);
		atomic_store(&stopping, 1);
	}
	while (!atomic_load(&stopping)) {
		zkc_queue_item_t *item = NULL;
		char value[32], *data = NULL;
		size_t len;

		switch (i++ % 5) {
		case 0:
			rc = zkc_lock_acquire(NULL, lock, 2000);
			if (rc == ZKC_OK)
				rc = zkc_lock_release(lock, 0);
			break;
		case 1:
			rc = zkc_counter_add(NULL, counter, 1);
			break;
		case 2:
			rc = zkc_queue_put(NULL, queue, "item", 4, 0);
			if (rc == ZKC_OK) {
				rc = zkc_queue_take(&item, queue, ZKC_QUEUE_TAKE_DELETE, 2000);
				zkc_queue_item_free(item);
			}
			break;
		case 3:
			snprintf(path, sizeof path, "%s/n%02d", tree, (id * 7 + i) % TREE_NODES);
			snprintf(value, sizeof value, "%d-%d", id, i);
			rc = zkc_set(NULL, zk, path, value, strlen(value), -1);
			break;
		default:
			snprintf(path, sizeof path, "%s/n%02d", tree, i % TREE_NODES);
			rc = zkc_cache_get(&data, &len, NULL, cache, path);
			zkc_free(data);
			/* a cache that is resyncing may not have it yet */
			if (rc == ZKC_ENONODE)
				rc = ZKC_OK;
			break;
		}
		count(rc);
		if (rc != ZKC_OK)
			pause_ms(100);   /* a fault: do not spin while it lasts */
		/* state, cache and lock events queue up for the application, as
		 * they would in a real one: read them */
		for (;;) {
			zkc_event_t *ev = NULL;

			if (zkc_events_next(&ev, zk, 0) != ZKC_OK)
				break;
			zkc_event_free(ev);
		}
	}
	zkc_cache_close(cache);
	zkc_queue_close(queue);
	zkc_counter_close(counter);
	zkc_lock_close(lock);
	zkc_close(zk);
	return NULL;
}

static void ignore_watch(zkc_t *zk, const zkc_event_t *ev, void *payload)
{
	(void)zk;
	(void)ev;
	(void)payload;
}

/* Clients that come and go, each closed with a watch set and a batch in
 * flight. */
static void *churn(void *arg)
{
	char tree[128];

	(void)arg;
	snprintf(tree, sizeof tree, "%s/tree", root);
	while (!atomic_load(&stopping)) {
		zkc_batch_t *b = NULL;
		zkc_t *zk = NULL;

		if (zkc_open(&zk, NULL, NULL) != ZKC_OK) {
			count(ZKC_ETIMEDOUT);
			pause_ms(200);
			continue;
		}
		atomic_fetch_add(&opens, 1);
		count(zkc_exists_w(NULL, zk, tree, ignore_watch, NULL));
		if (zkc_batch_new(&b) == ZKC_OK) {
			zkc_batch_children(b, tree, 1, ignore_watch, NULL);
			zkc_batch_get(b, tree, 0, NULL, NULL);
			if (zkc_batch_run_async(zk, b, NULL, NULL) != ZKC_OK)
				zkc_batch_free(b);
		}
		zkc_close(zk);
		pause_ms(50);
	}
	return NULL;
}

static int setup(void)
{
	zkc_create_options_t parents = ZKC_CREATE_OPTIONS_INIT;
	char path[160];
	zkc_t *zk = NULL;
	int i, rc;

	parents.flags = ZKC_CREATE_PARENTS;
	if ((rc = zkc_open(&zk, NULL, NULL)) != ZKC_OK)
		goto fail;
	for (i = 0; i < TREE_NODES; i++) {
		snprintf(path, sizeof path, "%s/tree/n%02d", root, i);
		rc = zkc_create(NULL, NULL, zk, path, "0", 1, &parents);
		if (rc != ZKC_OK && rc != ZKC_ENODEEXISTS)
			goto fail;
	}
	zkc_close(zk);
	return 0;
fail:
	fprintf(stderr, "zkc_soak: setup: %s: %s\n", zkc_strcode(rc), zkc_error_last()->message);
	zkc_close(zk);
	return -1;
}

int main(int argc, char **argv)
{
	int interval = argc > 1 ? atoi(argv[1]) : 10, i, ticks = 0;
	pthread_t t[WORKERS + 1];
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	snprintf(root, sizeof root, "/zkc-soak-%d", (int)getpid());
	if (interval < 1 || setup() != 0)
		return 1;
	for (i = 0; i < WORKERS; i++)
		pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i);
	pthread_create(&t[WORKERS], NULL, churn, NULL);
	while (!atomic_load(&stopping)) {
		pause_ms(200);
		if (++ticks % (interval * 5) == 0) {
			printf("ops %ld ok %ld failed %ld opens %ld\n",
			    atomic_load(&ok_ops) + atomic_load(&failed_ops), atomic_load(&ok_ops),
			    atomic_load(&failed_ops), atomic_load(&opens));
			fflush(stdout);
		}
	}
	for (i = 0; i <= WORKERS; i++)
		pthread_join(t[i], NULL);
	printf("ops %ld ok %ld failed %ld opens %ld\n",
	    atomic_load(&ok_ops) + atomic_load(&failed_ops), atomic_load(&ok_ops),
	    atomic_load(&failed_ops), atomic_load(&opens));
	return 0;
}
