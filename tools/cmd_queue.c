/* tools/cmd_queue.c - `zkc queue put|take|peek|size`: the queue recipe
 * (zkc/queue.h) for shell scripts, with --json output and exit codes of
 * tools/cli.h (124: nothing to take within --timeout). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

int cli_queue(int argc, char **argv);

#define QUEUE_EXIT_EMPTY 124   /* nothing to take within --timeout (as timeout(1)) */

static const char queue_usage[] =
    "usage: zkc queue put  [--priority N] [--json] PATH DATA|-\n"
    "       zkc queue take [--timeout SEC] [--delete] [--json] PATH\n"
    "       zkc queue peek [--json] PATH\n"
    "       zkc queue size [--json] PATH\n"
    "A FIFO queue with priorities (0 first .. 999 last, default 100) in kazoo\n"
    "LockingQueue's layout; put creates the queue if missing. take waits up\n"
    "to --timeout seconds (default 0: one attempt; -1 forever), prints the\n"
    "item's data and then acknowledges it (at-least-once: an item printed but\n"
    "not acknowledged, e.g. zkc killed, is taken again by someone else);\n"
    "--delete takes it by deleting it first (at most once).\n"
    "Exit status: 0 ok; 124 queue empty (take, peek); 3 no such queue;\n"
    "2 usage or bad input (data over 1 MiB); 7 no connection; 9 outcome\n"
    "unknown; 1 other.\n";

static void print_item(const zkc_queue_item_t *it, int json)
{
	if (json) {
		printf("{\"name\":");
		cli_json_string(it->name, strlen(it->name));
		printf(",\"priority\":%d,\"data\":", it->priority);
		cli_json_string(it->data, it->len);
		printf("}\n");
	} else {
		fwrite(it->data, 1, it->len, stdout);
		if (isatty(fileno(stdout)))
			putchar('\n');
	}
}

static int bad(const char *why)
{
	fprintf(stderr, "zkc: queue: %s\n%s", why, queue_usage);
	return CLI_USAGE;
}

int cli_queue(int argc, char **argv)
{
	const char *sub, *path = NULL, *arg = NULL;
	int priority = ZKC_QUEUE_PRIORITY_DEFAULT, timeout_s = 0;
	int json = 0, del = 0, i, code = CLI_OK, rc, nargs = 0;
	zkc_queue_options_t o = ZKC_QUEUE_OPTIONS_INIT;
	zkc_queue_t *q = NULL;
	zkc_t *zk;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(queue_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_USAGE : CLI_OK;
	}
	sub = argv[1];
	if (strcmp(sub, "put") && strcmp(sub, "take") && strcmp(sub, "peek") && strcmp(sub, "size"))
		return bad("unknown subcommand");
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (strcmp(argv[i], "--delete") == 0 && strcmp(sub, "take") == 0) {
			del = 1;
		} else if (strcmp(argv[i], "--priority") == 0 && strcmp(sub, "put") == 0 && i + 1 < argc) {
			if (cli_parse_int(argv[++i], 0, ZKC_QUEUE_PRIORITY_MAX, &priority))
				return bad("--priority takes 0..999");
		} else if (strcmp(argv[i], "--timeout") == 0 && strcmp(sub, "take") == 0 && i + 1 < argc) {
			if (cli_parse_int(argv[++i], -1, 86400 * 365, &timeout_s))
				return bad("--timeout takes seconds (-1: forever)");
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return bad("unknown option");
		} else if (nargs == 0) {
			path = argv[i];
			nargs++;
		} else if (nargs == 1 && strcmp(sub, "put") == 0) {
			arg = argv[i];
			nargs++;
		} else {
			return bad("unexpected argument");
		}
	}
	if (!path || (strcmp(sub, "put") == 0 && !arg))
		return bad("missing argument");
	if (!(zk = cli_open(&code)))
		return code;
	if (strcmp(sub, "put") == 0)
		o.flags = ZKC_QUEUE_CREATE;
	rc = zkc_queue_open(&q, zk, path, &o);
	if (rc != ZKC_OK) {
		code = cli_fail(path, rc);
		goto out;
	}
	if (strcmp(sub, "put") == 0) {
		char *data = NULL, *name = NULL;
		size_t len = 0;

		if (cli_read_arg(arg, &data, &len) != 0) {
			fprintf(stderr, "zkc: queue put: cannot read data\n");
			code = CLI_FAIL;
			goto out;
		}
		rc = zkc_queue_put(&name, q, data, len, (int)priority);
		free(data);
		if (rc != ZKC_OK) {
			code = cli_fail("queue put", rc);
		} else if (json) {
			printf("{\"name\":");
			cli_json_string(name, strlen(name));
			printf("}\n");
		} else {
			printf("%s\n", name);
		}
		zkc_free(name);
	} else if (strcmp(sub, "take") == 0 || strcmp(sub, "peek") == 0) {
		zkc_queue_item_t *it = NULL;
		int take = strcmp(sub, "take") == 0;

		if (take)
			rc = zkc_queue_take(&it, q, del ? ZKC_QUEUE_TAKE_DELETE : ZKC_QUEUE_TAKE_ACK,
			                    timeout_s < 0 ? -1 : (int)(timeout_s * 1000));
		else
			rc = zkc_queue_peek(&it, q);
		if (rc == ZKC_EAGAIN || rc == ZKC_ETIMEDOUT) {
			fprintf(stderr, "zkc: queue %s: %s is empty\n", sub, path);
			code = QUEUE_EXIT_EMPTY;
		} else if (rc != ZKC_OK) {
			code = cli_fail(take ? "queue take" : "queue peek", rc);
			if (rc == ZKC_EUNKNOWN && it)
				fprintf(stderr, "zkc: queue take: item %s may be lost\n", it->name);
		} else {
			print_item(it, json);
			/* acknowledge only what reached standard output */
			if (fflush(stdout) != 0 || ferror(stdout)) {
				fprintf(stderr, "zkc: queue take: cannot write the item; not acknowledged\n");
				code = CLI_FAIL;
			} else if (take && !del) {
				rc = zkc_queue_ack(q, it);
				if (rc != ZKC_OK)
					code = cli_fail("queue take: ack", rc);
			}
		}
		zkc_queue_item_free(it);
	} else {
		size_t n = 0, taken = 0;

		rc = zkc_queue_size(&n, &taken, q);
		if (rc != ZKC_OK)
			code = cli_fail("queue size", rc);
		else if (json)
			printf("{\"size\":%zu,\"taken\":%zu}\n", n, taken);
		else
			printf("%zu\n", n);
	}
out:
	zkc_queue_close(q);
	zkc_close(zk);
	return code;
}
