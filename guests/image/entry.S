/*
 * entry.S — where a Hypatia guest image starts, and the note that says so.
 *
 * The hypervisor's loader reads the HYPATIA_NOTE_GUEST note below (through
 * the PT_NOTE program header image.ld makes for it) and starts the vCPU as
 * HYPATIA_ENTRY_LONG64 says (guests/include/hypatia_note.h): 64-bit mode,
 * paging on with guest-virtual = guest-physical, RIP = _start, RSP =
 * image_stack_top, RDI = the guest address of the command line.
 *
 * Unlike the native shim there is little to set up: no mode switch, no
 * page tables. The runtime loads its GDT and IDT (guests/lib/arch.c) with
 * LGDT/LIDT, which trap at CPL 3 and are emulated. Both the `image` and the
 * `pv` build start here; they differ only in their platform.c.
 */
#include "hypatia_note.h"

	.text
	.code64
	.globl _start
_start:
	/* Load our own stack even though the loader should have set RSP to
	 * image_stack_top: the note's stack_top is checked, not trusted. */
	leaq image_stack_top(%rip), %rsp
	xorl %ebp, %ebp                 /* a zero frame pointer ends a backtrace */
	/* platform_init(), then guest_start(cmdline): keep RDI (the command
	 * line's address) in RBX, which the SysV ABI preserves across calls. */
	movq %rdi, %rbx
	call platform_init
	movq %rbx, %rdi
	call guest_start
1:	hlt                             /* not reached: guest_start never returns */
	jmp 1b

	/*
	 * The note (System V gABI "Note Section"): namesz, descsz, type, the
	 * name padded to 4 bytes, then the descriptor, struct
	 * hypatia_guest_note, field by field.
	 */
	.section .note.hypatia, "a", @note
	.balign 4
	.long 2f - 1f                   /* namesz */
	.long 4f - 3f                   /* descsz */
	.long HYPATIA_NOTE_GUEST        /* type */
1:	.asciz HYPATIA_NOTE_NAME
2:	.balign 4
3:	.long HYPATIA_NOTE_VERSION      /* version */
	.long HYPATIA_ENTRY_LONG64      /* entry_mode */
	.quad _start                    /* entry */
	.quad __image_mem_min           /* mem_min_bytes (image.ld) */
	.quad image_stack_top           /* stack_top */
4:	.balign 4

	.bss
	.balign 16
image_stack:
	.space 16384
	.globl image_stack_top
image_stack_top:

	.section .note.GNU-stack, "", @progbits
