/* tools/cli_json.c - the one JSON string writer of the `zkc` commands'
 * --json output (node names, data, metadata, keys: any bytes). */
#include <stdio.h>

#include "cli.h"

static void json_string(const void *data, size_t len, int bytes)
{
	const unsigned char *s = data;
	size_t i;

	putchar('"');
	for (i = 0; i < len; i++) {
		unsigned char c = s[i];

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c == 0x7f || (bytes && c > 0x7f))
			printf("\\u%04x", c);   /* bytes mode: each byte its own code */
		else
			putchar(c);
	}
	putchar('"');
}

void cli_json_string(const void *data, size_t len)
{
	json_string(data, len, 0);
}

void cli_json_bytes(const void *data, size_t len)
{
	json_string(data, len, 1);
}
