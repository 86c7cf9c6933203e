/*
 * shadow.c — the shadow page tables of a `mode=shadow` domain: building,
 * filling under policy, flushing, and the cache of shadow address spaces.
 * (Deciding *what* to fill is lab 2's: shadow_walk.c and shadow_fault.c;
 * finding the shadow for a CR3 and emulating page-table writes:
 * shadow_cache.c. Which guest pages are page tables: shadow_pt.c.)
 *
 * A shadow root for a PV guest has the hypervisor's upper half (U=0) and a
 * lower half that starts empty; for an HVM guest (CPL 0, lab 3) it is a root
 * of its own with no hypervisor half at all (paging_create_guest_root). Each
 * shadow entry maps one 4 KiB guest-virtual page, even inside a guest 2 MiB
 * page ("splintering"); W/NX follow the guest's.
 *
 * The U/S split. A PV guest's kernel and its user mode both really run at
 * CPL 3, so a U bit in the shadow cannot keep its user mode out of its
 * kernel's pages: every PV entry is U=1, and each shadow address space of a
 * PV guest has *two* roots (Xen PV's split): root[0] for its kernel and
 * root[1] for its user mode, which only ever receives pages the guest marks
 * U=1 at every level (shadow_root_for()). The PV backend loads the one of
 * the mode the guest runs in. An HVM guest's CPL is real, so its single root
 * carries the guest's effective U bit and the CPU does the check.
 *
 * Part 2: a domain keeps up to SHADOW_CACHE_SIZE shadow address spaces
 * (struct shadow_space), one per guest CR3 it loaded recently. The current
 * one's root is also domain->pml4, which the scheduler (PV) and the VMCB
 * (HVM) load. With option shadowcache=0 there is one space, emptied at
 * every CR3 load: the virtual TLB of part 1.
 */
#include "console.h"
#include "cpu.h"
#include "domain.h"
#include "emulate.h"
#include "memlayout.h"
#include "mm.h"
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
	struct shadow_space *space = d->shadow_cache.current;
	if (!space)
		return d->pml4;
	if (!guest_user || d->hvm)
		return space->root[0];
	if (!space->root[1]) {
		space->root[1] = paging_create_address_space(); /* hypervisor half shared, U=0 */
		if (space->root[1])
			shadow_account(d, space, 1);
	}
	return space->root[1];
}

bool shadow_install(struct vcpu *v, uint64_t gva, uint64_t gpa, bool writable, bool executable, bool user)
{
	struct domain *d = v->domain;
	struct shadow_cache *c = &d->shadow_cache;
	paddr_t hpa = domain_gpa_to_hpa(d, gpa);
	const char *why = NULL;
	if (gva >= UPPER_HALF && !d->hvm) /* an HVM guest's root has no hypervisor half */
		why = "the hypervisor's half of the address space";
	else if (!hpa && d->hvm && emulate_mmio(v, gpa))
		return true; /* a device's registers (the local APIC's page): never mapped, each access emulated */
	else if (!hpa)
		why = "a frame outside the domain's memory";
	if (why) {
		d->shadow.refused++;
		kprintf("[hv] d%u shadow: refused mapping of 0x%lx to guest-physical 0x%lx: %s\n", d->id, gva, gpa,
			why);
		return false;
	}
	/* PV: U=1 always (CPL 3); the root says which mode may use the entry. */
	uint64_t flags = (user || !d->hvm ? PTE_USER : 0) | (!executable && cpu.nx ? PTE_NX : 0);
	if (c->enabled) {
		/* The entry depends on every guest table the walk read: track
		 * them, so that a change to any of them reaches every shadow. A
		 * guest page table itself is mapped read-only (and marked), so
		 * the guest's writes to it trap and are emulated. */
		shadow_track_walk(v, gva);
		if (writable && shadow_is_pt_page(d, gpa / PAGE_SIZE)) {
			writable = false;
			flags |= SHADOW_PTE_PROTECTED;
		}
		if (writable || (flags & SHADOW_PTE_PROTECTED))
			shadow_note_mapping(d, gpa / PAGE_SIZE, gva);
	}
	flags |= writable ? PTE_WRITE : 0;
	unsigned added = 0;
	paddr_t root = shadow_root_for(v, v->virtual_cpl == 3);
	bool mapped = root && paging_map_counted(root, ALIGN_DOWN(gva, PAGE_SIZE), ALIGN_DOWN(hpa, PAGE_SIZE), flags,
						 &added);
	shadow_account(d, c->current, (long)added);
	if (!mapped) {
		domain_crash(d, "out of memory for shadow page tables");
		return false;
	}
	invlpg(ALIGN_DOWN(gva, PAGE_SIZE));
	return true;
}

/* --- the shadow address spaces ------------------------------------------------- */

void shadow_account(struct domain *d, struct shadow_space *space, long delta)
{
	struct shadow_stats *st = &d->shadow;
	if (!space)
		return;
	space->pages += (uint64_t)delta;
	st->pages_now += (uint64_t)delta;
	st->pages_max = MAX(st->pages_max, st->pages_now);
	st->space_pages_max = MAX(st->space_pages_max, space->pages);
}

paddr_t shadow_current_root(struct vcpu *v)
{
	return shadow_root_for(v, false);
}

/* Run the guest on @space from now on. A PV guest's address space is live
 * while we handle its exit: load the new root at once. An HVM guest's root
 * goes into the VMCB at the next VMRUN (svm_run reads domain->pml4). */
static void switch_to(struct vcpu *v, struct shadow_space *space)
{
	struct domain *d = v->domain;
	d->shadow_cache.current = space;
	space->last_used = d->shadow_cache.clock;
	d->pml4 = shadow_current_root(v);
	if (!d->hvm)
		write_cr3(d->pml4);
}

/* Empty @space's shadow (its key stays). */
static void empty_space(struct domain *d, struct shadow_space *space)
{
	for (unsigned r = 0; r < 2; r++)
		if (space->root[r])
			shadow_account(d, space, -(long)paging_clear(space->root[r]));
}

/* Free @space's roots and everything below them. */
static void free_space(struct domain *d, struct shadow_space *space)
{
	unsigned slot = (unsigned)(space - d->shadow_cache.spaces);
	empty_space(d, space);
	for (unsigned r = 0; r < 2; r++)
		if (space->root[r]) {
			frame_free(space->root[r]);
			shadow_account(d, space, -1);
			space->root[r] = 0;
		}
	space->in_use = false;
	/* No shadow entry of this slot derives from any guest table any more. */
	for (unsigned i = 0; i < d->shadow_cache.pt_count; i++)
		for (unsigned u = 0; u < d->shadow_cache.pt_pages[i].use_count; u++)
			d->shadow_cache.pt_pages[i].uses[u].spaces &= (uint8_t)~(1u << slot);
}

bool shadow_space_init(struct vcpu *v, struct shadow_space *space, uint64_t guest_cr3)
{
	struct domain *d = v->domain;
	if (space == d->shadow_cache.current)
		return false; /* the guest runs on it: not to be freed under its feet */
	if (space->in_use)
		free_space(d, space);
	paddr_t root = d->hvm ? paging_create_guest_root() : paging_create_address_space();
	if (!root)
		return false;
	*space = (struct shadow_space){.in_use = true, .guest_cr3 = guest_cr3 & PTE_ADDR_MASK, .root = {root, 0}};
	shadow_account(d, space, 1);
	return true;
}

/* shadowcache=0, or the lab's lookup is missing: one space, a virtual TLB. */
static void disable_cache(struct vcpu *v)
{
	struct domain *d = v->domain;
	struct shadow_cache *c = &d->shadow_cache;
	for (unsigned i = 0; i < SHADOW_CACHE_SIZE; i++)
		if (c->spaces[i].in_use && &c->spaces[i] != c->current)
			free_space(d, &c->spaces[i]);
	empty_space(d, c->current);
	shadow_untrack_all(d);
	c->enabled = false;
}

void shadow_load_cr3(struct vcpu *v)
{
	struct domain *d = v->domain;
	struct shadow_cache *c = &d->shadow_cache;
	uint64_t cr3 = v->cr3 & PTE_ADDR_MASK;
	d->shadow.cr3_loads++;
	c->clock++;
	if (c->enabled) {
		shadow_end_left_alone(d);
		struct shadow_space *space = shadow_cache_lookup(v, cr3);
		if (space) {
			switch_to(v, space);
			return;
		}
		if (d->state != DOMAIN_RUNNABLE)
			return;
		kprintf("[hv] d%u shadow: LAB 2: shadow_cache_lookup() is not implemented: running without the "
			"shadow cache\n", d->id);
		disable_cache(v);
	}
	/* Without the cache, a CR3 load empties the shadow as it empties a TLB. */
	empty_space(d, c->current);
	c->current->guest_cr3 = cr3;
}

void shadow_flush(struct vcpu *v)
{
	/* Every cached shadow was built under the old CR0/CR4/EFER: empty them
	 * all. Nothing derives from any guest table any more. */
	struct domain *d = v->domain;
	struct shadow_cache *c = &d->shadow_cache;
	for (unsigned i = 0; i < SHADOW_CACHE_SIZE; i++)
		if (c->spaces[i].in_use)
			empty_space(d, &c->spaces[i]);
	shadow_untrack_all(d);
}

void shadow_invlpg(struct vcpu *v, uint64_t gva)
{
	/* The guest page may have been a 2 MiB one: drop every shadow entry
	 * of that region. Flushing more than asked is always allowed.
	 * With the cache there is nothing to drop: every guest table a shadow
	 * entry came from is write-protected, and the write that changed an
	 * entry already dropped what derived from it — the shadows never hold
	 * a stale translation, so INVLPG (which only ever removes stale ones)
	 * has no work left. Dropping anyway would only cost refills. (Unless a
	 * page table is left alone, shadow_pt.c: then, as in part 1, it must.) */
	struct domain *d = v->domain;
	struct shadow_space *space = d->shadow_cache.current;
	d->shadow.invlpgs++;
	if (d->shadow_cache.enabled && !d->shadow_cache.left_alone)
		return;
	for (unsigned r = 0; r < 2; r++)
		if (space->root[r])
			shadow_account(d, space, -(long)paging_drop_2m_region(space->root[r], gva));
}

void shadow_init(struct domain *d, bool cache)
{
	struct shadow_cache *c = &d->shadow_cache;
	/* The root allocate_memory() made is the shadow of the CR3 the guest starts with. */
	c->spaces[0] = (struct shadow_space){.in_use = true, .guest_cr3 = d->vcpu->cr3 & PTE_ADDR_MASK,
					      .root = {d->pml4, 0}};
	c->current = &c->spaces[0];
	shadow_account(d, c->current, 1);
	if (!cache)
		return;
	c->pt_index = kzalloc(d->page_count * sizeof(uint16_t));
	c->mapped_at = kzalloc(d->page_count * sizeof(uint64_t));
	c->pt_pages = kzalloc(SHADOW_PT_PAGES_MAX * sizeof(struct shadow_pt_page));
	c->enabled = c->pt_index && c->mapped_at && c->pt_pages;
	if (!c->enabled)
		kprintf("[hv] d%u shadow: out of memory for the shadow cache: running without it\n", d->id);
}

void shadow_destroy(struct domain *d)
{
	struct shadow_cache *c = &d->shadow_cache;
	if (!c->current)
		return; /* shadow_init() never ran: domain_destroy() frees domain->pml4 */
	for (unsigned i = 0; i < SHADOW_CACHE_SIZE; i++)
		for (unsigned r = 0; r < 2; r++)
			if (c->spaces[i].in_use && c->spaces[i].root[r])
				paging_destroy_address_space(c->spaces[i].root[r]);
	d->pml4 = 0;
	c->current = NULL;
	kfree(c->pt_index);
	kfree(c->mapped_at);
	kfree(c->pt_pages);
}

void shadow_print_stats(struct domain *d)
{
	const struct shadow_stats *st = &d->shadow;
	kprintf("[hv] d%u shadow: hidden_faults=%lu true_faults=%lu cr3_loads=%lu invlpg=%lu refused=%lu "
		"cache_hits=%lu cache_misses=%lu emulated_pte_writes=%lu unprotected=%lu space_pages_max=%lu "
		"pages_max=%lu write_runs=%lu\n",
		d->id, st->hidden_faults, st->true_faults, st->cr3_loads, st->invlpgs, st->refused, st->cache_hits,
		st->cache_misses, st->emulated_pte_writes, st->unprotected, st->space_pages_max, st->pages_max,
		st->write_runs);
	if (st->user_entries)
		kprintf("[hv] d%u shadow: user_entries=%lu kernel_entries=%lu (root switches)\n", d->id,
			st->user_entries, st->kernel_entries);
}
