/* src/acl.c - the constant ACL lists every application needs, so none has
 * to spell out ZooKeeper's well-known ids. */
#include "internal.h"

static const zkc_acl_t acl_open[] = { { ZKC_PERM_ALL, "world", "anyone" } };
static const zkc_acl_t acl_creator_all[] = { { ZKC_PERM_ALL, "auth", "" } };
static const zkc_acl_t acl_read_only[] = { { ZKC_PERM_READ, "world", "anyone" } };

static const zkc_acl_list_t list_open = { 1, acl_open };
static const zkc_acl_list_t list_creator_all = { 1, acl_creator_all };
static const zkc_acl_list_t list_read_only = { 1, acl_read_only };

const zkc_acl_list_t *zkc_acl_open(void)
{
	return &list_open;
}

const zkc_acl_list_t *zkc_acl_creator_all(void)
{
	return &list_creator_all;
}

const zkc_acl_list_t *zkc_acl_read_only(void)
{
	return &list_read_only;
}
