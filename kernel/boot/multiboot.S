/*
 * multiboot.S — the first instructions Hypatia runs.
 *
 * The boot loader (QEMU's -kernel or GRUB) finds the Multiboot v1 header
 * below, loads the image at its physical addresses and jumps to `_start` in
 * 32-bit protected mode with paging off, EAX = 0x2BADB002 and EBX = the
 * physical address of the multiboot information (Multiboot spec §3.2).
 *
 * To reach 64-bit long mode we must (Intel SDM Vol. 3A §9.8.5, AMD APM Vol. 2
 * §14.6): build 4-level page tables, enable PAE in CR4, load CR3, set
 * EFER.LME, enable paging (CR0.PG) — which activates long mode — and jump
 * through a 64-bit code segment. The page tables map physical memory three
 * times: identity (so the instruction after the CR0 write is still mapped),
 * the direct map at DIRECT_MAP_BASE, and the image at KERNEL_BASE where the
 * rest of the hypervisor is linked. The identity map is dropped once we run
 * in the upper half: the lower half belongs to guests.
 *
 * This file is linked at its physical address (section .boot), so symbols
 * here need no adjustment; symbols of the rest of the kernel are linked at
 * KERNEL_BASE + physical and we subtract KERNEL_BASE to reach them now.
 */
#include "memlayout.h"
#include "gdt.h"

#define MULTIBOOT_HEADER_MAGIC 0x1badb002
/* bit 0: align modules on 4 KiB; bit 1: give us the memory map */
#define MULTIBOOT_HEADER_FLAGS 0x00000003

#define PHYS(sym) ((sym) - KERNEL_BASE)

/* Page-table entry bits (SDM Vol. 3A §4.5, Table 4-15..4-19). */
#define PTE_P  0x001   /* present */
#define PTE_W  0x002   /* writable */
#define PTE_PS 0x080   /* this PD entry maps a 2 MiB page */
#define PTE_G  0x100   /* global: survives CR3 loads */

	.section .boot, "ax"
	.code32
	.align 4
multiboot_header:
	.long MULTIBOOT_HEADER_MAGIC
	.long MULTIBOOT_HEADER_FLAGS
	.long -(MULTIBOOT_HEADER_MAGIC + MULTIBOOT_HEADER_FLAGS)

	.globl _start
_start:
	cli
	cld
	movl $PHYS(boot_stack_top), %esp
	movl %eax, PHYS(boot_magic)
	movl %ebx, PHYS(boot_info_phys)

	/* Long mode needs CPUID leaf 0x80000001 EDX bit 29 (LM). */
	movl $0x80000000, %eax
	cpuid
	cmpl $0x80000001, %eax
	jb no_long_mode
	movl $0x80000001, %eax
	cpuid
	btl $29, %edx
	jnc no_long_mode
	movl %edx, %esi               /* keep EDX: bit 20 says whether NX exists */

	/*
	 * Four page directories of 2 MiB pages map the first 4 GiB. The same
	 * PDPT serves the identity map (PML4[0]) and the direct map (PML4[256]);
	 * the image's PDPT (PML4[511]) maps its slot 510 — KERNEL_BASE — to the
	 * first GiB.
	 */
	movl $PHYS(boot_pd), %edi
	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $21, %eax                /* low 32 bits of (index * 2 MiB) */
	orl $(PTE_P | PTE_W | PTE_PS | PTE_G), %eax
	movl %eax, (%edi, %ecx, 8)
	movl %ecx, %eax
	shrl $11, %eax                /* high 32 bits: index * 2 MiB >> 32 */
	movl %eax, 4(%edi, %ecx, 8)
	incl %ecx
	cmpl $2048, %ecx
	jb 1b

	movl $PHYS(boot_pdpt_low), %edi
	movl $PHYS(boot_pd) + (PTE_P | PTE_W), 0(%edi)
	movl $PHYS(boot_pd) + 0x1000 + (PTE_P | PTE_W), 8(%edi)
	movl $PHYS(boot_pd) + 0x2000 + (PTE_P | PTE_W), 16(%edi)
	movl $PHYS(boot_pd) + 0x3000 + (PTE_P | PTE_W), 24(%edi)
	movl $PHYS(boot_pdpt_high), %edi
	movl $PHYS(boot_pd) + (PTE_P | PTE_W), 510 * 8(%edi)
	movl $PHYS(boot_pml4), %edi
	movl $PHYS(boot_pdpt_low) + (PTE_P | PTE_W), 0(%edi)
	movl $PHYS(boot_pdpt_low) + (PTE_P | PTE_W), 256 * 8(%edi)
	movl $PHYS(boot_pdpt_high) + (PTE_P | PTE_W), 511 * 8(%edi)

	/* CR4.PAE and CR4.PGE, then CR3. */
	movl %cr4, %eax
	orl $0xa0, %eax
	movl %eax, %cr4
	movl $PHYS(boot_pml4), %eax
	movl %eax, %cr3

	/* EFER.LME (bit 8), and EFER.NXE (bit 11) when the CPU has NX. */
	movl $0xc0000080, %ecx
	rdmsr
	orl $0x100, %eax
	btl $20, %esi
	jnc 2f
	orl $0x800, %eax
2:	wrmsr

	/* CR0.PG activates long mode (EFER.LMA becomes 1); CR0.WP makes
	 * read-only pages read-only for us too. */
	movl %cr0, %eax
	orl $0x80010001, %eax
	movl %eax, %cr0

	lgdt boot_gdt_pointer
	ljmp $GDT_KERNEL_CS, $long_mode_entry

no_long_mode:
	/* Say so on COM1 (the BIOS left it usable) and stop. */
	movl $no_long_mode_message, %esi
3:	lodsb
	testb %al, %al
	jz 4f
	movw $0x3f8, %dx
	outb %al, %dx
	jmp 3b
4:	cli
	hlt
	jmp 4b

	.code64
long_mode_entry:
	movw $GDT_KERNEL_DS, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorw %ax, %ax
	movw %ax, %fs
	movw %ax, %gs
	/* Jump to the upper half, where the rest of the kernel is linked. */
	movabsq $higher_half_entry, %rax
	jmp *%rax

no_long_mode_message:
	.asciz "Hypatia: this CPU has no 64-bit long mode; cannot boot.\r\n"

	/* A minimal GDT for the switch; gdt_init() replaces it. */
	.align 16
boot_gdt:
	.quad 0
	.quad 0x00af9a000000ffff      /* 0x08: 64-bit code, DPL 0 (L=1) */
	.quad 0x00cf92000000ffff      /* 0x10: data, DPL 0 */
boot_gdt_pointer:
	.word boot_gdt_pointer - boot_gdt - 1
	.quad boot_gdt

	.text
higher_half_entry:
	movabsq $boot_stack_top, %rsp
	xorl %ebp, %ebp               /* a zero frame pointer ends every backtrace */
	movl boot_magic(%rip), %edi
	movl boot_info_phys(%rip), %esi
	call kmain
5:	cli
	hlt
	jmp 5b

	.data
	.globl boot_magic, boot_info_phys
boot_magic:     .long 0
boot_info_phys: .long 0

	.bss
	.align 4096
	.globl boot_pml4
boot_pml4:      .space 4096
boot_pdpt_low:  .space 4096
boot_pdpt_high: .space 4096
boot_pd:        .space 4 * 4096
	.globl boot_stack_bottom, boot_stack_top
boot_stack_bottom:
	.space KERNEL_STACK_SIZE
boot_stack_top:
