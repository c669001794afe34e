/* tools/cmd_node.c - the node commands of `zkc`: ls, get, set, create, rm,
 * stat, tree and watch, each one call or a short loop over the public API,
 * with an exit code per kind of failure (tools/cli.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* ------------------------------------------------------------ shared */

/* A path is checked before anything is sent, so that bad input is a usage
 * error (exit 2) and a ZKC_EBADARGUMENTS that comes back from a request is
 * a refusal (the server's, or the library's up-front refusal of
 * ZooKeeper's own nodes): the operation failed (exit 1). */
static int path_ok(const char *what, const char *path)
{
	int rc = zkc_path_validate(path, (size_t)-1);

	return rc == ZKC_OK ? 1 : (cli_fail(what, rc), 0);
}

static int sent_fail(const char *what, int rc)
{
	int code = cli_fail(what, rc);

	return rc == ZKC_EBADARGUMENTS ? CLI_FAIL : code;
}

static int usage(const char *cmd, const char *synopsis)
{
	fprintf(stderr, "usage: zkc %s %s\nTry `zkc --help'.\n", cmd, synopsis);
	return CLI_USAGE;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ------------------------------------------------------------ ls */

int cli_ls(int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' }, { 0, 0, 0, 0 } };
	zkc_strings_t *kids = NULL;
	int json = 0, c, code = CLI_OK, rc;
	size_t i;
	zkc_t *zk;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'j')
			return usage("ls", "[--json] PATH");
		json = 1;
	}
	if (optind != argc - 1)
		return usage("ls", "[--json] PATH");
	if (!path_ok("ls", argv[optind]))
		return CLI_USAGE;
	if (!(zk = cli_open(&code)))
		return code;
	rc = zkc_children(&kids, NULL, zk, argv[optind]);
	if (rc == ZKC_OK) {
		if (kids->count > 1)
			qsort(kids->items, kids->count, sizeof(char *), cmp_names);
		if (json)
			putchar('[');
		for (i = 0; i < kids->count; i++) {
			if (json) {
				if (i)
					putchar(',');
				cli_json_string(kids->items[i], strlen(kids->items[i]));
			} else {
				printf("%s\n", kids->items[i]);
			}
		}
		if (json)
			printf("]\n");
	}
	code = sent_fail("ls", rc);
	zkc_strings_free(kids);
	zkc_close(zk);
	return code;
}

/* ------------------------------------------------------------ get, stat */

static void print_stat(const zkc_stat_t *st, int json)
{
	if (json) {
		printf("{\"czxid\":%lld,\"mzxid\":%lld,\"pzxid\":%lld,\"ctime\":%lld,\"mtime\":%lld,"
		       "\"version\":%d,\"cversion\":%d,\"aversion\":%d,\"ephemeral_owner\":%lld,"
		       "\"data_length\":%d,\"num_children\":%d}\n",
		       (long long)st->czxid, (long long)st->mzxid, (long long)st->pzxid,
		       (long long)st->ctime, (long long)st->mtime, st->version, st->cversion,
		       st->aversion, (long long)st->ephemeral_owner, st->data_length,
		       st->num_children);
		return;
	}
	printf("czxid           0x%llx\nmzxid           0x%llx\npzxid           0x%llx\n"
	       "ctime           %lld\nmtime           %lld\nversion         %d\n"
	       "cversion        %d\naversion        %d\nephemeral_owner 0x%llx\n"
	       "data_length     %d\nnum_children    %d\n",
	       (unsigned long long)st->czxid, (unsigned long long)st->mzxid,
	       (unsigned long long)st->pzxid, (long long)st->ctime, (long long)st->mtime,
	       st->version, st->cversion, st->aversion, (unsigned long long)st->ephemeral_owner,
	       st->data_length, st->num_children);
}

int cli_get(int argc, char **argv)
{
	static const struct option opts[] = { { "stat", no_argument, NULL, 's' }, { 0, 0, 0, 0 } };
	int with_stat = 0, c, code = CLI_OK, rc;
	char *data = NULL;
	zkc_stat_t st;
	size_t len = 0;
	zkc_t *zk;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 's')
			return usage("get", "[--stat] PATH");
		with_stat = 1;
	}
	if (optind != argc - 1)
		return usage("get", "[--stat] PATH");
	if (!path_ok("get", argv[optind]))
		return CLI_USAGE;
	if (!(zk = cli_open(&code)))
		return code;
	rc = zkc_get(&data, &len, &st, zk, argv[optind]);
	if (rc == ZKC_OK) {
		/* Data is bytes: write it as it is. */
		fwrite(data, 1, len, stdout);
		if (with_stat) {
			if (len && data[len - 1] != '\n')
				putchar('\n');
			print_stat(&st, 0);
		}
	}
	code = sent_fail("get", rc);
	zkc_free(data);
	zkc_close(zk);
	return code;
}

int cli_stat(int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' }, { 0, 0, 0, 0 } };
	int json = 0, c, code = CLI_OK, rc;
	zkc_stat_t st;
	zkc_t *zk;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'j')
			return usage("stat", "[--json] PATH");
		json = 1;
	}
	if (optind != argc - 1)
		return usage("stat", "[--json] PATH");
	if (!path_ok("stat", argv[optind]))
		return CLI_USAGE;
	if (!(zk = cli_open(&code)))
		return code;
	rc = zkc_exists(&st, zk, argv[optind]);
	if (rc == ZKC_OK)
		print_stat(&st, json);
	code = sent_fail("stat", rc);
	zkc_close(zk);
	return code;
}

/* ------------------------------------------------------------ set, create, rm */

int cli_set(int argc, char **argv)
{
	static const struct option opts[] = { { "version", required_argument, NULL, 'v' },
	                                      { 0, 0, 0, 0 } };
	const char *syn = "PATH DATA|- [--version V]";
	int32_t version = -1;
	int c, code = CLI_OK, rc;
	char *data = NULL;
	size_t len = 0;
	zkc_t *zk;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
		if (c != 'v' || cli_parse_int(optarg, -1, INT32_MAX, &version) != 0)
			return usage("set", syn);
	if (optind != argc - 2)
		return usage("set", syn);
	if (cli_read_arg(argv[optind + 1], &data, &len) != 0) {
		fprintf(stderr, "zkc: set: cannot read the data: %s\n", strerror(errno));
		return CLI_FAIL;
	}
	if (!path_ok("set", argv[optind])) {
		free(data);
		return CLI_USAGE;
	}
	if (!(zk = cli_open(&code))) {
		free(data);
		return code;
	}
	rc = zkc_set(NULL, zk, argv[optind], data, len, version);
	code = sent_fail("set", rc);
	free(data);
	zkc_close(zk);
	return code;
}

int cli_create(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ephemeral", no_argument, NULL, 'e' },
		{ "sequential", no_argument, NULL, 's' },
		{ "container", no_argument, NULL, 'c' },
		{ "ttl", required_argument, NULL, 't' },
		{ "parents", no_argument, NULL, 'p' },
		{ 0, 0, 0, 0 } };
	const char *syn = "PATH [DATA|-] [--ephemeral] [--sequential] [--container] "
	                  "[--ttl MS] [--parents]";
	zkc_create_options_t o = ZKC_CREATE_OPTIONS_INIT;
	int eph = 0, seq = 0, cont = 0, c, code = CLI_OK, rc;
	char *data = NULL, *made = NULL;
	int64_t ttl = 0;
	size_t len = 0;
	zkc_t *zk;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'e': eph = 1; break;
		case 's': seq = 1; break;
		case 'c': cont = 1; break;
		case 'p': o.flags |= ZKC_CREATE_PARENTS; break;
		case 't':
			if (cli_parse_i64(optarg, 1, INT64_MAX, &ttl) != 0)
				return usage("create", syn);
			break;
		default:
			return usage("create", syn);
		}
	}
	if (optind != argc - 1 && optind != argc - 2)
		return usage("create", syn);
	if (cont + eph + (ttl > 0) > 1 || (cont && seq)) {
		fprintf(stderr, "zkc: create: --ephemeral, --container and --ttl exclude each other\n");
		return CLI_USAGE;
	}
	o.mode = ttl ? (seq ? ZKC_PERSISTENT_SEQUENTIAL_WITH_TTL : ZKC_PERSISTENT_WITH_TTL)
	       : cont ? ZKC_CONTAINER
	       : eph ? (seq ? ZKC_EPHEMERAL_SEQUENTIAL : ZKC_EPHEMERAL)
	       : seq ? ZKC_PERSISTENT_SEQUENTIAL : ZKC_PERSISTENT;
	o.ttl_ms = ttl;
	if (seq)
		o.flags |= ZKC_CREATE_PROTECTED;
	if (optind == argc - 2 && cli_read_arg(argv[optind + 1], &data, &len) != 0) {
		fprintf(stderr, "zkc: create: cannot read the data: %s\n", strerror(errno));
		return CLI_FAIL;
	}
	if (!path_ok("create", argv[optind])) {
		free(data);
		return CLI_USAGE;
	}
	if (!(zk = cli_open(&code))) {
		free(data);
		return code;
	}
	rc = zkc_create(&made, NULL, zk, argv[optind], data, len, &o);
	if (rc == ZKC_OK)
		printf("%s\n", made);
	code = sent_fail("create", rc);
	zkc_free(made);
	free(data);
	zkc_close(zk);
	return code;
}

int cli_rm(int argc, char **argv)
{
	static const struct option opts[] = { { "version", required_argument, NULL, 'v' },
	                                      { "recursive", no_argument, NULL, 'r' },
	                                      { 0, 0, 0, 0 } };
	const char *syn = "PATH [--version V] [-r|--recursive]";
	int32_t version = -1;
	int flags = 0, c, code = CLI_OK, rc;
	zkc_t *zk;

	optind = 1;
	while ((c = getopt_long(argc, argv, "r", opts, NULL)) != -1) {
		if (c == 'r')
			flags |= ZKC_DELETE_RECURSIVE;
		else if (c != 'v' || cli_parse_int(optarg, -1, INT32_MAX, &version) != 0)
			return usage("rm", syn);
	}
	if (optind != argc - 1)
		return usage("rm", syn);
	if (!path_ok("rm", argv[optind]))
		return CLI_USAGE;
	if (!(zk = cli_open(&code)))
		return code;
	rc = zkc_delete(zk, argv[optind], version, flags);
	code = sent_fail("rm", rc);
	zkc_close(zk);
	return code;
}

/* ------------------------------------------------------------ tree */

static int tree_walk(zkc_t *zk, const char *path, int depth, int max_depth)
{
	zkc_strings_t *kids = NULL;
	size_t i;
	int rc;

	if (max_depth >= 0 && depth >= max_depth)
		return ZKC_OK;
	rc = zkc_children(&kids, NULL, zk, path);
	if (rc == ZKC_ENONODE && depth > 0)
		return ZKC_OK;   /* deleted while we walked */
	if (rc != ZKC_OK)
		return rc;
	if (kids->count > 1)
		qsort(kids->items, kids->count, sizeof(char *), cmp_names);
	for (i = 0; rc == ZKC_OK && i < kids->count; i++) {
		size_t n = strlen(path) + strlen(kids->items[i]) + 2;
		char *child = malloc(n);

		if (!child) {
			rc = ZKC_ENOMEM;
			break;
		}
		snprintf(child, n, "%s%s%s", path, strcmp(path, "/") ? "/" : "", kids->items[i]);
		printf("%*s%s\n", (depth + 1) * 2, "", kids->items[i]);
		rc = tree_walk(zk, child, depth + 1, max_depth);
		free(child);
	}
	zkc_strings_free(kids);
	return rc;
}

int cli_tree(int argc, char **argv)
{
	static const struct option opts[] = { { "depth", required_argument, NULL, 'd' },
	                                      { 0, 0, 0, 0 } };
	int max_depth = -1, c, code = CLI_OK, rc;
	zkc_t *zk;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'd' || cli_parse_int(optarg, 0, 10000, &max_depth) != 0)
			return usage("tree", "PATH [--depth N]");
	}
	if (optind != argc - 1)
		return usage("tree", "PATH [--depth N]");
	if (!path_ok("tree", argv[optind]))
		return CLI_USAGE;
	if (!(zk = cli_open(&code)))
		return code;
	rc = zkc_exists(NULL, zk, argv[optind]);
	if (rc == ZKC_OK) {
		printf("%s\n", argv[optind]);
		rc = tree_walk(zk, argv[optind], 0, max_depth);
	}
	code = sent_fail("tree", rc);
	zkc_close(zk);
	return code;
}

/* ------------------------------------------------------------ watch */

static const char *event_name(int type)
{
	switch (type) {
	case ZKC_EVENT_CREATED: return "CREATED";
	case ZKC_EVENT_DELETED: return "DELETED";
	case ZKC_EVENT_CHANGED: return "CHANGED";
	case ZKC_EVENT_CHILD: return "CHILD";
	case ZKC_EVENT_WATCH_CANCELLED: return "CANCELLED";
	default: return "EVENT";
	}
}

/* Sets the watches a node event needs again: exists (creation, deletion,
 * data) and, when the node exists, children. Tags tell them apart. */
#define TAG_NODE ((void *)1)
#define TAG_KIDS ((void *)2)

static int arm(zkc_t *zk, const char *path, int node, int kids)
{
	zkc_strings_t *list = NULL;
	int rc = ZKC_OK;

	if (node) {
		rc = zkc_exists_w(NULL, zk, path, NULL, TAG_NODE);
		if (rc != ZKC_OK && rc != ZKC_ENONODE)
			return rc;
	}
	if (kids) {
		rc = zkc_children_w(&list, NULL, zk, path, NULL, TAG_KIDS);
		zkc_strings_free(list);
		if (rc == ZKC_ENONODE)
			rc = ZKC_OK;   /* re-armed when the node is created */
	}
	return rc == ZKC_ENONODE ? ZKC_OK : rc;
}

int cli_watch(int argc, char **argv)
{
	static const struct option opts[] = { { "count", required_argument, NULL, 'n' },
	                                      { "timeout", required_argument, NULL, 't' },
	                                      { 0, 0, 0, 0 } };
	const char *syn = "PATH [--count N] [--timeout SEC]  (or --tree, see --help)";
	int count = -1, timeout_s = -1, seen = 0, c, code = CLI_OK, rc;
	long long waited_ms = 0;
	int64_t sid = 0;
	const char *path;
	zkc_t *zk;

	/* A whole subtree is watched through the cache. */
	for (c = 1; c < argc; c++)
		if (strcmp(argv[c], "--tree") == 0)
			return cli_watch_tree(argc, argv);
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		int v;

		if ((c != 'n' && c != 't') || cli_parse_int(optarg, 1, INT_MAX, &v) != 0)
			return usage("watch", syn);
		if (c == 'n')
			count = v;
		else
			timeout_s = v;
	}
	if (optind != argc - 1)
		return usage("watch", syn);
	path = argv[optind];
	if (zkc_path_validate(path, (size_t)-1) != ZKC_OK)
		return cli_fail("watch", ZKC_EBADARGUMENTS);
	cli_signals_catch(NULL);
	if (!(zk = cli_open(&code)))
		return code;
	zkc_session(&sid, NULL, NULL, zk);
	rc = arm(zk, path, 1, 1);
	if (rc == ZKC_OK) {
		printf("WATCHING %s\n", path);
		fflush(stdout);
	}
	while (rc == ZKC_OK && !cli_stop_signal() && (count < 0 || seen < count)) {
		zkc_event_t *ev = NULL;
		int r = zkc_events_next(&ev, zk, 200);

		if (r == ZKC_EAGAIN) {
			waited_ms += 200;
			if (timeout_s > 0 && waited_ms >= timeout_s * 1000LL)
				break;
			continue;
		}
		if (r != ZKC_OK) {
			rc = r;
			break;
		}
		if (ev->type == ZKC_EVENT_STATE) {
			printf("STATE %s\n", zkc_state_name(ev->state));
			/* A new session lost every watch: set them again. */
			if (ev->state == ZKC_STATE_CONNECTED && ev->session_id != sid) {
				sid = ev->session_id;
				rc = arm(zk, path, 1, 1);
			}
		} else if (ev->type != ZKC_EVENT_WATCH_CANCELLED) {
			printf("%s %s\n", event_name(ev->type), ev->path);
			seen++;
			rc = arm(zk, path, ev->payload == TAG_NODE,
			         ev->payload == TAG_KIDS || ev->type == ZKC_EVENT_CREATED);
		}
		fflush(stdout);
		zkc_event_free(ev);
	}
	code = cli_fail("watch", rc);
	zkc_close(zk);
	return code;
}
