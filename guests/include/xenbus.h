/**
 * @file xenbus.h
 * @brief A domain's client of xenstore (xenstore_wire.h): requests, replies, watch events, device states.
 *
 * Frontends (in the DomU) and backends (in Dom0) use it alike: each request
 * goes into the domain's xenstore ring, and the reply with the same request
 * id comes back; watch events that arrive meanwhile are kept for
 * xenbus_next_event(). Waiting is the caller's: `kick` tells xenstored there
 * is a request (an event channel notify), `wait` blocks until something
 * changed (an upcall) — on the host, in the kit's tests, both just run
 * xenstored a step.
 *
 * A split driver's two ends meet through the XenbusState values in their
 * `state` nodes (xen/include/public/io/xenbus.h).
 */
#ifndef GUEST_XENBUS_H
#define GUEST_XENBUS_H

#include <stdbool.h>
#include <stdint.h>

#include "xenstore_wire.h"

/** xenbus.h enum xenbus_state. */
enum xenbus_state {
	XenbusStateUnknown = 0,
	XenbusStateInitialising = 1,
	XenbusStateInitWait = 2,
	XenbusStateInitialised = 3,
	XenbusStateConnected = 4,
	XenbusStateClosing = 5,
	XenbusStateClosed = 6,
};

#define XENBUS_EVENTS 16
#define XENBUS_PATH_MAX 192
#define XENBUS_DIR_MAX 96 /**< a device's directory: room for "/<node name>" after it in a path */
#define XENBUS_WAIT_LIMIT 100000 /**< waits for a reply before giving up on xenstored */

struct xenbus {
	struct xenstore_domain_interface *ring;
	void (*kick)(void *context);
	void (*wait)(void *context);
	void *context;
	uint32_t next_id;
	char error[16];                                  /**< the errno name of the last ERROR reply */
	int event_count;
	char events[XENBUS_EVENTS][XENBUS_PATH_MAX];     /**< watch events' paths, oldest first */
	char tokens[XENBUS_EVENTS][32];
};

/** Start a client over @p ring. */
void xenbus_init(struct xenbus *xb, struct xenstore_domain_interface *ring, void (*kick)(void *),
		 void (*wait)(void *), void *context);
/**
 * One request: @p length payload bytes. The reply's payload into @p reply
 * (at most @p size bytes); its length, or -1 (an ERROR reply: its name in
 * xb->error; or xenstored did not answer: "ETIMEDOUT").
 */
int xenbus_request(struct xenbus *xb, uint32_t type, uint32_t tx, const void *payload, uint32_t length,
		   char *reply, uint32_t size);
/** Read node @p path as a string (NUL-terminated in @p value); its length or -1. */
int xenbus_read(struct xenbus *xb, const char *path, char *value, uint32_t size);
/** Read node @p path as a decimal number; 0 or -1. */
int xenbus_read_u64(struct xenbus *xb, const char *path, uint64_t *value);
/** Write @p value to node @p path; 0 or -1. */
int xenbus_write(struct xenbus *xb, const char *path, const char *value);
/** Write @p path/state = @p state; 0 or -1. */
int xenbus_switch_state(struct xenbus *xb, const char *device, enum xenbus_state state);
/** Watch @p path (events carry @p token); 0 or -1. */
int xenbus_watch(struct xenbus *xb, const char *path, const char *token);
/** Wait for @p device's state node to reach @p state (by watching it); 0, or -1 after @p tries waits. */
int xenbus_wait_state(struct xenbus *xb, const char *device, enum xenbus_state state, int tries);

#endif
