/* zkc/common.h - error codes, memory release, logging and version: the
 * conventions every other zkc header relies on. */
#ifndef ZKC_COMMON_H
#define ZKC_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && __GNUC__ >= 4
#define ZKC_EXTERN __attribute__((visibility("default")))
#else
#define ZKC_EXTERN
#endif

#define ZKC_VERSION_MAJOR 0
#define ZKC_VERSION_MINOR 1
#define ZKC_VERSION_PATCH 0

/* Status codes. Every function that can fail returns ZKC_OK (0) or one of
 * these negative values. The ZooKeeper server and client codes keep their
 * numeric values from zookeeper.h, so a ZooKeeper code maps one to one; zkc's
 * own codes start at -1000. zkc_strerror() names them; zkc_error_last() has
 * the detail (path, server, cause) of the last failure on this thread. */
typedef enum zkc_code {
	ZKC_OK = 0,

	/* ZooKeeper system and client-side codes */
	ZKC_ESYSTEM = -1,           /* ZSYSTEMERROR */
	ZKC_ERUNTIMEINCONSISTENCY = -2,
	ZKC_EDATAINCONSISTENCY = -3,
	ZKC_ECONNECTIONLOSS = -4,   /* the reply was lost; outcome not known yet */
	ZKC_EMARSHALLING = -5,
	ZKC_EUNIMPLEMENTED = -6,
	ZKC_EOPERATIONTIMEOUT = -7,
	ZKC_EBADARGUMENTS = -8,     /* bad input: path, data size, option, URL */
	ZKC_EINVALIDSTATE = -9,
	ZKC_ENEWCONFIGNOQUORUM = -13,
	ZKC_ERECONFIGINPROGRESS = -14,
	ZKC_ESSLCONNECTION = -15,

	/* ZooKeeper API codes (the server's answers) */
	ZKC_EAPI = -100,
	ZKC_ENONODE = -101,
	ZKC_ENOAUTH = -102,
	ZKC_EBADVERSION = -103,
	ZKC_ENOCHILDRENFOREPHEMERALS = -108,
	ZKC_ENODEEXISTS = -110,
	ZKC_ENOTEMPTY = -111,
	ZKC_ESESSIONEXPIRED = -112,
	ZKC_EINVALIDCALLBACK = -113,
	ZKC_EINVALIDACL = -114,
	ZKC_EAUTHFAILED = -115,
	ZKC_ECLOSING = -116,
	ZKC_ENOTHING = -117,
	ZKC_ESESSIONMOVED = -118,
	ZKC_ENOTREADONLY = -119,
	ZKC_EEPHEMERALONLOCALSESSION = -120,
	ZKC_ENOWATCHER = -121,
	ZKC_ERECONFIGDISABLED = -123,
	ZKC_ESESSIONCLOSEDREQUIRESASLAUTH = -124,
	ZKC_ETHROTTLEDOP = -127,

	/* zkc's own codes */
	ZKC_EUNKNOWN = -1001,   /* a write's outcome could not be learned */
	ZKC_ETIMEDOUT = -1002,  /* the call's deadline passed */
	ZKC_ENOMEM = -1003,
	ZKC_EURL = -1004,       /* malformed connection URL or unknown option */
	ZKC_ECLOSED = -1005,    /* the client is closed or closing */
	ZKC_EDEADLK = -1006,    /* blocking call made from the completion thread */
	ZKC_ETLS = -1007,       /* TLS setup or verification failed */
	ZKC_ETOOLARGE = -1008,  /* data or request over the 1 MiB limit */
	ZKC_EOS = -1009,        /* an operating-system call failed (errno in message) */
	ZKC_ECANCELED = -1010,  /* canceled by another thread */
	ZKC_ELOST = -1011,      /* the session changed under a session-bound call */
	ZKC_ENOTSUP = -1012,    /* not supported by this build or server */
	ZKC_ERESOLVE = -1013,   /* a name or service could not be resolved */
	ZKC_EAGAIN = -1014,     /* nothing available now (non-blocking calls) */
	ZKC_ELOCKLOST = -1015   /* a fenced transaction's guard node is gone: the
	                         * lock, lease or leadership it stood for was
	                         * lost, and nothing was written */
} zkc_code_t;

/* A short, constant description of a code. Never NULL.
 * Borrowed: static; never free. */
ZKC_EXTERN const char *zkc_strerror(int code);

/* The symbolic name of a code ("ZKC_ENONODE"). Never NULL.
 * Borrowed: static; never free. */
ZKC_EXTERN const char *zkc_strcode(int code);

/* Detail of the last failure on the calling thread: the code and a message
 * naming path, server and cause. */
typedef struct zkc_error {
	int code;
	const char *message;
} zkc_error_t;
/* Never NULL: when no failure is recorded, code is ZKC_OK and message is "".
 * Borrowed: owned by zkc (per thread), valid until the next zkc call on
 * this thread; copy the message to keep it. */
ZKC_EXTERN const zkc_error_t *zkc_error_last(void);
ZKC_EXTERN void zkc_error_clear(void);

/* Records a failure for zkc_error_last() on the calling thread, printf
 * style, and returns code: for recipes and applications built on zkc's
 * public API, so their failures explain themselves as zkc's own do
 * (`return zkc_error_set(ZKC_EBADARGUMENTS, "queue %s: ...", path);`).
 * Messages longer than zkc keeps are cut with "...". Never put secrets in
 * them. */
ZKC_EXTERN int zkc_error_set(int code, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;

/* Options structs. Each carries an `int version` first and has two ways
 * to start from the defaults: the ZKC_X_OPTIONS_INIT brace initializer
 * (C) and int zkc_X_options_init(zkc_X_options_t *opts, unsigned int
 * version) (bindings, and any caller that cannot use braces), which fills
 * a struct of that version with the defaults. Every function taking an
 * options struct accepts every version from 1 to the current one and
 * refuses others with ZKC_EBADARGUMENTS.
 *
 * The shared check behind that rule: ZKC_OK when 1 <= version <= current,
 * else ZKC_EBADARGUMENTS with a message naming `what` (a function name),
 * the version and the known range (zkc_error_last). For code built on zkc
 * that versions its own structs the same way. */
ZKC_EXTERN int zkc_options_version_check(const char *what, int version, int current);

/* Releases memory that zkc returned to the caller (strings, data buffers)
 * unless a type documents its own *_free. zkc_free(NULL) is a no-op. */
ZKC_EXTERN void zkc_free(void *ptr);

/* A list of strings returned by zkc (children names, server lists). Owned by
 * the caller; release with zkc_strings_free (NULL is a no-op). */
typedef struct zkc_strings {
	size_t count;
	char **items;
} zkc_strings_t;
ZKC_EXTERN void zkc_strings_free(zkc_strings_t *list);

/* Logging. zkc never prints; it hands log lines (its own and libzookeeper's)
 * to a callback. Levels follow syslog order. */
typedef enum zkc_log_level {
	ZKC_LOG_ERROR = 1,
	ZKC_LOG_WARN = 2,
	ZKC_LOG_INFO = 3,
	ZKC_LOG_DEBUG = 4
} zkc_log_level_t;

/* Runs on whichever thread logged (any zkc or libzookeeper thread); it must
 * not call blocking zkc functions. */
typedef void (*zkc_log_fn)(int level, const char *message, void *payload);

/* Library version, "MAJOR.MINOR.PATCH". Borrowed: static; never free. */
ZKC_EXTERN const char *zkc_version(void);

#ifdef __cplusplus
}
#endif
#endif
