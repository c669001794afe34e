/* zkc/tls.h - TLS to ZooKeeper: structured options (never a comma string).
 * Verification of the CA chain and of the server's host name or IP SAN is
 * on by default; files are read again for every new connection, so rotated
 * certificates (cert-manager, mounted Secrets) are picked up without a
 * restart. */
#ifndef ZKC_TLS_H
#define ZKC_TLS_H

#include "zkc/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ZKC_TLS_OPTIONS_VERSION 1

typedef struct zkc_tls_options {
	int version;                /* ZKC_TLS_OPTIONS_VERSION */
	const char *ca_file;        /* PEM CA bundle; NULL = the system's */
	const char *cert_file;      /* PEM client certificate (chain), for mTLS */
	const char *key_file;       /* PEM private key of cert_file */
	const char *key_password;   /* for an encrypted key; never logged */
	const char *server_name;    /* name to verify and send as SNI; NULL = the
	                             * host each server is reached by */
	int verify_host;            /* 1 (default): the certificate must name the
	                             * server (DNS or IP SAN); 0: CA chain only */
} zkc_tls_options_t;

#define ZKC_TLS_OPTIONS_INIT { ZKC_TLS_OPTIONS_VERSION, NULL, NULL, NULL, NULL, NULL, 1 }

/* Fills *opts with the defaults of ZKC_TLS_OPTIONS_INIT, for a struct of
 * `version` (1..ZKC_TLS_OPTIONS_VERSION; pass ZKC_TLS_OPTIONS_VERSION), for
 * callers that cannot use the brace initializer. Expected codes:
 * ZKC_EBADARGUMENTS (NULL, or a version this zkc does not know: the message
 * says which). */
ZKC_EXTERN int zkc_tls_options_init(zkc_tls_options_t *opts, unsigned int version);

#ifdef __cplusplus
}
#endif
#endif
