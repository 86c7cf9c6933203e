/*
 * pv_entry.S — switching between the hypervisor and a PV guest at CPL 3.
 *
 * Entering: save the hypervisor's callee-saved registers and stack pointer,
 * load every guest register, and IRETQ to CPL 3 (an IRET to an outer
 * privilege level pops SS:RSP too; Intel SDM Vol. 2A "IRET", AMD APM Vol. 2
 * §8.7.4). Leaving happens through a trap: the CPU switches to TSS.RSP0,
 * trap_common saves the guest's registers, and pv_trap_from_guest() calls
 * pv_return_to_host(), which puts back the saved stack pointer and returns
 * from pv_enter_guest() as if it were an ordinary call.
 */
#include "gdt.h"

#include "vcpu_regs.inc"

	.text
/* void pv_enter_guest(struct vcpu_regs *regs, uint64_t *host_rsp) */
	.globl pv_enter_guest
pv_enter_guest:
	pushq %rbp
	movq %rsp, %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, (%rsi)

	/* The IRET frame: SS, RSP, RFLAGS, CS, RIP. */
	pushq $GDT_USER_DS
	pushq R_RSP(%rdi)
	pushq R_RFLAGS(%rdi)
	pushq $GDT_USER_CS
	pushq R_RIP(%rdi)

	movq %rdi, %rax
	LOAD_GUEST_GPRS
	movq R_RAX(%rax), %rax
	iretq

/* void pv_return_to_host(uint64_t host_rsp): back into pv_enter_guest's caller. */
	.globl pv_return_to_host
pv_return_to_host:
	movq %rdi, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret
