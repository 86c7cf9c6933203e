/**
 * @file xenstored.h
 * @brief xenstore in Dom0: the tree every domain's drivers meet in (Xen's docs/misc/xenstore.txt).
 *
 * A tree of nodes, each with a value and permissions, that every domain
 * reaches through its ring page (xenstore_wire.h): a DomU reads and writes
 * its own subtree /local/domain/<id> and what it was given; watches tell a
 * domain when a node changes; a transaction groups changes (one at a time:
 * while one is open, other domains' requests wait). The split drivers'
 * handshake (frontend and backend state, ring-ref, event-channel) happens here.
 *
 * Bad input never takes xenstored down: a request without its NULs gets
 * EINVAL; a domain that breaks the ring protocol or sends a message longer
 * than 4096 bytes is cut off — its ring is not read again — with one line
 * saying why. Limits: XS_NODES nodes, values up to XS_VALUE_MAX bytes (E2BIG
 * past it), XS_WATCHES watches.
 */
#ifndef DOM0_XENSTORED_H
#define DOM0_XENSTORED_H

#include <stdbool.h>
#include <stdint.h>

#include "xenstore_wire.h"

#define XS_NODES 512
#define XS_PATH_MAX 192
#define XS_VALUE_MAX 256
#define XS_PERMS_MAX 4
#define XS_CONNECTIONS 32
#define XS_WATCHES 64
#define XS_OUT_MAX 8192 /**< replies waiting for room in a domain's ring; more: the domain is cut off */

/** A permission: what @c domid may do ('n' nothing, 'r' read, 'w' write, 'b' both). The first
 *  entry of a node's list names its owner and what every other domain may do. */
struct xs_perm {
	uint16_t domid;
	char access;
};

struct xs_node {
	bool used;
	char path[XS_PATH_MAX];
	uint16_t length;
	char value[XS_VALUE_MAX];
	uint8_t perm_count;
	struct xs_perm perms[XS_PERMS_MAX];
};

/** One domain's connection: its ring and the bytes in flight. */
struct xs_connection {
	bool used;
	uint16_t domid;
	struct xenstore_domain_interface *ring;
	bool cut_off;
	char why[120];
	uint32_t in_length;
	uint8_t in[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX];
	uint32_t out_length;
	uint8_t out[XS_OUT_MAX];
};

struct xs_watch {
	bool used;
	int connection;
	bool relative;              /**< registered with a path under the domain's home: events say it so */
	char path[XS_PATH_MAX];     /**< absolute, or "@introduceDomain" / "@releaseDomain" */
	char token[64];
};

/** The whole daemon: plain data, so that lab 5 can save a domain's subtree and lab 6 move it. */
struct xenstored {
	struct xs_node nodes[XS_NODES];
	struct xs_connection connections[XS_CONNECTIONS];
	struct xs_watch watches[XS_WATCHES];
	int transaction_connection; /**< who has the transaction open, -1: nobody */
	uint32_t transaction_id, next_transaction;
	struct xs_node saved[XS_NODES]; /**< the tree when the transaction started (an abort puts it back) */
	uint32_t deferred_events;       /**< watch events raised inside the transaction, sent at commit */
};

/** An empty store with / and /local/domain, owned by Dom0. */
void xenstored_init(struct xenstored *xs);
/** Connect a domain's ring page (Dom0's INTRODUCE does this for DomUs); the connection's index or -1. */
int xenstored_connect(struct xenstored *xs, uint16_t domid, struct xenstore_domain_interface *ring);
/** Forget a domain: its connection and watches; fires @releaseDomain. */
void xenstored_release(struct xenstored *xs, uint16_t domid);
/**
 * Serve every connection: take what its ring holds, answer, put replies and
 * watch events into its ring as room allows. Returns a bitmask of the
 * connections whose response ring got bytes (their event channel wants a kick).
 */
uint32_t xenstored_poll(struct xenstored *xs);

#endif
