/* tools/cmd_ensemble.c - `zkc ensemble`: runs local ZooKeeper ensembles
 * for tests and demos (up, status, kill, stop, cont, restart, down, url)
 * through the launcher in tools/ensemble.c. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ensemble.h"
#include "cli.h"

const char cli_ensemble_usage[] =
    "zkc ensemble up --nodes N --dir DIR [--port PORT] [--env] [--tick MS]\n"
    "                [--fsync] [--distinct-addrs] [--timeout SEC]\n"
    "                [--jvm-flags FLAGS] [--tls-config FILE]\n"
    "    start N (1..7) ZooKeeper servers on loopback, wait until every\n"
    "    one serves, print the connection URL and leave them running\n"
    "    (--no-wait: return once they are started). --port: server\n"
    "    id I listens on PORT+I-1 (default: free ports). --env: print\n"
    "    shell commands that export ZKC_URL and ZKC_ENSEMBLE_DIR instead\n"
    "    (eval \"$(zkc ensemble up --env ...)\"). FLAGS (space separated,\n"
    "    e.g. \"-Xmx2g\") come after the JVM's default flags.\n"
    "    --tls-config FILE: every server also listens on a TLS port\n"
    "    (secureClientPort, Netty) configured by FILE's ssl.* lines,\n"
    "    appended to each zoo.cfg; --env then also exports\n"
    "    ZKC_SECURE_URL (zks://...)\n"
    "zkc ensemble status  --dir DIR          one line per server:\n"
    "                                        id address pid state mode\n"
    "    (--json: {\"servers\": [{\"id\", \"address\", \"pid\", \"state\",\n"
    "    \"mode\"}...]}; up and url: {\"url\", \"dir\"}, and \"secure_url\"\n"
    "    with TLS ports)\n"
    "zkc ensemble url     --dir DIR [--secure]  print the connection URL\n"
    "                                        (--secure: of the TLS ports)\n"
    "zkc ensemble env     --dir DIR          print the export commands\n"
    "    (--json, also with up --env: {\"ZKC_URL\", \"ZKC_ENSEMBLE_DIR\"},\n"
    "    and \"ZKC_SECURE_URL\" with TLS ports)\n"
    "zkc ensemble wait    --dir DIR [SERVER] [--timeout SEC]\n"
    "    until SERVER serves, or without SERVER until a majority serves\n"
    "    and one of them leads\n"
    "zkc ensemble kill    --dir DIR SERVER   SIGKILL\n"
    "zkc ensemble stop    --dir DIR SERVER   SIGSTOP (freeze)\n"
    "zkc ensemble cont    --dir DIR SERVER   SIGCONT\n"
    "zkc ensemble restart --dir DIR SERVER [--no-wait] [--timeout SEC]\n"
    "zkc ensemble down    --dir DIR [--keep]\n"
    "    SERVER is a server id (1..N) or `leader`. DIR defaults to\n"
    "    $ZKC_ENSEMBLE_DIR. down removes DIR if up created it (--keep\n"
    "    keeps logs and data).\n";

static void usage(FILE *to)
{
	fputs(cli_ensemble_usage, to);
}

struct ens_args {
	const char *dir;
	int nodes;
	int tick_ms;
	int fsync;
	int distinct;
	int timeout_s;
	int no_wait;
	int keep;
	int port;
	int env;
	int secure;
	const char *jvm_flags;
	const char *tls_config;
	const char *server;
};

enum { OPT_NODES = 256, OPT_DIR, OPT_TICK, OPT_FSYNC, OPT_DISTINCT,
	OPT_TIMEOUT, OPT_NO_WAIT, OPT_KEEP, OPT_PORT, OPT_ENV, OPT_JVM_FLAGS,
	OPT_TLS_CONFIG, OPT_SECURE, OPT_HELP };

static const struct option ens_opts[] = {
	{ "nodes", required_argument, NULL, OPT_NODES },
	{ "dir", required_argument, NULL, OPT_DIR },
	{ "tick", required_argument, NULL, OPT_TICK },
	{ "fsync", no_argument, NULL, OPT_FSYNC },
	{ "distinct-addrs", no_argument, NULL, OPT_DISTINCT },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "no-wait", no_argument, NULL, OPT_NO_WAIT },
	{ "keep", no_argument, NULL, OPT_KEEP },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "env", no_argument, NULL, OPT_ENV },
	{ "jvm-flags", required_argument, NULL, OPT_JVM_FLAGS },
	{ "tls-config", required_argument, NULL, OPT_TLS_CONFIG },
	{ "secure", no_argument, NULL, OPT_SECURE },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 }
};

/* One option that getopt returned (c, with optarg); CLI_OK or the code.
 * OPT_HELP prints the usage and returns -1. */
static int ens_option(int c, char **argv, struct ens_args *a)
{
	switch (c) {
	case OPT_NODES:
		if (cli_parse_int(optarg, 1, ZKC_ENS_MAX_NODES, &a->nodes) < 0)
			return cli_usage_error("--nodes wants 1..7, not `%s'", optarg);
		return CLI_OK;
	case OPT_DIR: a->dir = optarg; return CLI_OK;
	case OPT_TICK:
		if (cli_parse_int(optarg, 10, 60000, &a->tick_ms) < 0)
			return cli_usage_error("--tick wants 10..60000 ms, not `%s'", optarg);
		return CLI_OK;
	case OPT_FSYNC: a->fsync = 1; return CLI_OK;
	case OPT_DISTINCT: a->distinct = 1; return CLI_OK;
	case OPT_TIMEOUT:
		if (cli_parse_int(optarg, 1, 3600, &a->timeout_s) < 0)
			return cli_usage_error("--timeout wants 1..3600 s, not `%s'", optarg);
		return CLI_OK;
	case OPT_NO_WAIT: a->no_wait = 1; return CLI_OK;
	case OPT_KEEP: a->keep = 1; return CLI_OK;
	case OPT_PORT:
		if (cli_parse_int(optarg, 1, 65535, &a->port) < 0)
			return cli_usage_error("--port wants 1..65535, not `%s'", optarg);
		return CLI_OK;
	case OPT_ENV: a->env = 1; return CLI_OK;
	case OPT_JVM_FLAGS: a->jvm_flags = optarg; return CLI_OK;
	case OPT_TLS_CONFIG: a->tls_config = optarg; return CLI_OK;
	case OPT_SECURE: a->secure = 1; return CLI_OK;
	case 'h':
	case OPT_HELP:
		usage(stdout);
		return -1;
	case ':':
		return cli_usage_error("option `%s' needs a value", argv[optind - 1]);
	default:
		return cli_usage_error("unknown option `%s'", argv[optind - 1]);
	}
}

static int parse_ens_args(int argc, char **argv, struct ens_args *a)
{
	int c, code;

	opterr = 0;
	cli_getopt_reset("+:h");
	for (;;) {
		/* options may come before or after the SERVER argument
		 * (`kill 2 --dir D', `kill --dir D 2'); "+" keeps getopt from
		 * reordering argv so this works without GNU extensions */
		while (optind < argc && argv[optind][0] != '-') {
			if (a->server)
				return cli_usage_error("unexpected argument `%s'",
				    argv[optind]);
			a->server = argv[optind++];
		}
		if (optind >= argc)
			break;
		c = getopt_long(argc, argv, "+:h", ens_opts, NULL);
		if (c == -1)
			break;      /* "--": the rest are arguments */
		if ((code = ens_option(c, argv, a)) != CLI_OK)
			return code;
	}
	for (; optind < argc; optind++) {
		if (a->server)
			return cli_usage_error("unexpected argument `%s'", argv[optind]);
		a->server = argv[optind];
	}
	if (!a->dir)
		a->dir = getenv("ZKC_ENSEMBLE_DIR");
	if (!a->dir || !*a->dir)
		return cli_usage_error("%s: --dir DIR is required (or set "
		    "ZKC_ENSEMBLE_DIR)", argv[0]);
	return CLI_OK;
}

static int ens_fail(const char *what)
{
	fprintf(stderr, "zkc ensemble %s: %s\n", what, zkc_ens_error());
	return CLI_FAIL;
}

/* Prints `export NAME='value'` with the value quoted for any POSIX shell. */
static void print_export(const char *name, const char *value)
{
	const char *c;

	printf("export %s='", name);
	for (c = value; *c; c++) {
		if (*c == '\'')
			fputs("'\\''", stdout);
		else
			putchar(*c);
	}
	printf("'\n");
}

/* The zks:// URL of the servers' TLS ports into buf; 0 when they have
 * none (started without --tls-config). */
static int secure_url(char *buf, size_t len, zkc_ens_t *e)
{
	size_t used;
	int i;

	used = (size_t)snprintf(buf, len, "zks://");
	for (i = 0; i < zkc_ens_size(e); i++) {
		if (zkc_ens_secure_port(e, i) <= 0)
			return 0;
		used += (size_t)snprintf(buf + used, used < len ? len - used : 0,
		    "%s%s:%d", i ? "," : "", zkc_ens_host(e, i),
		    zkc_ens_secure_port(e, i));
	}
	return used < len;
}

static void print_json_ens(zkc_ens_t *e, const char *surl)
{
	printf("{\"url\":");
	cli_json_string(zkc_ens_url(e), strlen(zkc_ens_url(e)));
	if (surl) {
		printf(",\"secure_url\":");
		cli_json_string(surl, strlen(surl));
	}
	printf(",\"dir\":");
	cli_json_string(zkc_ens_dir(e), strlen(zkc_ens_dir(e)));
	printf("}\n");
}

/* The URL (--secure: of the TLS ports), or with --env the commands that
 * export it, the TLS one if any, and the directory. */
static int print_ens(zkc_ens_t *e, int env, int secure)
{
	char surl[1024];
	int have_secure = secure_url(surl, sizeof surl, e);

	if (secure && !have_secure) {
		fprintf(stderr, "zkc ensemble url: the servers have no TLS port "
		    "(start them with --tls-config)\n");
		return CLI_FAIL;
	}
	if (env && cli_json) {
		/* the same variables as one object */
		printf("{\"ZKC_URL\":");
		cli_json_string(zkc_ens_url(e), strlen(zkc_ens_url(e)));
		if (have_secure) {
			printf(",\"ZKC_SECURE_URL\":");
			cli_json_string(surl, strlen(surl));
		}
		printf(",\"ZKC_ENSEMBLE_DIR\":");
		cli_json_string(zkc_ens_dir(e), strlen(zkc_ens_dir(e)));
		printf("}\n");
	} else if (env) {
		print_export("ZKC_URL", zkc_ens_url(e));
		if (have_secure)
			print_export("ZKC_SECURE_URL", surl);
		print_export("ZKC_ENSEMBLE_DIR", zkc_ens_dir(e));
	} else if (cli_json) {
		print_json_ens(e, have_secure ? surl : NULL);
	} else {
		printf("%s\n", secure ? surl : zkc_ens_url(e));
	}
	return CLI_OK;
}

/* The whole of FILE (the ssl.* lines of --tls-config), or NULL with the
 * reason on stderr. */
static char *read_config(const char *file)
{
	FILE *f = fopen(file, "r");
	char *buf = NULL, *next;
	size_t len = 0, got;
	char chunk[4096];

	if (!f) {
		fprintf(stderr, "zkc ensemble up: --tls-config %s: %s\n", file,
		    strerror(errno));
		return NULL;
	}
	while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (len + got > 65536 || !(next = realloc(buf, len + got + 2))) {
			free(buf);
			fclose(f);
			fprintf(stderr, "zkc ensemble up: --tls-config %s: %s\n",
			    file, len + got > 65536 ? "larger than 64 KiB" : "out of memory");
			return NULL;
		}
		buf = next;
		memcpy(buf + len, chunk, got);
		len += got;
	}
	fclose(f);
	if (!buf && !(buf = malloc(2)))
		return NULL;
	if (len && buf[len - 1] != '\n')
		buf[len++] = '\n';
	buf[len] = '\0';
	return buf;
}

static int ens_up(struct ens_args *a)
{
	zkc_ens_options_t o = ZKC_ENS_OPTIONS_INIT;
	zkc_ens_t *e;
	char *tls_cfg = NULL;
	int code, i, rc;

	if (a->server)
		return cli_usage_error("up takes no SERVER argument (`%s')", a->server);
	o.nodes = a->nodes ? a->nodes : 1;
	o.dir = a->dir;
	o.tick_ms = a->tick_ms;
	o.force_sync = a->fsync;
	o.distinct_addrs = a->distinct;
	o.start_timeout_ms = a->timeout_s * 1000;
	o.no_wait = a->no_wait;
	o.client_port = a->port;
	o.jvm_flags = a->jvm_flags;
	if (a->tls_config) {
		if (!(tls_cfg = read_config(a->tls_config)))
			return CLI_FAIL;
		o.secure_client_port = 1;
		o.extra_config = tls_cfg;
	}
	if (cli_parse_only) {
		free(tls_cfg);
		return CLI_PARSED;
	}
	rc = zkc_ens_up(&e, &o);
	free(tls_cfg);
	if (rc != ZKC_OK)
		return ens_fail("up");
	/* zkc_ens_up waits for a quorum; a user who kills a server next
	 * expects the others to serve, so wait for every one */
	for (i = 0; !a->no_wait && i < zkc_ens_size(e); i++) {
		if (zkc_ens_wait_serving(e, i, o.start_timeout_ms) != ZKC_OK) {
			code = ens_fail("up");
			zkc_ens_down(e, ZKC_ENS_DOWN_DEFAULT);
			zkc_ens_free(e);
			return code;
		}
	}
	code = print_ens(e, a->env, 0);
	zkc_ens_free(e);        /* detach: the servers keep running */
	return code;
}

/* SERVER is a 1-based server id or `leader'; returns the 0-based index. */
static int resolve_server(zkc_ens_t *e, const char *what, const char *server,
    int *out)
{
	int id;

	if (!server) {
		fprintf(stderr, "zkc ensemble %s: which server? give an id "
		    "(1..%d) or `leader'\n", what, zkc_ens_size(e));
		return CLI_USAGE;
	}
	if (strcmp(server, "leader") == 0) {
		if (zkc_ens_leader(out, e, 0) != ZKC_OK)
			return ens_fail(what);
		return CLI_OK;
	}
	if (cli_parse_int(server, 1, zkc_ens_size(e), &id) < 0) {
		fprintf(stderr, "zkc ensemble %s: no server `%s': give an id "
		    "(1..%d) or `leader'\n", what, server, zkc_ens_size(e));
		return CLI_USAGE;
	}
	*out = id - 1;
	return CLI_OK;
}

static int ens_status(zkc_ens_t *e)
{
	int i, n = zkc_ens_size(e);

	for (i = 0; i < n; i++) {
		zkc_ens_node_status_t st;
		char pid[24];

		if (zkc_ens_status(&st, e, i) != ZKC_OK)
			return ens_fail("status");
		if (st.pid > 0)
			snprintf(pid, sizeof pid, "%ld", (long)st.pid);
		else
			snprintf(pid, sizeof pid, "-");
		if (cli_json)
			printf("%s{\"id\":%d,\"address\":\"%s:%d\",\"pid\":%ld,"
			    "\"state\":\"%s\",\"mode\":\"%s\"}", i ? "," : "{\"servers\":[",
			    i + 1, zkc_ens_host(e, i), zkc_ens_port(e, i), (long)st.pid,
			    zkc_ens_state_name(st.state), st.state == ZKC_ENS_RUNNING ?
			    zkc_ens_mode_name(st.mode) : "-");
		else
			printf("%d %s:%d %s %s %s\n", i + 1, zkc_ens_host(e, i),
			    zkc_ens_port(e, i), pid, zkc_ens_state_name(st.state),
			    st.state == ZKC_ENS_RUNNING ? zkc_ens_mode_name(st.mode) : "-");
	}
	if (cli_json)
		printf("%s]}\n", n ? "" : "{\"servers\":[");
	return CLI_OK;
}

static int ens_signal(zkc_ens_t *e, const char *what, struct ens_args *a)
{
	int i, rc, code;

	code = resolve_server(e, what, a->server, &i);
	if (code != CLI_OK)
		return code;
	if (strcmp(what, "kill") == 0)
		rc = zkc_ens_kill(e, i);
	else if (strcmp(what, "stop") == 0)
		rc = zkc_ens_stop(e, i);
	else if (strcmp(what, "cont") == 0)
		rc = zkc_ens_cont(e, i);
	else
		rc = zkc_ens_restart(e, i, a->no_wait ? 0 :
		    a->timeout_s ? a->timeout_s * 1000 : -1);
	return rc == ZKC_OK ? CLI_OK : ens_fail(what);
}

/* Until SERVER serves, or without one until a quorum serves. */
static int ens_wait(zkc_ens_t *e, struct ens_args *a)
{
	int i, code, ms = a->timeout_s * 1000;

	if (!a->server)
		return zkc_ens_wait_quorum(e, ms) == ZKC_OK ? CLI_OK : ens_fail("wait");
	code = resolve_server(e, "wait", a->server, &i);
	if (code != CLI_OK)
		return code;
	return zkc_ens_wait_serving(e, i, ms) == ZKC_OK ? CLI_OK : ens_fail("wait");
}

int cli_ensemble(int argc, char **argv)
{
	static const char *const verbs[] = { "up", "status", "url", "kill",
		"stop", "cont", "restart", "down", "env", "wait" };
	struct ens_args a;
	zkc_ens_t *e;
	const char *verb;
	size_t k;
	int code;

	if (argc < 2) {
		usage(stderr);
		return CLI_USAGE;
	}
	verb = argv[1];
	if (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0) {
		usage(stdout);
		return CLI_OK;
	}
	for (k = 0; k < sizeof verbs / sizeof *verbs; k++)
		if (strcmp(verb, verbs[k]) == 0)
			break;
	if (k == sizeof verbs / sizeof *verbs)
		return cli_usage_error("ensemble: unknown subcommand `%s'", verb);
	memset(&a, 0, sizeof a);
	if ((code = parse_ens_args(argc - 1, argv + 1, &a)) != CLI_OK)
		return code < 0 ? CLI_OK : code;   /* -1: --help printed */
	if ((a.nodes || a.tick_ms || a.fsync || a.distinct || a.port ||
	    a.env || a.tls_config) && strcmp(verb, "up") != 0)
		return cli_usage_error("%s: --nodes, --port, --env, --tick, --fsync, "
		    "--tls-config and --distinct-addrs belong to `up'", verb);
	if (a.secure && strcmp(verb, "url") != 0)
		return cli_usage_error("%s: --secure belongs to `url'", verb);
	if (strcmp(verb, "up") == 0)
		return ens_up(&a);
	if (cli_parse_only)
		return CLI_PARSED;
	if (zkc_ens_attach(&e, a.dir) != ZKC_OK)
		return ens_fail(verb);
	if (strcmp(verb, "status") == 0) {
		code = ens_status(e);
	} else if (strcmp(verb, "url") == 0 || strcmp(verb, "env") == 0) {
		code = a.server ? cli_usage_error("%s takes no SERVER argument", verb) :
		    print_ens(e, strcmp(verb, "env") == 0, a.secure);
	} else if (strcmp(verb, "wait") == 0) {
		code = ens_wait(e, &a);
	} else if (strcmp(verb, "down") == 0) {
		code = a.server ? cli_usage_error("down takes no SERVER (`%s')",
		    a.server) : zkc_ens_down(e, a.keep ? ZKC_ENS_DOWN_KEEP :
		    ZKC_ENS_DOWN_DEFAULT) == ZKC_OK ? CLI_OK : ens_fail("down");
	} else {
		code = ens_signal(e, verb, &a);
	}
	zkc_ens_free(e);
	return code;
}
