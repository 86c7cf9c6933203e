/*
 * lapic_bad — the local APIC programmed wrongly, on purpose (lab 3).
 *
 * First what the SDM fixes, printed for the grader to compare with what it
 * computes from the SDM and the nonce (Vol. 3A §11.5.3 for ESR, §11.12 for
 * x2APIC, §11.4.4 and Figure 11-27 for IA32_APIC_BASE):
 * - the error status register's bits after a read of a reserved register
 *   (illegal register address), a self-IPI with a vector below 16 (send
 *   and receive illegal vector), a timer whose LVT holds such a vector
 *   (receive illegal vector, no interrupt), and the error interrupt;
 * - #GP for x2APIC MSRs in xAPIC mode, for reserved IA32_APIC_BASE bits,
 *   for the invalid mode transitions, and in x2APIC mode for writes to
 *   read-only registers, reads of write-only ones, reserved bits;
 * - an APIC moved to another base answers there, and comes back in its
 *   reset state after a global disable.
 * Then garbage: a storm of self-IPIs, a timer with a period of one bus
 * cycle, and nonce-seeded random values written to every register,
 * interrupts on. Whatever that does, the domain must end alone and the
 * hypervisor go on (it never runs natively: QEMU's ESR differs, and moving
 * the APIC is not something QEMU emulates).
 */
#include "guest.h"
#include "paging.h"
#include "x86.h"

#define APIC_GPA 0xfee00000ull
#define MOVED_GPA 0xfed00000ull
#define APIC_VA 0x7f0000600000ull
#define MOVED_VA 0x7f0000800000ull
#define POOL_PAGES 16
#define MSR_APIC_BASE 0x1b
#define BASE_ENABLE (1u << 11)
#define BASE_EXTD (1u << 10)

static uint8_t pool[POOL_PAGES][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static volatile uint64_t page = APIC_VA;
static volatile unsigned taken, gp_count, nmis;
static volatile unsigned last_vector;
static uint64_t resume_rip;

static uint32_t reg(unsigned offset) { return *(volatile uint32_t *)(uintptr_t)(page + offset); }
static void set(unsigned offset, uint32_t value) { *(volatile uint32_t *)(uintptr_t)(page + offset) = value; }

static void on_gp(struct guest_frame *frame)
{
	gp_count++;
	frame->rip = resume_rip;
}

/* A timer whose period is shorter than its handler livelocks a real CPU
 * too: after this many interrupts the handler stops the timer itself. */
#define STORM_LIMIT 1000

static void on_interrupt(struct guest_frame *frame)
{
	taken++;
	last_vector = (unsigned)frame->vector;
	if (taken % STORM_LIMIT == 0) {
		set(0x320, 1u << 16);
		set(0x380, 0);
	}
	set(0xb0, 0);
}

static void on_nmi(struct guest_frame *frame)
{
	(void)frame;
	nmis++;
}

/* RDMSR/WRMSR that report a #GP instead of dying of it. */
static bool try_rdmsr(uint32_t msr, uint64_t *value)
{
	uint32_t lo = 0, hi = 0;
	gp_count = 0;
	__asm__ volatile("lea 1f(%%rip), %%rax; mov %%rax, %2; xor %%eax, %%eax; rdmsr; 1:"
			 : "=&a"(lo), "=&d"(hi), "=m"(resume_rip)
			 : "c"(msr)
			 : "memory");
	*value = (uint64_t)hi << 32 | lo;
	return gp_count == 0;
}

static bool try_wrmsr(uint32_t msr, uint64_t value)
{
	gp_count = 0;
	__asm__ volatile("lea 1f(%%rip), %%r11; mov %%r11, %0; wrmsr; 1:"
			 : "=m"(resume_rip)
			 : "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32))
			 : "r11", "memory");
	return gp_count == 0;
}

static const char *gp(bool ok)
{
	return ok ? "no #GP" : "#GP";
}

/* ESR the way the SDM says to read it (§11.5.3): write, then read. */
static uint32_t esr(void)
{
	set(0x280, 0);
	return reg(0x280);
}

static void spin(uint64_t cycles)
{
	uint64_t start = rdtsc();
	while (rdtsc() - start < cycles)
		pause();
}

static void error_status(uint64_t nonce, uint64_t wait)
{
	esr(); /* start clean */
	unsigned reserved = 0x40 + 0x10 * (unsigned)(nonce % 4);
	(void)reg(reserved);
	gprintf("bad: read of reserved register 0x%x: esr 0x%x\n", reserved, esr());
	unsigned vector = (unsigned)(nonce % 16);
	taken = 0;
	set(0x310, 0);
	set(0x300, vector | 1u << 18); /* fixed, self */
	spin(wait);
	gprintf("bad: self-ipi with vector %u: esr 0x%x, taken %u\n", vector, esr(), taken);
	unsigned timer_vector = (unsigned)(nonce / 16 % 16);
	set(0x3e0, 0xb);
	set(0x320, timer_vector);
	set(0x380, 1000);
	spin(wait);
	gprintf("bad: timer with vector %u: esr 0x%x, taken %u\n", timer_vector, esr(), taken);
	unsigned error_vector = 0x90 + (unsigned)(nonce % 16);
	set(0x370, error_vector);
	set(0x300, vector | 1u << 18);
	spin(wait);
	gprintf("bad: error interrupt: taken %u, vector 0x%x, esr 0x%x\n", taken, last_vector, esr());
	set(0x370, 1u << 16);
	set(0x320, 1u << 16);
}

static void base_rules(uint64_t base)
{
	uint64_t value;
	gprintf("bad: rdmsr 0x802 (x2APIC ID) in xAPIC mode: %s\n", gp(try_rdmsr(0x802, &value)));
	gprintf("bad: wrmsr 0x80b (x2APIC EOI) in xAPIC mode: %s\n", gp(try_wrmsr(0x80b, 0)));
	gprintf("bad: apic base with reserved bit 9: %s\n", gp(try_wrmsr(MSR_APIC_BASE, base | 1u << 9)));
	gprintf("bad: apic base with bit 63: %s\n", gp(try_wrmsr(MSR_APIC_BASE, base | 1ull << 63)));
	uint32_t eax, ebx, ecx, edx;
	cpuid(0x80000008, 0, &eax, &ebx, &ecx, &edx);
	gprintf("bad: apic base with the bit at MAXPHYADDR: %s\n",
		gp(try_wrmsr(MSR_APIC_BASE, base | 1ull << (eax & 0xff))));
	gprintf("bad: x2APIC without the global enable: %s\n",
		gp(try_wrmsr(MSR_APIC_BASE, (base & ~(uint64_t)BASE_ENABLE) | BASE_EXTD)));
	/* Moved: the registers answer at the new base. */
	bool moved = try_wrmsr(MSR_APIC_BASE, (base & 0xfff) | MOVED_GPA);
	page = MOVED_VA;
	gprintf("bad: apic moved to 0x%llx: %s, version there 0x%x\n", MOVED_GPA, gp(moved), reg(0x30) & 0xff);
	try_wrmsr(MSR_APIC_BASE, base);
	page = APIC_VA;
	/* x2APIC and its stricter rules. */
	gprintf("bad: xAPIC -> x2APIC: %s\n", gp(try_wrmsr(MSR_APIC_BASE, base | BASE_EXTD)));
	gprintf("bad: x2APIC: write to the version register: %s\n", gp(try_wrmsr(0x803, 0)));
	gprintf("bad: x2APIC: read of SELF IPI: %s\n", gp(try_rdmsr(0x83f, &value)));
	gprintf("bad: x2APIC: read of DFR (none in x2APIC): %s\n", gp(try_rdmsr(0x80e, &value)));
	gprintf("bad: x2APIC: non-zero EOI: %s\n", gp(try_wrmsr(0x80b, 1)));
	gprintf("bad: x2APIC: non-zero ESR write: %s\n", gp(try_wrmsr(0x828, 1)));
	gprintf("bad: x2APIC: ICR with reserved bit 13: %s\n", gp(try_wrmsr(0x830, 1u << 13 | 0x40 | 1u << 18)));
	gprintf("bad: x2APIC: TPR with bit 8: %s\n", gp(try_wrmsr(0x808, 0x100)));
	try_wrmsr(0x828, 0);
	try_wrmsr(0x83f, 3); /* a self-IPI with an illegal vector */
	try_wrmsr(0x828, 0);
	try_rdmsr(0x828, &value);
	gprintf("bad: x2APIC: self ipi vector 3: esr 0x%lx\n", (unsigned long)value);
	gprintf("bad: x2APIC -> xAPIC: %s\n", gp(try_wrmsr(MSR_APIC_BASE, base)));
	gprintf("bad: x2APIC -> disabled: %s\n", gp(try_wrmsr(MSR_APIC_BASE, base & ~(uint64_t)BASE_ENABLE)));
	gprintf("bad: disabled -> x2APIC: %s\n",
		gp(try_wrmsr(MSR_APIC_BASE, (base & ~(uint64_t)BASE_ENABLE) | BASE_ENABLE | BASE_EXTD)));
	gprintf("bad: disabled -> xAPIC: %s\n", gp(try_wrmsr(MSR_APIC_BASE, base)));
	gprintf("bad: after a global disable: svr 0x%x, lvt timer 0x%x, tpr 0x%x\n", reg(0xf0), reg(0x320), reg(0x80));
}

static void storms(uint64_t nonce, uint64_t wait)
{
	set(0xf0, 0x1ff);
	taken = 0;
	for (unsigned i = 0; i < 2000; i++)
		set(0x300, 0x40 | 1u << 18);
	gprintf("bad: 2000 self-ipis: %u taken\n", taken);
	taken = 0;
	set(0x3e0, 0xb);
	set(0x320, 0xe0 | 1u << 17); /* periodic, one bus cycle per period */
	set(0x380, 1);
	spin(wait);
	set(0x320, 1u << 16);
	set(0x380, 0);
	gprintf("bad: timer storm: %u interrupts before its handler stopped it\n", taken);
	/* Garbage: nonce-seeded values into every register of the page. */
	uint64_t state = nonce;
	for (unsigned i = 0; i < 3000; i++) {
		uint64_t r = splitmix64(&state);
		unsigned offset = (unsigned)(r % 64) * 16;
		if (offset == 0xf0)
			continue; /* keep it enabled: the garbage must reach the rest */
		set(offset, (uint32_t)(r >> 32));
		if (i % 64 == 0)
			spin(wait / 64);
	}
	set(0xf0, 0xff); /* software disable: every LVT masked */
	set(0x380, 0);
	spin(wait);
	gprintf("bad: garbage written; interrupts taken, NMIs: some %s\n", taken + nmis ? "yes" : "no");
}

void guest_main(void)
{
	uint64_t nonce = guest_nonce();
	paging_init(pool, POOL_PAGES);
	uint64_t *space = paging_new_space();
	if (!space || !paging_map(space, APIC_VA, APIC_GPA, PTE_W | PTE_PCD | PTE_PWT) ||
	    !paging_map(space, MOVED_VA, MOVED_GPA, PTE_W | PTE_PCD | PTE_PWT))
		guest_error("could not build the page tables");
	paging_load_cr3(space);
	guest_set_handler(13, on_gp);
	guest_set_handler(2, on_nmi);
	for (unsigned v = 32; v < 256; v++)
		guest_set_handler(v, on_interrupt);
	uint64_t countdown = guest_pit_countdown(11932, 1ull << 40);
	uint64_t wait = 2 * (countdown ? countdown : 20000000); /* 20 ms */
	uint64_t base;
	if (!try_rdmsr(MSR_APIC_BASE, &base))
		guest_error("IA32_APIC_BASE is #GP");
	set(0xf0, 0x1ff);
	sti();
	error_status(nonce, wait);
	base_rules(base);
	storms(nonce, wait);
	cli();
	guest_pass();
}
