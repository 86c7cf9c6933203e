/*
 * stacktrace.c — LAB 0 reference solution: walk the frame-pointer chain.
 */
#include "stacktrace.h"

int stacktrace_walk(uint64_t rbp, uint64_t *return_addresses, int max)
{
	int n = 0;
	/* Each frame is two words: the caller's rbp, then the return address. */
	while (rbp != 0 && n < max && stack_contains(rbp, 2 * sizeof(uint64_t))) {
		const uint64_t *frame = (const uint64_t *)rbp;
		return_addresses[n++] = frame[1];
		/* Frames grow towards higher addresses as we go outwards; a frame
		 * pointer that does not move up would make us loop. */
		if (frame[0] <= rbp)
			break;
		rbp = frame[0];
	}
	return n;
}
