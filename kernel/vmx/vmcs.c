/*
 * vmcs.c — LAB 3 student file (VMX half): the guest's initial state in the
 * VMCS, and what each VM exit means in the common vocabulary. The twin of
 * kernel/svm/vmcb.c; do either half, or both.
 *
 * See labs/lab3/README.md. kernel/include/vmx.h lists the VMCS field
 * encodings and exit reasons; kernel/vmx/vmx_internal.h the control and
 * event bits and the helpers (vmread, vmwrite, vmx_close_interrupt_window);
 * kernel/include/emulate.h msr_emulate(), the MSRs both vendors intercept. The vCPU's VMCS is current when these run.
 */
#include "domain.h"
#include "emulate.h"
#include "trap.h"
#include "vcpu.h"
#include "vmx_internal.h"
#include "x86.h"

/*
 * LAB 3: fill the VMCS's guest-state area (SDM Vol. 3C §25.4) so that
 * VMLAUNCH starts the guest as the guest-image contract says
 * (docs/hypercalls.md): 64-bit mode at CPL 0 — CS selector 0x08 with L=1;
 * SS/DS/ES/FS/GS 0x10, flat — a usable TR (a busy 64-bit TSS), LDTR
 * unusable, CR0/CR3/CR4 from the vcpu with the bits VMX fixes to 1 added
 * (s->cr0_fixed, s->cr4_fixed: CR4.VMXE among them), EFER from the vcpu
 * (the "load IA32_EFER" and "IA-32e mode guest" entry controls are set),
 * DR7 and DEBUGCTL at their reset values, the VMCS link pointer all ones.
 * Access rights use VMX's format (SDM §25.4.1, Table 25-2): type, S, DPL, P
 * in bits 0-7, AVL, L, D/B, G in bits 12-15, "unusable" in bit 16 — the
 * VMCB's bits, with a gap of four. VM entry checks all of it (SDM ch. 27
 * "VM Entries", §27.3.1 "Checks on the Guest State Area"); what it
 * refuses comes back as exit reason 33 with bit 31 set.
 */
void vmx_init_guest_state(struct vcpu *v, struct vmx_state *s)
{
	(void)s;
	domain_crash(v->domain, "LAB 3: vmx_init_guest_state() is not implemented (labs/lab3/README.md)");
}

/*
 * LAB 3: translate VMCS_EXIT_REASON (SDM Vol. 3D Appendix C) into
 * vcpu->exit: external interrupt, and an NMI (exception-or-NMI exit with
 * interruption type 2) -> VCPU_EXIT_INTERRUPT; a #PF (shadow paging: the
 * only exception in the bitmap) -> VCPU_EXIT_PAGE_FAULT, the address in the
 * exit qualification, the error code in VMCS_EXIT_INTR_ERROR; CR access and
 * INVLPG -> VCPU_EXIT_PRIVILEGED (decoded and emulated, as under SVM);
 * interrupt window -> vmx_close_interrupt_window(); CPUID, HLT,
 * RDMSR/WRMSR (msr_emulate), VMCALL -> their reasons, next_rip = RIP +
 * VMCS_EXIT_INSTRUCTION_LEN; I/O -> port, size, direction, string, REP from
 * the exit qualification (SDM §28.2.1, Table 28-5); EPT violation ->
 * VCPU_EXIT_NESTED_PAGE_FAULT with VMCS_GUEST_PHYSICAL_ADDRESS and, in
 * error_code, what SVM's EXITINFO1 would say (bit 0 the EPT entry allowed
 * some access, bit 1 a write, bit 4 a fetch: Table 28-7); EPT
 * misconfiguration -> crash the domain;
 * triple fault -> VCPU_EXIT_SHUTDOWN; the VMX instructions -> a #UD for the
 * guest; a failed VM entry (bit 31) -> crash the domain with the reason.
 */
void vmx_decode_exit(struct vcpu *v, struct vmx_state *s)
{
	(void)s;
	domain_crash(v->domain, "LAB 3: vmx_decode_exit() is not implemented (exit reason %lu; labs/lab3/README.md)",
		     vmread(VMCS_EXIT_REASON));
}
