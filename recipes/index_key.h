/* recipes/index_key.h - the index recipe's key encoding and record format,
 * shared by recipes/index.c and its unit test. Not public. */
#ifndef ZKC_INDEX_KEY_H
#define ZKC_INDEX_KEY_H

#include <stddef.h>

/* Separator between an entry's encoded value and id: below every first
 * character of an encoded byte, so "value+id" sorts by value, then id. */
#define ZKCR_IKEY_SEP '+'

/* Length of the encoding of len bytes (no NUL). */
size_t zkcr_ikey_enc_len(const void *key, size_t len);
/* Writes the encoding (no NUL) at dst; returns the end. */
char *zkcr_ikey_enc(char *dst, const void *key, size_t len);
/* Decodes name[0..nlen) into dst (room for nlen bytes); *out_len gets the
 * length. 0, or -1 when name is no encoding (a separator included). */
int zkcr_ikey_dec(unsigned char *dst, size_t *out_len, const char *name, size_t nlen);

/* Record node data: "ZKI1", u32 nfields, nfields x (u32 name_len, name,
 * u32 value_len, value), then the payload to the end; big-endian. */
typedef struct zkcr_irec_field {
	const char *name;
	size_t name_len;
	const unsigned char *value;
	size_t value_len;
} zkcr_irec_field_t;

/* Size of the serialized record. */
size_t zkcr_irec_size(const zkcr_irec_field_t *f, size_t n, size_t payload_len);
/* Serializes into dst (zkcr_irec_size bytes). */
void zkcr_irec_write(unsigned char *dst, const zkcr_irec_field_t *f, size_t n,
                     const void *payload, size_t payload_len);
/* Parses data without copying: fills up to cap fields (pointers into data)
 * and the payload. 0, or -1 for data that is no record (or more than cap
 * fields). */
int zkcr_irec_parse(zkcr_irec_field_t *f, size_t cap, size_t *out_n, const unsigned char **payload,
                    size_t *payload_len, const void *data, size_t len);

#endif
