/**
 * @file event_channel.h
 * @brief Event channels, Xen's 2-level ABI (kernel/dom/event_channel.c).
 *
 * An event channel is a port of a domain, bound to a source (a virtual
 * IRQ, an IPI of the domain, or another domain's port: interdomain). Raising it sets
 * bits in the domain's shared-info page (struct shared_info, xen.h) and,
 * unless the port or the vCPU masks it, makes the vCPU's upcall pending:
 * the hypervisor then delivers the domain's callback vector (set with
 * HVMOP_set_param(HVM_PARAM_CALLBACK_IRQ)), through the guest's IDT for a
 * PV guest, injected for an HVM one.
 */
#ifndef HYPATIA_EVENT_CHANNEL_H
#define HYPATIA_EVENT_CHANNEL_H

#include "types.h"
#include "xen.h"

struct domain;
struct vcpu;

/** Ports a domain may have open at once (Xen's 2-level ABI allows 4096; port 0 is never used). */
#define EVTCHN_PORTS 256
/** Virtual IRQs a port can be bound to (Xen's NR_VIRQS). */
#define EVTCHN_VIRQS 24

/**
 * One port of a domain. Plain data, no pointers: labs 5-6 save and restore
 * the table as it is (with the pending and mask bits, which live in the
 * shared-info page, i.e. in guest memory).
 */
struct evtchn {
	uint8_t state;          /**< EVTCHNSTAT_* (xen.h); 0 = closed */
	uint8_t vcpu;           /**< the vCPU it notifies */
	uint16_t remote_domain; /**< unbound: who may bind it; interdomain: the other domain */
	uint32_t value;         /**< virq: the VIRQ_*; interdomain: the remote port */
};

/** A domain's event channels (in struct domain). */
struct evtchn_table {
	struct evtchn port[EVTCHN_PORTS];     /**< by port number */
	uint32_t virq_port[EVTCHN_VIRQS];     /**< the port bound to each VIRQ of vCPU 0, 0 if none */
	uint8_t callback_vector;              /**< the upcall's vector (HVM_PARAM_CALLBACK_IRQ), 0: none */
};

/** EVTCHNOP_@p cmd with its argument at guest address @p arg; returns 0 or -XEN_E*. */
int64_t evtchn_op(struct vcpu *vcpu, uint64_t cmd, uint64_t arg);
/** Raise port @p port of @p domain: the pending/mask/selector/upcall steps of docs/hypercalls.md. */
void evtchn_raise(struct domain *domain, unsigned port);
/**
 * EVTCHNOP_send on interdomain port @p port of @p domain (LAB 4,
 * kernel/dom/evtchn_send.c): raise the port at the other end, if that end
 * is still connected to this one. Returns 0 or -XEN_E*.
 */
int64_t evtchn_send_interdomain(struct domain *domain, uint32_t port);
/** @p domain is dying: every interdomain port's other end becomes unbound again (Xen's evtchn_destroy). */
void evtchn_release(struct domain *domain);
/**
 * True if a port of any domain became pending since the last call (which
 * clears it): the scheduler then runs another round instead of sleeping
 * until the next tick, so a domain polling for an event, or blocked, gets
 * it without waiting 10 ms (Xen kicks the vCPU).
 */
bool evtchn_take_wakeup(void);
/** The live (running) domain with id @p id, or NULL. */
struct domain *domain_by_domid(unsigned id);
/** Raise the port bound to @p virq on @p domain, if any (the raise algorithm of docs/hypercalls.md). */
void evtchn_send_virq(struct domain *domain, unsigned virq);
/**
 * The upcall waits for @p vcpu: the domain has a shared-info page and a
 * callback vector, vcpu_info.evtchn_upcall_pending is set and
 * evtchn_pending_sel names a group with a pending port. It stays so
 * until the guest clears that byte (level-triggered, as in Xen); the PV
 * backend delivers it while evtchn_upcall_mask is 0, an HVM one while
 * RFLAGS.IF is 1.
 */
bool evtchn_upcall_pending(struct vcpu *vcpu);
/** The domain's shared-info page as the hypervisor reaches it, or NULL if none is registered. */
struct shared_info *domain_shared_info(struct domain *domain);

#endif
