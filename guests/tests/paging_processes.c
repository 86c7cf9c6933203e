/*
 * paging_processes — a tiny operating system's memory manager: several
 * address spaces that share a kernel part, CR3 switches between them,
 * demand paging, a copy-on-write fork and munmap.
 *
 * Each "process" has its own PML4 whose entry 0 is the shared kernel part
 * (paging.h); its heap lies at the same virtual address in every process,
 * H = 0x7f0000000000 + (nonce % 512) * 2 MiB, and its code page at H + 1 MiB
 * returns a value of its own. The heap starts empty: the first touch of a
 * page faults and the page-fault handler maps a fresh frame (demand
 * paging). fork() shares the parent's heap frames read-only and marks the
 * entries copy-on-write (a software bit); the first write to one faults
 * and the handler copies the frame (or, if nobody else shares it any
 * more, just makes it writable). munmap() clears an entry and flushes it.
 *
 * Under shadow paging each CR3 switch must switch what the CPU sees —
 * a hypervisor that kept one process's shadow entries for another would
 * show the wrong tags or run the wrong code — and every fault the guest's
 * own handler takes must be a true fault delivered with the right error
 * code, while the rest stay hidden.
 *
 * A hypervisor may keep each process's shadow across switches (a shadow
 * cache keyed by CR3, lab 2 part 2): the guest then switches back and forth
 * many times, and counts how many of its CR3 loads named a root it had
 * loaded before (a cache of at least as many shadows as it has roots finds
 * those, and only those). While one process runs, its kernel also rewrites
 * the page table of another, which is not loaded: no INVLPG is owed — the
 * CR3 load that switches to it flushes the TLB — so that process must see
 * the change at once, however long its shadow was kept.
 */
#include "guest.h"
#include "paging.h"
#include "x86.h"

#define POOL_PAGES 160
static uint8_t pool[POOL_PAGES][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

#define MAX_PROCS 6
#define HEAP_PAGES 8
#define PTE_COW PTE_SW0 /* software bit: copy on write */

struct proc {
	uint64_t *pml4;
	unsigned id;
	uint32_t unmapped;   /* heap pages munmap()ed: faults there are errors */
	unsigned demand_faults, cow_copies, cow_reuses;
};

static struct proc procs[MAX_PROCS + 1];
static struct proc *current;
static unsigned nprocs;
static uint64_t nonce, heap, code_va;
static uint8_t refcount[POOL_PAGES];
static unsigned segfaults;
static int failures;

/* The CR3 values loaded so far (and the one the guest started on). */
#define MAX_ROOTS 16
static uint64_t roots[MAX_ROOTS];
static unsigned nroots, loads_of_known_root, loads_of_new_root;

static const char *yes(bool b)
{
	failures += !b;
	return b ? "yes" : "NO";
}

static uint8_t *refcount_of(uint64_t frame)
{
	return &refcount[(frame - (uint64_t)(uintptr_t)pool) / PAGE_SIZE];
}

static uint64_t new_frame(void)
{
	uint64_t frame = (uint64_t)(uintptr_t)paging_alloc();
	*refcount_of(frame) = 1;
	return frame;
}

static void put_frame(uint64_t frame)
{
	if (--*refcount_of(frame) == 0)
		paging_free((void *)(uintptr_t)frame);
}

/* Load CR3, counting whether this root was loaded before. */
static void load_cr3(uint64_t *pml4)
{
	uint64_t cr3 = (uint64_t)(uintptr_t)pml4;
	bool known = false;
	for (unsigned i = 0; i < nroots; i++)
		known |= roots[i] == cr3;
	if (known) {
		loads_of_known_root++;
	} else {
		loads_of_new_root++;
		if (nroots < MAX_ROOTS)
			roots[nroots++] = cr3;
	}
	paging_load_cr3(pml4);
}

static void switch_to(struct proc *p)
{
	current = p;
	load_cr3(p->pml4);
}

/* The page-fault handler of our little kernel (paging.h's fixer). */
static bool handle_fault(const struct paging_fault *f)
{
	struct proc *p = current;
	uint64_t va = f->cr2 & ~(PAGE_SIZE - 1);
	if (va < heap || va >= heap + HEAP_PAGES * PAGE_SIZE || (p->unmapped >> ((va - heap) / PAGE_SIZE) & 1)) {
		segfaults++;
		return false;
	}
	uint64_t *pte = paging_leaf(p->pml4, va, NULL);
	if (!(f->error_code & PF_P) && (!pte || !(*pte & PTE_P))) {
		/* Demand paging: the first touch. */
		paging_map(p->pml4, va, new_frame(), PTE_W | PTE_NX);
		p->demand_faults++;
		return true;
	}
	if ((f->error_code & PF_W) && pte && (*pte & PTE_COW)) {
		uint64_t frame = *pte & PTE_ADDR;
		if (*refcount_of(frame) > 1) {
			uint64_t copy = new_frame();
			memcpy((void *)(uintptr_t)copy, (const void *)(uintptr_t)frame, PAGE_SIZE);
			put_frame(frame);
			*pte = copy | PTE_P | PTE_W | PTE_NX;
			p->cow_copies++;
		} else {
			*pte = (*pte | PTE_W) & ~PTE_COW; /* the last sharer keeps it */
			p->cow_reuses++;
		}
		/* The read-only entry may be in the TLB. */
		paging_invlpg(va);
		return true;
	}
	segfaults++;
	return false;
}

static uint64_t tag_of(unsigned proc, unsigned page, unsigned round)
{
	uint64_t state = nonce ^ ((uint64_t)proc << 40) ^ ((uint64_t)page << 20) ^ round;
	return splitmix64(&state);
}

static uint64_t heap_address(unsigned page, unsigned proc)
{
	return heap + page * PAGE_SIZE + 8 * ((proc * 7 + page) % 512);
}

/*
 * Heap accesses may fault, and the fault handler changes the counters and
 * tables behind the compiler's back: the "memory" clobbers keep it from
 * caching any of them across an access.
 */
static uint64_t heap_read(unsigned page, unsigned proc)
{
	__asm__ volatile("" ::: "memory");
	uint64_t v = *(volatile uint64_t *)(uintptr_t)heap_address(page, proc);
	__asm__ volatile("" ::: "memory");
	return v;
}

static void heap_write(unsigned page, unsigned proc, uint64_t value)
{
	__asm__ volatile("" ::: "memory");
	*(volatile uint64_t *)(uintptr_t)heap_address(page, proc) = value;
	__asm__ volatile("" ::: "memory");
}

/* The word of heap page @page that process @proc's page @tag_page keeps its tag in. */
static uint64_t heap_read_at(unsigned page, unsigned tag_page, unsigned proc)
{
	__asm__ volatile("" ::: "memory");
	uint64_t v = *(volatile uint64_t *)(uintptr_t)(heap_address(tag_page, proc) - tag_page * PAGE_SIZE +
						       page * PAGE_SIZE);
	__asm__ volatile("" ::: "memory");
	return v;
}

/* Swap the frames of heap pages 0 and 1 in @p's table. */
static void swap_first_pages(struct proc *p)
{
	uint64_t *a = paging_leaf(p->pml4, heap, NULL), *b = paging_leaf(p->pml4, heap + PAGE_SIZE, NULL);
	uint64_t t = *a;
	*a = *b;
	*b = t;
}

static void new_process(struct proc *p, unsigned id)
{
	p->pml4 = paging_new_space();
	p->id = id;
	p->unmapped = 0;
	/* Its code: `mov $value, %eax; ret`, a page of its own at code_va. */
	void *code = (void *)(uintptr_t)new_frame();
	paging_put_code(code, 0, (uint32_t)tag_of(id, 99, 0));
	paging_map(p->pml4, code_va, (uint64_t)(uintptr_t)code, 0);
}

/* Each process writes its round-@round tags into its whole heap. */
static void fill_heaps(unsigned round)
{
	for (unsigned i = 0; i < nprocs; i++) {
		switch_to(&procs[i]);
		for (unsigned page = 0; page < HEAP_PAGES; page++)
			heap_write(page, procs[i].id, tag_of(procs[i].id, page, round));
	}
}

/* Each process reads its heap back and runs its code. */
static bool check_heaps(unsigned round)
{
	bool all = true;
	for (unsigned i = 0; i < nprocs; i++) {
		switch_to(&procs[i]);
		for (unsigned page = 0; page < HEAP_PAGES; page++)
			all &= heap_read(page, procs[i].id) == tag_of(procs[i].id, page, round);
		uint64_t rax = 0;
		all &= paging_try_call(code_va, &rax, NULL) && (uint32_t)rax == (uint32_t)tag_of(procs[i].id, 99, 0);
	}
	return all;
}

static struct proc *do_fork(struct proc *parent, unsigned id)
{
	struct proc *child = &procs[nprocs++];
	new_process(child, id);
	for (unsigned page = 0; page < HEAP_PAGES; page++) {
		uint64_t va = heap + page * PAGE_SIZE;
		uint64_t *pte = paging_leaf(parent->pml4, va, NULL);
		if (!pte || !(*pte & PTE_P))
			continue;
		*pte = (*pte & ~PTE_W) | PTE_COW;
		paging_map(child->pml4, va, *pte & PTE_ADDR, (*pte & ~PTE_ADDR) & ~PTE_P);
		(*refcount_of(*pte & PTE_ADDR))++;
	}
	/* The parent's writable entries may be in the TLB: flush them all. */
	if (current == parent)
		load_cr3(parent->pml4);
	return child;
}

void guest_main(void)
{
	nonce = guest_nonce();
	gprintf("paging_processes: nonce=%lu\n", nonce);
	paging_init(pool, POOL_PAGES);
	paging_set_fixer(handle_fault);
	roots[nroots++] = (uint64_t)(uintptr_t)paging_current();
	heap = 0x7f0000000000ull + (nonce % 512) * LARGE_PAGE_SIZE;
	code_va = heap + 0x100000;

	nprocs = 3 + nonce % 3;
	for (unsigned i = 0; i < nprocs; i++)
		new_process(&procs[i], i);
	bool shared = true;
	for (unsigned i = 1; i < nprocs; i++)
		shared &= procs[i].pml4[0] == procs[0].pml4[0];
	gprintf("%u processes, heap at 0x%lx, code at 0x%lx, kernel part shared: %s\n", nprocs, heap, code_va,
		yes(shared));

	/* Demand paging: every heap page faults once, on its first touch. */
	fill_heaps(0);
	for (unsigned i = 0; i < nprocs; i++)
		gprintf("process %u: %u heap pages mapped on demand\n", i, procs[i].demand_faults);
	gprintf("round 0: every process sees its own heap and runs its own code: %s\n", yes(check_heaps(0)));
	fill_heaps(1);
	gprintf("round 1: %s\n", yes(check_heaps(1)));

	/* Back and forth: every switch returns to an address space used before. */
	unsigned rounds = 4 + nonce % 4;
	bool intact = true;
	for (unsigned r = 0; r < rounds; r++)
		for (unsigned i = 0; i < nprocs; i++) {
			switch_to(&procs[(i + r) % nprocs]);
			for (unsigned page = 0; page < HEAP_PAGES; page++)
				intact &= heap_read(page, current->id) == tag_of(current->id, page, 1);
		}
	gprintf("back and forth, %u rounds of %u switches: every heap intact: %s\n", rounds, nprocs, yes(intact));

	/* Remap while away: process 0's kernel swaps two heap pages in the
	 * table of process 1, which is not loaded. The switch to process 1
	 * flushes the TLB: it sees the swap, with no INVLPG. Swapped back
	 * while it is loaded, the two entries may be cached: INVLPG both. */
	switch_to(&procs[0]);
	swap_first_pages(&procs[1]);
	switch_to(&procs[1]);
	gprintf("process 0 swapped two heap pages of process 1 in its tables; process 1 sees the swap: %s\n",
		yes(heap_read_at(0, 1, 1) == tag_of(1, 1, 1) && heap_read_at(1, 0, 1) == tag_of(1, 0, 1)));
	swap_first_pages(&procs[1]);
	paging_invlpg(heap);
	paging_invlpg(heap + PAGE_SIZE);
	gprintf("swapped back, invlpg: %s\n", yes(heap_read(0, 1) == tag_of(1, 0, 1) && heap_read(1, 1) == tag_of(1, 1, 1)));

	/* fork(): the child shares the parent's frames, copy on write. */
	struct proc *parent = &procs[0];
	switch_to(parent);
	struct proc *child = do_fork(parent, 10);
	switch_to(child);
	bool sees = true;
	for (unsigned page = 0; page < HEAP_PAGES; page++)
		sees &= heap_read(page, 0) == tag_of(0, page, 1);
	gprintf("fork: the child reads the parent's heap: %s, faults: %u\n", yes(sees),
		child->demand_faults + child->cow_copies);
	unsigned written = 1 + nonce % (HEAP_PAGES - 1);
	for (unsigned page = 0; page < written; page++)
		heap_write(page, 0, tag_of(10, page, 2));
	gprintf("fork: the child wrote %u pages: %u copies on write\n", written, child->cow_copies);
	bool child_ok = true;
	for (unsigned page = 0; page < HEAP_PAGES; page++)
		child_ok &= heap_read(page, 0) == (page < written ? tag_of(10, page, 2) : tag_of(0, page, 1));
	gprintf("fork: the child sees its writes and the parent's other pages: %s\n", yes(child_ok));
	switch_to(parent);
	bool parent_ok = true;
	for (unsigned page = 0; page < HEAP_PAGES; page++)
		parent_ok &= heap_read(page, 0) == tag_of(0, page, 1);
	gprintf("fork: the parent's heap is intact: %s\n", yes(parent_ok));
	heap_write(0, 0, tag_of(0, 0, 3));
	heap_write(HEAP_PAGES - 1, 0, tag_of(0, HEAP_PAGES - 1, 3));
	gprintf("fork: the parent wrote pages 0 and %u: %u copies, %u reused (sole owner)\n", HEAP_PAGES - 1,
		parent->cow_copies, parent->cow_reuses);
	switch_to(child);
	gprintf("fork: the child does not see them: %s\n",
		yes(heap_read(0, 0) == tag_of(10, 0, 2) && heap_read(HEAP_PAGES - 1, 0) == tag_of(0, HEAP_PAGES - 1, 1)));

	/* munmap() in the child: the entry goes, INVLPG, the next touch is an error. */
	unsigned gone = nonce % HEAP_PAGES;
	uint64_t gone_va = heap + gone * PAGE_SIZE;
	uint64_t old = paging_unmap(child->pml4, gone_va);
	put_frame(old & PTE_ADDR);
	child->unmapped |= 1u << gone;
	paging_invlpg(gone_va);
	struct paging_fault f;
	bool ok = paging_try_read(heap_address(gone, 0), NULL, &f);
	gprintf("munmap page %u in the child + invlpg, read: %s, #PF error 0x%lx, cr2 matches: %s\n", gone,
		ok ? "completed (WRONG)" : "faulted", f.error_code,
		yes(!ok && f.cr2 == heap_address(gone, 0)));
	failures += ok;
	switch_to(parent);
	gprintf("the parent still has page %u: %s\n", gone,
		yes(heap_read(gone, 0) == (gone == 0 || gone == HEAP_PAGES - 1 ? tag_of(0, gone, 3)
									 : tag_of(0, gone, 1))));

	/* The child exits: its tables and frames go back. */
	size_t before = paging_pool_left();
	for (unsigned page = 0; page < HEAP_PAGES; page++) {
		uint64_t *pte = paging_leaf(child->pml4, heap + page * PAGE_SIZE, NULL);
		if (pte && (*pte & PTE_P))
			put_frame(*pte & PTE_ADDR);
	}
	put_frame(*paging_leaf(child->pml4, code_va, NULL) & PTE_ADDR);
	paging_free_space(child->pml4);
	nprocs--;
	gprintf("the child exited: %s pages freed\n", paging_pool_left() > before ? "its" : "NO");

	/* Everyone again, on new tags: the parent's heap is whole. */
	fill_heaps(4);
	gprintf("round 4, after the fork: %s\n", yes(check_heaps(4)));

	unsigned demand = 0, copies = 0;
	for (unsigned i = 0; i < MAX_PROCS + 1; i++)
		demand += procs[i].demand_faults, copies += procs[i].cow_copies + procs[i].cow_reuses;
	gprintf("demand faults: %u, copy-on-write faults: %u, errors: %u\n", demand, copies, segfaults);
	gprintf("cr3 loads of a root loaded before: %u, of a new root: %u, roots: %u\n", loads_of_known_root,
		loads_of_new_root, nroots);
	gprintf("cr3 loads: %lu, invlpg: %lu\n", paging_cr3_loads(), paging_invlpgs());
	gprintf("true faults seen: %lu\n", paging_faults_seen());
	if (failures)
		guest_fail("%d checks failed", failures);
	guest_pass();
}
