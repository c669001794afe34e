/* tools/cmd_service.c - `zkc service register|list|route`: the service
 * registry and router (zkc/service.h) for shell scripts, with --json output
 * and the exit codes of tools/cli.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

int cli_service(int argc, char **argv);

#define SERVICE_PREFIX "/zkc/services/"

static const char service_usage[] =
    "usage: zkc service register NAME [--id ID] [--address HOST] [--port N]\n"
    "                            [--weight W] [--draining] [--metadata TEXT]\n"
    "                            [--replace] [--json]\n"
    "       zkc service list NAME [--json]\n"
    "       zkc service route NAME [--n N] [--json] KEY...\n"
    "NAME is a path, or a name under " SERVICE_PREFIX ".\n"
    "register keeps an ephemeral instance node NAME/ID (re-created after\n"
    "session loss) until SIGTERM or SIGINT, then deletes it and exits 0. It\n"
    "prints the node's path once registered. SIGUSR1 marks the instance\n"
    "draining (no new keys), SIGUSR2 routable again. ID defaults to\n"
    "HOST:PID, HOST to the host name, weight to 1.\n"
    "list prints every instance: ID ADDRESS:PORT weight=W [draining].\n"
    "route prints, for each KEY, KEY ID ADDRESS:PORT of the instance the\n"
    "router picks (--n N: the N best, in order).\n"
    "Exit status: 0 ok; 3 unknown service or no routable instance; 4 the id\n"
    "is registered by another live session (see --replace); 2 usage or bad\n"
    "input; 7 no connection; 1 other.\n";

static int bad(const char *why)
{
	fprintf(stderr, "zkc: service: %s\n%s", why, service_usage);
	return CLI_USAGE;
}

/* cli_fail prints the library's message only when it belongs to rc. */
static int svc_fail(const char *what, int rc)
{
	return cli_fail(what, rc);
}

static int do_register(const char *path, zkc_service_instance_t *in, int json)
{
	zkc_service_reg_t *reg = NULL;
	int code = CLI_OK, rc;
	zkc_t *zk;

	if (cli_wake_open() != 0)
		return cli_fail("service: pipe", ZKC_EOS);
	cli_signals_catch((const int[]){ SIGUSR1, SIGUSR2, 0 });
	if (!(zk = cli_open(&code)))
		goto out;
	rc = zkc_service_reg_open(&reg, zk, path, in);
	if (rc != ZKC_OK) {
		code = svc_fail("service register", rc);
		zkc_close(zk);
		goto out;
	}
	if (json) {
		printf("{\"path\":");
		cli_json_string(zkc_service_reg_path(reg), strlen(zkc_service_reg_path(reg)));
		printf(",\"registered\":true}\n");
	} else {
		printf("%s\n", zkc_service_reg_path(reg));
	}
	fflush(stdout);
	while (!cli_stop_signal()) {
		if (cli_wake_wait(-1) < 0)
			break;
		if (cli_signal_take(SIGUSR1)) {
			if ((rc = zkc_service_set_draining(reg, 1)) != ZKC_OK)
				cli_fail("service: draining", rc);
		}
		if (cli_signal_take(SIGUSR2)) {
			if ((rc = zkc_service_set_draining(reg, 0)) != ZKC_OK)
				cli_fail("service: routable", rc);
		}
	}
	rc = zkc_service_unregister(reg);
	if (rc != ZKC_OK)
		code = cli_fail("service unregister", rc);
	zkc_service_reg_close(reg);
	zkc_close(zk);
out:
	cli_wake_close();
	return code;
}

static int do_list(zkc_service_router_t *r, int json)
{
	zkc_service_list_t *l = NULL;
	size_t i;
	int rc = zkc_service_router_list(&l, r);

	if (rc != ZKC_OK)
		return svc_fail("service list", rc);
	if (json)
		printf("{\"instances\":[");
	for (i = 0; i < l->count; i++) {
		const zkc_service_entry_t *e = &l->items[i];

		if (json) {
			printf("%s{\"id\":", i ? "," : "");
			cli_json_string(e->id, strlen(e->id));
			printf(",\"address\":");
			cli_json_string(e->address, strlen(e->address));
			printf(",\"port\":%d,\"weight\":%d,\"draining\":%s,\"session\":\"0x%llx\","
			       "\"metadata\":", e->port, e->weight, e->draining ? "true" : "false",
			       (unsigned long long)e->session_id);
			cli_json_string(e->metadata, e->metadata_len);
			putchar('}');
		} else {
			printf("%s %s:%d weight=%d%s\n", e->id, e->address, e->port, e->weight,
			       e->draining ? " draining" : "");
		}
	}
	if (json)
		printf("],\"invalid\":%zu}\n", l->invalid);
	zkc_service_list_free(l);
	return CLI_OK;
}

static int do_route(zkc_service_router_t *r, char **keys, int nkeys, int n, int json)
{
	zkc_service_endpoint_t *ep = calloc((size_t)n, sizeof(*ep));
	int i, code = CLI_OK;

	if (!ep)
		return cli_fail("service route", ZKC_ENOMEM);
	if (json)
		printf("{\"routes\":[");
	for (i = 0; i < nkeys && code == CLI_OK; i++) {
		size_t got = 0, k;
		int rc = zkc_service_route_n(ep, &got, (size_t)n, r, keys[i], strlen(keys[i]));

		if (rc != ZKC_OK) {
			code = svc_fail("service route", rc);
			break;
		}
		if (json) {
			printf("%s{\"key\":", i ? "," : "");
			cli_json_string(keys[i], strlen(keys[i]));
			printf(",\"instances\":[");
		} else {
			printf("%s", keys[i]);
		}
		for (k = 0; k < got; k++) {
			if (json) {
				printf("%s{\"id\":", k ? "," : "");
				cli_json_string(ep[k].id, strlen(ep[k].id));
				printf(",\"address\":");
				cli_json_string(ep[k].address, strlen(ep[k].address));
				printf(",\"port\":%d}", ep[k].port);
			} else {
				printf(" %s %s:%d", ep[k].id, ep[k].address, ep[k].port);
			}
		}
		printf(json ? "]}" : "\n");
	}
	if (json && code == CLI_OK)
		printf("]}\n");
	free(ep);
	return code;
}

struct svc_args {
	zkc_service_instance_t in;
	const char *name;
	char **keys;
	int json, nkeys, n, want;   /* want: 1 register, 2 list, 3 route */
};

/* One option of argv[*i] (taking its value); CLI_OK, or the usage code.
 * *taken is 0 when argv[*i] is no option of the subcommand. */
static int svc_option(struct svc_args *a, int argc, char **argv, int *i, int *taken)
{
	const char *o = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
	int reg = a->want == 1;

	*taken = 1;
	if (strcmp(o, "--json") == 0)
		a->json = 1;
	else if (reg && strcmp(o, "--draining") == 0)
		a->in.draining = 1;
	else if (reg && strcmp(o, "--replace") == 0)
		a->in.replace = 1;
	else if (!v)
		*taken = 0;
	else if (reg && strcmp(o, "--id") == 0)
		a->in.id = argv[++*i];
	else if (reg && strcmp(o, "--address") == 0)
		a->in.address = argv[++*i];
	else if (reg && strcmp(o, "--metadata") == 0)
		a->in.metadata = argv[++*i];
	else if (reg && strcmp(o, "--port") == 0)
		return cli_parse_int(argv[++*i], 0, 65535, &a->in.port) ?
		       bad("--port takes 0..65535") : CLI_OK;
	else if (reg && strcmp(o, "--weight") == 0)
		return cli_parse_int(argv[++*i], 1, ZKC_SERVICE_WEIGHT_MAX, &a->in.weight) ?
		       bad("--weight takes 1..1000000") : CLI_OK;
	else if (a->want == 3 && strcmp(o, "--n") == 0)
		return cli_parse_int(argv[++*i], 1, 10000, &a->n) ? bad("--n takes 1..10000") : CLI_OK;
	else
		*taken = 0;
	return CLI_OK;
}

/* Options anywhere; after "--" every word is an argument (NAME, KEY...). */
static int svc_parse(struct svc_args *a, int argc, char **argv)
{
	int i, ended = 0, taken, code;

	for (i = 2; i < argc; i++) {
		const char *s = argv[i];

		if (!ended && strcmp(s, "--") == 0) {
			ended = 1;
			continue;
		}
		if (!ended && (code = svc_option(a, argc, argv, &i, &taken)) != CLI_OK)
			return code;
		if (!ended && taken)
			continue;
		if (!ended && s[0] == '-' && s[1] == '-')
			return bad("unknown option or missing value");
		if (!a->name)
			a->name = s;
		else if (a->want == 3)
			a->keys[a->nkeys++] = argv[i];
		else
			return bad("unexpected argument");
	}
	if (!a->name || !*a->name)
		return bad("missing service NAME");
	if (a->want == 3 && a->nkeys == 0)
		return bad("missing KEY");
	for (i = 0; i < a->nkeys; i++)
		if (!a->keys[i][0])
			return bad("empty KEY");
	return CLI_OK;
}

/* register: the defaults (ID HOST:PID, the host name), bad input refused
 * before connecting, then the registration held until a signal. */
static int svc_register(const char *path, zkc_service_instance_t *in, int json)
{
	char host[256], defid[300], *data = NULL;
	int rc;

	if (gethostname(host, sizeof(host)) != 0)
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = '\0';
	if (!in->address)
		in->address = host;
	if (!in->id) {
		snprintf(defid, sizeof(defid), "%s:%d", host, (int)getpid());
		in->id = defid;
	}
	rc = zkc_service_encode(&data, NULL, NULL, in);
	zkc_free(data);
	if (rc != ZKC_OK)
		return svc_fail("service register", rc);
	return do_register(path, in, json);
}

static int svc_run(struct svc_args *a)
{
	zkc_service_router_t *r = NULL;
	int code = CLI_OK, rc;
	char *path = cli_name_path(SERVICE_PREFIX, a->name);
	zkc_t *zk;

	if (!path || zkc_path_validate(path, (size_t)-1) != ZKC_OK) {
		fprintf(stderr, "zkc: service: bad service name `%s'\n", a->name);
		free(path);
		return path ? CLI_USAGE : CLI_FAIL;
	}
	if (a->want == 1) {
		code = svc_register(path, &a->in, a->json);
	} else if ((zk = cli_open(&code))) {
		rc = zkc_service_router_open(&r, zk, path, NULL);
		if (rc != ZKC_OK)
			code = svc_fail("service", rc);
		else if (a->want == 2)
			code = do_list(r, a->json);
		else
			code = do_route(r, a->keys, a->nkeys, a->n, a->json);
		zkc_service_router_close(r);
		zkc_close(zk);
	}
	free(path);
	return code;
}

int cli_service(int argc, char **argv)
{
	struct svc_args a = { .in = ZKC_SERVICE_INSTANCE_INIT, .n = 1, .json = cli_json };
	const char *sub;
	int code;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(service_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_USAGE : CLI_OK;
	}
	sub = argv[1];
	a.want = strcmp(sub, "register") == 0 ? 1 : strcmp(sub, "list") == 0 ? 2
	       : strcmp(sub, "route") == 0 ? 3 : 0;
	if (!a.want)
		return bad("unknown subcommand");
	if (!(a.keys = calloc((size_t)argc, sizeof(*a.keys))))
		return CLI_FAIL;
	code = svc_parse(&a, argc, argv);
	if (code == CLI_OK)
		code = svc_run(&a);
	free(a.keys);
	return code;
}
