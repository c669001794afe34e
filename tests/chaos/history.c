/* tests/chaos/history.c - JSON-lines history writer shared by the chaos
 * workers and the runner (its nemesis and final-state records). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "history.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>

int chaos_hist_open(chaos_hist_t *h, const char *path, const char *proc)
{
	memset(h, 0, sizeof(*h));
	h->f = fopen(path, "w");
	if (!h->f)
		return -1;
	/* one line at a time reaches the file: a process stopped or killed
	 * mid-run still leaves a readable history */
	setvbuf(h->f, NULL, _IOLBF, 0);
	h->proc = proc;
	h->next_op = 1;
	return 0;
}

void chaos_hist_close(chaos_hist_t *h)
{
	if (h->f)
		fclose(h->f);
	h->f = NULL;
}

int64_t chaos_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

long chaos_hist_line(chaos_hist_t *h, long op, const char *type, const char *f,
                     const char *fields)
{
	flockfile(h->f);
	fprintf(h->f, "{\"p\":\"%s\",\"op\":%ld,\"t\":%lld,\"type\":\"%s\",\"f\":\"%s\"%s%s}\n",
	        h->proc, op, (long long)chaos_now_ns(), type, f,
	        fields && *fields ? "," : "", fields ? fields : "");
	funlockfile(h->f);
	return op;
}

long chaos_hist_invoke(chaos_hist_t *h, const char *f, const char *fields)
{
	long op = __atomic_fetch_add(&h->next_op, 1, __ATOMIC_SEQ_CST);

	return chaos_hist_line(h, op, "invoke", f, fields);
}

const char *chaos_fmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return buf;
}

void chaos_json_escape(char *out, size_t outlen, const char *s, size_t n)
{
	size_t o = 0, i;

	for (i = 0; i < n && o + 7 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			o += (size_t)snprintf(out + o, outlen - o, "\\u%04x", c);
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
}
