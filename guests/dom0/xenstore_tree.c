/*
 * xenstore_tree.c — xenstored's nodes: finding, creating with parents,
 * removing subtrees, and the permission rule (docs/misc/xenstore.txt,
 * "Permissions"): a node's first permission entry names its owner, who may
 * do anything, and what every other domain may do; later entries grant
 * particular domains; Dom0 may do anything everywhere.
 */
#include "xenstore_tree.h"
#include "dom0_env.h"

struct xs_node *xs_find(struct xenstored *xs, const char *path)
{
	for (int i = 0; i < XS_NODES; i++)
		if (xs->nodes[i].used && !strcmp(xs->nodes[i].path, path))
			return &xs->nodes[i];
	return NULL;
}

bool xs_allowed(const struct xs_node *node, uint16_t domid, char access)
{
	if (domid == 0 || node->perms[0].domid == domid)
		return true;
	char given = node->perms[0].access;
	for (int i = 1; i < node->perm_count; i++)
		if (node->perms[i].domid == domid)
			given = node->perms[i].access;
	return given == 'b' || given == access;
}

bool xs_valid_path(const char *path)
{
	size_t n = strlen(path);
	if (n == 0 || n >= XS_PATH_MAX || path[0] != '/' || (n > 1 && path[n - 1] == '/'))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = path[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' ||
			  c == '-' || c == '_' || c == '@' || c == '.';
		if (!ok || (c == '/' && path[i + 1] == '/'))
			return false;
	}
	return true;
}

bool xs_under(const char *top, const char *path)
{
	size_t n = strlen(top);
	if (!strcmp(top, "/"))
		return path[0] == '/';
	return !strncmp(top, path, n) && (path[n] == '\0' || path[n] == '/');
}

bool xs_is_child(const char *parent, const char *child, const char **name)
{
	size_t n = strcmp(parent, "/") ? strlen(parent) : 0;
	if (strncmp(parent, child, n) || child[n] != '/' || !child[n + 1])
		return false;
	for (const char *p = child + n + 1; *p; p++)
		if (*p == '/')
			return false;
	*name = child + n + 1;
	return true;
}

/* The parent path of @path ("/" for "/local"). */
static void parent_of(const char *path, char *out)
{
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] != '/')
		n--;
	if (n > 1)
		n--; /* the slash */
	memcpy(out, path, n);
	out[n] = '\0';
}

struct xs_node *xs_nearest(struct xenstored *xs, const char *path)
{
	char at[XS_PATH_MAX];
	memcpy(at, path, strlen(path) + 1);
	for (;;) {
		struct xs_node *node = xs_find(xs, at);
		if (node || !strcmp(at, "/"))
			return node;
		char up[XS_PATH_MAX];
		parent_of(at, up);
		memcpy(at, up, strlen(up) + 1);
	}
}

const char *xs_create(struct xenstored *xs, const char *path, uint16_t domid, struct xs_node **out)
{
	struct xs_node *node = xs_find(xs, path);
	if (node) {
		*out = node;
		return xs_allowed(node, domid, 'w') ? NULL : "EACCES";
	}
	struct xs_node *above = xs_nearest(xs, path);
	if (!above || !xs_allowed(above, domid, 'w'))
		return "EACCES";
	/* Count the nodes to make first: all or nothing. */
	int missing = 0, free_nodes = 0;
	for (const char *p = path + strlen(above->path); *p; p++)
		missing += *p == '/';
	for (int i = 0; i < XS_NODES; i++)
		free_nodes += !xs->nodes[i].used;
	if (missing > free_nodes)
		return "ENOSPC";
	/* Each new node takes its parent's permissions; a DomU owns what it makes. */
	struct xs_node *parent = above;
	size_t done = strcmp(above->path, "/") ? strlen(above->path) : 0;
	while (path[done]) {
		size_t next = done + 1;
		while (path[next] && path[next] != '/')
			next++;
		struct xs_node *n = NULL;
		for (int i = 0; i < XS_NODES && !n; i++)
			if (!xs->nodes[i].used)
				n = &xs->nodes[i];
		memset(n, 0, sizeof(*n));
		n->used = true;
		memcpy(n->path, path, next);
		n->path[next] = '\0';
		n->perm_count = parent->perm_count;
		memcpy(n->perms, parent->perms, sizeof(n->perms));
		if (domid != 0)
			n->perms[0].domid = domid;
		parent = n;
		done = next;
	}
	*out = parent;
	return NULL;
}

void xs_remove(struct xenstored *xs, struct xs_node *node)
{
	char top[XS_PATH_MAX];
	memcpy(top, node->path, sizeof(top));
	for (int i = 0; i < XS_NODES; i++)
		if (xs->nodes[i].used && xs_under(top, xs->nodes[i].path))
			xs->nodes[i].used = false;
}
