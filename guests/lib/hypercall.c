/*
 * hypercall.c — finding the door into a Xen-compatible hypervisor, and the
 * calls every Xen guest makes the same way (guests/include/hypercall.h).
 */
#include "guest.h"
#include "hypercall.h"
#include "x86.h"

enum hypercall_door hypercall_door = HYPERCALL_DOOR_INT_0X82;
enum hypercall_door hypercall_vendor_door = HYPERCALL_DOOR_VMMCALL;
uint8_t *hypercall_page;

bool hypercall_find_xen(void)
{
	uint32_t a, b, c, d;
	cpuid(XEN_CPUID_BASE, 0, &a, &b, &c, &d);
	if (b != XEN_CPUID_SIGNATURE_EBX || c != XEN_CPUID_SIGNATURE_ECX || d != XEN_CPUID_SIGNATURE_EDX)
		return false;
	cpuid(0, 0, &a, &b, &c, &d);
	hypercall_vendor_door = memcmp(&b, "Genu", 4) == 0 ? HYPERCALL_DOOR_VMCALL : HYPERCALL_DOOR_VMMCALL;
	hypercall_door = hypercall_vendor_door;
	return true;
}

void hypercall_use_page(void *page)
{
	uint32_t pages, msr, c, d;
	cpuid(XEN_CPUID_BASE + 2, 0, &pages, &msr, &c, &d);
	wrmsr(msr, (uint64_t)(uintptr_t)page);
	hypercall_page = page;
	hypercall_door = HYPERCALL_DOOR_PAGE;
}

int64_t xen_map_shared_info(void *page)
{
	struct xen_add_to_physmap map = {
		.domid = DOMID_SELF,
		.space = XENMAPSPACE_shared_info,
		.idx = 0,
		.gpfn = (uint64_t)(uintptr_t)page / 4096,
	};
	return xen_memory_op(XENMEM_add_to_physmap, &map);
}

int64_t xen_set_callback_vector(unsigned vector)
{
	struct xen_hvm_param param = {
		.domid = DOMID_SELF,
		.index = HVM_PARAM_CALLBACK_IRQ,
		.value = vector ? HVM_CALLBACK_VECTOR(vector) : 0,
	};
	return xen_hvm_op(HVMOP_set_param, &param);
}

int64_t xen_shutdown(uint32_t reason)
{
	struct sched_shutdown shutdown = {.reason = reason};
	return xen_sched_op(SCHEDOP_shutdown, &shutdown);
}

unsigned xen_handle_events(struct shared_info *info, void (*handler)(uint32_t port))
{
	struct vcpu_info *vcpu = &info->vcpu_info[0];
	unsigned handled = 0;
	/* Clear the upcall's byte first: an event raised from here on sets
	 * it again, and the next upcall takes it. */
	__atomic_store_n(&vcpu->evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
	uint64_t groups = __atomic_exchange_n(&vcpu->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
	while (groups) {
		unsigned group = (unsigned)__builtin_ctzll(groups);
		groups &= groups - 1;
		uint64_t ready = __atomic_load_n(&info->evtchn_pending[group], __ATOMIC_SEQ_CST) &
				 ~__atomic_load_n(&info->evtchn_mask[group], __ATOMIC_SEQ_CST);
		__atomic_fetch_and(&info->evtchn_pending[group], ~ready, __ATOMIC_SEQ_CST);
		for (; ready; ready &= ready - 1, handled++)
			handler(group * 64 + (unsigned)__builtin_ctzll(ready));
	}
	return handled;
}
