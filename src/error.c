/* src/error.c - status codes, their names, and the thread-local detail of
 * the last failure (zkc_error_last), plus the small release helpers. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zookeeper/zookeeper.h>

#include "internal.h"

/* Messages quote at most a few hundred bytes of input; one that still does
 * not fit is cut and ends in "...". */
#define ERROR_MSG_MAX 1024

static _Thread_local char tl_message[ERROR_MSG_MAX];
static _Thread_local zkc_error_t tl_error;

struct code_info {
	int code;
	const char *name;
	const char *text;
};

static const struct code_info codes[] = {
	{ ZKC_OK, "ZKC_OK", "success" },
	{ ZKC_ESYSTEM, "ZKC_ESYSTEM", "system error" },
	{ ZKC_ERUNTIMEINCONSISTENCY, "ZKC_ERUNTIMEINCONSISTENCY", "runtime inconsistency" },
	{ ZKC_EDATAINCONSISTENCY, "ZKC_EDATAINCONSISTENCY", "data inconsistency" },
	{ ZKC_ECONNECTIONLOSS, "ZKC_ECONNECTIONLOSS", "connection lost; outcome not known" },
	{ ZKC_EMARSHALLING, "ZKC_EMARSHALLING", "marshalling error" },
	{ ZKC_EUNIMPLEMENTED, "ZKC_EUNIMPLEMENTED", "operation not implemented" },
	{ ZKC_EOPERATIONTIMEOUT, "ZKC_EOPERATIONTIMEOUT", "operation timed out" },
	{ ZKC_EBADARGUMENTS, "ZKC_EBADARGUMENTS", "invalid argument" },
	{ ZKC_EINVALIDSTATE, "ZKC_EINVALIDSTATE", "invalid state" },
	{ ZKC_ENEWCONFIGNOQUORUM, "ZKC_ENEWCONFIGNOQUORUM", "no quorum for the new configuration" },
	{ ZKC_ERECONFIGINPROGRESS, "ZKC_ERECONFIGINPROGRESS", "reconfiguration in progress" },
	{ ZKC_ESSLCONNECTION, "ZKC_ESSLCONNECTION", "SSL connection error" },
	{ ZKC_EAPI, "ZKC_EAPI", "ZooKeeper API error" },
	{ ZKC_ENONODE, "ZKC_ENONODE", "no such node" },
	{ ZKC_ENOAUTH, "ZKC_ENOAUTH", "not authorized" },
	{ ZKC_EBADVERSION, "ZKC_EBADVERSION", "version conflict" },
	{ ZKC_ENOCHILDRENFOREPHEMERALS, "ZKC_ENOCHILDRENFOREPHEMERALS",
	  "ephemeral nodes may not have children" },
	{ ZKC_ENODEEXISTS, "ZKC_ENODEEXISTS", "node already exists" },
	{ ZKC_ENOTEMPTY, "ZKC_ENOTEMPTY", "node has children" },
	{ ZKC_ESESSIONEXPIRED, "ZKC_ESESSIONEXPIRED", "session expired" },
	{ ZKC_EINVALIDCALLBACK, "ZKC_EINVALIDCALLBACK", "invalid callback" },
	{ ZKC_EINVALIDACL, "ZKC_EINVALIDACL", "invalid ACL" },
	{ ZKC_EAUTHFAILED, "ZKC_EAUTHFAILED", "authentication failed" },
	{ ZKC_ECLOSING, "ZKC_ECLOSING", "ZooKeeper handle is closing" },
	{ ZKC_ENOTHING, "ZKC_ENOTHING", "no server responses to process" },
	{ ZKC_ESESSIONMOVED, "ZKC_ESESSIONMOVED", "session moved to another server" },
	{ ZKC_ENOTREADONLY, "ZKC_ENOTREADONLY", "write sent to a read-only server" },
	{ ZKC_EEPHEMERALONLOCALSESSION, "ZKC_EEPHEMERALONLOCALSESSION",
	  "ephemeral node on a local session" },
	{ ZKC_ENOWATCHER, "ZKC_ENOWATCHER", "no such watcher" },
	{ ZKC_ERECONFIGDISABLED, "ZKC_ERECONFIGDISABLED", "reconfiguration disabled" },
	{ ZKC_ESESSIONCLOSEDREQUIRESASLAUTH, "ZKC_ESESSIONCLOSEDREQUIRESASLAUTH",
	  "session closed: the server requires SASL authentication" },
	{ ZKC_ETHROTTLEDOP, "ZKC_ETHROTTLEDOP", "operation throttled by the server" },
	{ ZKC_EUNKNOWN, "ZKC_EUNKNOWN", "outcome unknown" },
	{ ZKC_ETIMEDOUT, "ZKC_ETIMEDOUT", "deadline passed" },
	{ ZKC_ENOMEM, "ZKC_ENOMEM", "out of memory" },
	{ ZKC_EURL, "ZKC_EURL", "malformed connection URL" },
	{ ZKC_ECLOSED, "ZKC_ECLOSED", "client closed" },
	{ ZKC_EDEADLK, "ZKC_EDEADLK", "blocking call from the completion thread" },
	{ ZKC_ETLS, "ZKC_ETLS", "TLS error" },
	{ ZKC_ETOOLARGE, "ZKC_ETOOLARGE", "data or request too large" },
	{ ZKC_EOS, "ZKC_EOS", "operating-system error" },
	{ ZKC_ECANCELED, "ZKC_ECANCELED", "canceled" },
	{ ZKC_ELOST, "ZKC_ELOST", "session changed during the call" },
	{ ZKC_ENOTSUP, "ZKC_ENOTSUP", "not supported" },
	{ ZKC_ERESOLVE, "ZKC_ERESOLVE", "name could not be resolved" },
	{ ZKC_EAGAIN, "ZKC_EAGAIN", "nothing available now" },
	{ ZKC_ELOCKLOST, "ZKC_ELOCKLOST", "the lock guarding the transaction was lost" },
};

static const struct code_info *find_code(int code)
{
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (codes[i].code == code)
			return &codes[i];
	return NULL;
}

const char *zkc_strerror(int code)
{
	const struct code_info *c = find_code(code);
	return c ? c->text : "unknown error code";
}

const char *zkc_strcode(int code)
{
	const struct code_info *c = find_code(code);
	return c ? c->name : "ZKC_E?";
}

const zkc_error_t *zkc_error_last(void)
{
	/* The address of a thread-local is not a constant initializer, so the
	 * message pointer is set on every read. */
	tl_error.message = tl_message;
	return &tl_error;
}

void zkc_error_clear(void)
{
	tl_error.code = ZKC_OK;
	tl_message[0] = '\0';
}

/* After vsnprintf cut a message, backs up to a UTF-8 boundary (so the
 * message stays valid text) and marks the cut with "...". */
static void mark_truncated(char *buf, size_t cap)
{
	size_t end = cap - 4;  /* room for "..." and NUL */

	while (end > 0 && ((unsigned char)buf[end] & 0xC0) == 0x80)
		end--;
	memcpy(buf + end, "...", 4);
}

static int error_v(int code, const char *fmt, va_list ap)
{
	/* Formatted into a local buffer first: the arguments may point into
	 * tl_message (a message wrapping the previous one). */
	char buf[ERROR_MSG_MAX];
	int n = 0;

	buf[0] = '\0';
	if (fmt)
		n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (n < 0)
		buf[0] = '\0';
	else if ((size_t)n >= sizeof(buf))
		mark_truncated(buf, sizeof(buf));
	memcpy(tl_message, buf, strlen(buf) + 1);
	tl_error.code = code;
	return code;
}

int zkc__error(int code, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = error_v(code, fmt, ap);
	va_end(ap);
	return rc;
}

int zkc_error_set(int code, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = error_v(code, fmt, ap);
	va_end(ap);
	return rc;
}

int zkc__error_zk(int zrc, const char *op, const char *path)
{
	int code = find_code(zrc) ? zrc : ZKC_ESYSTEM;

	if (zrc == ZOK)
		return ZKC_OK;
	if (code == ZKC_ESYSTEM && zrc != ZSYSTEMERROR)
		return zkc__error(code, "%s%s%s: unknown ZooKeeper code %d", op ? op : "zookeeper",
		                  path ? " " : "", path ? path : "", zrc);
	return zkc__error(code, "%s%s%s: %s", op ? op : "zookeeper", path ? " " : "",
	                  path ? path : "", zerror(zrc));
}

void zkc_free(void *ptr)
{
	free(ptr);
}

void zkc_strings_free(zkc_strings_t *list)
{
	if (!list)
		return;
	for (size_t i = 0; list->items && i < list->count; i++)
		free(list->items[i]);
	free(list->items);
	free(list);
}

#define ZKC__STR2(x) #x
#define ZKC__STR(x) ZKC__STR2(x)

const char *zkc_version(void)
{
	return ZKC__STR(ZKC_VERSION_MAJOR) "." ZKC__STR(ZKC_VERSION_MINOR) "."
	       ZKC__STR(ZKC_VERSION_PATCH);
}

int zkc_options_version_check(const char *what, int version, int current)
{
	if (version >= 1 && version <= current)
		return ZKC_OK;
	return zkc__error(ZKC_EBADARGUMENTS, "%s: options version %d is not one this zkc knows "
	                  "(1..%d): start from the _INIT macro or the _options_init function",
	                  what ? what : "zkc", version, current);
}
