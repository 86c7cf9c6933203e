/*
 * svm_entry.S — one VMRUN round trip (AMD APM Vol. 2 §15.5, §15.6).
 *
 * VMRUN saves part of the host's state in the host save area and loads the
 * guest's from the VMCB; #VMEXIT does the reverse. What neither touches —
 * the general-purpose registers other than RAX and RSP, and the "hidden"
 * state VMLOAD/VMSAVE move (FS, GS, TR, LDTR, KernelGSBase, STAR, LSTAR,
 * CSTAR, SFMASK, SYSENTER) — is switched here: the guest's GPRs from and to
 * struct vcpu_regs, the hidden state with VMSAVE/VMLOAD around VMRUN.
 * Called with GIF = 0 (CLGI), so no interrupt lands half way.
 */

#include "vcpu_regs.inc"

	.text
/* void svm_vmrun(uint64_t vmcb_pa, struct vcpu_regs *regs, uint64_t host_state_pa) */
	.globl svm_vmrun
svm_vmrun:
	pushq %rbp
	movq %rsp, %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rdx                /* 16(%rsp): host hidden-state page */
	pushq %rsi                /*  8(%rsp): regs */
	pushq %rdi                /*  0(%rsp): guest VMCB */

	movq %rdx, %rax
	vmsave                    /* the host's FS/GS/TR/... into its own page */
	movq %rdi, %rax
	vmload                    /* the guest's from its VMCB */

	movq %rsi, %rax
	LOAD_GUEST_GPRS
	movq 0(%rsp), %rax          /* the guest VMCB, for VMRUN */

	vmrun                     /* RAX = the guest VMCB */

	/* Back from #VMEXIT: RSP is ours again, every other register but RAX
	 * still holds the guest's value. */
	movq 8(%rsp), %rax
	STORE_GUEST_GPRS

	movq 0(%rsp), %rax
	vmsave                    /* the guest's hidden state back into its VMCB */
	movq 16(%rsp), %rax
	vmload                    /* and the host's back into the CPU */

	addq $24, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret
