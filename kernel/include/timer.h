/**
 * @file timer.h
 * @brief The hypervisor's periodic tick: the 8254 PIT on IRQ 0 through the 8259 PIC.
 */
#ifndef HYPATIA_TIMER_H
#define HYPATIA_TIMER_H

#include "types.h"

/** Ticks per second. */
#define TIMER_HZ 100

/** Remap the PIC, program the PIT for #TIMER_HZ and install the tick handler. */
void timer_init(void);
/** Ticks since timer_init(). */
uint64_t timer_ticks(void);
/** Sleep (with interrupts on) until @p n more ticks have happened. */
void timer_wait_ticks(uint64_t n);

#endif
