/* tests/harness/kube.h - a real kube-apiserver (etcd + kube-apiserver on
 * 127.0.0.1, from tests/k8s/apiserver.sh) that a test starts, restarts and
 * talks to with the admin token, so zk+k8s:// is tested against the real
 * API instead of a fake. */
#ifndef ZKC_HARNESS_KUBE_H
#define ZKC_HARNESS_KUBE_H

typedef struct harness_kube harness_kube_t;

/* Starts the API server in a fresh directory. The scripts are found in
 * $ZKC_K8S_SCRIPTS, else in the source tree's tests/k8s; the binaries in
 * ${ZKC_K8S_CACHE:-$HOME/.cache/zkc-k8s}/bin. Returns 0 with *out set, -1
 * with the reason on stderr - including "run tests/k8s/build.sh" when the
 * binaries are missing: a test must fail then, not skip. */
int harness_kube_start(harness_kube_t **out);

/* Restarts kube-apiserver only, on the same port (stored objects and
 * resourceVersions survive); with new_token, only it and the admin token
 * are accepted afterwards (DIR/token is not rewritten). 0 or -1. */
int harness_kube_restart(harness_kube_t *k, const char *new_token);

/* Stops both servers; removes the directory unless ZKC_TEST_KEEP=1. */
void harness_kube_stop(harness_kube_t *k);

/* The directory (ca.crt, token, ...), the server URL, the CA file, the
 * test token's file (rewritten by the test to rotate it). */
const char *harness_kube_dir(const harness_kube_t *k);
const char *harness_kube_server(const harness_kube_t *k);
const char *harness_kube_ca(const harness_kube_t *k);
const char *harness_kube_token_file(const harness_kube_t *k);

/* One API request with the admin token: method, path ("/api/v1/..."), a
 * JSON body or NULL, its content type (NULL: application/json). Returns
 * the HTTP status (0 when no answer) and the body in *out (malloc'd; may
 * be NULL). */
long harness_kube_request(harness_kube_t *k, const char *method, const char *path,
                          const char *body, const char *content_type, char **out);

#endif
