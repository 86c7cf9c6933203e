/*
 * svm.c — the AMD SVM backend: guests run unmodified at CPL 0 (lab 3).
 *
 * The processor runs the guest from a VMCB (APM Vol. 2 ch. 15) until one of
 * the events we intercept happens, then returns to the instruction after
 * our VMRUN with the reason in EXITCODE. This file turns the VMCB into the
 * common vCPU interface: registers in, a struct vcpu_exit out. Everything
 * the exit *means* is handled once, in kernel/virt/.
 *
 * QEMU's TCG emulates SVM with nested paging but without next-RIP saving or
 * decode assists (DESIGN §2): the RIP after CPUID, RDMSR, HLT and VMMCALL is
 * computed here from their fixed encodings; IOIO gives it in EXITINFO2.
 */
#include "console.h"
#include "cpu.h"
#include "decode.h"
#include "domain.h"
#include "emulate.h"
#include "ioport.h"
#include "memlayout.h"
#include "mm.h"
#include "panic.h"
#include "string.h"
#include "svm_internal.h"
#include "trap.h"
#include "vcpu.h"
#include "x86.h"

#define MSR_VM_CR 0xc0010114
#define MSR_VM_HSAVE_PA 0xc0010117
#define IOPM_PAGES 3  /* 12 KiB: one bit per port, 64 Ki ports + 1 page (APM §15.10.1) */
#define MSRPM_PAGES 2 /* 8 KiB: two bits (read, write) per MSR in three ranges (APM §15.11) */

/* Shared by every SVM guest: intercept every port; intercept only the MSRs
 * that would reach the host or reveal SVM. */
static paddr_t iopm_pa, msrpm_pa, host_save_area_pa;
/* Dom0's: the same, with its disk's ports open (no exits; ioport.c). */
static paddr_t dom0_iopm_pa;

void svm_vmrun(uint64_t vmcb_pa, struct vcpu_regs *regs, uint64_t host_state_pa);

/* An exit handler that stepped RIP past the instruction (HLT, OUT, ...)
 * completed it: an STI or MOV SS shadow it was in has ended too. */
static void end_interrupt_shadow_if_stepped(struct vcpu *v, struct svm_state *s)
{
	if (v->regs.rip != s->exit_rip)
		*vmcb_u64(s, VMCB_INTERRUPT_SHADOW) = 0;
}

/* MSRPM: MSRs 0-0x1fff at byte 0, 0xc0000000-0xc0001fff at 0x800,
 * 0xc0010000-0xc0011fff at 0x1000; bit 2n = read, 2n+1 = write. */
static void intercept_msr(uint8_t *msrpm, uint32_t msr)
{
	unsigned base = msr >= 0xc0010000 ? 0x1000 : msr >= 0xc0000000 ? 0x800 : 0;
	unsigned bit = 2 * (msr & 0x1fff);
	msrpm[base + bit / 8] |= 3u << (bit % 8);
}

bool svm_enable(void)
{
	if (!cpu.svm || !cpu.npt) {
		kprintf("[hv] svm: this CPU has %s; the svm backend needs SVM with nested paging\n",
			cpu.svm ? "SVM without NPT" : "no SVM");
		return false;
	}
	if (iopm_pa)
		return true;
	/* VM_CR.SVMDIS set by firmware means SVM is locked off (APM §15.4). */
	if (rdmsr(MSR_VM_CR) & (1u << 4)) {
		kprintf("[hv] svm: disabled by the firmware (VM_CR.SVMDIS)\n");
		return false;
	}
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
	host_save_area_pa = frame_alloc();
	iopm_pa = frame_alloc_contiguous(IOPM_PAGES);
	dom0_iopm_pa = frame_alloc_contiguous(IOPM_PAGES);
	msrpm_pa = frame_alloc_contiguous(MSRPM_PAGES);
	if (!host_save_area_pa || !iopm_pa || !dom0_iopm_pa || !msrpm_pa)
		panic("svm: out of memory at boot");
	wrmsr(MSR_VM_HSAVE_PA, host_save_area_pa);
	memset(phys_to_virt(iopm_pa), 0xff, IOPM_PAGES * PAGE_SIZE);
	memset(phys_to_virt(dom0_iopm_pa), 0xff, IOPM_PAGES * PAGE_SIZE);
	ioport_open_passthrough(phys_to_virt(dom0_iopm_pa));
	uint8_t *msrpm = phys_to_virt(msrpm_pa);
	const uint32_t intercepted[] = {0x10 /* TSC */, 0x1b /* APIC base */, MSR_EFER,
					MSR_VM_CR, 0xc0010115, 0xc0010116, MSR_VM_HSAVE_PA};
	for (size_t i = 0; i < ARRAY_SIZE(intercepted); i++)
		intercept_msr(msrpm, intercepted[i]);
	/* The guest's local APIC is emulated (dev/lapic.c): its TSC deadline
	 * and its x2APIC registers must not reach the host's. */
	intercept_msr(msrpm, 0x6e0 /* IA32_TSC_DEADLINE */);
	for (uint32_t msr = 0x800; msr <= 0x8ff; msr++)
		intercept_msr(msrpm, msr);
	kprintf("[hv] svm: enabled (EFER.SVME, host save area at 0x%lx)\n", host_save_area_pa);
	return true;
}

static bool svm_setup(struct vcpu *v)
{
	struct domain *d = v->domain;
	struct svm_state *s = kzalloc(sizeof(*s));
	if (!s || !svm_enable())
		return false;
	v->backend = s;
	s->vmcb_pa = frame_alloc();
	s->host_state_pa = frame_alloc();
	if (!s->vmcb_pa || !s->host_state_pa)
		return false;
	s->vmcb = phys_to_virt(s->vmcb_pa);

	*vmcb_u32(s, VMCB_INTERCEPT_MISC1) = INTERCEPT_INTR | INTERCEPT_NMI | INTERCEPT_CPUID | INTERCEPT_HLT |
					     INTERCEPT_IOIO | INTERCEPT_MSR | INTERCEPT_SHUTDOWN | INTERCEPT_PAUSE;
	*vmcb_u32(s, VMCB_INTERCEPT_MISC2) = INTERCEPT_VMRUN | INTERCEPT_VMMCALL | INTERCEPT_VMLOAD |
					     INTERCEPT_VMSAVE | INTERCEPT_STGI | INTERCEPT_CLGI | INTERCEPT_SKINIT;
	*vmcb_u64(s, VMCB_IOPM_BASE) = d->privileged ? dom0_iopm_pa : iopm_pa;
	*vmcb_u64(s, VMCB_MSRPM_BASE) = msrpm_pa;
	*vmcb_u32(s, VMCB_ASID) = 1 + d->id % (cpu.svm_asids > 1 ? cpu.svm_asids - 1 : 1);
	s->vmcb[VMCB_TLB_CONTROL] = 1;
	*vmcb_u64(s, VMCB_VINTR) = V_INTR_MASKING;
	if (d->paging == PAGING_NESTED) {
		*vmcb_u64(s, VMCB_NP_ENABLE) = 1;
		*vmcb_u64(s, VMCB_N_CR3) = d->pml4;
	} else {
		/* Shadow paging (lab 2's MMU): the CPU walks the shadow, so every
		 * guest CR3 load, CR0/CR4 change, INVLPG and #PF comes to us. CR0
		 * reads too: the real CR0 has WP forced (svm_run), the guest's may
		 * not (SMSW shows only bits 15:0, without WP). */
		*vmcb_u32(s, VMCB_INTERCEPT_CR) = INTERCEPT_CR0_READ | INTERCEPT_CR3_READ | INTERCEPT_CR0_WRITE |
						  INTERCEPT_CR3_WRITE | INTERCEPT_CR4_WRITE;
		*vmcb_u32(s, VMCB_INTERCEPT_EXCEPTIONS) = 1u << VEC_PF;
		*vmcb_u32(s, VMCB_INTERCEPT_MISC1) |= INTERCEPT_INVLPG;
	}
	svm_init_guest_state(v, s);
	return true;
}

static void svm_teardown(struct vcpu *v)
{
	struct svm_state *s = v->backend;
	if (s) {
		if (s->vmcb_pa)
			frame_free(s->vmcb_pa);
		if (s->host_state_pa)
			frame_free(s->host_state_pa);
		kfree(s);
	}
	v->backend = NULL;
}

/* An event that was being delivered when the exit happened must not be
 * lost (APM §15.7.2): queue it again. Only the valid bit makes it real.
 * Except one an instruction raised — INT n (type 4), INT3 and INTO (#BP,
 * #OF): injected again, it would push the instruction's own address, not
 * the next one (no next-RIP saving in QEMU). RIP still points at the
 * instruction: it runs again and raises it again, as KVM lets it. */
static void requeue_interrupted_event(struct svm_state *s)
{
	uint64_t info = *vmcb_u64(s, VMCB_EXITINTINFO);
	unsigned type = (info >> 8) & 7, vector = info & 0xff;
	bool raised_by_instruction = type == 4 || (type == 3 && (vector == VEC_BP || vector == 4 /* #OF */));
	if ((info & EVENT_VALID) && !raised_by_instruction)
		*vmcb_u64(s, VMCB_EVENTINJ) = info;
}

/* PAUSE (F3 90) is what a spin-wait loop executes while it waits for
 * something — often for the guest's own timer interrupt, as Linux's APIC
 * timer calibration does. Without an exit the guest would see its
 * interrupts only at the hypervisor's next tick, merged; the exit lets the
 * run loop bring its timers up to date and deliver what is due. Handled
 * here, not in the lab's vmcb.c: it means nothing but "step". */
static void pause_exit(struct vcpu *v)
{
	v->exit = (struct vcpu_exit){.reason = VCPU_EXIT_NONE, .next_rip = v->regs.rip + 2};
	v->regs.rip += 2;
}

/* MOV to CR8 sets TPR[7:4] and clears TPR[3:0] (SDM Vol. 3A §11.8.6.1).
 * Through V_TPR the write is seen only if it changes bits 7:4; so while
 * TPR[3:0] is not 0 (a guest wrote the TPR register itself) CR8 writes are
 * intercepted and carried out here, decoded (no decode assists in QEMU). */
static void cr8_write_exit(struct vcpu *v)
{
	struct insn insn;
	v->exit = (struct vcpu_exit){.reason = VCPU_EXIT_NONE, .next_rip = v->regs.rip};
	if (!emulate_fetch_and_decode(v, &insn))
		return;
	if (insn.cls != INSN_MOV_TO_CR) {
		domain_crash(v->domain, "CR8 write exit on '%s'", insn_class_name(insn.cls));
		return;
	}
	uint64_t value = *vcpu_gpr(v, insn.modrm_rm | ((insn.rex & 1) << 3));
	if (value & ~0xfull) {
		svm_inject_exception(v, VEC_GP, true, 0);
		return;
	}
	vlapic_set_cr8(v, value);
	v->regs.rip += insn.length;
}

static void svm_run(struct vcpu *v)
{
	struct svm_state *s = v->backend;
	bool shadow = v->domain->paging == PAGING_SHADOW;
	end_interrupt_shadow_if_stepped(v, s);
	if (shadow) {
		/* The real control registers: the guest's, on the shadow root, with
		 * WP forced so read-only shadow entries (D-bit tracking) hold at
		 * CPL 0. The TLB of this ASID is flushed at every VMRUN: simple,
		 * and the shadow changes under the guest's feet between runs. */
		*vmcb_u64(s, VMCB_CR0) = v->cr0 | CR0_WP;
		*vmcb_u64(s, VMCB_CR3) = v->domain->pml4;
		*vmcb_u64(s, VMCB_CR4) = v->cr4;
		*vmcb_u64(s, VMCB_CR2) = v->cr2;
		s->vmcb[VMCB_TLB_CONTROL] = 1;
	}
	/* What an intercepted WRMSR changed (kernel/virt/msr.c); SVME stays
	 * on in the guest's EFER, invisibly (VMRUN requires it). */
	*vmcb_u64(s, VMCB_EFER) = v->efer | EFER_SVME;
	*vmcb_u64(s, VMCB_TSC_OFFSET) = v->msr.tsc_offset;
	/* CR8 is the APIC's TPR (SDM Vol. 3A §11.8.6.1). With V_INTR_MASKING the
	 * guest's MOV to and from CR8 reach V_TPR, not the host's TPR (APM
	 * §15.21.1): load it from the emulated APIC, and take it back below. */
	uint64_t vtpr = vlapic_cr8(v);
	*vmcb_u64(s, VMCB_VINTR) = (*vmcb_u64(s, VMCB_VINTR) & ~0xfull) | vtpr;
	if (v->lapic.tpr & 0xf)
		*vmcb_u32(s, VMCB_INTERCEPT_CR) |= INTERCEPT_CR8_WRITE;
	else
		*vmcb_u32(s, VMCB_INTERCEPT_CR) &= ~INTERCEPT_CR8_WRITE;
	*vmcb_u64(s, VMCB_RAX) = v->regs.rax;
	*vmcb_u64(s, VMCB_RSP) = v->regs.rsp;
	*vmcb_u64(s, VMCB_RIP) = v->regs.rip;
	*vmcb_u64(s, VMCB_RFLAGS) = v->regs.rflags;

	if (v->domain->flush_nested) { /* a foreign mapping came or went (domctl.c) */
		s->vmcb[VMCB_TLB_CONTROL] = 1;
		v->domain->flush_nested = false;
	}
	/* GIF = 0 from here to after VMRUN's return, host IF = 1: a physical
	 * interrupt during the guest makes it exit (INTR intercept) and waits
	 * until STGI below, then runs the hypervisor's handler. */
	if (grant_take_tlb_flush(v->domain)) /* lab 4: a grant unmapped from the nested table */
		s->vmcb[VMCB_TLB_CONTROL] = 1;
	cli();
	__asm__ volatile("clgi" ::: "memory");
	sti();
	svm_vmrun(s->vmcb_pa, &v->regs, s->host_state_pa);
	cli();
	__asm__ volatile("stgi" ::: "memory");
	sti(); /* the timer tick that made the guest exit is taken here */
	__asm__ volatile("nop");
	cli();
	/* Dirty logging changes nested entries between runs: flush this ASID's
	 * TLB at the next VMRUN (simple; a real hypervisor flushes only then). */
	s->vmcb[VMCB_TLB_CONTROL] = v->domain->dirty_logging ? 1 : 0;

	v->regs.rax = *vmcb_u64(s, VMCB_RAX);
	v->regs.rsp = *vmcb_u64(s, VMCB_RSP);
	v->regs.rip = *vmcb_u64(s, VMCB_RIP);
	v->regs.rflags = *vmcb_u64(s, VMCB_RFLAGS);
	v->cpl = s->vmcb[VMCB_CPL] & 3;
	s->exit_rip = v->regs.rip;
	v->cr2 = *vmcb_u64(s, VMCB_CR2);
	if (!shadow) { /* under shadow paging the virtual CR0/3/4 are ours, changed only by intercepts */
		v->cr0 = *vmcb_u64(s, VMCB_CR0);
		v->cr3 = *vmcb_u64(s, VMCB_CR3);
		v->cr4 = *vmcb_u64(s, VMCB_CR4);
	}
	v->efer = *vmcb_u64(s, VMCB_EFER) & ~EFER_SVME;
	if ((*vmcb_u64(s, VMCB_VINTR) & 0xf) != vtpr)
		vlapic_set_cr8(v, *vmcb_u64(s, VMCB_VINTR) & 0xf);
	requeue_interrupted_event(s);
	if (*vmcb_u64(s, VMCB_EXITCODE) == SVM_EXIT_PAUSE)
		pause_exit(v);
	else if (*vmcb_u64(s, VMCB_EXITCODE) == SVM_EXIT_CR8_WRITE)
		cr8_write_exit(v);
	else
		svm_decode_exit(v, s);
}

void svm_inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error)
{
	struct svm_state *s = v->backend;
	*vmcb_u64(s, VMCB_EVENTINJ) = vector | EVENT_TYPE_EXCEPTION | EVENT_VALID |
				      (has_error ? EVENT_ERROR_VALID | ((uint64_t)error << 32) : 0);
}

/* Deliver a pending virtual interrupt if the guest can take one now (IF = 1,
 * no interrupt shadow, no event already queued); otherwise ask the CPU to
 * exit as soon as it can (V_IRQ + the VINTR intercept: APM §15.21.4). */
static void svm_deliver_pending(struct vcpu *v)
{
	struct svm_state *s = v->backend;
	if (v->lapic.nmi_pending && !(*vmcb_u64(s, VMCB_EVENTINJ) & EVENT_VALID)) {
		/* An NMI from the APIC (ICR, LINT1): taken whatever IF says; the CPU
		 * blocks further NMIs until the handler's IRET (APM §15.20). */
		vlapic_take_nmi(v);
		*vmcb_u64(s, VMCB_EVENTINJ) = VEC_NMI | EVENT_TYPE_NMI | EVENT_VALID;
		v->halted = false;
		return;
	}
	enum vcpu_interrupt_source source;
	int vector = vcpu_pending_interrupt(v, &source);
	if (vector < 0)
		return;
	end_interrupt_shadow_if_stepped(v, s);
	bool can_take = (v->regs.rflags & RFLAGS_IF) && !(*vmcb_u64(s, VMCB_INTERRUPT_SHADOW) & 1) &&
			!(*vmcb_u64(s, VMCB_EVENTINJ) & EVENT_VALID);
	if (!can_take) {
		if (!s->window_requested) {
			*vmcb_u64(s, VMCB_VINTR) |= V_IRQ | V_IGN_TPR | (0xfull << 16);
			*vmcb_u32(s, VMCB_INTERCEPT_MISC1) |= INTERCEPT_VINTR;
			s->window_requested = true;
		}
		return;
	}
	vcpu_acknowledge_interrupt(v, source, vector);
	*vmcb_u64(s, VMCB_EVENTINJ) = (uint64_t)vector | EVENT_TYPE_INTR | EVENT_VALID;
	v->halted = false;
}

void svm_enter_protected_mode(struct vcpu *v)
{
	struct svm_state *s = v->backend;
	/* Flat 4 GiB segments, 32-bit code (D=1, L=0), paging off (spec §3.2). */
	set_segment(s, VMCB_CS, 0x08, 0xc9b, 0xffffffff, 0);
	set_segment(s, VMCB_SS, 0x10, 0xc93, 0xffffffff, 0);
	set_segment(s, VMCB_DS, 0x10, 0xc93, 0xffffffff, 0);
	set_segment(s, VMCB_ES, 0x10, 0xc93, 0xffffffff, 0);
	v->cr0 = CR0_PE | (1ul << 4); /* PE, ET */
	v->cr3 = 0;
	v->cr4 = 0;
	v->efer = 0;
	*vmcb_u64(s, VMCB_CR0) = v->cr0;
	*vmcb_u64(s, VMCB_CR3) = 0;
	*vmcb_u64(s, VMCB_CR4) = 0;
	*vmcb_u64(s, VMCB_EFER) = EFER_SVME;
}

void svm_enter_long_mode(struct vcpu *v, uint64_t entry, uint16_t code_selector, uint16_t data_selector,
			 uint64_t gdt_base, uint16_t gdt_limit)
{
	struct svm_state *s = v->backend;
	/* The descriptors the guest's GDT holds at those selectors, as the CPU
	 * would have cached them: 64-bit code (L=1), flat data (APM §15.5.1). */
	set_segment(s, VMCB_CS, code_selector, 0xa9b, 0xffffffff, 0);
	set_segment(s, VMCB_SS, data_selector, 0xc93, 0xffffffff, 0);
	set_segment(s, VMCB_DS, data_selector, 0xc93, 0xffffffff, 0);
	set_segment(s, VMCB_ES, data_selector, 0xc93, 0xffffffff, 0);
	set_segment(s, VMCB_FS, data_selector, 0xc93, 0xffffffff, 0);
	set_segment(s, VMCB_GS, data_selector, 0xc93, 0xffffffff, 0);
	set_segment(s, VMCB_GDTR, 0, 0, gdt_limit, gdt_base);
	*vmcb_u64(s, VMCB_CR0) = v->cr0;
	*vmcb_u64(s, VMCB_CR3) = v->cr3;
	*vmcb_u64(s, VMCB_CR4) = v->cr4;
	*vmcb_u64(s, VMCB_EFER) = v->efer | EFER_SVME;
	v->regs.rip = entry;
}

void svm_load_guest_cr3(struct vcpu *v)
{
	struct svm_state *s = v->backend;
	*vmcb_u64(s, VMCB_CR3) = v->cr3;
}

const struct vcpu_ops svm_vcpu_ops = {
	.name = "svm",
	.setup = svm_setup,
	.run = svm_run,
	.deliver_pending = svm_deliver_pending,
	.inject_exception = svm_inject_exception,
	.teardown = svm_teardown,
};
