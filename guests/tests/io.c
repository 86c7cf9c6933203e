/*
 * io — port I/O of every size and form, the first thing lab 1 emulates.
 *
 * Deprivileged (CPL 3, IOPL 0, no I/O-bitmap bits), every IN, OUT, INS and
 * OUTS raises #GP (SDM Vol. 3A §19.5 "I/O Protection"; Vol. 1 §19.5.2) and
 * the hypervisor emulates it against its devices. Each line below has an
 * architecturally defined value natively, so the virtualized run must print
 * the same:
 * - OUT/IN byte round trip through the 16550's scratch register (0x3ff, a
 *   byte that keeps what was written: PC16550D data sheet, "Scratchpad
 *   Register") and the master 8259's interrupt mask (0x21, OCW1);
 * - IN from the UART line-status register (0x3fd): an idle transmitter
 *   reads 0x60 (THRE | TEMT), single and `rep insb`;
 * - `rep outsb` of a nonce-derived line to the UART, forwards and, with
 *   RFLAGS.DF = 1, backwards (SDM Vol. 2B "OUTS", "REP");
 * - IN and OUT of 1, 2 and 4 bytes at an unassigned port: nothing answers,
 *   the bus floats to all-ones, writes vanish. And the way IN merges into
 *   RAX: 8 and 16 bits keep the rest of RAX, 32 bits zero-extend into RAX
 *   (SDM Vol. 1 §3.4.1.1 "General-Purpose Registers in 64-Bit Mode").
 */
#include "guest.h"
#include "x86.h"

#define COM1 0x3f8
#define COM1_LSR (COM1 + 5)
#define COM1_SCRATCH (COM1 + 7)
#define PIC1_DATA 0x21
/* Nothing decodes these ports on a PC with QEMU's -nodefaults devices
 * (0x2c0-0x2df: no ISA card) nor on Hypatia (docs/hypercalls.md). */
#define UNASSIGNED_PORT_BASE 0x2c0

/* IN with RAX preset, to see which bits of RAX the instruction writes. */
static uint64_t in_merged(uint64_t rax, uint16_t port, int size)
{
	if (size == 1)
		__asm__ volatile("inb %%dx, %%al" : "+a"(rax) : "d"(port));
	else if (size == 2)
		__asm__ volatile("inw %%dx, %%ax" : "+a"(rax) : "d"(port));
	else
		__asm__ volatile("inl %%dx, %%eax" : "+a"(rax) : "d"(port));
	return rax;
}

void guest_main(void)
{
	uint64_t nonce = guest_nonce();
	uint8_t scratch = (uint8_t)(nonce ^ (nonce >> 8));
	uint8_t mask = (uint8_t)(nonce >> 16) | 0x01; /* the timer stays masked */
	uint16_t port = UNASSIGNED_PORT_BASE + 4 * (nonce % 8);

	gprintf("io: nonce=%lu\n", nonce);

	/* Byte OUT then IN. */
	outb(COM1_SCRATCH, scratch);
	gprintf("uart scratch: wrote 0x%02x, read 0x%02x\n", scratch, inb(COM1_SCRATCH));
	outb(PIC1_DATA, mask);
	gprintf("pic mask: wrote 0x%02x, read 0x%02x\n", mask, inb(PIC1_DATA));
	outb(PIC1_DATA, 0xff); /* everything masked again, as the shim left it */

	/* IN from the line-status register: single, then string forms. */
	gprintf("inb lsr: 0x%02x\n", inb(COM1_LSR));
	uint8_t buffer[16];
	memset(buffer, 0, sizeof(buffer));
	uint8_t *rdi = buffer;
	__asm__ volatile("insb" : "+D"(rdi) : "d"(COM1_LSR) : "memory");
	gprintf("insb lsr: 0x%02x, rdi advanced by %ld\n", buffer[0], (long)(rdi - buffer));
	uint64_t count = 2 + nonce % 7;
	memset(buffer, 0, sizeof(buffer));
	rdi = buffer;
	uint64_t rcx = count;
	__asm__ volatile("rep insb" : "+D"(rdi), "+c"(rcx) : "d"(COM1_LSR) : "memory");
	gprintf("rep insb lsr x%lu:", count);
	for (uint64_t i = 0; i < count + 1; i++) /* one byte past: must be untouched */
		gprintf(" %02x", buffer[i]);
	gprintf(", rcx=%lu, rdi advanced by %ld\n", rcx, (long)(rdi - buffer));

	/* OUTS: a whole line straight to the UART, forwards ... */
	char line[64];
	int length = gsnprintf(line, sizeof(line), "rep outsb: nonce*7 mod 1000003 = %lu\n",
			       (nonce % 1000003) * 7 % 1000003);
	const char *rsi = line;
	rcx = (uint64_t)length;
	__asm__ volatile("rep outsb" : "+S"(rsi), "+c"(rcx) : "d"(COM1) : "memory");
	gprintf("rep outsb: rcx=%lu, rsi advanced by %ld\n", rcx, (long)(rsi - line));

	/* ... and backwards (DF = 1): the reversed text comes out in order. */
	char reversed[64];
	length = gsnprintf(line, sizeof(line), "std; rep outsb: %lx\n", nonce);
	for (int i = 0; i < length; i++)
		reversed[i] = line[length - 1 - i];
	rsi = reversed + length - 1;
	rcx = (uint64_t)length;
	__asm__ volatile("std; rep outsb; cld" : "+S"(rsi), "+c"(rcx) : "d"(COM1) : "memory", "cc");
	gprintf("std; rep outsb: rcx=%lu, rsi moved by %ld\n", rcx, (long)(rsi - (reversed + length - 1)));

	/* An unassigned port: all-ones of every size, writes ignored. */
	const uint64_t rax = 0x1122334455667788ull;
	gprintf("unassigned port 0x%x: inb 0x%016lx inw 0x%016lx inl 0x%016lx\n", port,
		in_merged(rax, port, 1), in_merged(rax, port, 2), in_merged(rax, port, 4));
	outb(port, (uint8_t)nonce);
	outw(port, (uint16_t)nonce);
	outl(port, (uint32_t)nonce);
	gprintf("after writes: inb 0x%02x inw 0x%04x inl 0x%08x\n", inb(port), inw(port), inl(port));

	GUEST_ASSERT(inb(COM1_SCRATCH) == scratch);
	guest_pass();
}
