/*
 * shadow.c — the shadow page tables of a `mode=shadow` domain: building,
 * filling under policy, flushing. (Deciding *what* to fill is lab 2's:
 * shadow_walk.c and shadow_fault.c.)
 *
 * The shadow lives in the domain's own address space (domain->pml4): for a
 * PV guest its upper half is the hypervisor's (U=0) and its lower half starts
 * empty; for an HVM guest (CPL 0, lab 3) it is a root of its own with no
 * hypervisor half at all (paging_create_guest_root). Each
 * shadow entry maps one 4 KiB guest-virtual page, even inside a guest 2 MiB
 * page ("splintering"); W/NX follow the guest's.
 *
 * The U/S split. A PV guest's kernel and its user mode both really run at
 * CPL 3, so a U bit in the shadow cannot keep its user mode out of its
 * kernel's pages: every PV entry is U=1, and a PV guest gets *two* roots
 * (Xen PV's split): domain->pml4 for its kernel and domain->shadow_user_pml4
 * for its user mode, which only ever receives pages the guest marks U=1 at
 * every level. The PV backend loads the one of the mode the guest runs in.
 * An HVM guest's CPL is real, so its single root carries the guest's
 * effective U bit and the CPU does the check.
 */
#include "console.h"
#include "cpu.h"
#include "domain.h"
#include "memlayout.h"
#include "paging.h"
#include "shadow.h"
#include "vcpu.h"
#include "x86.h"

#define UPPER_HALF 0x0000800000000000ull

unsigned shadow_physical_address_bits(void)
{
	/* CPUID 0x80000008 EAX[7:0]: physical-address bits (AMD APM Vol. 3, E.4.7). */
	if (cpuid(0x80000000, 0).eax < 0x80000008)
		return 36;
	return cpuid(0x80000008, 0).eax & 0xff;
}

/* PML4, PDPT and one PD in the pages below the command line (the last
 * page): guest memory identity-mapped with 2 MiB pages, P W, A/D clear. */
uint64_t shadow_build_initial_tables(struct domain *d)
{
	uint64_t pml4 = d->memory_bytes - 4 * PAGE_SIZE, pdpt = pml4 + PAGE_SIZE, pd = pdpt + PAGE_SIZE;
	uint64_t entry;
	if (d->memory_bytes > (1ull << 30))
		return 0;
	entry = pdpt | PTE_PRESENT | PTE_WRITE;
	domain_write(d, pml4, &entry, sizeof(entry));
	entry = pd | PTE_PRESENT | PTE_WRITE;
	domain_write(d, pdpt, &entry, sizeof(entry));
	for (uint64_t i = 0; i * (2ull << 20) < d->memory_bytes; i++) {
		entry = (i << 21) | PTE_PRESENT | PTE_WRITE | PTE_LARGE;
		domain_write(d, pd + 8 * i, &entry, sizeof(entry));
	}
	return pml4;
}

uint64_t shadow_root_for(struct vcpu *v, bool guest_user)
{
	struct domain *d = v->domain;
	if (!guest_user || d->hvm)
		return d->pml4;
	if (!d->shadow_user_pml4)
		d->shadow_user_pml4 = paging_create_address_space(); /* hypervisor half shared, U=0 */
	return d->shadow_user_pml4;
}

bool shadow_install(struct vcpu *v, uint64_t gva, uint64_t gpa, bool writable, bool executable, bool user)
{
	struct domain *d = v->domain;
	paddr_t hpa = domain_gpa_to_hpa(d, gpa);
	const char *why = NULL;
	if (gva >= UPPER_HALF && !d->hvm) /* an HVM guest's root has no hypervisor half */
		why = "the hypervisor's half of the address space";
	else if (!hpa)
		why = "a frame outside the domain's memory";
	if (why) {
		d->shadow.refused++;
		kprintf("[hv] d%u shadow: refused mapping of 0x%lx to guest-physical 0x%lx: %s\n", d->id, gva, gpa,
			why);
		return false;
	}
	/* PV: U=1 always (CPL 3), the root says which mode may use the entry. */
	uint64_t flags = (user || !d->hvm ? PTE_USER : 0) | (writable ? PTE_WRITE : 0) |
			 (!executable && cpu.nx ? PTE_NX : 0);
	uint64_t root = shadow_root_for(v, v->virtual_cpl == 3);
	if (!root || !paging_map(root, ALIGN_DOWN(gva, PAGE_SIZE), ALIGN_DOWN(hpa, PAGE_SIZE), flags)) {
		domain_crash(d, "out of memory for shadow page tables");
		return false;
	}
	invlpg(ALIGN_DOWN(gva, PAGE_SIZE));
	return true;
}

void shadow_flush(struct vcpu *v)
{
	paging_clear(v->domain->pml4);
	if (v->domain->shadow_user_pml4)
		paging_clear(v->domain->shadow_user_pml4);
}

void shadow_invlpg(struct vcpu *v, uint64_t gva)
{
	/* The guest page may have been a 2 MiB one: drop every shadow entry
	 * of that region. Flushing more than asked is always allowed. */
	v->domain->shadow.invlpgs++;
	paging_drop_2m_region(v->domain->pml4, gva);
	if (v->domain->shadow_user_pml4)
		paging_drop_2m_region(v->domain->shadow_user_pml4, gva);
}

void shadow_print_stats(struct domain *d)
{
	kprintf("[hv] d%u shadow: hidden_faults=%lu true_faults=%lu cr3_loads=%lu invlpg=%lu refused=%lu\n", d->id,
		d->shadow.hidden_faults, d->shadow.true_faults, d->shadow.cr3_loads, d->shadow.invlpgs,
		d->shadow.refused);
	if (d->shadow.user_entries)
		kprintf("[hv] d%u shadow: user_entries=%lu kernel_entries=%lu (root switches)\n", d->id,
			d->shadow.user_entries, d->shadow.kernel_entries);
}
