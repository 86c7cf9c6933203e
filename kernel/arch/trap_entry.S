/*
 * trap_entry.S — the first instructions of every interrupt and exception.
 *
 * The CPU pushes SS, RSP, RFLAGS, CS, RIP and, for some exceptions, an error
 * code (Intel SDM Vol. 3A §6.14.2, Table 6-1 says which). To give C one frame
 * layout, each vector's stub pushes a zero where the CPU pushed no error code,
 * then its vector number, and jumps to the common code, which saves the
 * general-purpose registers (struct trap_frame in trap.h) and calls
 * trap_dispatch(frame).
 */

/* Vectors whose exceptions push an error code: #DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP(21), #VC(29), #SX(30). */
#define HAS_ERROR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

	.text
	.globl trap_stubs
	.align 16
trap_stubs:
	.set vector, 0
	.rept 256
	.align 16
	.if HAS_ERROR(vector)
	.else
	pushq $0
	.endif
	pushq $vector
	jmp trap_common
	.set vector, vector + 1
	.endr

trap_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	cld
	movq %rsp, %rdi
	/* Make the interrupted code look like a caller, so a backtrace taken in
	 * the handler continues into it: a fake frame {saved rbp, return rip}. */
	pushq 17*8(%rsp)          /* frame->rip */
	pushq %rbp
	movq %rsp, %rbp
	call trap_dispatch
	addq $16, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp            /* vector and error code */
	iretq
