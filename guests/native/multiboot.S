/*
 * multiboot.S — the native shim's first instructions: from the boot loader's
 * 32-bit protected mode to 64-bit long mode, then into C (start.c).
 *
 * The image is linked at its physical addresses (native.ld, from 2 MiB up)
 * and identity-mapped, so no address below needs adjusting before or after
 * paging is turned on.
 */

/* Multiboot Specification 0.6.96 §3.1.1 "The layout of Multiboot header":
 * magic, flags, checksum (the three sum to 0 mod 2^32). The header must lie
 * within the first 8192 bytes of the file, 4-byte aligned (§3.1). */
#define MULTIBOOT_HEADER_MAGIC 0x1badb002
/* §3.1.2 flags: bit 0 = align modules on 4 KiB, bit 1 = give us mem_* and
 * the memory map. Bit 16 (a.out kludge) stays clear: the loader takes our
 * load addresses from the ELF program headers. */
#define MULTIBOOT_HEADER_FLAGS 0x00000003
/* §3.2 "Machine state": EAX holds this when a multiboot loader started us. */
#define MULTIBOOT_BOOTLOADER_MAGIC 0x2badb002

/* Page-table entry bits (Intel SDM Vol. 3A §4.5 "4-Level Paging",
 * Tables 4-15 (PML4E), 4-17 (PDPTE), 4-18 (PDE mapping a 2-MByte page)). */
#define PTE_P  0x001   /* present */
#define PTE_W  0x002   /* writable */
#define PTE_PS 0x080   /* in a PD entry: maps a 2 MiB page */

#define CR0_PE 0x00000001   /* protected mode (already on) */
#define CR0_MP 0x00000002   /* WAIT honours TS (SDM Vol. 3A §2.5) */
#define CR0_NE 0x00000020   /* x87 errors as #MF, not the legacy IRQ 13 */
#define CR0_WP 0x00010000   /* honour read-only pages at CPL 0 too */
#define CR0_PG 0x80000000   /* paging */
#define CR4_PAE 0x00000020  /* 64-bit page-table entries, required for long mode */
#define MSR_EFER 0xc0000080
#define EFER_LME 0x00000100 /* long mode enable */
#define EFER_NXE 0x00000800 /* no-execute bit in page tables (AMD APM Vol. 2 §3.1.7) */

#define GDT_CODE64 0x08
#define GDT_DATA 0x10

	.section .multiboot, "a"
	.align 4
multiboot_header:
	.long MULTIBOOT_HEADER_MAGIC
	.long MULTIBOOT_HEADER_FLAGS
	.long -(MULTIBOOT_HEADER_MAGIC + MULTIBOOT_HEADER_FLAGS)

	.text
	.code32
	.globl _start
_start:
	/* Multiboot §3.2: 32-bit protected mode, paging off, flat segments,
	 * interrupts off (we keep them off), no usable stack. EAX = magic,
	 * EBX = physical address of the multiboot information. Keep them in
	 * ESI and EBP, which nothing below touches, for native_start(). */
	cli
	cld
	movl %eax, %esi
	movl %ebx, %ebp

	/* Zero .bss before using any of it (the stack and page tables live
	 * there). Loaders should have done it already; we do not rely on it. */
	movl $__bss_start, %edx
	movl $__bss_end, %ecx
	subl %edx, %ecx
	shrl $2, %ecx                   /* .bss is 4-byte aligned (native.ld) */
	xorl %eax, %eax
	movl %edx, %edi
	rep stosl

	movl $boot_stack_top, %esp

	/* Long mode needs CPUID leaf 0x80000001, EDX bit 29 "LM"
	 * (Intel SDM Vol. 2A, CPUID; AMD APM Vol. 3, CPUID Fn8000_0001). */
	movl $0x80000000, %eax
	cpuid
	cmpl $0x80000001, %eax
	jb no_long_mode
	movl $0x80000001, %eax
	cpuid
	btl $29, %edx
	jnc no_long_mode
	/* EDX bit 20 "NX": remember it in EDI, to set EFER.NXE below. The
	 * hypervisor's virtual CPU starts with EFER = LME|LMA|NXE
	 * (docs/hypercalls.md), so a guest reads the same EFER both ways. */
	xorl %edi, %edi
	btl $20, %edx
	jnc 0f
	movl $EFER_NXE, %edi
0:

	/*
	 * Identity-map the first 1 GiB with 512 2-MiB pages: PML4[0] ->
	 * PDPT[0] -> PD[0..511]. Every address the guest uses (its image, the
	 * multiboot info after it, low memory) lies below 1 GiB. Page 0 is
	 * mapped too (a 2 MiB page cannot leave it out); tests that want a
	 * NULL-pointer fault build their own 4 KiB mappings.
	 */
	movl $boot_pd, %ebx
	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $21, %eax                  /* index * 2 MiB (< 4 GiB: high half 0) */
	orl $(PTE_P | PTE_W | PTE_PS), %eax
	movl %eax, (%ebx, %ecx, 8)
	incl %ecx
	cmpl $512, %ecx
	jb 1b
	movl $(boot_pd + (PTE_P | PTE_W)), boot_pdpt
	movl $(boot_pdpt + (PTE_P | PTE_W)), boot_pml4

	/*
	 * CR0 ends up PE|MP|ET|NE|WP|PG = 0x80010033 and EFER LME|LMA(|NXE):
	 * exactly the state Hypatia's virtual CPU starts a guest image in
	 * (docs/hypercalls.md), so the same test reads the same registers
	 * natively and virtualized.
	 *
	 * The switch itself, in the order Intel SDM Vol. 3A §9.8.5
	 * "Initializing IA-32e Mode" (§10.8.5 in 2023+ editions) and AMD APM
	 * Vol. 2 §14.6.1 "Activating Long Mode" prescribe:
	 * 1. CR4.PAE = 1;  2. CR3 = the PML4;  3. EFER.LME = 1;
	 * 4. CR0.PG = 1 — the CPU sets EFER.LMA and is now in compatibility
	 *    mode (still running this 32-bit code segment);
	 * 5. a far jump to a code segment with L = 1 enters 64-bit mode.
	 */
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $boot_pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	orl %edi, %eax                  /* EFER_NXE if the CPU has NX */
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PG | CR0_WP | CR0_NE | CR0_MP | CR0_PE), %eax
	movl %eax, %cr0

	lgdt gdt_pointer
	ljmp $GDT_CODE64, $long_mode_entry

no_long_mode:
	/* No 64-bit CPU: say so on COM1 (usable enough without setup under
	 * QEMU and Bochs), report an error through the exit ports, stop. */
	movl $no_long_mode_message, %ebx
2:	movb (%ebx), %al
	testb %al, %al
	jz 3f
	movw $0x3f8, %dx
	outb %al, %dx
	incl %ebx
	jmp 2b
3:	movl $0x13, %eax                /* GUEST_EXIT_ERROR */
	movw $0xf4, %dx
	outl %eax, %dx
4:	cli
	hlt
	jmp 4b

	.code64
long_mode_entry:
	/* Data segment registers: in 64-bit mode their base and limit are
	 * ignored, but SS must hold a valid selector (or null at CPL 0). */
	movw $GDT_DATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorw %ax, %ax
	movw %ax, %fs
	movw %ax, %gs
	movq $boot_stack_top, %rsp
	/* native_start(magic, info): System V AMD64 ABI, arguments in EDI, ESI. */
	movl %esi, %edi
	movl %ebp, %esi
	xorl %ebp, %ebp                 /* a zero frame pointer ends a backtrace */
	call native_start
5:	cli
	hlt
	jmp 5b

	.section .rodata
no_long_mode_message:
	.asciz "RESULT: ERROR this CPU has no 64-bit long mode\n"

	/*
	 * The GDT: long mode ignores base and limit of code and data
	 * segments; what matters is L = 1 (bit 53) and D = 0 in the code
	 * descriptor (Intel SDM Vol. 3A §5.2.1 "Code-Segment Descriptor in
	 * 64-bit Mode", AMD APM Vol. 2 §4.8.1). The accessed bits are preset
	 * so the CPU never needs to write to this table in .rodata.
	 */
	.align 16
gdt:
	.quad 0                         /* 0x00: the null descriptor */
	.quad 0x00af9b000000ffff        /* 0x08: code, DPL 0, L = 1, present */
	.quad 0x00cf93000000ffff        /* 0x10: data, DPL 0, writable, present */
gdt_end:
gdt_pointer:
	.word gdt_end - gdt - 1
	.quad gdt                       /* lgdt in 32-bit mode reads 6 bytes */

	.bss
	.align 4096
boot_pml4:  .space 4096
boot_pdpt:  .space 4096
boot_pd:    .space 4096
	.align 16
boot_stack: .space 16384
	.globl boot_stack_top
boot_stack_top:

	.section .note.GNU-stack, "", @progbits
