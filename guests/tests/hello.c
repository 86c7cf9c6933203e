/*
 * hello — the smallest test guest: prove the runtime, the console, the
 * command line and the exit path work.
 *
 * Prints
 *     hello from <platform>: nonce=<n> fnv=<16 hex digits>
 * where fnv is the 64-bit FNV-1a hash of the nonce written in decimal, so
 * the grader can recompute the line and no fixed output can fake it.
 */
#include "guest.h"

void guest_main(void)
{
	uint64_t nonce = guest_nonce();
	char decimal[24];
	int length = gsnprintf(decimal, sizeof(decimal), "%llu",
			       (unsigned long long)nonce);

	gprintf("hello from %s: nonce=%s fnv=%016llx\n", guest_platform(),
		decimal, (unsigned long long)fnv1a64(decimal, length));
	guest_pass();
}
