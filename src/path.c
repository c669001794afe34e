/* src/path.c - znode paths: validation with ZooKeeper's own rules (so a bad
 * path fails here with a reason, not on the server as ZBADARGUMENTS), and
 * the join/parent/basename helpers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define PATH_MAX_BYTES 4096

static int reject(const char *path, size_t len, const char *reason, size_t at)
{
	char q[ZKC__QUOTE_BUF];

	zkc__quote(q, sizeof(q), path, len);
	if (at == (size_t)-1)
		return zkc__error(ZKC_EBADARGUMENTS, "invalid path \"%s\": %s", q, reason);
	return zkc__error(ZKC_EBADARGUMENTS, "invalid path \"%s\": %s at byte %zu", q, reason, at);
}

/* Decodes one UTF-8 sequence at s[0..avail); returns its length and the
 * code point in *cp, or 0 if it is not valid UTF-8 (truncated, overlong,
 * stray continuation byte, beyond U+10FFFF). */
static size_t utf8_decode(const unsigned char *s, size_t avail, uint32_t *cp)
{
	uint32_t c = s[0], min;
	size_t n;

	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if ((c & 0xE0) == 0xC0) {
		n = 2, c &= 0x1F, min = 0x80;
	} else if ((c & 0xF0) == 0xE0) {
		n = 3, c &= 0x0F, min = 0x800;
	} else if ((c & 0xF8) == 0xF0) {
		n = 4, c &= 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n > avail)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF)
		return 0;
	*cp = c;
	return n;
}

/* The characters ZooKeeper's PathUtils refuses. It checks UTF-16 units, so
 * every character beyond U+FFFF (a surrogate pair there) is refused too. */
static int bad_char(uint32_t cp)
{
	return (cp >= 0x01 && cp <= 0x1F) || (cp >= 0x7F && cp <= 0x9F) ||
	       (cp >= 0xD800 && cp <= 0xF8FF) || cp >= 0xFFF0;
}

int zkc_path_validate(const char *path, size_t len)
{
	char reason[96];
	size_t i, comp;

	if (!path)
		return zkc__error(ZKC_EBADARGUMENTS, "invalid path: NULL");
	if (len == (size_t)-1) {
		len = strlen(path);
	} else {
		const char *nul = memchr(path, '\0', len);
		if (nul)
			return reject(path, len, "NUL character", (size_t)(nul - path));
	}
	if (len == 0)
		return zkc__error(ZKC_EBADARGUMENTS, "invalid path \"\": empty");
	if (len > PATH_MAX_BYTES) {
		snprintf(reason, sizeof(reason), "%zu bytes, more than the %d allowed", len,
		         PATH_MAX_BYTES);
		return reject(path, len, reason, (size_t)-1);
	}
	if (path[0] != '/')
		return reject(path, len, "must start with '/'", (size_t)-1);
	if (len == 1)
		return ZKC_OK;
	if (path[len - 1] == '/')
		return reject(path, len, "trailing '/'", (size_t)-1);

	comp = 1;  /* start of the current component */
	for (i = 1; i <= len;) {
		uint32_t cp;
		size_t n;

		if (i == len || path[i] == '/') {
			size_t clen = i - comp;
			if (clen == 0)
				return reject(path, len, "empty component", comp);
			if ((clen == 1 && path[comp] == '.') ||
			    (clen == 2 && path[comp] == '.' && path[comp + 1] == '.'))
				return reject(path, len,
				              clen == 1 ? "relative component \".\""
				                        : "relative component \"..\"",
				              comp);
			comp = ++i;
			continue;
		}
		n = utf8_decode((const unsigned char *)path + i, len - i, &cp);
		if (n == 0)
			return reject(path, len, "invalid UTF-8", i);
		if (bad_char(cp)) {
			snprintf(reason, sizeof(reason), "character U+%04X not allowed%s", (unsigned)cp,
			         cp > 0xFFFF ? " (ZooKeeper refuses characters beyond U+FFFF)" : "");
			return reject(path, len, reason, i);
		}
		i += n;
	}
	return ZKC_OK;
}

char *zkc__path_join(const char *parent, const char *child)
{
	size_t plen, clen;

	if (!parent || !child)
		return NULL;
	/* Exactly one '/' between the two, whatever the caller passed. */
	plen = strlen(parent);
	while (plen > 0 && parent[plen - 1] == '/')
		plen--;
	while (*child == '/')
		child++;
	clen = strlen(child);
	if (clen == 0)
		return plen ? zkc__strndup(parent, plen) : zkc__strdup("/");
	return zkc__sprintf("%.*s/%s", (int)plen, parent, child);
}

char *zkc__path_parent(const char *path)
{
	const char *slash;

	if (!path || (slash = strrchr(path, '/')) == NULL || strcmp(path, "/") == 0)
		return NULL;
	if (slash == path)
		return zkc__strdup("/");
	return zkc__strndup(path, (size_t)(slash - path));
}

const char *zkc__path_basename(const char *path)
{
	const char *slash;

	if (!path)
		return NULL;
	slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}
