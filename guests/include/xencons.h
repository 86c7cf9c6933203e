/**
 * @file xencons.h
 * @brief The console split driver's ring page (xen/include/public/io/console.h) and both of its ends.
 *
 * A DomU writes its console output into `out` and reads typed input from
 * `in`; Dom0's console backend does the opposite, prints the DomU's lines
 * under its name and feeds `xl console`. The indexes only grow; a byte's
 * place is its index modulo the ring's size. Each end is a pair of plain
 * functions over the page, so the guest runtime and Dom0 share them.
 */
#ifndef GUEST_XENCONS_H
#define GUEST_XENCONS_H

#include <stddef.h>
#include <stdint.h>

#define XENCONS_IN_SIZE 1024
#define XENCONS_OUT_SIZE 2048

/** The page (console.h struct xencons_interface). */
struct xencons_interface {
	char in[XENCONS_IN_SIZE];   /**< to the DomU */
	char out[XENCONS_OUT_SIZE]; /**< from the DomU */
	uint32_t in_cons, in_prod;
	uint32_t out_cons, out_prod;
};

_Static_assert(offsetof(struct xencons_interface, out) == 1024 &&
	       offsetof(struct xencons_interface, in_cons) == 3072 &&
	       offsetof(struct xencons_interface, out_prod) == 3084, "console.h: the ring page layout");

/**
 * Put up to @p length bytes into the ring @p ring of @p size bytes (indexes
 * @p cons, @p prod): how many fit. The producer's half of both directions.
 */
uint32_t xencons_put(char *ring, uint32_t size, volatile uint32_t *cons, volatile uint32_t *prod,
		     const char *data, uint32_t length);
/**
 * Take up to @p size bytes out of the ring: how many came, or -1 when the
 * indexes are more than a ring apart (the other end broke the protocol).
 */
int32_t xencons_take(const char *ring, uint32_t ring_size, volatile uint32_t *cons, volatile uint32_t *prod,
		     char *data, uint32_t size);

#endif
