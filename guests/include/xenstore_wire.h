/**
 * @file xenstore_wire.h
 * @brief xenstore's wire protocol and ring page (xen/include/public/io/xs_wire.h, docs/misc/xenstore.txt).
 *
 * A message is a 16-byte header and up to 4096 bytes of payload; strings in
 * the payload end in NUL. A domain talks to xenstored through one shared page
 * holding two 1024-byte byte rings (requests in, responses out) and their
 * indexes; the indexes only grow and are taken modulo 1024.
 */
#ifndef GUEST_XENSTORE_WIRE_H
#define GUEST_XENSTORE_WIRE_H

#include <stddef.h>
#include <stdint.h>

/** Message types (xs_wire.h enum xsd_sockmsg_type). */
enum xs_type {
	XS_CONTROL = 0,
	XS_DIRECTORY = 1,
	XS_READ = 2,
	XS_GET_PERMS = 3,
	XS_WATCH = 4,
	XS_UNWATCH = 5,
	XS_TRANSACTION_START = 6,
	XS_TRANSACTION_END = 7,
	XS_INTRODUCE = 8,
	XS_RELEASE = 9,
	XS_GET_DOMAIN_PATH = 10,
	XS_WRITE = 11,
	XS_MKDIR = 12,
	XS_RM = 13,
	XS_SET_PERMS = 14,
	XS_WATCH_EVENT = 15,
	XS_ERROR = 16,
	XS_IS_DOMAIN_INTRODUCED = 17,
	XS_RESUME = 18,
	XS_SET_TARGET = 19,
	XS_RESET_WATCHES = 21,
};

/** The header before every payload. */
struct xsd_sockmsg {
	uint32_t type;   /**< enum xs_type */
	uint32_t req_id; /**< echoed in the reply */
	uint32_t tx_id;  /**< the transaction, 0 outside one */
	uint32_t len;    /**< payload bytes */
};

#define XENSTORE_PAYLOAD_MAX 4096
#define XENSTORE_ABS_PATH_MAX 3072
#define XENSTORE_REL_PATH_MAX 2048
#define XENSTORE_RING_SIZE 1024

/** The ring page (xs_wire.h struct xenstore_domain_interface). */
struct xenstore_domain_interface {
	char req[XENSTORE_RING_SIZE]; /**< requests to xenstored */
	char rsp[XENSTORE_RING_SIZE]; /**< replies and watch events */
	uint32_t req_cons, req_prod;
	uint32_t rsp_cons, rsp_prod;
	uint32_t server_features;
	uint32_t connection;
};

_Static_assert(sizeof(struct xsd_sockmsg) == 16, "xs_wire.h: a 16-byte header");
_Static_assert(offsetof(struct xenstore_domain_interface, req_cons) == 2048 &&
	       offsetof(struct xenstore_domain_interface, rsp_prod) == 2060 &&
	       offsetof(struct xenstore_domain_interface, connection) == 2068, "xs_wire.h: the ring page layout");

#endif
