/* tools/cli_common.c - what every `zkc` command does the same way: exit
 * codes from zkc codes, opening the client (--url, else $ZKC_URL), times
 * in ISO 8601, and checking that the output was written. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdio_ext.h>
#include <string.h>
#include <time.h>

#include "cli.h"

int cli_json;

int cli_fail(const char *what, int code)
{
	const zkc_error_t *e = zkc_error_last();

	if (code == ZKC_OK)
		return CLI_OK;
	/* the detail only when it belongs to this failure: an older one left
	 * on the thread would explain something else */
	fprintf(stderr, "zkc: %s: %s (%s)\n", what, e->code == code && e->message[0] ?
	        e->message : zkc_strerror(code), zkc_strcode(code));
	switch (code) {
	case ZKC_ENONODE: return CLI_NONODE;
	case ZKC_ENODEEXISTS: return CLI_EXISTS;
	case ZKC_EBADVERSION: return CLI_BADVERSION;
	case ZKC_ENOAUTH: case ZKC_EAUTHFAILED: case ZKC_EINVALIDACL: return CLI_NOAUTH;
	case ZKC_ETIMEDOUT: case ZKC_ECONNECTIONLOSS: case ZKC_ESESSIONEXPIRED:
	case ZKC_ETLS: return CLI_CONNECT;
	case ZKC_ENOTEMPTY: return CLI_NOTEMPTY;
	case ZKC_EUNKNOWN: return CLI_UNKNOWN;
	case ZKC_EBADARGUMENTS: case ZKC_EURL: case ZKC_ETOOLARGE: return CLI_USAGE;
	default: return CLI_FAIL;
	}
}

zkc_t *cli_open_url(const char *what, const char *url, const zkc_options_t *o,
                    int *exit_code)
{
	zkc_t *zk = NULL;
	int rc;

	if (cli_parse_only) {
		*exit_code = CLI_PARSED;
		return NULL;
	}
	if ((rc = zkc_open(&zk, url, o)) != ZKC_OK) {
		*exit_code = cli_fail(what, rc);
		return NULL;
	}
	return zk;
}

zkc_t *cli_open(int *exit_code)
{
	return cli_open_url("connect", NULL, NULL, exit_code);
}

int cli_usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "zkc: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry `zkc --help'.\n");
	return CLI_USAGE;
}

char *cli_name_path(const char *prefix, const char *name)
{
	size_t n = strlen(prefix) + strlen(name) + 1;
	char *p = malloc(n);

	if (p)
		snprintf(p, n, "%s%s", name[0] == '/' ? "" : prefix, name);
	return p;
}

char *cli_url_chroot(const char *url)
{
	const char *p = url ? strstr(url, "://") : NULL, *slash, *end;
	char *out;

	if (!p)
		return NULL;
	p += 3;
	end = p + strcspn(p, "?#");
	slash = memchr(p, '/', (size_t)(end - p));
	if (!slash || end - slash < 2)
		return NULL;   /* no chroot, or "/" */
	out = strndup(slash, (size_t)(end - slash));
	if (out && strlen(out) > 1 && out[strlen(out) - 1] == '/')
		out[strlen(out) - 1] = '\0';
	return out;
}

char *cli_iso_time(char *buf, size_t size, int64_t ms)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	char day[32];

	if (ms < 0 || !gmtime_r(&secs, &tm) ||
	    strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		snprintf(buf, size, "%lld", (long long)ms);
	else
		snprintf(buf, size, "%s.%03dZ", day, (int)(ms % 1000));
	return buf;
}

int cli_output_done(int code)
{
	int failed, err = 0;
	size_t pending = __fpending(stdout);

	errno = 0;
	failed = fflush(stdout) != 0 || ferror(stdout);
	err = errno;
	/* a closed stdout that nothing was written to is no error */
	if (fclose(stdout) != 0 && !failed && (pending || errno != EBADF)) {
		failed = 1;
		err = errno;
	}
	if (!failed)
		return code;
	fprintf(stderr, "zkc: cannot write the output: %s\n", strerror(err ? err : EIO));
	return code == CLI_OK ? CLI_FAIL : code;
}

int cli_watch_arm(zkc_t *zk, const char *path, int node, int kids)
{
	zkc_strings_t *list = NULL;
	int rc = ZKC_OK;

	if (node) {
		rc = zkc_exists_w(NULL, zk, path, NULL, CLI_WATCH_NODE);
		if (rc != ZKC_OK && rc != ZKC_ENONODE)
			return rc;
	}
	if (kids) {
		rc = zkc_children_w(&list, NULL, zk, path, NULL, CLI_WATCH_KIDS);
		zkc_strings_free(list);
	}
	return rc == ZKC_ENONODE ? ZKC_OK : rc;
}
