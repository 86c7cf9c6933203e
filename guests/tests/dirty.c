/*
 * dirty — writes to a nonce-chosen number of distinct pages, for the
 * hypervisor's dirty logging (the hook lab 6's live migration builds on).
 *
 * `touch=0` writes none of them: two domains, one with and one without,
 * differ in their dirty logs by exactly the pages this loop wrote.
 */
#include "guest.h"

#define BUFFER_PAGES 64

static volatile uint8_t buffer[BUFFER_PAGES][4096] __attribute__((aligned(4096)));

void guest_main(void)
{
	uint64_t nonce = guest_nonce();
	uint64_t pages = guest_cmdline_u64("touch", 1) ? 8 + nonce % 48 : 0;
	for (uint64_t i = 0; i < pages; i++)
		buffer[i][(nonce + i * 97) % 4096] = (uint8_t)(nonce + i);
	gprintf("dirty: wrote %2lu pages\n", (unsigned long)pages);
	guest_pass();
}
