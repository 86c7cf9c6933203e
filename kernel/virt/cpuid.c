/*
 * cpuid.c — what CPUID tells a hardware-assisted guest.
 *
 * The host's answers, with five changes: SVM and VMX are hidden (the guest
 * cannot use them: nested virtualization is not offered), so are
 * MONITOR/MWAIT (as KVM does by default), the "hypervisor
 * present" bit is set (CPUID.1:ECX[31], reserved for this use), OSXSAVE
 * (CPUID.1:ECX[27]) reports the guest's CR4 rather than the hypervisor's,
 * leaf 1 describes the emulated local APIC (x2APIC, TSC-deadline),
 * and the leaves from 0x40000000 identify the hypervisor: Xen's, then the
 * kit's own (kernel/dom/xen_cpuid.c). Leaf 0xD needs no change: it
 * is asked while the guest's own XCR0 is loaded (xstate.c).
 */
#include "emulate.h"
#include "vcpu.h"
#include "x86.h"

/* Leaf 1's bits for the local APIC, as the emulated one is (dev/lapic.c):
 * APIC (EDX[9]), x2APIC (ECX[21]) and the TSC-deadline timer (ECX[24]),
 * whatever the host's own APIC offers; the initial APIC ID (EBX[31:24]) is
 * the vCPU's. */
static void cpuid_local_apic_bits(const struct vcpu *v, struct cpuid_regs *r)
{
	r->edx |= 1u << 9;
	r->ecx |= 1u << 21 | 1u << 24;
	r->ebx = (r->ebx & 0x00ffffff) | (v->lapic.id & 0xff) << 24;
}

void cpuid_emulate(struct vcpu *v)
{
	uint32_t leaf = (uint32_t)v->regs.rax, subleaf = (uint32_t)v->regs.rcx;
	struct cpuid_regs r;
	if (!xen_cpuid(v, leaf, &r)) {
		r = cpuid(leaf, subleaf);
		if (leaf == 1) {
			r.ecx = (r.ecx & ~(1u << 5)) | (1u << 31); /* no VMX; a hypervisor is present */
			/* OSXSAVE (bit 27) mirrors CR4.OSXSAVE: the guest's, not the host's. */
			r.ecx = (r.ecx & ~(1u << 27)) | (v->cr4 & CR4_OSXSAVE ? 1u << 27 : 0);
			/* No MONITOR/MWAIT (bit 3): under VMX MWAIT runs without an exit
			 * here, and an idle guest would wait where the scheduler cannot
			 * see it; without the bit Linux idles in HLT, which exits. */
			r.ecx &= ~(1u << 3);
			cpuid_local_apic_bits(v, &r);
		}
		if (leaf == 0x80000001)
			r.ecx &= ~(1u << 2); /* no SVM */
		if (leaf == 0x8000000a)
			r = (struct cpuid_regs){0}; /* the SVM feature leaf: nothing */
	}
	v->regs.rax = r.eax;
	v->regs.rbx = r.ebx;
	v->regs.rcx = r.ecx;
	v->regs.rdx = r.edx;
}
