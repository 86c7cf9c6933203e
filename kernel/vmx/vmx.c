/*
 * vmx.c — the Intel VMX backend: guests run unmodified at CPL 0 (lab 3).
 * The twin of kernel/svm/svm.c, section by section.
 *
 * The processor runs the guest from a VMCS (SDM Vol. 3C ch. 24-28) until one
 * of the events we asked for happens, then loads the host state the VMCS
 * names and continues at its host RIP (vmx_exit in vmx_entry.S) with the
 * reason in VMCS_EXIT_REASON. This file turns the VMCS into the common vCPU
 * interface: registers in, a struct vcpu_exit out. Everything the exit
 * *means* is handled once, in kernel/virt/.
 *
 * Where SVM has a structure in memory, VMX has VMREAD/VMWRITE: every field
 * below is reached through its encoding (vmx.h). Where SVM takes the
 * hypervisor's word for what it may intercept, VMX makes it ask: each
 * control field has a capability MSR saying which bits may be 0 and which
 * may be 1 (SDM Vol. 3D Appendix A). VMX runs in Bochs (DESIGN §2); QEMU's
 * TCG has no VMX, and nothing here runs unless CPUID says VMX.
 */
#include "console.h"
#include "cpu.h"
#include "domain.h"
#include "ioport.h"
#include "gdt.h"
#include "memlayout.h"
#include "mm.h"
#include "panic.h"
#include "string.h"
#include "trap.h"
#include "vcpu.h"
#include "vmx_internal.h"
#include "x86.h"
#include "xstate.h"

/* Capability MSRs (SDM Vol. 3D Appendix A). */
#define MSR_IA32_VMX_BASIC 0x480
#define MSR_IA32_VMX_PINBASED_CTLS 0x481
#define MSR_IA32_VMX_EXIT_CTLS 0x483
#define MSR_IA32_VMX_ENTRY_CTLS 0x484
#define MSR_IA32_VMX_CR0_FIXED0 0x486
#define MSR_IA32_VMX_CR0_FIXED1 0x487
#define MSR_IA32_VMX_CR4_FIXED0 0x488
#define MSR_IA32_VMX_CR4_FIXED1 0x489
#define MSR_IA32_VMX_EPT_VPID_CAP 0x48c
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS 0x48d /* the TRUE_* four: only if BASIC bit 55 */
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x48e
#define MSR_IA32_VMX_TRUE_EXIT_CTLS 0x48f
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS 0x490
#define MSR_IA32_VMX_VMFUNC 0x491
#define FEATURE_CONTROL_LOCK (1u << 0)
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX (1u << 2)
#define CR4_VMXE (1ul << 13)
#define CR0_NW (1ul << 29)
#define CR0_CD (1ul << 30)
#define EFER_LMA (1ul << 10)
#define MSR_SYSENTER_CS 0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176

/* The EPT pointer (SDM Vol. 3C §25.6.11); the tables themselves: ept.c. */
#define EPTP_WALK_LENGTH_4 (3ull << 3) /* page-walk length minus one */
#define EPTP_MEMORY_TYPE_WB 6ull

/* Shared by every VMX guest: the VMXON region, I/O bitmaps intercepting
 * every port, the MSR bitmap, and the controls as the CPU allows them. */
static paddr_t vmxon_pa, io_bitmap_pa, msr_bitmap_pa, current_vmcs_pa;
/* Dom0's I/O bitmaps: its disk's ports open (no exits; ioport.c). */
static paddr_t dom0_io_bitmap_pa;
static uint32_t vmcs_revision, pin_controls, proc_controls, proc2_controls, exit_controls, entry_controls;
static uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
static bool invept_all_contexts, unrestricted_guest, shadow_paging_controls, tpr_shadow;

/* The MSRs SVM's VMLOAD/VMSAVE switch and VMX does not (vmx_internal.h). */
static const uint32_t switched_msrs[VMX_SWITCHED_MSRS] = {0xc0000081 /* STAR */, 0xc0000082 /* LSTAR */,
							  0xc0000083 /* CSTAR */, 0xc0000084 /* SFMASK */,
							  MSR_KERNEL_GS_BASE};

int vmx_enter(struct vcpu_regs *regs, int launched);

static inline void write_cr0(uint64_t v) { __asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory"); }
static inline void write_cr2(uint64_t v) { __asm__ volatile("mov %0, %%cr2" : : "r"(v) : "memory"); }

void vmwrite(uint64_t field, uint64_t value)
{
	bool failed;
	__asm__ volatile("vmwrite %2, %1; setna %0" : "=q"(failed) : "r"(field), "rm"(value) : "cc", "memory");
	if (failed)
		panic("vmx: VMWRITE of field 0x%lx failed (error %lu)", field, vmread(VMCS_INSTRUCTION_ERROR));
}

/* VMCLEAR flushes a VMCS to memory and makes it "clear" (launch state:
 * the next entry is VMLAUNCH); VMPTRLD makes it the current one, the VMCS
 * VMREAD/VMWRITE/VMLAUNCH work on (SDM Vol. 3C §24.1). */
static bool vmcs_clear(paddr_t pa)
{
	bool failed;
	__asm__ volatile("vmclear %1; setna %0" : "=q"(failed) : "m"(pa) : "cc", "memory");
	if (current_vmcs_pa == pa)
		current_vmcs_pa = 0;
	return !failed;
}

static bool vmcs_load(paddr_t pa)
{
	bool failed = false;
	if (current_vmcs_pa != pa)
		__asm__ volatile("vmptrld %1; setna %0" : "=q"(failed) : "m"(pa) : "cc", "memory");
	if (!failed)
		current_vmcs_pa = pa;
	return !failed;
}

/* An exit handler that stepped RIP past the instruction (HLT, OUT, ...)
 * completed it: an STI or MOV SS shadow it was in has ended too. */
static void end_interrupt_shadow_if_stepped(struct vcpu *v, struct vmx_state *s)
{
	if (v->regs.rip != s->exit_rip)
		vmwrite(VMCS_GUEST_INTERRUPTIBILITY, 0);
}

/* MSR bitmap (SDM Vol. 3C §25.6.9): one 4 KiB page, four 1 KiB bitmaps —
 * reads of MSRs 0-0x1fff, reads of 0xc0000000-0xc0001fff, then the same two
 * for writes. An MSR outside both ranges always exits. */
static void intercept_msr(uint8_t *bitmap, uint32_t msr)
{
	unsigned base = msr >= 0xc0000000 ? 0x400 : 0;
	unsigned bit = msr & 0x1fff;
	bitmap[base + bit / 8] |= 1u << (bit % 8);
	bitmap[0x800 + base + bit / 8] |= 1u << (bit % 8);
}

/* A control field as the CPU allows it (SDM Vol. 3D §A.3-A.5): the MSR's
 * low half holds the bits that must be 1, its high half the bits that may
 * be 1. False if a bit of @want may not be 1. */
static bool adjust_controls(uint32_t msr, uint32_t want, uint32_t *out)
{
	uint64_t allowed = rdmsr(msr);
	*out = (want | (uint32_t)allowed) & (uint32_t)(allowed >> 32);
	return (*out & want) == want;
}

static bool vmx_capabilities(void)
{
	uint64_t basic = rdmsr(MSR_IA32_VMX_BASIC);
	bool true_msrs = basic >> 55 & 1; /* the TRUE_* MSRs let default-1 bits be 0 */
	vmcs_revision = basic & 0x7fffffff;
	const char *missing = NULL;
	if (!adjust_controls(true_msrs ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS,
			     PIN_EXTERNAL_INTERRUPT_EXITING | PIN_NMI_EXITING, &pin_controls))
		missing = "external-interrupt/NMI exiting";
	else if (!adjust_controls(true_msrs ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS,
				  PROC_USE_TSC_OFFSETTING | PROC_HLT_EXITING | PROC_USE_IO_BITMAPS |
					  PROC_USE_MSR_BITMAPS | PROC_ACTIVATE_SECONDARY,
				  &proc_controls))
		missing = "HLT exiting, I/O or MSR bitmaps";
	else if (!adjust_controls(MSR_IA32_VMX_PROCBASED_CTLS2, PROC2_ENABLE_EPT, &proc2_controls))
		missing = "EPT";
	else if (!adjust_controls(true_msrs ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS,
				  EXIT_HOST_ADDRESS_SPACE_SIZE | EXIT_SAVE_EFER | EXIT_LOAD_EFER, &exit_controls))
		missing = "a 64-bit host or EFER switching on VM exit";
	else if (!adjust_controls(true_msrs ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS,
				  ENTRY_IA32E_MODE_GUEST | ENTRY_LOAD_EFER, &entry_controls))
		missing = "64-bit guests or EFER loading on VM entry";
	/* Optional, and on wherever allowed: without these two controls RDTSCP
	 * and INVPCID are #UD in the guest (SDM Vol. 3C Table 25-7), though
	 * CPUID, which the guest reads from the host, offers them. Linux uses
	 * RDTSCP as an ordered RDTSC and INVPCID to flush global pages. */
	uint32_t optional;
	if (!missing && adjust_controls(MSR_IA32_VMX_PROCBASED_CTLS2, proc2_controls | PROC2_ENABLE_RDTSCP, &optional))
		proc2_controls = optional;
	if (!missing && adjust_controls(MSR_IA32_VMX_PROCBASED_CTLS2, proc2_controls | PROC2_ENABLE_INVPCID, &optional))
		proc2_controls = optional;
	uint64_t ept_caps = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
	if (!missing && (!(ept_caps & (1u << 6)) || !(ept_caps & (1u << 14))))
		missing = "4-level EPT with write-back tables";
	if (missing) {
		kprintf("[hv] vmx: this CPU's VMX lacks %s\n", missing);
		return false;
	}
	invept_all_contexts = (ept_caps & (1ull << 20)) && (ept_caps & (1ull << 26));
	/* Optional: "unrestricted guest" (paging and protection off inside
	 * the guest: a multiboot kernel's entry), and what shadow paging
	 * intercepts (CR3 loads and stores, INVLPG). */
	uint32_t unused;
	unrestricted_guest = adjust_controls(MSR_IA32_VMX_PROCBASED_CTLS2, PROC2_ENABLE_EPT | PROC2_UNRESTRICTED_GUEST,
					     &unused);
	shadow_paging_controls =
		adjust_controls(true_msrs ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS,
				proc_controls | PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING | PROC_INVLPG_EXITING,
				&unused);
	/* Optional: the TPR shadow, so that the guest's CR8 is its APIC's TPR
	 * (SDM Vol. 3A §11.8.6.1) without an exit per MOV and without reaching
	 * the host's own TPR (SDM Vol. 3C §30.1.1). */
	tpr_shadow = adjust_controls(true_msrs ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS,
				     proc_controls | PROC_USE_TPR_SHADOW, &unused);
	if (tpr_shadow)
		proc_controls |= PROC_USE_TPR_SHADOW;
	/* Optional: PAUSE exiting, so that a guest spinning for its timer gets
	 * it on time (svm.c, pause_exit). */
	if (adjust_controls(true_msrs ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS,
			    proc_controls | PROC_PAUSE_EXITING, &unused))
		proc_controls |= PROC_PAUSE_EXITING;
	/* CR3 exiting is default-1 without the TRUE MSRs: allow any CR3. */
	proc_controls &= ~(true_msrs ? PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING : 0);
	cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	return true;
}

bool vmx_enable(void)
{
	if (!cpu.vmx || !cpu.ept) {
		kprintf("[hv] vmx: this CPU has %s; the vmx backend needs VMX with EPT\n",
			cpu.vmx ? "VMX without EPT" : "no VMX");
		return false;
	}
	if (vmxon_pa)
		return true;
	/* IA32_FEATURE_CONTROL (SDM Vol. 3C §24.7): once the firmware locks it,
	 * VMXON outside SMX works only if it left bit 2 set; unlocked, we set
	 * and lock it ourselves. */
	uint64_t feature_control = rdmsr(MSR_IA32_FEATURE_CONTROL);
	if (feature_control & FEATURE_CONTROL_LOCK) {
		if (!(feature_control & FEATURE_CONTROL_VMX_OUTSIDE_SMX)) {
			kprintf("[hv] vmx: disabled by the firmware (IA32_FEATURE_CONTROL locked)\n");
			return false;
		}
	} else {
		wrmsr(MSR_IA32_FEATURE_CONTROL,
		      feature_control | FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_OUTSIDE_SMX);
	}
	if (!vmx_capabilities())
		return false;
	/* In VMX operation CR0 and CR4 must keep the bits FIXED0 sets and may
	 * only have the bits FIXED1 allows (SDM Vol. 3C §24.8): NE, and VMXE.
	 * VM entry leaves CR0.CD and CR0.NW as they are (SDM §27.3.2.1), so
	 * the guest would see the host's: Bochs' BIOS and GRUB leave the caches
	 * disabled (CD = NW = 1), where QEMU's firmware enables them. Enable
	 * them, as the native guest finds them. */
	write_cr0(((read_cr0() | cr0_fixed0) & cr0_fixed1) & ~(CR0_CD | CR0_NW));
	write_cr4((read_cr4() | CR4_VMXE | cr4_fixed0) & cr4_fixed1);

	vmxon_pa = frame_alloc();
	io_bitmap_pa = frame_alloc_contiguous(2);
	dom0_io_bitmap_pa = frame_alloc_contiguous(2);
	msr_bitmap_pa = frame_alloc();
	if (!vmxon_pa || !io_bitmap_pa || !dom0_io_bitmap_pa || !msr_bitmap_pa)
		panic("vmx: out of memory at boot");
	*(uint32_t *)phys_to_virt(vmxon_pa) = vmcs_revision;
	bool failed;
	__asm__ volatile("vmxon %1; setna %0" : "=q"(failed) : "m"(vmxon_pa) : "cc", "memory");
	if (failed) {
		kprintf("[hv] vmx: VMXON failed\n");
		frame_free(vmxon_pa);
		vmxon_pa = 0;
		return false;
	}
	memset(phys_to_virt(io_bitmap_pa), 0xff, 2 * PAGE_SIZE);
	memset(phys_to_virt(dom0_io_bitmap_pa), 0xff, 2 * PAGE_SIZE);
	ioport_open_passthrough(phys_to_virt(dom0_io_bitmap_pa)); /* bitmap A covers ports 0-0x7fff */
	uint8_t *msr_bitmap = phys_to_virt(msr_bitmap_pa);
	const uint32_t intercepted[] = {0x10 /* TSC */, 0x1b /* APIC base */, MSR_EFER,
					MSR_IA32_FEATURE_CONTROL};
	for (size_t i = 0; i < ARRAY_SIZE(intercepted); i++)
		intercept_msr(msr_bitmap, intercepted[i]);
	/* The guest's local APIC is emulated (dev/lapic.c): its TSC deadline
	 * and its x2APIC registers must not reach the host's. */
	intercept_msr(msr_bitmap, 0x6e0 /* IA32_TSC_DEADLINE */);
	for (uint32_t msr = 0x800; msr <= 0x8ff; msr++)
		intercept_msr(msr_bitmap, msr);
	for (uint32_t msr = MSR_IA32_VMX_BASIC; msr <= MSR_IA32_VMX_VMFUNC; msr++)
		intercept_msr(msr_bitmap, msr); /* the guest sees no VMX */
	kprintf("[hv] vmx: enabled (VMXON region at 0x%lx, VMCS revision %u)\n", vmxon_pa, vmcs_revision);
	return true;
}

/* --- the VMCS ------------------------------------------------------------------------- */

/* The host state a VM exit loads (SDM Vol. 3C §25.5, §28.5): this CPU's
 * segments, descriptor tables, TSS and control registers as they are now. */
static void write_host_state(void)
{
	struct PACKED {
		uint16_t limit;
		uint64_t base;
	} gdtr, idtr;
	uint16_t tr;
	__asm__ volatile("sgdt %0; sidt %1; str %2" : "=m"(gdtr), "=m"(idtr), "=r"(tr));
	const uint8_t *tss_descriptor = (const uint8_t *)gdtr.base + tr;
	uint64_t tr_base = *(const uint16_t *)(tss_descriptor + 2) | (uint64_t)tss_descriptor[4] << 16 |
			   (uint64_t)tss_descriptor[7] << 24 | (uint64_t)*(const uint32_t *)(tss_descriptor + 8) << 32;
	vmwrite(VMCS_HOST_ES_SELECTOR + 2, GDT_KERNEL_CS);
	vmwrite(VMCS_HOST_ES_SELECTOR + 4, GDT_KERNEL_DS); /* SS */
	vmwrite(VMCS_HOST_ES_SELECTOR, GDT_KERNEL_DS);
	vmwrite(VMCS_HOST_ES_SELECTOR + 6, GDT_KERNEL_DS); /* DS */
	vmwrite(VMCS_HOST_ES_SELECTOR + 8, 0);             /* FS: its base is what counts */
	vmwrite(VMCS_HOST_ES_SELECTOR + 10, 0);            /* GS */
	vmwrite(VMCS_HOST_ES_SELECTOR + 12, tr);           /* TR */
	vmwrite(VMCS_HOST_CR0, read_cr0());
	vmwrite(VMCS_HOST_CR4, read_cr4());
	vmwrite(VMCS_HOST_FS_BASE, rdmsr(MSR_FS_BASE));
	vmwrite(VMCS_HOST_GS_BASE, rdmsr(MSR_GS_BASE));
	vmwrite(VMCS_HOST_TR_BASE, tr_base);
	vmwrite(VMCS_HOST_GDTR_BASE, gdtr.base);
	vmwrite(VMCS_HOST_IDTR_BASE, idtr.base);
	vmwrite(VMCS_HOST_SYSENTER_CS, rdmsr(MSR_SYSENTER_CS));
	vmwrite(VMCS_HOST_SYSENTER_ESP, rdmsr(MSR_SYSENTER_ESP));
	vmwrite(VMCS_HOST_SYSENTER_EIP, rdmsr(MSR_SYSENTER_EIP));
	vmwrite(VMCS_HOST_EFER, rdmsr(MSR_EFER));
}

static bool vmx_setup(struct vcpu *v)
{
	struct domain *d = v->domain;
	struct vmx_state *s = kzalloc(sizeof(*s));
	if (!s || !vmx_enable())
		return false;
	v->backend = s;
	if (d->paging == PAGING_SHADOW && !shadow_paging_controls) {
		kprintf("[hv] vmx: this CPU's VMX cannot intercept CR3 loads and INVLPG: no shadow paging\n");
		return false;
	}
	s->vmcs_pa = frame_alloc();
	s->guest_msrs_pa = frame_alloc(); /* guest MSRs, then the host's at +2048 */
	s->virtual_apic_pa = tpr_shadow ? frame_alloc() : 0;
	if (!s->vmcs_pa || !s->guest_msrs_pa || (tpr_shadow && !s->virtual_apic_pa))
		return false;
	if (tpr_shadow)
		memset(phys_to_virt(s->virtual_apic_pa), 0, PAGE_SIZE);
	*(uint32_t *)phys_to_virt(s->vmcs_pa) = vmcs_revision;
	if (!vmcs_clear(s->vmcs_pa) || !vmcs_load(s->vmcs_pa)) {
		kprintf("[hv] vmx: VMCLEAR/VMPTRLD of a new VMCS failed\n");
		return false;
	}
	struct vmx_msr_entry *msrs = phys_to_virt(s->guest_msrs_pa);
	for (unsigned i = 0; i < VMX_SWITCHED_MSRS; i++)
		msrs[i].index = msrs[VMX_SWITCHED_MSRS + i].index = switched_msrs[i];

	vmwrite(VMCS_PIN_CONTROLS, pin_controls);
	vmwrite(VMCS_EXIT_CONTROLS, exit_controls);
	vmwrite(VMCS_ENTRY_CONTROLS, entry_controls);
	vmwrite(VMCS_CR3_TARGET_COUNT, 0);
	paddr_t io_bitmaps = v->domain->privileged ? dom0_io_bitmap_pa : io_bitmap_pa;
	vmwrite(VMCS_IO_BITMAP_A, io_bitmaps);
	vmwrite(VMCS_IO_BITMAP_B, io_bitmaps + PAGE_SIZE);
	vmwrite(VMCS_MSR_BITMAP, msr_bitmap_pa);
	vmwrite(VMCS_TSC_OFFSET, 0);
	if (tpr_shadow) {
		vmwrite(VMCS_VIRTUAL_APIC_PAGE, s->virtual_apic_pa);
		vmwrite(VMCS_TPR_THRESHOLD, 0); /* never exit for a lowered TPR */
	}
	vmwrite(VMCS_ENTRY_MSR_LOAD_ADDR, s->guest_msrs_pa);
	vmwrite(VMCS_ENTRY_MSR_LOAD_COUNT, VMX_SWITCHED_MSRS);
	vmwrite(VMCS_EXIT_MSR_STORE_ADDR, s->guest_msrs_pa);
	vmwrite(VMCS_EXIT_MSR_STORE_COUNT, VMX_SWITCHED_MSRS);
	vmwrite(VMCS_EXIT_MSR_LOAD_ADDR, s->guest_msrs_pa + VMX_SWITCHED_MSRS * sizeof(*msrs));
	vmwrite(VMCS_EXIT_MSR_LOAD_COUNT, VMX_SWITCHED_MSRS);
	vmwrite(VMCS_PF_ERROR_MASK, 0); /* with the bitmap's bit 14: every #PF exits (SDM §25.6.3) */
	vmwrite(VMCS_PF_ERROR_MATCH, 0);
	/* The CR0/CR4 bits VMX fixes belong to the host: the guest reads its
	 * own idea of them from the read shadows, and a MOV that would change
	 * one of them exits (SDM Vol. 3C §25.6.6). With unrestricted guest, PE
	 * and PG are the guest's own (§27.3.1.1). */
	s->cr0_fixed = cr0_fixed0;
	s->cr4_fixed = cr4_fixed0;
	if (d->paging == PAGING_NESTED) {
		/* The EPT is the domain's (ept.c), filled on first touch. */
		s->unrestricted = unrestricted_guest;
		s->cr0_fixed = cr0_fixed0 & ~(s->unrestricted ? CR0_PE | CR0_PG : 0);
		vmwrite(VMCS_PROC_CONTROLS, proc_controls);
		vmwrite(VMCS_SECONDARY_CONTROLS, proc2_controls | (s->unrestricted ? PROC2_UNRESTRICTED_GUEST : 0));
		vmwrite(VMCS_EPT_POINTER, d->pml4 | EPTP_WALK_LENGTH_4 | EPTP_MEMORY_TYPE_WB);
		vmwrite(VMCS_EXCEPTION_BITMAP, 0); /* the guest's IDT takes its own exceptions */
		s->cr0_mask = s->cr0_fixed | ~cr0_fixed1;
		s->cr4_mask = s->cr4_fixed | ~cr4_fixed1;
	} else {
		/* Shadow paging (lab 2's MMU), EPT off: the CPU walks the shadow,
		 * so every CR3 load and store, every CR0/CR4 change (all bits
		 * owned by the host), INVLPG and #PF come to us. */
		vmwrite(VMCS_PROC_CONTROLS, proc_controls | PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING |
						    PROC_INVLPG_EXITING);
		vmwrite(VMCS_SECONDARY_CONTROLS, proc2_controls & ~PROC2_ENABLE_EPT);
		vmwrite(VMCS_EXCEPTION_BITMAP, 1u << VEC_PF);
		s->cr0_mask = ~0ull;
		s->cr4_mask = ~0ull;
	}
	vmwrite(VMCS_CR0_MASK, s->cr0_mask);
	vmwrite(VMCS_CR4_MASK, s->cr4_mask);
	vmwrite(VMCS_CR0_READ_SHADOW, v->cr0);
	vmwrite(VMCS_CR4_READ_SHADOW, v->cr4);
	write_host_state();
	if (invept_all_contexts) { /* a recycled EPT root must not find old translations */
		struct {
			uint64_t eptp, reserved;
		} descriptor = {0, 0};
		__asm__ volatile("invept %0, %1" : : "m"(descriptor), "r"(2ull) : "cc", "memory");
	}
	vmx_init_guest_state(v, s);
	return true;
}

static void vmx_teardown(struct vcpu *v)
{
	struct vmx_state *s = v->backend;
	if (s) {
		if (s->vmcs_pa) {
			vmcs_clear(s->vmcs_pa);
			frame_free(s->vmcs_pa);
		}
		if (s->guest_msrs_pa)
			frame_free(s->guest_msrs_pa);
		if (s->virtual_apic_pa)
			frame_free(s->virtual_apic_pa);
		kfree(s);
	}
	v->backend = NULL;
}

/* An event that was being delivered when the exit happened must not be
 * lost (SDM Vol. 3C §28.2.4): queue it again, with its error code and, for
 * software events, its instruction length. Only the valid bit makes it real. */
static void requeue_interrupted_event(void)
{
	uint32_t info = (uint32_t)vmread(VMCS_IDT_VECTORING_INFO);
	if (!(info & EVENT_VALID))
		return;
	vmwrite(VMCS_ENTRY_INTR_INFO, info & ~(1u << 12)); /* bit 12 is not defined for entry */
	if (info & EVENT_ERROR_VALID)
		vmwrite(VMCS_ENTRY_EXCEPTION_ERROR, vmread(VMCS_IDT_VECTORING_ERROR));
	if ((info & EVENT_TYPE_MASK) >= EVENT_TYPE_SOFT_INTR)
		vmwrite(VMCS_ENTRY_INSTRUCTION_LEN, vmread(VMCS_EXIT_INSTRUCTION_LEN));
}

/* XSETBV exits whatever the controls say (SDM Vol. 3C §26.1.2), after the
 * guest's CR4.OSXSAVE and CPL 0 were checked (§26.1.1): the hypervisor
 * carries it out for the guest (xstate.c), or raises the #GP the hardware
 * would for a value XCR0 cannot take. */
static void xsetbv_exit(struct vcpu *v)
{
	uint64_t value = (uint32_t)v->regs.rax | v->regs.rdx << 32;
	v->exit = (struct vcpu_exit){.reason = VCPU_EXIT_NONE, .next_rip = v->regs.rip};
	if (!xstate_guest_xsetbv(v, (uint32_t)v->regs.rcx, value)) {
		vmx_inject_exception(v, VEC_GP, true, 0);
		return;
	}
	v->regs.rip += vmread(VMCS_EXIT_INSTRUCTION_LEN);
}

/* PAUSE: a spin-wait loop, often for the guest's own timer (svm.c's
 * pause_exit says why it exits); only the step. */
static void pause_exit(struct vcpu *v)
{
	v->exit = (struct vcpu_exit){.reason = VCPU_EXIT_NONE, .next_rip = v->regs.rip};
	v->regs.rip += vmread(VMCS_EXIT_INSTRUCTION_LEN);
}

static void vmx_run(struct vcpu *v)
{
	struct vmx_state *s = v->backend;
	if (!vmcs_load(s->vmcs_pa)) {
		domain_crash(v->domain, "VMPTRLD of its VMCS failed");
		v->exit = (struct vcpu_exit){.reason = VCPU_EXIT_NONE};
		return;
	}
	end_interrupt_shadow_if_stepped(v, s);
	bool shadow = v->domain->paging == PAGING_SHADOW;
	vmwrite(VMCS_GUEST_RSP, v->regs.rsp);
	vmwrite(VMCS_GUEST_RIP, v->regs.rip);
	vmwrite(VMCS_GUEST_RFLAGS, v->regs.rflags);
	/* The control registers as the guest believes them (an emulated MOV
	 * to CRn may have changed them) in the read shadows; the real ones with
	 * the bits VMX fixes and, under shadow paging, on the shadow root with
	 * WP forced, so read-only shadow entries (D-bit tracking) hold at CPL 0. */
	vmwrite(VMCS_CR0_READ_SHADOW, v->cr0);
	vmwrite(VMCS_CR4_READ_SHADOW, v->cr4);
	vmwrite(VMCS_GUEST_CR0, (v->cr0 | s->cr0_fixed | (shadow ? CR0_WP : 0)) & cr0_fixed1);
	vmwrite(VMCS_GUEST_CR4, (v->cr4 | s->cr4_fixed) & cr4_fixed1);
	vmwrite(VMCS_GUEST_CR3, shadow ? v->domain->pml4 : v->cr3);
	/* What an intercepted WRMSR changed (kernel/virt/msr.c). The "IA-32e
	 * mode guest" entry control must equal EFER.LMA (SDM §27.3.1.1): a
	 * multiboot kernel starts outside long mode and enters it itself. */
	vmwrite(VMCS_GUEST_EFER, v->efer);
	vmwrite(VMCS_TSC_OFFSET, v->msr.tsc_offset);
	/* CR8 is the APIC's TPR: the TPR shadow holds it while the guest runs. */
	volatile uint8_t *vtpr = s->virtual_apic_pa ? (uint8_t *)phys_to_virt(s->virtual_apic_pa) + 0x80 : NULL;
	if (vtpr)
		*vtpr = (uint8_t)v->lapic.tpr;
	uint32_t entry = (uint32_t)vmread(VMCS_ENTRY_CONTROLS);
	vmwrite(VMCS_ENTRY_CONTROLS,
		v->efer & EFER_LMA ? entry | ENTRY_IA32E_MODE_GUEST : entry & ~ENTRY_IA32E_MODE_GUEST);
	vmwrite(VMCS_HOST_CR3, read_cr3());
	struct vmx_msr_entry *host_msrs = (struct vmx_msr_entry *)phys_to_virt(s->guest_msrs_pa) + VMX_SWITCHED_MSRS;
	for (unsigned i = 0; i < VMX_SWITCHED_MSRS; i++)
		host_msrs[i].value = rdmsr(switched_msrs[i]);

	/* Interrupts off from here to after the exit: a physical interrupt
	 * during the guest makes it exit (external-interrupt exiting, not
	 * acknowledged) and waits until the STI below, which runs the
	 * hypervisor's handler. VMX does not switch CR2: we do. */
	/* lab 4: a grant (grant_table.c) or a foreign mapping (domctl.c) left the EPT; forget it */
	bool flush = grant_take_tlb_flush(v->domain) | v->domain->flush_nested;
	v->domain->flush_nested = false;
	if (flush && invept_all_contexts)
		__asm__ volatile("invept %0, %1" : : "m"((struct { uint64_t eptp, reserved; }){0, 0}), "r"(2ull) : "cc", "memory");
	cli();
	write_cr2(v->cr2);
	int failed = vmx_enter(&v->regs, s->launched);
	v->cr2 = read_cr2();
	sti(); /* the timer tick that made the guest exit is taken here */
	__asm__ volatile("nop");
	cli();
	if (failed) {
		/* VMfailValid: the VMCS says why (SDM Vol. 3C §31.4, "VM-Instruction Error Numbers"). */
		domain_crash(v->domain, "%s failed: VM-instruction error %lu", s->launched ? "VMRESUME" : "VMLAUNCH",
			     failed == 2 ? vmread(VMCS_INSTRUCTION_ERROR) : 0);
		v->exit = (struct vcpu_exit){.reason = VCPU_EXIT_NONE};
		return;
	}
	s->launched = true;

	v->regs.rsp = vmread(VMCS_GUEST_RSP);
	v->regs.rip = vmread(VMCS_GUEST_RIP);
	v->regs.rflags = vmread(VMCS_GUEST_RFLAGS);
	v->cpl = (vmread(VMCS_GUEST_ES_ACCESS + 2 * VMX_SS) >> 5) & 3; /* SS.DPL is the CPL (SDM Vol. 3C §25.4.1) */
	s->exit_rip = v->regs.rip;
	v->cr0 = (vmread(VMCS_GUEST_CR0) & ~s->cr0_mask) | (vmread(VMCS_CR0_READ_SHADOW) & s->cr0_mask);
	if (!shadow) /* under shadow paging the guest's CR3 is ours, changed only by intercepts */
		v->cr3 = vmread(VMCS_GUEST_CR3);
	v->cr4 = (vmread(VMCS_GUEST_CR4) & ~s->cr4_mask) | (vmread(VMCS_CR4_READ_SHADOW) & s->cr4_mask);
	v->efer = vmread(VMCS_GUEST_EFER);
	if (vtpr && *vtpr != (uint8_t)v->lapic.tpr)
		v->lapic.tpr = *vtpr;
	requeue_interrupted_event();
	uint32_t reason = (uint32_t)vmread(VMCS_EXIT_REASON);
	if (reason == VMX_EXIT_XSETBV)
		xsetbv_exit(v); /* none of the test guests' exits: handled here, not in vmcs.c */
	else if (reason == VMX_EXIT_PAUSE)
		pause_exit(v);
	else
		vmx_decode_exit(v, s);
}

void vmx_inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error)
{
	struct vmx_state *s = v->backend;
	vmcs_load(s->vmcs_pa);
	vmwrite(VMCS_ENTRY_INTR_INFO, vector | EVENT_TYPE_EXCEPTION | EVENT_VALID | (has_error ? EVENT_ERROR_VALID : 0));
	if (has_error)
		vmwrite(VMCS_ENTRY_EXCEPTION_ERROR, error);
}

void vmx_close_interrupt_window(struct vmx_state *s)
{
	vmwrite(VMCS_PROC_CONTROLS, vmread(VMCS_PROC_CONTROLS) & ~PROC_INTERRUPT_WINDOW_EXITING);
	s->window_requested = false;
}

/* Deliver a pending virtual interrupt if the guest can take one now (IF = 1,
 * no interrupt shadow, no event already queued); otherwise ask the CPU to
 * exit as soon as it can (interrupt-window exiting: SDM Vol. 3C §26.7.5). */
static void vmx_deliver_pending(struct vcpu *v)
{
	struct vmx_state *s = v->backend;
	if (v->lapic.nmi_pending) {
		if (!vmcs_load(s->vmcs_pa) || (vmread(VMCS_ENTRY_INTR_INFO) & EVENT_VALID) ||
		    (vmread(VMCS_GUEST_INTERRUPTIBILITY) & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS | INTERRUPTIBILITY_NMI)))
			return; /* an NMI now would fail the entry checks (SDM §27.3.1.5): at a later exit */
		/* An NMI from the APIC (ICR, LINT1): taken whatever IF says; the
		 * injection blocks further NMIs until the handler's IRET (SDM Vol. 3C §27.6.1.2). */
		vlapic_take_nmi(v);
		vmwrite(VMCS_ENTRY_INTR_INFO, VEC_NMI | EVENT_TYPE_NMI | EVENT_VALID);
		v->halted = false;
		return;
	}
	enum vcpu_interrupt_source source;
	int vector = vcpu_pending_interrupt(v, &source);
	if (vector < 0)
		return;
	if (!vmcs_load(s->vmcs_pa))
		return;
	end_interrupt_shadow_if_stepped(v, s);
	bool can_take = (v->regs.rflags & RFLAGS_IF) &&
			!(vmread(VMCS_GUEST_INTERRUPTIBILITY) & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS)) &&
			!(vmread(VMCS_ENTRY_INTR_INFO) & EVENT_VALID);
	if (!can_take) {
		if (!s->window_requested) {
			vmwrite(VMCS_PROC_CONTROLS, vmread(VMCS_PROC_CONTROLS) | PROC_INTERRUPT_WINDOW_EXITING);
			s->window_requested = true;
		}
		return;
	}
	vcpu_acknowledge_interrupt(v, source, vector);
	vmwrite(VMCS_ENTRY_INTR_INFO, (uint32_t)vector | EVENT_TYPE_INTR | EVENT_VALID);
	v->halted = false;
}

bool vmx_unrestricted_guest(void)
{
	return unrestricted_guest;
}

void vmx_enter_protected_mode(struct vcpu *v)
{
	struct vmx_state *s = v->backend;
	if (!vmcs_load(s->vmcs_pa))
		return;
	/* Flat 4 GiB segments, 32-bit code (D=1, L=0), paging off (spec §3.2);
	 * the access rights in VMX's format (vmx_internal.h). */
	set_segment(VMX_CS, 0x08, 0xc09b, 0xffffffff, 0);
	set_segment(VMX_SS, 0x10, 0xc093, 0xffffffff, 0);
	set_segment(VMX_DS, 0x10, 0xc093, 0xffffffff, 0);
	set_segment(VMX_ES, 0x10, 0xc093, 0xffffffff, 0);
	set_segment(VMX_FS, 0x10, 0xc093, 0xffffffff, 0);
	set_segment(VMX_GS, 0x10, 0xc093, 0xffffffff, 0);
	/* PE, ET — and NE: VMX keeps NE set in the real CR0, so a guest MOV
	 * changing it exits; the spec leaves the other bits undefined, and the
	 * shim's own CR0 load then goes to long mode without one. */
	v->cr0 = CR0_PE | (1ul << 4) | (1ul << 5);
	v->cr3 = 0;
	v->cr4 = 0;
	v->efer = 0; /* entry control "IA-32e mode guest" follows LMA: vmx_run() */
}

void vmx_enter_long_mode(struct vcpu *v, uint64_t entry, uint16_t code_selector, uint16_t data_selector,
			 uint64_t gdt_base, uint16_t gdt_limit)
{
	struct vmx_state *s = v->backend;
	if (!vmcs_load(s->vmcs_pa))
		return;
	/* The descriptors the guest's GDT holds at those selectors, as the CPU
	 * would have cached them after loading them: 64-bit code (L = 1, D = 0),
	 * flat writable data; the access rights in VMX's format (SDM Vol. 3C
	 * §25.4.1: type, S, DPL, P in bits 7:0, AVL, L, D/B, G in 15:12). */
	set_segment(VMX_CS, code_selector, 0xa09b, 0xffffffff, 0);
	set_segment(VMX_SS, data_selector, 0xc093, 0xffffffff, 0);
	set_segment(VMX_DS, data_selector, 0xc093, 0xffffffff, 0);
	set_segment(VMX_ES, data_selector, 0xc093, 0xffffffff, 0);
	set_segment(VMX_FS, data_selector, 0xc093, 0xffffffff, 0);
	set_segment(VMX_GS, data_selector, 0xc093, 0xffffffff, 0);
	vmwrite(VMCS_GUEST_GDTR_BASE, gdt_base);
	vmwrite(VMCS_GUEST_GDTR_LIMIT, gdt_limit);
	/* Long mode with paging: the vCPU was created so (PE, PG, PAE, EFER.LME
	 * and LMA: the guest-image contract), on the tables at v->cr3. vmx_run()
	 * writes CR0, CR3, CR4 and EFER at every entry, and sets the "IA-32e
	 * mode guest" entry control from EFER.LMA (SDM §27.3.1.1). */
	v->cr0 |= CR0_PE | CR0_PG;
	v->cr4 |= CR4_PAE;
	v->efer |= EFER_LME | EFER_LMA;
	v->regs.rip = entry;
}

const struct vcpu_ops vmx_vcpu_ops = {
	.name = "vmx",
	.setup = vmx_setup,
	.run = vmx_run,
	.deliver_pending = vmx_deliver_pending,
	.inject_exception = vmx_inject_exception,
	.teardown = vmx_teardown,
};
