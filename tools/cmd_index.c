/* tools/cmd_index.c - `zkc index create|put|get|find|delete|verify|rebuild|
 * drop`: the index recipe (zkc/index.h) for shell scripts, with --json
 * output, --hex for keys with any bytes, and the exit codes of tools/cli.h
 * (plus 10: verify found disagreements). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

int cli_index(int argc, char **argv);

#define CLI_DISAGREE 10   /* verify/rebuild: the index disagrees with the data */
#define MAX_KV 32

static const char index_usage[] =
    "usage: zkc index create [--unique] PATH FIELD [[--unique] FIELD...]\n"
    "       zkc index put [--create|--update] [--data TEXT | --data-file FILE|-]\n"
    "                     PATH ID [FIELD=VALUE...]\n"
    "       zkc index get PATH ID\n"
    "       zkc index find [--limit N] PATH FIELD VALUE\n"
    "       zkc index find [--limit N] --prefix PATH FIELD PREFIX\n"
    "       zkc index find [--limit N] --range PATH FIELD [LO [HI]]\n"
    "       zkc index delete PATH ID\n"
    "       zkc index verify PATH\n"
    "       zkc index rebuild PATH\n"
    "       zkc index drop PATH\n"
    "Options of every subcommand: --json (one JSON object on stdout), --hex (IDs\n"
    "and values in arguments and output are hex, for keys with any bytes).\n"
    "Records with secondary indexes on named fields; every write changes the\n"
    "record and its index entries in one transaction. find prints matching IDs\n"
    "(exact) or VALUE<TAB>ID lines (--prefix, --range: LO <= value < HI, in byte\n"
    "order; LO \"\" = from the first). verify lists disagreements between records\n"
    "and index; rebuild repairs them (run both while nobody writes).\n"
    "Exit status: 0 ok; 3 no such collection or record; 4 the ID exists\n"
    "(--create) or a unique value belongs to another record; 2 usage or bad\n"
    "input (unknown field, key over 512 bytes, data over 1 MiB); 7 no\n"
    "connection; 9 outcome unknown (the write happened entirely or not at all);\n"
    "10 verify/rebuild found disagreements (rebuild: some left unrepaired);\n"
    "1 other.\n";

typedef struct args {
	int json, hex, create, update, prefix, range, unique_next;
	long limit;
	const char *data, *data_file;
	const char *pos[2 + MAX_KV];
	int npos;
	int uniq[2 + MAX_KV];   /* create: --unique before positional i */
} args_t;

static int bad(const char *why)
{
	fprintf(stderr, "zkc: index: %s\n%s", why, index_usage);
	return CLI_USAGE;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A key argument as bytes (hex-decoded with --hex). malloc'd; NULL if bad. */
static char *key_arg(const char *s, int hex, size_t *len)
{
	size_t n = strlen(s), i;
	char *out;

	if (!hex) {
		*len = n;
		return strdup(s);
	}
	if (n % 2)
		return NULL;
	out = malloc(n / 2 + 1);
	for (i = 0; out && i < n / 2; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			free(out);
			return NULL;
		}
		out[i] = (char)(hi * 16 + lo);
	}
	if (out)
		out[n / 2] = 0;
	*len = n / 2;
	return out;
}

/* Prints a key: hex, JSON string, or raw. */
static void put_key(const char *s, size_t len, const args_t *a)
{
	size_t i;

	if (a->hex) {
		if (a->json)
			putchar('"');
		for (i = 0; i < len; i++)
			printf("%02x", (unsigned char)s[i]);
		if (a->json)
			putchar('"');
	} else if (a->json) {
		cli_json_bytes(s, len);
	} else {
		fwrite(s, 1, len, stdout);
	}
}

static int parse(args_t *a, int argc, char **argv)
{
	int i;

	memset(a, 0, sizeof(*a));
	a->json = cli_json;
	for (i = 2; i < argc; i++) {
		const char *s = argv[i];

		if (strcmp(s, "--json") == 0)
			a->json = 1;
		else if (strcmp(s, "--hex") == 0)
			a->hex = 1;
		else if (strcmp(s, "--create") == 0)
			a->create = 1;
		else if (strcmp(s, "--update") == 0)
			a->update = 1;
		else if (strcmp(s, "--prefix") == 0)
			a->prefix = 1;
		else if (strcmp(s, "--range") == 0)
			a->range = 1;
		else if (strcmp(s, "--unique") == 0)
			a->unique_next = 1;
		else if (strcmp(s, "--data") == 0 && i + 1 < argc)
			a->data = argv[++i];
		else if (strcmp(s, "--data-file") == 0 && i + 1 < argc)
			a->data_file = argv[++i];
		else if (strcmp(s, "--limit") == 0 && i + 1 < argc) {
			int64_t v;

			if (cli_parse_i64(argv[++i], 0, LONG_MAX, &v) != 0)
				return bad("--limit takes a count");
			a->limit = (long)v;
		} else if (strcmp(s, "--") == 0) {
			for (i++; i < argc && a->npos < 2 + MAX_KV; i++)
				a->pos[a->npos++] = argv[i];
			if (i < argc)
				return bad("too many arguments");
		} else if (s[0] == '-' && s[1] == '-') {
			return bad("unknown option");
		} else if (a->npos < 2 + MAX_KV) {
			a->uniq[a->npos] = a->unique_next;
			a->unique_next = 0;
			a->pos[a->npos++] = s;
		} else {
			return bad("too many arguments");
		}
	}
	return CLI_OK;
}

static int do_create(zkc_t *zk, const args_t *a)
{
	zkc_index_field_t f[MAX_KV];
	int i, rc;

	if (a->npos < 2)
		return bad("create needs PATH and at least one FIELD");
	for (i = 1; i < a->npos; i++) {
		f[i - 1].name = a->pos[i];
		f[i - 1].flags = a->uniq[i] ? ZKC_INDEX_UNIQUE : 0;
	}
	rc = zkc_index_create(zk, a->pos[0], f, (size_t)(a->npos - 1));
	if (rc == ZKC_EBADARGUMENTS)
		return bad("bad path or fields (1..64 bytes each, at most 32, no repeats)");
	if (rc != ZKC_OK)
		return cli_fail(a->pos[0], rc);
	if (a->json)
		printf("{\"created\":true}\n");
	return CLI_OK;
}

static int do_put(zkc_index_t *ix, const args_t *a)
{
	zkc_index_kv_t kv[MAX_KV];
	char *keys[MAX_KV + 1], *data = NULL;
	size_t idl, dlen = 0, n = 0, i;
	int rc, code;

	memset(keys, 0, sizeof(keys));
	if (a->data && a->data_file)
		return bad("--data and --data-file exclude each other");
	if (a->data_file && cli_read_file(a->data_file, &data, &dlen) != 0) {
		fprintf(stderr, "zkc: index: cannot read %s: %s\n", a->data_file, strerror(errno));
		return CLI_FAIL;
	}
	if (a->data) {
		data = strdup(a->data);
		dlen = strlen(a->data);
	}
	keys[0] = key_arg(a->pos[1], a->hex, &idl);
	code = keys[0] ? CLI_OK : bad("ID is not hex");
	for (i = 2; code == CLI_OK && i < (size_t)a->npos; i++) {
		const char *eq = strchr(a->pos[i], '=');
		char *name;

		if (!eq || eq == a->pos[i]) {
			code = bad("fields are FIELD=VALUE");
			break;
		}
		name = strndup(a->pos[i], (size_t)(eq - a->pos[i]));
		keys[1 + n] = key_arg(eq + 1, a->hex, &kv[n].len);
		kv[n].name = name;
		kv[n].value = keys[1 + n];
		n++;
		if (!keys[n])
			code = bad("VALUE is not hex");
	}
	if (code == CLI_OK) {
		rc = zkc_index_put(ix, keys[0], idl, data, dlen, kv, n,
		                   (a->create ? ZKC_INDEX_CREATE : 0) | (a->update ? ZKC_INDEX_UPDATE : 0));
		/* the library's message names the key, the field and the
		 * collection (never the record's internal node) */
		code = cli_fail("index put", rc);
		if (rc == ZKC_EDATAINCONSISTENCY) {
			fprintf(stderr, "zkc: index put: run `zkc index rebuild`\n");
			code = CLI_DISAGREE;
		}
		if (rc == ZKC_OK && a->json)
			printf("{\"put\":true}\n");
	}
	for (i = 0; i < n; i++)
		free((char *)kv[i].name);
	for (i = 0; i <= n; i++)
		free(keys[i]);
	free(data);
	return code;
}

static int do_get(zkc_index_t *ix, const args_t *a)
{
	zkc_index_record_t *r = NULL;
	size_t idl, i;
	char *id = key_arg(a->pos[1], a->hex, &idl);
	int rc;

	if (!id)
		return bad("ID is not hex");
	rc = zkc_index_get(&r, ix, id, idl, ZKC_INDEX_SERVER);
	free(id);
	if (rc != ZKC_OK)
		return cli_fail("index get", rc);   /* names the key and the collection */
	if (a->json) {
		printf("{\"id\":");
		put_key(r->id, r->id_len, a);
		printf(",\"version\":%d,\"fields\":{", (int)r->version);
		for (i = 0; i < r->nfields; i++) {
			if (i)
				putchar(',');
			cli_json_bytes(r->fields[i].name, strlen(r->fields[i].name));
			putchar(':');
			put_key(r->fields[i].value, r->fields[i].len, a);
		}
		printf("},\"data\":");
		cli_json_bytes(r->data, r->len);
		printf("}\n");
	} else {
		for (i = 0; i < r->nfields; i++) {
			printf("%s=", r->fields[i].name);
			put_key(r->fields[i].value, r->fields[i].len, a);
			putchar('\n');
		}
		putchar('\n');
		fwrite(r->data, 1, r->len, stdout);
		/* as zkc get: the line ended on a terminal */
		if (isatty(fileno(stdout)) && r->len && r->data[r->len - 1] != '\n')
			putchar('\n');
	}
	zkc_index_record_free(r);
	return CLI_OK;
}

static int do_find(zkc_index_t *ix, const args_t *a)
{
	zkc_index_hits_t *h = NULL;
	char *k1 = NULL, *k2 = NULL;
	size_t l1 = 0, l2 = 0, i;
	int rc, fl = ZKC_INDEX_SERVER, want_min = a->range ? 2 : 3;

	if (a->prefix && a->range)
		return bad("--prefix and --range exclude each other");
	if (a->npos < want_min || a->npos > (a->range ? 4 : 3))
		return bad("find takes PATH FIELD and the value(s)");
	if ((a->npos > 2 && !(k1 = key_arg(a->pos[2], a->hex, &l1))) ||
	    (a->npos > 3 && !(k2 = key_arg(a->pos[3], a->hex, &l2)))) {
		free(k1);
		return bad("value is not hex");
	}
	if (a->range)
		rc = zkc_index_range(&h, ix, a->pos[1], k1, l1, k2, l2, (size_t)a->limit, fl);
	else if (a->prefix)
		rc = zkc_index_prefix(&h, ix, a->pos[1], k1, l1, (size_t)a->limit, fl);
	else
		rc = zkc_index_find(&h, ix, a->pos[1], k1, l1, (size_t)a->limit, fl);
	free(k1);
	free(k2);
	if (rc != ZKC_OK)
		return cli_fail("index find", rc);  /* names the field and the collection */
	if (a->json)
		printf("{\"count\":%zu,\"hits\":[", h->count);
	for (i = 0; i < h->count; i++) {
		if (a->json) {
			printf("%s{\"id\":", i ? "," : "");
			put_key(h->items[i].id, h->items[i].id_len, a);
			printf(",\"value\":");
			put_key(h->items[i].value, h->items[i].value_len, a);
			putchar('}');
			continue;
		}
		if (a->prefix || a->range) {
			put_key(h->items[i].value, h->items[i].value_len, a);
			putchar('\t');
		}
		put_key(h->items[i].id, h->items[i].id_len, a);
		putchar('\n');
	}
	if (a->json)
		printf("]}\n");
	zkc_index_hits_free(h);
	return CLI_OK;
}

static int do_delete(zkc_index_t *ix, const args_t *a)
{
	size_t idl;
	char *id = key_arg(a->pos[1], a->hex, &idl);
	int rc;

	if (!id)
		return bad("ID is not hex");
	rc = zkc_index_delete(ix, id, idl, 0);
	free(id);
	if (rc == ZKC_EDATAINCONSISTENCY) {
		cli_fail("index delete", rc);
		fprintf(stderr, "zkc: index delete: run `zkc index rebuild`\n");
		return CLI_DISAGREE;
	}
	if (rc == ZKC_OK && a->json)
		printf("{\"deleted\":true}\n");
	return rc == ZKC_OK ? CLI_OK : cli_fail("index delete", rc);
}

static int do_verify(zkc_index_t *ix, const args_t *a, int repair)
{
	zkc_index_report_t *r = NULL;
	size_t i;
	int rc = repair ? zkc_index_rebuild(&r, ix) : zkc_index_verify(&r, ix);

	if (!r)
		return cli_fail(repair ? "index rebuild" : "index verify", rc);
	if (a->json)
		printf("{\"records\":%zu,\"entries\":%zu,\"issues\":%zu,\"repaired\":%zu,\"list\":[",
		       r->records, r->entries, r->count, r->repaired);
	for (i = 0; i < r->count; i++) {
		const zkc_index_issue_t *is = &r->issues[i];

		if (a->json) {
			printf("%s{\"kind\":\"%s\",\"path\":", i ? "," : "", zkc_index_issue_name(is->kind));
			cli_json_bytes(is->path ? is->path : "", is->path ? strlen(is->path) : 0);
			if (is->field) {
				printf(",\"field\":");
				cli_json_bytes(is->field, strlen(is->field));
			}
			if (is->value) {
				printf(",\"value\":");
				put_key(is->value, is->value_len, a);
			}
			if (is->id) {
				printf(",\"id\":");
				put_key(is->id, is->id_len, a);
			}
			putchar('}');
		} else {
			printf("%s\t%s\n", zkc_index_issue_name(is->kind), is->path ? is->path : "");
		}
	}
	if (a->json)
		printf("]}\n");
	else
		fprintf(stderr, "zkc: index %s: %zu records, %zu entries, %zu issues%s\n",
		        repair ? "rebuild" : "verify", r->records, r->entries, r->count,
		        repair ? "" : "");
	if (repair)
		fprintf(stderr, "zkc: index rebuild: %zu repaired\n", r->repaired);
	i = repair ? r->count - r->repaired : r->count;
	zkc_index_report_free(r);
	if (rc != ZKC_OK && rc != ZKC_ENOTSUP)
		return cli_fail("index rebuild", rc);
	return i ? CLI_DISAGREE : CLI_OK;
}

int cli_index(int argc, char **argv)
{
	zkc_index_options_t o = ZKC_INDEX_OPTIONS_INIT;
	zkc_index_t *ix = NULL;
	const char *sub;
	args_t a;
	int code, rc, need;
	zkc_t *zk;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(index_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_USAGE : CLI_OK;
	}
	sub = argv[1];
	if ((code = parse(&a, argc, argv)) != CLI_OK)
		return code;
	if (strcmp(sub, "put") == 0 || strcmp(sub, "get") == 0 || strcmp(sub, "delete") == 0)
		need = 2;
	else if (strcmp(sub, "verify") == 0 || strcmp(sub, "rebuild") == 0 ||
	         strcmp(sub, "drop") == 0 || strcmp(sub, "create") == 0 || strcmp(sub, "find") == 0)
		need = 1;
	else
		return bad("unknown subcommand");
	if (a.npos < need)
		return bad("missing argument");
	if (strcmp(sub, "put") != 0 && strcmp(sub, "create") != 0 && strcmp(sub, "find") != 0 &&
	    a.npos > need)
		return bad("unexpected argument");
	if ((a.create || a.update || a.data || a.data_file) && strcmp(sub, "put") != 0)
		return bad("--create, --update, --data and --data-file are for put");
	if (a.create && a.update)
		return bad("--create and --update exclude each other");
	if (!(zk = cli_open(&code)))
		return code;
	if (strcmp(sub, "create") == 0) {
		code = do_create(zk, &a);
	} else if (strcmp(sub, "drop") == 0) {
		rc = zkc_index_drop(zk, a.pos[0]);
		code = cli_fail("index drop", rc);
	} else {
		/* one-shot commands read the servers: no cache to fill */
		o.cache = 0;
		rc = zkc_index_open(&ix, zk, a.pos[0], &o);
		if (rc != ZKC_OK) {
			code = cli_fail("index", rc);   /* names the path and why */
		} else if (strcmp(sub, "put") == 0) {
			code = do_put(ix, &a);
		} else if (strcmp(sub, "get") == 0) {
			code = do_get(ix, &a);
		} else if (strcmp(sub, "find") == 0) {
			code = do_find(ix, &a);
		} else if (strcmp(sub, "delete") == 0) {
			code = do_delete(ix, &a);
		} else {
			code = do_verify(ix, &a, strcmp(sub, "rebuild") == 0);
		}
		zkc_index_close(ix);
	}
	zkc_close(zk);
	return code;
}
