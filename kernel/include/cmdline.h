/**
 * @file cmdline.h
 * @brief The hypervisor's command-line options (`key=value` words).
 *
 * Options are declared in one table (cmdline.c) with their meaning, so an
 * unknown option is reported with a warning instead of being silently ignored.
 */
#ifndef HYPATIA_CMDLINE_H
#define HYPATIA_CMDLINE_H

#include "types.h"

/** Parse the command line; prints a warning line for each unknown option. */
void cmdline_init(const char *cmdline);
/** Value of option @p key, or NULL if absent. A word without '=' has value "". */
const char *cmdline_get(const char *key);
/** Numeric value of option @p key, or @p fallback if it is absent or not a number. */
uint64_t cmdline_get_u64(const char *key, uint64_t fallback);
/** True if the comma-separated list in option @p key contains @p item (or "all"). */
bool cmdline_list_has(const char *key, const char *item);
/** The nonce the grader passed (`nonce=`), 0 if none. */
extern uint64_t boot_nonce;

#endif
