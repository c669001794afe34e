/* src/k8s_config.c - how the zk+k8s provider reaches the API server: a
 * kubeconfig (read with libyaml) or the pod's in-cluster service account.
 * Secrets are kept in memory for the HTTP layer and never put in messages. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <yaml.h>

#include "internal.h"

#define CONFIG_MAX (4 * 1024 * 1024)   /* a kubeconfig larger than this is not one */
#define TOKEN_MAX (64 * 1024)

/* ------------------------------------------------------------ files */

/* Reads a whole file (NUL-terminated); ZKC_EBADARGUMENTS naming it. */
static int read_file(char **out, size_t *out_len, const char *path, const char *what,
                     size_t max)
{
	FILE *f;
	char *buf;
	size_t n = 0, cap = 4096;

	*out = NULL;
	f = fopen(path, "rb");
	if (!f)
		return zkc__error(ZKC_EBADARGUMENTS, "Kubernetes: cannot read %s %s: %s", what, path,
		                  strerror(errno));
	buf = malloc(cap);
	while (buf) {
		size_t got = fread(buf + n, 1, cap - n - 1, f);

		n += got;
		if (got == 0)
			break;
		if (n + 1 == cap) {
			char *grown;

			if (cap > max) {
				free(buf);
				fclose(f);
				return zkc__error(ZKC_EBADARGUMENTS, "Kubernetes: %s %s is larger than "
				                  "%zu bytes", what, path, max);
			}
			grown = realloc(buf, cap * 2);
			if (!grown) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = grown;
			cap *= 2;
		}
	}
	if (!buf) {
		fclose(f);
		return zkc__error(ZKC_ENOMEM, "Kubernetes: out of memory");
	}
	if (ferror(f)) {
		int e = errno;

		free(buf);
		fclose(f);
		return zkc__error(ZKC_EBADARGUMENTS, "Kubernetes: cannot read %s %s: %s", what, path,
		                  strerror(e));
	}
	fclose(f);
	buf[n] = '\0';
	*out = buf;
	if (out_len)
		*out_len = n;
	return ZKC_OK;
}

static int file_exists(const char *path)
{
	struct stat st;

	return path && *path && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* A relative file name in a kubeconfig is relative to the file's directory
 * (as kubectl resolves it). */
static char *resolve(const char *dir, const char *name)
{
	if (!name)
		return NULL;
	if (name[0] == '/' || !dir || !*dir)
		return zkc__strdup(name);
	return zkc__sprintf("%s/%s", dir, name);
}

/* ------------------------------------------------------------ conn */

void zkc__k8s_conn_free(zkc__k8s_conn_t *c)
{
	if (!c)
		return;
	free(c->server);
	free(c->ca_file);
	free(c->ca_data);
	free(c->cert_file);
	free(c->key_file);
	free(c->cert_data);
	if (c->key_data)
		OPENSSL_cleanse(c->key_data, c->key_len);
	free(c->key_data);
	if (c->token)
		OPENSSL_cleanse(c->token, strlen(c->token));
	free(c->token);
	free(c->token_file);
	free(c->source);
	free(c);
}

static void trim(char *s)
{
	size_t n = strlen(s), i = 0;

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' ||
	                 s[n - 1] == '\t'))
		s[--n] = '\0';
	while (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')
		i++;
	if (i)
		memmove(s, s + i, n - i + 1);
}

int zkc__k8s_conn_token(char **out, const zkc__k8s_conn_t *c)
{
	char *tok = NULL;
	int rc;

	*out = NULL;
	if (c->token_file) {
		rc = read_file(&tok, NULL, c->token_file, "token file", TOKEN_MAX);
		if (rc != ZKC_OK)
			return rc;
	} else if (c->token) {
		tok = zkc__strdup(c->token);
		if (!tok)
			return zkc__error(ZKC_ENOMEM, "Kubernetes: out of memory");
	} else {
		return ZKC_OK;
	}
	trim(tok);
	for (const char *p = tok; *p; p++)
		if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e) {
			OPENSSL_cleanse(tok, strlen(tok));
			free(tok);
			return zkc__error(ZKC_EBADARGUMENTS, "Kubernetes: the bearer token%s%s has a "
			                  "space or control character", c->token_file ? " in " : "",
			                  c->token_file ? c->token_file : "");
		}
	if (!*tok) {
		free(tok);
		return zkc__error(ZKC_EBADARGUMENTS, "Kubernetes: the bearer token%s%s is empty",
		                  c->token_file ? " in " : "", c->token_file ? c->token_file : "");
	}
	*out = tok;
	return ZKC_OK;
}

/* ------------------------------------------------------------ YAML helpers */

static yaml_node_t *node(yaml_document_t *d, int id)
{
	return id ? yaml_document_get_node(d, id) : NULL;
}

static const char *scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static yaml_node_t *map_get(yaml_document_t *d, yaml_node_t *m, const char *key)
{
	if (!m || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		const char *k = scalar(node(d, p->key));

		if (k && strcmp(k, key) == 0)
			return node(d, p->value);
	}
	return NULL;
}

static const char *map_str(yaml_document_t *d, yaml_node_t *m, const char *key)
{
	const char *v = scalar(map_get(d, m, key));

	return v && *v ? v : NULL;
}

/* The `inner` mapping of the entry named `name` in a list such as
 * clusters: [{name: x, cluster: {...}}]. */
static yaml_node_t *named(yaml_document_t *d, yaml_node_t *root, const char *list,
                          const char *inner, const char *name)
{
	yaml_node_t *seq = map_get(d, root, list);

	if (!seq || seq->type != YAML_SEQUENCE_NODE)
		return NULL;
	for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top;
	     i++) {
		yaml_node_t *e = node(d, *i);
		const char *n = map_str(d, e, "name");

		if (n && strcmp(n, name) == 0) {
			yaml_node_t *in = map_get(d, e, inner);

			return in && in->type == YAML_MAPPING_NODE ? in : NULL;
		}
	}
	return NULL;
}

static int truthy(const char *v)
{
	return v && (strcmp(v, "true") == 0 || strcmp(v, "True") == 0 || strcmp(v, "TRUE") == 0 ||
	             strcmp(v, "yes") == 0 || strcmp(v, "on") == 0);
}

/* Decodes base64 (line breaks allowed) with OpenSSL's decoder. */
static int b64(unsigned char **out, size_t *out_len, const char *text, const char *what,
               const char *label)
{
	EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
	size_t n = strlen(text);
	unsigned char *buf = malloc(n / 4 * 3 + 4);
	int l1 = 0, l2 = 0, ok;

	*out = NULL;
	if (!ctx || !buf || n > INT_MAX) {
		EVP_ENCODE_CTX_free(ctx);
		free(buf);
		return zkc__error(ZKC_ENOMEM, "Kubernetes: out of memory");
	}
	EVP_DecodeInit(ctx);
	ok = EVP_DecodeUpdate(ctx, buf, &l1, (const unsigned char *)text, (int)n) >= 0 &&
	     EVP_DecodeFinal(ctx, buf + l1, &l2) >= 0;
	EVP_ENCODE_CTX_free(ctx);
	if (!ok || l1 + l2 == 0) {
		free(buf);
		return zkc__error(ZKC_EBADARGUMENTS, "Kubernetes: %s in %s is not valid base64", what,
		                  label);
	}
	buf[l1 + l2] = '\0';
	*out = buf;
	*out_len = (size_t)(l1 + l2);
	return ZKC_OK;
}

/* A file name or its -data twin: data wins, as in kubectl. */
static int file_or_data(char **out_file, unsigned char **out_data, size_t *out_len,
                        yaml_document_t *d, yaml_node_t *m, const char *key, const char *dir,
                        const char *label)
{
	char data_key[64];
	const char *data, *file;

	snprintf(data_key, sizeof(data_key), "%s-data", key);
	data = map_str(d, m, data_key);
	file = map_str(d, m, key);
	if (data)
		return b64(out_data, out_len, data, data_key, label);
	if (file) {
		*out_file = resolve(dir, file);
		if (!*out_file)
			return zkc__error(ZKC_ENOMEM, "Kubernetes: out of memory");
		if (!file_exists(*out_file))
			return zkc__error(ZKC_EBADARGUMENTS, "Kubernetes: %s %s named in %s does not "
			                  "exist", key, *out_file, label);
	}
	return ZKC_OK;
}

/* ------------------------------------------------------------ kubeconfig */

static int kc_user(zkc__k8s_conn_t *c, yaml_document_t *d, yaml_node_t *user, const char *uname,
                   const char *dir, const char *label)
{
	const char *tok, *tokfile;
	int rc;

	if (map_get(d, user, "exec") || map_get(d, user, "auth-provider"))
		return zkc__error(ZKC_ENOTSUP, "Kubernetes: user \"%.64s\" in %s authenticates with "
		                  "an exec or auth-provider plugin, which zkc does not run; give it "
		                  "a token, tokenFile or client certificate", uname, label);
	if (map_get(d, user, "username") || map_get(d, user, "password"))
		return zkc__error(ZKC_ENOTSUP, "Kubernetes: user \"%.64s\" in %s uses basic "
		                  "authentication, which zkc does not support; use a token, "
		                  "tokenFile or client certificate", uname, label);
	tok = map_str(d, user, "token");
	tokfile = map_str(d, user, "tokenFile");
	/* tokenFile wins so rotated tokens are picked up (kubectl reads the
	 * inline token first; a file is what rotates). */
	if (tokfile) {
		c->token_file = resolve(dir, tokfile);
		if (!c->token_file)
			return zkc__error(ZKC_ENOMEM, "Kubernetes: out of memory");
	} else if (tok) {
		c->token = zkc__strdup(tok);
		if (!c->token)
			return zkc__error(ZKC_ENOMEM, "Kubernetes: out of memory");
	}
	rc = file_or_data(&c->cert_file, &c->cert_data, &c->cert_len, d, user,
	                  "client-certificate", dir, label);
	if (rc == ZKC_OK)
		rc = file_or_data(&c->key_file, &c->key_data, &c->key_len, d, user, "client-key",
		                  dir, label);
	if (rc != ZKC_OK)
		return rc;
	if ((c->cert_file || c->cert_data) != (c->key_file || c->key_data))
		return zkc__error(ZKC_EBADARGUMENTS, "Kubernetes: user \"%.64s\" in %s has a client "
		                  "certificate without its key or a key without its certificate",
		                  uname, label);
	return ZKC_OK;
}

static int kc_doc(zkc__k8s_conn_t *c, yaml_document_t *d, const char *dir, const char *label)
{
	yaml_node_t *root = yaml_document_get_root_node(d), *ctx, *cluster, *user;
	const char *cur, *cname, *uname, *server;
	int rc;

	if (!root || root->type != YAML_MAPPING_NODE)
		return zkc__error(ZKC_EBADARGUMENTS, "Kubernetes: %s is not a kubeconfig (no "
		                  "mapping at the top)", label);
	cur = map_str(d, root, "current-context");
	if (!cur)
		return zkc__error(ZKC_EBADARGUMENTS, "Kubernetes: %s has no current-context", label);
	ctx = named(d, root, "contexts", "context", cur);
	if (!ctx)
		return zkc__error(ZKC_EBADARGUMENTS, "Kubernetes: %s has no context \"%.64s\" (its "
		                  "current-context)", label, cur);
	cname = map_str(d, ctx, "cluster");
	uname = map_str(d, ctx, "user");
	cluster = cname ? named(d, root, "clusters", "cluster", cname) : NULL;
	if (!cluster)
		return zkc__error(ZKC_EBADARGUMENTS, "Kubernetes: context \"%.64s\" in %s names no "
		                  "cluster that the file defines", cur, label);
	server = map_str(d, cluster, "server");
	if (!server || (strncmp(server, "https://", 8) != 0 && strncmp(server, "http://", 7) != 0))
		return zkc__error(ZKC_EBADARGUMENTS, "Kubernetes: cluster \"%.64s\" in %s has no "
		                  "https:// or http:// server", cname, label);
	c->server = zkc__strdup(server);
	c->source = zkc__sprintf("kubeconfig %s, context %s", label, cur);
	if (!c->server || !c->source)
		return zkc__error(ZKC_ENOMEM, "Kubernetes: out of memory");
	while (strlen(c->server) > 8 && c->server[strlen(c->server) - 1] == '/')
		c->server[strlen(c->server) - 1] = '\0';
	c->insecure = truthy(map_str(d, cluster, "insecure-skip-tls-verify"));
	rc = file_or_data(&c->ca_file, &c->ca_data, &c->ca_len, d, cluster,
	                  "certificate-authority", dir, label);
	if (rc != ZKC_OK)
		return rc;
	if (uname) {
		user = named(d, root, "users", "user", uname);
		if (!user)
			return zkc__error(ZKC_EBADARGUMENTS, "Kubernetes: context \"%.64s\" in %s names "
			                  "user \"%.64s\", which the file does not define", cur, label,
			                  uname);
		rc = kc_user(c, d, user, uname, dir, label);
	}
	return rc;
}

int zkc__k8s_kubeconfig_parse(zkc__k8s_conn_t **out, const char *yaml, size_t len,
                              const char *dir, const char *label)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	zkc__k8s_conn_t *c;
	int rc;

	*out = NULL;
	if (!label)
		label = "kubeconfig";
	if (!yaml_parser_initialize(&parser))
		return zkc__error(ZKC_ENOMEM, "Kubernetes: out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)(yaml ? yaml : ""),
	                             yaml ? len : 0);
	if (!yaml_parser_load(&parser, &doc)) {
		rc = zkc__error(ZKC_EBADARGUMENTS, "Kubernetes: %s is not valid YAML: %s at line "
		                "%zu, column %zu", label,
		                parser.problem ? parser.problem : "parse error",
		                parser.problem_mark.line + 1, parser.problem_mark.column + 1);
		yaml_parser_delete(&parser);
		return rc;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		rc = zkc__error(ZKC_ENOMEM, "Kubernetes: out of memory");
	} else {
		rc = kc_doc(c, &doc, dir, label);
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (rc != ZKC_OK) {
		zkc__k8s_conn_free(c);
		return rc;
	}
	*out = c;
	return ZKC_OK;
}

static int kc_load_file(zkc__k8s_conn_t **out, const char *path)
{
	char *text = NULL, *dir, *slash;
	size_t len = 0;
	int rc;

	rc = read_file(&text, &len, path, "kubeconfig", CONFIG_MAX);
	if (rc != ZKC_OK)
		return rc;
	dir = zkc__strdup(path);
	if (!dir) {
		free(text);
		return zkc__error(ZKC_ENOMEM, "Kubernetes: out of memory");
	}
	slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	else
		dir[0] = '\0';
	rc = zkc__k8s_kubeconfig_parse(out, text, len, dir, path);
	/* an inline key or token may be in the text */
	OPENSSL_cleanse(text, len);
	free(text);
	free(dir);
	return rc;
}

/* ------------------------------------------------------------ in-cluster */

static int in_cluster(zkc__k8s_conn_t **out, const zkc__k8s_env_t *env)
{
	const char *dir = env->sa_dir ? env->sa_dir : ZKC__K8S_SA_DIR;
	zkc__k8s_conn_t *c = calloc(1, sizeof(*c));
	int v6 = strchr(env->service_host, ':') != NULL;

	*out = NULL;
	if (!c)
		return zkc__error(ZKC_ENOMEM, "Kubernetes: out of memory");
	c->server = zkc__sprintf(v6 ? "https://[%s]:%s" : "https://%s:%s", env->service_host,
	                         env->service_port);
	c->ca_file = zkc__sprintf("%s/ca.crt", dir);
	c->token_file = zkc__sprintf("%s/token", dir);
	c->source = zkc__strdup("in-cluster service account");
	if (!c->server || !c->ca_file || !c->token_file || !c->source) {
		zkc__k8s_conn_free(c);
		return zkc__error(ZKC_ENOMEM, "Kubernetes: out of memory");
	}
	if (!file_exists(c->token_file) || !file_exists(c->ca_file)) {
		int rc = zkc__error(ZKC_EBADARGUMENTS, "Kubernetes: in-cluster configuration "
		                    "(KUBERNETES_SERVICE_HOST is set) needs %s and %s; is a "
		                    "service account token mounted?", c->token_file, c->ca_file);
		zkc__k8s_conn_free(c);
		return rc;
	}
	*out = c;
	return ZKC_OK;
}

int zkc__k8s_conn_load(zkc__k8s_conn_t **out, const zkc__k8s_env_t *env)
{
	if (!out || !env)
		return zkc__error(ZKC_EBADARGUMENTS, "k8s config: NULL argument");
	*out = NULL;
	if (env->kubeconfig && *env->kubeconfig)
		return kc_load_file(out, env->kubeconfig);
	if (env->kubeconfig_env && *env->kubeconfig_env) {
		/* A list as kubectl takes it; zkc does not merge files, it uses the
		 * first one that exists. */
		char *list = zkc__strdup(env->kubeconfig_env), *save = NULL;
		int rc = ZKC_OK, found = 0;

		if (!list)
			return zkc__error(ZKC_ENOMEM, "Kubernetes: out of memory");
		for (char *p = strtok_r(list, ":", &save); p; p = strtok_r(NULL, ":", &save))
			if (file_exists(p)) {
				rc = kc_load_file(out, p);
				found = 1;
				break;
			}
		free(list);
		if (found)
			return rc;
		return zkc__error(ZKC_EBADARGUMENTS, "Kubernetes: no file of KUBECONFIG exists");
	}
	if (env->service_host && *env->service_host && env->service_port && *env->service_port)
		return in_cluster(out, env);
	if (env->home && *env->home) {
		char *p = zkc__sprintf("%s/.kube/config", env->home);
		int rc;

		if (!p)
			return zkc__error(ZKC_ENOMEM, "Kubernetes: out of memory");
		if (file_exists(p)) {
			rc = kc_load_file(out, p);
			free(p);
			return rc;
		}
		free(p);
	}
	return zkc__error(ZKC_EBADARGUMENTS, "Kubernetes: no configuration: not in a pod "
	                  "(KUBERNETES_SERVICE_HOST unset), no KUBECONFIG, no ~/.kube/config "
	                  "and no kubeconfig= in the URL");
}
