/**
 * @file paging.h
 * @brief A small page-table library for test guests that manage their own MMU (lab 2).
 *
 * x86-64 4-level paging (Intel SDM Vol. 3A §4.5, AMD APM Vol. 2 §5.3): a
 * 48-bit virtual address is split into four 9-bit indexes — PML4, PDPT, PD,
 * PT — and a 12-bit offset. Each table is one 4 KiB page of 512 entries; an
 * entry holds the physical address of the next table (or of the page) and
 * the permission bits below. A PD entry with PS = 1 maps a 2 MiB page
 * directly.
 *
 * The same guest runs natively (the shim's tables at CPL 0) and under
 * Hypatia with `mode=shadow` (the hypervisor shadows the guest's tables).
 * Either way the library builds tables from a pool of pages the test gives
 * it (static, page-aligned, in its .bss), so a table's guest-physical
 * address equals its address in the identity-mapped image: a table pointer
 * *is* what goes into an entry or CR3.
 *
 * Every address space the library makes shares one *kernel part*: PML4
 * entry 0 points at one PDPT that identity-maps the guest's image (from
 * 2 MiB to its end, rounded up to 2 MiB) with 2 MiB pages, P W, like the
 * shim. Page 0 and everything else is the test's business; test mappings
 * should use other PML4 slots (the kernel part is shared by all spaces).
 *
 * Nothing here flushes a TLB behind the test's back: after changing an
 * entry that may be cached, call paging_invlpg() or paging_load_cr3() —
 * that is what the tests are about. Both count what they do, so a guest can
 * print how many CR3 loads and INVLPGs it executed.
 *
 * The fault side: paging_init() installs a \#PF handler that counts every
 * page fault the guest sees (paging_faults_seen()), offers it to a *fixer*
 * the test sets (demand paging, copy-on-write: fix the mapping and retry),
 * and otherwise lets a paging_try_*() access give up and report the fault.
 */
#ifndef GUEST_PAGING_H
#define GUEST_PAGING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** @name Sizes
 * @{ */
#define PAGE_SIZE UINT64_C(4096)
#define LARGE_PAGE_SIZE (UINT64_C(2) << 20) /**< a 2 MiB page (PD entry with PS) */
#define PAGE_TABLE_ENTRIES 512
/** @} */

/** @name Page-table entry bits (SDM Vol. 3A §4.5, Tables 4-14 to 4-20)
 * @{ */
#define PTE_P (UINT64_C(1) << 0)    /**< present */
#define PTE_W (UINT64_C(1) << 1)    /**< writable (for CPL 0 only if CR0.WP) */
#define PTE_U (UINT64_C(1) << 2)    /**< user: CPL 3 may access */
#define PTE_PWT (UINT64_C(1) << 3)  /**< write-through */
#define PTE_PCD (UINT64_C(1) << 4)  /**< cache disable */
#define PTE_A (UINT64_C(1) << 5)    /**< accessed: set by the CPU on a walk that uses the entry */
#define PTE_D (UINT64_C(1) << 6)    /**< dirty: set by the CPU on a write, leaf entries only */
#define PTE_PS (UINT64_C(1) << 7)   /**< page size: a PDE maps a 2 MiB page */
#define PTE_G (UINT64_C(1) << 8)    /**< global (ignored: CR4.PGE is off) */
#define PTE_SW0 (UINT64_C(1) << 9)  /**< bits 9-11: ignored by the CPU, free for software */
#define PTE_SW1 (UINT64_C(1) << 10)
#define PTE_SW2 (UINT64_C(1) << 11)
#define PTE_NX (UINT64_C(1) << 63)  /**< no execute (needs EFER.NXE) */
/** Physical-address field of a table entry or 4 KiB PTE (bits 51:12). */
#define PTE_ADDR UINT64_C(0x000ffffffffff000)
/** Physical-address field of a 2 MiB PDE (bits 51:21; bit 12 is PAT, 20:13 reserved). */
#define PTE_LARGE_ADDR UINT64_C(0x000fffffffe00000)
/** @} */

/** @name Page-fault error code (SDM Vol. 3A §4.7, Figure 4-12)
 * @{ */
#define PF_P (1u << 0)    /**< 0: not present; 1: protection (or reserved bit) */
#define PF_W (1u << 1)    /**< the access was a write */
#define PF_U (1u << 2)    /**< the access was at CPL 3 */
#define PF_RSVD (1u << 3) /**< a reserved bit was set in some entry */
#define PF_ID (1u << 4)   /**< the access was an instruction fetch (with EFER.NXE) */
/** @} */

/** Index of @p va in the table of @p level (4 = PML4, 3 = PDPT, 2 = PD, 1 = PT). */
static inline unsigned paging_index(uint64_t va, int level)
{
	return (unsigned)(va >> (12 + 9 * (level - 1))) & 511;
}

/** The canonical address with PML4 index @p l4, PDPT index @p l3, PD index @p l2 and PT index @p l1. */
uint64_t paging_address(unsigned l4, unsigned l3, unsigned l2, unsigned l1);

/** @name The pool and address spaces
 * @{ */
/**
 * Start the library: take @p pages page-aligned pages at @p pool for tables
 * and frames, build the first address space (paging_kernel_space()), and
 * install the \#PF handler. Does not load CR3.
 */
void paging_init(void *pool, size_t pages);
/** A zeroed page from the pool (its address is its guest-physical address); ERROR when exhausted. */
void *paging_alloc(void);
/** Give a page back to the pool. */
void paging_free(void *page);
/** Pages left in the pool. */
size_t paging_pool_left(void);
/** The address space paging_init() built: the kernel part only. */
uint64_t *paging_kernel_space(void);
/** A new address space (a PML4) sharing the kernel part. */
uint64_t *paging_new_space(void);
/** Free a space's own tables (not the kernel part, not the frames it maps). Not while loaded. */
void paging_free_space(uint64_t *pml4);
/** @} */

/** @name Entries and mappings (no TLB flush: the caller decides)
 * @{ */
/**
 * The entry of @p level (4..1) on the walk for @p va, or NULL if a table
 * above is missing or an entry above is a 2 MiB page. With @p create,
 * missing tables are allocated and linked with P W (plus U if
 * @p table_flags has it).
 */
uint64_t *paging_entry(uint64_t *pml4, uint64_t va, int level, bool create, uint64_t table_flags);
/** The leaf entry for @p va (a PTE, or a PDE with PS) and its level (1 or 2), or NULL. */
uint64_t *paging_leaf(uint64_t *pml4, uint64_t va, int *level);
/** Map the 4 KiB page at @p va to physical @p pa with @p flags (PTE_P added); false if a 2 MiB page is there. */
bool paging_map(uint64_t *pml4, uint64_t va, uint64_t pa, uint64_t flags);
/** Map the 2 MiB page at @p va (2 MiB-aligned) to @p pa with @p flags (PTE_P | PTE_PS added). */
bool paging_map_large(uint64_t *pml4, uint64_t va, uint64_t pa, uint64_t flags);
/** Clear the leaf entry for @p va; returns the old entry (0 if none). */
uint64_t paging_unmap(uint64_t *pml4, uint64_t va);
/**
 * Walk @p pml4 for @p va in software: true if mapped, with the physical
 * address in @p pa and, in @p flags, P, W (every level), U (every level),
 * NX (any level), PS (a 2 MiB leaf) and the leaf's A and D. Reserved bits
 * are not checked.
 */
bool paging_translate(const uint64_t *pml4, uint64_t va, uint64_t *pa, uint64_t *flags);
/** @} */

/** @name The MMU: CR3 and INVLPG (each counted)
 * @{ */
/** Load CR3 with @p pml4: switch address space and flush the TLB (no PCID, no global pages). */
void paging_load_cr3(uint64_t *pml4);
/** The loaded PML4 (CR3's address field). */
uint64_t *paging_current(void);
/** INVLPG @p va: drop the TLB's translation of the page that holds it. */
void paging_invlpg(uint64_t va);
/** CR3 loads / INVLPGs the library executed. */
uint64_t paging_cr3_loads(void);
uint64_t paging_invlpgs(void);
/** @} */

/** @name Faults
 * @{ */
/** A fault taken by the \#PF handler, or by a paging_try_*() access. */
struct paging_fault {
	unsigned vector;     /**< 14 (\#PF) or 13 (\#GP) */
	uint64_t error_code; /**< as the CPU pushed it */
	uint64_t cr2;        /**< the faulting address (\#PF only) */
	uint64_t rip;        /**< the faulting instruction */
};
/**
 * A test's fault fixer: called for every \#PF with the fault; return true
 * after changing the mapping so that the access can be retried, false to
 * leave the fault alone (a paging_try_*() access then gives up; any other
 * access is a crash).
 */
typedef bool (*paging_fixer_t)(const struct paging_fault *fault);
/** Install @p fixer (NULL: none). */
void paging_set_fixer(paging_fixer_t fixer);
/** Page faults the guest has seen so far (each one the CPU or the hypervisor delivered). */
uint64_t paging_faults_seen(void);
/**
 * Read / write 8 bytes at @p va, or call @p va as a function returning a
 * value in RAX (the code there must be a leaf: it may not touch the stack
 * but to RET). Page faults go to the fixer first (which may fix and retry);
 * a fault it does not fix — or a \#GP (a non-canonical address) — abandons
 * the access. Returns true if it completed; @p fault (if not NULL) gets the
 * last fault taken (vector 0 if none).
 */
bool paging_try_read(uint64_t va, uint64_t *value, struct paging_fault *fault);
bool paging_try_write(uint64_t va, uint64_t value, struct paging_fault *fault);
bool paging_try_call(uint64_t va, uint64_t *rax, struct paging_fault *fault);
/** @} */

/** @name Small helpers for tests
 * @{ */
/** Write into @p page (a frame) the code `mov $imm32, %eax; ret` at @p offset. */
void paging_put_code(void *page, size_t offset, uint32_t imm32);
/** @} */

#endif
