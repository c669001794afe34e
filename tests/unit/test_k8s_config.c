/* tests/unit/test_k8s_config.c - how the zk+k8s provider finds the API
 * server: kubeconfig files (current-context, CA and client certificate as
 * files or base64 data, token or tokenFile), in-cluster service accounts,
 * the order between them, and a clear error for every broken config -
 * never with a secret in it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal.h"

#define SECRET "s3cr3t-t0ken-value"

static char dir[256];

static void write_file(const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *path_of(const char *name)
{
	return zkc__sprintf("%s/%s", dir, name);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/zkc_k8s_config_XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A kubeconfig whose user block is `user` (indented by 4). */
static char *kubeconfig(const char *cluster_extra, const char *user)
{
	return zkc__sprintf(
	    "apiVersion: v1\n"
	    "kind: Config\n"
	    "clusters:\n"
	    "- name: other\n"
	    "  cluster:\n"
	    "    server: https://10.9.9.9:1\n"
	    "- name: test\n"
	    "  cluster:\n"
	    "    server: https://127.0.0.1:6443/\n"
	    "%s"
	    "contexts:\n"
	    "- name: ctx\n"
	    "  context:\n"
	    "    cluster: test\n"
	    "    user: me\n"
	    "    namespace: default\n"
	    "- name: wrong\n"
	    "  context: {cluster: other, user: me}\n"
	    "current-context: ctx\n"
	    "users:\n"
	    "- name: me\n"
	    "  user:\n"
	    "%s", cluster_extra, user);
}

static zkc__k8s_conn_t *parse_ok(const char *yaml)
{
	zkc__k8s_conn_t *c = NULL;

	if (zkc__k8s_kubeconfig_parse(&c, yaml, strlen(yaml), dir, "test.kubeconfig") != ZKC_OK)
		fail_msg("kubeconfig rejected: %s", zkc_error_last()->message);
	assert_non_null(c);
	return c;
}

static void parse_bad(const char *yaml, int code, const char *frag)
{
	zkc__k8s_conn_t *c = (zkc__k8s_conn_t *)(uintptr_t)1;

	zkc_error_clear();
	assert_int_equal(zkc__k8s_kubeconfig_parse(&c, yaml, strlen(yaml), dir, "test.kubeconfig"),
	                 code);
	assert_null(c);
	if (frag && !strstr(zkc_error_last()->message, frag))
		fail_msg("message \"%s\" lacks \"%s\"", zkc_error_last()->message, frag);
	if (strstr(zkc_error_last()->message, SECRET))
		fail_msg("message \"%s\" shows the secret", zkc_error_last()->message);
}

/* ------------------------------------------------------------ kubeconfig */

static void token_and_ca_file_of_the_current_context(void **state)
{
	char *y, *tok = NULL, *ca;
	zkc__k8s_conn_t *c;
	(void)state;

	write_file("ca.crt", "-----BEGIN CERTIFICATE-----\nxx\n-----END CERTIFICATE-----\n");
	y = kubeconfig("    certificate-authority: ca.crt\n", "    token: " SECRET "\n");
	c = parse_ok(y);
	assert_string_equal(c->server, "https://127.0.0.1:6443");   /* trailing '/' gone */
	ca = path_of("ca.crt");
	assert_string_equal(c->ca_file, ca);                         /* relative to the file */
	assert_null(c->ca_data);
	assert_int_equal(zkc__k8s_conn_token(&tok, c), ZKC_OK);
	assert_string_equal(tok, SECRET);
	assert_non_null(strstr(c->source, "context ctx"));
	assert_false(c->insecure);
	free(tok), free(ca), free(y);
	zkc__k8s_conn_free(c);
}

static void base64_data_is_decoded(void **state)
{
	char *y;
	zkc__k8s_conn_t *c;
	(void)state;

	/* "PEM-CA\n", "PEM-CERT", "PEM-KEY" in base64, one with a line break */
	y = kubeconfig("    certificate-authority-data: UEVNLUNBCg==\n"
	               "    insecure-skip-tls-verify: true\n",
	               "    client-certificate-data: UEVNLUNF\n      UlQ=\n"
	               "    client-key-data: UEVNLUtFWQ==\n");
	c = parse_ok(y);
	assert_int_equal(c->ca_len, 7);
	assert_memory_equal(c->ca_data, "PEM-CA\n", 7);
	assert_int_equal(c->cert_len, 8);
	assert_memory_equal(c->cert_data, "PEM-CERT", 8);
	assert_int_equal(c->key_len, 7);
	assert_memory_equal(c->key_data, "PEM-KEY", 7);
	assert_null(c->token);
	assert_null(c->token_file);
	assert_true(c->insecure);
	free(y);
	zkc__k8s_conn_free(c);
}

static void token_file_is_read_again_each_time(void **state)
{
	char *y, *tok = NULL;
	zkc__k8s_conn_t *c;
	(void)state;

	write_file("token", "first-token\n");
	y = kubeconfig("", "    token: inline-ignored\n    tokenFile: token\n");
	c = parse_ok(y);
	assert_int_equal(zkc__k8s_conn_token(&tok, c), ZKC_OK);
	assert_string_equal(tok, "first-token");
	free(tok);
	write_file("token", "  rotated-token \r\n");   /* a bound token rotates */
	assert_int_equal(zkc__k8s_conn_token(&tok, c), ZKC_OK);
	assert_string_equal(tok, "rotated-token");
	free(tok);
	write_file("token", "two words " SECRET "\n");
	assert_int_equal(zkc__k8s_conn_token(&tok, c), ZKC_EBADARGUMENTS);
	assert_null(tok);
	assert_non_null(strstr(zkc_error_last()->message, "space or control"));
	assert_null(strstr(zkc_error_last()->message, SECRET));
	write_file("token", "\n");
	assert_int_equal(zkc__k8s_conn_token(&tok, c), ZKC_EBADARGUMENTS);
	assert_non_null(strstr(zkc_error_last()->message, "is empty"));
	{
		char *p = path_of("token");

		unlink(p);
		free(p);
	}
	assert_int_equal(zkc__k8s_conn_token(&tok, c), ZKC_EBADARGUMENTS);
	assert_non_null(strstr(zkc_error_last()->message, "cannot read token file"));
	free(y);
	zkc__k8s_conn_free(c);
}

static void broken_kubeconfigs_say_what_is_wrong(void **state)
{
	char *y;
	(void)state;

	parse_bad("", ZKC_EBADARGUMENTS, "not a kubeconfig");
	parse_bad("- a\n- b\n", ZKC_EBADARGUMENTS, "not a kubeconfig");
	parse_bad("clusters: [\n  token: " SECRET "\n", ZKC_EBADARGUMENTS, "not valid YAML");
	parse_bad("apiVersion: v1\nclusters: []\n", ZKC_EBADARGUMENTS, "no current-context");
	parse_bad("current-context: nope\ncontexts: []\n", ZKC_EBADARGUMENTS,
	          "no context \"nope\"");
	parse_bad("current-context: c\ncontexts:\n- name: c\n  context: {cluster: x}\n",
	          ZKC_EBADARGUMENTS, "names no cluster");
	parse_bad("current-context: c\ncontexts:\n- name: c\n  context: {cluster: x}\n"
	          "clusters:\n- name: x\n  cluster: {server: ftp://h}\n", ZKC_EBADARGUMENTS,
	          "no https:// or http:// server");
	parse_bad("current-context: c\ncontexts:\n- name: c\n  context: {cluster: x, user: u}\n"
	          "clusters:\n- name: x\n  cluster: {server: 'https://h'}\n", ZKC_EBADARGUMENTS,
	          "user \"u\", which the file does not define");

	y = kubeconfig("    certificate-authority: missing.crt\n", "    token: t\n");
	parse_bad(y, ZKC_EBADARGUMENTS, "missing.crt named in test.kubeconfig does not exist");
	free(y);
	y = kubeconfig("    certificate-authority-data: '!!!not base64'\n", "    token: t\n");
	parse_bad(y, ZKC_EBADARGUMENTS, "certificate-authority-data in test.kubeconfig is not "
	          "valid base64");
	free(y);
	y = kubeconfig("", "    exec:\n      command: aws\n      args: [eks, get-token]\n");
	parse_bad(y, ZKC_ENOTSUP, "exec or auth-provider plugin");
	free(y);
	y = kubeconfig("", "    username: admin\n    password: " SECRET "\n");
	parse_bad(y, ZKC_ENOTSUP, "basic authentication");
	free(y);
	y = kubeconfig("", "    client-certificate-data: UEVN\n    token: " SECRET "\n");
	parse_bad(y, ZKC_EBADARGUMENTS, "without its key");
	free(y);
}

/* YAML aliases are shared nodes in libyaml's document model, so a
 * "billion laughs" file costs nothing to read. */
static void yaml_aliases_do_not_blow_up(void **state)
{
	const char *y =
	    "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
	    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
	    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
	    "current-context: *d\n";
	(void)state;

	parse_bad(y, ZKC_EBADARGUMENTS, "no current-context");
}

/* ------------------------------------------------------------ where the config comes from */

static void load_order_option_env_incluster_home(void **state)
{
	zkc__k8s_env_t env;
	zkc__k8s_conn_t *c = NULL;
	char *y, *kc, *home_kube, *sa, *list;
	(void)state;

	y = kubeconfig("", "    token: t\n");
	write_file("kc1", y);
	free(y);
	kc = path_of("kc1");

	memset(&env, 0, sizeof(env));
	env.kubeconfig = kc;
	env.kubeconfig_env = "/nonexistent";
	env.service_host = "10.96.0.1";
	env.service_port = "443";
	assert_int_equal(zkc__k8s_conn_load(&c, &env), ZKC_OK);
	assert_non_null(strstr(c->source, "kc1"));
	zkc__k8s_conn_free(c);

	/* $KUBECONFIG: the first file of the list that exists */
	env.kubeconfig = NULL;
	list = zkc__sprintf("/nonexistent/a:%s:/nonexistent/b", kc);
	env.kubeconfig_env = list;
	assert_int_equal(zkc__k8s_conn_load(&c, &env), ZKC_OK);
	assert_non_null(strstr(c->source, "kc1"));
	zkc__k8s_conn_free(c);
	env.kubeconfig_env = "/nonexistent/a:/nonexistent/b";
	assert_int_equal(zkc__k8s_conn_load(&c, &env), ZKC_EBADARGUMENTS);
	assert_non_null(strstr(zkc_error_last()->message, "no file of KUBECONFIG"));

	/* in a pod: the service account */
	env.kubeconfig_env = NULL;
	sa = path_of("sa");
	mkdir(sa, 0700);
	env.sa_dir = sa;
	assert_int_equal(zkc__k8s_conn_load(&c, &env), ZKC_EBADARGUMENTS);
	assert_non_null(strstr(zkc_error_last()->message, "service account token mounted"));
	write_file("sa/token", "pod-token\n");
	write_file("sa/ca.crt", "pem\n");
	assert_int_equal(zkc__k8s_conn_load(&c, &env), ZKC_OK);
	assert_string_equal(c->server, "https://10.96.0.1:443");
	assert_string_equal(c->source, "in-cluster service account");
	{
		char *tok = NULL;

		assert_int_equal(zkc__k8s_conn_token(&tok, c), ZKC_OK);
		assert_string_equal(tok, "pod-token");
		free(tok);
	}
	zkc__k8s_conn_free(c);
	env.service_host = "fd00::1";
	assert_int_equal(zkc__k8s_conn_load(&c, &env), ZKC_OK);
	assert_string_equal(c->server, "https://[fd00::1]:443");
	zkc__k8s_conn_free(c);

	/* outside a pod: ~/.kube/config */
	env.service_host = env.service_port = NULL;
	env.home = dir;
	home_kube = path_of(".kube");
	mkdir(home_kube, 0700);
	y = kubeconfig("", "    token: t\n");
	write_file(".kube/config", y);
	free(y);
	assert_int_equal(zkc__k8s_conn_load(&c, &env), ZKC_OK);
	assert_non_null(strstr(c->source, ".kube/config"));
	zkc__k8s_conn_free(c);

	/* nothing at all */
	env.home = "/nonexistent";
	assert_int_equal(zkc__k8s_conn_load(&c, &env), ZKC_EBADARGUMENTS);
	assert_non_null(strstr(zkc_error_last()->message, "no configuration"));
	assert_null(c);
	env.kubeconfig = "/nonexistent/kubeconfig";
	assert_int_equal(zkc__k8s_conn_load(&c, &env), ZKC_EBADARGUMENTS);
	assert_non_null(strstr(zkc_error_last()->message, "cannot read kubeconfig "
	                       "/nonexistent/kubeconfig"));
	free(kc), free(list), free(sa), free(home_kube);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(token_and_ca_file_of_the_current_context),
		cmocka_unit_test(base64_data_is_decoded),
		cmocka_unit_test(token_file_is_read_again_each_time),
		cmocka_unit_test(broken_kubeconfigs_say_what_is_wrong),
		cmocka_unit_test(yaml_aliases_do_not_blow_up),
		cmocka_unit_test(load_order_option_env_incluster_home),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
