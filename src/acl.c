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

/* One allocation holding the list, its entries and their strings, as
 * zkc_acl_get's answer, so zkc_acl_list_free frees either. */
int zkc_acl_list_copy(zkc_acl_list_t **out, const zkc_acl_list_t *in)
{
	size_t size = sizeof(zkc_acl_list_t);
	zkc_acl_list_t *list;
	zkc_acl_t *e;
	char *str;
	int i;

	if (!out)
		return zkc__error(ZKC_EBADARGUMENTS, "zkc_acl_list_copy: out is NULL");
	*out = NULL;
	if (!in)
		return ZKC_OK;
	if (in->count <= 0 || in->count > 64 || !in->acls)
		return zkc__error(ZKC_EBADARGUMENTS, "ACL list: %d entries (1..64 with entries "
		                  "given)", in->count);
	for (i = 0; i < in->count; i++) {
		if (!in->acls[i].scheme || !in->acls[i].id)
			return zkc__error(ZKC_EBADARGUMENTS, "ACL entry %d has no %s", i,
			                  in->acls[i].scheme ? "id" : "scheme");
		size += sizeof(zkc_acl_t) + strlen(in->acls[i].scheme) + 1 +
		        strlen(in->acls[i].id) + 1;
	}
	list = malloc(size);
	if (!list)
		return zkc__error(ZKC_ENOMEM, "out of memory");
	e = (zkc_acl_t *)(list + 1);
	str = (char *)(e + in->count);
	for (i = 0; i < in->count; i++) {
		size_t n = strlen(in->acls[i].scheme) + 1, m = strlen(in->acls[i].id) + 1;

		e[i].perms = in->acls[i].perms;
		e[i].scheme = memcpy(str, in->acls[i].scheme, n);
		str += n;
		e[i].id = memcpy(str, in->acls[i].id, m);
		str += m;
	}
	list->count = in->count;
	list->acls = e;
	*out = list;
	return ZKC_OK;
}

void zkc_acl_list_free(zkc_acl_list_t *list)
{
	free(list);   /* one allocation: the list, its entries and strings */
}
