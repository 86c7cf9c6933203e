/*
 * lapic_bench — what the local APIC costs in exits (make bench's kind of figure,
 * measured by hand: docs/linux.md, "What it costs").
 *
 * `ticks=N`: N periodic APIC timer interrupts, the guest halting between them
 * and its handler writing EOI; `eois=N`: N EOI writes with nothing in
 * service. `x2apic=1` does both through the x2APIC MSRs instead of the
 * xAPIC page. A run with N = 0 gives the baseline: the difference of the
 * hypervisor's exit counters, divided by N, is exits per timer interrupt
 * or per EOI. Under -icount its `BENCH <name> <iterations> <cycles>` line
 * (scripts/bench's format) gives the guest-visible cost of an EOI.
 */
#include "guest.h"
#include "paging.h"
#include "x86.h"

#define APIC_GPA 0xfee00000ull
#define APIC_VA 0x7f0000600000ull

static uint8_t pool[16][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static bool x2apic;
static volatile uint64_t ticks;

static void apic_write(unsigned reg, uint32_t value)
{
	if (x2apic)
		wrmsr(0x800 + reg / 16, value);
	else
		*(volatile uint32_t *)(uintptr_t)(APIC_VA + reg) = value;
}

static void on_timer(struct guest_frame *frame)
{
	(void)frame;
	ticks++;
	apic_write(0xb0, 0);
}

void guest_main(void)
{
	(void)guest_nonce();
	uint64_t n = guest_cmdline_u64("ticks", 0), eois = guest_cmdline_u64("eois", 0);
	x2apic = guest_cmdline_u64("x2apic", 0);
	paging_init(pool, 16);
	uint64_t *space = paging_new_space();
	if (!space || !paging_map(space, APIC_VA, APIC_GPA, PTE_W | PTE_PCD | PTE_PWT))
		guest_error("could not build the page tables");
	paging_load_cr3(space);
	if (x2apic)
		wrmsr(0x1b, rdmsr(0x1b) | 1u << 10);
	guest_set_handler(0x40, on_timer);
	apic_write(0xf0, 0x1ff);
	apic_write(0x3e0, 0xb);
	apic_write(0x320, 0x40 | 1u << 17); /* periodic */
	apic_write(0x380, n ? 1000000 : 0); /* 10 ms at Hypatia's 100 MHz, 1 ms at QEMU's 1 GHz */
	while (ticks < n)
		sti_hlt();
	cli();
	apic_write(0x380, 0);
	uint64_t start = rdtsc();
	for (uint64_t i = 0; i < eois; i++)
		apic_write(0xb0, 0);
	uint64_t cycles = rdtsc() - start;
	gprintf("lapic_bench: %lu ticks, %lu eois\n", (unsigned long)n, (unsigned long)eois);
	if (eois)
		gprintf("BENCH %s_eoi %lu %lu\n", x2apic ? "x2apic" : "xapic", (unsigned long)eois, (unsigned long)cycles);
	guest_pass();
}
