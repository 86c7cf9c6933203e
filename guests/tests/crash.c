/*
 * crash — a guest that goes wrong on purpose, for the containment tests:
 * whatever one domain does, the hypervisor and the other domains go on
 * (DESIGN §9). `how=` picks the way:
 * - triple: load an IDT with limit 0, then INT3. Delivery fails (#GP), so
 *   does delivering the #GP, then the #DF: a triple fault, which resets a
 *   real PC (SDM Vol. 3A §6.15 "Interrupt 8", shutdown) and must end only
 *   this domain under Hypatia: `[hv] dN crashed: ... at RIP 0x...`;
 * - ud: an invalid opcode nobody handles: the runtime reports
 *   `GUEST EXCEPTION: vector=6 (#UD)` and exits with 0x12;
 * - badcall (pv only): hypercalls with garbage numbers and pointers, each
 *   refused with an error; then RESULT: PASS;
 * - spin: loop forever with interrupts off; the others must still finish;
 * - vmrun, svme, hsave (hardware-assisted guests): what the CPU the guest
 *   sees says is absent — VMRUN (#UD with EFER.SVME clear), setting
 *   EFER.SVME, writing VM_HSAVE_PA (#GP: no such MSR). The runtime reports
 *   the exception and exits 0x12; the hypervisor must survive untouched;
 * - noncanonical: IRETQ to a non-canonical RIP (bits 63:47 not all equal).
 *   The CPU refuses with #GP (SDM Vol. 2A "IRET"); a hypervisor that
 *   emulates IRETQ must not hand that RIP to its own IRETQ into the guest,
 *   or the #GP lands in the hypervisor;
 * - devices: nonce-seeded garbage written to and read from every emulated
 *   device (PIC pair and ELCR, PIT and port 0x61, CMOS RTC, the UART's
 *   control registers), then interrupts enabled for a while: whatever that
 *   makes of the guest's own virtual PC — interrupt storms, vectors on
 *   exceptions, a silent console — only this domain may suffer.
 */
#include "guest.h"
#include "hypercall.h"
#include "x86.h"

void guest_main(void)
{
	uint64_t nonce = guest_nonce();
	char how[16];
	if (!guest_cmdline_get("how", how, sizeof(how)))
		guest_error("crash needs how=triple|ud|badcall|spin|vmrun|svme|hsave|noncanonical|devices");
	gprintf("crash: how=%s nonce=%lu\n", how, nonce);

	if (strcmp(how, "triple") == 0) {
		struct x86_desc_ptr empty = { 0, 0 };
		lidt(&empty);
		__asm__ volatile("int3");
		guest_fail("int3 with an empty IDT returned");
	} else if (strcmp(how, "ud") == 0) {
		__asm__ volatile("ud2");
		guest_fail("ud2 returned");
	} else if (strcmp(how, "badcall") == 0) {
		if (strcmp(guest_platform(), "pv") != 0)
			guest_skip("badcall is for the pv build (this is %s)", guest_platform());
		uint64_t garbage = nonce * 0x9e3779b97f4a7c15ull | 1ull << 63;
		gprintf("hypercall 0x%lx: %ld\n", garbage,
			hypercall5(garbage, garbage, ~garbage, garbage >> 3, garbage << 5, 7));
		/* The hypervisor's own memory, page 0, a length past the end. */
		gprintf("console_io(hypervisor address): %ld\n",
			xen_console_write((void *)(0xffff800000000000ull + (garbage & 0xfffff000)), 8));
		gprintf("console_io(page 0): %ld\n", xen_console_write((void *)0x10, 8));
		gprintf("console_io(length past the end): %ld\n", xen_console_write((void *)0x200000, ~0ull - 0x100));
		struct xen_add_to_physmap map = {.domid = DOMID_SELF, .space = XENMAPSPACE_shared_info, .gpfn = garbage};
		gprintf("add_to_physmap(outside memory): %ld\n", xen_memory_op(XENMEM_add_to_physmap, &map));
		map.gpfn = 0x200, map.space = 7;
		gprintf("add_to_physmap(space 7): %ld\n", xen_memory_op(XENMEM_add_to_physmap, &map));
		gprintf("add_to_physmap(page 0 pointer): %ld\n", xen_memory_op(XENMEM_add_to_physmap, (void *)0x8));
		struct xen_hvm_param param = {.domid = DOMID_SELF, .index = HVM_PARAM_CALLBACK_IRQ,
					      .value = HVM_CALLBACK_VECTOR(7)};
		gprintf("hvm_op(CALLBACK_IRQ vector 7): %ld\n", xen_hvm_op(HVMOP_set_param, &param));
		struct vcpu_set_periodic_timer period = {.period_ns = garbage % 1000000};
		gprintf("vcpu_op(set_periodic_timer under 1 ms): %ld\n",
			xen_vcpu_op(VCPUOP_set_periodic_timer, 0, &period));
		gprintf("vcpu_op(vcpu %u): %ld\n", (unsigned)(1 + garbage % 100),
			xen_vcpu_op(VCPUOP_stop_periodic_timer, (unsigned)(1 + garbage % 100), NULL));
		struct evtchn_port_arg port = {.port = (uint32_t)garbage};
		gprintf("event_channel_op(send to port 0x%x): %ld\n", port.port, xen_event_channel_op(EVTCHNOP_send, &port));
		struct sched_shutdown reason = {.reason = 6 + garbage % 10};
		gprintf("sched_op(shutdown reason %u): %ld\n", reason.reason, xen_sched_op(SCHEDOP_shutdown, &reason));
		guest_pass();
	} else if (strcmp(how, "vmrun") == 0) {
		__asm__ volatile("xorl %%eax, %%eax; vmrun" ::: "rax", "memory");
		guest_fail("vmrun returned");
	} else if (strcmp(how, "svme") == 0) {
		wrmsr(0xc0000080, rdmsr(0xc0000080) | (1ull << 12));
		gprintf("EFER after setting SVME: 0x%lx\n", rdmsr(0xc0000080));
		guest_fail("setting EFER.SVME did not fault");
	} else if (strcmp(how, "hsave") == 0) {
		wrmsr(0xc0010117, 0x1000);
		guest_fail("writing VM_HSAVE_PA did not fault");
	} else if (strcmp(how, "noncanonical") == 0) {
		uint64_t bad_rip = 0x8000000000000000ull | (nonce & 0xfffff000);
		__asm__ volatile("movq %%rsp, %%rax\n\t"
				 "pushq $0x10\n\t"    /* SS */
				 "pushq %%rax\n\t"    /* RSP */
				 "pushq $0x2\n\t"     /* RFLAGS */
				 "pushq $0x08\n\t"    /* CS */
				 "pushq %0\n\t"       /* RIP: not canonical */
				 "iretq" : : "r"(bad_rip) : "rax", "memory");
		guest_fail("iretq to a non-canonical RIP returned");
	} else if (strcmp(how, "devices") == 0) {
		static const uint16_t ports[] = {0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1, 0x40, 0x41, 0x42, 0x43,
						 0x61, 0x70, 0x71, 0x3f9, 0x3fa, 0x3fb, 0x3fc, 0x3fd, 0x3fe, 0x3ff};
		uint64_t x = nonce | 1, sum = 0;
		for (int i = 0; i < 4000; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
			uint16_t port = ports[x % ARRAY_SIZE(ports)];
			if (x & 0x100)
				outb(port, (uint8_t)(x >> 24));
			else
				sum += inb(port);
		}
		gprintf("devices: 4000 accesses done (sum %lu)\n", sum);
		guest_irq_enable();
		for (volatile uint64_t i = 0; i < 200000; i++)
			;
		guest_irq_disable();
		guest_pass();
	} else if (strcmp(how, "spin") == 0) {
		guest_irq_disable();
		for (volatile uint64_t i = 0;; i++)
			;
	}
	guest_error("unknown how=%s (triple, ud, badcall, spin, vmrun, svme, hsave, noncanonical, devices)", how);
}
