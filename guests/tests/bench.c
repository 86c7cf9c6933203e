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
 *
 * Arguments: `only=NAME` runs one operation (scripts/bench runs each alone
 * to count the hypervisor's exits per operation), `dry=1` runs it zero times
 * (the same run otherwise: what the count of exits is compared with),
 * `paging=0` leaves out the operations on the guest's own page tables
 * (paging mode direct ignores them).
 *
 * The workloads: a CPU-bound loop; a system-call-like kernel entry (INT $0x80
 * to the guest's own handler and IRETQ back: the guest runtime has no user
 * mode, so this is the entry and exit a system call pays); page faults the
 * guest's kernel resolves itself (demand paging: map on #PF); and a
 * fork-like copy-on-write pass (write-protect, fault, copy, remap).
 */
#include "guest.h"
#include "hypercall.h"
#include "paging.h"
#include "user.h"
#include "x86.h"

#define TRAPPING_ITERATIONS 500

static volatile uint64_t sink;
static char only[32];
static uint64_t scale = 1; /* 0 with dry=1 */

/* Whether operation @name is to run (`only=`, or all). */
static bool wanted(const char *name)
{
	return !only[0] || strcmp(only, name) == 0;
}

static void report(const char *name, uint64_t iterations, uint64_t start)
{
	uint64_t cycles = rdtsc() - start;
	gprintf("BENCH %s %lu %lu\n", name, (unsigned long)iterations, (unsigned long)cycles);
}

/* Pure computation: no instruction here traps, so virtualization should
 * cost nothing but the timer interrupts that land during it. */
static void bench_loop(uint64_t nonce)
{
	uint64_t x = nonce, iterations = 200000 * scale;
	uint64_t start = rdtsc();
	for (uint64_t i = 0; i < iterations; i++)
		x = x * 6364136223846793005ull + 1442695040888963407ull;
	sink = x;
	report("cpu_loop", iterations, start);
}

static void bench_port_out(void)
{
	uint64_t start = rdtsc();
	for (uint64_t i = 0; i < TRAPPING_ITERATIONS * scale; i++)
		outb(0x80, (uint8_t)i); /* the POST-code port: harmless everywhere */
	report("port_out", TRAPPING_ITERATIONS * scale, start);
}

static void bench_irq_toggle(void)
{
	uint64_t start = rdtsc();
	for (uint64_t i = 0; i < TRAPPING_ITERATIONS * scale; i++) {
		guest_irq_disable();
		guest_irq_enable();
	}
	guest_irq_disable();
	report("irq_disable_enable", TRAPPING_ITERATIONS * scale, start);
}

static void bench_read_cr0(void)
{
	uint64_t start = rdtsc();
	for (uint64_t i = 0; i < TRAPPING_ITERATIONS * scale; i++)
		sink += read_cr0();
	report("mov_from_cr0", TRAPPING_ITERATIONS * scale, start);
}

static void bench_rdmsr(void)
{
	uint64_t start = rdtsc();
	for (uint64_t i = 0; i < TRAPPING_ITERATIONS * scale; i++)
		sink += rdmsr(0xc0000100); /* FS_BASE */
	report("rdmsr", TRAPPING_ITERATIONS * scale, start);
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
	for (uint64_t i = 0; i < TRAPPING_ITERATIONS * scale; i++)
		__asm__ volatile("int3" ::: "memory");
	report("exception_int3", TRAPPING_ITERATIONS * scale, start);
	guest_set_handler(3, NULL);
}

/* A CR3 reload, then a touch of 64 pages: natively a TLB flush and 64
 * page walks by the hardware; under shadow paging an emptied shadow and 64
 * hidden page faults, each a walk of the guest's tables in software. */
static uint8_t touch_area[64 * 4096] __attribute__((aligned(4096)));

static void bench_cr3_reload(void)
{
	uint64_t iterations = 50 * scale;
	uint64_t start = rdtsc();
	for (uint64_t i = 0; i < iterations; i++) {
		write_cr3(read_cr3());
		for (int page = 0; page < 64; page++)
			touch_area[page * 4096] += 1;
	}
	report("cr3_reload_touch64", iterations, start);
}

/* CPUID: no instruction exits more surely (VMX cannot even be told not to). */
static void bench_cpuid(void)
{
	uint32_t a, b, c, d;
	uint64_t start = rdtsc();
	for (uint64_t i = 0; i < TRAPPING_ITERATIONS * scale; i++) {
		cpuid(0, 0, &a, &b, &c, &d);
		sink += a;
	}
	report("cpuid", TRAPPING_ITERATIONS * scale, start);
}

/* A hypercall that does nothing (an unknown number): the bare round trip,
 * through `int $0x82` (pv) or VMMCALL/VMCALL (a hardware-assisted domain of
 * a Xen-compatible hypervisor, recognised by CPUID leaf 0x40000000; the
 * vendor picks). */
enum door { DOOR_NONE, DOOR_INT_0X82, DOOR_VMCALL, DOOR_VMMCALL };

static enum door bench_door(void)
{
	if (strcmp(guest_platform(), "pv") == 0)
		return DOOR_INT_0X82;
	if (!hypercall_find_xen())
		return DOOR_NONE;
	return hypercall_door == HYPERCALL_DOOR_VMCALL ? DOOR_VMCALL : DOOR_VMMCALL;
}

static void bench_hypercall(enum door door)
{
	uint64_t start = rdtsc();
	for (uint64_t i = 0; i < TRAPPING_ITERATIONS * scale; i++) {
		uint64_t result = 1000;
		if (door == DOOR_INT_0X82)
			result = (uint64_t)hypercall3(1000, 0, 0, 0);
		else if (door == DOOR_VMCALL)
			__asm__ volatile("vmcall" : "+a"(result) : : "memory");
		else
			__asm__ volatile("vmmcall" : "+a"(result) : : "memory");
		sink += result;
	}
	report("null_hypercall", TRAPPING_ITERATIONS * scale, start);
}

/* A system call's kernel entry and exit, without user mode: INT $0x80 to
 * the guest's own handler, IRETQ back. Natively and at CPL 0 under SVM/VMX
 * the CPU does both; deprivileged, each is a trap the hypervisor emulates. */
static void on_syscall(struct guest_frame *frame)
{
	frame->rax += 1;
}

static void bench_int80(void)
{
	guest_set_handler(0x80, on_syscall);
	uint64_t start = rdtsc(), value = 0;
	for (uint64_t i = 0; i < TRAPPING_ITERATIONS * scale; i++)
		__asm__ volatile("int $0x80" : "+a"(value) : : "memory");
	report("syscall_int80", TRAPPING_ITERATIONS * scale, start);
	sink += value;
	guest_set_handler(0x80, NULL);
}

/* The first write to a page the guest never touched. Natively a store; under
 * nested paging the domain's RAM is populated on first touch, so it is a
 * nested page fault (an EPT violation) and a frame for the hypervisor to zero.
 * Not .bss, which the loader writes: guest-physical 6-7 MiB, above the image
 * and below the initial page tables of the smallest domain scripts/bench
 * makes (8 MiB); identity-mapped by the initial tables, natively too. */
#define FRESH_PAGES 256
#define FRESH_AREA 0x600000ull
static volatile uint8_t (*const fresh)[4096] = (volatile uint8_t (*)[4096])(uintptr_t)FRESH_AREA;

static void bench_first_touch(void)
{
	uint64_t start = rdtsc();
	for (uint64_t page = 0; page < FRESH_PAGES * scale; page++)
		fresh[page][page % 64] = (uint8_t)page;
	report("first_touch_page", FRESH_PAGES * scale, start);
}

/* --- the guest's own page faults ------------------------------------------------------- */

#define POOL_PAGES 32
#define WORK_PAGES 32
#define ROUNDS 8
#define REGION 0x7f0000000000ull

static uint8_t pool[POOL_PAGES][4096] __attribute__((aligned(4096)));
static uint8_t parent[WORK_PAGES][4096] __attribute__((aligned(4096)));
static uint8_t child[WORK_PAGES][4096] __attribute__((aligned(4096)));
static uint64_t *space;
static bool copy_on_write;

/* The guest kernel's #PF handler. Demand paging: map the missing page.
 * Copy-on-write: copy the shared page, remap it writable, flush it. */
static void on_page_fault(struct guest_frame *frame)
{
	uint64_t va = read_cr2() & ~0xfffull;
	unsigned page = (unsigned)((va - REGION) / 4096);
	if (va < REGION || page >= WORK_PAGES)
		guest_fail("unexpected #PF at 0x%lx (error 0x%lx)", read_cr2(), frame->error_code);
	if (!copy_on_write) {
		paging_map(space, va, (uint64_t)(uintptr_t)child[page], PTE_W | PTE_NX);
		return;
	}
	memcpy(child[page], parent[page], 4096);
	paging_map(space, va, (uint64_t)(uintptr_t)child[page], PTE_W | PTE_NX);
	invlpg((const void *)(uintptr_t)va);
}

static void touch_region(void)
{
	for (int page = 0; page < WORK_PAGES; page++)
		*(volatile uint8_t *)(uintptr_t)(REGION + page * 4096 + page) += 1;
}

/* Demand paging: each round unmaps the region (one CR3 reload flushes it)
 * and touches its pages again: one #PF per page, resolved by the guest. */
static void bench_demand_paging(void)
{
	copy_on_write = false;
	uint64_t start = rdtsc();
	for (uint64_t round = 0; round < ROUNDS * scale; round++) {
		for (int page = 0; page < WORK_PAGES; page++)
			paging_unmap(space, REGION + page * 4096);
		paging_load_cr3(space);
		touch_region();
	}
	report("demand_page_fault", ROUNDS * WORK_PAGES * scale, start);
}

/* fork()'s copy-on-write: each round maps the region read-only onto the
 * parent's frames (the fork), flushes, then writes every page: one
 * protection #PF per page, a 4 KiB copy, a remap and an INVLPG. */
static void bench_copy_on_write(void)
{
	copy_on_write = true;
	uint64_t start = rdtsc();
	for (uint64_t round = 0; round < ROUNDS * scale; round++) {
		for (int page = 0; page < WORK_PAGES; page++)
			paging_map(space, REGION + page * 4096, (uint64_t)(uintptr_t)parent[page], PTE_NX);
		paging_load_cr3(space);
		touch_region();
	}
	report("cow_fault", ROUNDS * WORK_PAGES * scale, start);
}

static void bench_own_page_faults(void)
{
	paging_init(pool, POOL_PAGES);
	space = paging_new_space();
	if (!space)
		guest_error("no page-table pool");
	paging_load_cr3(space);
	guest_set_handler(14, on_page_fault);
	if (wanted("demand_page_fault"))
		bench_demand_paging();
	if (wanted("cow_fault"))
		bench_copy_on_write();
	guest_set_handler(14, NULL);
	paging_load_cr3(paging_kernel_space());
}

/* A system call from user mode and back: INT 0x80 through a DPL-3 gate,
 * a handler that does nothing, IRETQ to CPL 3. It needs page tables of the
 * guest's own with a user page, so it runs natively and under shadow or
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

static void on_user_syscall(struct guest_frame *frame)
{
	if (frame->rax == 1)
		user_return(0);
}

static void bench_user_syscall(void)
{
	uint64_t old_cr3 = read_cr3();
	paging_init(user_pool, ARRAY_SIZE(user_pool));
	uint64_t *user_space = paging_new_space();
	void *code = paging_alloc(), *stack = paging_alloc();
	if (!user_space || !code || !stack)
		guest_error("no page-table pool");
	memcpy(code, bench_user_start, (size_t)(bench_user_end - bench_user_start));
	if (!paging_map(user_space, BENCH_USER_VA, (uint64_t)(uintptr_t)code, PTE_U) ||
	    !paging_map(user_space, BENCH_USER_VA + PAGE_SIZE, (uint64_t)(uintptr_t)stack, PTE_U | PTE_W))
		guest_error("cannot map the user pages");
	paging_load_cr3(user_space);
	user_init();
	user_open_gate(0x80);
	guest_set_handler(0x80, on_user_syscall);
	user_run(BENCH_USER_VA, BENCH_USER_VA + 2 * PAGE_SIZE, 1); /* warm up (dry runs too): fill the shadow */
	uint64_t start = rdtsc();
	if (scale) /* the loop runs at least once: 0 iterations would be 2^64 */
		user_run(BENCH_USER_VA, BENCH_USER_VA + 2 * PAGE_SIZE, SYSCALL_ITERATIONS * scale);
	report("user_syscall", SYSCALL_ITERATIONS * scale, start);
	guest_set_handler(0x80, NULL);
	write_cr3(old_cr3);
}

void guest_main(void)
{
	uint64_t nonce = guest_nonce();
	if (!guest_cmdline_get("only", only, sizeof(only)))
		only[0] = '\0';
	scale = guest_cmdline_u64("dry", 0) ? 0 : 1;
	enum door door = bench_door();
	if (wanted("cpu_loop"))
		bench_loop(nonce);
	if (wanted("cpuid"))
		bench_cpuid();
	if (wanted("port_out"))
		bench_port_out();
	if (wanted("irq_disable_enable"))
		bench_irq_toggle();
	if (wanted("mov_from_cr0"))
		bench_read_cr0();
	if (wanted("rdmsr"))
		bench_rdmsr();
	if (wanted("exception_int3"))
		bench_int3();
	if (wanted("syscall_int80"))
		bench_int80();
	if (guest_cmdline_u64("paging", 1) && wanted("user_syscall"))
		bench_user_syscall();
	if (wanted("cr3_reload_touch64"))
		bench_cr3_reload();
	if (door != DOOR_NONE && wanted("null_hypercall"))
		bench_hypercall(door);
	if (wanted("first_touch_page"))
		bench_first_touch();
	if (guest_cmdline_u64("paging", 1) && (wanted("demand_page_fault") || wanted("cow_fault")))
		bench_own_page_faults();
	guest_pass();
}
