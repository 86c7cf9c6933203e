/*
 * msr.c — the MSRs a hardware-assisted guest cannot reach by itself.
 *
 * Both backends let the guest read and write most MSRs directly and send
 * only a few to the hypervisor: SVM through its MSR permission map (APM
 * Vol. 2 §15.11), VMX through its MSR bitmap (SDM Vol. 3C §25.6.9), which
 * also sends every MSR outside the bitmap's two ranges. What those few mean
 * does not depend on the vendor, so it is decided here, once, against the
 * vCPU: the backend copies v->efer and v->msr.tsc_offset into its VMCB or
 * VMCS before the next entry.
 *
 * - EFER: the guest may change SCE and NXE, and LME while paging is off
 *   (the way into long mode, APM Vol. 2 §14.6, SDM Vol. 3A §9.8.5); LMA is
 *   the CPU's. SVME and every other bit stay as they are: setting them is #GP,
 *   as on a CPU that has no SVM.
 * - 0x40000000, Xen's hypercall-page MSR: writing a page's address fills it.
 * - IA32_TIME_STAMP_COUNTER: a write becomes an offset, never reaches the host.
 * - IA32_APIC_BASE, IA32_TSC_DEADLINE and the x2APIC registers (0x800-0x8ff):
 *   the vCPU's local APIC (dev/lapic.c), which says where they are #GP.
 * - Anything else that comes here is an MSR the guest must believe absent —
 *   SVM's VM_CR and VM_HSAVE_PA, VMX's capability MSRs and
 *   IA32_FEATURE_CONTROL: #GP, as on a CPU without the extension.
 */
#include "cpu.h"
#include "domain.h"
#include "emulate.h"
#include "lapic.h"
#include "shadow.h"
#include "trap.h"
#include "vcpu.h"
#include "x86.h"

#define MSR_TIME_STAMP_COUNTER 0x10u
#define EFER_LMA (1ul << 10)

bool msr_emulate(struct vcpu *v, bool write)
{
	uint32_t msr = (uint32_t)v->regs.rcx;
	uint64_t value = (v->regs.rdx << 32) | (uint32_t)v->regs.rax;
	switch (msr) {
	case MSR_EFER:
		if (write) {
			uint64_t changeable = EFER_SCE | (cpu.nx ? EFER_NXE : 0) | (v->cr0 & CR0_PG ? 0 : EFER_LME);
			uint64_t fixed = ~changeable & ~EFER_LMA;
			if ((value & fixed) != (v->efer & fixed))
				goto fault;
			uint64_t before = v->efer;
			v->efer = (value & ~EFER_LMA) | (v->efer & EFER_LMA);
			/* NXE changes what every guest entry's NX bit means: a
			 * shadow built under the old value is stale (as for CR4). */
			if (v->efer != before && v->domain->paging == PAGING_SHADOW)
				shadow_flush(v);
		}
		value = v->efer;
		break;
	case XEN_HYPERCALL_PAGE_MSR: /* write-only: the hypercall page (xen_cpuid.c) */
		if (!write || !xen_hypercall_page(v, value))
			goto fault;
		break;
	case MSR_TIME_STAMP_COUNTER:
		if (write)
			v->msr.tsc_offset = value - rdtsc();
		value = rdtsc() + v->msr.tsc_offset;
		break;
	default:
		if (!vlapic_msr(v, msr, write, &value))
			goto fault;
	}
	if (!write) {
		v->regs.rax = (uint32_t)value;
		v->regs.rdx = value >> 32;
	}
	return true;
fault:
	vcpu_inject_exception(v, VEC_GP, true, 0);
	return false;
}
