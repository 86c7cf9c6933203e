/**
 * @file domctl.h
 * @brief What only Dom0 may ask (kernel/dom/domctl.c): domctl, memory_op on
 * other domains, foreign mapping, the console's input. Xen's layouts are in
 * guests/include/xen_domctl.h.
 */
#ifndef HYPATIA_DOMCTL_H
#define HYPATIA_DOMCTL_H

#include "types.h"

struct vcpu;

/** Hypercall 36 (domctl), RDI = struct xen_domctl: -EPERM for every domain but Dom0. */
int64_t domctl(struct vcpu *vcpu, uint64_t arg);
/** memory_op's XENMEM_populate_physmap, _add_to_physmap_batch (foreign), _remove_from_physmap, RSI = @p arg. */
int64_t memory_op_other_domain(struct vcpu *vcpu, uint64_t cmd, uint64_t arg);
/** CONSOLEIO_read: Dom0 reads what was typed on the hypervisor's console; -EPERM for others. */
int64_t console_read(struct vcpu *vcpu, uint64_t count, uint64_t buffer);

#endif
