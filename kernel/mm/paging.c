/*
 * paging.c — building 4-level page tables.
 *
 * A virtual address splits into four 9-bit indices (PML4, PDPT, PD, PT) and
 * a 12-bit offset (SDM Vol. 3A §4.5, Figure 4-8). Each table is one 4 KiB
 * frame of 512 entries; we reach tables through the direct map.
 */
#include "memlayout.h"
#include "mm.h"
#include "paging.h"
#include "string.h"
#include "x86.h"

extern uint64_t boot_pml4[512];

static unsigned index_at(vaddr_t va, int level) /* level 3 = PML4 ... 0 = PT */
{
	return (va >> (PAGE_SHIFT + 9 * level)) & 0x1ff;
}

paddr_t paging_kernel_pml4(void)
{
	return virt_to_phys(boot_pml4);
}

paddr_t paging_create_address_space(void)
{
	paddr_t pa = frame_alloc();
	if (!pa)
		return 0;
	uint64_t *pml4 = phys_to_virt(pa);
	/* Share the hypervisor's half: the same PDPTs, so a change there shows everywhere. */
	memcpy(pml4 + 256, boot_pml4 + 256, 256 * sizeof(uint64_t));
	return pa;
}

/* The entry for @va at @level, creating missing tables above it if @create
 * (and counting them in *@added, if not NULL). */
static uint64_t *walk(paddr_t pml4, vaddr_t va, bool create, unsigned *added)
{
	uint64_t *table = phys_to_virt(pml4);
	for (int level = 3; level > 0; level--) {
		uint64_t *entry = &table[index_at(va, level)];
		if (!(*entry & PTE_PRESENT)) {
			if (!create)
				return NULL;
			paddr_t next = frame_alloc();
			if (!next)
				return NULL;
			*entry = next | PTE_PRESENT | PTE_WRITE | PTE_USER;
			if (added)
				(*added)++;
		} else if (*entry & PTE_LARGE) {
			return NULL; /* a large page: not ours to split */
		}
		table = phys_to_virt(*entry & PTE_ADDR_MASK);
	}
	return &table[index_at(va, 0)];
}

bool paging_map_counted(paddr_t pml4, vaddr_t va, paddr_t pa, uint64_t flags, unsigned *tables_added)
{
	uint64_t *pte = walk(pml4, va, true, tables_added);
	if (!pte)
		return false;
	*pte = (pa & PTE_ADDR_MASK) | flags | PTE_PRESENT;
	return true;
}

bool paging_map(paddr_t pml4, vaddr_t va, paddr_t pa, uint64_t flags)
{
	return paging_map_counted(pml4, va, pa, flags, NULL);
}

uint64_t *paging_leaf(paddr_t pml4, vaddr_t va)
{
	return walk(pml4, va, false, NULL);
}

paddr_t paging_translate(paddr_t pml4, vaddr_t va)
{
	uint64_t *pte = walk(pml4, va, false, NULL);
	if (!pte || !(*pte & PTE_PRESENT))
		return 0;
	return (*pte & PTE_ADDR_MASK) | (va & (PAGE_SIZE - 1));
}

/* Free a table and every table below it; returns how many frames that was. */
static unsigned free_table(paddr_t table_pa, int level)
{
	uint64_t *table = phys_to_virt(table_pa);
	unsigned freed = 1;
	if (level > 0)
		for (unsigned i = 0; i < 512; i++)
			if ((table[i] & PTE_PRESENT) && !(table[i] & PTE_LARGE))
				freed += free_table(table[i] & PTE_ADDR_MASK, level - 1);
	frame_free(table_pa);
	return freed;
}

/* The hypervisor's half of a PV address space is shared, not ours to free
 * or change: its PML4 entries are boot_pml4's own. */
static bool shared_slot(const uint64_t *top, unsigned i)
{
	return i >= 256 && top[i] == boot_pml4[i];
}

paddr_t paging_create_guest_root(void)
{
	return frame_alloc(); /* zeroed: no hypervisor half at all */
}

unsigned paging_clear(paddr_t pml4)
{
	uint64_t *top = phys_to_virt(pml4);
	unsigned freed = 0;
	for (unsigned i = 0; i < 512; i++) {
		if ((top[i] & PTE_PRESENT) && !shared_slot(top, i)) {
			freed += free_table(top[i] & PTE_ADDR_MASK, 2);
			top[i] = 0;
		}
	}
	write_cr3(read_cr3()); /* if this address space is live, flush the TLB too */
	return freed;
}

unsigned paging_drop_entry(paddr_t pml4, vaddr_t va, int level)
{
	uint64_t *table = phys_to_virt(pml4);
	unsigned freed = 0;
	if (shared_slot(table, index_at(va, 3)))
		return 0;
	for (int l = 3; l > level; l--) {
		uint64_t entry = table[index_at(va, l)];
		if (!(entry & PTE_PRESENT) || (entry & PTE_LARGE))
			return 0;
		table = phys_to_virt(entry & PTE_ADDR_MASK);
	}
	uint64_t *entry = &table[index_at(va, level)];
	if (!(*entry & PTE_PRESENT))
		return 0;
	if (level > 0 && !(*entry & PTE_LARGE))
		freed = free_table(*entry & PTE_ADDR_MASK, level - 1);
	*entry = 0;
	if (level == 0)
		invlpg(va);
	else
		write_cr3(read_cr3()); /* if this address space is live, flush the TLB too */
	return freed;
}

unsigned paging_drop_2m_region(paddr_t pml4, vaddr_t va)
{
	/* The page table under the PD entry: the PD entry is dropped, not the PD. */
	uint64_t *pte = walk(pml4, va, false, NULL);
	if (!pte)
		return 0;
	return paging_drop_entry(pml4, va, 1);
}

/* Every present 4 KiB leaf of @pml4's own half (not the shared hypervisor
 * half) that maps @frame: mark it with @mark and clear @clear in it, or, if
 * @drop, remove those that already carry @mark. Returns how many changed. */
static unsigned scan_leaves(paddr_t pml4, paddr_t frame, uint64_t clear, uint64_t mark, bool drop)
{
	uint64_t *top = phys_to_virt(pml4);
	unsigned changed = 0;
	for (unsigned i4 = 0; i4 < 512; i4++) {
		if (!(top[i4] & PTE_PRESENT) || shared_slot(top, i4))
			continue;
		uint64_t *pdpt = phys_to_virt(top[i4] & PTE_ADDR_MASK);
		for (unsigned i3 = 0; i3 < 512; i3++) {
			if (!(pdpt[i3] & PTE_PRESENT) || (pdpt[i3] & PTE_LARGE))
				continue;
			uint64_t *pd = phys_to_virt(pdpt[i3] & PTE_ADDR_MASK);
			for (unsigned i2 = 0; i2 < 512; i2++) {
				if (!(pd[i2] & PTE_PRESENT) || (pd[i2] & PTE_LARGE))
					continue;
				uint64_t *pt = phys_to_virt(pd[i2] & PTE_ADDR_MASK);
				for (unsigned i1 = 0; i1 < 512; i1++) {
					uint64_t e = pt[i1];
					if (!(e & PTE_PRESENT) || (e & PTE_ADDR_MASK) != (frame & PTE_ADDR_MASK))
						continue;
					if (drop && (e & mark)) {
						pt[i1] = 0;
						changed++;
					} else if (!drop && (e & clear)) {
						pt[i1] = (e & ~clear) | mark;
						changed++;
					}
				}
			}
		}
	}
	if (changed)
		write_cr3(read_cr3());
	return changed;
}

/* The same for the one leaf of @va only (the common case: the caller knows
 * where the frame is mapped, and a search is not needed). */
static unsigned change_leaf(paddr_t pml4, vaddr_t va, paddr_t frame, uint64_t clear, uint64_t mark, bool drop)
{
	uint64_t *top = phys_to_virt(pml4), *pte;
	if (shared_slot(top, index_at(va, 3)) || !(pte = walk(pml4, va, false, NULL)))
		return 0;
	uint64_t e = *pte;
	if (!(e & PTE_PRESENT) || (e & PTE_ADDR_MASK) != (frame & PTE_ADDR_MASK))
		return 0;
	if (drop ? !(e & mark) : !(e & clear))
		return 0;
	*pte = drop ? 0 : (e & ~clear) | mark;
	invlpg(va);
	return 1;
}

unsigned paging_write_protect_frame(paddr_t pml4, vaddr_t va, paddr_t frame, uint64_t mark)
{
	return va == PAGING_ANY_VA ? scan_leaves(pml4, frame, PTE_WRITE, mark, false)
				   : change_leaf(pml4, va, frame, PTE_WRITE, mark, false);
}

unsigned paging_unmap_marked_frame(paddr_t pml4, vaddr_t va, paddr_t frame, uint64_t mark)
{
	return va == PAGING_ANY_VA ? scan_leaves(pml4, frame, 0, mark, true) : change_leaf(pml4, va, frame, 0, mark, true);
}

void paging_destroy_address_space(paddr_t pml4)
{
	paging_clear(pml4);
	frame_free(pml4);
}
