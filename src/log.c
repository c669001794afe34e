/* src/log.c - hands formatted log lines to the application's callback;
 * zkc itself never prints. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

#define LOG_LINE_MAX 2048

void zkc__log(const zkc__log_t *log, int level, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	int threshold;
	int saved_errno = errno;  /* callers often log before reading errno */
	va_list ap;

	if (!log || !log->fn || !fmt)
		return;
	threshold = log->level ? log->level : ZKC_LOG_WARN;
	if (level > threshold)
		return;
	va_start(ap, fmt);
	if (vsnprintf(line, sizeof(line), fmt, ap) < 0)
		line[0] = '\0';
	va_end(ap);
	log->fn(level, line, log->payload);
	errno = saved_errno;
}
