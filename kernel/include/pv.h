/**
 * @file pv.h
 * @brief The trap-and-emulate (PV) backend's entry points used outside kernel/pv/.
 */
#ifndef HYPATIA_PV_H
#define HYPATIA_PV_H

#include "trap.h"

/**
 * A trap arrived while a PV guest ran at CPL 3: record it as the vCPU's exit
 * and return to the hypervisor code that entered the guest. If @p handler is
 * not NULL (a physical interrupt such as the timer), it runs first.
 * Never returns to its caller.
 */
NORETURN void pv_trap_from_guest(struct trap_frame *frame, trap_handler_t handler);

#endif
