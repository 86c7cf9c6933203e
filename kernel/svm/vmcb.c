/*
 * vmcb.c — LAB 3 student file (SVM half): the guest's initial state in the
 * VMCB, and what each #VMEXIT means in the common vocabulary.
 *
 * See labs/lab3/README.md. kernel/include/svm.h lists the VMCB offsets and
 * exit codes; kernel/svm/svm_internal.h the intercept and event bits and the
 * helpers (vmcb_u64, vmcb_u32, set_segment); kernel/include/emulate.h
 * msr_emulate(), the MSRs both vendors intercept.
 */
#include "domain.h"
#include "emulate.h"
#include "svm_internal.h"
#include "trap.h"
#include "vcpu.h"
#include "x86.h"

/*
 * LAB 3: fill the VMCB's state save area so that VMRUN starts the guest as
 * the guest-image contract says (docs/hypercalls.md): 64-bit mode at CPL 0
 * — CS selector 0x08 with L=1; SS/DS/ES/FS/GS 0x10, flat — a usable TR
 * (a busy 64-bit TSS), CR0/CR3/CR4/EFER from the vcpu (EFER.SVME must be
 * set in the guest's EFER or VMRUN refuses it), DR6/DR7 and G_PAT at their
 * reset values. Segment attributes use the VMCB's compressed format (APM
 * Vol. 2 §15.5.1: type, S, DPL, P in bits 0-7; AVL, L, D/B, G in 8-11).
 * VMRUN checks all of it (APM §15.5.1 "Canonicalization and consistency
 * checks"); what it refuses comes back as VMEXIT_INVALID.
 */
void svm_init_guest_state(struct vcpu *v, struct svm_state *s)
{
	(void)s;
	domain_crash(v->domain, "LAB 3: svm_init_guest_state() is not implemented (labs/lab3/README.md)");
}

/*
 * LAB 3: translate EXITCODE (APM Vol. 2, Appendix C) into vcpu->exit: INTR,
 * NMI -> VCPU_EXIT_INTERRUPT; VINTR -> clear V_IRQ and the VINTR intercept
 * (the window is open); CPUID, HLT, MSR (msr_emulate), VMMCALL -> their
 * reasons, with next_rip computed from the instruction's length (QEMU gives
 * no next-RIP); IOIO -> port, size, direction, string, REP from EXITINFO1,
 * next RIP from EXITINFO2; NPF -> the guest-physical address in EXITINFO2,
 * EXITINFO1 as error_code; shadow paging's intercepts: CR0 and CR3 reads, CR0/CR3/CR4
 * write, INVLPG -> VCPU_EXIT_PRIVILEGED (decoded and emulated like a trapped
 * instruction), exception 14 -> VCPU_EXIT_PAGE_FAULT (EXITINFO1 the error
 * code, EXITINFO2 the address);
 * SHUTDOWN; VMRUN and the other SVM instructions -> a #UD for the guest;
 * VMEXIT_INVALID (QEMU writes it as 32 bits) -> crash the domain.
 */
void svm_decode_exit(struct vcpu *v, struct svm_state *s)
{
	domain_crash(v->domain, "LAB 3: svm_decode_exit() is not implemented (exit code 0x%lx; labs/lab3/README.md)",
		     *vmcb_u64(s, VMCB_EXITCODE));
}
