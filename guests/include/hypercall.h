/**
 * @file hypercall.h
 * @brief The guest's side of the hypercall ABI: Xen's (xen.h, docs/hypercalls.md).
 *
 * A guest calls the hypervisor on purpose: hypercall number in RAX,
 * arguments in RDI, RSI, RDX, R10, R8, the result in RAX (negative: -XEN_E*),
 * every other register preserved (Xen's x86-64 convention). The way in
 * (the *door*) depends on the guest: a paravirtualized one executes
 * `int $0x82`; a hardware-assisted (HVM) one VMMCALL on AMD or VMCALL on
 * Intel, or calls stub @c n of its hypercall page, which holds the right
 * one. Only the `pv` build's platform layer and tests that found a
 * hypervisor (hypercall_find_xen()) may use these: natively, vector 0x82 is
 * just an unexpected interrupt, and VMMCALL is \#UD.
 */
#ifndef GUEST_HYPERCALL_H
#define GUEST_HYPERCALL_H

#include <stdbool.h>
#include <stdint.h>

#include "xen.h"

/** How this guest enters the hypervisor. */
enum hypercall_door {
	HYPERCALL_DOOR_INT_0X82, /**< a PV guest (the default) */
	HYPERCALL_DOOR_VMCALL,   /**< an HVM guest on Intel VMX */
	HYPERCALL_DOOR_VMMCALL,  /**< an HVM guest on AMD SVM */
	HYPERCALL_DOOR_PAGE,     /**< an HVM guest through its hypercall page (hypercall_use_page()) */
};

/** The door hypercall5() uses (guests/lib/hypercall.c). */
extern enum hypercall_door hypercall_door;
/** The hypercall page, once hypercall_use_page() installed one. */
extern uint8_t *hypercall_page;
/** VMCALL or VMMCALL, as hypercall_find_xen() found the vendor. */
extern enum hypercall_door hypercall_vendor_door;

/**
 * An HVM guest's check for a Xen-compatible hypervisor: CPUID leaf
 * 0x40000000 says "XenVMMXenVMM". If so, picks VMCALL or VMMCALL by CPUID's
 * vendor string as the door and returns true; otherwise changes nothing.
 */
bool hypercall_find_xen(void);
/**
 * Ask for a hypercall page at @p page (4 KiB, page-aligned, guest-physical
 * = virtual): write its address to the MSR CPUID leaf 0x40000002 names, then
 * enter through its stubs. Call after hypercall_find_xen().
 */
void hypercall_use_page(void *page);

/** Make hypercall @p number with up to five arguments through the door in use; returns RAX. */
static inline int64_t hypercall5(uint64_t number, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
				 uint64_t a5)
{
	register uint64_t r10 __asm__("r10") = a4;
	register uint64_t r8 __asm__("r8") = a5;
	uint64_t result = number;
	/* "memory": the hypervisor reads and writes buffers, and may deliver
	 * an interrupt whose handler changes guest memory before this returns. */
	/* The page has no stub past the 128th: go in directly. */
	enum hypercall_door door = hypercall_door;
	if (door == HYPERCALL_DOOR_PAGE && number >= HYPERCALL_PAGE_STUBS)
		door = hypercall_vendor_door;
	switch (door) {
	case HYPERCALL_DOOR_VMCALL:
		__asm__ volatile("vmcall" : "+a"(result) : "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8) : "memory");
		break;
	case HYPERCALL_DOOR_VMMCALL:
		__asm__ volatile("vmmcall" : "+a"(result) : "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8) : "memory");
		break;
	case HYPERCALL_DOOR_PAGE:
		__asm__ volatile("call *%[stub]"
				 : "+a"(result)
				 : [stub] "r"(hypercall_page + 32 * number), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8)
				 : "memory");
		break;
	default:
		__asm__ volatile("int $0x82" : "+a"(result) : "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8) : "memory");
		break;
	}
	return (int64_t)result;
}

/** Hypercall @p number with three arguments (all Xen's calls here need no more). */
static inline int64_t hypercall3(uint64_t number, uint64_t a1, uint64_t a2, uint64_t a3)
{
	return hypercall5(number, a1, a2, a3, 0, 0);
}

/** console_io(CONSOLEIO_write): print @p length bytes at @p buffer on the domain's console; 0 or -XEN_EFAULT. */
static inline int64_t xen_console_write(const void *buffer, uint64_t length)
{
	return hypercall3(HYPERCALL_console_io, CONSOLEIO_write, length, (uint64_t)(uintptr_t)buffer);
}

/** sched_op(@p cmd, @p arg): SCHEDOP_yield, _block (arg NULL), _shutdown (arg a struct sched_shutdown). */
static inline int64_t xen_sched_op(unsigned cmd, void *arg)
{
	return hypercall3(HYPERCALL_sched_op, cmd, (uint64_t)(uintptr_t)arg, 0);
}

/** xen_version(@p cmd, @p arg): XENVER_version returns major << 16 | minor; the others fill @p arg. */
static inline int64_t xen_version(unsigned cmd, void *arg)
{
	return hypercall3(HYPERCALL_xen_version, cmd, (uint64_t)(uintptr_t)arg, 0);
}

/** memory_op(@p cmd, @p arg): XENMEM_add_to_physmap with a struct xen_add_to_physmap. */
static inline int64_t xen_memory_op(unsigned cmd, void *arg)
{
	return hypercall3(HYPERCALL_memory_op, cmd, (uint64_t)(uintptr_t)arg, 0);
}

/** vcpu_op(@p cmd, @p vcpu, @p arg): VCPUOP_set_periodic_timer (a struct vcpu_set_periodic_timer), _stop_periodic_timer. */
static inline int64_t xen_vcpu_op(unsigned cmd, unsigned vcpu, void *arg)
{
	return hypercall3(HYPERCALL_vcpu_op, cmd, vcpu, (uint64_t)(uintptr_t)arg);
}

/** event_channel_op(@p cmd, @p arg): EVTCHNOP_*, each with its structure (xen.h). */
static inline int64_t xen_event_channel_op(unsigned cmd, void *arg)
{
	return hypercall3(HYPERCALL_event_channel_op, cmd, (uint64_t)(uintptr_t)arg, 0);
}

/** grant_table_op(@p cmd, @p ops, @p count): GNTTABOP_* on an array of @p count structures (xen.h); each gets its status. */
static inline int64_t xen_grant_table_op(unsigned cmd, void *ops, unsigned count)
{
	return hypercall3(HYPERCALL_grant_table_op, cmd, (uint64_t)(uintptr_t)ops, count);
}

/** hvm_op(@p cmd, @p arg): HVMOP_set_param / _get_param with a struct xen_hvm_param. */
static inline int64_t xen_hvm_op(unsigned cmd, void *arg)
{
	return hypercall3(HYPERCALL_hvm_op, cmd, (uint64_t)(uintptr_t)arg, 0);
}

/** Register the guest page at @p page as the domain's shared-info page (XENMEM_add_to_physmap). */
int64_t xen_map_shared_info(void *page);
/** Deliver event-channel upcalls on @p vector (HVMOP_set_param(HVM_PARAM_CALLBACK_IRQ)); 0 turns them off. */
int64_t xen_set_callback_vector(unsigned vector);
/**
 * The body of an upcall handler (Xen's 2-level ABI): clear
 * evtchn_upcall_pending, take the selector, and call @p handler for every
 * pending port that is not masked, clearing its pending bit first. Returns
 * how many ports it handled. @p info is the domain's shared-info page.
 */
unsigned xen_handle_events(struct shared_info *info, void (*handler)(uint32_t port));
/** SCHEDOP_shutdown with @p reason (SHUTDOWN_*, or a Hypatia exit code from 0x10 up). Returns only on failure. */
int64_t xen_shutdown(uint32_t reason);

#endif
