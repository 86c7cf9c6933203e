/*
 * pit.c — timing with counter 2 of the 8254, the way Linux calibrates the
 * TSC (Intel 8254 data sheet; the gate and OUT2 are bits 0 and 5 of port
 * 0x61). It works natively and in every domain: the port I/O is emulated
 * (PV) or intercepted (HVM) like any other.
 */
#include "guest.h"
#include "x86.h"

#define PIT_CH2 0x42
#define PIT_CMD 0x43
#define PORT61 0x61

uint64_t guest_pit_countdown(uint16_t count, uint64_t limit)
{
	outb(PORT61, (inb(PORT61) & ~0x02) | 0x01); /* gate on, speaker off */
	outb(PIT_CMD, 0xb0);                        /* counter 2, LSB then MSB, mode 0, binary */
	outb(PIT_CH2, count & 0xff);
	/* The TSC is read before the write that starts the count, not after:
	 * a host that stalls between the two (another process, the exit that
	 * OUT is under Hypatia) can then only make the measurement longer. */
	uint64_t start = rdtsc();
	outb(PIT_CH2, count >> 8);
	while (!(inb(PORT61) & 0x20))
		if (rdtsc() - start > limit)
			return 0;
	return rdtsc() - start;
}
