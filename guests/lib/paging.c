/*
 * paging.c — page tables a test guest builds and loads itself (lab 2).
 *
 * See guests/include/paging.h for the interface. Natively these tables are
 * the real ones: the CPU walks them, sets their A and D bits and caches
 * them in its TLB. Under Hypatia with `mode=shadow` the guest runs at CPL 3
 * on the hypervisor's *shadow* tables: its MOV to CR3 and INVLPG trap, and
 * the hypervisor reads these tables on each page fault to decide whether
 * the fault is its own (hidden: fill the shadow, resume) or the guest's
 * (true: deliver it through the guest's IDT, which lands in
 * on_page_fault() below). A correct hypervisor makes both runs print the
 * same lines.
 *
 * The pool's pages sit in the guest's image, which every address space
 * maps at its own address, so a page's address is its physical address and
 * tables can be read and written through plain pointers.
 */
#include "guest.h"
#include "paging.h"
#include "x86.h"

/* Bits 47:12: the physical address of a table, as this library writes it
 * (guest memory lies far below 2^48). Masking with it — rather than with
 * bits 51:12 — keeps a software walk sane when a test set a reserved high
 * bit in an entry on purpose. */
#define TABLE_ADDR 0x0000fffffffff000ull
#define VECTOR_GP 13
#define VECTOR_PF 14
/* A fixer that "fixes" the same fault this many times in a row has not. */
#define FIX_RETRY_LIMIT 16

extern const char __image_start[], __image_end[];

static uint8_t *pool_base;
static size_t pool_pages, pool_used;
static void *free_list;     /* freed pages, linked through their first word */
static size_t free_count;

static uint64_t *kernel_pml4, *kernel_pdpt;
static uint64_t cr3_loads, invlpgs;

static volatile uint64_t faults_seen;
static paging_fixer_t fixer;
static volatile uint64_t try_resume, try_rsp; /* where an abandoned access continues (0: no try) */
static struct paging_fault last_fault;
static struct paging_fault repeat_fault;
static unsigned repeat_count;

uint64_t paging_address(unsigned l4, unsigned l3, unsigned l2, unsigned l1)
{
	uint64_t va = (uint64_t)(l4 & 511) << 39 | (uint64_t)(l3 & 511) << 30 |
		      (uint64_t)(l2 & 511) << 21 | (uint64_t)(l1 & 511) << 12;
	/* Canonical form: bits 63:48 copy bit 47 (SDM Vol. 1 §3.3.7.1). */
	if (va & (1ull << 47))
		va |= 0xffff000000000000ull;
	return va;
}

/* --- the pool ------------------------------------------------------------ */

void *paging_alloc(void)
{
	void *page;
	if (free_list) {
		page = free_list;
		free_list = *(void **)page;
		free_count--;
	} else if (pool_used < pool_pages) {
		page = pool_base + PAGE_SIZE * pool_used++;
	} else {
		guest_error("paging: the page pool (%zu pages) is exhausted", pool_pages);
	}
	memset(page, 0, PAGE_SIZE);
	return page;
}

void paging_free(void *page)
{
	*(void **)page = free_list;
	free_list = page;
	free_count++;
}

size_t paging_pool_left(void)
{
	return pool_pages - pool_used + free_count;
}

/* --- address spaces -------------------------------------------------------- */

uint64_t *paging_kernel_space(void)
{
	return kernel_pml4;
}

uint64_t *paging_new_space(void)
{
	uint64_t *pml4 = paging_alloc();
	pml4[0] = (uint64_t)(uintptr_t)kernel_pdpt | PTE_P | PTE_W;
	return pml4;
}

/* Free the tables below @table (of @level), not the pages they map. */
static void free_tables(uint64_t *table, int level)
{
	if (level > 1) {
		for (unsigned i = 0; i < PAGE_TABLE_ENTRIES; i++)
			if ((table[i] & PTE_P) && !(table[i] & PTE_PS))
				free_tables((uint64_t *)(uintptr_t)(table[i] & TABLE_ADDR), level - 1);
	}
	paging_free(table);
}

void paging_free_space(uint64_t *pml4)
{
	for (unsigned i = 1; i < PAGE_TABLE_ENTRIES; i++)
		if (pml4[i] & PTE_P)
			free_tables((uint64_t *)(uintptr_t)(pml4[i] & TABLE_ADDR), 3);
	paging_free(pml4);
}

/* --- entries ----------------------------------------------------------------- */

uint64_t *paging_entry(uint64_t *pml4, uint64_t va, int level, bool create, uint64_t table_flags)
{
	uint64_t *table = pml4;
	for (int l = 4; l > level; l--) {
		uint64_t *e = &table[paging_index(va, l)];
		if (!(*e & PTE_P)) {
			if (!create)
				return NULL;
			*e = (uint64_t)(uintptr_t)paging_alloc() | PTE_P | PTE_W | (table_flags & PTE_U);
		} else if (l < 4 && (*e & PTE_PS)) {
			return NULL;
		}
		table = (uint64_t *)(uintptr_t)(*e & TABLE_ADDR);
	}
	return &table[paging_index(va, level)];
}

uint64_t *paging_leaf(uint64_t *pml4, uint64_t va, int *level)
{
	uint64_t *pde = paging_entry(pml4, va, 2, false, 0);
	if (!pde)
		return NULL;
	if ((*pde & PTE_P) && (*pde & PTE_PS)) {
		if (level)
			*level = 2;
		return pde;
	}
	if (!(*pde & PTE_P))
		return NULL;
	if (level)
		*level = 1;
	return &((uint64_t *)(uintptr_t)(*pde & TABLE_ADDR))[paging_index(va, 1)];
}

bool paging_map(uint64_t *pml4, uint64_t va, uint64_t pa, uint64_t flags)
{
	uint64_t *pte = paging_entry(pml4, va, 1, true, flags);
	if (!pte)
		return false;
	*pte = (pa & PTE_ADDR) | (flags & ~PTE_ADDR) | PTE_P;
	return true;
}

bool paging_map_large(uint64_t *pml4, uint64_t va, uint64_t pa, uint64_t flags)
{
	uint64_t *pde = paging_entry(pml4, va, 2, true, flags);
	if (!pde)
		return false;
	*pde = (pa & PTE_LARGE_ADDR) | (flags & ~PTE_ADDR) | PTE_P | PTE_PS;
	return true;
}

uint64_t paging_unmap(uint64_t *pml4, uint64_t va)
{
	uint64_t *leaf = paging_leaf(pml4, va, NULL);
	if (!leaf)
		return 0;
	uint64_t old = *leaf;
	*leaf = 0;
	return old;
}

bool paging_translate(const uint64_t *pml4, uint64_t va, uint64_t *pa, uint64_t *flags)
{
	const uint64_t *table = pml4;
	uint64_t acc = PTE_P | PTE_W | PTE_U;
	for (int l = 4; l >= 1; l--) {
		uint64_t e = table[paging_index(va, l)];
		if (!(e & PTE_P))
			return false;
		acc &= e | ~(PTE_W | PTE_U);
		acc |= e & PTE_NX;
		if (l == 1 || (l == 2 && (e & PTE_PS))) {
			uint64_t size = l == 1 ? PAGE_SIZE : LARGE_PAGE_SIZE;
			if (pa)
				*pa = (e & (l == 1 ? PTE_ADDR : PTE_LARGE_ADDR) & TABLE_ADDR) + (va & (size - 1));
			if (flags)
				*flags = acc | (e & (PTE_A | PTE_D)) | (l == 2 ? PTE_PS : 0);
			return true;
		}
		table = (const uint64_t *)(uintptr_t)(e & TABLE_ADDR);
	}
	return false;
}

/* --- CR3 and INVLPG ------------------------------------------------------------ */

void paging_load_cr3(uint64_t *pml4)
{
	cr3_loads++;
	write_cr3((uint64_t)(uintptr_t)pml4);
}

uint64_t *paging_current(void)
{
	return (uint64_t *)(uintptr_t)(read_cr3() & TABLE_ADDR);
}

void paging_invlpg(uint64_t va)
{
	invlpgs++;
	invlpg((const void *)(uintptr_t)va);
}

uint64_t paging_cr3_loads(void) { return cr3_loads; }
uint64_t paging_invlpgs(void) { return invlpgs; }

/* --- faults ------------------------------------------------------------------- */

void paging_set_fixer(paging_fixer_t f)
{
	fixer = f;
}

uint64_t paging_faults_seen(void)
{
	return faults_seen;
}

/*
 * Every #PF the guest sees comes here: natively from the CPU, under shadow
 * paging from the hypervisor (a *true* fault; hidden ones never reach the
 * guest). CR2 holds the faulting address (SDM Vol. 3A §4.7).
 */
static void on_page_fault(struct guest_frame *f)
{
	struct paging_fault fault = { VECTOR_PF, f->error_code, read_cr2(), f->rip };
	faults_seen++;
	last_fault = fault;
	if (fixer && fixer(&fault)) {
		/* Retry the access: the fixer changed the mapping. */
		if (fault.rip == repeat_fault.rip && fault.cr2 == repeat_fault.cr2 &&
		    fault.error_code == repeat_fault.error_code) {
			if (++repeat_count >= FIX_RETRY_LIMIT)
				guest_fail("paging: the same #PF (error 0x%lx, cr2 0x%lx) came back %u times after "
					   "being fixed", fault.error_code, fault.cr2, repeat_count);
		} else {
			repeat_fault = fault;
			repeat_count = 0;
		}
		return;
	}
	if (try_resume) {
		/* A paging_try_*() access: abandon it. */
		f->rip = try_resume;
		f->rsp = try_rsp;
		return;
	}
	/* Nobody wants this fault: let it happen again with no handler, so
	 * that the runtime reports it as the crash it is. */
	guest_set_handler(VECTOR_PF, NULL);
}

/* #GP during a paging_try_*() access (a non-canonical address): abandon it. */
static void on_general_protection(struct guest_frame *f)
{
	last_fault = (struct paging_fault){ VECTOR_GP, f->error_code, 0, f->rip };
	f->rip = try_resume;
	f->rsp = try_rsp;
}

static void try_begin(void)
{
	last_fault.vector = 0;
	guest_set_handler(VECTOR_GP, on_general_protection);
}

static bool try_end(bool completed, struct paging_fault *fault)
{
	guest_set_handler(VECTOR_GP, NULL);
	try_resume = 0;
	if (fault)
		*fault = last_fault;
	return completed;
}

/*
 * The accesses: label 1 is where an abandoned access continues. R11 is
 * left at 1 by the completed path only (a fault's handler restores the
 * registers as they were at the fault, with R11 = 0).
 */
bool paging_try_read(uint64_t va, uint64_t *value, struct paging_fault *fault)
{
	uint64_t v = 0, done;
	try_begin();
	__asm__ volatile("leaq 1f(%%rip), %%r11\n\t"
			 "movq %%r11, %[resume]\n\t"
			 "movq %%rsp, %[rsp]\n\t"
			 "xorl %%r11d, %%r11d\n\t"
			 "movq (%[va]), %[v]\n\t"
			 "movl $1, %%r11d\n"
			 "1:\n\t"
			 "movq %%r11, %[done]"
			 : [v] "+r"(v), [done] "=r"(done), [resume] "=m"(try_resume), [rsp] "=m"(try_rsp)
			 : [va] "r"(va)
			 : "r11", "memory");
	if (value)
		*value = v;
	return try_end(done, fault);
}

bool paging_try_write(uint64_t va, uint64_t value, struct paging_fault *fault)
{
	uint64_t done;
	try_begin();
	__asm__ volatile("leaq 1f(%%rip), %%r11\n\t"
			 "movq %%r11, %[resume]\n\t"
			 "movq %%rsp, %[rsp]\n\t"
			 "xorl %%r11d, %%r11d\n\t"
			 "movq %[v], (%[va])\n\t"
			 "movl $1, %%r11d\n"
			 "1:\n\t"
			 "movq %%r11, %[done]"
			 : [done] "=r"(done), [resume] "=m"(try_resume), [rsp] "=m"(try_rsp)
			 : [va] "r"(va), [v] "r"(value)
			 : "r11", "memory");
	return try_end(done, fault);
}

bool paging_try_call(uint64_t va, uint64_t *rax, struct paging_fault *fault)
{
	uint64_t r = 0, done;
	try_begin();
	/* An abandoned call resumes at 1 with RSP as before the CALL: the
	 * return address it pushed is dropped. */
	__asm__ volatile("leaq 1f(%%rip), %%r11\n\t"
			 "movq %%r11, %[resume]\n\t"
			 "movq %%rsp, %[rsp]\n\t"
			 "xorl %%r11d, %%r11d\n\t"
			 "call *%[va]\n\t"
			 "movl $1, %%r11d\n"
			 "1:\n\t"
			 "movq %%r11, %[done]"
			 : "+a"(r), [done] "=r"(done), [resume] "=m"(try_resume), [rsp] "=m"(try_rsp)
			 : [va] "r"(va)
			 : "r11", "memory");
	if (rax)
		*rax = r;
	return try_end(done, fault);
}

/* --- start ----------------------------------------------------------------------- */

void paging_init(void *pool, size_t pages)
{
	if ((uintptr_t)pool % PAGE_SIZE)
		guest_error("paging: the page pool must be page-aligned");
	pool_base = pool;
	pool_pages = pages;
	pool_used = 0;
	free_list = NULL;
	free_count = 0;

	/* The kernel part: the image identity-mapped with 2 MiB pages, P W,
	 * executable — what the shim and the hypervisor's first tables give. */
	kernel_pdpt = paging_alloc();
	uint64_t start = (uint64_t)(uintptr_t)__image_start & ~(LARGE_PAGE_SIZE - 1);
	uint64_t end = ((uint64_t)(uintptr_t)__image_end + LARGE_PAGE_SIZE - 1) & ~(LARGE_PAGE_SIZE - 1);
	kernel_pml4 = paging_alloc();
	kernel_pml4[0] = (uint64_t)(uintptr_t)kernel_pdpt | PTE_P | PTE_W;
	for (uint64_t a = start; a < end; a += LARGE_PAGE_SIZE)
		if (!paging_map_large(kernel_pml4, a, a, PTE_W))
			guest_error("paging: cannot map the image at 0x%lx", a);
	guest_set_handler(VECTOR_PF, on_page_fault);
}

/* --- helpers --------------------------------------------------------------------- */

void paging_put_code(void *page, size_t offset, uint32_t imm32)
{
	uint8_t *p = (uint8_t *)page + offset;
	p[0] = 0xb8; /* mov $imm32, %eax */
	memcpy(p + 1, &imm32, 4);
	p[5] = 0xc3; /* ret */
}
