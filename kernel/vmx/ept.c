/*
 * ept.c — the guest-physical map in Intel's format (EPT, SDM Vol. 3C §29.3).
 *
 * The twin of the nested page table SVM walks, which is an ordinary x86
 * page table (kernel/mm/paging.c, APM §15.25). Like it, the EPT belongs to
 * the domain (domain->pml4), starts empty and is filled one page at a time
 * by domain_populate() on the guest's first touch (an EPT violation, VM exit
 * reason 48), read-only under dirty logging.
 *
 * An EPT entry is not an x86 PTE: bits 0-2 are Read, Write, eXecute (no
 * Present bit, no U/S); a leaf's bits 5:3 are the memory type. An x86 PTE
 * with P, W, U set (0x7) happens to read as RWX — but its PWT/PCD/A bits
 * would land in the memory type, so the EPT gets its own tables.
 */
#include "memlayout.h"
#include "mm.h"
#include "vmx.h"

#define EPT_READ 0x1ull
#define EPT_WRITE 0x2ull
#define EPT_EXECUTE 0x4ull
#define EPT_RWX (EPT_READ | EPT_WRITE | EPT_EXECUTE)
#define EPT_MEMORY_TYPE_WB (6ull << 3) /* leaf bits 5:3 (SDM §29.3.7) */
#define EPT_ADDRESS_MASK 0x000ffffffffff000ull

paddr_t ept_create(void)
{
	return frame_alloc(); /* zeroed: every entry not present (R = W = X = 0) */
}

bool ept_map(paddr_t root, uint64_t gpa, paddr_t hpa, bool writable)
{
	uint64_t *table = phys_to_virt(root);
	/* PML4 (bits 47:39), PDPT (38:30), PD (29:21): tables, RWX so that the
	 * leaf alone decides (the permissions of all levels are ANDed). */
	for (int shift = 39; shift > 12; shift -= 9) {
		uint64_t *entry = &table[(gpa >> shift) & 511];
		if (!(*entry & EPT_RWX)) {
			paddr_t next = frame_alloc();
			if (!next)
				return false;
			*entry = next | EPT_RWX;
		}
		table = phys_to_virt(*entry & EPT_ADDRESS_MASK);
	}
	/* The leaf (bits 20:12): write-back; without W a write is an EPT
	 * violation (dirty logging). Write without read would be an EPT
	 * misconfiguration (§29.3.3.1): R is always set. */
	table[(gpa >> 12) & 511] = (hpa & EPT_ADDRESS_MASK) | EPT_READ | EPT_EXECUTE | (writable ? EPT_WRITE : 0) |
				   EPT_MEMORY_TYPE_WB;
	return true;
}

static void free_level(paddr_t table_pa, int level)
{
	uint64_t *table = phys_to_virt(table_pa);
	for (int i = 0; level > 1 && i < 512; i++)
		if (table[i] & EPT_RWX)
			free_level(table[i] & EPT_ADDRESS_MASK, level - 1);
	frame_free(table_pa);
}

void ept_destroy(paddr_t root)
{
	if (root)
		free_level(root, 4); /* the tables only: the frames they map are the domain's */
}
