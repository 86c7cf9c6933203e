/**
 * @file selftest.h
 * @brief Boot-time self-tests selected with `selftest=` and `fault=`.
 *
 * Each test prints figures that depend on the grader's nonce, which the grader
 * recomputes independently, so a passing line cannot be produced by printing a
 * remembered answer.
 */
#ifndef HYPATIA_SELFTEST_H
#define HYPATIA_SELFTEST_H

#include "types.h"

/** Run the self-tests named in `selftest=` (frames, heap, timer, backtrace, all). Returns false if one failed. */
bool selftest_run(void);
/** Trigger the fault named in `fault=` (pf, ud, gp, df), if any. Does not return if one was named. */
void selftest_fault(void);
/** The SplitMix64 generator step the self-tests draw their numbers from. */
uint64_t splitmix64(uint64_t *state);

#endif
