/*
 * xenstored.c — xenstore's daemon in Dom0 (xenstored.h): rings, messages,
 * watches and transactions. The tree itself is xenstore_tree.c.
 */
#include "xenstore_tree.h"
#include "dom0_env.h"
#include "xen_ring.h"

#define HOME_PREFIX "/local/domain/"
#define MASK(index) ((index) & (XENSTORE_RING_SIZE - 1))

void xenstored_init(struct xenstored *xs)
{
	memset(xs, 0, sizeof(*xs));
	xs->transaction_connection = -1;
	xs->next_transaction = 1;
	struct xs_node *root = &xs->nodes[0];
	root->used = true;
	memcpy(root->path, "/", 2);
	root->perm_count = 1;
	root->perms[0] = (struct xs_perm){0, 'n'}; /* Dom0's; others may not even read it */
	struct xs_node *made;
	xs_create(xs, "/local/domain", 0, &made);
	made->perms[0].access = 'r'; /* a domain may list the domains */
}

static void cut_off(struct xs_connection *c, const char *why)
{
	if (c->cut_off)
		return;
	c->cut_off = true;
	dom0_snprintf(c->why, sizeof(c->why), "%s", why);
	gprintf("xenstored: domain %u cut off: %s\n", c->domid, why);
}

/* --- replies and events, queued per connection ---------------------------------- */

static void queue(struct xs_connection *c, uint32_t type, uint32_t req_id, uint32_t tx_id, const void *payload,
		  uint32_t length)
{
	struct xsd_sockmsg h = {type, req_id, tx_id, length};
	if (c->cut_off)
		return;
	if (c->out_length + sizeof(h) + length > sizeof(c->out)) {
		cut_off(c, "it does not read its replies");
		return;
	}
	memcpy(c->out + c->out_length, &h, sizeof(h));
	memcpy(c->out + c->out_length + sizeof(h), payload, length);
	c->out_length += (uint32_t)sizeof(h) + length;
}

static void reply_error(struct xs_connection *c, const struct xsd_sockmsg *m, const char *name)
{
	queue(c, XS_ERROR, m->req_id, m->tx_id, name, (uint32_t)strlen(name) + 1);
}

static void reply_ok(struct xs_connection *c, const struct xsd_sockmsg *m)
{
	queue(c, m->type, m->req_id, m->tx_id, "OK", 3);
}

/* Send a watch event "path\0token\0" to watch @w for absolute @path. */
static void send_event(struct xenstored *xs, struct xs_watch *w, const char *path)
{
	struct xs_connection *c = &xs->connections[w->connection];
	char payload[XS_PATH_MAX + 64 + 2], home[32];
	int home_length = dom0_snprintf(home, sizeof(home), HOME_PREFIX "%u/", c->domid);
	const char *shown = path;
	if (w->relative && !strncmp(path, home, (size_t)home_length))
		shown = path + home_length;
	size_t a = strlen(shown), b = strlen(w->token);
	memcpy(payload, shown, a + 1);
	memcpy(payload + a + 1, w->token, b + 1);
	queue(c, XS_WATCH_EVENT, 0, 0, payload, (uint32_t)(a + b + 2));
}

/* @path changed: every watch on it or above it, whose domain may read it, hears so. */
static void fire(struct xenstored *xs, const char *path)
{
	bool special = path[0] == '@';
	struct xs_node *node = special ? NULL : xs_nearest(xs, path);
	for (int i = 0; i < XS_WATCHES; i++) {
		struct xs_watch *w = &xs->watches[i];
		if (!w->used)
			continue;
		bool matches = special ? !strcmp(w->path, path) : w->path[0] != '@' && xs_under(w->path, path);
		if (!matches || (node && !xs_allowed(node, xs->connections[w->connection].domid, 'r')))
			continue;
		if (xs->transaction_connection >= 0) {
			xs->deferred_events++; /* told at commit; an abort takes the change back */
			continue;
		}
		send_event(xs, w, path);
	}
}

/* --- the requests ---------------------------------------------------------------- */

/* The payload's first string, or NULL when it has no NUL (the protocol wants one). */
static const char *first_string(const uint8_t *payload, uint32_t length, uint32_t *used)
{
	for (uint32_t i = 0; i < length; i++)
		if (!payload[i]) {
			*used = i + 1;
			return (const char *)payload;
		}
	return NULL;
}

/* A request's path, made absolute: relative ones are under the domain's home. */
static bool absolute_path(struct xs_connection *c, const char *given, char *out)
{
	int n = given[0] == '/' ? dom0_snprintf(out, XS_PATH_MAX, "%s", given)
				: dom0_snprintf(out, XS_PATH_MAX, HOME_PREFIX "%u/%s", c->domid, given);
	return n > 0 && n < XS_PATH_MAX && xs_valid_path(out);
}

static void do_read(struct xenstored *xs, struct xs_connection *c, const struct xsd_sockmsg *m, const char *path)
{
	struct xs_node *n = xs_find(xs, path);
	if (!n)
		return reply_error(c, m, "ENOENT");
	if (!xs_allowed(n, c->domid, 'r'))
		return reply_error(c, m, "EACCES");
	if (m->type == XS_READ)
		return queue(c, XS_READ, m->req_id, m->tx_id, n->value, n->length);
	char list[XENSTORE_PAYLOAD_MAX];
	uint32_t length = 0;
	if (m->type == XS_GET_PERMS) {
		for (int i = 0; i < n->perm_count; i++)
			length += (uint32_t)dom0_snprintf(list + length, sizeof(list) - length, "%c%u", n->perms[i].access,
							  n->perms[i].domid) + 1;
		return queue(c, XS_GET_PERMS, m->req_id, m->tx_id, list, length);
	}
	for (int i = 0; i < XS_NODES; i++) { /* XS_DIRECTORY: the names of the children */
		const char *name;
		if (xs->nodes[i].used && xs_is_child(path, xs->nodes[i].path, &name)) {
			size_t k = strlen(name) + 1;
			if (length + k > sizeof(list))
				return reply_error(c, m, "E2BIG");
			memcpy(list + length, name, k);
			length += (uint32_t)k;
		}
	}
	queue(c, XS_DIRECTORY, m->req_id, m->tx_id, list, length);
}

static void do_write(struct xenstored *xs, struct xs_connection *c, const struct xsd_sockmsg *m, const char *path,
		     const uint8_t *value, uint32_t length)
{
	struct xs_node *n;
	if (length > XS_VALUE_MAX)
		return reply_error(c, m, "E2BIG");
	const char *err = xs_create(xs, path, c->domid, &n);
	if (err)
		return reply_error(c, m, err);
	if (m->type == XS_WRITE) {
		memcpy(n->value, value, length);
		n->length = (uint16_t)length;
	}
	reply_ok(c, m);
	fire(xs, path);
}

static void do_rm(struct xenstored *xs, struct xs_connection *c, const struct xsd_sockmsg *m, const char *path)
{
	struct xs_node *n = xs_find(xs, path);
	if (!n)
		return reply_error(c, m, "ENOENT");
	if (!strcmp(path, "/") || !strcmp(path, "/local") || !strcmp(path, "/local/domain"))
		return reply_error(c, m, "EINVAL");
	if (!xs_allowed(n, c->domid, 'w'))
		return reply_error(c, m, "EACCES");
	xs_remove(xs, n);
	reply_ok(c, m);
	fire(xs, path);
}

/* SET_PERMS: "path\0" then entries "r5\0", "w0\0"...; only the owner (or Dom0) may. */
static void do_set_perms(struct xenstored *xs, struct xs_connection *c, const struct xsd_sockmsg *m,
			 const char *path, const uint8_t *rest, uint32_t length)
{
	struct xs_node *n = xs_find(xs, path);
	struct xs_perm perms[XS_PERMS_MAX];
	int count = 0;
	if (!n)
		return reply_error(c, m, "ENOENT");
	if (c->domid != 0 && n->perms[0].domid != c->domid)
		return reply_error(c, m, "EACCES");
	for (uint32_t at = 0; at < length;) {
		uint32_t used;
		const char *entry = first_string(rest + at, length - at, &used);
		uint64_t domid;
		if (!entry || count == XS_PERMS_MAX || !strchr("nrwb", entry[0]) || !entry[0] ||
		    !parse_u64(entry + 1, strlen(entry + 1), &domid) || domid > 0x7fef)
			return reply_error(c, m, "EINVAL");
		perms[count++] = (struct xs_perm){(uint16_t)domid, entry[0]};
		at += used;
	}
	if (count == 0)
		return reply_error(c, m, "EINVAL");
	memcpy(n->perms, perms, sizeof(perms));
	n->perm_count = (uint8_t)count;
	reply_ok(c, m);
	fire(xs, path);
}

static void do_watch(struct xenstored *xs, int ci, const struct xsd_sockmsg *m, const uint8_t *payload,
		     uint32_t length)
{
	struct xs_connection *c = &xs->connections[ci];
	uint32_t a, b;
	const char *path = first_string(payload, length, &a);
	const char *token = path ? first_string(payload + a, length - a, &b) : NULL;
	char absolute[XS_PATH_MAX];
	if (!token || strlen(token) >= sizeof(xs->watches[0].token))
		return reply_error(c, m, "EINVAL");
	bool special = path[0] == '@';
	if (special ? strcmp(path, "@introduceDomain") && strcmp(path, "@releaseDomain")
		    : !absolute_path(c, path, absolute))
		return reply_error(c, m, "EINVAL");
	if (special)
		memcpy(absolute, path, strlen(path) + 1);
	for (int i = 0; i < XS_WATCHES; i++) {
		struct xs_watch *w = &xs->watches[i];
		bool same = w->used && w->connection == ci && !strcmp(w->path, absolute) && !strcmp(w->token, token);
		if (m->type == XS_UNWATCH && same) {
			w->used = false;
			return reply_ok(c, m);
		}
		if (m->type == XS_WATCH && same)
			return reply_error(c, m, "EEXIST");
	}
	if (m->type == XS_UNWATCH)
		return reply_error(c, m, "ENOENT");
	for (int i = 0; i < XS_WATCHES; i++) {
		struct xs_watch *w = &xs->watches[i];
		if (w->used)
			continue;
		*w = (struct xs_watch){true, ci, !special && path[0] != '/', "", ""};
		memcpy(w->path, absolute, strlen(absolute) + 1);
		memcpy(w->token, token, strlen(token) + 1);
		reply_ok(c, m);
		send_event(xs, w, absolute); /* a new watch fires once at once */
		return;
	}
	reply_error(c, m, "ENOSPC");
}

static void do_transaction(struct xenstored *xs, int ci, const struct xsd_sockmsg *m, const char *arg)
{
	struct xs_connection *c = &xs->connections[ci];
	if (m->type == XS_TRANSACTION_START) {
		char id[12];
		if (xs->transaction_connection >= 0)
			return reply_error(c, m, "EBUSY");
		memcpy(xs->saved, xs->nodes, sizeof(xs->nodes));
		xs->transaction_connection = ci;
		xs->transaction_id = xs->next_transaction++;
		xs->deferred_events = 0;
		int n = dom0_snprintf(id, sizeof(id), "%u", xs->transaction_id);
		return queue(c, XS_TRANSACTION_START, m->req_id, 0, id, (uint32_t)n + 1);
	}
	if (xs->transaction_connection != ci || m->tx_id != xs->transaction_id)
		return reply_error(c, m, "ENOENT");
	if (strcmp(arg, "T") && strcmp(arg, "F"))
		return reply_error(c, m, "EINVAL");
	bool commit = !strcmp(arg, "T");
	if (!commit)
		memcpy(xs->nodes, xs->saved, sizeof(xs->nodes));
	xs->transaction_connection = -1;
	reply_ok(c, m);
	if (commit && xs->deferred_events) {
		/* What changed inside: tell every watcher of every node, once. Coarse, never wrong. */
		for (int i = 0; i < XS_WATCHES; i++)
			if (xs->watches[i].used && xs->watches[i].path[0] != '@')
				send_event(xs, &xs->watches[i], xs->watches[i].path);
	}
	xs->deferred_events = 0;
}

static void dispatch(struct xenstored *xs, int ci, const struct xsd_sockmsg *m, const uint8_t *payload)
{
	struct xs_connection *c = &xs->connections[ci];
	uint32_t used = 0;
	const char *first = first_string(payload, m->len, &used);
	char path[XS_PATH_MAX];
	if (m->tx_id && (xs->transaction_connection != ci || m->tx_id != xs->transaction_id) &&
	    m->type != XS_TRANSACTION_END)
		return reply_error(c, m, "ENOENT"); /* a transaction that is not (or no longer) open */
	switch (m->type) {
	case XS_READ:
	case XS_DIRECTORY:
	case XS_GET_PERMS:
	case XS_MKDIR:
	case XS_RM:
	case XS_WRITE:
	case XS_SET_PERMS:
		if (!first || !absolute_path(c, first, path))
			return reply_error(c, m, "EINVAL");
		if (m->type == XS_WRITE)
			return do_write(xs, c, m, path, payload + used, m->len - used);
		if (m->type == XS_MKDIR)
			return do_write(xs, c, m, path, NULL, 0);
		if (m->type == XS_RM)
			return do_rm(xs, c, m, path);
		if (m->type == XS_SET_PERMS)
			return do_set_perms(xs, c, m, path, payload + used, m->len - used);
		return do_read(xs, c, m, path);
	case XS_WATCH:
	case XS_UNWATCH:
		return do_watch(xs, ci, m, payload, m->len);
	case XS_TRANSACTION_START:
	case XS_TRANSACTION_END:
		if (!first)
			return reply_error(c, m, "EINVAL");
		return do_transaction(xs, ci, m, first);
	case XS_GET_DOMAIN_PATH: {
		uint64_t domid;
		if (!first || !parse_u64(first, strlen(first), &domid) || domid > 0x7fef)
			return reply_error(c, m, "EINVAL");
		int n = dom0_snprintf(path, sizeof(path), HOME_PREFIX "%u", (unsigned)domid);
		return queue(c, XS_GET_DOMAIN_PATH, m->req_id, m->tx_id, path, (uint32_t)n + 1);
	}
	case XS_RESET_WATCHES:
		for (int i = 0; i < XS_WATCHES; i++)
			if (xs->watches[i].connection == ci)
				xs->watches[i].used = false;
		return reply_ok(c, m);
	case XS_INTRODUCE:
	case XS_RELEASE:
		/* Dom0's toolstack connects and forgets domains by calling in, not through a ring here. */
		return reply_error(c, m, c->domid == 0 ? "ENOSYS" : "EACCES");
	default:
		return reply_error(c, m, "EINVAL");
	}
}

/* --- the rings -------------------------------------------------------------------------- */

int xenstored_connect(struct xenstored *xs, uint16_t domid, struct xenstore_domain_interface *ring)
{
	for (int i = 0; i < XS_CONNECTIONS; i++) {
		struct xs_connection *c = &xs->connections[i];
		if (c->used)
			continue;
		memset(c, 0, sizeof(*c));
		c->used = true;
		c->domid = domid;
		c->ring = ring;
		/* Its home: /local/domain/<id>, owned by the domain, readable by nobody else. */
		char home[XS_PATH_MAX];
		struct xs_node *n;
		dom0_snprintf(home, sizeof(home), HOME_PREFIX "%u", domid);
		if (xs_create(xs, home, 0, &n) == NULL) {
			n->perm_count = 1;
			n->perms[0] = (struct xs_perm){domid, 'n'};
		}
		fire(xs, "@introduceDomain");
		return i;
	}
	return -1;
}

void xenstored_release(struct xenstored *xs, uint16_t domid)
{
	for (int i = 0; i < XS_CONNECTIONS; i++) {
		struct xs_connection *c = &xs->connections[i];
		if (!c->used || c->domid != domid)
			continue;
		if (xs->transaction_connection == i) { /* its open transaction is aborted */
			memcpy(xs->nodes, xs->saved, sizeof(xs->nodes));
			xs->transaction_connection = -1;
		}
		for (int w = 0; w < XS_WATCHES; w++)
			if (xs->watches[w].connection == i)
				xs->watches[w].used = false;
		c->used = false;
	}
	fire(xs, "@releaseDomain");
}

/* Take the bytes the domain's request ring holds; false once it is cut off. */
static bool read_ring(struct xenstored *xs, int ci)
{
	struct xs_connection *c = &xs->connections[ci];
	volatile struct xenstore_domain_interface *r = c->ring;
	uint32_t cons = r->req_cons, prod = r->req_prod;
	xen_mb();
	if ((uint32_t)(prod - cons) > XENSTORE_RING_SIZE) {
		cut_off(c, "its request ring's indexes are more than a ring apart");
		return false;
	}
	while (cons != prod) {
		/* Inside a transaction of another domain, requests wait in the ring. */
		if (xs->transaction_connection >= 0 && xs->transaction_connection != ci)
			break;
		c->in[c->in_length++] = (uint8_t)r->req[MASK(cons)];
		cons++;
		if (c->in_length < sizeof(struct xsd_sockmsg))
			continue;
		struct xsd_sockmsg m;
		memcpy(&m, c->in, sizeof(m));
		if (m.len > XENSTORE_PAYLOAD_MAX) {
			char why[80];
			dom0_snprintf(why, sizeof(why), "a message of %u bytes (at most %u)", m.len, XENSTORE_PAYLOAD_MAX);
			r->req_cons = cons;
			cut_off(c, why);
			return false;
		}
		if (c->in_length < sizeof(m) + m.len)
			continue;
		c->in_length = 0;
		dispatch(xs, ci, &m, c->in + sizeof(m));
		if (c->cut_off)
			break;
	}
	xen_mb();
	r->req_cons = cons;
	return !c->cut_off;
}

/* Put queued replies into the response ring, as far as there is room. */
static bool write_ring(struct xs_connection *c)
{
	volatile struct xenstore_domain_interface *r = c->ring;
	uint32_t cons = r->rsp_cons, prod = r->rsp_prod, sent = 0;
	if ((uint32_t)(prod - cons) > XENSTORE_RING_SIZE) {
		cut_off(c, "its response ring's indexes are more than a ring apart");
		return false;
	}
	while (sent < c->out_length && (uint32_t)(prod - cons) < XENSTORE_RING_SIZE) {
		r->rsp[MASK(prod)] = (char)c->out[sent++];
		prod++;
	}
	if (!sent)
		return false;
	memmove(c->out, c->out + sent, c->out_length - sent);
	c->out_length -= sent;
	xen_mb(); /* the bytes before the index that publishes them */
	r->rsp_prod = prod;
	return true;
}

uint32_t xenstored_poll(struct xenstored *xs)
{
	uint32_t kicked = 0;
	for (int i = 0; i < XS_CONNECTIONS; i++)
		if (xs->connections[i].used && !xs->connections[i].cut_off)
			read_ring(xs, i);
	/* Then every reply out: one domain's request may be another's watch event. */
	for (int i = 0; i < XS_CONNECTIONS; i++) {
		struct xs_connection *c = &xs->connections[i];
		if (c->used && !c->cut_off && write_ring(c))
			kicked |= 1u << i;
	}
	return kicked;
}
