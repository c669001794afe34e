/* tests/chaos/history.h - the recorded history of one chaos process: one
 * JSON object per line (invoke, then ok / fail / unknown for the same op
 * number), with CLOCK_MONOTONIC nanoseconds, so the checkers can order
 * events of every process on one time line. Format: docs/chaos.md. */
#ifndef ZKC_CHAOS_HISTORY_H
#define ZKC_CHAOS_HISTORY_H

#include <stdint.h>
#include <stdio.h>

typedef struct chaos_hist {
	FILE *f;
	const char *proc;   /* process name, e.g. "reg-1" */
	long next_op;       /* op numbers of this process */
} chaos_hist_t;

/* Opens (truncates) path. Returns 0 or -1 (errno set). */
int chaos_hist_open(chaos_hist_t *h, const char *path, const char *proc);
void chaos_hist_close(chaos_hist_t *h);

/* Nanoseconds on the shared monotonic clock. */
int64_t chaos_now_ns(void);

/* Writes {"p":proc,"op":op,"t":now,"type":type,"f":f<,fields>} where
 * fields is already JSON ("\"k\":\"r1\",\"v\":3") or NULL. Returns op. */
long chaos_hist_line(chaos_hist_t *h, long op, const char *type, const char *f,
                     const char *fields);
/* An invoke with a fresh op number (returned). */
long chaos_hist_invoke(chaos_hist_t *h, const char *f, const char *fields);

/* printf into a caller buffer, for building `fields`. */
const char *chaos_fmt(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* JSON string body escaping of n bytes into out (always NUL-terminated). */
void chaos_json_escape(char *out, size_t outlen, const char *s, size_t n);

#endif
