/*
 * vmcs.c — LAB 3 reference solution (VMX half): the guest's initial state in
 * the VMCS, and what each VM exit means in the common vocabulary.
 */
#include "domain.h"
#include "emulate.h"
#include "trap.h"
#include "vcpu.h"
#include "vmx_internal.h"
#include "x86.h"

/* The guest starts as the guest-image contract says (docs/hypercalls.md):
 * 64-bit mode at CPL 0, paging on through the identity tables in its top
 * pages, interrupts off. Access rights: SDM Vol. 3C §25.4.1 (type, S, DPL,
 * P in bits 0-7; AVL, L, D/B, G in 12-15; unusable in 16). */
void vmx_init_guest_state(struct vcpu *v, struct vmx_state *s)
{
	set_segment(VMX_CS, 0x08, 0xa09b, 0xffffffff, 0); /* code, accessed, P, L=1, G */
	set_segment(VMX_SS, 0x10, 0xc093, 0xffffffff, 0); /* data, accessed, P, D/B, G */
	set_segment(VMX_DS, 0x10, 0xc093, 0xffffffff, 0);
	set_segment(VMX_ES, 0x10, 0xc093, 0xffffffff, 0);
	set_segment(VMX_FS, 0x10, 0xc093, 0xffffffff, 0);
	set_segment(VMX_GS, 0x10, 0xc093, 0xffffffff, 0);
	set_segment(VMX_TR, 0, 0x008b, 0x67, 0);          /* a busy 64-bit TSS */
	set_segment(VMX_LDTR, 0, VMX_AR_UNUSABLE, 0, 0);
	vmwrite(VMCS_GUEST_GDTR_BASE, 0);
	vmwrite(VMCS_GUEST_GDTR_LIMIT, 0);
	vmwrite(VMCS_GUEST_IDTR_BASE, 0);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, 0);
	vmwrite(VMCS_GUEST_CR0, v->cr0 | s->cr0_fixed); /* VMX needs PE, NE, PG */
	vmwrite(VMCS_GUEST_CR3, v->cr3);
	vmwrite(VMCS_GUEST_CR4, v->cr4 | s->cr4_fixed); /* and VMXE, which the guest reads as 0 */
	vmwrite(VMCS_GUEST_EFER, v->efer);
	vmwrite(VMCS_GUEST_DR7, 0x400);
	vmwrite(VMCS_GUEST_DEBUGCTL, 0);
	vmwrite(VMCS_GUEST_SYSENTER_CS, 0);
	vmwrite(VMCS_GUEST_SYSENTER_ESP, 0);
	vmwrite(VMCS_GUEST_SYSENTER_EIP, 0);
	vmwrite(VMCS_GUEST_INTERRUPTIBILITY, 0);
	vmwrite(VMCS_GUEST_ACTIVITY_STATE, 0);
	vmwrite(VMCS_GUEST_PENDING_DEBUG, 0);
	vmwrite(VMCS_LINK_POINTER, ~0ull);
}

/* What the exit reason means in the common vocabulary. */
void vmx_decode_exit(struct vcpu *v, struct vmx_state *s)
{
	uint32_t reason = (uint32_t)vmread(VMCS_EXIT_REASON);
	uint64_t qualification = vmread(VMCS_EXIT_QUALIFICATION);
	uint64_t next_rip = v->regs.rip + vmread(VMCS_EXIT_INSTRUCTION_LEN);
	struct vcpu_exit *e = &v->exit;
	*e = (struct vcpu_exit){.reason = VCPU_EXIT_NONE, .next_rip = v->regs.rip};
	if (reason & VMX_EXIT_ENTRY_FAILED) {
		domain_crash(v->domain, "VM entry refused the guest state (exit reason %u, qualification 0x%lx)",
			     reason & 0xffff, qualification);
		return;
	}
	switch (reason & 0xffff) {
	case VMX_EXIT_EXTERNAL_INTERRUPT:
		e->reason = VCPU_EXIT_INTERRUPT;
		break;
	case VMX_EXIT_EXCEPTION_NMI: {
		/* An NMI, or an exception in the bitmap: only #PF, under shadow
		 * paging, whose address is the exit qualification (CR2 is left
		 * alone: SDM §28.1) and its error code a field of its own. */
		uint32_t info = (uint32_t)vmread(VMCS_EXIT_INTR_INFO);
		if ((info & EVENT_TYPE_MASK) == EVENT_TYPE_NMI) {
			e->reason = VCPU_EXIT_INTERRUPT;
		} else if ((info & 0xff) == VEC_PF) {
			e->reason = VCPU_EXIT_PAGE_FAULT;
			e->fault_address = qualification;
			e->has_error_code = true;
			e->error_code = (uint32_t)vmread(VMCS_EXIT_INTR_ERROR);
		} else {
			domain_crash(v->domain, "unexpected exception exit (info 0x%x)", info);
		}
		break;
	}
	case VMX_EXIT_CR_ACCESS:
	case VMX_EXIT_INVLPG:
		/* Shadow paging (and a guest changing a CR0/CR4 bit the host owns):
		 * decoded and emulated like a trapped instruction, as under SVM
		 * (kernel/virt/emulate.c) — the exit qualification would say as
		 * much, but one path serves both vendors. */
		e->reason = VCPU_EXIT_PRIVILEGED;
		e->vector = VEC_GP;
		break;
	case VMX_EXIT_INTERRUPT_WINDOW:
		/* The window we asked for is open: deliver_pending injects now. */
		vmx_close_interrupt_window(s);
		break;
	case VMX_EXIT_CPUID:
		e->reason = VCPU_EXIT_CPUID;
		e->next_rip = next_rip;
		break;
	case VMX_EXIT_HLT:
		e->reason = VCPU_EXIT_HLT;
		e->next_rip = next_rip;
		break;
	case VMX_EXIT_RDMSR:
	case VMX_EXIT_WRMSR:
		e->reason = VCPU_EXIT_MSR;
		e->next_rip = msr_emulate(v, (reason & 0xffff) == VMX_EXIT_WRMSR) ? next_rip : v->regs.rip;
		break;
	case VMX_EXIT_VMCALL:
		e->reason = VCPU_EXIT_HYPERCALL;
		e->next_rip = next_rip;
		break;
	case VMX_EXIT_IO:
		/* Exit qualification (SDM §28.2.1, Table 28-5): bits 2:0 size - 1,
		 * bit 3 IN, bit 4 string, bit 5 REP, bits 31:16 port. */
		e->reason = VCPU_EXIT_IO;
		e->io_size = (qualification & 7) + 1;
		e->io_in = qualification & 8;
		e->io_string = qualification & 16;
		e->io_rep = qualification & 32;
		e->io_port = (uint16_t)(qualification >> 16);
		e->next_rip = next_rip;
		break;
	case VMX_EXIT_EPT_VIOLATION:
		/* In the #PF-style code the common handler reads (as SVM's
		 * EXITINFO1): bit 0 the entry allowed some access (qualification
		 * bits 5:3, R/W/X), bit 1 a write, bit 4 a fetch (bits 1, 2;
		 * SDM §28.2.1, Table 28-7). */
		e->reason = VCPU_EXIT_NESTED_PAGE_FAULT;
		e->fault_address = vmread(VMCS_GUEST_PHYSICAL_ADDRESS);
		e->error_code = (qualification & 0x38 ? 1u : 0) | (qualification & 2 ? 2u : 0) |
				(qualification & 4 ? 0x10u : 0);
		break;
	case VMX_EXIT_EPT_MISCONFIG:
		/* A malformed EPT entry (W without R, a reserved memory type): the
		 * hypervisor's bug, but only this domain's EPT is wrong. */
		domain_crash(v->domain, "EPT misconfiguration at guest-physical 0x%lx (a malformed EPT entry)",
			     vmread(VMCS_GUEST_PHYSICAL_ADDRESS));
		break;
	case VMX_EXIT_TRIPLE_FAULT:
		e->reason = VCPU_EXIT_SHUTDOWN;
		break;
	default:
		if ((reason >= VMX_EXIT_VMCALL + 1 && reason <= VMX_EXIT_VMXON) || reason == VMX_EXIT_INVEPT ||
		    reason == VMX_EXIT_INVVPID) {
			/* VMLAUNCH, VMXON, ... in a guest that sees no VMX: #UD. */
			e->reason = VCPU_EXIT_EXCEPTION;
			e->vector = VEC_UD;
		} else {
			domain_crash(v->domain, "unexpected VM exit reason %u (qualification 0x%lx)", reason,
				     qualification);
		}
	}
}
