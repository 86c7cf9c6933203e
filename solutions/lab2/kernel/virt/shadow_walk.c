/*
 * shadow_walk.c — LAB 2 reference solution: walk the guest's page tables as
 * the CPU would, setting accessed and dirty bits.
 */
#include "domain.h"
#include "memlayout.h"
#include "paging.h"
#include "shadow.h"
#include "trap.h"
#include "vcpu.h"
#include "x86.h"

#define LEVELS 4

/* Bits that must be zero in an entry at @level (3 = PML4 ... 0 = PT), given
 * the CPU's physical-address width (SDM Vol. 3A §4.5, Tables 4-15 to 4-20). */
static uint64_t reserved_bits(struct vcpu *v, int level, uint64_t entry)
{
	unsigned maxphys = shadow_physical_address_bits();
	uint64_t reserved = maxphys < 52 ? (((1ull << 52) - 1) & ~((1ull << maxphys) - 1)) : 0;
	if (!(v->efer & EFER_NXE))
		reserved |= PTE_NX;
	if (level == 3)
		reserved |= PTE_LARGE; /* PML4 entries have no PS */
	if (level == 2 && (entry & PTE_LARGE))
		reserved |= PTE_LARGE; /* 1 GiB pages: not offered to guests */
	if (level == 1 && (entry & PTE_LARGE))
		reserved |= 0x1fe000; /* a 2 MiB page's address bits 20:13 */
	return reserved;
}

bool guest_walk(struct vcpu *v, uint64_t gva, unsigned access, bool set_ad, struct guest_walk_result *out)
{
	struct domain *d = v->domain;
	uint64_t table = v->cr3 & PTE_ADDR_MASK;
	uint64_t entry_gpa[LEVELS], entry[LEVELS];
	bool writable = true, executable = true, user = true;
	bool user_access = access & ACCESS_USER;
	uint32_t access_bits = (access & ACCESS_WRITE ? PF_WRITE : 0) | (user_access ? PF_USER : 0) |
			       ((access & ACCESS_FETCH) && (v->efer & EFER_NXE) ? PF_FETCH : 0);
	int level, used = 0;

	for (level = LEVELS - 1; level >= 0; level--) {
		unsigned index = (gva >> (PAGE_SHIFT + 9 * level)) & 0x1ff;
		entry_gpa[used] = table + 8 * index;
		if (!domain_read(d, entry_gpa[used], &entry[used], sizeof(uint64_t))) {
			domain_crash(d, "its page table at guest-physical 0x%lx lies outside its memory", table);
			out->error = access_bits;
			return false;
		}
		uint64_t e = entry[used++];
		if (!(e & PTE_PRESENT)) {
			out->error = access_bits;
			return false;
		}
		if (e & reserved_bits(v, level, e)) {
			out->error = access_bits | PF_PRESENT | PF_RSVD;
			return false;
		}
		writable &= (e & PTE_WRITE) != 0;
		user &= (e & PTE_USER) != 0;
		executable &= !(e & PTE_NX) || !(v->efer & EFER_NXE);
		if (level == 1 && (e & PTE_LARGE)) {
			out->large = true;
			out->gpa = (e & PTE_ADDR_MASK & ~0x1fffffull) | (gva & 0x1fffff);
			break;
		}
		if (level == 0) {
			out->large = false;
			out->gpa = (e & PTE_ADDR_MASK) | (gva & 0xfff);
		}
		table = e & PTE_ADDR_MASK;
	}

	/* Access rights (SDM Vol. 3A §4.6). A user-mode access needs U = 1 on
	 * every level, and W on every level to write, whatever CR0.WP says. A
	 * supervisor access (the guest kernel, at CPL 0 in its own eyes) is not
	 * restricted by U/S — no SMEP or SMAP is offered —, and by R/W only when
	 * CR0.WP = 1. NX forbids fetches in both modes. */
	bool may_write = writable || (!user_access && !(v->cr0 & CR0_WP));
	if ((user_access && !user) || ((access & ACCESS_WRITE) && !may_write) ||
	    ((access & ACCESS_FETCH) && !executable)) {
		out->error = access_bits | PF_PRESENT;
		return false;
	}
	out->writable = may_write;
	out->user = user;
	out->executable = executable;
	out->error = 0;
	out->dirty = (entry[used - 1] & PTE_DIRTY) || (set_ad && (access & ACCESS_WRITE));

	/* Accessed on every level used; dirty on the leaf for a write. */
	if (set_ad)
		for (int i = 0; i < used; i++) {
			uint64_t updated = entry[i] | PTE_ACCESSED;
			if (i == used - 1 && (access & ACCESS_WRITE))
				updated |= PTE_DIRTY;
			if (updated != entry[i])
				domain_write(d, entry_gpa[i], &updated, sizeof(updated));
		}
	return true;
}
