/*
 * vectors.S — entry stubs for all 256 vectors of the runtime's IDT.
 *
 * In 64-bit mode the CPU aligns RSP to 16 bytes and pushes SS, RSP, RFLAGS,
 * CS, RIP and, for some exceptions, an error code (Intel SDM Vol. 3A
 * §6.14.2 "64-Bit Mode Stack Frame"; AMD APM Vol. 2 §8.9.3). Each stub
 * makes the frame uniform — a 0 error code where the CPU pushes none, then
 * the vector number — and the common code saves the general registers and
 * calls guest_trap() (arch.c) with a struct guest_frame. When the handler
 * returns, the registers (as the handler may have changed them) are
 * restored and IRETQ returns to the frame's RIP.
 *
 * Under Hypatia's deprivileged backend the *hypervisor* builds this same
 * frame (lab 1, kernel/pv/bounce.c) and IRETQ traps and is emulated: the
 * frame names CS 0x08, a more privileged level than the CPL 3 the guest
 * really runs at.
 *
 * Vectors with an error code (SDM Vol. 3A §6.15, Table 6-1; APM Vol. 2
 * §8.2): 8 #DF, 10 #TS, 11 #NP, 12 #SS, 13 #GP, 14 #PF, 17 #AC, 21 #CP,
 * 29 #VC, 30 #SX. Every stub is 16 bytes apart, so arch.c finds stub N at
 * guest_vector_stubs + 16 * N.
 */
	.text
	.code64

	.balign 16
	.globl guest_vector_stubs
guest_vector_stubs:
	.set vector, 0
	.rept 256
	/* Stub N starts exactly at guest_vector_stubs + 16 * N (the
	 * assembler refuses to move .org backwards if a stub grew longer). */
	.org guest_vector_stubs + 16 * vector, 0xcc
	.if (vector == 8) || (vector >= 10 && vector <= 14) || (vector == 17) || (vector == 21) || (vector == 29) || (vector == 30)
	.else
	pushq $0                        /* no error code from the CPU */
	.endif
	pushq $vector
	jmp trap_common
	.set vector, vector + 1
	.endr

trap_common:
	/* Push in the reverse order of struct guest_frame (guest.h). */
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
	movq %rsp, %rdi         /* 15 + 2 + 5 quadwords: RSP is 16-byte aligned */
	cld                     /* the SysV ABI wants DF = 0 on calls */
	call guest_trap
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
	addq $16, %rsp          /* the vector and the error code */
	iretq

	.section .note.GNU-stack, "", @progbits
