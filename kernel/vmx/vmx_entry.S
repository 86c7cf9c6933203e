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

#include "vcpu_regs.inc"

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
	LOAD_GUEST_GPRS
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
	STORE_GUEST_GPRS
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
