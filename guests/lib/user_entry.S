/*
 * user_entry.S — into user mode and back (guests/lib/user.c).
 *
 * uint64_t user_enter(uint64_t rip, uint64_t rsp, uint64_t arg)
 *   saves the callee-saved registers, records the stack pointer in
 *   user_kernel_rsp and in the TSS's RSP0 (where the CPU switches on an
 *   event from CPL 3: SDM Vol. 3A §6.14.2), then IRETQs with a frame of
 *   RPL-3 selectors: an IRET to an outer privilege level pops SS:RSP too
 *   (SDM Vol. 2A "IRET"). Under Hypatia this IRETQ traps and the hypervisor
 *   enters the guest's user mode itself (lab 2).
 * void user_leave(uint64_t value)
 *   (from a handler, in the kernel, on the RSP0 stack) puts the saved
 *   stack pointer back and returns @value from user_enter.
 */
#define USER_CS 0x23
#define USER_SS 0x1b
#define USER_RFLAGS 0x202
#define TSS_RSP0 4

	.text
	.code64
	.globl user_enter
user_enter:
	pushq %rbp
	movq %rsp, %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, user_kernel_rsp(%rip)
	movq %rsp, user_tss+TSS_RSP0(%rip)

	pushq $USER_SS
	pushq %rsi              /* user RSP */
	pushq $USER_RFLAGS
	pushq $USER_CS
	pushq %rdi              /* user RIP */
	movq %rdx, %rdi         /* the argument */
	xorl %eax, %eax
	xorl %ebx, %ebx
	xorl %ecx, %ecx
	xorl %edx, %edx
	xorl %esi, %esi
	xorl %ebp, %ebp
	xorl %r8d, %r8d
	xorl %r9d, %r9d
	xorl %r10d, %r10d
	xorl %r11d, %r11d
	xorl %r12d, %r12d
	xorl %r13d, %r13d
	xorl %r14d, %r14d
	xorl %r15d, %r15d
	iretq

	.globl user_leave
user_leave:
	movq %rdi, %rax
	movq user_kernel_rsp(%rip), %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret

	.section .note.GNU-stack, "", @progbits
