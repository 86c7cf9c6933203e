/**
 * @file hypercall.h
 * @brief Hypercall numbers and errors (docs/hypercalls.md is the one table).
 */
#ifndef HYPATIA_HYPERCALL_H
#define HYPATIA_HYPERCALL_H

struct vcpu;

/** @name Hypercall numbers (RAX)
 *  @{ */
#define HYPERCALL_CONSOLE_WRITE 0 /**< RDI = buffer, RSI = length */
#define HYPERCALL_YIELD 1         /**< give up the time slice */
#define HYPERCALL_SET_TIMER 2     /**< RDI = period in microseconds (0 = off), RSI = vector */
#define HYPERCALL_SHUTDOWN 3      /**< RDI = exit code */
#define HYPERCALL_SHARED_INFO 4   /**< RDI = guest-physical address of the shared-info page */
#define HYPERCALL_EVENT_CHECK 5   /**< deliver a pending interrupt now */
/** @} */

/** @name Errors, returned negated in RAX (Linux/Xen errno values)
 *  @{ */
#define HYPERCALL_EFAULT 14 /**< a pointer outside the guest's memory */
#define HYPERCALL_EINVAL 22 /**< a bad argument */
#define HYPERCALL_ENOSYS 38 /**< no such hypercall */
/** @} */

/** Carry out the hypercall in @p vcpu's registers; the result goes to RAX. */
void hypercall_dispatch(struct vcpu *vcpu);

#endif
