/*
 * xenstore_tree.h — the nodes of xenstored's tree and who may touch them
 * (xenstore_tree.c); used by xenstored.c only.
 */
#ifndef DOM0_XENSTORE_TREE_H
#define DOM0_XENSTORE_TREE_H

#include "xenstored.h"

/** The node at absolute @p path, or NULL. */
struct xs_node *xs_find(struct xenstored *xs, const char *path);
/** May @p domid do @p access ('r' or 'w') to @p node? Dom0 may do anything. */
bool xs_allowed(const struct xs_node *node, uint16_t domid, char access);
/** The nearest node at or above @p path (the root at least). */
struct xs_node *xs_nearest(struct xenstored *xs, const char *path);
/**
 * Make @p path exist, with missing parents, for @p domid (which needs write
 * access to the nearest existing node). 0 and the node, or an errno name.
 */
const char *xs_create(struct xenstored *xs, const char *path, uint16_t domid, struct xs_node **out);
/** Remove @p node and everything under it. */
void xs_remove(struct xenstored *xs, struct xs_node *node);
/** Is @p path a well-formed absolute path (/, no //, no trailing /, printable)? */
bool xs_valid_path(const char *path);
/** Is @p child directly under @p parent? Its last component in @p name if so. */
bool xs_is_child(const char *parent, const char *child, const char **name);
/** Is @p path @p top or under it? */
bool xs_under(const char *top, const char *path);

#endif
