/* examples/failover.c - the demo: writes and reads through a ZooKeeper
 * leader kill and shows that the session survived.
 *
 *   failover URL ENSEMBLE_DIR [WRITES]
 *
 * URL is the ensemble's connection URL and ENSEMBLE_DIR the directory of a
 * local ensemble started with `zkc ensemble up`, whose leader this program
 * kills (SIGKILL) a third of the way through and restarts afterwards. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zkc.h"
#include "ensemble.h"

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_state(zkc_t *zk, int state, int64_t session_id, void *payload)
{
	(void)zk;
	(void)payload;
	printf("  [event] %-11s session 0x%llx\n", zkc_state_name(state),
	       (unsigned long long)session_id);
	fflush(stdout);
}

static int die(const char *what, int rc)
{
	fprintf(stderr, "failover: %s: %s: %s\n", what, zkc_strcode(rc), zkc_error_last()->message);
	return 1;
}

int main(int argc, char **argv)
{
	zkc_create_options_t co = ZKC_CREATE_OPTIONS_INIT;
	zkc_options_t o = ZKC_OPTIONS_INIT;
	int writes = argc > 3 ? atoi(argv[3]) : 300;
	long long t_kill = 0, gap = -1;
	int64_t sid_before = 0, sid_after = 0;
	zkc_ens_t *ens = NULL;
	zkc_t *zk = NULL;
	int i, rc, leader = -1, reads = 0;

	if (argc < 3 || writes < 3) {
		fprintf(stderr, "usage: failover URL ENSEMBLE_DIR [WRITES>=3]\n");
		return 2;
	}
	if (zkc_ens_attach(&ens, argv[2]) != ZKC_OK) {
		fprintf(stderr, "failover: %s\n", zkc_ens_error());
		return 1;
	}
	o.session_timeout_ms = 15000;
	rc = zkc_open(&zk, argv[1], &o);
	if (rc != ZKC_OK)
		return die("open", rc);
	zkc_listener_add(NULL, zk, on_state, NULL);
	zkc_session(&sid_before, NULL, NULL, zk);
	printf("connected: session 0x%llx\n", (unsigned long long)sid_before);

	rc = zkc_create(NULL, NULL, zk, "/demo", NULL, 0, NULL);
	if (rc != ZKC_OK && rc != ZKC_ENODEEXISTS)
		return die("create /demo", rc);
	co.mode = ZKC_PERSISTENT_SEQUENTIAL;
	co.flags = ZKC_CREATE_PROTECTED;
	for (i = 0; i < writes; i++) {
		char data[32], *path = NULL, *back = NULL;

		if (i == writes / 3) {
			if (zkc_ens_leader(&leader, ens, 30000) != ZKC_OK) {
				fprintf(stderr, "failover: %s\n", zkc_ens_error());
				return 1;
			}
			printf("write %d: killing the leader, server %d (SIGKILL)\n", i, leader + 1);
			fflush(stdout);
			t_kill = now_ms();
			zkc_ens_kill(ens, leader);
		}
		snprintf(data, sizeof(data), "value-%d", i);
		rc = zkc_create(&path, NULL, zk, "/demo/item-", data, strlen(data), &co);
		if (rc != ZKC_OK)
			return die("write", rc);
		rc = zkc_get(&back, NULL, NULL, zk, path);
		if (rc != ZKC_OK)
			return die("read", rc);
		if (strcmp(back, data) != 0) {
			fprintf(stderr, "failover: read %s back as %s\n", data, back);
			return 1;
		}
		reads++;
		if (t_kill && gap < 0) {
			gap = now_ms() - t_kill;
			printf("write %d: acknowledged %lld ms after the kill (%s)\n", i, gap, path);
			fflush(stdout);
		}
		zkc_free(path);
		zkc_free(back);
	}
	zkc_session(&sid_after, NULL, NULL, zk);
	printf("done: %d writes and %d reads, all acknowledged and read back\n", writes, reads);
	printf("session before the kill 0x%llx, after 0x%llx: %s\n",
	       (unsigned long long)sid_before, (unsigned long long)sid_after,
	       sid_before == sid_after ? "the session survived" : "a new session was made");
	if (leader >= 0 && zkc_ens_restart(ens, leader, 60000) == ZKC_OK)
		printf("server %d restarted\n", leader + 1);
	zkc_delete(zk, "/demo", -1, ZKC_DELETE_RECURSIVE);
	zkc_close(zk);
	zkc_ens_free(ens);
	return sid_before == sid_after ? 0 : 1;
}
