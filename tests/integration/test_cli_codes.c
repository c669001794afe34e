/* tests/integration/test_cli_codes.c - the exit status table of
 * docs/cli.md against the program: `zkc --help` lists the same codes, and
 * the program really exits with each one, driven against a real ensemble. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "proxy.h"

#ifndef ZKC_TOP_SRCDIR
#define ZKC_TOP_SRCDIR "."
#endif

#define MAX_CODES 64

static int run(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int run(char **out, const char *fmt, ...)
{
	char args[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	return h_run_zkc(out, h_url(), args);
}

/* The codes of the "## Exit status" table of docs/cli.md, in order. */
static int doc_codes(int *codes)
{
	FILE *f = fopen(ZKC_TOP_SRCDIR "/docs/cli.md", "r");
	char line[1024];
	int n = 0, in = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		int code;

		if (strncmp(line, "## ", 3) == 0)
			in = strcmp(line, "## Exit status\n") == 0;
		else if (in && sscanf(line, "| %d |", &code) == 1 && n < MAX_CODES)
			codes[n++] = code;
	}
	fclose(f);
	return n;
}

/* The codes `zkc --help` lists under "exit status". */
static int help_codes(int *codes)
{
	char *out = NULL, *p;
	int n = 0;

	assert_int_equal(h_run_zkc(&out, NULL, "--help"), 0);
	p = strstr(out, "\nexit status");
	assert_non_null(p);
	for (p = strchr(p + 1, '\n'); p && p[1]; p = strchr(p + 1, '\n')) {
		int code;

		if (sscanf(p + 1, " %d ", &code) == 1 && n < MAX_CODES)
			codes[n++] = code;
	}
	free(out);
	return n;
}

static void test_help_lists_the_documented_codes(void **state)
{
	int doc[MAX_CODES], help[MAX_CODES], nd = doc_codes(doc), nh = help_codes(help), i;
	(void)state;

	assert_true(nd >= 10);
	assert_int_equal(nd, nh);
	for (i = 0; i < nd; i++)
		assert_int_equal(doc[i], help[i]);
}

/* A fault proxy loses the reply of the create: the CLI cannot know whether
 * the sequential node was made (it was), and says so with 9. */
static int drive_unknown(const char *base)
{
	h_proxy_t *px = NULL;
	h_proxy_stats_t ps;
	char url[128], *out = NULL;
	int code;

	H_NEED_OWN_ENSEMBLE();
	assert_int_equal(h_proxy_to_node(&px, 0), 0);
	snprintf(url, sizeof(url), "zk://127.0.0.1:%d?session_timeout=30s", h_proxy_port(px));
	h_proxy_lose_next_reply(px);
	code = run(NULL, "--url '%s' create -s %s/n- 2>/dev/null", url, base);
	h_proxy_stats(&ps, px);
	assert_true(ps.replies_lost >= 1);
	h_proxy_free(px);
	/* the server did make it, under the name asked for */
	assert_int_equal(run(&out, "ls %s", base), 0);
	assert_non_null(strstr(out, "\nn-0000000"));
	free(out);
	return code;
}

/* Makes the program exit with `code`; returns what it exited with. */
static int drive(int code, const char *base)
{
	switch (code) {
	case 0: return run(NULL, "ls / >/dev/null");
	case 1:   /* diff of two subtrees that differ */
		run(NULL, "create %s/d1/x 2>/dev/null --parents >/dev/null", base);
		run(NULL, "create %s/d2 >/dev/null", base);
		return run(NULL, "diff %s/d1 %s/d2 >/dev/null", base, base);
	case 2: return run(NULL, "frobnicate 2>/dev/null");
	case 3: return run(NULL, "get %s/none 2>/dev/null", base);
	case 4: return run(NULL, "create %s 2>/dev/null", base);
	case 5: return run(NULL, "set --version 7 %s x 2>/dev/null", base);
	case 6:
		assert_int_equal(run(NULL, "create %s/ro", base), 0);
		assert_int_equal(run(NULL, "acl set %s/ro world:anyone:r", base), 0);
		return run(NULL, "set %s/ro x 2>/dev/null", base);
	case 7: return h_run_zkc(NULL, "zk://127.0.0.1:1?connect_timeout=1s", "ls / 2>/dev/null");
	case 8: return run(NULL, "rm %s 2>/dev/null", base);
	case 9: return drive_unknown(base);
	case 10:
		assert_int_equal(run(NULL, "index create %s/ix color >/dev/null", base), 0);
		assert_int_equal(run(NULL, "create %s/ix/records/00/junk xx >/dev/null", base), 0);
		return run(NULL, "index verify %s/ix >/dev/null 2>&1", base);
	case 124:
		assert_int_equal(run(NULL, "queue put %s/q one >/dev/null", base), 0);
		assert_int_equal(run(NULL, "queue take --delete %s/q >/dev/null", base), 0);
		return run(NULL, "queue take %s/q 2>/dev/null", base);
	case 126: return run(NULL, "lock %s/lk -- /dev/null 2>/dev/null", base);
	case 127: return run(NULL, "lock %s/lk -- /nonexistent/zkc-test-cmd 2>/dev/null", base);
	case 128: return run(NULL, "lock %s/lk -- sh -c 'kill -TERM $$'", base) - SIGTERM;
	default:
		fail_msg("docs/cli.md lists exit code %d, which this test cannot drive: "
		         "add a way to make zkc exit with it", code);
		return -1;
	}
}

static void test_every_documented_code_is_what_the_program_does(void **state)
{
	char *base = h_path("clicodes");
	int codes[MAX_CODES], n = doc_codes(codes), i;
	(void)state;

	assert_int_equal(run(NULL, "create %s >/dev/null", base), 0);
	for (i = 0; i < n; i++) {
		int got = drive(codes[i], base);

		if (got != codes[i])
			fail_msg("exit code %d of docs/cli.md: the program exited %d", codes[i], got);
	}
	assert_int_equal(run(NULL, "rm -r %s", base), 0);
	free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_help_lists_the_documented_codes),
		cmocka_unit_test(test_every_documented_code_is_what_the_program_does),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, h_setup_shared, h_teardown);
}
