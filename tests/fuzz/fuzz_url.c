/* tests/fuzz/fuzz_url.c - libFuzzer target for the parsers that take
 * outside input: connection URLs (parse, redact, host string), paths and
 * durations. Any crash, leak or undefined behaviour is a bug; a secret
 * given as digest= must never appear in an error message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Only printable input: escapes such as \xff could spell the secret. */
static int printable(const char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			return 0;
	return 1;
}

static int occurrences(const char *s, const char *needle)
{
	int n = 0;

	while ((s = strstr(s, needle)) != NULL) {
		n++;
		s++;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *red, *hosts;
	zkc__url_t *url = NULL;
	int64_t ms;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (zkc__url_parse(&url, s) == ZKC_OK) {
		hosts = zkc__url_hosts_string(url);
		free(hosts);
		zkc__url_free(url);
	} else if ((strstr(s, "?digest=u:fuzzsecret") || strstr(s, "&digest=u:fuzzsecret")) &&
	           occurrences(s, "fuzzsecret") == 1 && printable(s)) {
		/* the password of a digest option must never be echoed (the user
		 * name before ':' may be) */
		if (strstr(zkc_error_last()->message, "fuzzsecret"))
			abort();
	}
	red = zkc__url_redact(s);
	free(red);
	zkc_path_validate((const char *)data, size);
	zkc_path_validate(s, (size_t)-1);
	zkc__parse_duration_ms(&ms, s);
	free(s);
	return 0;
}
