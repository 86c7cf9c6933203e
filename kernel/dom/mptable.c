/*
 * mptable.c — the MultiProcessor Specification table a PC BIOS leaves in
 * memory (Intel MultiProcessor Specification 1.4, ch. 4).
 *
 * How an operating system without ACPI learns that the machine has a local
 * APIC, at which address, and which CPU boots: a 16-byte "MP floating
 * pointer structure" (signature "_MP_") somewhere in the BIOS area
 * 0xf0000-0xfffff, pointing at an "MP configuration table" ("PCMP") that
 * lists one entry per processor and per bus. Linux without one (and
 * without ACPI) keeps the APIC in "virtual wire mode with no configuration"
 * and never starts its APIC timer; with this one — one processor, one ISA
 * bus, no I/O APIC — it uses the local APIC's timer for its clock events.
 *
 * The 8259 must still reach the CPU, through LINT0 in ExtINT mode. Linux
 * soft-disables the APIC while it sets it up, which masks every LVT entry
 * (SDM Vol. 3A §11.4.7.2), and then leaves LINT0 masked unless the table
 * says "PIC mode" (feature byte 2 bit 7: an IMCR is present, spec §3.6.2.1):
 * so it says so. Linux then writes the IMCR (ports 0x22/0x23, which nothing
 * claims here) to leave PIC mode, and programs LINT0 as ExtINT itself.
 */
#include "domain.h"
#include "lapic.h"
#include "mptable.h"
#include "string.h"
#include "x86.h"

#define FLOATING_POINTER_GPA 0xf0000u
#define CONFIG_TABLE_GPA 0xf0010u

static uint8_t checksum_byte(const uint8_t *bytes, size_t length)
{
	uint8_t sum = 0;
	for (size_t i = 0; i < length; i++)
		sum = (uint8_t)(sum + bytes[i]);
	return (uint8_t)-sum; /* the whole structure must sum to 0 (spec §4.1, §4.2) */
}

bool mptable_write(struct domain *d)
{
	uint8_t table[44 + 20 + 8];
	memset(table, 0, sizeof(table));
	/* Configuration table header (spec Table 4-2). */
	memcpy(table, "PCMP", 4);
	uint16_t length = sizeof(table), entries = 2;
	uint32_t apic_address = LAPIC_DEFAULT_BASE;
	memcpy(table + 4, &length, 2);
	table[6] = 4; /* spec revision 1.4 */
	memcpy(table + 8, "HYPATIA ", 8);
	memcpy(table + 16, "VIRTUAL PC  ", 12);
	memcpy(table + 34, &entries, 2);
	memcpy(table + 36, &apic_address, 4);
	/* Processor entry (Table 4-4): APIC ID 0, version 0x14, enabled + bootstrap. */
	uint8_t *cpu_entry = table + 44;
	struct cpuid_regs id = cpuid(1, 0);
	cpu_entry[0] = 0;
	cpu_entry[1] = 0; /* the vCPU's APIC ID (vlapic_reset) */
	cpu_entry[2] = 0x14;
	cpu_entry[3] = 0x3;
	memcpy(cpu_entry + 4, &id.eax, 4); /* signature: stepping, model, family */
	memcpy(cpu_entry + 8, &id.edx, 4); /* feature flags */
	/* Bus entry (Table 4-8): bus 0 is ISA. */
	uint8_t *bus_entry = table + 64;
	bus_entry[0] = 1;
	memcpy(bus_entry + 2, "ISA   ", 6);
	table[7] = checksum_byte(table, sizeof(table));

	/* Floating pointer (Table 4-1): the table's address, length 1 (16 bytes),
	 * revision 1.4, feature byte 1 = 0 (a table follows, no default config),
	 * feature byte 2 = 0x80 (PIC mode: see above). */
	uint8_t pointer[16] = {'_', 'M', 'P', '_'};
	uint32_t address = CONFIG_TABLE_GPA;
	memcpy(pointer + 4, &address, 4);
	pointer[8] = 1;
	pointer[9] = 4;
	pointer[12] = 0x80;
	pointer[10] = checksum_byte(pointer, sizeof(pointer));
	return domain_write(d, FLOATING_POINTER_GPA, pointer, sizeof(pointer)) &&
	       domain_write(d, CONFIG_TABLE_GPA, table, sizeof(table));
}
