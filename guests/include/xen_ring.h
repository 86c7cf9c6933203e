/**
 * @file xen_ring.h
 * @brief Xen's shared I/O rings (xen/include/public/io/ring.h): the layout and the index rules.
 *
 * A split driver's frontend (in the DomU) and backend (in Dom0) share one page:
 * a header of four counters, then a ring of slots each big enough for a
 * request or a response. The frontend produces requests and consumes
 * responses; the backend the other way round. The counters only grow (they
 * wrap at 2^32); a slot is `counter % size`. Neither side ever waits for the
 * other: each says, in req_event/rsp_event, at which counter value it wants
 * to be woken by an event channel, and a producer notifies only when it has
 * just crossed that value — Xen's way of batching notifications.
 *
 * Page layout (x86-64): req_prod @0, req_event @4, rsp_prod @8, rsp_event @12,
 * padding to @64, the slots from @64. The ring's size is the largest power of
 * two of slots that fits in the page.
 */
#ifndef GUEST_XEN_RING_H
#define GUEST_XEN_RING_H

#include <stdbool.h>
#include <stdint.h>

/** The shared header of every ring page. */
struct xen_sring_header {
	uint32_t req_prod;  /**< requests produced (written by the frontend) */
	uint32_t req_event; /**< notify the backend when req_prod passes this */
	uint32_t rsp_prod;  /**< responses produced (written by the backend) */
	uint32_t rsp_event; /**< notify the frontend when rsp_prod passes this */
	uint8_t pad[48];
};

_Static_assert(sizeof(struct xen_sring_header) == 64, "ring.h: the slots start at byte 64");

/** Slots in a page-sized ring of @p slot_size-byte slots: a power of two (ring.h __RING_SIZE). */
static inline uint32_t xen_ring_size(uint32_t slot_size)
{
	uint32_t n = 1;
	while (n * 2 * slot_size <= 4096 - sizeof(struct xen_sring_header))
		n *= 2;
	return n;
}

/** A full memory barrier: the other side runs on another CPU (or, here, another vCPU). */
static inline void xen_mb(void) { __asm__ volatile("mfence" ::: "memory"); }

/**
 * Publish produced entries up to @p new_prod in @p *prod and say whether the
 * other side must be notified: only if it asked (its event counter) to be
 * woken at a value between the old and the new producer index
 * (RING_PUSH_REQUESTS_AND_CHECK_NOTIFY).
 */
static inline bool xen_ring_push(volatile uint32_t *prod, volatile uint32_t *event, uint32_t new_prod)
{
	uint32_t old = *prod;
	xen_mb(); /* the entries before the index that publishes them */
	*prod = new_prod;
	xen_mb(); /* the index before reading what the other side asked for */
	return (uint32_t)(new_prod - *event) < (uint32_t)(new_prod - old);
}

/**
 * A consumer found nothing more at @p cons: ask to be woken by the next entry
 * (event = cons + 1), then look once more, since one may have come meanwhile
 * (RING_FINAL_CHECK_FOR_REQUESTS). True when there is more to consume.
 */
static inline bool xen_ring_final_check(volatile uint32_t *prod, volatile uint32_t *event, uint32_t cons)
{
	if (*prod != cons)
		return true;
	*event = cons + 1;
	xen_mb();
	return *prod != cons;
}

#endif
