/*
 * bench.c — the guest-visible cost of the operations a hypervisor makes
 * expensive, for `make bench`.
 *
 * Each operation runs `iterations` times between two RDTSCs. Under QEMU's
 * -icount the TSC counts instructions, so the numbers are deterministic and
 * the ratios to the native build say how much virtualization costs: a
 * CPU-bound loop should cost the same everywhere (no exits), an OUT costs
 * one trap-and-emulate round trip deprivileged, and so on.
 * Output: `BENCH <name> <iterations> <tsc cycles>`, then the result line.
 */
#include "guest.h"
#include "hypercall.h"
#include "x86.h"

#define TRAPPING_ITERATIONS 500

static volatile uint64_t sink;

static void report(const char *name, uint64_t iterations, uint64_t start)
{
	uint64_t cycles = rdtsc() - start;
	gprintf("BENCH %s %lu %lu\n", name, (unsigned long)iterations, (unsigned long)cycles);
}

/* Pure computation: no instruction here traps, so virtualization should
 * cost nothing but the timer interrupts that land during it. */
static void bench_loop(uint64_t nonce)
{
	uint64_t x = nonce, iterations = 200000;
	uint64_t start = rdtsc();
	for (uint64_t i = 0; i < iterations; i++)
		x = x * 6364136223846793005ull + 1442695040888963407ull;
	sink = x;
	report("cpu_loop", iterations, start);
}

static void bench_port_out(void)
{
	uint64_t start = rdtsc();
	for (int i = 0; i < TRAPPING_ITERATIONS; i++)
		outb(0x80, (uint8_t)i); /* the POST-code port: harmless everywhere */
	report("port_out", TRAPPING_ITERATIONS, start);
}

static void bench_irq_toggle(void)
{
	uint64_t start = rdtsc();
	for (int i = 0; i < TRAPPING_ITERATIONS; i++) {
		guest_irq_disable();
		guest_irq_enable();
	}
	guest_irq_disable();
	report("irq_disable_enable", TRAPPING_ITERATIONS, start);
}

static void bench_read_cr0(void)
{
	uint64_t start = rdtsc();
	for (int i = 0; i < TRAPPING_ITERATIONS; i++)
		sink += read_cr0();
	report("mov_from_cr0", TRAPPING_ITERATIONS, start);
}

static void bench_rdmsr(void)
{
	uint64_t start = rdtsc();
	for (int i = 0; i < TRAPPING_ITERATIONS; i++)
		sink += rdmsr(0xc0000100); /* FS_BASE */
	report("rdmsr", TRAPPING_ITERATIONS, start);
}

static void on_breakpoint(struct guest_frame *frame)
{
	(void)frame; /* INT3 is a trap: RIP already points after it */
}

/* An exception round trip: #BP delivered to the guest's handler and IRETQ back. */
static void bench_int3(void)
{
	guest_set_handler(3, on_breakpoint);
	uint64_t start = rdtsc();
	for (int i = 0; i < TRAPPING_ITERATIONS; i++)
		__asm__ volatile("int3" ::: "memory");
	report("exception_int3", TRAPPING_ITERATIONS, start);
	guest_set_handler(3, NULL);
}

/* A CR3 reload, then a touch of 64 pages: natively a TLB flush and 64
 * page walks by the hardware; under shadow paging an emptied shadow and 64
 * hidden page faults, each a walk of the guest's tables in software. */
static uint8_t touch_area[64 * 4096] __attribute__((aligned(4096)));

static void bench_cr3_reload(void)
{
	uint64_t iterations = 50;
	uint64_t start = rdtsc();
	for (uint64_t i = 0; i < iterations; i++) {
		write_cr3(read_cr3());
		for (int page = 0; page < 64; page++)
			touch_area[page * 4096] += 1;
	}
	report("cr3_reload_touch64", iterations, start);
}

/* A hypercall that does nothing (an unknown number): the bare round trip. */
static void bench_hypercall(void)
{
	uint64_t start = rdtsc();
	for (int i = 0; i < TRAPPING_ITERATIONS; i++)
		sink += (uint64_t)hypercall0(1000);
	report("null_hypercall", TRAPPING_ITERATIONS, start);
}

void guest_main(void)
{
	uint64_t nonce = guest_nonce();
	bench_loop(nonce);
	bench_port_out();
	bench_irq_toggle();
	bench_read_cr0();
	bench_rdmsr();
	bench_int3();
	bench_cr3_reload();
	if (strcmp(guest_platform(), "pv") == 0)
		bench_hypercall();
	guest_pass();
}
