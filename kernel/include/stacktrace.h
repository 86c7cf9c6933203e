/**
 * @file stacktrace.h
 * @brief Walking the chain of saved frame pointers (lab 0's exercise).
 */
#ifndef HYPATIA_STACKTRACE_H
#define HYPATIA_STACKTRACE_H

#include "types.h"

/**
 * LAB 0: collect the return addresses of the calls that led here.
 *
 * With frame pointers (-fno-omit-frame-pointer) every function starts with
 * `push %rbp; mov %rsp,%rbp`, so at any time RBP points at a saved RBP, and the
 * word above it is the return address into the caller.
 *
 * @param rbp               the frame pointer to start from
 * @param return_addresses  filled with one return address per frame, innermost first
 * @param max               capacity of @p return_addresses
 * @return the number of addresses stored
 */
int stacktrace_walk(uint64_t rbp, uint64_t *return_addresses, int max);

/** True if [@p addr, @p addr + @p size) lies inside a hypervisor stack. */
bool stack_contains(uint64_t addr, size_t size);

/**
 * Print a backtrace, one line per frame with symbol+offset, innermost first.
 * @param rip  the innermost code address (frame #0), or 0 to start at the first caller
 * @param rbp  the frame pointer of the function that contains @p rip
 */
void backtrace_print(uint64_t rip, uint64_t rbp);

#endif
