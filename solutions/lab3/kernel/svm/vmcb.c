/*
 * vmcb.c — LAB 3 reference solution (SVM half): the guest's initial state in
 * the VMCB, and what each #VMEXIT means in the common vocabulary.
 */
#include "domain.h"
#include "emulate.h"
#include "svm_internal.h"
#include "trap.h"
#include "vcpu.h"
#include "x86.h"

/* The guest starts as the guest-image contract says (docs/hypercalls.md):
 * 64-bit mode at CPL 0, paging on through the identity tables in its top
 * pages, interrupts off. Segment attributes: APM Vol. 2 §15.5.1 (the
 * VMCB's compressed descriptor format: type, S, DPL, P, AVL, L, D/B, G). */
void svm_init_guest_state(struct vcpu *v, struct svm_state *s)
{
	set_segment(s, VMCB_CS, 0x08, 0xa9b, 0xffffffff, 0); /* code, P, L=1, G */
	set_segment(s, VMCB_SS, 0x10, 0xc93, 0xffffffff, 0); /* data, P, D/B, G */
	set_segment(s, VMCB_DS, 0x10, 0xc93, 0xffffffff, 0);
	set_segment(s, VMCB_ES, 0x10, 0xc93, 0xffffffff, 0);
	set_segment(s, VMCB_FS, 0x10, 0xc93, 0xffffffff, 0);
	set_segment(s, VMCB_GS, 0x10, 0xc93, 0xffffffff, 0);
	set_segment(s, VMCB_TR, 0, 0x08b, 0x67, 0);          /* a busy 64-bit TSS */
	set_segment(s, VMCB_LDTR, 0, 0x082, 0, 0);
	set_segment(s, VMCB_GDTR, 0, 0, 0, 0);
	set_segment(s, VMCB_IDTR, 0, 0, 0, 0);
	s->vmcb[VMCB_CPL] = 0;
	*vmcb_u64(s, VMCB_CR0) = v->cr0;
	*vmcb_u64(s, VMCB_CR3) = v->cr3;
	*vmcb_u64(s, VMCB_CR4) = v->cr4;
	*vmcb_u64(s, VMCB_EFER) = v->efer | EFER_SVME; /* VMRUN requires SVME in the guest's EFER */
	*vmcb_u64(s, VMCB_DR7) = 0x400;
	*vmcb_u64(s, VMCB_DR6) = 0xffff0ff0;
	*vmcb_u64(s, VMCB_G_PAT) = 0x0007040600070406ull; /* the power-on PAT */
}

/* What the exit code means in the common vocabulary. */
void svm_decode_exit(struct vcpu *v, struct svm_state *s)
{
	uint64_t code = *vmcb_u64(s, VMCB_EXITCODE);
	uint64_t info1 = *vmcb_u64(s, VMCB_EXITINFO1), info2 = *vmcb_u64(s, VMCB_EXITINFO2);
	struct vcpu_exit *e = &v->exit;
	*e = (struct vcpu_exit){.reason = VCPU_EXIT_NONE, .next_rip = v->regs.rip};
	switch (code) {
	case SVM_EXIT_INTR:
	case SVM_EXIT_NMI:
		e->reason = VCPU_EXIT_INTERRUPT;
		break;
	case SVM_EXIT_VINTR:
		/* The window we asked for is open: deliver_pending injects now. */
		*vmcb_u64(s, VMCB_VINTR) &= ~V_IRQ;
		*vmcb_u32(s, VMCB_INTERCEPT_MISC1) &= ~INTERCEPT_VINTR;
		s->window_requested = false;
		break;
	case SVM_EXIT_CR0_READ:
	case SVM_EXIT_CR3_READ:
	case SVM_EXIT_CR0_WRITE:
	case SVM_EXIT_CR3_WRITE:
	case SVM_EXIT_CR4_WRITE:
	case SVM_EXIT_INVLPG:
		/* Shadow paging: no decode assists in QEMU, so the instruction is
		 * decoded and emulated like a trapped one (kernel/virt/emulate.c). */
		e->reason = VCPU_EXIT_PRIVILEGED;
		e->vector = VEC_GP;
		break;
	case SVM_EXIT_EXCEPTION_BASE + VEC_PF:
		e->reason = VCPU_EXIT_PAGE_FAULT;
		e->error_code = (uint32_t)info1;
		e->fault_address = info2;
		break;
	case SVM_EXIT_CPUID: /* 0F A2 */
		e->reason = VCPU_EXIT_CPUID;
		e->next_rip = v->regs.rip + 2;
		break;
	case SVM_EXIT_HLT: /* F4 */
		e->reason = VCPU_EXIT_HLT;
		e->next_rip = v->regs.rip + 1;
		break;
	case SVM_EXIT_MSR: /* 0F 32 / 0F 30; EXITINFO1: 0 read, 1 write */
		e->reason = VCPU_EXIT_MSR;
		e->next_rip = msr_emulate(v, info1 & 1) ? v->regs.rip + 2 : v->regs.rip;
		break;
	case SVM_EXIT_VMMCALL: /* 0F 01 D9 */
		e->reason = VCPU_EXIT_HYPERCALL;
		e->next_rip = v->regs.rip + 3;
		break;
	case SVM_EXIT_IOIO:
		/* EXITINFO1 (APM §15.10.2): bit 0 IN, bit 2 string, bit 3 REP,
		 * bits 4-6 one-hot size, bits 16-31 port; EXITINFO2: next RIP.
		 * (QEMU leaves the address-size bits 0.) */
		e->reason = VCPU_EXIT_IO;
		e->io_in = info1 & 1;
		e->io_string = info1 & 4;
		e->io_rep = info1 & 8;
		e->io_size = info1 & 0x10 ? 1 : info1 & 0x20 ? 2 : 4;
		e->io_port = (uint16_t)(info1 >> 16);
		e->next_rip = info2;
		break;
	case SVM_EXIT_NPF:
		e->reason = VCPU_EXIT_NESTED_PAGE_FAULT;
		e->fault_address = info2;
		e->error_code = (uint32_t)info1;
		break;
	case SVM_EXIT_SHUTDOWN:
		e->reason = VCPU_EXIT_SHUTDOWN;
		break;
	case SVM_EXIT_INVALID:
	case SVM_EXIT_INVALID & 0xffffffff: /* QEMU writes -1 as 32 bits (DESIGN §2) */
		domain_crash(v->domain, "VMRUN refused the guest state (VMEXIT_INVALID)");
		break;
	default:
		if (code >= SVM_EXIT_VMRUN && code <= SVM_EXIT_VMRUN + 6) {
			/* VMRUN, VMLOAD, ... in a guest that sees no SVM: #UD. */
			e->reason = VCPU_EXIT_EXCEPTION;
			e->vector = VEC_UD;
		} else {
			domain_crash(v->domain, "unexpected #VMEXIT code 0x%lx", code);
		}
	}
}
