/**
 * @file paging.h
 * @brief Building 4-level x86-64 page tables (hypervisor and PV guest address spaces).
 *
 * Entry format: Intel SDM Vol. 3A §4.5 (Tables 4-14 to 4-20), AMD APM Vol. 2
 * §5.3. A PML4 covers 256 TiB; its upper half (entries 256-511) is the
 * hypervisor's and is shared by every address space, so switching CR3
 * between guests never unmaps the hypervisor.
 */
#ifndef HYPATIA_PAGING_H
#define HYPATIA_PAGING_H

#include "types.h"

/** @name Page-table entry bits
 *  @{ */
#define PTE_PRESENT (1ull << 0)  /**< P: the entry maps something */
#define PTE_WRITE (1ull << 1)    /**< R/W: writes allowed */
#define PTE_USER (1ull << 2)     /**< U/S: CPL 3 may access */
#define PTE_ACCESSED (1ull << 5) /**< A: set by the CPU on access */
#define PTE_DIRTY (1ull << 6)    /**< D: set by the CPU on write (last level) */
#define PTE_LARGE (1ull << 7)    /**< PS: a 2 MiB / 1 GiB page, not a table */
#define PTE_GLOBAL (1ull << 8)   /**< G: survives CR3 loads */
#define PTE_NX (1ull << 63)      /**< XD/NX: no instruction fetch (needs EFER.NXE) */
#define PTE_ADDR_MASK 0x000ffffffffff000ull /**< bits 51:12: the physical address */
/** @} */

/** Allocate an address space: a PML4 whose upper half is the hypervisor's. Returns its physical address, 0 if out of memory. */
paddr_t paging_create_address_space(void);
/**
 * Map the 4 KiB page at virtual @p va to physical @p pa in the address space
 * @p pml4 with @p flags (PTE_* bits; PTE_PRESENT is implied), allocating
 * intermediate tables as needed. Intermediate entries get U/W set so the
 * last level alone decides. Returns false if out of memory.
 */
bool paging_map(paddr_t pml4, vaddr_t va, paddr_t pa, uint64_t flags);
/** paging_map(), adding to @p tables_added (if not NULL) the number of page tables it allocated. */
bool paging_map_counted(paddr_t pml4, vaddr_t va, paddr_t pa, uint64_t flags, unsigned *tables_added);
/** Physical address @p va maps to in @p pml4 (4 KiB pages only), or 0 if unmapped. */
paddr_t paging_translate(paddr_t pml4, vaddr_t va);
/** The 4 KiB page-table entry for @p va in @p pml4 (present or not), or NULL if a table above is missing. */
uint64_t *paging_leaf(paddr_t pml4, vaddr_t va);
/**
 * Allocate an empty PML4 with no hypervisor half: the shadow root of an HVM
 * guest, which runs at CPL 0 and must see nothing of the hypervisor.
 * Returns its physical address, 0 if out of memory.
 */
paddr_t paging_create_guest_root(void);
/** Free every page table of @p pml4 except the shared hypervisor half (not the mapped frames); returns the number freed. */
unsigned paging_clear(paddr_t pml4);
/** Drop the page table that maps the 2 MiB-aligned region around @p va (4 KiB mappings only); returns tables freed. */
unsigned paging_drop_2m_region(paddr_t pml4, vaddr_t va);
/**
 * Clear the entry of @p level (3 = PML4 ... 0 = PT) on the walk for @p va,
 * freeing the tables below it: everything @p pml4 maps in the region that
 * entry covers is gone. The shared hypervisor half is never touched.
 * Returns the number of tables freed.
 */
unsigned paging_drop_entry(paddr_t pml4, vaddr_t va, int level);
/** For paging_write_protect_frame() and paging_unmap_marked_frame(): the frame may be mapped anywhere. */
#define PAGING_ANY_VA (~0ull)
/**
 * Make the writable 4 KiB mapping of physical @p frame at @p va in @p pml4
 * read-only, setting the software bit @p mark in it — or, with @p va =
 * #PAGING_ANY_VA, every such mapping in @p pml4's own half (a search of the
 * whole tree). Returns how many changed.
 */
unsigned paging_write_protect_frame(paddr_t pml4, vaddr_t va, paddr_t frame, uint64_t mark);
/** Remove the mapping of @p frame at @p va (or, with #PAGING_ANY_VA, every one) that carries @p mark. Returns how many. */
unsigned paging_unmap_marked_frame(paddr_t pml4, vaddr_t va, paddr_t frame, uint64_t mark);
/** Free every lower-half page table of @p pml4 and the PML4 itself (not the mapped frames). */
void paging_destroy_address_space(paddr_t pml4);
/** The hypervisor's own address space (the boot PML4). */
paddr_t paging_kernel_pml4(void);

#endif
