/*
 * grant_table.c — Xen's grant tables, version 1: how one domain lets
 * another map or copy a page of its own, without the hypervisor deciding
 * who shares what (Xen's xen/include/public/grant_table.h; docs/hypercalls.md).
 *
 * The *granter* writes an entry of its table {flags, domid, frame}: "domain
 * domid may use my frame", GTF_permit_access, optionally GTF_readonly. The
 * *mapper* (the grantee) passes (granter, reference) to the hypervisor:
 * - GNTTABOP_map_grant_ref puts the granted frame at a guest-physical
 *   address of its own (host_addr, page-aligned: Hypatia's guests are all
 *   auto-translated, XENFEAT_auto_translated_physmap) — the mapper's p2m
 *   entry and its tables (the direct table of a PV guest, the nested table
 *   of an HVM one) now lead to the granter's host frame; the frame it had
 *   there is kept in the maptrack entry and comes back on unmap;
 * - GNTTABOP_unmap_grant_ref undoes it (and the TLB forgets it);
 * - GNTTABOP_copy copies bytes between a grant and a page of the caller
 *   without mapping anything.
 * While a mapping exists the entry has GTF_reading, and GTF_writing if it
 * is writable: the granter revokes a grant with a compare-and-swap of the
 * flags from GTF_permit_access to 0, which fails while those bits are set.
 * The hypervisor sets them with a compare-and-swap too, so a granter that
 * changes the entry at the same moment loses or wins cleanly.
 *
 * What a request must pass to use an entry (reference in range, the
 * caller is the grantee, the grant is live, read-only honoured) is the
 * student's grant_check_access() (grant_check.c, LAB 4).
 */
#include "console.h"
#include "domain.h"
#include "event_channel.h"
#include "grant_table.h"
#include "hypercall.h"
#include "memlayout.h"
#include "paging.h"
#include "string.h"
#include "vcpu.h"
#include "x86.h"

/* The entry @ref of @d's table, as the hypervisor reaches it (the frame is
 * guest memory: a populated page since it was placed), or NULL. */
static struct grant_entry_v1 *entry_of(struct domain *d, uint32_t ref)
{
	struct grant_table *t = &d->grant;
	if (ref >= t->nr_frames * GRANT_ENTRIES_PER_FRAME || !t->frame_gfn[ref / GRANT_ENTRIES_PER_FRAME])
		return NULL;
	paddr_t hpa = domain_gpa_to_hpa(d, t->frame_gfn[ref / GRANT_ENTRIES_PER_FRAME] * PAGE_SIZE);
	return hpa ? (struct grant_entry_v1 *)phys_to_virt(hpa) + ref % GRANT_ENTRIES_PER_FRAME : NULL;
}

/* Entries a reference may name: whole placed frames only. */
static uint32_t nr_entries(struct domain *d)
{
	uint32_t n = 0;
	while (n < d->grant.nr_frames && d->grant.frame_gfn[n])
		n++;
	return n * GRANT_ENTRIES_PER_FRAME;
}

/* The flags and domid of an entry are one 32-bit word (Xen swaps them together). */
static uint32_t header_of(uint16_t flags, uint16_t domid)
{
	return flags | (uint32_t)domid << 16;
}

/* Take grant @ref of @granter for @caller: check it (grant_check_access)
 * and set GTF_reading/GTF_writing with a compare-and-swap, retried a few
 * times if the granter changes the entry meanwhile (as Xen: five tries). */
static int16_t acquire(struct domain *granter, uint32_t ref, uint16_t caller, bool readonly, uint64_t *frame)
{
	struct grant_entry_v1 *e = entry_of(granter, ref);
	for (int tries = 0; tries < 5; tries++) {
		struct grant_entry_v1 now = {0};
		if (e)
			__atomic_load(e, &now, __ATOMIC_SEQ_CST);
		uint16_t flags;
		int16_t status = grant_check_access(ref, e ? nr_entries(granter) : 0, now, caller, readonly, &flags);
		if (status != GNTST_okay)
			return status;
		if (!e) /* a broken check let an out-of-range reference through */
			return GNTST_bad_gntref;
		uint32_t old = header_of(now.flags, now.domid);
		if (__atomic_compare_exchange_n((uint32_t *)e, &old, header_of(flags, now.domid), false, __ATOMIC_SEQ_CST,
						__ATOMIC_SEQ_CST)) {
			*frame = now.frame;
			return GNTST_okay;
		}
	}
	return GNTST_general_error; /* the entry kept changing under us */
}

/* After a mapping of (granter, ref) went away: clear GTF_writing unless a
 * writable mapping is left, GTF_reading unless any is left (Xen's pin counts). */
static void release_flags(struct domain *granter, uint32_t ref)
{
	bool reading = false, writing = false;
	for (unsigned i = 0; i < domain_count; i++) {
		struct domain *d = domain_table[i];
		for (unsigned h = 0; d && h < GRANT_MAPTRACK_SIZE; h++) {
			const struct grant_mapping *m = &d->grant.maptrack[h];
			if (m->in_use && m->granter == granter->id && m->ref == ref)
				reading = true, writing |= !m->readonly;
		}
	}
	struct grant_entry_v1 *e = entry_of(granter, ref);
	uint16_t clear = (reading ? 0 : GTF_reading) | (writing ? 0 : GTF_writing);
	if (e && clear)
		__atomic_fetch_and(&e->flags, (uint16_t)~clear, __ATOMIC_SEQ_CST);
}

/* Point @d's guest-physical page @gpa at host frame @hpa in its tables. */
static bool retarget(struct domain *d, uint64_t gpa, paddr_t hpa, bool writable)
{
	d->p2m[gpa / PAGE_SIZE] = hpa;
	if (d->paging == PAGING_DIRECT) {
		if (!paging_map(d->pml4, gpa, hpa, PTE_USER | (writable ? PTE_WRITE : 0)))
			return false;
		/* A PV guest runs on d->pml4: if it is loaded, forget the old entry now
		 * (a switch to it later reloads CR3, which forgets it too). */
		if (read_cr3() == d->pml4)
			invlpg(gpa);
		return true;
	}
	/* Nested: before the next VMRUN the ASID's TLB is flushed, before the
	 * next VM entry INVEPT forgets the EPT's translations (grant_take_tlb_flush). */
	d->grant.tlb_flush_due = true;
	return domain_map_nested(d, gpa, hpa, writable);
}

static bool gpa_is_special(struct domain *d, uint64_t gpa)
{
	if (gpa == d->shared_info_gpa)
		return true;
	for (unsigned i = 0; i < GRANT_TABLE_MAX_FRAMES; i++)
		if (d->grant.frame_gfn[i] && d->grant.frame_gfn[i] * PAGE_SIZE == gpa)
			return true;
	for (unsigned h = 0; h < GRANT_MAPTRACK_SIZE; h++)
		if (d->grant.maptrack[h].in_use && d->grant.maptrack[h].gpa == gpa)
			return true;
	return false;
}

static void map_grant_ref(struct vcpu *v, struct gnttab_map_grant_ref *op)
{
	struct domain *d = v->domain;
	op->handle = 0;
	op->dev_bus_addr = 0;
	if (!(op->flags & GNTMAP_host_map)) { /* Xen: no mapping asked for is a bad reference */
		op->status = GNTST_bad_gntref;
		return;
	}
	if (op->flags & (GNTMAP_device_map | GNTMAP_application_map | GNTMAP_contains_pte)) {
		op->status = GNTST_general_error; /* no IOMMU, no PV page-table mappings */
		return;
	}
	struct domain *granter = domain_by_domid(op->dom == DOMID_SELF ? d->id : op->dom);
	if (!granter) {
		op->status = GNTST_bad_domain;
		return;
	}
	/* Direct (PV) and nested (NPT, EPT) tables so far; shadow paging: not yet. */
	if (d->paging == PAGING_SHADOW) {
		op->status = GNTST_general_error;
		return;
	}
	uint64_t gpa = op->host_addr;
	if (gpa % PAGE_SIZE || gpa == 0 || gpa >= d->memory_bytes || gpa_is_special(d, gpa) ||
	    (!domain_gpa_to_hpa(d, gpa) && !domain_populate(d, gpa))) {
		op->status = GNTST_bad_virt_addr;
		return;
	}
	unsigned h = 0;
	while (h < GRANT_MAPTRACK_SIZE && d->grant.maptrack[h].in_use)
		h++;
	if (h == GRANT_MAPTRACK_SIZE) {
		op->status = GNTST_no_space;
		return;
	}
	bool readonly = op->flags & GNTMAP_readonly;
	uint64_t frame;
	int16_t status = acquire(granter, op->ref, (uint16_t)d->id, readonly, &frame);
	if (status != GNTST_okay) {
		op->status = status;
		return;
	}
	uint64_t frame_gpa = frame * PAGE_SIZE;
	paddr_t hpa = frame < granter->page_count ? domain_gpa_to_hpa(granter, frame_gpa) : 0;
	if (!hpa && frame && frame < granter->page_count && granter->lazy_memory && domain_populate(granter, frame_gpa))
		hpa = domain_gpa_to_hpa(granter, frame_gpa);
	struct grant_mapping *m = &d->grant.maptrack[h];
	*m = (struct grant_mapping){.in_use = 1, .readonly = readonly, .granter = (uint16_t)granter->id,
				    .ref = op->ref, .gpa = gpa, .granted_frame = frame,
				    .saved_frame = d->p2m[gpa / PAGE_SIZE]};
	if (!hpa || frame == 0 || !retarget(d, gpa, hpa, !readonly)) {
		if (hpa && frame)
			retarget(d, gpa, m->saved_frame, !d->dirty_logging);
		m->in_use = 0;
		release_flags(granter, op->ref);
		op->status = GNTST_general_error; /* the entry names a frame the granter does not have */
		return;
	}
	op->handle = h;
	op->status = GNTST_okay;
}

/* Undo mapping @m of @d: its own frame back at the address, the entry's flags released. */
static void unmap_one(struct domain *d, struct grant_mapping *m)
{
	retarget(d, m->gpa, m->saved_frame, !d->dirty_logging);
	m->in_use = 0;
	struct domain *granter = domain_by_domid(m->granter);
	if (granter)
		release_flags(granter, m->ref);
}

static void unmap_grant_ref(struct vcpu *v, struct gnttab_unmap_grant_ref *op)
{
	struct domain *d = v->domain;
	if (op->handle >= GRANT_MAPTRACK_SIZE || !d->grant.maptrack[op->handle].in_use) {
		op->status = GNTST_bad_handle;
		return;
	}
	struct grant_mapping *m = &d->grant.maptrack[op->handle];
	if (op->host_addr != m->gpa) { /* Xen: the address does not hold that grant */
		op->status = GNTST_general_error;
		return;
	}
	unmap_one(d, m);
	op->status = GNTST_okay;
}

int64_t grant_table_place_frame(struct domain *d, uint64_t idx, uint64_t gpfn)
{
	static const uint8_t zeros[PAGE_SIZE];
	if (idx >= GRANT_TABLE_MAX_FRAMES || gpfn == 0 || gpfn >= d->page_count || gpfn * PAGE_SIZE == d->shared_info_gpa)
		return -XEN_EINVAL;
	for (unsigned h = 0; h < GRANT_MAPTRACK_SIZE; h++)
		if (d->grant.maptrack[h].in_use && d->grant.maptrack[h].gpa == gpfn * PAGE_SIZE)
			return -XEN_EINVAL;
	for (unsigned i = 0; i < GRANT_TABLE_MAX_FRAMES; i++) /* one page, one frame of the table */
		if (i != idx && d->grant.frame_gfn[i] == gpfn)
			return -XEN_EINVAL;
	if (!domain_write(d, gpfn * PAGE_SIZE, zeros, sizeof(zeros)))
		return -XEN_EINVAL;
	d->grant.frame_gfn[idx] = gpfn;
	d->grant.nr_frames = MAX(d->grant.nr_frames, (uint32_t)idx + 1);
	return 0;
}

/* GNTTABOP_setup_table: the table grows to nr_frames; a frame not placed
 * yet goes at the top of the domain's memory, below the command-line page.
 * The frame list gets each frame's guest frame number. */
static int64_t setup_table(struct vcpu *v, struct gnttab_setup_table *op)
{
	struct domain *d = v->domain;
	if (op->dom != DOMID_SELF && op->dom != d->id) {
		op->status = domain_by_domid(op->dom) ? GNTST_permission_denied : GNTST_bad_domain;
		return 0;
	}
	if (op->nr_frames > GRANT_TABLE_MAX_FRAMES) {
		op->status = GNTST_general_error;
		return 0;
	}
	for (uint32_t i = 0; i < op->nr_frames; i++)
		if (!d->grant.frame_gfn[i] && grant_table_place_frame(d, i, d->page_count - 2 - i) != 0) {
			op->status = GNTST_general_error;
			return 0;
		}
	for (uint32_t i = 0; i < op->nr_frames; i++)
		if (!copy_to_guest(v, op->frame_list + 8 * i, &d->grant.frame_gfn[i], 8))
			return -XEN_EFAULT;
	op->status = GNTST_okay;
	return 0;
}

static void query_size(struct vcpu *v, struct gnttab_query_size *op)
{
	struct domain *d = v->domain;
	if (op->dom != DOMID_SELF && op->dom != d->id) {
		op->status = domain_by_domid(op->dom) ? GNTST_permission_denied : GNTST_bad_domain;
		return;
	}
	op->nr_frames = d->grant.nr_frames;
	op->max_nr_frames = GRANT_TABLE_MAX_FRAMES;
	op->status = GNTST_okay;
}

/* One side of a copy: the guest-physical page of which domain. A grant
 * reference goes through grant_check_access; a frame must be the caller's. */
static int16_t copy_side(struct domain *d, const struct gnttab_copy_ptr *p, bool gref, bool readonly,
			 struct domain **owner, uint64_t *gpa)
{
	if (!gref) {
		if (p->domid != DOMID_SELF && p->domid != d->id)
			return GNTST_permission_denied;
		*owner = d;
		*gpa = p->u.gmfn * PAGE_SIZE;
		return p->u.gmfn < d->page_count ? GNTST_okay : GNTST_bad_page;
	}
	struct domain *granter = domain_by_domid(p->domid == DOMID_SELF ? d->id : p->domid);
	if (!granter)
		return GNTST_bad_domain;
	uint64_t frame;
	int16_t status = acquire(granter, p->u.ref, (uint16_t)d->id, readonly, &frame);
	if (status != GNTST_okay)
		return status;
	/* The copy is done before anyone else runs: release at once. */
	release_flags(granter, p->u.ref);
	*owner = granter;
	*gpa = frame * PAGE_SIZE;
	return frame && frame < granter->page_count ? GNTST_okay : GNTST_bad_page;
}

static void copy(struct vcpu *v, struct gnttab_copy *op)
{
	static uint8_t buffer[PAGE_SIZE];
	struct domain *d = v->domain, *src, *dst;
	uint64_t src_gpa, dst_gpa;
	if (op->source.offset + op->len > PAGE_SIZE || op->dest.offset + op->len > PAGE_SIZE) {
		op->status = GNTST_bad_copy_arg;
		return;
	}
	int16_t status = copy_side(d, &op->source, op->flags & GNTCOPY_source_gref, true, &src, &src_gpa);
	if (status == GNTST_okay)
		status = copy_side(d, &op->dest, op->flags & GNTCOPY_dest_gref, false, &dst, &dst_gpa);
	if (status == GNTST_okay && (!domain_read(src, src_gpa + op->source.offset, buffer, op->len) ||
				     !domain_write(dst, dst_gpa + op->dest.offset, buffer, op->len)))
		status = GNTST_general_error;
	op->status = status;
}

/* GNTTABOP_set_version: version 1 is the only one (Xen: -EINVAL for another
 * while the table is in use; 0 asks which). */
static int64_t set_version(struct gnttab_set_version *op)
{
	if (op->version != 1 && op->version != 0)
		return -XEN_EINVAL;
	op->version = 1;
	return 0;
}

int64_t grant_table_op(struct vcpu *v, uint64_t cmd, uint64_t arg, uint64_t count)
{
	union {
		struct gnttab_map_grant_ref map;
		struct gnttab_unmap_grant_ref unmap;
		struct gnttab_setup_table setup;
		struct gnttab_query_size query;
		struct gnttab_copy copy;
		struct gnttab_set_version version;
	} a;
	size_t size;
	switch (cmd) {
	case GNTTABOP_map_grant_ref: size = sizeof(a.map); break;
	case GNTTABOP_unmap_grant_ref: size = sizeof(a.unmap); break;
	case GNTTABOP_setup_table: size = sizeof(a.setup); break;
	case GNTTABOP_query_size: size = sizeof(a.query); break;
	case GNTTABOP_copy: size = sizeof(a.copy); break;
	case GNTTABOP_set_version: size = sizeof(a.version); break;
	default: return -XEN_ENOSYS;
	}
	if (count > 512) /* Xen preempts long batches; one call does at most this many here */
		return -XEN_EINVAL;
	/* Each structure: copied in, done, its status copied back out. */
	for (uint64_t i = 0; i < count; i++) {
		uint64_t at = arg + i * size;
		if (!copy_from_guest(v, &a, at, size))
			return -XEN_EFAULT;
		int64_t r = 0;
		switch (cmd) {
		case GNTTABOP_map_grant_ref: map_grant_ref(v, &a.map); break;
		case GNTTABOP_unmap_grant_ref: unmap_grant_ref(v, &a.unmap); break;
		case GNTTABOP_setup_table: r = setup_table(v, &a.setup); break;
		case GNTTABOP_query_size: query_size(v, &a.query); break;
		case GNTTABOP_copy: copy(v, &a.copy); break;
		default: r = set_version(&a.version); break;
		}
		if (r)
			return r;
		if (!copy_to_guest(v, at, &a, size))
			return -XEN_EFAULT;
	}
	return 0;
}

void grant_table_release(struct domain *d)
{
	for (unsigned h = 0; h < GRANT_MAPTRACK_SIZE; h++)
		if (d->grant.maptrack[h].in_use)
			unmap_one(d, &d->grant.maptrack[h]);
}

void grant_table_destroy(struct domain *d)
{
	grant_table_release(d);
	/* Xen keeps a granted page alive until its last mapping goes; here the
	 * frames are freed with the domain, so whoever still maps one loses
	 * the mapping first (its own page back, its TLB flushed). */
	for (unsigned i = 0; i < domain_count; i++) {
		struct domain *other = domain_table[i];
		for (unsigned h = 0; other && other != d && h < GRANT_MAPTRACK_SIZE; h++)
			if (other->grant.maptrack[h].in_use && other->grant.maptrack[h].granter == d->id)
				unmap_one(other, &other->grant.maptrack[h]);
	}
}

bool grant_gpa_readonly(const struct domain *d, uint64_t gpa)
{
	gpa = ALIGN_DOWN(gpa, PAGE_SIZE);
	for (unsigned h = 0; h < GRANT_MAPTRACK_SIZE; h++)
		if (d->grant.maptrack[h].in_use && d->grant.maptrack[h].readonly && d->grant.maptrack[h].gpa == gpa)
			return true;
	return false;
}

bool grant_take_tlb_flush(struct domain *d)
{
	bool due = d->grant.tlb_flush_due;
	d->grant.tlb_flush_due = false;
	return due;
}
