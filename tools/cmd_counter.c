/* tools/cmd_counter.c - `zkc counter get|add|cas`: the replicated counter
 * (zkc/counter.h, Curator DistributedAtomicLong format) for shell scripts,
 * with --json output and exit codes of tools/cli.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_counter(int argc, char **argv);

static const char counter_usage[] =
    "usage: zkc counter get [--shards N] [--json] PATH\n"
    "       zkc counter add [--shards N] [--json] PATH DELTA\n"
    "       zkc counter cas [--json] PATH EXPECTED NEW\n"
    "--shards N: 0 (the default) takes the shard count stored with the counter\n"
    "(plain when there is none yet); 1 a plain counter; 2..256 a sharded one. A\n"
    "count that differs from the stored one is an error (exit 2).\n"
    "A replicated signed 64-bit counter stored as 8 bytes big-endian (readable\n"
    "by Curator's DistributedAtomicLong); a missing node reads as 0. add\n"
    "prints the new value (sharded: that of the shard written); cas writes NEW\n"
    "only if the value is EXPECTED and prints the value it found.\n"
    "Exit status: 0 ok; 5 cas: the value was not EXPECTED; 2 usage or bad\n"
    "input (overflow, not a counter); 7 no connection; 9 outcome unknown (the\n"
    "add may or may not have happened); 1 other.\n";

static int bad(const char *why)
{
	fprintf(stderr, "zkc: counter: %s\n%s", why, counter_usage);
	return CLI_USAGE;
}

static void print_value(const char *key, int64_t v, int json)
{
	if (json)
		printf("{\"%s\":%" PRId64 "}\n", key, v);
	else
		printf("%" PRId64 "\n", v);
}

int cli_counter(int argc, char **argv)
{
	zkc_counter_options_t o = ZKC_COUNTER_OPTIONS_INIT;
	const char *sub, *args[3] = { NULL, NULL, NULL };
	int json = cli_json, i, n = 0, want, code = CLI_OK, rc, ended = 0;
	int64_t a = 0, b = 0, v = 0;
	zkc_counter_t *c = NULL;
	zkc_t *zk;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(counter_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_USAGE : CLI_OK;
	}
	sub = argv[1];
	if (strcmp(sub, "get") == 0)
		want = 1;
	else if (strcmp(sub, "add") == 0)
		want = 2;
	else if (strcmp(sub, "cas") == 0)
		want = 3;
	else
		return bad("unknown subcommand");
	for (i = 2; i < argc; i++) {
		if (!ended && strcmp(argv[i], "--") == 0) {
			ended = 1;
		} else if (!ended && strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (!ended && strcmp(argv[i], "--shards") == 0 && want != 3 && i + 1 < argc) {
			int64_t s;

			if (cli_parse_i64(argv[++i], 0, 256, &s))
				return bad("--shards takes 0..256");
			o.shards = (int)s;
		} else if (!ended && argv[i][0] == '-' && (argv[i][1] < '0' || argv[i][1] > '9')) {
			return bad("unknown option");
		} else if (n < want) {
			args[n++] = argv[i];
		} else {
			return bad("unexpected argument");
		}
	}
	if (n != want)
		return bad("missing argument");
	if ((want >= 2 && cli_parse_i64(args[1], INT64_MIN, INT64_MAX, &a)) ||
	    (want == 3 && cli_parse_i64(args[2], INT64_MIN, INT64_MAX, &b)))
		return bad("values are signed 64-bit decimal integers");
	if (!(zk = cli_open(&code)))
		return code;
	rc = zkc_counter_open(&c, zk, args[0], &o);
	if (rc != ZKC_OK) {
		code = cli_fail("counter", rc);
	} else if (want == 1) {
		rc = zkc_counter_get(&v, c);
		code = rc == ZKC_OK ? (print_value("value", v, json), CLI_OK) : cli_fail("counter get", rc);
	} else if (want == 2) {
		rc = zkc_counter_add(&v, c, a);
		code = rc == ZKC_OK ? (print_value("value", v, json), CLI_OK) : cli_fail("counter add", rc);
	} else {
		rc = zkc_counter_cas(&v, c, a, b);
		if (rc == ZKC_OK || rc == ZKC_EBADVERSION) {
			if (json)
				printf("{\"swapped\":%s,\"value\":%" PRId64 "}\n",
				       rc == ZKC_OK ? "true" : "false", v);
			else
				printf("%" PRId64 "\n", v);
			code = rc == ZKC_OK ? CLI_OK : CLI_BADVERSION;
		} else {
			code = cli_fail("counter cas", rc);
		}
	}
	zkc_counter_close(c);
	zkc_close(zk);
	return code;
}
