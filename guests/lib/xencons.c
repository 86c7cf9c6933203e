/*
 * xencons.c — both ends of the console ring (xencons.h): a producer copies
 * in what fits and then publishes the new index; a consumer reads the index,
 * copies out, and then publishes its own. The barriers order the data and
 * the index that announces it, since the other end runs on another CPU.
 */
#include "xencons.h"

static void barrier(void) { __asm__ volatile("mfence" ::: "memory"); }

uint32_t xencons_put(char *ring, uint32_t size, volatile uint32_t *cons, volatile uint32_t *prod,
		     const char *data, uint32_t length)
{
	uint32_t p = *prod, c = *cons, n = 0;
	barrier();
	if ((uint32_t)(p - c) > size)
		return 0; /* the consumer broke the ring: write nothing */
	while (n < length && (uint32_t)(p - c) < size)
		ring[p++ % size] = data[n++];
	barrier(); /* the bytes before the index */
	*prod = p;
	return n;
}

int32_t xencons_take(const char *ring, uint32_t ring_size, volatile uint32_t *cons, volatile uint32_t *prod,
		     char *data, uint32_t size)
{
	uint32_t c = *cons, p = *prod, n = 0;
	barrier(); /* the index before the bytes it covers */
	if ((uint32_t)(p - c) > ring_size)
		return -1;
	while (c != p && n < size)
		data[n++] = ring[c++ % ring_size];
	barrier();
	*cons = c;
	return (int32_t)n;
}
