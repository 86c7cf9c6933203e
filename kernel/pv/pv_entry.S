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

/* Offsets in struct vcpu_regs (vcpu.h). */
#define R_RAX 0
#define R_RBX 8
#define R_RCX 16
#define R_RDX 24
#define R_RSI 32
#define R_RDI 40
#define R_RBP 48
#define R_RSP 56
#define R_R8 64
#define R_R9 72
#define R_R10 80
#define R_R11 88
#define R_R12 96
#define R_R13 104
#define R_R14 112
#define R_R15 120
#define R_RIP 128
#define R_RFLAGS 136

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

	movq R_RAX(%rdi), %rax
	movq R_RBX(%rdi), %rbx
	movq R_RCX(%rdi), %rcx
	movq R_RDX(%rdi), %rdx
	movq R_RSI(%rdi), %rsi
	movq R_RBP(%rdi), %rbp
	movq R_R8(%rdi), %r8
	movq R_R9(%rdi), %r9
	movq R_R10(%rdi), %r10
	movq R_R11(%rdi), %r11
	movq R_R12(%rdi), %r12
	movq R_R13(%rdi), %r13
	movq R_R14(%rdi), %r14
	movq R_R15(%rdi), %r15
	movq R_RDI(%rdi), %rdi
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
