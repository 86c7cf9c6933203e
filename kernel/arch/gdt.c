/*
 * gdt.c — segment descriptors and the TSS for one CPU.
 *
 * Descriptor formats: Intel SDM Vol. 3A §3.4.5 (code/data) and §8.2.3
 * (the 16-byte 64-bit TSS descriptor); AMD APM Vol. 2 §4.8.
 */
#include "gdt.h"
#include "percpu.h"
#include "string.h"

/* Access byte and flags of the code and data descriptors we need. In long
 * mode base and limit are ignored for code/data; what matters is present,
 * DPL, the type and, for code, L (64-bit) vs D (32-bit). */
#define SEG_KERNEL_CODE64 0x00af9a000000ffffull /* P, DPL0, code r/x, L=1 */
#define SEG_KERNEL_DATA 0x00cf92000000ffffull   /* P, DPL0, data r/w */
#define SEG_USER_CODE32 0x00cffa000000ffffull   /* P, DPL3, code r/x, D=1 */
#define SEG_USER_DATA 0x00cff2000000ffffull     /* P, DPL3, data r/w */
#define SEG_USER_CODE64 0x00affa000000ffffull   /* P, DPL3, code r/x, L=1 */

struct PACKED gdt_pointer {
	uint16_t limit;
	uint64_t base;
};

/* The two halves of a 64-bit TSS descriptor: type 9 = available 64-bit TSS. */
static void set_tss_descriptor(uint64_t *slot, const struct tss *tss)
{
	uint64_t base = (uint64_t)tss;
	uint64_t limit = sizeof(*tss) - 1;
	slot[0] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
		  (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	slot[1] = base >> 32;
}

void gdt_init(struct percpu *cpu)
{
	uint64_t *gdt = cpu->gdt;
	gdt[0] = 0;
	gdt[GDT_KERNEL_CS / 8] = SEG_KERNEL_CODE64;
	gdt[GDT_KERNEL_DS / 8] = SEG_KERNEL_DATA;
	gdt[GDT_USER_CS32 / 8] = SEG_USER_CODE32;
	gdt[GDT_USER_DS / 8] = SEG_USER_DATA;
	gdt[GDT_USER_CS / 8] = SEG_USER_CODE64;

	memset(&cpu->tss, 0, sizeof(cpu->tss));
	cpu->tss.ist[IST_DOUBLE_FAULT - 1] = (uint64_t)cpu->double_fault_stack + sizeof(cpu->double_fault_stack);
	cpu->tss.iopb_offset = sizeof(cpu->tss); /* no I/O bitmap: CPL 3 port access faults */
	set_tss_descriptor(&gdt[GDT_TSS / 8], &cpu->tss);

	struct gdt_pointer pointer = {.limit = sizeof(cpu->gdt) - 1, .base = (uint64_t)gdt};
	__asm__ volatile("lgdt %0" : : "m"(pointer));
	/* Reload CS with a far return, and the data segments, from the new table. */
	__asm__ volatile("pushq %[cs]\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "movw %w[ds], %%ax\n\t"
			 "movw %%ax, %%ds\n\t"
			 "movw %%ax, %%es\n\t"
			 "movw %%ax, %%ss\n\t"
			 :
			 : [cs] "i"(GDT_KERNEL_CS), [ds] "i"(GDT_KERNEL_DS)
			 : "rax", "memory");
	__asm__ volatile("ltr %w0" : : "r"(GDT_TSS));
}
