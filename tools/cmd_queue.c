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

struct queue_args {
	const char *sub, *path, *arg;
	int priority, timeout_s, json, del;
};

/* Options anywhere; after "--" every word is an argument. */
static int parse_args(int argc, char **argv, struct queue_args *a)
{
	int i, nargs = 0, ended = 0, put = strcmp(a->sub, "put") == 0;
	int take = strcmp(a->sub, "take") == 0;

	for (i = 2; i < argc; i++) {
		const char *s = argv[i];

		if (!ended && strcmp(s, "--") == 0) {
			ended = 1;
		} else if (!ended && strcmp(s, "--json") == 0) {
			a->json = 1;
		} else if (!ended && strcmp(s, "--delete") == 0 && take) {
			a->del = 1;
		} else if (!ended && strcmp(s, "--priority") == 0 && put && i + 1 < argc) {
			if (cli_parse_int(argv[++i], 0, ZKC_QUEUE_PRIORITY_MAX, &a->priority))
				return bad("--priority takes 0..999");
		} else if (!ended && strcmp(s, "--timeout") == 0 && take && i + 1 < argc) {
			if (cli_parse_int(argv[++i], -1, 86400 * 365, &a->timeout_s))
				return bad("--timeout takes seconds (-1: forever)");
		} else if (!ended && s[0] == '-' && s[1]) {
			return bad("unknown option");
		} else if (nargs == 0) {
			a->path = s;
			nargs++;
		} else if (nargs == 1 && put) {
			a->arg = s;
			nargs++;
		} else {
			return bad("unexpected argument");
		}
	}
	if (!a->path || (put && !a->arg))
		return bad("missing argument");
	return CLI_OK;
}

static int do_put(zkc_queue_t *q, const struct queue_args *a)
{
	char *data = NULL, *name = NULL;
	size_t len = 0;
	int code = CLI_OK, rc;

	if (cli_read_arg(a->arg, &data, &len) != 0) {
		fprintf(stderr, "zkc: queue put: cannot read data\n");
		return CLI_FAIL;
	}
	rc = zkc_queue_put(&name, q, data, len, a->priority);
	free(data);
	if (rc != ZKC_OK) {
		code = cli_fail("queue put", rc);
	} else if (a->json) {
		printf("{\"name\":");
		cli_json_string(name, strlen(name));
		printf("}\n");
	} else {
		printf("%s\n", name);
	}
	zkc_free(name);
	return code;
}

static int do_take(zkc_queue_t *q, const struct queue_args *a)
{
	zkc_queue_item_t *it = NULL;
	int take = strcmp(a->sub, "take") == 0, code = CLI_OK, rc;

	if (take)
		rc = zkc_queue_take(&it, q, a->del ? ZKC_QUEUE_TAKE_DELETE : ZKC_QUEUE_TAKE_ACK,
		                    a->timeout_s < 0 ? -1 : (int)(a->timeout_s * 1000));
	else
		rc = zkc_queue_peek(&it, q);
	if (rc == ZKC_EAGAIN || rc == ZKC_ETIMEDOUT) {
		fprintf(stderr, "zkc: queue %s: %s is empty\n", a->sub, a->path);
		code = CLI_TIMEOUT;
	} else if (rc != ZKC_OK) {
		code = cli_fail(take ? "queue take" : "queue peek", rc);
		if (rc == ZKC_EUNKNOWN && it)
			fprintf(stderr, "zkc: queue take: item %s may be lost\n", it->name);
	} else {
		print_item(it, a->json);
		/* acknowledge only what reached standard output */
		if (fflush(stdout) != 0 || ferror(stdout)) {
			fprintf(stderr, "zkc: queue take: cannot write the item; not acknowledged\n");
			code = CLI_FAIL;
		} else if (take && !a->del) {
			rc = zkc_queue_ack(q, it);
			if (rc != ZKC_OK)
				code = cli_fail("queue take: ack", rc);
		}
	}
	zkc_queue_item_free(it);
	return code;
}

static int do_size(zkc_queue_t *q, const struct queue_args *a)
{
	size_t n = 0, taken = 0;
	int rc = zkc_queue_size(&n, &taken, q);

	if (rc != ZKC_OK)
		return cli_fail("queue size", rc);
	if (a->json)
		printf("{\"size\":%zu,\"taken\":%zu}\n", n, taken);
	else
		printf("%zu\n", n);
	return CLI_OK;
}

int cli_queue(int argc, char **argv)
{
	struct queue_args a = { .priority = ZKC_QUEUE_PRIORITY_DEFAULT, .json = cli_json };
	zkc_queue_options_t o = ZKC_QUEUE_OPTIONS_INIT;
	zkc_queue_t *q = NULL;
	int code = CLI_OK, rc;
	zkc_t *zk;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(queue_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_USAGE : CLI_OK;
	}
	a.sub = argv[1];
	if (strcmp(a.sub, "put") && strcmp(a.sub, "take") && strcmp(a.sub, "peek") &&
	    strcmp(a.sub, "size"))
		return bad("unknown subcommand");
	if ((code = parse_args(argc, argv, &a)) != CLI_OK)
		return code;
	if (!(zk = cli_open(&code)))
		return code;
	if (strcmp(a.sub, "put") == 0)
		o.flags = ZKC_QUEUE_CREATE;
	rc = zkc_queue_open(&q, zk, a.path, &o);
	if (rc != ZKC_OK)
		code = cli_fail(a.path, rc);
	else if (strcmp(a.sub, "put") == 0)
		code = do_put(q, &a);
	else if (strcmp(a.sub, "size") == 0)
		code = do_size(q, &a);
	else
		code = do_take(q, &a);
	zkc_queue_close(q);
	zkc_close(zk);
	return code;
}
