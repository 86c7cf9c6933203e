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

/* Offsets in struct vcpu_regs (vcpu.h); RAX, RSP, RIP, RFLAGS live in the VMCB. */
#define R_RBX 8
#define R_RCX 16
#define R_RDX 24
#define R_RSI 32
#define R_RDI 40
#define R_RBP 48
#define R_R8 64
#define R_R9 72
#define R_R10 80
#define R_R11 88
#define R_R12 96
#define R_R13 104
#define R_R14 112
#define R_R15 120

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

	movq R_RBX(%rsi), %rbx
	movq R_RCX(%rsi), %rcx
	movq R_RDX(%rsi), %rdx
	movq R_RDI(%rsi), %rdi
	movq R_RBP(%rsi), %rbp
	movq R_R8(%rsi), %r8
	movq R_R9(%rsi), %r9
	movq R_R10(%rsi), %r10
	movq R_R11(%rsi), %r11
	movq R_R12(%rsi), %r12
	movq R_R13(%rsi), %r13
	movq R_R14(%rsi), %r14
	movq R_R15(%rsi), %r15
	movq R_RSI(%rsi), %rsi

	vmrun                     /* RAX = the guest VMCB */

	/* Back from #VMEXIT: RSP is ours again, every other register but RAX
	 * still holds the guest's value. */
	movq 8(%rsp), %rax
	movq %rbx, R_RBX(%rax)
	movq %rcx, R_RCX(%rax)
	movq %rdx, R_RDX(%rax)
	movq %rsi, R_RSI(%rax)
	movq %rdi, R_RDI(%rax)
	movq %rbp, R_RBP(%rax)
	movq %r8, R_R8(%rax)
	movq %r9, R_R9(%rax)
	movq %r10, R_R10(%rax)
	movq %r11, R_R11(%rax)
	movq %r12, R_R12(%rax)
	movq %r13, R_R13(%rax)
	movq %r14, R_R14(%rax)
	movq %r15, R_R15(%rax)

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
