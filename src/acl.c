/* src/acl.c - the constant ACL lists every application needs, so none has
 * to spell out ZooKeeper's well-known ids, and deep copies of lists for
 * handles that keep the ACL their options gave. */
#include <stdlib.h>
#include <string.h>

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

void zkc_acl_list_free(zkc_acl_list_t *list)
{
	int i;

	if (!list)
		return;
	for (i = 0; list->acls && i < list->count; i++) {
		free((char *)(uintptr_t)list->acls[i].scheme);
		free((char *)(uintptr_t)list->acls[i].id);
	}
	free((zkc_acl_t *)(uintptr_t)list->acls);
	free(list);
}

int zkc_acl_list_copy(zkc_acl_list_t **out, const zkc_acl_list_t *in)
{
	zkc_acl_list_t *a;
	zkc_acl_t *e;
	int i;

	if (!out)
		return zkc__error(ZKC_EBADARGUMENTS, "zkc_acl_list_copy: out is NULL");
	*out = NULL;
	if (!in)
		return ZKC_OK;
	if (in->count <= 0 || in->count > 64 || !in->acls)
		return zkc__error(ZKC_EBADARGUMENTS, "ACL list: %d entries (1..64 with entries "
		                  "given)", in->count);
	a = calloc(1, sizeof(*a));
	e = calloc((size_t)in->count, sizeof(*e));
	if (!a || !e) {
		free(a);
		free(e);
		return zkc__error(ZKC_ENOMEM, "out of memory");
	}
	a->acls = e;
	a->count = in->count;
	for (i = 0; i < in->count; i++) {
		if (!in->acls[i].scheme || !in->acls[i].id) {
			zkc_acl_list_free(a);
			return zkc__error(ZKC_EBADARGUMENTS, "ACL entry %d has no %s", i,
			                  in->acls[i].scheme ? "id" : "scheme");
		}
		e[i].perms = in->acls[i].perms;
		e[i].scheme = strdup(in->acls[i].scheme);
		e[i].id = strdup(in->acls[i].id);
		if (!e[i].scheme || !e[i].id) {
			zkc_acl_list_free(a);
			return zkc__error(ZKC_ENOMEM, "out of memory");
		}
	}
	*out = a;
	return ZKC_OK;
}
