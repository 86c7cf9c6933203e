/*
 * xen_abi — Xen's ABI as a guest finds it: versions, features, errors,
 * event channels at the offsets of Xen's shared-info page, and (HVM) the
 * CPUID leaves and the hypercall page (guests/include/xen.h).
 *
 * pv build (int $0x82), or the image build as an HVM domain (lab 3), which
 * finds the hypervisor by CPUID leaf 0x40000000 and maps its own
 * shared-info page. Natively: SKIP. Every number it prints is one the
 * grader derives from the nonce and Xen's headers:
 * - xen_version: version 4.17, extraversion, get_features (submap 0; 1 is
 *   -EINVAL; a bad pointer -EFAULT), an unknown command -ENOSYS;
 *   EVTCHNOP_init_control -ENOSYS (the 2-level ABI);
 * - K = 65 + nonce % 60 IPI ports (1..K, two groups of the selector);
 *   with upcalls masked, port K masked by its evtchn_mask bit, then sent:
 *   only its evtchn_pending bit is set; EVTCHNOP_unmask then sets the
 *   selector bit and evtchn_upcall_pending — each read from the raw page at
 *   Xen's offsets (0, 8, 2048, 2560), not through the structure;
 * - the event taken: by the upcall on a nonce-chosen vector when the guest
 *   unmasks (`upcall=0`: polled instead — no delivery needed);
 * - close, status, send and bind_virq and their errors;
 * - HVM only: CPUID 0x40000000-0x40000004 and 0x40000100, and a hypercall
 *   page: stub n's bytes, and xen_version called through it; then a
 *   hypercall from the guest's user mode, which Xen refuses (-EPERM).
 */
#include "guest.h"
#include "hypercall.h"
#include "paging.h"
#include "user.h"
#include "x86.h"

#define POOL_PAGES 16
#define USER_VA 0x400000000000ull /* PML4 slot 128: nothing else there */
#define BACK_VECTOR 0x81          /* the user program's way back: int $0x81 */
static uint8_t pool[POOL_PAGES * 4096] __attribute__((aligned(4096)));
static uint8_t user_code[4096] __attribute__((aligned(4096)));
static uint8_t user_stack[4096] __attribute__((aligned(4096)));

static uint8_t own_shared_page[4096] __attribute__((aligned(4096)));
static uint8_t call_page[4096] __attribute__((aligned(4096)));
static struct shared_info *info;
static volatile uint32_t seen_port;
static volatile unsigned upcalls;

static void on_port(uint32_t port)
{
	seen_port = port;
}

static void on_upcall(struct guest_frame *f)
{
	(void)f;
	upcalls++;
	xen_handle_events(info, on_port);
}

/* A field of the shared-info page by its byte offset, as Xen's headers place it. */
static uint64_t raw64(unsigned offset)
{
	return *(volatile uint64_t *)((volatile uint8_t *)info + offset);
}

/* An address past the end of the guest's memory (at most 1 GiB). */
static void *outside(uint64_t nonce)
{
	return (void *)(uintptr_t)(0x40000000ull + (nonce % 512) * 4096);
}

static int64_t evtchn(unsigned cmd, uint32_t port)
{
	struct evtchn_port_arg arg = {.port = port};
	return xen_event_channel_op(cmd, &arg);
}

static void back_from_user(struct guest_frame *f)
{
	user_return(f->rax);
}

/* Xen lets only an HVM guest's kernel make hypercalls: from its user mode
 * the answer is -EPERM. A two-page user program: xen_version(0) through
 * the vendor's instruction, then int $0x81 back with RAX. */
static void hypercall_from_user_mode(void)
{
	bool intel = hypercall_vendor_door == HYPERCALL_DOOR_VMCALL;
	const uint8_t program[] = {0xb8, HYPERCALL_xen_version, 0, 0, 0, /* mov $17, %eax */
				   0x31, 0xff,                          /* xor %edi, %edi */
				   0x0f, 0x01, intel ? 0xc1 : 0xd9,     /* vmcall / vmmcall */
				   0xcd, BACK_VECTOR, 0xeb, 0xfe};     /* int $0x81; jmp . */
	memcpy(user_code, program, sizeof(program));
	paging_init(pool, POOL_PAGES);
	user_init();
	user_open_gate(BACK_VECTOR);
	guest_set_handler(BACK_VECTOR, back_from_user);
	uint64_t *space = paging_new_space();
	if (!space || !paging_map(space, USER_VA, (uint64_t)(uintptr_t)user_code, PTE_U) ||
	    !paging_map(space, USER_VA + 4096, (uint64_t)(uintptr_t)user_stack, PTE_U | PTE_W))
		guest_error("out of page-table pages");
	paging_load_cr3(space);
	int64_t r = (int64_t)user_run(USER_VA, USER_VA + 8192, 0);
	paging_load_cr3(paging_kernel_space());
	gprintf("%s from user mode: %ld\n", intel ? "vmcall" : "vmmcall", r);
}

static void hvm_cpuid_and_page(uint64_t nonce)
{
	uint32_t r[4];
	for (uint32_t leaf = XEN_CPUID_BASE; leaf <= XEN_CPUID_BASE + 4; leaf++) {
		cpuid(leaf, 0, &r[0], &r[1], &r[2], &r[3]);
		gprintf("cpuid 0x%x: %08x %08x %08x %08x\n", leaf, r[0], r[1], r[2], r[3]);
	}
	cpuid(HYPATIA_CPUID_BASE, 0, &r[0], &r[1], &r[2], &r[3]);
	char signature[13] = {0};
	memcpy(signature, &r[1], 4), memcpy(signature + 4, &r[2], 4), memcpy(signature + 8, &r[3], 4);
	gprintf("cpuid 0x%x: %08x %s\n", HYPATIA_CPUID_BASE, r[0], signature);

	hypercall_use_page(call_page);
	unsigned n = nonce % HYPERCALL_PAGE_STUBS;
	gprintf("hypercall page stub %u:", n);
	for (unsigned i = 0; i < 10; i++)
		gprintf(" %02x", call_page[32 * n + i]);
	gprintf("\n");
	int64_t version = xen_version(XENVER_version, NULL);
	gprintf("xen_version through the page: %ld.%ld\n", version >> 16, version & 0xffff);
}

void guest_main(void)
{
	uint64_t nonce = guest_nonce();
	bool pv = strcmp(guest_platform(), "pv") == 0;
	if (!pv && !hypercall_find_xen())
		guest_skip("Xen's ABI needs the pv build or an HVM domain (this is %s)", guest_platform());
	gprintf("xen_abi: nonce=%lu\n", nonce);

	int64_t version = xen_version(XENVER_version, NULL);
	gprintf("xen_version: %ld.%ld\n", version >> 16, version & 0xffff);
	char extra[XEN_EXTRAVERSION_LEN + 1] = {0};
	gprintf("xen_version(extraversion): %ld %s\n", xen_version(XENVER_extraversion, extra), extra);
	struct xen_feature_info features = {.submap_idx = 0};
	int64_t r = xen_version(XENVER_get_features, &features);
	gprintf("xen_version(get_features 0): %ld, submap 0x%x\n", r, features.submap);
	features.submap_idx = 1 + nonce % 7;
	gprintf("xen_version(get_features %u): %ld\n", features.submap_idx, xen_version(XENVER_get_features, &features));
	gprintf("xen_version(get_features, bad pointer): %ld\n",
		xen_version(XENVER_get_features, outside(nonce)));
	gprintf("xen_version(%lu): %ld\n", 64 + nonce % 64, xen_version(64 + nonce % 64, NULL));
	gprintf("event_channel_op(init_control): %ld\n", xen_event_channel_op(EVTCHNOP_init_control, &features));

	/* The shared-info page: the pv platform's, or one of our own. */
	if (pv) {
		info = guest_shared_info();
	} else {
		info = (struct shared_info *)own_shared_page;
		gprintf("memory_op(add_to_physmap shared_info): %ld\n", xen_map_shared_info(info));
	}

	guest_irq_disable();
	unsigned ports = 65 + nonce % 60;
	uint32_t last = 0;
	for (unsigned i = 0; i < ports; i++) {
		struct evtchn_bind_ipi bind = {.vcpu = 0};
		if (xen_event_channel_op(EVTCHNOP_bind_ipi, &bind) != 0)
			guest_fail("bind_ipi number %u failed", i + 1);
		last = bind.port;
	}
	gprintf("event_channel_op(bind_ipi) x %u: last port %u\n", ports, last);
	unsigned word = last / 64, bit = last % 64;
	((volatile uint64_t *)info->evtchn_mask)[word] |= 1ull << bit;
	gprintf("mask bit @%u: 0x%lx\n", 2560 + 8 * word, raw64(2560 + 8 * word));
	gprintf("send(%u): %ld\n", last, evtchn(EVTCHNOP_send, last));
	gprintf("masked: pending @%u 0x%lx, selector @8 0x%lx, upcall pending @0 %lu\n", 2048 + 8 * word,
		raw64(2048 + 8 * word), raw64(8), raw64(0) & 0xff);
	gprintf("unmask(%u): %ld\n", last, evtchn(EVTCHNOP_unmask, last));
	gprintf("unmasked: mask @%u 0x%lx, selector @8 0x%lx, upcall pending @0 %lu, upcall mask @1 %lu\n",
		2560 + 8 * word, raw64(2560 + 8 * word), raw64(8), raw64(0) & 0xff, (raw64(0) >> 8) & 0xff);

	if (guest_cmdline_u64("upcall", 1)) {
		unsigned vector = 64 + nonce % 32;
		guest_set_handler(vector, on_upcall);
		gprintf("hvm_op(set_param CALLBACK_IRQ, vector %u): %ld\n", vector, xen_set_callback_vector(vector));
		guest_irq_enable(); /* the upcall comes now */
		__asm__ volatile("nop" ::: "memory");
		guest_irq_disable();
		gprintf("upcalls taken on unmasking: %u\n", upcalls);
	} else {
		xen_handle_events(info, on_port);
	}
	gprintf("event on port %u; pending @%u now 0x%lx, upcall pending %lu\n", seen_port, 2048 + 8 * word,
		raw64(2048 + 8 * word), raw64(0) & 0xff);

	struct evtchn_status status = {.dom = DOMID_SELF, .port = last};
	r = xen_event_channel_op(EVTCHNOP_status, &status);
	gprintf("status(%u): %ld, status %u, vcpu %u\n", last, r, status.status, status.vcpu);
	r = evtchn(EVTCHNOP_close, last);
	gprintf("close(%u): %ld, again: %ld\n", last, r, evtchn(EVTCHNOP_close, last));
	r = xen_event_channel_op(EVTCHNOP_status, &status);
	gprintf("status(%u): %ld, status %u; send: %ld; close(0): %ld\n", last, r, status.status,
		evtchn(EVTCHNOP_send, last), evtchn(EVTCHNOP_close, 0));
	struct evtchn_bind_virq virq = {.virq = VIRQ_TIMER, .vcpu = 0};
	r = xen_event_channel_op(EVTCHNOP_bind_virq, &virq);
	gprintf("bind_virq(VIRQ_TIMER): %ld, port %u; again: %ld\n", r, virq.port,
		xen_event_channel_op(EVTCHNOP_bind_virq, &virq));
	status.port = virq.port;
	r = xen_event_channel_op(EVTCHNOP_status, &status);
	gprintf("status(%u): %ld, status %u, virq %u; send: %ld\n", virq.port, r, status.status, status.u.virq,
		evtchn(EVTCHNOP_send, virq.port));
	virq.virq = 24 + nonce % 100;
	gprintf("bind_virq(%u): %ld; bind_ipi(bad pointer): %ld\n", virq.virq,
		xen_event_channel_op(EVTCHNOP_bind_virq, &virq), xen_event_channel_op(EVTCHNOP_bind_ipi, outside(nonce + 1)));

	if (!pv) {
		hvm_cpuid_and_page(nonce);
		hypercall_from_user_mode();
	}
	guest_pass();
}
