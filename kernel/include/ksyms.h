/**
 * @file ksyms.h
 * @brief The hypervisor's own symbol table, for symbol+offset in dumps and backtraces.
 *
 * The table is generated at build time from the linked image (scripts/gen-ksyms)
 * and linked in by a second link, as Linux's kallsyms does.
 */
#ifndef HYPATIA_KSYMS_H
#define HYPATIA_KSYMS_H

#include "types.h"

/**
 * Find the function containing @p addr.
 * @param addr    a code address
 * @param offset  receives @p addr minus the function's start (may be NULL)
 * @return the function's name, or NULL if @p addr is not in the image's code
 */
const char *ksym_lookup(uint64_t addr, uint64_t *offset);
/** Format @p addr as "name+0x1f" (or the bare hex address) into @p buf. */
void ksym_format(uint64_t addr, char *buf, size_t size);

#endif
