/*
 * internal.h — functions shared between the runtime's own files.
 */
#ifndef GUEST_LIB_INTERNAL_H
#define GUEST_LIB_INTERNAL_H

#include <stdint.h>

/* Keep a private copy of the command line (cmdline.c); truncates to
 * HYPATIA_CMDLINE_MAX - 1 bytes. */
void cmdline_set(const char *line);

/* Extend the GDT with the user segments and a TSS descriptor for
 * @tss_base/@tss_limit, and reload it (arch.c; user.c calls it). */
void arch_enable_user_mode(uint64_t tss_base, uint32_t tss_limit);
/* Set the DPL of the IDT gate for @vector (3: INT n from user mode may use it). */
void arch_set_gate_dpl(unsigned vector, unsigned dpl);

#endif
