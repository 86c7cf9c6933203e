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
 * page ("splintering"), so every entry is U=1 (the guest runs at CPL 3),
 * and W/NX follow the guest's.
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

bool shadow_install(struct vcpu *v, uint64_t gva, uint64_t gpa, bool writable, bool executable)
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
	uint64_t flags = PTE_USER | (writable ? PTE_WRITE : 0) | (!executable && cpu.nx ? PTE_NX : 0);
	if (!paging_map(d->pml4, ALIGN_DOWN(gva, PAGE_SIZE), ALIGN_DOWN(hpa, PAGE_SIZE), flags)) {
		domain_crash(d, "out of memory for shadow page tables");
		return false;
	}
	invlpg(ALIGN_DOWN(gva, PAGE_SIZE));
	return true;
}

void shadow_flush(struct vcpu *v)
{
	paging_clear(v->domain->pml4);
}

void shadow_invlpg(struct vcpu *v, uint64_t gva)
{
	/* The guest page may have been a 2 MiB one: drop every shadow entry
	 * of that region. Flushing more than asked is always allowed. */
	v->domain->shadow.invlpgs++;
	paging_drop_2m_region(v->domain->pml4, gva);
}

void shadow_print_stats(struct domain *d)
{
	kprintf("[hv] d%u shadow: hidden_faults=%lu true_faults=%lu cr3_loads=%lu invlpg=%lu refused=%lu\n", d->id,
		d->shadow.hidden_faults, d->shadow.true_faults, d->shadow.cr3_loads, d->shadow.invlpgs,
		d->shadow.refused);
}
