/*
 * xen_cpuid.c — how an HVM guest finds out it runs on a Xen-compatible
 * hypervisor, and its hypercall page.
 *
 * CPUID leaves 0x40000000-0x4000ffff are left to hypervisors (Intel SDM
 * Vol. 2A "CPUID": "Invalid" there on bare metal; CPUID.1:ECX[31] says one
 * is present). A guest scans them in steps of 0x100 for a signature it
 * knows; Linux stops at the first "XenVMMXenVMM". So Xen's leaves come
 * first, at 0x40000000 (Xen's arch-x86/cpuid.h):
 *   base+0  EAX = highest leaf (base+5), EBX:ECX:EDX = "XenVMMXenVMM"
 *   base+1  EAX = version, major << 16 | minor (as XENVER_version)
 *   base+2  EAX = 1 hypercall page, EBX = the MSR the guest writes it to
 *   base+3  TSC and time: all zero (no TSC scaling, nothing emulated)
 *   base+4  EAX = flags: bit 3, EBX holds the vCPU id (here always 0)
 *   base+5  all zero (no PV features beyond these)
 * and the kit's own signature, "HypatiaHypat", follows at 0x40000100 for
 * guests that want to know it is Hypatia.
 *
 * The hypercall page: a guest writes the guest-physical address of a page
 * to MSR 0x40000000 and the hypervisor fills it with 128 stubs of 32 bytes;
 * stub i is `mov $i, %eax; vmmcall; ret` (VMCALL on Intel), so a guest
 * calls hypercall i with `call page + 32 * i` without knowing the vendor.
 */
#include "domain.h"
#include "emulate.h"
#include "hypercall.h"
#include "memlayout.h"
#include "string.h"
#include "vcpu.h"
#include "vmx.h"
#include "x86.h"

#define HYPERVISOR_LEAVES_END 0x40010000u
#define XEN_CPUID_LAST (XEN_CPUID_BASE + 5)
#define STUB_SIZE 32

static uint32_t le32(const char *s)
{
	return (uint32_t)s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16 | (uint32_t)s[3] << 24;
}

bool xen_cpuid(struct vcpu *v, uint32_t leaf, struct cpuid_regs *r)
{
	if (leaf < XEN_CPUID_BASE || leaf >= HYPERVISOR_LEAVES_END)
		return false;
	*r = (struct cpuid_regs){0};
	switch (leaf) {
	case XEN_CPUID_BASE:
		*r = (struct cpuid_regs){.eax = XEN_CPUID_LAST, .ebx = XEN_CPUID_SIGNATURE_EBX,
					 .ecx = XEN_CPUID_SIGNATURE_ECX, .edx = XEN_CPUID_SIGNATURE_EDX};
		break;
	case XEN_CPUID_BASE + 1:
		r->eax = XEN_VERSION_MAJOR << 16 | XEN_VERSION_MINOR;
		break;
	case XEN_CPUID_BASE + 2:
		r->eax = 1;
		r->ebx = XEN_HYPERCALL_PAGE_MSR;
		break;
	case XEN_CPUID_BASE + 4:
		/* Not XEN_HVM_CPUID_UPCALL_VECTOR (bit 6): that would send Linux
		 * to a per-vCPU vector through the local APIC, with an EOI. */
		r->eax = XEN_CPUID_HVM_VCPU_ID_PRESENT;
		r->ebx = v->id;
		break;
	case HYPATIA_CPUID_BASE:
		*r = (struct cpuid_regs){.eax = HYPATIA_CPUID_BASE, .ebx = le32("Hypa"), .ecx = le32("tiaH"),
					 .edx = le32("ypat")};
		break;
	}
	return true;
}

bool xen_hypercall_page(struct vcpu *v, uint64_t value)
{
	/* Bits 11:0 choose which page of the hypercall area: there is one. */
	uint64_t gpa = value & ~(uint64_t)(PAGE_SIZE - 1);
	if (value % PAGE_SIZE != 0 || gpa >= v->domain->memory_bytes)
		return false;
	bool intel = v->ops == &vmx_vcpu_ops;
	uint8_t page[PAGE_SIZE];
	memset(page, 0xcc, sizeof(page)); /* INT3 between the stubs */
	for (uint32_t i = 0; i < HYPERCALL_PAGE_STUBS; i++) {
		uint8_t *stub = page + i * STUB_SIZE;
		stub[0] = 0xb8; /* mov $i, %eax (zero-extends into RAX) */
		memcpy(stub + 1, &i, 4);
		stub[5] = 0x0f; /* vmmcall 0f 01 d9 (APM Vol. 3), vmcall 0f 01 c1 (SDM Vol. 2B) */
		stub[6] = 0x01;
		stub[7] = intel ? 0xc1 : 0xd9;
		stub[8] = 0xc3; /* ret */
	}
	return domain_write(v->domain, gpa, page, sizeof(page));
}
