/* zkc/acl.h - access control lists and the helpers to build them. */
#ifndef ZKC_ACL_H
#define ZKC_ACL_H

#include "zkc/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Permission bits, with ZooKeeper's values. */
#define ZKC_PERM_READ   (1 << 0)
#define ZKC_PERM_WRITE  (1 << 1)
#define ZKC_PERM_CREATE (1 << 2)
#define ZKC_PERM_DELETE (1 << 3)
#define ZKC_PERM_ADMIN  (1 << 4)
#define ZKC_PERM_ALL    0x1f

typedef struct zkc_acl {
	int32_t perms;
	const char *scheme;   /* "world", "auth", "digest", "ip", "x509" */
	const char *id;
} zkc_acl_t;

typedef struct zkc_acl_list {
	int count;
	const zkc_acl_t *acls;
} zkc_acl_list_t;

/* Constant lists: world:anyone all; auth (creator) all; world:anyone read.
 * Borrowed: static, valid for the life of the process; never free. */
ZKC_EXTERN const zkc_acl_list_t *zkc_acl_open(void);
ZKC_EXTERN const zkc_acl_list_t *zkc_acl_creator_all(void);
ZKC_EXTERN const zkc_acl_list_t *zkc_acl_read_only(void);

/* A deep copy of `in` (entries and strings, in one allocation as
 * zkc_acl_get's answers), owned by the caller (zkc_acl_list_free, in
 * zkc/client.h): what recipes keep of an ACL given in their options,
 * so the caller's list may go once open returns. in NULL gives *out NULL
 * and ZKC_OK (the client's default). Expected codes: ZKC_EBADARGUMENTS
 * (count not 1..64, no entries, an entry without scheme or id),
 * ZKC_ENOMEM. */
ZKC_EXTERN int zkc_acl_list_copy(zkc_acl_list_t **out, const zkc_acl_list_t *in);

/* The id of a digest ACL entry for user and password, computed as
 * ZooKeeper does: "user:" + base64(sha1("user:password")). Use it with
 * scheme "digest"; a client authenticated with zkc_options_t.digest =
 * "user:password" matches it. *out is owned by the caller (zkc_free).
 * Expected codes: ZKC_EBADARGUMENTS (NULL, empty user, ':' in user). */
ZKC_EXTERN int zkc_acl_digest_id(char **out, const char *user, const char *password);

#ifdef __cplusplus
}
#endif
#endif
