/* tests/harness/kube.c - runs tests/k8s/apiserver.sh for a test (start,
 * restart, stop) and sends it requests with libcurl and the admin token. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

#include "kube.h"

#ifndef ZKC_TOP_SRCDIR
#define ZKC_TOP_SRCDIR "."
#endif

#define PATH_LEN 512

struct harness_kube {
	char dir[64];
	char script[PATH_LEN];
	char server[128];
	char ca[PATH_LEN];
	char token_file[PATH_LEN];
	char admin_token[512];
	int running;
};

static int is_file(const char *p, int exec)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISREG(st.st_mode) && (!exec || access(p, X_OK) == 0);
}

/* The scripts: $ZKC_K8S_SCRIPTS (another worktree before a merge), else
 * this tree's tests/k8s. */
static int find_script(harness_kube_t *k)
{
	const char *dir = getenv("ZKC_K8S_SCRIPTS");

	snprintf(k->script, sizeof(k->script), "%s/apiserver.sh",
	         dir && *dir ? dir : ZKC_TOP_SRCDIR "/tests/k8s");
	if (is_file(k->script, 1))
		return 0;
	fprintf(stderr, "# harness: %s not found (set ZKC_K8S_SCRIPTS to the directory of "
	        "apiserver.sh)\n", k->script);
	return -1;
}

static int check_binaries(void)
{
	const char *cache = getenv("ZKC_K8S_CACHE"), *home = getenv("HOME");
	static const char *const need[] = { "kube-apiserver", "etcd" };
	char bin[PATH_LEN], p[PATH_LEN + 32];
	int ok = 1;

	if (cache && *cache)
		snprintf(bin, sizeof(bin), "%s/bin", cache);
	else
		snprintf(bin, sizeof(bin), "%s/.cache/zkc-k8s/bin", home ? home : "");
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", bin, need[i]);
		if (!is_file(p, 1)) {
			fprintf(stderr, "# harness: %s is missing: run tests/k8s/build.sh first (it "
			        "builds kube-apiserver into %s; CI runs it before the tests)\n", p, bin);
			ok = 0;
		}
	}
	return ok ? 0 : -1;
}

static int run_script(harness_kube_t *k, const char *args)
{
	char cmd[PATH_LEN * 2];
	int st;

	/* The script's own messages (and a failing server's log tail) go to
	 * stderr, which the test log keeps. */
	snprintf(cmd, sizeof(cmd), "'%s' %s 1>&2", k->script, args);
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "# harness: `%s` failed (status %d)\n", cmd, st);
		return -1;
	}
	return 0;
}

static int read_first_line(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -1;
	if (!fgets(buf, (int)cap, f))
		buf[0] = '\0';
	fclose(f);
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	return 0;
}

/* DIR/env: KEY=VALUE lines. */
static int load_env(harness_kube_t *k)
{
	char path[PATH_LEN], line[PATH_LEN], admin_file[PATH_LEN] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/env", k->dir);
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "# harness: cannot read %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *eq = strchr(line, '='), *v;

		if (!eq)
			continue;
		*eq = '\0';
		v = eq + 1;
		v[strcspn(v, "\r\n")] = '\0';
		if (strcmp(line, "KUBE_SERVER") == 0)
			snprintf(k->server, sizeof(k->server), "%s", v);
		else if (strcmp(line, "KUBE_CA") == 0)
			snprintf(k->ca, sizeof(k->ca), "%s", v);
		else if (strcmp(line, "KUBE_TOKEN_FILE") == 0)
			snprintf(k->token_file, sizeof(k->token_file), "%s", v);
		else if (strcmp(line, "KUBE_ADMIN_TOKEN_FILE") == 0)
			snprintf(admin_file, sizeof(admin_file), "%s", v);
	}
	fclose(f);
	if (!*k->server || !*k->ca || !*k->token_file || !*admin_file ||
	    read_first_line(admin_file, k->admin_token, sizeof(k->admin_token)) != 0) {
		fprintf(stderr, "# harness: %s lacks KUBE_SERVER, KUBE_CA, KUBE_TOKEN_FILE or a "
		        "readable KUBE_ADMIN_TOKEN_FILE\n", path);
		return -1;
	}
	return 0;
}

int harness_kube_start(harness_kube_t **out)
{
	harness_kube_t *k = calloc(1, sizeof(*k));
	char args[PATH_LEN];

	*out = NULL;
	if (!k)
		return -1;
	if (find_script(k) != 0 || check_binaries() != 0) {
		free(k);
		return -1;
	}
	snprintf(k->dir, sizeof(k->dir), "/tmp/zkc_kube_XXXXXX");
	if (!mkdtemp(k->dir)) {
		fprintf(stderr, "# harness: mkdtemp: %s\n", strerror(errno));
		free(k);
		return -1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	/* --owner: the servers go when this process does, even on a crash. */
	snprintf(args, sizeof(args), "start %s --owner %ld", k->dir, (long)getpid());
	k->running = 1;
	if (run_script(k, args) != 0 || load_env(k) != 0) {
		harness_kube_stop(k);
		return -1;
	}
	*out = k;
	return 0;
}

int harness_kube_restart(harness_kube_t *k, const char *new_token)
{
	char args[PATH_LEN];

	if (new_token)
		snprintf(args, sizeof(args), "restart %s --token %s", k->dir, new_token);
	else
		snprintf(args, sizeof(args), "restart %s", k->dir);
	return run_script(k, args);
}

void harness_kube_stop(harness_kube_t *k)
{
	char args[PATH_LEN];

	if (!k)
		return;
	if (k->running) {
		snprintf(args, sizeof(args), "stop %s", k->dir);
		run_script(k, args);
	}
	if (!getenv("ZKC_TEST_KEEP")) {
		snprintf(args, sizeof(args), "rm -rf '%s'", k->dir);
		if (system(args) != 0)
			fprintf(stderr, "# harness: could not remove %s\n", k->dir);
	} else {
		fprintf(stderr, "# harness: kept %s\n", k->dir);
	}
	free(k);
}

const char *harness_kube_dir(const harness_kube_t *k) { return k->dir; }
const char *harness_kube_server(const harness_kube_t *k) { return k->server; }
const char *harness_kube_ca(const harness_kube_t *k) { return k->ca; }
const char *harness_kube_token_file(const harness_kube_t *k) { return k->token_file; }

typedef struct body {
	char *p;
	size_t n;
} body_t;

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
	body_t *b = ud;
	size_t n = size * nmemb;
	char *g = realloc(b->p, b->n + n + 1);

	if (!g)
		return 0;
	b->p = g;
	memcpy(b->p + b->n, ptr, n);
	b->n += n;
	b->p[b->n] = '\0';
	return n;
}

long harness_kube_request(harness_kube_t *k, const char *method, const char *path,
                          const char *body, const char *content_type, char **out)
{
	CURL *e = curl_easy_init();
	struct curl_slist *hd = NULL;
	char url[PATH_LEN * 2], auth[600], ct[128];
	body_t b = { NULL, 0 };
	long status = 0;
	CURLcode rc;

	if (out)
		*out = NULL;
	if (!e)
		return 0;
	snprintf(url, sizeof(url), "%s%s", k->server, path);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", k->admin_token);
	snprintf(ct, sizeof(ct), "Content-Type: %s", content_type ? content_type : "application/json");
	hd = curl_slist_append(hd, auth);
	hd = curl_slist_append(hd, ct);
	hd = curl_slist_append(hd, "Accept: application/json");
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hd);
	curl_easy_setopt(e, CURLOPT_CAINFO, k->ca);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 30000L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
	if (body)
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	rc = curl_easy_perform(e);
	if (rc == CURLE_OK)
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	else
		fprintf(stderr, "# harness: %s %s: %s\n", method, path, curl_easy_strerror(rc));
	curl_slist_free_all(hd);
	curl_easy_cleanup(e);
	if (out)
		*out = b.p;
	else
		free(b.p);
	return status;
}
