/**
 * @file mptable.h
 * @brief The MultiProcessor Specification table of the emulated PC (Intel MP spec 1.4).
 *
 * A BIOS leaves it in the BIOS area so that an operating system without
 * ACPI finds its local APIC: one processor (APIC ID 0, the bootstrap
 * processor), one ISA bus, virtual-wire mode (kernel/dom/mptable.c).
 */
#ifndef HYPATIA_MPTABLE_H
#define HYPATIA_MPTABLE_H

#include "types.h"

struct domain;

/** Write the MP floating pointer (at 0xf0000) and its configuration table into @p domain's memory. */
bool mptable_write(struct domain *domain);

#endif
