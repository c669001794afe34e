/* tests/fuzz/fuzz_k8s.c - libFuzzer target for the zk+k8s parsers that
 * take the API server's and the user's input: EndpointSlice lists, the
 * watch stream (split at every byte position the input picks) and
 * kubeconfig YAML. Any crash, leak, hang or undefined behaviour is a bug;
 * a token in a kubeconfig must never appear in an error message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_line(void *ctx, const char *line, size_t len)
{
	zkc__k8s_set_t *s = ctx;
	zkc__k8s_event_t ev;

	zkc__k8s_apply_event(s, line, len, &ev);
	return ZKC_OK;
}

/* Occurrences of word in the input. */
static int count(const uint8_t *data, size_t size, const char *word)
{
	size_t wl = strlen(word);
	const uint8_t *p = data, *end = data + size;
	int n = 0;

	while (p < end && (p = memmem(p, (size_t)(end - p), word, wl)) != NULL) {
		n++;
		p += wl;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	zkc__k8s_set_t s;
	zkc__k8s_lines_t l = { 0 };
	zkc__k8s_conn_t *c = NULL;
	char *list = NULL;
	size_t cut = size ? data[0] % (size + 1) : 0;

	/* the whole input as a list, then as a stream in two chunks */
	zkc__k8s_set_init(&s, 2181);
	zkc__k8s_parse_list(&s, text, size);
	l.max = 1 << 16;
	if (zkc__k8s_lines_feed(&l, text, cut, on_line, &s) == ZKC_OK)
		zkc__k8s_lines_feed(&l, text + cut, size - cut, on_line, &s);
	zkc__k8s_lines_end(&l);
	if (zkc__k8s_servers(&list, NULL, &s, data[size ? size - 1 : 0] & 1) == ZKC_OK &&
	    strlen(list) > (size_t)ZKC__K8S_MAX_SERVERS * 300)
		abort();
	free(list);
	zkc__k8s_set_clear(&s);

	/* as a kubeconfig; "fuzztoken" as a token must not leak into errors
	 * (checked only when the input holds it once, as the token: a context
	 * or user may be named so, and errors rightly quote names) */
	if (zkc__k8s_kubeconfig_parse(&c, text, size, "/nonexistent", "fuzz") == ZKC_OK)
		zkc__k8s_conn_free(c);
	else if (count(data, size, "fuzztoken") == 1 && memmem(data, size, "token: fuzztoken", 16) &&
	         strstr(zkc_error_last()->message, "fuzztoken"))
		abort();
	return 0;
}
