/* tests/fuzz/fuzz_service.c - libFuzzer target for the service registry's
 * record format: zkc_service_decode reads node data any client may have
 * written. Any crash, leak or undefined behaviour is a bug. An instance
 * that decodes must encode again (it passed every check an instance
 * passes) and decode, under its own node name, to the same fields. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zkc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	zkc_service_entry_t e, again;
	zkc_service_instance_t in = ZKC_SERVICE_INSTANCE_INIT;
	char *text, *enc = NULL;
	size_t len = 0;
	int rc;

	/* data is NUL-terminated for the decoder, as node data from zkc is */
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	memset(&e, 0, sizeof(e));
	rc = zkc_service_decode(&e, "fuzz-id", text, size);
	free(text);
	if (rc != ZKC_OK) {
		if (zkc_error_last()->code != rc || zkc_error_last()->message[0] == '\0')
			abort();
		return 0;
	}
	in.id = e.id;
	in.address = e.address;
	in.port = e.port;
	in.weight = e.weight;
	in.draining = e.draining;
	in.metadata = e.metadata;
	in.metadata_len = e.metadata_len;
	if (zkc_service_encode(&enc, &len, "fuzz", &in) != ZKC_OK) {
		fprintf(stderr, "decoded, but does not encode: %s\n", zkc_error_last()->message);
		abort();
	}
	memset(&again, 0, sizeof(again));
	if (zkc_service_decode(&again, e.id, enc, len) != ZKC_OK)
		abort();
	if (strcmp(again.id, e.id) != 0 || strcmp(again.address, e.address) != 0 ||
	    again.port != e.port || again.weight != e.weight ||
	    !again.draining != !e.draining || again.metadata_len != e.metadata_len ||
	    memcmp(again.metadata, e.metadata, e.metadata_len) != 0)
		abort();
	zkc_free(enc);
	zkc_service_entry_clear(&again);
	zkc_service_entry_clear(&e);
	return 0;
}
