/*
 * vmx_entry.S — one VM entry / VM exit round trip (Intel SDM Vol. 3C ch. 26
 * "VM Entries", ch. 27 "VM Exits"). The twin of svm_entry.S.
 *
 * VMLAUNCH/VMRESUME load the guest's state from the current VMCS; a VM exit
 * stores it back and loads the host's from the VMCS host-state area — RSP
 * and RIP included. So, unlike VMRUN, a VM exit does not return to the
 * instruction after VMLAUNCH: it lands at vmx_exit below, on the stack
 * pointer this stub wrote into VMCS_HOST_RSP. What neither touches is the
 * general-purpose registers (all but RSP, which the VMCS holds): they are
 * switched here, from and to struct vcpu_regs. The MSRs SVM's VMLOAD/VMSAVE
 * switch (STAR, LSTAR, KernelGSBase, ...) go through the VMCS MSR areas
 * instead (vmx.c). Called with interrupts off.
 */

/* Offsets in struct vcpu_regs (vcpu.h); RSP, RIP, RFLAGS live in the VMCS. */
#define R_RAX 0
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

#define VMCS_HOST_RSP 0x6c14
#define VMCS_HOST_RIP 0x6c16

	.text
/* int vmx_enter(struct vcpu_regs *regs, int launched)
 * 0: the guest ran and exited; 1: VMfailInvalid (no current VMCS);
 * 2: VMfailValid (the reason in VMCS_INSTRUCTION_ERROR). */
	.globl vmx_enter
vmx_enter:
	pushq %rbp
	movq %rsp, %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rdi                /* 0(%rsp): regs; a VM exit lands with RSP here */

	movq $VMCS_HOST_RSP, %rax
	vmwrite %rsp, %rax
	movq $VMCS_HOST_RIP, %rax
	leaq vmx_exit(%rip), %rbx
	vmwrite %rbx, %rax

	movq %rdi, %rax
	cmpl $0, %esi             /* MOVs below keep the flags for the jne */
	movq R_RBX(%rax), %rbx
	movq R_RCX(%rax), %rcx
	movq R_RDX(%rax), %rdx
	movq R_RSI(%rax), %rsi
	movq R_RDI(%rax), %rdi
	movq R_RBP(%rax), %rbp
	movq R_R8(%rax), %r8
	movq R_R9(%rax), %r9
	movq R_R10(%rax), %r10
	movq R_R11(%rax), %r11
	movq R_R12(%rax), %r12
	movq R_R13(%rax), %r13
	movq R_R14(%rax), %r14
	movq R_R15(%rax), %r15
	movq R_RAX(%rax), %rax
	jne 1f
	vmlaunch
	jmp 2f
1:	vmresume
2:	/* Still here: the entry failed before loading the guest (SDM §31.2:
	 * CF = 1 VMfailInvalid, ZF = 1 VMfailValid). */
	movl $1, %eax
	jc 3f
	movl $2, %eax
	jmp 3f

	.globl vmx_exit
vmx_exit:
	/* A VM exit: RSP is ours again, every other register but RIP still
	 * holds the guest's value. */
	pushq %rax
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
	popq R_RAX(%rax)
	xorl %eax, %eax

3:	addq $8, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret
