/*
 * shadow_pt.c — which guest pages are page tables, and keeping every cached
 * shadow in step with them (lab 2, part 2; given code).
 *
 * A shadow entry for a guest-virtual page is derived from the four guest
 * entries the walk read (PML4E, PDPTE, PDE, PTE). With one shadow emptied
 * at every CR3 load (part 1), the guest's own INVLPGs and CR3 loads kept it
 * correct, as they keep a TLB correct. A shadow kept across CR3 loads has
 * no such help: the guest may change a table of a process that is not
 * running, and it owes no INVLPG for it (on hardware, the next CR3 load
 * flushes). So every guest table a shadow was built from is *tracked*:
 *
 * - it is mapped read-only in every shadow (the entries carry
 *   SHADOW_PTE_PROTECTED), so a guest write to it traps;
 * - the trap is emulated (shadow_emulate_pt_write, the lab's) and the store
 *   goes through shadow_write_guest(), which compares each 8-byte entry
 *   before and after and, for each that changed, drops the shadow entries
 *   derived from it in every cached shadow that used the table.
 *
 * Where a table sits decides what its entries cover: entry i of a table
 * met at level L (3 = PML4 ... 0 = PT) covering the region starting at B
 * translates B + i * 2^(12 + 9L), 2^(12 + 9L) bytes. Since each shadow
 * has the same shape as the guest's tree (4 KiB leaves), dropping what
 * derives from that entry is dropping the shadow's own entry at level L for
 * that address (paging_drop_entry). A table can be met in several places
 * (shared kernel tables, a table used at two levels by a loop): each place
 * is a "use", with a bitmask of the cache slots that built entries from it.
 * Dropping more than needed is always correct — the next access faults and
 * refills — so when a table has too many uses, a change to it empties
 * every shadow.
 *
 * Protecting a page means finding the shadow entries that map it writable.
 * A search of every shadow tree would do, but costs thousands of
 * instructions each time a page becomes a page table; a guest maps its
 * tables at one address (its kernel's view of its memory), so a one-entry
 * reverse map per guest frame — the address shadows map it at, or "several"
 * — finds them directly, and the search is the fallback.
 *
 * A write the emulator does not handle (REP STOSB zeroing a recycled page,
 * say) *unprotects* the page instead: what derives from it is dropped in
 * every shadow and it becomes ordinary memory, until a walk meets it again.
 * This is how a page that stopped being a page table (the guest freed and
 * reused it) stops costing a trap per write. A run of emulated writes to one
 * last-level table (a fork or an exit rewriting it) ends the same way
 * ("write runs", note_emulated_write()). If the page is on the walk to
 * the written address itself (the current PML4, say), the very retry would
 * track it again — a loop — so it is also *left alone* (not tracked) until
 * the next CR3 load. Meanwhile the current shadow is, for that page, part
 * 1's virtual TLB: the guest's INVLPGs trim it, and the CR3 load that
 * leaves it empties it (shadow_end_left_alone), since a kept shadow would
 * not see the page change.
 */
#include "console.h"
#include "domain.h"
#include "memlayout.h"
#include "paging.h"
#include "shadow.h"
#include "trap.h"
#include "vcpu.h"
#include "x86.h"

/* Bytes one entry of a table at @level covers. */
static uint64_t span(int level)
{
	return 1ull << (PAGE_SHIFT + 9 * level);
}

/* Bits 63:48 copy bit 47 (SDM Vol. 1 §3.3.7.1). */
static uint64_t canonical(uint64_t va)
{
	return va & (1ull << 47) ? va | 0xffff000000000000ull : va & 0x0000ffffffffffffull;
}

static struct shadow_pt_page *pt_page(struct domain *d, uint64_t gfn)
{
	const struct shadow_cache *c = &d->shadow_cache;
	if (!c->enabled || gfn >= d->page_count || !c->pt_index[gfn] || c->pt_index[gfn] == SHADOW_PT_LEFT_ALONE)
		return NULL;
	return &d->shadow_cache.pt_pages[c->pt_index[gfn] - 1];
}

bool shadow_is_pt_page(struct domain *d, uint64_t gfn)
{
	return pt_page(d, gfn) != NULL;
}

/* In every cached shadow whose bit is in @slots, drop the entry of @level
 * for @va (level 4: empty the whole shadow). */
static void drop_in_spaces(struct domain *d, uint8_t slots, uint64_t va, int level)
{
	struct shadow_cache *c = &d->shadow_cache;
	for (unsigned i = 0; i < SHADOW_CACHE_SIZE; i++) {
		struct shadow_space *space = &c->spaces[i];
		if (!space->in_use || !(slots & (1u << i)))
			continue;
		for (unsigned r = 0; r < 2; r++) {
			if (!space->root[r])
				continue;
			if (level == 4) /* the whole address space */
				shadow_account(d, space, -(long)paging_clear(space->root[r]));
			else
				shadow_account(d, space, -(long)paging_drop_entry(space->root[r], canonical(va), level));
		}
	}
}

void shadow_untrack_all(struct domain *d)
{
	struct shadow_cache *c = &d->shadow_cache;
	for (unsigned i = 0; c->pt_pages && i < c->pt_count; i++)
		c->pt_index[c->pt_pages[i].gfn] = 0;
	c->pt_count = 0;
	for (uint64_t gfn = 0; c->left_alone && gfn < d->page_count; gfn++)
		if (c->pt_index[gfn] == SHADOW_PT_LEFT_ALONE)
			c->pt_index[gfn] = 0;
	c->left_alone = false;
}

void shadow_end_left_alone(struct domain *d)
{
	struct shadow_cache *c = &d->shadow_cache;
	if (!c->left_alone)
		return;
	for (unsigned r = 0; r < 2; r++)
		if (c->current->root[r])
			shadow_account(d, c->current, -(long)paging_clear(c->current->root[r]));
	for (uint64_t gfn = 0; gfn < d->page_count; gfn++)
		if (c->pt_index[gfn] == SHADOW_PT_LEFT_ALONE)
			c->pt_index[gfn] = 0;
	c->left_alone = false;
}

/* Every shadow emptied, nothing tracked: where the cache starts over when
 * its table of page-table pages is full. */
static void start_over(struct domain *d)
{
	drop_in_spaces(d, 0xff, 0, 4);
	shadow_untrack_all(d);
}

/* The reverse map: mapped_at[gfn] is 0 (never mapped writable or
 * protected), or the page address it is mapped at | MAPPED_ONE, or has
 * MAPPED_SEVERAL (mapped at more than one address: search). */
#define MAPPED_ONE 1ull
#define MAPPED_SEVERAL 2ull

void shadow_note_mapping(struct domain *d, uint64_t gfn, uint64_t gva)
{
	uint64_t *at = &d->shadow_cache.mapped_at[gfn], page = ALIGN_DOWN(gva, PAGE_SIZE);
	if (!*at)
		*at = page | MAPPED_ONE;
	else if ((*at & ~(PAGE_SIZE - 1)) != page)
		*at |= MAPPED_SEVERAL;
}

/* Where to look for @gfn's mappings: nowhere (false), one address, or PAGING_ANY_VA. */
static bool mapped_where(const struct domain *d, uint64_t gfn, uint64_t *va)
{
	uint64_t at = d->shadow_cache.mapped_at[gfn];
	*va = at & MAPPED_SEVERAL ? PAGING_ANY_VA : at & ~(PAGE_SIZE - 1);
	return at != 0;
}

/* Start tracking @gfn: from now on no shadow may map it writable. */
/* In every root of every cached shadow, the entry mapping guest frame @gfn
 * (where the reverse map says shadows map it): made read-only and marked
 * SHADOW_PTE_PROTECTED when @protect, else removed if it carries the mark. */
static void mark_mappings(struct domain *d, uint64_t gfn, bool protect)
{
	struct shadow_cache *c = &d->shadow_cache;
	uint64_t va;
	if (!mapped_where(d, gfn, &va))
		return;
	paddr_t hpa = domain_gpa_to_hpa(d, gfn * PAGE_SIZE);
	for (unsigned i = 0; i < SHADOW_CACHE_SIZE; i++)
		for (unsigned r = 0; r < 2; r++) {
			if (!c->spaces[i].in_use || !c->spaces[i].root[r])
				continue;
			if (protect)
				paging_write_protect_frame(c->spaces[i].root[r], va, hpa, SHADOW_PTE_PROTECTED);
			else
				paging_unmap_marked_frame(c->spaces[i].root[r], va, hpa, SHADOW_PTE_PROTECTED);
		}
}

static struct shadow_pt_page *track(struct domain *d, uint64_t gfn)
{
	struct shadow_cache *c = &d->shadow_cache;
	if (c->pt_count == SHADOW_PT_PAGES_MAX)
		return NULL;
	struct shadow_pt_page *p = &c->pt_pages[c->pt_count++];
	*p = (struct shadow_pt_page){.gfn = gfn};
	c->pt_index[gfn] = (uint16_t)c->pt_count;
	mark_mappings(d, gfn, true);
	return p;
}

static void add_use(struct shadow_pt_page *p, int level, uint64_t base, uint8_t slot_bit)
{
	if (p->anywhere)
		return;
	for (unsigned u = 0; u < p->use_count; u++)
		if (p->uses[u].level == level && p->uses[u].base == base) {
			p->uses[u].spaces |= slot_bit;
			return;
		}
	if (p->use_count == SHADOW_PT_USES) {
		p->anywhere = true;
		return;
	}
	p->uses[p->use_count++] = (struct shadow_pt_use){.base = base, .level = (uint8_t)level, .spaces = slot_bit};
}

/* Track the tables of the walk for @gva; false if the table of tracked
 * pages is full. The lab's walk already checked the entries (present,
 * reserved bits): this one only follows them. A loop (an entry naming its
 * own table) is followed as the CPU follows it, four levels and no more. */
static bool track_walk(struct vcpu *v, uint64_t gva)
{
	struct domain *d = v->domain;
	struct shadow_cache *c = &d->shadow_cache;
	uint8_t slot_bit = (uint8_t)(1u << (c->current - c->spaces));
	uint64_t table = v->cr3 & PTE_ADDR_MASK;
	for (int level = 3; level >= 0; level--) {
		uint64_t gfn = table / PAGE_SIZE, entry;
		if (gfn >= d->page_count)
			return true;
		struct shadow_pt_page *p = pt_page(d, gfn);
		if (!p && c->pt_index[gfn] != SHADOW_PT_LEFT_ALONE && !(p = track(d, gfn)))
			return false;
		/* The region this table covers: what the entry above it covers. */
		uint64_t base = level == 3 ? 0 : (gva & 0x0000ffffffffffffull) & ~(span(level + 1) - 1);
		if (p)
			add_use(p, level, base, slot_bit);
		paddr_t hpa = domain_gpa_to_hpa(d, table + 8 * ((gva >> (PAGE_SHIFT + 9 * level)) & 0x1ff));
		if (!hpa)
			return true;
		entry = *(const uint64_t *)phys_to_virt(hpa);
		if (!(entry & PTE_PRESENT) || level == 0 || (level == 1 && (entry & PTE_LARGE)))
			return true;
		table = entry & PTE_ADDR_MASK;
	}
	return true;
}

/* Is guest frame @gfn one of the tables of the walk for @gva? */
static bool on_walk(struct vcpu *v, uint64_t gva, uint64_t gfn)
{
	uint64_t table = v->cr3 & PTE_ADDR_MASK;
	for (int level = 3; level >= 0; level--) {
		if (table / PAGE_SIZE == gfn)
			return true;
		paddr_t hpa = domain_gpa_to_hpa(v->domain, table + 8 * ((gva >> (PAGE_SHIFT + 9 * level)) & 0x1ff));
		if (!hpa || level == 0)
			return false;
		uint64_t entry = *(const uint64_t *)phys_to_virt(hpa);
		if (!(entry & PTE_PRESENT) || (level == 1 && (entry & PTE_LARGE)))
			return false;
		table = entry & PTE_ADDR_MASK;
	}
	return false;
}

bool shadow_track_walk(struct vcpu *v, uint64_t gva)
{
	if (track_walk(v, gva))
		return true;
	start_over(v->domain);
	track_walk(v, gva); /* four tables at most: they fit now */
	return false;
}

/* Entry @index of tracked table @p went from @old to @new: drop what every
 * shadow derived from it. Nothing derives from a not-present entry (a
 * shadow caches no negative answers), so a change between two not-present
 * values needs nothing. */
static void entry_changed(struct domain *d, struct shadow_pt_page *p, unsigned index, uint64_t old, uint64_t new)
{
	if (old == new || (!(old & PTE_PRESENT) && !(new & PTE_PRESENT)))
		return;
	if (p->anywhere) {
		drop_in_spaces(d, 0xff, 0, 4);
		return;
	}
	for (unsigned u = 0; u < p->use_count; u++) {
		const struct shadow_pt_use *use = &p->uses[u];
		drop_in_spaces(d, use->spaces, use->base + index * span(use->level), use->level);
	}
}

bool shadow_write_guest(struct domain *d, uint64_t gpa, const void *src, size_t size)
{
	if (size && gpa % PAGE_SIZE + size > PAGE_SIZE) { /* page by page (pv_access_guest already is) */
		size_t first = PAGE_SIZE - gpa % PAGE_SIZE;
		return shadow_write_guest(d, gpa, src, first) &&
		       shadow_write_guest(d, gpa + first, (const uint8_t *)src + first, size - first);
	}
	struct shadow_pt_page *p = d->paging == PAGING_SHADOW ? pt_page(d, gpa / PAGE_SIZE) : NULL;
	if (!p || size == 0)
		return domain_write(d, gpa, src, size);
	/* The entries the store touches, before and after, 8 at a time. */
	const uint8_t *bytes = src;
	while (size) {
		uint64_t first = ALIGN_DOWN(gpa, 8);
		size_t chunk = MIN(size, first + 64 - gpa);
		unsigned count = (unsigned)((ALIGN_DOWN(gpa + chunk - 1, 8) - first) / 8 + 1);
		uint64_t old[8], new[8];
		if (!domain_read(d, first, old, 8 * count) || !domain_write(d, gpa, bytes, chunk) ||
		    !domain_read(d, first, new, 8 * count))
			return false;
		for (unsigned i = 0; i < count; i++)
			entry_changed(d, p, (unsigned)((first % PAGE_SIZE) / 8 + i), old[i], new[i]);
		gpa += chunk, bytes += chunk, size -= chunk;
	}
	return true;
}

/* Stop tracking page table @p: drop what derives from it and its
 * read-only mappings; it is ordinary memory until a walk meets it again. */
static void untrack(struct domain *d, struct shadow_pt_page *p)
{
	struct shadow_cache *c = &d->shadow_cache;
	uint64_t gfn = p->gfn;
	/* Everything derived from the table: the regions its uses cover. */
	if (p->anywhere)
		drop_in_spaces(d, 0xff, 0, 4);
	for (unsigned u = 0; !p->anywhere && u < p->use_count; u++)
		drop_in_spaces(d, p->uses[u].spaces, p->uses[u].base, p->uses[u].level + 1);
	/* Its read-only mappings go too; the next access maps it as usual. */
	mark_mappings(d, gfn, false);
	/* Out of the table: the last entry takes its place. */
	unsigned index = (unsigned)(p - c->pt_pages);
	c->pt_index[gfn] = 0;
	if (index != --c->pt_count) {
		c->pt_pages[index] = c->pt_pages[c->pt_count];
		c->pt_index[c->pt_pages[index].gfn] = (uint16_t)(index + 1);
	}
}

void shadow_unprotect(struct domain *d, uint64_t gfn)
{
	struct shadow_pt_page *p = pt_page(d, gfn);
	if (!p)
		return;
	untrack(d, p);
	d->shadow.unprotected++;
}

/* A guest that forks or tears down a process rewrites a whole last-level
 * table, one entry after the other: each write a trap and an emulation,
 * where the next CR3 load of that process would have rebuilt the little the
 * shadows hold of it anyway. Xen's answer ("early unshadow", in its
 * shadow code's emulated-write path) is this: after a run of emulated
 * writes to one table with no other table written in between, stop
 * tracking it; the rest of the run costs nothing, and a walk that meets the
 * table again tracks it again. Only tables met at the last level (PTs):
 * giving up a PML4 or a directory would drop far more than it saves. */
#define WRITE_RUN_LIMIT 4

static void note_emulated_write(struct vcpu *v, uint64_t gva)
{
	struct domain *d = v->domain;
	struct shadow_cache *c = &d->shadow_cache;
	struct guest_walk_result walk;
	if (!guest_walk(v, gva, ACCESS_WRITE, false, &walk))
		return;
	uint64_t gfn = walk.gpa / PAGE_SIZE;
	c->write_run = gfn == c->last_written_gfn ? c->write_run + 1 : 1;
	c->last_written_gfn = gfn;
	struct shadow_pt_page *p = pt_page(d, gfn);
	if (c->write_run < WRITE_RUN_LIMIT || !p || p->anywhere)
		return;
	for (unsigned u = 0; u < p->use_count; u++)
		if (p->uses[u].level != 0)
			return;
	untrack(d, p);
	c->write_run = 0;
	d->shadow.write_runs++;
}

void shadow_handle_page_fault(struct vcpu *v, uint64_t gva, uint32_t hw_error)
{
	struct domain *d = v->domain;
	struct shadow_cache *c = &d->shadow_cache;
	uint64_t *leaf = NULL;
	if (c->enabled && (hw_error & (PF_PRESENT | PF_WRITE)) == (PF_PRESENT | PF_WRITE))
		leaf = paging_leaf(shadow_current_root(v), gva);
	if (!leaf || !(*leaf & PTE_PRESENT) || !(*leaf & SHADOW_PTE_PROTECTED)) {
		shadow_page_fault(v, gva, hw_error);
		return;
	}
	/* A write to a guest page table through a shadow entry we protected. */
	if (shadow_emulate_pt_write(v)) {
		note_emulated_write(v, gva);
		return;
	}
	if (d->state != DOMAIN_RUNNABLE)
		return;
	/* Not emulated: unprotect the page (and, if the retry would track it
	 * again, leave it alone until the next CR3 load); the guest retries its
	 * write, which now goes through. */
	struct guest_walk_result walk;
	if (!guest_walk(v, gva, ACCESS_WRITE, false, &walk)) {
		shadow_page_fault(v, gva, hw_error); /* the guest's own fault after all */
		return;
	}
	uint64_t gfn = walk.gpa / PAGE_SIZE;
	shadow_unprotect(d, gfn);
	if (gfn < d->page_count && on_walk(v, gva, gfn)) {
		c->pt_index[gfn] = SHADOW_PT_LEFT_ALONE;
		c->left_alone = true;
	}
}
