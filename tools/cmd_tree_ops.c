/* tools/cmd_tree_ops.c - the operator commands that work on whole subtrees:
 * du, find, grep, dump, load, cp, diff, and acl get/set. Every subtree is
 * read level by level with pipelined batches (a bounded number of requests
 * in flight), so a 100,000-node subtree takes seconds, not one round trip
 * per node. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <fnmatch.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"

/* Requests per batch: what is in flight at once. */
#define OPS_IN_FLIGHT 1000

/* ------------------------------------------------------------ walking */

typedef struct tnode {
	char *path;                /* absolute */
	char *data;
	size_t len;
	zkc_stat_t stat;
	zkc_acl_list_t *acl;       /* NULL unless asked for */
} tnode_t;

typedef struct tree {
	tnode_t *nodes;            /* breadth first: parents before children */
	size_t count, cap;
} tree_t;

static void tree_free(tree_t *t)
{
	size_t i;

	for (i = 0; i < t->count; i++) {
		free(t->nodes[i].path);
		free(t->nodes[i].data);
		free(t->nodes[i].acl);
	}
	free(t->nodes);
	memset(t, 0, sizeof(*t));
}

static int tree_push(tree_t *t, tnode_t *n)
{
	if (t->count == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		tnode_t *g = realloc(t->nodes, cap * sizeof(*g));

		if (!g)
			return -1;
		t->nodes = g;
		t->cap = cap;
	}
	t->nodes[t->count++] = *n;
	return 0;
}

static char *join(const char *dir, const char *name)
{
	char *p = NULL;

	if (asprintf(&p, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir, name) < 0)
		return NULL;
	return p;
}

/* ZooKeeper's own nodes are never walked, copied or dumped. */
static int system_node(const char *path)
{
	return strcmp(path, "/zookeeper") == 0 || strncmp(path, "/zookeeper/", 11) == 0;
}

static void progress(const char *verb, size_t n, int done)
{
	static int tty = -1;

	if (tty < 0)
		tty = isatty(2);
	if (!tty)
		return;
	fprintf(stderr, "\rzkc: %s %zu nodes%s", verb, n, done ? "\n" : "");
}

/* A copy of an ACL list in one malloc'd block (free() releases it). */
static zkc_acl_list_t *acl_copy(const zkc_acl_list_t *a)
{
	size_t sz = sizeof(*a);
	zkc_acl_list_t *out;
	zkc_acl_t *e;
	char *s;
	int j;

	for (j = 0; j < a->count; j++)
		sz += sizeof(zkc_acl_t) + strlen(a->acls[j].scheme) + strlen(a->acls[j].id) + 2;
	if (!(out = malloc(sz)))
		return NULL;
	e = (zkc_acl_t *)(out + 1);
	s = (char *)(e + a->count);
	for (j = 0; j < a->count; j++) {
		e[j].perms = a->acls[j].perms;
		e[j].scheme = strcpy(s, a->acls[j].scheme);
		s += strlen(s) + 1;
		e[j].id = strcpy(s, a->acls[j].id);
		s += strlen(s) + 1;
	}
	out->count = a->count;
	out->acls = e;
	return out;
}

/* Appends the paths of path's children (not ZooKeeper's own) to next. */
static int queue_children(const char *path, const zkc_strings_t *kids, char ***next,
                          size_t *nnext, size_t *cnext)
{
	size_t k;

	for (k = 0; kids && k < kids->count; k++) {
		char *child = join(path, kids->items[k]);

		if (!child)
			return -1;
		if (system_node(child)) {
			free(child);
			continue;
		}
		if (*nnext == *cnext) {
			size_t cap = *cnext ? *cnext * 2 : 256;
			char **gr = realloc(*next, cap * sizeof(*gr));

			if (!gr) {
				free(child);
				return -1;
			}
			*next = gr;
			*cnext = cap;
		}
		(*next)[(*nnext)++] = child;
	}
	return 0;
}

/* The node read by requests g.. of b (get, children, acl) into out. */
static int push_node(tree_t *out, zkc_batch_t *b, size_t g, const char *path, int with_acl)
{
	size_t len = 0;
	const char *data = zkc_batch_data(b, g, &len);
	tnode_t node;

	memset(&node, 0, sizeof(node));
	zkc_batch_stat(&node.stat, b, g);
	node.len = len;
	node.data = malloc(len + 1);
	if (node.data) {
		memcpy(node.data, data ? data : "", len);
		node.data[len] = '\0';
	}
	if (with_acl)
		node.acl = acl_copy(zkc_batch_acl(b, g + 2));
	node.path = strdup(path);
	if (!node.data || (with_acl && !node.acl) || !node.path || tree_push(out, &node) != 0) {
		free(node.path);
		free(node.data);
		free(node.acl);
		return -1;
	}
	return 0;
}

/* One level's chunk: get, children (and acl) of each path, sent back to
 * back. Nodes that vanished meanwhile are skipped. */
static int walk_chunk(zkc_t *zk, char **paths, size_t n, int with_acl, tree_t *out,
                      char ***next, size_t *nnext, size_t *cnext)
{
	zkc_batch_t *b = NULL;
	size_t i, per = with_acl ? 3 : 2;
	int rc;

	if ((rc = zkc_batch_new(&b)) != ZKC_OK)
		return rc;
	for (i = 0; i < n; i++) {
		zkc_batch_get(b, paths[i], 0, NULL, NULL);
		zkc_batch_children(b, paths[i], 0, NULL, NULL);
		if (with_acl)
			zkc_batch_get_acl(b, paths[i]);
	}
	if ((rc = zkc_batch_run(zk, b)) != ZKC_OK)
		goto out;
	for (i = 0; i < n; i++) {
		size_t g = i * per;
		int code = zkc_batch_code(b, g);

		if (code == ZKC_ENONODE)
			continue;   /* deleted while we walked */
		if (code == ZKC_OK && (code = zkc_batch_code(b, g + 1)) == ZKC_ENONODE)
			continue;
		if (code == ZKC_OK && with_acl && (code = zkc_batch_code(b, g + 2)) == ZKC_ENONODE)
			continue;
		if (code != ZKC_OK) {
			rc = zkc_error_set(code, "read %s: %s", paths[i], zkc_strerror(code));
			goto out;
		}
		if (push_node(out, b, g, paths[i], with_acl) != 0 ||
		    queue_children(paths[i], zkc_batch_children_of(b, g + 1), next, nnext, cnext) != 0) {
			rc = zkc_error_set(ZKC_ENOMEM, "out of memory while reading the subtree");
			goto out;
		}
	}
	rc = ZKC_OK;
out:
	zkc_batch_free(b);
	return rc;
}


/* Reads the subtree at root, breadth first, into *out. */
static int walk(zkc_t *zk, const char *root, int with_acl, tree_t *out)
{
	char **level = NULL, **next = NULL;
	size_t nlevel = 1, nnext = 0, cnext = 0, i, at;
	size_t chunk = OPS_IN_FLIGHT / (with_acl ? 3 : 2);
	int rc = ZKC_OK;

	memset(out, 0, sizeof(*out));
	level = malloc(sizeof(*level));
	if (!level || !(level[0] = strdup(root))) {
		free(level);
		return zkc_error_set(ZKC_ENOMEM, "out of memory");
	}
	while (nlevel > 0 && rc == ZKC_OK) {
		for (at = 0; at < nlevel && rc == ZKC_OK; at += chunk) {
			size_t n = nlevel - at < chunk ? nlevel - at : chunk;

			rc = walk_chunk(zk, level + at, n, with_acl, out, &next, &nnext, &cnext);
			progress("read", out->count, 0);
		}
		for (i = 0; i < nlevel; i++)
			free(level[i]);
		free(level);
		level = next;
		nlevel = nnext;
		next = NULL;
		nnext = cnext = 0;
	}
	for (i = 0; i < nlevel; i++)
		free(level[i]);
	free(level);
	progress("read", out->count, 1);
	if (rc == ZKC_OK && out->count == 0)
		rc = zkc_error_set(ZKC_ENONODE, "%s: no node", root);
	if (rc != ZKC_OK)
		tree_free(out);
	return rc;
}

/* The path below root ("" for root itself). */
static const char *rel(const char *root, const char *path)
{
	if (strcmp(path, root) == 0)
		return "";
	return path + (strcmp(root, "/") == 0 ? 0 : strlen(root));
}

/* ------------------------------------------------------------ modes */

/* What a client can tell of a node's mode: the server reports
 * ephemeralOwner 0 for containers and TTL nodes as for persistent ones, so
 * those are dumped and copied as persistent. A dump edited by hand may
 * still say "container" or "ttl" (with ttl_ms), and load honours it. */
static const char *mode_of(const zkc_stat_t *st)
{
	return st->ephemeral_owner == 0 ? "persistent" : "ephemeral";
}

/* "cdrwa"-style letters of a permission set, as zkCli prints them. */
static void perms_text(char out[6], int perms)
{
	size_t n = 0;

	if (perms & ZKC_PERM_CREATE) out[n++] = 'c';
	if (perms & ZKC_PERM_DELETE) out[n++] = 'd';
	if (perms & ZKC_PERM_READ) out[n++] = 'r';
	if (perms & ZKC_PERM_WRITE) out[n++] = 'w';
	if (perms & ZKC_PERM_ADMIN) out[n++] = 'a';
	out[n] = '\0';
}

static int perms_parse(const char *s)
{
	int perms = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		switch (*s) {
		case 'c': perms |= ZKC_PERM_CREATE; break;
		case 'd': perms |= ZKC_PERM_DELETE; break;
		case 'r': perms |= ZKC_PERM_READ; break;
		case 'w': perms |= ZKC_PERM_WRITE; break;
		case 'a': perms |= ZKC_PERM_ADMIN; break;
		default: return -1;
		}
	}
	return perms;
}

/* A digest entry whose hash the server hid (the reader lacked ADMIN on the
 * node): writing it back would lock everyone out. */
static int redacted(const char *scheme, const char *id)
{
	size_t n = strlen(id);

	return strcmp(scheme, "digest") == 0 && n >= 2 && strcmp(id + n - 2, ":x") == 0;
}

static int acl_redacted(const zkc_acl_list_t *acl)
{
	int i;

	for (i = 0; acl && i < acl->count; i++)
		if (redacted(acl->acls[i].scheme, acl->acls[i].id))
			return 1;
	return 0;
}

/* ------------------------------------------------------------ JSON */


static json_t *acl_json(const zkc_acl_list_t *acl)
{
	json_t *arr = json_array();
	int i;

	for (i = 0; acl && i < acl->count; i++) {
		char p[6];

		perms_text(p, acl->acls[i].perms);
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "scheme", acl->acls[i].scheme,
		                                     "id", acl->acls[i].id, "perms", p));
	}
	return arr;
}

/* {"zkc_dump": 1, "root": ..., "nodes": [{"path", "data" | "data_b64",
 *  "mode", ["ttl_ms"], "acl": [...]}]}: parents before children. */
static json_t *tree_json(const tree_t *t, const char *root)
{
	json_t *nodes = json_array();
	size_t i;

	for (i = 0; i < t->count; i++) {
		const tnode_t *n = &t->nodes[i];
		const char *mode = mode_of(&n->stat);
		json_t *o = json_pack("{s:s, s:s, s:o}", "path", rel(root, n->path), "mode", mode,
		                      "acl", acl_json(n->acl));

		if (cli_is_text(n->data, n->len)) {
			json_object_set_new(o, "data", json_stringn(n->data, n->len));
		} else {
			char *e = cli_b64_encode((const unsigned char *)n->data, n->len);

			json_object_set_new(o, "data_b64", json_string(e ? e : ""));
			free(e);
		}
		json_array_append_new(nodes, o);
	}
	return json_pack("{s:i, s:s, s:o}", "zkc_dump", 1, "root", root, "nodes", nodes);
}

/* ------------------------------------------------------------ loading */

typedef struct lnode {
	char *rel;
	char *data;
	size_t len;
	int mode;                /* zkc_mode_t, or -1: ephemeral (skipped) */
	int64_t ttl_ms;
	zkc_acl_list_t *acl;     /* NULL: the client's default */
} lnode_t;

static void lnodes_free(lnode_t *l, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(l[i].rel);
		free(l[i].data);
		free(l[i].acl);
	}
	free(l);
}

/* The ACL entries of a JSON array, in one allocation. */
static zkc_acl_list_t *acl_from_json(json_t *arr, const char **why)
{
	size_t n = json_array_size(arr), i, sz = sizeof(zkc_acl_list_t);
	zkc_acl_list_t *l;
	zkc_acl_t *e;
	char *s;

	if (n == 0)
		return NULL;
	for (i = 0; i < n; i++) {
		const char *sc = NULL, *id = NULL, *pm = NULL;

		if (json_unpack(json_array_get(arr, i), "{s:s, s:s, s:s}", "scheme", &sc, "id", &id,
		                "perms", &pm) != 0 || perms_parse(pm) <= 0) {
			*why = "an ACL entry needs scheme, id and perms (letters of cdrwa)";
			return NULL;
		}
		if (redacted(sc, id)) {
			*why = "a digest ACL entry's hash was hidden by the server when this was "
			       "dumped (\"user:x\"): dump with a client that has ADMIN on the node";
			return NULL;
		}
		sz += sizeof(zkc_acl_t) + strlen(sc) + strlen(id) + 2;
	}
	if (!(l = malloc(sz))) {
		*why = "out of memory";
		return NULL;
	}
	e = (zkc_acl_t *)(l + 1);
	s = (char *)(e + n);
	for (i = 0; i < n; i++) {
		const char *sc, *id, *pm;

		json_unpack(json_array_get(arr, i), "{s:s, s:s, s:s}", "scheme", &sc, "id", &id,
		            "perms", &pm);
		e[i].perms = perms_parse(pm);
		e[i].scheme = strcpy(s, sc);
		s += strlen(s) + 1;
		e[i].id = strcpy(s, id);
		s += strlen(s) + 1;
	}
	l->count = (int)n;
	l->acls = e;
	return l;
}

/* Reads a dump document into nodes; its root through *out_root. */
static int dump_parse(json_t *doc, lnode_t **out, size_t *out_n, const char **out_root)
{
	json_t *nodes = NULL, *v;
	const char *root = NULL, *why = NULL;
	lnode_t *l = NULL;
	size_t i, n;
	int ver = 0;

	*out = NULL;
	*out_n = 0;
	if (json_unpack(doc, "{s:i, s:s, s:o}", "zkc_dump", &ver, "root", &root, "nodes", &nodes) ||
	    ver != 1 || !json_is_array(nodes))
		return zkc_error_set(ZKC_EBADARGUMENTS, "not a zkc dump (version 1): wants "
		                     "{\"zkc_dump\": 1, \"root\": ..., \"nodes\": [...]}");
	n = json_array_size(nodes);
	if (!(l = calloc(n ? n : 1, sizeof(*l))))
		return zkc_error_set(ZKC_ENOMEM, "out of memory");
	json_array_foreach(nodes, i, v) {
		const char *path = NULL, *mode = "persistent", *text;
		json_t *acl = NULL;
		json_int_t ttl = 0;

		if (json_unpack(v, "{s:s, s?s, s?o, s?I}", "path", &path, "mode", &mode, "acl", &acl,
		                "ttl_ms", &ttl) != 0) {
			why = "a node needs a \"path\"";
			goto bad;
		}
		if (i == 0 ? path[0] != '\0' : path[0] != '/') {
			why = "the first node is the root (path \"\"), the others' paths start with /";
			goto bad;
		}
		l[i].rel = strdup(path);
		if ((text = json_string_value(json_object_get(v, "data")))) {
			l[i].len = json_string_length(json_object_get(v, "data"));
			l[i].data = malloc(l[i].len + 1);
			if (l[i].data)
				memcpy(l[i].data, text, l[i].len);
		} else if ((text = json_string_value(json_object_get(v, "data_b64")))) {
			long dl = 0;

			l[i].data = malloc(strlen(text) + 1);
			if (l[i].data && (dl = cli_b64_decode(text, (unsigned char *)l[i].data)) < 0) {
				why = "data_b64 is not base64";
				goto bad;
			}
			l[i].len = l[i].data ? (size_t)dl : 0;
		} else {
			l[i].data = malloc(1);
		}
		if (!l[i].rel || !l[i].data) {
			why = "out of memory";
			goto bad;
		}
		if (strcmp(mode, "persistent") == 0) {
			l[i].mode = ZKC_PERSISTENT;
		} else if (strcmp(mode, "container") == 0) {
			l[i].mode = ZKC_CONTAINER;
		} else if (strcmp(mode, "ttl") == 0 && ttl > 0) {
			l[i].mode = ZKC_PERSISTENT_WITH_TTL;
			l[i].ttl_ms = ttl;
		} else if (strcmp(mode, "ephemeral") == 0) {
			l[i].mode = -1;
		} else {
			why = "mode is persistent, container, ephemeral or ttl (with ttl_ms > 0)";
			goto bad;
		}
		if (acl && json_array_size(acl) && !(l[i].acl = acl_from_json(acl, &why)))
			goto bad;
	}
	*out = l;
	*out_n = n;
	*out_root = root;
	return ZKC_OK;
bad:
	lnodes_free(l, n);
	return zkc_error_set(ZKC_EBADARGUMENTS, "dump node %zu: %s", i, why ? why : "bad node");
}

/* Creates the nodes under dst, pipelined in batches: a batch's requests
 * are applied in order, so parents (earlier in the list) exist before their
 * children. Ephemeral nodes are skipped (they belong to sessions). A node
 * that exists is an error, or with `update` gets the dump's data; the
 * destination "/" is never created or changed. */
static int load_nodes(zkc_t *zk, const char *dst, const lnode_t *l, size_t n, int update,
                      size_t *out_made, size_t *out_skipped)
{
	zkc_batch_t *b = NULL;
	size_t at = 0, made = 0, skipped = 0, i;
	size_t *idx = malloc(OPS_IN_FLIGHT * sizeof(*idx));
	int rc = ZKC_OK;

	if (!idx || zkc_batch_new(&b) != ZKC_OK) {
		free(idx);
		return zkc_error_set(ZKC_ENOMEM, "out of memory");
	}
	while (at < n && rc == ZKC_OK) {
		size_t k = 0;

		zkc_batch_clear(b);
		for (; at < n && k < OPS_IN_FLIGHT; at++) {
			zkc_create_options_t co = ZKC_CREATE_OPTIONS_INIT;
			char *path;

			if (l[at].mode < 0 || (at == 0 && strcmp(dst, "/") == 0 && l[at].rel[0] == '\0')) {
				skipped += l[at].mode < 0;
				continue;
			}
			if (asprintf(&path, "%s%s", strcmp(dst, "/") == 0 ? "" : dst, l[at].rel) < 0) {
				rc = zkc_error_set(ZKC_ENOMEM, "out of memory");
				break;
			}
			co.mode = l[at].mode;
			co.ttl_ms = l[at].ttl_ms;
			co.acl = l[at].acl;
			rc = zkc_batch_create(b, path, l[at].data, l[at].len, &co);
			if (rc >= 0 && update)
				rc = zkc_batch_set(b, path, l[at].data, l[at].len, -1);
			free(path);
			if (rc < 0)
				break;
			rc = ZKC_OK;
			idx[k++] = at;
		}
		if (rc != ZKC_OK || k == 0)
			break;
		if ((rc = zkc_batch_run(zk, b)) != ZKC_OK)
			break;
		for (i = 0; i < k && rc == ZKC_OK; i++) {
			size_t op = update ? 2 * i : i;
			int code = zkc_batch_code(b, op);

			if (code == ZKC_ENODEEXISTS && update)
				code = zkc_batch_code(b, op + 1);
			else if (code == ZKC_OK)
				made++;
			if (code != ZKC_OK)
				rc = zkc_error_set(code, "create %s%s: %s", strcmp(dst, "/") == 0 ? "" : dst,
				                   l[idx[i]].rel, zkc_strerror(code));
		}
		progress("wrote", made, 0);
	}
	progress("wrote", made, 1);
	zkc_batch_free(b);
	free(idx);
	*out_made = made;
	*out_skipped = skipped;
	return rc;
}

/* ------------------------------------------------------------ commands */

static int usage(const char *cmd, const char *synopsis)
{
	fprintf(stderr, "usage: zkc %s %s\nTry `zkc --help'.\n", cmd, synopsis);
	return CLI_USAGE;
}

static int path_arg(const char *what, const char *path)
{
	int rc = zkc_path_validate(path, (size_t)-1);

	return rc == ZKC_OK ? CLI_OK : cli_fail(what, rc);
}

/* The shared start of du, find, grep and dump: checks the path, reads its
 * subtree on a client opened for the purpose, and closes it. CLI_OK with
 * *t filled, or the exit code (the failure already printed). */
static int read_tree(const char *what, const char *path, int with_acl, tree_t *t)
{
	zkc_t *zk;
	int code, rc;

	if ((code = path_arg(what, path)) != CLI_OK)
		return code;
	if (!(zk = cli_open(&code)))
		return code;
	rc = walk(zk, path, with_acl, t);
	zkc_close(zk);
	return rc == ZKC_OK ? CLI_OK : cli_fail(what, rc);
}

/* Flags shared by the subtree commands: --json, --help; the rest is
 * positional (and "--" ends the flags). */
static int simple_args(int argc, char **argv, const char *cmd, const char *synopsis,
                       const char *extra_opts, int *json, int *icase, const char **name,
                       int npos, char **pos)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' }, { "help", no_argument, NULL, 'h' },
		{ "name", required_argument, NULL, 'n' }, { "ignore-case", no_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 }
	};
	int c, k = 0;

	if (json)
		*json = cli_json;
	cli_getopt_reset("hi");
	opterr = 0;
	while ((c = getopt_long(argc, argv, "hi", opts, NULL)) != -1) {
		if (c == 'h') {
			printf("usage: zkc %s %s\n", cmd, synopsis);
			return CLI_HELP;
		}
		if ((c == 'j' && json) || (c == 'i' && icase && strchr(extra_opts, 'i')) ||
		    (c == 'n' && name && strchr(extra_opts, 'n'))) {
			if (c == 'j') *json = 1;
			if (c == 'i') *icase = 1;
			if (c == 'n') *name = optarg;
			continue;
		}
		return usage(cmd, synopsis);
	}
	for (; optind < argc; optind++) {
		if (k == npos)
			return usage(cmd, synopsis);
		pos[k++] = argv[optind];
	}
	return k == npos ? CLI_OK : usage(cmd, synopsis);
}

typedef struct du_kid { const char *name; size_t nodes, bytes; } du_kid_t;

static int kid_cmp(const void *a, const void *b)
{
	const char *x = ((const du_kid_t *)a)->name, *y = ((const du_kid_t *)b)->name;
	size_t xl = strcspn(x, "/"), yl = strcspn(y, "/");
	int c = strncmp(x, y, xl < yl ? xl : yl);

	return c ? c : (xl > yl) - (xl < yl);
}

/* zkc du [--json] PATH: nodes and data bytes of PATH and of each child's
 * subtree. */
int cli_du(int argc, char **argv)
{
	const char *syn = "[--json] PATH";
	char *pos[1];
	int json = 0, code = simple_args(argc, argv, "du", syn, "", &json, NULL, NULL, 1, pos);
	tree_t t;
	size_t i, k, nkids = 0;
	du_kid_t *kids = NULL;
	size_t total_bytes = 0;

	if (code != CLI_OK || (code = read_tree("du", pos[0], 0, &t)) != CLI_OK)
		return code;
	kids = calloc(t.count, sizeof(*kids));
	for (i = 0; kids && i < t.count; i++) {
		const char *r = rel(pos[0], t.nodes[i].path);
		size_t nl;

		total_bytes += t.nodes[i].len;
		if (!*r)
			continue;
		nl = strcspn(r + 1, "/");
		for (k = 0; k < nkids; k++)
			if (strlen(kids[k].name) == nl && strncmp(kids[k].name, r + 1, nl) == 0)
				break;
		if (k == nkids)
			kids[nkids++].name = r + 1;   /* its own node comes first */
		kids[k].nodes++;
		kids[k].bytes += t.nodes[i].len;
	}
	qsort(kids, nkids, sizeof(*kids), kid_cmp);
	if (json) {
		printf("{\"path\": ");
		cli_json_string(pos[0], strlen(pos[0]));
		printf(", \"nodes\": %zu, \"bytes\": %zu, \"children\": [", t.count, total_bytes);
	}
	for (k = 0; kids && k < nkids; k++) {
		size_t nl = strcspn(kids[k].name, "/");

		if (json) {
			printf("%s{\"name\": ", k ? ", " : "");
			cli_json_string(kids[k].name, nl);
			printf(", \"nodes\": %zu, \"bytes\": %zu}", kids[k].nodes, kids[k].bytes);
		} else {
			printf("%12zu %9zu %s%s%.*s\n", kids[k].bytes, kids[k].nodes, pos[0],
			       strcmp(pos[0], "/") ? "/" : "", (int)nl, kids[k].name);
		}
	}
	if (json)
		printf("]}\n");
	else
		printf("%12zu %9zu %s (total: bytes, nodes)\n", total_bytes, t.count, pos[0]);
	free(kids);
	tree_free(&t);
	return CLI_OK;   /* write errors: cli_output_done */
}

/* zkc find [--name GLOB] [--json] PATH: the paths of the subtree (whose
 * last component matches GLOB). */
int cli_find(int argc, char **argv)
{
	const char *syn = "[--name GLOB] [--json] PATH", *glob = NULL;
	char *pos[1];
	int json = 0, code = simple_args(argc, argv, "find", syn, "n", &json, NULL, &glob, 1, pos);
	tree_t t;
	size_t i, shown = 0;

	if (code != CLI_OK || (code = read_tree("find", pos[0], 0, &t)) != CLI_OK)
		return code;
	if (json)
		printf("[");
	for (i = 0; i < t.count; i++) {
		const char *p = t.nodes[i].path, *base = strrchr(p, '/') + 1;

		if (glob && fnmatch(glob, base, 0) != 0)
			continue;
		if (json) {
			printf("%s", shown ? ", " : "");
			cli_json_string(p, strlen(p));
		} else {
			printf("%s\n", p);
		}
		shown++;
	}
	if (json)
		printf("]\n");
	tree_free(&t);
	return CLI_OK;   /* write errors: cli_output_done */
}

static int contains(const char *hay, size_t n, const char *needle, int icase)
{
	size_t m = strlen(needle), i;

	if (m == 0)
		return 1;
	if (!icase)
		return memmem(hay, n, needle, m) != NULL;
	for (i = 0; i + m <= n; i++)
		if (strncasecmp(hay + i, needle, m) == 0)
			return 1;
	return 0;
}

/* zkc grep [-i] [--json] TEXT PATH: the nodes of the subtree whose data
 * contains TEXT (bytes; -i: ASCII case ignored). Exit 0 when some match,
 * 3 (no node) when none does. */
int cli_grep(int argc, char **argv)
{
	const char *syn = "[-i] [--json] TEXT PATH";
	char *pos[2];
	int json = 0, icase = 0;
	int code = simple_args(argc, argv, "grep", syn, "i", &json, &icase, NULL, 2, pos);
	tree_t t;
	size_t i, shown = 0;

	if (code != CLI_OK || (code = read_tree("grep", pos[1], 0, &t)) != CLI_OK)
		return code;
	if (json)
		printf("[");
	for (i = 0; i < t.count; i++) {
		const tnode_t *n = &t.nodes[i];

		if (!contains(n->data, n->len, pos[0], icase))
			continue;
		if (json) {
			printf("%s{\"path\": ", shown ? ", " : "");
			cli_json_string(n->path, strlen(n->path));
			printf(", \"data\": ");
			cli_json_string(n->data, n->len);
			printf("}");
		} else {
			printf("%s: %.*s\n", n->path, (int)(n->len > 200 ? 200 : n->len), n->data);
		}
		shown++;
	}
	if (json)
		printf("]\n");
	tree_free(&t);
	return shown ? CLI_OK : CLI_NONODE;
}

/* zkc dump PATH: the subtree with data, modes and ACLs as JSON. */
int cli_dump(int argc, char **argv)
{
	char *pos[1];
	int code = simple_args(argc, argv, "dump", "PATH > FILE", "", NULL, NULL, NULL, 1, pos);
	tree_t t;
	json_t *doc;
	int rc;

	if (code != CLI_OK || (code = read_tree("dump", pos[0], 1, &t)) != CLI_OK)
		return code;
	{
		size_t i, hidden = 0;

		for (i = 0; i < t.count; i++)
			hidden += acl_redacted(t.nodes[i].acl);
		if (hidden)
			fprintf(stderr, "zkc: dump: warning: the server hid the digest hash of %zu "
			        "node%s' ACL (\"user:x\": no ADMIN there); load will refuse them\n",
			        hidden, hidden == 1 ? "" : "s");
	}
	doc = tree_json(&t, pos[0]);
	tree_free(&t);
	rc = json_dumpf(doc, stdout, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (rc != 0 || putchar('\n') == EOF)
		return CLI_FAIL;   /* a write error: cli_output_done says so */
	return CLI_OK;
}

static int report_load(const char *what, int rc, size_t made, size_t skipped)
{
	if (skipped)
		fprintf(stderr, "zkc: %s: skipped %zu ephemeral node%s (they belong to sessions)\n",
		        what, skipped, skipped == 1 ? "" : "s");
	if (rc != ZKC_OK) {
		fprintf(stderr, "zkc: %s: %zu nodes written before the failure\n", what, made);
		return cli_fail(what, rc);
	}
	return CLI_OK;
}

/* zkc load [--to PATH] [--update] < FILE */
int cli_load(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 't' }, { "update", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 }
	};
	const char *syn = "[--to PATH] [--update] [FILE|-]", *to = NULL, *root = NULL;
	int c, update = 0, code, rc;
	json_error_t jerr;
	json_t *doc;
	lnode_t *l = NULL;
	size_t n = 0, made = 0, skipped = 0;
	zkc_t *zk;

	cli_getopt_reset("+h");
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (c == 't') to = optarg;
		else if (c == 'u') update = 1;
		else if (c == 'h') { printf("usage: zkc load %s\n", syn); return CLI_OK; }
		else return usage("load", syn);
	}
	if (argc - optind > 1)
		return usage("load", syn);
	if (argc - optind == 1 && strcmp(argv[optind], "-") != 0)
		doc = json_load_file(argv[optind], 0, &jerr);
	else
		doc = json_loadf(stdin, 0, &jerr);
	if (!doc) {
		fprintf(stderr, "zkc: load: not JSON: %s (line %d)\n", jerr.text, jerr.line);
		return CLI_USAGE;
	}
	if ((rc = dump_parse(doc, &l, &n, &root)) != ZKC_OK) {
		json_decref(doc);
		return cli_fail("load", rc);
	}
	if (!to)
		to = root;
	if ((code = path_arg("load", to)) != CLI_OK || !(zk = cli_open(&code))) {
		lnodes_free(l, n);
		json_decref(doc);
		return code;
	}
	rc = load_nodes(zk, to, l, n, update, &made, &skipped);
	zkc_close(zk);
	lnodes_free(l, n);
	json_decref(doc);
	return report_load("load", rc, made, skipped);
}

/* Opens the client of --to-url, or NULL for "the same one". */
static zkc_t *open_other(const char *url, int *code)
{
	if (!url)
		return NULL;
	return cli_open_url("connect", url, NULL, code);
}

static int two_path_args(int argc, char **argv, const char *cmd, const char *syn,
                         const char **to_url, int *update, char **pos)
{
	static const struct option opts[] = {
		{ "to-url", required_argument, NULL, 'U' }, { "update", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 }
	};
	int c, code;

	cli_getopt_reset("+h");
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (c == 'U') *to_url = optarg;
		else if (c == 'u' && update) *update = 1;
		else if (c == 'h') { printf("usage: zkc %s %s\n", cmd, syn); return CLI_HELP; }
		else return usage(cmd, syn);
	}
	if (argc - optind != 2)
		return usage(cmd, syn);
	pos[0] = argv[optind];
	pos[1] = argv[optind + 1];
	if ((code = path_arg(cmd, pos[0])) != CLI_OK || (code = path_arg(cmd, pos[1])) != CLI_OK)
		return code;
	return CLI_OK;
}

/* The nodes of a tree as lnode_t (what load writes). */
static int tree_to_lnodes(const tree_t *t, const char *root, lnode_t **out)
{
	lnode_t *l = calloc(t->count ? t->count : 1, sizeof(*l));
	size_t i;

	if (!l)
		return -1;
	for (i = 0; i < t->count; i++) {
		const tnode_t *n = &t->nodes[i];
		const char *mode = mode_of(&n->stat);

		l[i].rel = strdup(rel(root, n->path));
		l[i].data = malloc(n->len + 1);
		if (!l[i].rel || !l[i].data) {
			lnodes_free(l, i + 1);
			return -1;
		}
		memcpy(l[i].data, n->data, n->len);
		l[i].len = n->len;
		l[i].mode = strcmp(mode, "persistent") == 0 ? ZKC_PERSISTENT : -1;
		l[i].acl = n->acl;   /* borrowed: lnodes_free is not used on these */
	}
	*out = l;
	return 0;
}

/* One difference found by diff: a line ("only in A: PATH", "data differs:
 * PATH_A PATH_B"...), or with --json an object {"what", "a", "b"} of the
 * "differences" array (nth: the number printed before it). */
static void diff_out(size_t nth, const char *what, const char *ra, const char *pa,
                     const char *rb, const char *pb)
{
	char *full;

	if (!cli_json) {
		if (!pb)
			printf("only in %s: %s%s\n", ra, ra, pa);
		else if (!pa)
			printf("only in %s: %s%s\n", rb, rb, pb);
		else
			printf("%s differs: %s%s %s%s\n", what, ra, pa, rb, pb);
		return;
	}
	printf("%s{\"what\":\"%s\"", nth ? "," : "", what);
	if (pa && asprintf(&full, "%s%s", ra, pa) >= 0) {
		printf(",\"a\":");
		cli_json_string(full, strlen(full));
		free(full);
	}
	if (pb && asprintf(&full, "%s%s", rb, pb) >= 0) {
		printf(",\"b\":");
		cli_json_string(full, strlen(full));
		free(full);
	}
	putchar('}');
}

/* zkc cp [--to-url URL] [--update] SRC DST: SRC's subtree (data, modes,
 * ACLs) written at DST, on this ensemble or another one. */
int cli_cp(int argc, char **argv)
{
	const char *syn = "[--to-url URL] [--update] SRC DST", *to_url = NULL;
	char *pos[2];
	int update = 0, code = two_path_args(argc, argv, "cp", syn, &to_url, &update, pos), rc;
	zkc_t *zk, *dst = NULL;
	tree_t t;
	lnode_t *l = NULL;
	size_t made = 0, skipped = 0, i;

	if (code != CLI_OK)
		return code;
	if (!to_url && (strcmp(pos[0], pos[1]) == 0 ||
	    (strncmp(pos[1], pos[0], strlen(pos[0])) == 0 && (pos[1][strlen(pos[0])] == '/' ||
	                                                    strcmp(pos[0], "/") == 0))))
		return cli_usage_error("cp: %s is inside the source: copy elsewhere", pos[1]);
	if (!(zk = cli_open(&code)))
		return code;
	if (to_url && !(dst = open_other(to_url, &code))) {
		zkc_close(zk);
		return code;
	}
	rc = walk(zk, pos[0], 1, &t);
	for (i = 0; rc == ZKC_OK && i < t.count; i++)
		if (acl_redacted(t.nodes[i].acl))
			rc = zkc_error_set(ZKC_ENOAUTH, "%s: the server hid a digest ACL entry's hash "
			                   "(this client has no ADMIN there): copying it would lock "
			                   "everyone out", t.nodes[i].path);
	if (rc == ZKC_OK && tree_to_lnodes(&t, pos[0], &l) != 0)
		rc = zkc_error_set(ZKC_ENOMEM, "out of memory");
	if (rc == ZKC_OK)
		rc = load_nodes(dst ? dst : zk, pos[1], l, t.count, update, &made, &skipped);
	for (i = 0; l && i < t.count; i++) {
		free(l[i].rel);
		free(l[i].data);
	}
	free(l);
	tree_free(&t);
	zkc_close(dst);
	zkc_close(zk);
	return report_load("cp", rc, made, skipped);
}

static int node_cmp(const void *a, const void *b)
{
	return strcmp(((const tnode_t *)a)->path, ((const tnode_t *)b)->path);
}

/* zkc diff [--to-url URL] A B: what differs between two subtrees (nodes on
 * one side only, data, mode, ACL). Exit 0 when they are the same, 1 when
 * they differ, as diff(1). */
int cli_diff(int argc, char **argv)
{
	const char *syn = "[--to-url URL] A B", *to_url = NULL;
	char *pos[2];
	int code = two_path_args(argc, argv, "diff", syn, &to_url, NULL, pos), rc;
	zkc_t *zk, *other = NULL;
	tree_t a, b;
	size_t i = 0, j = 0, differ = 0;

	if (code != CLI_OK)
		return code;
	if (!(zk = cli_open(&code)))
		return code;
	if (to_url && !(other = open_other(to_url, &code))) {
		zkc_close(zk);
		return code;
	}
	rc = walk(zk, pos[0], 1, &a);
	if (rc == ZKC_OK && (rc = walk(other ? other : zk, pos[1], 1, &b)) != ZKC_OK)
		tree_free(&a);
	zkc_close(other);
	zkc_close(zk);
	if (rc != ZKC_OK)
		return cli_fail("diff", rc);
	/* compare by path below each root */
	for (size_t k = 0; k < a.count; k++) {
		char *r = strdup(rel(pos[0], a.nodes[k].path));

		free(a.nodes[k].path);
		a.nodes[k].path = r;
	}
	for (size_t k = 0; k < b.count; k++) {
		char *r = strdup(rel(pos[1], b.nodes[k].path));

		free(b.nodes[k].path);
		b.nodes[k].path = r;
	}
	qsort(a.nodes, a.count, sizeof(*a.nodes), node_cmp);
	qsort(b.nodes, b.count, sizeof(*b.nodes), node_cmp);
	if (cli_json)
		printf("{\"differences\":[");
	while (i < a.count || j < b.count) {
		int c = i == a.count ? 1 : j == b.count ? -1 : strcmp(a.nodes[i].path, b.nodes[j].path);

		if (c < 0) {
			diff_out(differ++, "only_in_a", pos[0], a.nodes[i++].path, NULL, NULL);
		} else if (c > 0) {
			diff_out(differ++, "only_in_b", NULL, NULL, pos[1], b.nodes[j++].path);
		} else {
			const tnode_t *x = &a.nodes[i++], *y = &b.nodes[j++];
			json_t *ja = acl_json(x->acl), *jb = acl_json(y->acl);

			if (x->len != y->len || memcmp(x->data, y->data, x->len) != 0)
				diff_out(differ++, "data", pos[0], x->path, pos[1], y->path);
			if (strcmp(mode_of(&x->stat), mode_of(&y->stat)) != 0) {
				if (cli_json)
					diff_out(differ++, "mode", pos[0], x->path, pos[1], y->path);
				else
					printf("mode differs: %s%s (%s) %s%s (%s)\n", pos[0], x->path,
					       mode_of(&x->stat), pos[1], y->path, mode_of(&y->stat));
			}
			if (!json_equal(ja, jb))
				diff_out(differ++, "acl", pos[0], x->path, pos[1], y->path);
			json_decref(ja);
			json_decref(jb);
		}
	}
	if (cli_json)
		printf("],\"same\":%s}\n", differ ? "false" : "true");
	tree_free(&a);
	tree_free(&b);
	return differ ? CLI_FAIL : CLI_OK;
}

static const char acl_syn[] = "get [--json] PATH | set [--version V] PATH SCHEME:ID:PERMS...";

/* zkc acl get [--json] PATH: argv[0] is "get". */
static int acl_get(int argc, char **argv)
{
	zkc_acl_list_t *acl = NULL;
	int json = cli_json, i, code, rc;
	zkc_stat_t st;
	char *pos[1];
	zkc_t *zk;

	code = simple_args(argc, argv, "acl get", "[--json] PATH", "", &json, NULL, NULL, 1, pos);
	if (code != CLI_OK || (code = path_arg("acl get", pos[0])) != CLI_OK)
		return code;
	if (!(zk = cli_open(&code)))
		return code;
	rc = zkc_acl_get(&acl, &st, zk, pos[0]);
	zkc_close(zk);
	if (rc != ZKC_OK)
		return cli_fail("acl get", rc);
	if (json)
		printf("{\"aversion\": %d, \"acl\": [", (int)st.aversion);
	for (i = 0; i < acl->count; i++) {
		char p[6];

		perms_text(p, acl->acls[i].perms);
		if (json) {
			printf("%s{\"scheme\": ", i ? ", " : "");
			cli_json_string(acl->acls[i].scheme, strlen(acl->acls[i].scheme));
			printf(", \"id\": ");
			cli_json_string(acl->acls[i].id, strlen(acl->acls[i].id));
			printf(", \"perms\": \"%s\"}", p);
		} else {
			printf("%s:%s:%s\n", acl->acls[i].scheme, acl->acls[i].id, p);
		}
	}
	if (json)
		printf("]}\n");
	zkc_acl_list_free(acl);
	return CLI_OK;
}

/* SCHEME:ID:PERMS arguments (split in place) as ACL entries in e[]. */
static int acl_entries(zkc_acl_t *e, int n, char **specs)
{
	int i;

	for (i = 0; i < n; i++) {
		char *spec = specs[i], *first = strchr(spec, ':'), *last = strrchr(spec, ':');

		if (!first || first == last || first == spec || last == first + 1 ||
		    (e[i].perms = perms_parse(last + 1)) <= 0)
			return cli_usage_error("acl set: `%s' is not SCHEME:ID:PERMS "
			                       "(PERMS: letters of cdrwa)", spec);
		*first = '\0';
		*last = '\0';
		e[i].scheme = spec;
		e[i].id = first + 1;
	}
	return CLI_OK;
}

/* zkc acl set [--version V] PATH ACL...: argv[0] is "set". */
static int acl_set(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "version", required_argument, NULL, 'v' }, { NULL, 0, NULL, 0 }
	};
	int c, n, version = -1, code, rc;
	zkc_acl_list_t list;
	zkc_acl_t *e;
	zkc_t *zk;

	cli_getopt_reset("+");
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c == 'v' && cli_parse_int(optarg, -1, INT32_MAX, &version) == 0)
			continue;
		return usage("acl", acl_syn);
	}
	n = argc - optind - 1;
	if (n < 1)
		return usage("acl", acl_syn);
	if ((code = path_arg("acl set", argv[optind])) != CLI_OK)
		return code;
	if (!(e = calloc((size_t)n, sizeof(*e))))
		return cli_fail("acl set", zkc_error_set(ZKC_ENOMEM, "out of memory"));
	if ((code = acl_entries(e, n, argv + optind + 1)) == CLI_OK && (zk = cli_open(&code))) {
		list.count = n;
		list.acls = e;
		rc = zkc_acl_set(zk, argv[optind], version, &list);
		zkc_close(zk);
		code = rc == ZKC_OK ? CLI_OK : cli_fail("acl set", rc);
	}
	free(e);
	return code;
}

/* zkc acl get [--json] PATH | zkc acl set [--version V] PATH ACL... */
int cli_acl(int argc, char **argv)
{
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: zkc acl get [--json] PATH\n"
		       "       zkc acl set [--version V] PATH SCHEME:ID:PERMS...\n"
		       "  PERMS: letters of cdrwa (create delete read write admin), e.g.\n"
		       "  world:anyone:r digest:alice:HASH:cdrwa\n");
		return CLI_OK;
	}
	if (argc >= 2 && strcmp(argv[1], "get") == 0)
		return acl_get(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "set") == 0)
		return acl_set(argc - 1, argv + 1);
	return usage("acl", acl_syn);
}
