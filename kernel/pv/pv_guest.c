/*
 * pv_guest.c — reaching the guest's memory and interrupt flag from the
 * trap-and-emulate code.
 *
 * In paging mode "direct", guest-virtual addresses equal guest-physical
 * ones, and page 0 is unmapped; an access that misses becomes the #PF the
 * guest would have taken itself, with the error code a CPL-0 access gives.
 */
#include "decode.h"
#include "domain.h"
#include "memlayout.h"
#include "pv.h"
#include "shadow.h"
#include "trap.h"
#include "vcpu.h"

uint64_t pv_operand_address(struct vcpu *v, const struct insn *insn)
{
	uint64_t regs[16];
	for (unsigned i = 0; i < 16; i++)
		regs[i] = *vcpu_gpr(v, i);
	uint64_t address = insn_effective_address(&insn->mem, regs, v->regs.rip + insn->length);
	/* In 64-bit mode only FS and GS have a base (SDM Vol. 3A §3.2.4). */
	if (insn->mem.segment == SEG_FS)
		address += v->msr.fs_base;
	else if (insn->mem.segment == SEG_GS)
		address += v->msr.gs_base;
	return address;
}

static bool accessible(struct vcpu *v, uint64_t va, size_t size)
{
	return va >= PAGE_SIZE && va < v->domain->memory_bytes && size <= v->domain->memory_bytes - va;
}

/* The kind of access the CPU makes: with the guest's current privilege,
 * unless it is one of the CPU's own supervisor accesses. */
static unsigned effective_access(struct vcpu *v, unsigned access)
{
	bool supervisor = access & PV_ACCESS_SUPERVISOR;
	access &= ~PV_ACCESS_SUPERVISOR;
	return v->virtual_cpl == 3 && !supervisor ? access | ACCESS_USER : access;
}

bool pv_access_guest(struct vcpu *v, uint64_t va, void *buf, size_t size, unsigned access)
{
	struct domain *d = v->domain;
	access = effective_access(v, access);
	if (d->paging == PAGING_DIRECT) {
		/* Every page is the guest's and U=1: no isolation of its user mode here. */
		if (!accessible(v, va, size))
			return false;
		return access & ACCESS_WRITE ? domain_write(d, va, buf, size) : domain_read(d, va, buf, size);
	}
	/* Shadow or nested paging: through the guest's own tables, page by
	 * page, setting A/D as the CPU's own access would. */
	uint8_t *p = buf;
	while (size) {
		struct guest_walk_result walk;
		size_t chunk = MIN(size, PAGE_SIZE - va % PAGE_SIZE);
		if (!guest_walk(v, va, access, true, &walk))
			return false;
		/* A write may land on a guest page table a shadow was built from. */
		bool ok = access & ACCESS_WRITE ? shadow_write_guest(d, walk.gpa, p, chunk)
						: domain_read(d, walk.gpa, p, chunk);
		if (!ok)
			return false;
		va += chunk, p += chunk, size -= chunk;
	}
	return true;
}

static void page_fault(struct vcpu *v, uint64_t va, uint32_t error)
{
	/* CR2 names the first byte that missed: the end of guest memory if the
	 * access started inside it and ran off the end. */
	bool starts_inside = va >= PAGE_SIZE && va < v->domain->memory_bytes;
	v->cr2 = starts_inside ? v->domain->memory_bytes : va;
	vcpu_inject_exception(v, VEC_PF, true, error);
}

/* The #PF a failed access gets. Under shadow paging, the guest's own walk
 * knows the exact error code; in direct mode, it is a not-present fault. */
static void access_fault(struct vcpu *v, uint64_t va, size_t size, unsigned access)
{
	access = effective_access(v, access);
	if (v->domain->paging != PAGING_DIRECT) {
		struct guest_walk_result walk;
		for (uint64_t a = va; a < va + size; a = ALIGN_DOWN(a, PAGE_SIZE) + PAGE_SIZE)
			if (!guest_walk(v, a, access, false, &walk)) {
				if (v->domain->state != DOMAIN_RUNNABLE)
					return;
				v->domain->shadow.true_faults++;
				v->cr2 = a;
				vcpu_inject_exception(v, VEC_PF, true, walk.error);
				return;
			}
	}
	page_fault(v, va, (access & ACCESS_WRITE ? PF_WRITE : access & ACCESS_FETCH ? PF_FETCH : 0) |
				  (access & ACCESS_USER ? PF_USER : 0));
}

/*
 * The guest's TSS, as the CPU finds it on an event that changes privilege
 * (SDM Vol. 3A §8.7, Figure 8-11 "64-Bit TSS Format"; §8.2.3 "TSS
 * Descriptor in 64-bit mode"). The CPU caches the TSS base when LTR runs;
 * here the descriptor is read again each time from the guest's GDT, which
 * gives the same answer unless the guest rewrites a loaded TSS descriptor.
 */
bool pv_guest_tss_stack(struct vcpu *v, unsigned index, uint64_t *rsp)
{
	uint8_t d[16];
	unsigned offset = v->tr & ~7u;
	if (index > 7 || offset == 0 || (v->tr & 4) || offset + 15u > v->gdtr.limit ||
	    !pv_access_guest(v, v->gdtr.base + offset, d, sizeof(d), ACCESS_READ | PV_ACCESS_SUPERVISOR))
		return false;
	unsigned type = d[5] & 0x1f; /* S = 0 and type 9 (available) or 0xB (busy) 64-bit TSS */
	if (!(d[5] & 0x80) || (type != 0x9 && type != 0xb))
		return false;
	uint64_t base = d[2] | (uint64_t)d[3] << 8 | (uint64_t)d[4] << 16 | (uint64_t)d[7] << 24 |
			(uint64_t)d[8] << 32 | (uint64_t)d[9] << 40 | (uint64_t)d[10] << 48 | (uint64_t)d[11] << 56;
	uint32_t limit = d[0] | (uint32_t)d[1] << 8 | (uint32_t)(d[6] & 0xf) << 16;
	if (d[6] & 0x80) /* G: the limit counts 4 KiB units */
		limit = limit << 12 | 0xfff;
	/* RSP0 at offset 4, IST1-IST7 from offset 0x24. */
	unsigned field = index == 0 ? 4 : 0x24 + 8 * (index - 1);
	return field + 7 <= limit &&
	       pv_access_guest(v, base + field, rsp, sizeof(*rsp), ACCESS_READ | PV_ACCESS_SUPERVISOR);
}

void pv_switch_mode(struct vcpu *v, uint8_t cpl, uint16_t cs, uint16_t ss)
{
	if (cpl != v->virtual_cpl) {
		if (cpl == 3)
			v->domain->shadow.user_entries++;
		else
			v->domain->shadow.kernel_entries++;
	}
	v->virtual_cpl = cpl;
	v->virtual_cs = cs;
	v->virtual_ss = ss;
}

bool pv_read_guest(struct vcpu *v, uint64_t va, void *buf, size_t size, bool fetch)
{
	unsigned access = fetch ? ACCESS_FETCH : ACCESS_READ;
	if (pv_access_guest(v, va, buf, size, access))
		return true;
	access_fault(v, va, size, access);
	return false;
}

bool pv_write_guest(struct vcpu *v, uint64_t va, const void *buf, size_t size)
{
	if (pv_access_guest(v, va, (void *)buf, size, ACCESS_WRITE))
		return true;
	access_fault(v, va, size, ACCESS_WRITE);
	return false;
}

/* Once a shared-info page is registered, the virtual IF *is* the vCPU's
 * evtchn_upcall_mask (inverted), Xen's: the guest flips it with a plain
 * store, CLI/STI/POPF-free, and CLI/STI that still trap change the same byte. */
bool pv_interrupts_masked(struct vcpu *v)
{
	struct shared_info *info = domain_shared_info(v->domain);
	return info ? __atomic_load_n(&info->vcpu_info[v->id].evtchn_upcall_mask, __ATOMIC_SEQ_CST) != 0
		    : !v->virtual_if;
}

void pv_set_virtual_if(struct vcpu *v, bool enabled)
{
	struct shared_info *info = domain_shared_info(v->domain);
	v->virtual_if = enabled;
	if (info)
		__atomic_store_n(&info->vcpu_info[v->id].evtchn_upcall_mask, !enabled, __ATOMIC_SEQ_CST);
}

void pv_publish_pending(struct vcpu *v, bool pic_pending)
{
	struct shared_info *info = domain_shared_info(v->domain);
	if (!info)
		return;
	struct vcpu_info *vi = &info->vcpu_info[v->id];
	if (pic_pending)
		__atomic_store_n(&vi->evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST);
	else if (!__atomic_load_n(&vi->evtchn_pending_sel, __ATOMIC_SEQ_CST))
		__atomic_store_n(&vi->evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
}
