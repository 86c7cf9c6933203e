/*
 * exceptions.S — entry stubs for the 32 processor exception vectors.
 *
 * In 64-bit mode the CPU pushes SS, RSP, RFLAGS, CS, RIP and, for some
 * vectors, an error code, after aligning RSP to 16 bytes (Intel SDM Vol. 3A
 * §6.14.2 "64-Bit Mode Stack Frame"). Each stub makes the frame uniform (a
 * 0 error code where the CPU pushes none, then the vector number), the
 * common code saves the general registers, and native_exception() in idt.c
 * reports and ends the run. Nothing ever returns: in a test guest any
 * exception nobody asked for is a crash.
 *
 * Vectors that push an error code (SDM Vol. 3A §6.15, Table 6-1): 8 #DF,
 * 10 #TS, 11 #NP, 12 #SS, 13 #GP, 14 #PF, 17 #AC, 21 #CP, 29 #VC, 30 #SX.
 */
	.text
	.code64

.macro STUB vector, has_error_code
	.align 16
exception_stub_\vector:
	.if \has_error_code == 0
	pushq $0
	.endif
	pushq $\vector
	jmp exception_common
.endm

	STUB 0, 0
	STUB 1, 0
	STUB 2, 0
	STUB 3, 0
	STUB 4, 0
	STUB 5, 0
	STUB 6, 0
	STUB 7, 0
	STUB 8, 1
	STUB 9, 0
	STUB 10, 1
	STUB 11, 1
	STUB 12, 1
	STUB 13, 1
	STUB 14, 1
	STUB 15, 0
	STUB 16, 0
	STUB 17, 1
	STUB 18, 0
	STUB 19, 0
	STUB 20, 0
	STUB 21, 1
	STUB 22, 0
	STUB 23, 0
	STUB 24, 0
	STUB 25, 0
	STUB 26, 0
	STUB 27, 0
	STUB 28, 0
	STUB 29, 1
	STUB 30, 1
	STUB 31, 0

exception_common:
	/* Push in the reverse order of struct exception_frame (idt.c). */
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
	movq %rsp, %rdi         /* 15 + 2 + 5 quadwords: RSP stays 16-byte aligned */
	cld
	call native_exception   /* does not return */
1:	cli
	hlt
	jmp 1b

	/* The stubs' addresses, for idt_init(). */
	.section .rodata
	.align 8
	.globl exception_stubs
exception_stubs:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad exception_stub_\v
	.endr

	.section .note.GNU-stack, "", @progbits
