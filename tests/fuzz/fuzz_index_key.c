/* tests/fuzz/fuzz_index_key.c - libFuzzer target for the index recipe's key
 * encoding and record format (recipes/index_key.c), which read node names
 * and node data that any client may have written. Promises checked: every
 * byte string encodes to a name that decodes back to it and holds no
 * separator or '/'; encodings sort as their keys do; a name that decodes
 * encodes back to itself (one name per key); a record that parses
 * serializes back to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "index_key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *encode(const void *key, size_t len, size_t *out_len)
{
	size_t n = zkcr_ikey_enc_len(key, len);
	char *s = malloc(n + 1);

	if (!s)
		abort();
	if (zkcr_ikey_enc(s, key, len) != s + n)
		abort();
	s[n] = '\0';
	*out_len = n;
	return s;
}

static int keycmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);

	return c ? c : (al > bl) - (al < bl);
}

static void round_trip(const uint8_t *key, size_t len)
{
	size_t n, dl;
	char *name = encode(key, len, &n);
	unsigned char *back = malloc(n + 1);

	if (!back)
		abort();
	if (memchr(name, ZKCR_IKEY_SEP, n) || memchr(name, '/', n) || memchr(name, '\0', n))
		abort();
	if (zkcr_ikey_dec(back, &dl, name, n) != 0 || dl != len || memcmp(back, key, len) != 0)
		abort();
	free(back);
	free(name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t half = size / 2, n1, n2, dl;
	char *a, *b;
	unsigned char *dec;
	zkcr_irec_field_t f[8];
	size_t nf;
	const unsigned char *payload;
	size_t payload_len;

	/* any bytes round trip; two keys sort as their encodings do */
	round_trip(data, size);
	a = encode(data, half, &n1);
	b = encode(data + half, size - half, &n2);
	{
		int kc = keycmp(data, half, data + half, size - half);
		int ec = keycmp((const uint8_t *)a, n1, (const uint8_t *)b, n2);

		if ((kc < 0) != (ec < 0) || (kc == 0) != (ec == 0))
			abort();
	}
	free(a);
	free(b);

	/* the input as a node name: decodes only if it is the one encoding */
	dec = malloc(size + 1);
	if (!dec)
		abort();
	if (zkcr_ikey_dec(dec, &dl, (const char *)data, size) == 0) {
		char *again = encode(dec, dl, &n1);

		if (n1 != size || memcmp(again, data, size) != 0)
			abort();
		free(again);
	}
	free(dec);

	/* the input as record data: parses only into what serializes back */
	if (zkcr_irec_parse(f, 8, &nf, &payload, &payload_len, data, size) == 0) {
		size_t sz = zkcr_irec_size(f, nf, payload_len);
		unsigned char *out = malloc(sz ? sz : 1);

		if (!out)
			abort();
		zkcr_irec_write(out, f, nf, payload, payload_len);
		if (sz != size || memcmp(out, data, size) != 0)
			abort();
		free(out);
	}
	return 0;
}
