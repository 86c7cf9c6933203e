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

/* The shared-info page's layout: docs/hypercalls.md. */
struct shared_info {
	uint8_t irq_mask;
	uint8_t irq_pending;
	uint8_t reserved[6];
	uint64_t ticks;
};

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

static struct shared_info *shared_info(struct vcpu *v)
{
	uint64_t gpa = v->domain->shared_info_gpa;
	return gpa ? phys_to_virt(domain_gpa_to_hpa(v->domain, gpa)) : NULL;
}

bool pv_interrupts_masked(struct vcpu *v)
{
	struct shared_info *info = shared_info(v);
	return info ? info->irq_mask != 0 : !v->virtual_if;
}

void pv_set_virtual_if(struct vcpu *v, bool enabled)
{
	struct shared_info *info = shared_info(v);
	v->virtual_if = enabled;
	if (info)
		info->irq_mask = !enabled;
}

/* Tell a paravirtualized guest an interrupt waits, so it can ask for it
 * (event_check) after unmasking without trapping. */
void pv_publish_pending(struct vcpu *v, bool pending, uint64_t ticks)
{
	struct shared_info *info = shared_info(v);
	if (info) {
		info->irq_pending = pending;
		info->ticks = ticks;
	}
}
