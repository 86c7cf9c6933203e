/*
 * paging_bench — what a guest that manages its own page tables pays, for
 * the shadow-paging figures of lab 2 (run under QEMU's -icount, where the
 * TSC counts instructions; see scripts/bench and labs/lab2/README.md).
 *
 * Each operation runs `iterations` times between two RDTSCs and prints
 * `BENCH <name> <iterations> <tsc cycles>`, like the bench guest:
 *
 * - first_touch: the first read of a freshly mapped page — natively a TLB
 *   miss and a page walk; on shadow paging one hidden fault;
 * - true_fault: a read of an unmapped page, delivered to the guest's own
 *   handler, which gives up on the access — natively an exception round
 *   trip; on shadow paging a walk, an injected #PF and the IRETQ;
 * - cr3_switch_touch16: switch between two address spaces and read 16
 *   pages in each — natively two TLB flushes and 32 walks; on shadow paging
 *   32 hidden faults per round without a shadow cache, none with one;
 * - fork_exit: a fork-like workload: the child's tables share 16 pages of
 *   the parent copy-on-write (16 parent PTEs made read-only, INVLPG), the
 *   child reads them all and writes 4 (4 copy-on-write faults), exits (its
 *   tables freed), and the parent gets its pages writable back.
 */
#include "guest.h"
#include "paging.h"
#include "x86.h"

#define POOL_PAGES 200
static uint8_t pool[POOL_PAGES][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

#define PTE_COW PTE_SW0
#define SHARED 16
#define WRITTEN 4

static uint64_t *current;
static volatile uint64_t sink;

static void report(const char *name, uint64_t iterations, uint64_t start)
{
	uint64_t cycles = rdtsc() - start;
	gprintf("BENCH %s %lu %lu\n", name, (unsigned long)iterations, (unsigned long)cycles);
}

static void load(uint64_t *pml4)
{
	current = pml4;
	paging_load_cr3(pml4);
}

/* Copy on write: a write to a read-only COW page gets a private copy. */
static bool fixer(const struct paging_fault *f)
{
	uint64_t va = f->cr2 & ~(PAGE_SIZE - 1);
	uint64_t *pte = paging_leaf(current, va, NULL);
	if (!(f->error_code & PF_W) || !pte || !(*pte & PTE_COW))
		return false;
	uint8_t *copy = paging_alloc();
	memcpy(copy, (const void *)(uintptr_t)(*pte & PTE_ADDR), PAGE_SIZE);
	*pte = (uint64_t)(uintptr_t)copy | PTE_P | PTE_W | PTE_NX;
	paging_invlpg(va);
	return true;
}

static uint64_t region(unsigned slot, unsigned page)
{
	return paging_address(250, slot, 0, page);
}

static void touch(unsigned slot, unsigned pages)
{
	for (unsigned page = 0; page < pages; page++)
		sink += *(volatile uint64_t *)(uintptr_t)region(slot, page);
}

static void bench_first_touch(uint64_t *space)
{
	enum { PAGES = 64 };
	for (unsigned page = 0; page < PAGES; page++)
		paging_map(space, region(1, page), (uint64_t)(uintptr_t)paging_alloc(), PTE_W | PTE_NX);
	uint64_t start = rdtsc();
	touch(1, PAGES);
	report("first_touch", PAGES, start);
}

static void bench_true_fault(void)
{
	enum { ITERATIONS = 200 };
	uint64_t start = rdtsc();
	for (unsigned i = 0; i < ITERATIONS; i++)
		paging_try_read(region(2, i % 512), NULL, NULL);
	report("true_fault", ITERATIONS, start);
}

static void bench_cr3_switch(uint64_t *a)
{
	enum { ROUNDS = 50 };
	uint64_t *b = paging_new_space();
	for (unsigned page = 0; page < 16; page++) {
		paging_map(a, region(3, page), (uint64_t)(uintptr_t)paging_alloc(), PTE_W | PTE_NX);
		paging_map(b, region(3, page), (uint64_t)(uintptr_t)paging_alloc(), PTE_W | PTE_NX);
	}
	uint64_t start = rdtsc();
	for (unsigned r = 0; r < ROUNDS; r++) {
		load(b);
		touch(3, 16);
		load(a);
		touch(3, 16);
	}
	report("cr3_switch_touch16", ROUNDS, start);
}

static void bench_fork(uint64_t *parent)
{
	enum { ROUNDS = 20 };
	for (unsigned page = 0; page < SHARED; page++)
		paging_map(parent, region(4, page), (uint64_t)(uintptr_t)paging_alloc(), PTE_W | PTE_NX);
	touch(4, SHARED);
	uint64_t start = rdtsc();
	for (unsigned r = 0; r < ROUNDS; r++) {
		/* fork: share every page read-only, copy on write. */
		uint64_t *child = paging_new_space();
		for (unsigned page = 0; page < SHARED; page++) {
			uint64_t *pte = paging_leaf(parent, region(4, page), NULL);
			*pte = (*pte & ~PTE_W) | PTE_COW;
			paging_invlpg(region(4, page));
			paging_map(child, region(4, page), *pte & PTE_ADDR, (*pte & ~PTE_ADDR) & ~PTE_P);
		}
		/* the child runs: reads everything, writes a few pages. */
		load(child);
		touch(4, SHARED);
		for (unsigned page = 0; page < WRITTEN; page++)
			*(volatile uint64_t *)(uintptr_t)region(4, page) = r;
		/* exit: its copies and tables go; the parent is the sole owner again. */
		load(parent);
		for (unsigned page = 0; page < WRITTEN; page++)
			paging_free((void *)(uintptr_t)(*paging_leaf(child, region(4, page), NULL) & PTE_ADDR));
		paging_free_space(child);
		for (unsigned page = 0; page < SHARED; page++) {
			uint64_t *pte = paging_leaf(parent, region(4, page), NULL);
			*pte = (*pte | PTE_W) & ~PTE_COW;
			paging_invlpg(region(4, page));
		}
		touch(4, SHARED);
	}
	report("fork_exit", ROUNDS, start);
}

void guest_main(void)
{
	gprintf("paging_bench: nonce=%lu\n", guest_nonce());
	paging_init(pool, POOL_PAGES);
	paging_set_fixer(fixer);
	uint64_t *space = paging_new_space();
	load(space);
	bench_first_touch(space);
	bench_true_fault();
	bench_cr3_switch(space);
	bench_fork(space);
	gprintf("true faults seen: %lu\n", paging_faults_seen());
	guest_pass();
}
