/*
 * xstate.c — switching the x87, SSE and AVX registers between vCPUs.
 *
 * The "extended state" (x87 FPU, XMM/YMM registers, MXCSR, and whatever
 * else XCR0 enables) is the one part of a guest's CPU state that neither
 * the trap-and-emulate backend nor VMRUN nor VM entry switches. The
 * hypervisor never uses these registers itself (-mgeneral-regs-only), so
 * during a vCPU's slice they hold that vCPU's values and nobody else's: it
 * is enough to save them when the slice ends and load the next vCPU's
 * before it starts — the scheduler's job (domains_run_all()). Xen and KVM
 * switch lazily, on first use after a switch (CR0.TS, \#NM); eager is
 * simpler and, at one switch per slice, costs nothing that shows.
 *
 * XSAVE/XRSTOR (Intel SDM Vol. 1 §13, AMD APM Vol. 2 §11.5) save and load
 * the components named in both XCR0 and EDX:EAX. XCR0 itself belongs to the
 * guest: an SVM guest writes it directly (XSETBV is not intercepted), a VMX
 * guest's XSETBV always exits and is carried out here. To move every
 * component whatever the guest enabled, XCR0 is set to all of them around
 * the save and the load, and the guest's own value put back last.
 * Processors without XSAVE get FXSAVE/FXRSTOR (x87 and SSE only).
 */
#include "cpu.h"
#include "memlayout.h"
#include "mm.h"
#include "vcpu.h"
#include "x86.h"
#include "xstate.h"

#define CPUID_1_ECX_XSAVE (1u << 26)
#define XCR0_AVX512 (7ull << 5) /* opmask, ZMM_Hi256, Hi16_ZMM: all or none (SDM Vol. 2C XSETBV) */

/* Offsets in the legacy (FXSAVE) region: SDM Vol. 1 Table 10-2. */
#define FXSAVE_FCW 0
#define FXSAVE_MXCSR 24
#define FCW_AFTER_FNINIT 0x037f /* all x87 exceptions masked, 64-bit precision */
#define MXCSR_AFTER_RESET 0x1f80 /* all SIMD exceptions masked, round to nearest */

static bool have_xsave;
static uint64_t all_components; /* every XCR0 bit the CPU supports */
static size_t area_pages = 1;   /* an FXSAVE area is 512 bytes */

static inline uint64_t xgetbv(uint32_t index)
{
	uint32_t lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(index));
	return lo | (uint64_t)hi << 32;
}

static inline void xsetbv(uint32_t index, uint64_t value)
{
	__asm__ volatile("xsetbv" : : "c"(index), "a"((uint32_t)value), "d"((uint32_t)(value >> 32)) : "memory");
}

void xstate_init(void)
{
	write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
	if (!(cpuid(1, 0).ecx & CPUID_1_ECX_XSAVE))
		return;
	write_cr4(read_cr4() | CR4_OSXSAVE);
	/* CPUID.(EAX=0DH,ECX=0): EDX:EAX the XCR0 bits the CPU supports, ECX
	 * the size of an XSAVE area holding all of them (SDM Vol. 2A "CPUID"). */
	struct cpuid_regs r = cpuid(0xd, 0);
	all_components = r.eax | (uint64_t)r.edx << 32;
	area_pages = (r.ecx + PAGE_SIZE - 1) / PAGE_SIZE;
	have_xsave = true;
}

bool xstate_vcpu_init(struct vcpu *v)
{
	paddr_t pa = frame_alloc_contiguous(area_pages);
	if (!pa)
		return false;
	uint8_t *area = phys_to_virt(pa); /* zeroed */
	/* With XSTATE_BV = 0 in the header, XRSTOR puts every component in its
	 * initial state, except MXCSR, which it loads from here (SDM Vol. 1
	 * §13.8.1); FXRSTOR loads everything from here. */
	*(uint16_t *)(area + FXSAVE_FCW) = FCW_AFTER_FNINIT;
	*(uint32_t *)(area + FXSAVE_MXCSR) = MXCSR_AFTER_RESET;
	v->xsave_area = area;
	v->xcr0 = XCR0_X87; /* XCR0's value at reset */
	return true;
}

void xstate_vcpu_free(struct vcpu *v)
{
	if (v->xsave_area)
		frame_free_contiguous(virt_to_phys(v->xsave_area), area_pages);
	v->xsave_area = NULL;
}

static void xcr0_set(uint64_t value)
{
	if (xgetbv(0) != value)
		xsetbv(0, value);
}

void xstate_switch_in(struct vcpu *v)
{
	if (!have_xsave) {
		__asm__ volatile("fxrstor64 %0" : : "m"(*(uint8_t(*)[512])v->xsave_area));
		return;
	}
	xcr0_set(all_components);
	__asm__ volatile("xrstor64 %0"
			 :
			 : "m"(*(uint8_t(*)[PAGE_SIZE])v->xsave_area), "a"((uint32_t)all_components),
			   "d"((uint32_t)(all_components >> 32))
			 : "memory");
	xcr0_set(v->xcr0);
}

void xstate_switch_out(struct vcpu *v)
{
	if (!have_xsave) {
		__asm__ volatile("fxsave64 %0" : "=m"(*(uint8_t(*)[512])v->xsave_area));
		return;
	}
	v->xcr0 = xgetbv(0); /* an SVM guest may have changed it */
	xcr0_set(all_components);
	__asm__ volatile("xsave64 %0"
			 : "=m"(*(uint8_t(*)[PAGE_SIZE])v->xsave_area)
			 : "a"((uint32_t)all_components), "d"((uint32_t)(all_components >> 32))
			 : "memory");
}

bool xstate_guest_xsetbv(struct vcpu *v, uint32_t index, uint64_t value)
{
	if (!have_xsave || index != 0 || !(value & XCR0_X87) || (value & ~all_components) ||
	    ((value & XCR0_AVX) && !(value & XCR0_SSE)) ||
	    ((value & XCR0_AVX512) && ((value & XCR0_AVX512) != XCR0_AVX512 || !(value & XCR0_AVX))))
		return false;
	v->xcr0 = value;
	xsetbv(0, value); /* the guest runs on: its XCR0 is live until xstate_switch_out() */
	return true;
}
