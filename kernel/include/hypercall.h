/**
 * @file hypercall.h
 * @brief The hypercall table (Xen's numbers: guests/include/xen.h; docs/hypercalls.md is the one table).
 */
#ifndef HYPATIA_HYPERCALL_H
#define HYPATIA_HYPERCALL_H

#include "types.h"
#include "xen.h"

struct vcpu;

/** Carry out the hypercall in @p vcpu's registers (Xen's: number in RAX, arguments in RDI, RSI, RDX, R10, R8); the result goes to RAX. */
void hypercall_dispatch(struct vcpu *vcpu);

/**
 * Copy @p size bytes from the guest's address @p va (guest-virtual: through
 * its page tables where it has its own, as Xen's copy_from_guest) into @p dst.
 * False, with no fault injected, if any byte is not there.
 */
bool copy_from_guest(struct vcpu *vcpu, void *dst, uint64_t va, size_t size);
/** The other way: @p size bytes of @p src to the guest's address @p va. */
bool copy_to_guest(struct vcpu *vcpu, uint64_t va, const void *src, size_t size);

#endif
