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
#include "paging.h"
#include "user.h"
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

/* A system call from user mode and back: INT 0x80 through a DPL-3 gate,
 * a handler that does nothing, IRETQ to CPL 3. It needs page tables of
 * the guest's own with a user page, so it runs natively and under shadow or
 * nested paging; in paging mode "direct" (no guest tables) it is skipped. */
#define SYSCALL_ITERATIONS 200
#define BENCH_USER_VA 0x400000000000ull /* PML4 slot 128 */
static uint8_t user_pool[16][4096] __attribute__((aligned(4096)));
extern const char bench_user_start[], bench_user_end[];
__asm__(".pushsection .text\n"
	"bench_user_start:\n"
	"1:\tint $0x80\n\tdecq %rdi\n\tjnz 1b\n\t"
	"movl $1, %eax\n\tint $0x80\n\tud2\n"
	"bench_user_end:\n"
	".popsection");

static void on_syscall(struct guest_frame *frame)
{
	if (frame->rax == 1)
		user_return(0);
}

static void bench_user_syscall(void)
{
	uint64_t old_cr3 = read_cr3();
	paging_init(user_pool, ARRAY_SIZE(user_pool));
	uint64_t *space = paging_new_space();
	void *code = paging_alloc(), *stack = paging_alloc();
	memcpy(code, bench_user_start, (size_t)(bench_user_end - bench_user_start));
	if (!paging_map(space, BENCH_USER_VA, (uint64_t)(uintptr_t)code, PTE_U) ||
	    !paging_map(space, BENCH_USER_VA + PAGE_SIZE, (uint64_t)(uintptr_t)stack, PTE_U | PTE_W))
		return;
	paging_load_cr3(space);
	if (paging_try_read(BENCH_USER_VA, NULL, NULL)) {
		user_init();
		user_open_gate(0x80);
		guest_set_handler(0x80, on_syscall);
		user_run(BENCH_USER_VA, BENCH_USER_VA + 2 * PAGE_SIZE, 1); /* warm up: fill the shadow */
		uint64_t start = rdtsc();
		user_run(BENCH_USER_VA, BENCH_USER_VA + 2 * PAGE_SIZE, SYSCALL_ITERATIONS);
		report("user_syscall", SYSCALL_ITERATIONS, start);
		guest_set_handler(0x80, NULL);
	}
	write_cr3(old_cr3);
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
	bench_user_syscall();
	guest_pass();
}
