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

/* The entry for @va at @level, creating missing tables above it if @create. */
static uint64_t *walk(paddr_t pml4, vaddr_t va, bool create)
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
		} else if (*entry & PTE_LARGE) {
			return NULL; /* a large page: not ours to split */
		}
		table = phys_to_virt(*entry & PTE_ADDR_MASK);
	}
	return &table[index_at(va, 0)];
}

bool paging_map(paddr_t pml4, vaddr_t va, paddr_t pa, uint64_t flags)
{
	uint64_t *pte = walk(pml4, va, true);
	if (!pte)
		return false;
	*pte = (pa & PTE_ADDR_MASK) | flags | PTE_PRESENT;
	return true;
}

paddr_t paging_translate(paddr_t pml4, vaddr_t va)
{
	uint64_t *pte = walk(pml4, va, false);
	if (!pte || !(*pte & PTE_PRESENT))
		return 0;
	return (*pte & PTE_ADDR_MASK) | (va & (PAGE_SIZE - 1));
}

static void free_table(paddr_t table_pa, int level)
{
	uint64_t *table = phys_to_virt(table_pa);
	if (level > 0)
		for (unsigned i = 0; i < 512; i++)
			if ((table[i] & PTE_PRESENT) && !(table[i] & PTE_LARGE))
				free_table(table[i] & PTE_ADDR_MASK, level - 1);
	frame_free(table_pa);
}

paddr_t paging_create_guest_root(void)
{
	return frame_alloc(); /* zeroed: no hypervisor half at all */
}

void paging_clear(paddr_t pml4)
{
	uint64_t *top = phys_to_virt(pml4);
	for (unsigned i = 0; i < 512; i++) {
		/* The hypervisor's half is shared, not ours to free. */
		bool shared = i >= 256 && top[i] == boot_pml4[i];
		if ((top[i] & PTE_PRESENT) && !shared) {
			free_table(top[i] & PTE_ADDR_MASK, 2);
			top[i] = 0;
		}
	}
	write_cr3(read_cr3()); /* if this address space is live, flush the TLB too */
}

void paging_drop_2m_region(paddr_t pml4, vaddr_t va)
{
	uint64_t *table = phys_to_virt(pml4);
	for (int level = 3; level > 1; level--) {
		uint64_t entry = table[index_at(va, level)];
		if (!(entry & PTE_PRESENT) || (entry & PTE_LARGE))
			return;
		table = phys_to_virt(entry & PTE_ADDR_MASK);
	}
	uint64_t *pde = &table[index_at(va, 1)];
	if ((*pde & PTE_PRESENT) && !(*pde & PTE_LARGE)) {
		frame_free(*pde & PTE_ADDR_MASK);
		*pde = 0;
	}
	write_cr3(read_cr3());
}

void paging_destroy_address_space(paddr_t pml4)
{
	paging_clear(pml4);
	frame_free(pml4);
}
