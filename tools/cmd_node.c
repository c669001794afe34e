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
#include <unistd.h>

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
	fprintf(stderr, "usage: zkc %s %s\nTry `zkc %s --help'.\n", cmd, synopsis, cmd);
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
	int json = cli_json, c, code = CLI_OK, rc;
	size_t i;
	zkc_t *zk;

	cli_getopt_reset("");
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
	char ctime[40], mtime[40];

	if (json) {
		cli_json_stat(st);
		putchar('\n');
		return;
	}
	printf("czxid           0x%llx\nmzxid           0x%llx\npzxid           0x%llx\n"
	       "ctime           %s\nmtime           %s\nversion         %d\n"
	       "cversion        %d\naversion        %d\nephemeral_owner 0x%llx\n"
	       "data_length     %d\nnum_children    %d\n",
	       (unsigned long long)st->czxid, (unsigned long long)st->mzxid,
	       (unsigned long long)st->pzxid, cli_iso_time(ctime, sizeof(ctime), st->ctime),
	       cli_iso_time(mtime, sizeof(mtime), st->mtime), st->version, st->cversion,
	       st->aversion, (unsigned long long)st->ephemeral_owner, st->data_length,
	       st->num_children);
}

/* get's output: the data as it is (a newline added on a terminal when it
 * has none, so that the prompt starts on its own line), then the stat;
 * or one JSON object. */
static void print_get(const char *path, const char *data, size_t len, const zkc_stat_t *st,
                      int with_stat)
{
	if (cli_json) {
		printf("{\"path\":");
		cli_json_string(path, strlen(path));
		putchar(',');
		cli_json_data(data, len);
		printf(",\"stat\":");
		cli_json_stat(st);
		printf("}\n");
		return;
	}
	fwrite(data, 1, len, stdout);
	if ((with_stat || isatty(fileno(stdout))) && len && data[len - 1] != '\n')
		putchar('\n');
	if (with_stat)
		print_stat(st, 0);
}

int cli_get(int argc, char **argv)
{
	static const struct option opts[] = { { "stat", no_argument, NULL, 's' }, { 0, 0, 0, 0 } };
	int with_stat = 0, c, code = CLI_OK, rc;
	char *data = NULL;
	zkc_stat_t st;
	size_t len = 0;
	zkc_t *zk;

	cli_getopt_reset("");
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 's')
			return usage("get", "[--stat] [--json] PATH");
		with_stat = 1;
	}
	if (optind != argc - 1)
		return usage("get", "[--stat] [--json] PATH");
	if (!path_ok("get", argv[optind]))
		return CLI_USAGE;
	if (!(zk = cli_open(&code)))
		return code;
	rc = zkc_get(&data, &len, &st, zk, argv[optind]);
	if (rc == ZKC_OK)
		print_get(argv[optind], data, len, &st, with_stat);
	code = sent_fail("get", rc);
	zkc_free(data);
	zkc_close(zk);
	return code;
}

int cli_stat(int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' }, { 0, 0, 0, 0 } };
	int json = cli_json, c, code = CLI_OK, rc;
	zkc_stat_t st;
	zkc_t *zk;

	cli_getopt_reset("");
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

	cli_getopt_reset("");
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

struct create_args {
	zkc_create_options_t o;
	int eph, seq, cont, prot;
	int64_t ttl;
	const char *path, *data_arg;
};

static const char create_syn[] = "[--ephemeral|--container|--ttl MS] [--sequential] "
                                 "[--protected] [--parents] [--json] PATH [DATA|-]";

static int create_parse(int argc, char **argv, struct create_args *a)
{
	static const struct option opts[] = {
		{ "ephemeral", no_argument, NULL, 'e' },
		{ "sequential", no_argument, NULL, 's' },
		{ "protected", no_argument, NULL, 'P' },
		{ "container", no_argument, NULL, 'c' },
		{ "ttl", required_argument, NULL, 't' },
		{ "parents", no_argument, NULL, 'p' },
		{ 0, 0, 0, 0 } };
	int c;

	cli_getopt_reset("esct:");
	/* -e, -s, -c, -t TTL: zkCli's letters */
	while ((c = getopt_long(argc, argv, "esct:", opts, NULL)) != -1) {
		switch (c) {
		case 'e': a->eph = 1; break;
		case 's': a->seq = 1; break;
		case 'P': a->prot = 1; break;
		case 'c': a->cont = 1; break;
		case 'p': a->o.flags |= ZKC_CREATE_PARENTS; break;
		case 't':
			if (cli_parse_i64(optarg, 1, INT64_MAX, &a->ttl) != 0)
				return usage("create", create_syn);
			break;
		default:
			return usage("create", create_syn);
		}
	}
	if (optind != argc - 1 && optind != argc - 2)
		return usage("create", create_syn);
	if (a->cont + a->eph + (a->ttl > 0) > 1 || (a->cont && a->seq)) {
		fprintf(stderr, "zkc: create: --ephemeral, --container and --ttl exclude each other\n");
		return CLI_USAGE;
	}
	a->o.mode = a->ttl ? (a->seq ? ZKC_PERSISTENT_SEQUENTIAL_WITH_TTL : ZKC_PERSISTENT_WITH_TTL)
	          : a->cont ? ZKC_CONTAINER
	          : a->eph ? (a->seq ? ZKC_EPHEMERAL_SEQUENTIAL : ZKC_EPHEMERAL)
	          : a->seq ? ZKC_PERSISTENT_SEQUENTIAL : ZKC_PERSISTENT;
	a->o.ttl_ms = a->ttl;
	/* zkCli's names: the protected prefix only when asked for */
	if (a->prot)
		a->o.flags |= ZKC_CREATE_PROTECTED;
	a->path = argv[optind];
	a->data_arg = optind == argc - 2 ? argv[optind + 1] : NULL;
	return CLI_OK;
}

/* The URL's chroot when it does not exist (malloc'd), else NULL: a create
 * that found no parent may have found no chroot. */
static char *missing_chroot(void)
{
	zkc_options_t o = ZKC_OPTIONS_INIT;
	char *chroot = cli_url_chroot(getenv("ZKC_URL"));
	zkc_t *top = NULL;

	if (!chroot)
		return NULL;
	o.chroot = "/";
	if (zkc_open(&top, NULL, &o) == ZKC_OK && zkc_exists(NULL, top, chroot) == ZKC_ENONODE) {
		zkc_close(top);
		return chroot;
	}
	zkc_close(top);
	free(chroot);
	return NULL;
}

/* Creates the chroot itself (and its parents) on a client without it. */
static int create_chroot(const char *chroot)
{
	zkc_create_options_t co = ZKC_CREATE_OPTIONS_INIT;
	zkc_options_t o = ZKC_OPTIONS_INIT;
	zkc_t *top = NULL;
	int rc;

	o.chroot = "/";
	co.flags = ZKC_CREATE_PARENTS;
	if ((rc = zkc_open(&top, NULL, &o)) != ZKC_OK)
		return rc;
	rc = zkc_create(NULL, NULL, top, chroot, NULL, 0, &co);
	zkc_close(top);
	return rc == ZKC_ENODEEXISTS ? ZKC_OK : rc;
}

static int create_run(zkc_t *zk, struct create_args *a, const char *data, size_t len)
{
	char *made = NULL, *chroot = NULL;
	int rc = zkc_create(&made, NULL, zk, a->path, data, len, &a->o);

	if (rc == ZKC_ENONODE && (chroot = missing_chroot())) {
		if (!(a->o.flags & ZKC_CREATE_PARENTS)) {
			fprintf(stderr, "zkc: create: the URL's chroot %s does not exist; "
			        "--parents creates it\n", chroot);
		} else if ((rc = create_chroot(chroot)) == ZKC_OK) {
			fprintf(stderr, "zkc: create: created the chroot %s\n", chroot);
			rc = zkc_create(&made, NULL, zk, a->path, data, len, &a->o);
		}
		free(chroot);
	}
	if (rc == ZKC_OK && cli_json) {
		printf("{\"path\":");
		cli_json_string(made, strlen(made));
		printf("}\n");
	} else if (rc == ZKC_OK) {
		printf("%s\n", made);
	}
	if (rc == ZKC_OK && (a->o.mode == ZKC_EPHEMERAL || a->o.mode == ZKC_EPHEMERAL_SEQUENTIAL))
		fprintf(stderr, "zkc: create: warning: %s is ephemeral: it is deleted now, as this "
		        "command exits and its session ends\n", made);
	zkc_free(made);
	return sent_fail("create", rc);
}

int cli_create(int argc, char **argv)
{
	struct create_args a = { .o = ZKC_CREATE_OPTIONS_INIT };
	int code = CLI_OK;
	char *data = NULL;
	size_t len = 0;
	zkc_t *zk;

	if ((code = create_parse(argc, argv, &a)) != CLI_OK)
		return code;
	if (a.data_arg && cli_read_arg(a.data_arg, &data, &len) != 0) {
		fprintf(stderr, "zkc: create: cannot read the data: %s\n", strerror(errno));
		return CLI_FAIL;
	}
	if (!path_ok("create", a.path)) {
		free(data);
		return CLI_USAGE;
	}
	if (!(zk = cli_open(&code))) {
		free(data);
		return code;
	}
	code = create_run(zk, &a, data, len);
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

	cli_getopt_reset("r");
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

/* Prints the children of path, depth-first and sorted: indented names,
 * or with --json the members of {"name", "children": [...]} objects. */
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
		if (cli_json) {
			printf("%s{\"name\":", i ? "," : "");
			cli_json_string(kids->items[i], strlen(kids->items[i]));
			printf(",\"children\":[");
		} else {
			printf("%*s%s\n", (depth + 1) * 2, "", kids->items[i]);
		}
		rc = tree_walk(zk, child, depth + 1, max_depth);
		if (cli_json)
			printf("]}");
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

	cli_getopt_reset("");
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'd' || cli_parse_int(optarg, 0, 10000, &max_depth) != 0)
			return usage("tree", "[--depth N] [--json] PATH");
	}
	if (optind != argc - 1)
		return usage("tree", "[--depth N] [--json] PATH");
	if (!path_ok("tree", argv[optind]))
		return CLI_USAGE;
	if (!(zk = cli_open(&code)))
		return code;
	rc = zkc_exists(NULL, zk, argv[optind]);
	if (rc == ZKC_OK) {
		if (cli_json) {
			printf("{\"path\":");
			cli_json_string(argv[optind], strlen(argv[optind]));
			printf(",\"children\":[");
		} else {
			printf("%s\n", argv[optind]);
		}
		rc = tree_walk(zk, argv[optind], 0, max_depth);
		if (cli_json)
			printf("]}\n");
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

/* One line of watch's output: "EVENT PATH" or "STATE NAME", or the same as
 * one JSON object. */
static void watch_line(const char *event, const char *path, const char *state)
{
	if (!cli_json) {
		printf("%s %s\n", event, path ? path : state);
		return;
	}
	printf("{\"event\":\"%s\"", event);
	if (path) {
		printf(",\"path\":");
		cli_json_string(path, strlen(path));
	}
	if (state)
		printf(",\"state\":\"%s\"", state);
	printf("}\n");
}


int cli_watch(int argc, char **argv)
{
	static const struct option opts[] = { { "count", required_argument, NULL, 'n' },
	                                      { "timeout", required_argument, NULL, 't' },
	                                      { 0, 0, 0, 0 } };
	const char *syn = "[--count N] [--timeout SEC] [--json] PATH  (or --tree, see --help)";
	int count = -1, timeout_s = -1, seen = 0, c, code = CLI_OK, rc;
	long long waited_ms = 0;
	int64_t sid = 0;
	const char *path;
	zkc_t *zk;

	/* A whole subtree is watched through the cache. */
	for (c = 1; c < argc && strcmp(argv[c], "--"); c++)
		if (strcmp(argv[c], "--tree") == 0)
			return cli_watch_tree(argc, argv);
	cli_getopt_reset("");
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
	rc = cli_watch_arm(zk, path, 1, 1);
	if (rc == ZKC_OK) {
		watch_line("WATCHING", path, NULL);
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
			watch_line("STATE", NULL, zkc_state_name(ev->state));
			/* A new session lost every watch: set them again. */
			if (ev->state == ZKC_STATE_CONNECTED && ev->session_id != sid) {
				sid = ev->session_id;
				rc = cli_watch_arm(zk, path, 1, 1);
			}
		} else if (ev->type != ZKC_EVENT_WATCH_CANCELLED) {
			watch_line(event_name(ev->type), ev->path, NULL);
			seen++;
			rc = cli_watch_arm(zk, path, ev->payload == CLI_WATCH_NODE,
			         ev->payload == CLI_WATCH_KIDS || ev->type == ZKC_EVENT_CREATED);
		}
		zkc_event_free(ev);
		if (fflush(stdout) != 0)
			break;   /* nobody reads: cli_output_done says so */
	}
	code = cli_fail("watch", rc);
	zkc_close(zk);
	return code;
}
