/*
 * idt.c — the interrupt descriptor table.
 *
 * Each of the 256 entries is a 16-byte interrupt gate (Intel SDM Vol. 3A
 * §6.14.1, AMD APM Vol. 2 §4.8.4) pointing at its stub in trap_entry.S. An
 * interrupt gate clears RFLAGS.IF on entry, so handlers run with interrupts
 * off until they return.
 */
#include "gdt.h"
#include "pv.h"
#include "trap.h"

struct PACKED idt_gate {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;        /* bits 0-2: IST slot, 0 = none */
	uint8_t type_attr;  /* P, DPL, type (0xE = 64-bit interrupt gate) */
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t reserved;
};

struct PACKED idt_pointer {
	uint16_t limit;
	uint64_t base;
};

#define GATE_INTERRUPT_DPL0 0x8e
#define GATE_INTERRUPT_DPL3 0xee /* reachable by INT n from CPL 3 */

static struct idt_gate idt[256] __attribute__((aligned(16)));
extern const char trap_stubs[]; /* 256 stubs, 16 bytes apart */

static void set_gate(unsigned vector, uint64_t handler, unsigned ist)
{
	/* Only the hypercall gate is open to guests; every other INT n from CPL 3
	 * raises #GP, which trap-and-emulate turns into the guest's own interrupt. */
	uint8_t type_attr = vector == PV_HYPERCALL_VECTOR ? GATE_INTERRUPT_DPL3 : GATE_INTERRUPT_DPL0;
	idt[vector] = (struct idt_gate){
		.offset_low = handler & 0xffff,
		.selector = GDT_KERNEL_CS,
		.ist = (uint8_t)ist,
		.type_attr = type_attr,
		.offset_mid = (handler >> 16) & 0xffff,
		.offset_high = handler >> 32,
	};
}

void idt_init(void)
{
	for (unsigned v = 0; v < 256; v++)
		set_gate(v, (uint64_t)trap_stubs + 16 * v, v == VEC_DF ? IST_DOUBLE_FAULT : 0);
	struct idt_pointer pointer = {.limit = sizeof(idt) - 1, .base = (uint64_t)idt};
	__asm__ volatile("lidt %0" : : "m"(pointer));
}
