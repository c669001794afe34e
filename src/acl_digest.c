/* src/acl_digest.c - digest ACL ids as ZooKeeper's DigestAuthenticationProvider
 * computes them (SHA-1 of "user:password", base64). */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "internal.h"

int zkc_acl_digest_id(char **out, const char *user, const char *password)
{
	unsigned char md[SHA_DIGEST_LENGTH];
	unsigned char b64[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
	char *plain;

	if (!out)
		return zkc__error(ZKC_EBADARGUMENTS, "zkc_acl_digest_id: out is NULL");
	*out = NULL;
	if (!user || !*user || strchr(user, ':') || !password)
		return zkc__error(ZKC_EBADARGUMENTS, "digest ACL: the user must be non-empty without "
		                  "':' and the password non-NULL");
	plain = zkc__sprintf("%s:%s", user, password);
	if (!plain)
		return zkc__error(ZKC_ENOMEM, "out of memory");
	SHA1((const unsigned char *)plain, strlen(plain), md);
	memset(plain, 0, strlen(plain));
	free(plain);
	EVP_EncodeBlock(b64, md, SHA_DIGEST_LENGTH);
	*out = zkc__sprintf("%s:%s", user, (const char *)b64);
	return *out ? ZKC_OK : zkc__error(ZKC_ENOMEM, "out of memory");
}
