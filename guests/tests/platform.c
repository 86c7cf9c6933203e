/*
 * platform — the legacy PC devices an operating system programs, read back.
 *
 * What Linux's boot (docs/linux.md) relies on, each checked against what the
 * data sheets define, so the native run (QEMU's devices) and a domain
 * (Hypatia's, kernel/dev/) must print the same lines:
 * - 8254 counter 2 with its gate on port 0x61 (Intel 8254 data sheet):
 *   mode 0 with a nonce-derived count, the read-back status byte, latched
 *   counts going down, OUT2 (port 0x61 bit 5) rising at terminal count, and
 *   twice the count taking twice the TSC time (the PIT and the TSC agree);
 * - 8254 counter 0 in mode 2, read through counter-latch commands;
 * - the CMOS RTC (MC146818A): registers A, B, D as a PC's firmware leaves
 *   them, valid BCD time, the update-in-progress bit seen within a second,
 *   a CMOS RAM byte keeping what was written;
 * - the 16550A (PC16550D): IIR with FIFOs on, the THR-empty interrupt
 *   identified and cleared by reading IIR, loopback through the modem
 *   control register.
 * Interrupts stay disabled throughout: nothing here is delivered.
 */
#include "guest.h"
#include "x86.h"

#define PIT_CH0 0x40
#define PIT_CH2 0x42
#define PIT_CMD 0x43
#define PORT61 0x61
#define RTC_INDEX 0x70
#define RTC_DATA 0x71
#define COM1 0x3f8
#define UART_IER (COM1 + 1)
#define UART_IIR (COM1 + 2)
#define UART_FCR (COM1 + 2)
#define UART_MCR (COM1 + 4)
#define UART_LSR (COM1 + 5)
#define UART_MSR (COM1 + 6)

static uint8_t cmos(uint8_t index)
{
	outb(RTC_INDEX, index);
	return inb(RTC_DATA);
}

static bool bcd_ok(uint8_t v, unsigned max)
{
	return (v & 15) < 10 && (unsigned)((v >> 4) * 10 + (v & 15)) <= max;
}

static uint16_t latch_read(uint8_t counter)
{
	outb(PIT_CMD, (uint8_t)(counter << 6)); /* counter latch command */
	uint8_t lo = inb(PIT_CH0 + counter);
	return (uint16_t)(lo | inb(PIT_CH0 + counter) << 8);
}

static void pit(uint64_t nonce)
{
	uint16_t count = (uint16_t)(0x4000 + nonce % 0x2000);
	outb(PORT61, (inb(PORT61) & ~0x02) | 0x01);
	outb(PIT_CMD, 0xb0);
	outb(PIT_CH2, count & 0xff);
	outb(PIT_CH2, count >> 8);
	outb(PIT_CMD, 0xe8); /* read-back: status only, counter 2 */
	gprintf("pit counter 2 status after loading 0x%x: 0x%02x\n", count, inb(PIT_CH2));
	/* Two latched counts a moment apart: within the count, going down. A
	 * host that stalls for longer than the count (15-20 ms) before the
	 * second latch finds the counter wrapped through 0xffff, as a real 8254
	 * would: such an attempt is made again, with a fresh count, up to five
	 * times — a counter that never goes down fails all five. */
	bool within = false, down = false;
	for (int attempt = 0; attempt < 5 && !(within && down); attempt++) {
		if (attempt) {
			outb(PIT_CMD, 0xb0);
			outb(PIT_CH2, count & 0xff);
			outb(PIT_CH2, count >> 8);
		}
		uint16_t first = latch_read(2);
		for (volatile int i = 0; i < 20000; i++)
			;
		uint16_t second = latch_read(2);
		within = first <= count && second <= count;
		down = second < first;
	}
	gprintf("pit counter 2 latched counts: within the count %s, going down %s\n", within ? "yes" : "no",
		down ? "yes" : "no");
	uint64_t limit = 4000000000ull;
	while (!(inb(PORT61) & 0x20))
		;
	outb(PIT_CMD, 0xe8);
	gprintf("pit counter 2 at terminal count: port 0x61 bit 5 set, status 0x%02x\n", inb(PIT_CH2));

	/*
	 * 2 x count at 1.193182 MHz against the TSC: the ratio is 2 within 10%.
	 * A measurement can only come out too long (the host ran something else
	 * while this guest polled port 0x61), so the shortest of each length is
	 * the one compared, measuring again (up to ten rounds) while they
	 * disagree: a busy host must not make the two clocks disagree, and
	 * clocks that really disagree do so in every round.
	 */
	uint64_t once = 0, twice = 0;
	bool consistent = false;
	for (int round = 0; round < 10 && !consistent; round++) {
		uint64_t t1 = guest_pit_countdown(count, limit), t2 = guest_pit_countdown((uint16_t)(2 * count), limit);
		once = t1 && (!once || t1 < once) ? t1 : once;
		twice = t2 && (!twice || t2 < twice) ? t2 : twice;
		consistent = once && twice && 10 * twice > 18 * once && 10 * twice < 22 * once;
	}
	gprintf("pit counter 2: twice the count takes twice the TSC time: %s\n", consistent ? "yes" : "no");

	uint16_t period = (uint16_t)(0x2000 + nonce % 0x1000);
	outb(PIT_CMD, 0x34); /* counter 0, LSB then MSB, mode 2 */
	outb(PIT_CH0, period & 0xff);
	outb(PIT_CH0, period >> 8);
	bool in_range = true;
	for (int i = 0; i < 8; i++) {
		uint16_t c = latch_read(0);
		in_range &= c >= 1 && c <= period;
	}
	gprintf("pit counter 0 mode 2, period 0x%x: latched counts within 1..period: %s\n", period,
		in_range ? "yes" : "no");
	outb(PIT_CMD, 0x30); /* counter 0 back to mode 0, stopped until a count comes */
}

static void rtc(uint64_t nonce)
{
	gprintf("rtc register a (rate bits) 0x%02x, b 0x%02x, d 0x%02x\n", cmos(0x0a) & 0x7f, cmos(0x0b),
		cmos(0x0d));
	bool seen = false;
	uint64_t start = rdtsc();
	while (!seen && rdtsc() - start < 20000000000ull)
		seen = cmos(0x0a) & 0x80;
	while (cmos(0x0a) & 0x80) /* then the update: stable values for 244 us at least */
		;
	uint8_t s = cmos(0), m = cmos(2), h = cmos(4), day = cmos(7), month = cmos(8), year = cmos(9);
	gprintf("rtc update in progress seen within 20e9 cycles: %s\n", seen ? "yes" : "no");
	gprintf("rtc time and date valid bcd: %s\n",
		bcd_ok(s, 59) && bcd_ok(m, 59) && bcd_ok(h, 23) && bcd_ok(day, 31) && day && bcd_ok(month, 12) &&
				month && bcd_ok(year, 99) ? "yes" : "no");
	uint8_t byte = (uint8_t)(nonce >> 8);
	outb(RTC_INDEX, 0x48);
	outb(RTC_DATA, byte);
	gprintf("cmos ram 0x48: wrote 0x%02x, read 0x%02x\n", byte, cmos(0x48));
}

static void uart(uint64_t nonce)
{
	outb(UART_FCR, 0x07); /* FIFOs on and cleared */
	gprintf("uart iir with fifos on: 0x%02x\n", inb(UART_IIR));
	outb(UART_IER, 0x02); /* THR empty interrupt */
	uint8_t raised = inb(UART_IIR), after = inb(UART_IIR);
	outb(UART_IER, 0x00);
	gprintf("uart iir after enabling the thr-empty interrupt: 0x%02x, read again: 0x%02x\n", raised, after);

	/* Loopback: nothing may be printed until the modem control register is back. */
	uint8_t mcr = inb(UART_MCR), byte = (uint8_t)(0x21 + nonce % 90);
	outb(UART_MCR, 0x1f); /* loop, OUT2, OUT1, RTS, DTR */
	uint8_t msr = inb(UART_MSR) & 0xf0;
	outb(COM1, byte);
	uint8_t lsr_full = inb(UART_LSR), got = inb(COM1), lsr_empty = inb(UART_LSR);
	outb(UART_MCR, mcr);
	gprintf("uart loopback: modem status 0x%02x, sent 0x%02x, lsr 0x%02x, got 0x%02x, lsr 0x%02x\n", msr,
		byte, lsr_full, got, lsr_empty);
}

void guest_main(void)
{
	uint64_t nonce = guest_nonce();
	gprintf("platform: nonce=%lu\n", nonce);
	guest_irq_disable();
	pit(nonce);
	rtc(nonce);
	uart(nonce);
	guest_pass();
}
