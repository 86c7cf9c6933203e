/*
 * lapic.c — an emulated local APIC: its registers and its priority logic.
 *
 * Intel SDM Vol. 3A ch. 11 ("Advanced Programmable Interrupt Controller
 * (APIC)"); the section of each register is named where it is handled. One
 * vCPU has one APIC, so an "inter-processor" interrupt here can only ever
 * reach the sender itself: a self-IPI.
 *
 * Two ways in, one set of registers (§11.12.1.2): in xAPIC mode the
 * registers are a 4 KiB page at the address IA32_APIC_BASE names, each at
 * a 16-byte-aligned offset; in x2APIC mode they are MSRs 0x800 + offset/16,
 * with stricter rules — a reserved register, a write to a read-only one, a
 * read of a write-only one or a reserved bit set is #GP, where the xAPIC
 * page only sets ESR's "illegal register address" bit.
 *
 * How an interrupt reaches the CPU (§11.8): a source (the timer, an LVT
 * entry, a self-IPI) sets the vector's bit in IRR. The CPU may take the
 * highest one whose priority class (vector bits 7:4) is above the processor
 * priority PPR, itself the higher of TPR and the class of the highest vector
 * in service (ISR). Taking it moves the bit from IRR to ISR; the handler's
 * write to EOI clears the highest ISR bit. The 8259 is not among these
 * sources: its INTR line goes to LINT0, which in ExtINT mode hands the
 * 8259's vector to the CPU directly, bypassing IRR and PPR (§11.5.1).
 */
#include "domain.h"
#include "event_channel.h"
#include "lapic.h"
#include "vcpu.h"
#include "x86.h"

/* Register offsets in the xAPIC page (SDM Vol. 3A Table 11-1); the x2APIC
 * MSR of each is 0x800 + offset / 16 (Table 11-6). */
#define REG_ID 0x020
#define REG_VERSION 0x030
#define REG_TPR 0x080
#define REG_APR 0x090
#define REG_PPR 0x0a0
#define REG_EOI 0x0b0
#define REG_RRD 0x0c0
#define REG_LDR 0x0d0
#define REG_DFR 0x0e0
#define REG_SVR 0x0f0
#define REG_ISR 0x100
#define REG_TMR 0x180
#define REG_IRR 0x200
#define REG_ESR 0x280
#define REG_ICR_LOW 0x300
#define REG_ICR_HIGH 0x310
#define REG_LVT 0x320
#define REG_TIMER_INITIAL 0x380
#define REG_TIMER_CURRENT 0x390
#define REG_TIMER_DIVIDE 0x3e0
#define REG_SELF_IPI 0x3f0 /* x2APIC only */

#define X2APIC_MSR_FIRST 0x800u
#define X2APIC_MSR_LAST 0x8ffu
#define MSR_APIC_BASE 0x1bu
#define MSR_TSC_DEADLINE 0x6e0u

/* Version register (§11.4.8): version 0x14 (an integrated APIC), six LVT
 * entries (max LVT entry 5: no CMCI), as QEMU's APIC reports. */
#define APIC_VERSION (0x14u | (LVT_COUNT - 1u) << 16)

#define SVR_ENABLE (1u << 8)
#define LVT_MASKED (1u << 16)
#define LVT_DELIVERY_MODE(x) (((x) >> 8) & 7)
#define MODE_FIXED 0
#define MODE_LOWEST 1
#define MODE_SMI 2
#define MODE_NMI 4
#define MODE_INIT 5
#define MODE_STARTUP 6
#define MODE_EXTINT 7

/* ESR bits (§11.5.3, Figure 11-9). */
#define ESR_REDIRECTABLE_IPI (1u << 4)
#define ESR_SEND_ILLEGAL_VECTOR (1u << 5)
#define ESR_RECEIVE_ILLEGAL_VECTOR (1u << 6)
#define ESR_ILLEGAL_REGISTER (1u << 7)

/* What a write may change in each LVT entry (§11.5.1, Figure 11-8): the
 * vector, the mask, and per entry the delivery mode, the timer mode, the
 * pin polarity and trigger mode. Delivery status and remote IRR are the
 * APIC's. The timer's mode field is two bits, 10b being TSC-deadline. */
static const uint32_t lvt_writable[LVT_COUNT] = {
	[LVT_TIMER] = 0x000700ff,   [LVT_THERMAL] = 0x000107ff, [LVT_PERF] = 0x000107ff,
	[LVT_LINT0] = 0x0001a7ff,   [LVT_LINT1] = 0x0001a7ff,   [LVT_ERROR] = 0x000100ff,
};

static struct vlapic *apic_of(struct vcpu *v)
{
	return &v->lapic;
}

static bool x2apic_mode(const struct vcpu *v)
{
	return (v->msr.apic_base & (APIC_BASE_ENABLE | APIC_BASE_EXTD)) == (APIC_BASE_ENABLE | APIC_BASE_EXTD);
}

static bool xapic_mode(const struct vcpu *v)
{
	return (v->msr.apic_base & (APIC_BASE_ENABLE | APIC_BASE_EXTD)) == APIC_BASE_ENABLE;
}

static bool software_enabled(const struct vcpu *v)
{
	return (v->msr.apic_base & APIC_BASE_ENABLE) && (v->lapic.svr & SVR_ENABLE);
}

void vlapic_reset(struct vcpu *v)
{
	struct vlapic *a = apic_of(v);
	*a = (struct vlapic){.dfr = 0xffffffff, .svr = 0xff}; /* §11.4.7.1: power-up state */
	for (unsigned i = 0; i < LVT_COUNT; i++)
		a->lvt[i] = LVT_MASKED;
	/* What a PC's BIOS leaves the bootstrap processor with (and QEMU's APIC
	 * at reset): LINT0 in ExtINT mode, unmasked, so the 8259 reaches the CPU
	 * through the APIC ("virtual wire", MP spec §3.6.2.2); LINT1 is NMI. */
	a->lvt[LVT_LINT0] = MODE_EXTINT << 8;
	a->lvt[LVT_LINT1] = MODE_NMI << 8;
}

/* --- IRR, ISR and the priorities (§11.8.3) ------------------------------------ */

static int highest_bit(const uint32_t bits[8])
{
	for (int i = 7; i >= 0; i--)
		if (bits[i])
			return i * 32 + 31 - __builtin_clz(bits[i]);
	return -1;
}

static void set_bit(uint32_t bits[8], unsigned n)
{
	bits[n / 32] |= 1u << (n % 32);
}

static void clear_bit(uint32_t bits[8], unsigned n)
{
	bits[n / 32] &= ~(1u << (n % 32));
}

/* PPR (§11.8.3.1): the TPR if its class is at least that of the highest
 * vector in service, else that class with sub-class 0. */
static uint32_t processor_priority(const struct vlapic *a)
{
	int in_service = highest_bit(a->isr);
	uint32_t isr_class = in_service < 0 ? 0 : (uint32_t)in_service & 0xf0;
	return (a->tpr & 0xf0) >= isr_class ? a->tpr & 0xff : isr_class;
}

/* An error the APIC detected: kept for the next ESR write to latch, and
 * the error interrupt if LVT error allows (§11.5.3). */
static void report_error(struct vcpu *v, uint32_t error)
{
	struct vlapic *a = apic_of(v);
	bool new_error = !(a->esr_pending & error);
	a->esr_pending |= error;
	uint32_t lvt = a->lvt[LVT_ERROR];
	if (new_error && !(lvt & LVT_MASKED) && (lvt & 0xff) >= 16)
		set_bit(a->irr, lvt & 0xff);
}

void vlapic_accept(struct vcpu *v, unsigned vector)
{
	if (vector < 16) { /* 0-15 are exceptions: never an IRR bit (§11.5.2) */
		report_error(v, ESR_RECEIVE_ILLEGAL_VECTOR);
		return;
	}
	set_bit(apic_of(v)->irr, vector & 0xff);
}

/* The highest request the CPU may take now, or -1 (§11.8.3). */
static int deliverable_vector(const struct vcpu *v)
{
	if (!(v->msr.apic_base & APIC_BASE_ENABLE))
		return -1;
	const struct vlapic *a = &v->lapic;
	int vector = highest_bit(a->irr);
	if (vector < 0 || ((uint32_t)vector & 0xf0) <= (processor_priority(a) & 0xf0))
		return -1;
	return vector;
}

/* The 8259's INTR reaches the CPU when the APIC is globally disabled (the
 * pin goes straight to the core, §11.4.3) or LINT0 is unmasked in ExtINT
 * mode (virtual wire). */
static bool pic_connected(const struct vcpu *v)
{
	uint32_t lint0 = v->lapic.lvt[LVT_LINT0];
	return !(v->msr.apic_base & APIC_BASE_ENABLE) ||
	       (!(lint0 & LVT_MASKED) && LVT_DELIVERY_MODE(lint0) == MODE_EXTINT);
}

int vcpu_pending_interrupt(struct vcpu *v, enum vcpu_interrupt_source *source)
{
	struct domain *d = v->domain;
	int vector;
	/* ExtINT first: the 8259 answers the interrupt-acknowledge cycle itself. */
	if (pic_connected(v) && (vector = vpic_pending_vector(d)) >= 0) {
		*source = INTERRUPT_PIC;
		return vector;
	}
	if ((vector = deliverable_vector(v)) >= 0) {
		*source = INTERRUPT_LAPIC;
		return vector;
	}
	/* Xen's upcall for event channels: the domain's callback vector, level-triggered while
	 * vcpu_info's upcall_pending is set (the guest clears it), outside the APIC: no IRR, no
	 * ISR, no EOI (event_channel.h). */
	if (d->evtchn.callback_vector && evtchn_upcall_pending(v)) {
		*source = INTERRUPT_XEN_UPCALL;
		return d->evtchn.callback_vector;
	}
	*source = INTERRUPT_NONE;
	return -1;
}

void vcpu_acknowledge_interrupt(struct vcpu *v, enum vcpu_interrupt_source source, int vector)
{
	struct vlapic *a = apic_of(v);
	switch (source) {
	case INTERRUPT_PIC:
		vpic_acknowledge(v->domain);
		break;
	case INTERRUPT_LAPIC: /* §11.8.4: IRR -> ISR, edge-triggered (TMR 0) */
		clear_bit(a->irr, (unsigned)vector);
		set_bit(a->isr, (unsigned)vector);
		clear_bit(a->tmr, (unsigned)vector);
		break;
	case INTERRUPT_XEN_UPCALL: /* level-triggered: nothing to take back */
		break;
	case INTERRUPT_NONE:
		break;
	}
}

bool vlapic_take_nmi(struct vcpu *v)
{
	bool nmi = v->lapic.nmi_pending;
	v->lapic.nmi_pending = false;
	return nmi;
}

/* EOI (§11.8.5): the highest vector in service is done. */
static void end_of_interrupt(struct vcpu *v)
{
	struct vlapic *a = apic_of(v);
	int vector = highest_bit(a->isr);
	a->eois++;
	if (vector >= 0)
		clear_bit(a->isr, (unsigned)vector);
}

uint64_t vlapic_cr8(const struct vcpu *v)
{
	return (v->lapic.tpr >> 4) & 0xf;
}

void vlapic_set_cr8(struct vcpu *v, uint64_t value)
{
	v->lapic.tpr = (uint32_t)(value & 0xf) << 4; /* §11.8.6.1: CR8[3:0] = TPR[7:4], TPR[3:0] = 0 */
}

/* --- interrupt commands (§11.6) --------------------------------------------------- */

/* Is this APIC among the ICR's destinations (§11.6.2)? */
static bool is_destination(const struct vcpu *v, uint32_t destination, bool logical)
{
	const struct vlapic *a = &v->lapic;
	if (x2apic_mode(v)) {
		if (destination == 0xffffffff)
			return true; /* broadcast */
		if (!logical)
			return destination == a->id;
		/* x2APIC logical: cluster in bits 31:16, a bit per APIC in 15:0 (§11.12.10.2) */
		return (destination >> 16) == (a->ldr >> 16) && (destination & a->ldr & 0xffff);
	}
	destination &= 0xff;
	if (destination == 0xff)
		return true;
	if (!logical)
		return destination == (a->id & 0xff);
	uint32_t logical_id = a->ldr >> 24;
	if ((a->dfr >> 28) == 0xf) /* flat model: a bit per APIC */
		return destination & logical_id;
	/* cluster model: cluster in the high nibble, members in the low one */
	return (destination >> 4) == (logical_id >> 4) && (destination & logical_id & 0xf);
}

/* A write to ICR low (xAPIC) or ICR (x2APIC) sends the interrupt at once;
 * the delivery status bit is never seen busy. */
static void send_ipi(struct vcpu *v, uint32_t low, uint32_t destination)
{
	unsigned vector = low & 0xff, mode = LVT_DELIVERY_MODE(low), shorthand = (low >> 18) & 3;
	bool to_self;
	switch (shorthand) {
	case 1: /* self */
	case 2: /* all including self */
		to_self = true;
		break;
	case 3: /* all excluding self: nobody, on one vCPU */
		to_self = false;
		break;
	default:
		to_self = is_destination(v, destination, low & (1u << 11));
	}
	switch (mode) {
	case MODE_LOWEST:
		if (shorthand == 1) { /* lowest priority to self is not allowed (§11.6.1 Table) */
			report_error(v, ESR_REDIRECTABLE_IPI);
			return;
		}
		/* on one CPU the lowest-priority one is this one */
		__attribute__((fallthrough));
	case MODE_FIXED:
		if (vector < 16) {
			report_error(v, ESR_SEND_ILLEGAL_VECTOR | (to_self ? ESR_RECEIVE_ILLEGAL_VECTOR : 0));
			return;
		}
		if (to_self)
			vlapic_accept(v, vector);
		break;
	case MODE_NMI:
		if (to_self)
			v->lapic.nmi_pending = true;
		break;
	default:
		/* SMI (no SMM here), INIT and STARTUP (a single vCPU has nobody
		 * to start, and an INIT to oneself is ignored: §11.6.1 forbids the
		 * self shorthand for them), and the reserved modes 3 and 7: nothing. */
		break;
	}
}

/* --- the registers --------------------------------------------------------------- */

/* Read register @reg (an xAPIC offset); false if there is none to read
 * there in this mode (xAPIC: ESR bit 7 and 0; x2APIC: #GP). */
static bool read_register(struct vcpu *v, unsigned reg, uint64_t *value)
{
	struct vlapic *a = apic_of(v);
	bool x2 = x2apic_mode(v);
	switch (reg) {
	case REG_ID: /* §11.4.6; x2APIC: the 32-bit x2APIC ID (§11.12.5.1) */
		*value = x2 ? a->id : a->id << 24;
		return true;
	case REG_VERSION:
		*value = APIC_VERSION;
		return true;
	case REG_TPR:
		*value = a->tpr;
		return true;
	case REG_APR: /* arbitration priority: an xAPIC-only, P6-era register */
		if (x2)
			return false;
		*value = 0;
		return true;
	case REG_PPR:
		*value = processor_priority(a);
		return true;
	case REG_EOI: /* write-only: x2APIC #GP, xAPIC reads 0 */
		*value = 0;
		return !x2;
	case REG_RRD:
		if (x2)
			return false;
		*value = 0;
		return true;
	case REG_LDR: /* §11.6.2.2; x2APIC: derived from the ID, read-only (§11.12.10.2) */
		*value = x2 ? a->ldr : a->ldr & 0xff000000;
		return true;
	case REG_DFR: /* §11.6.2.2: model in bits 31:28, the rest reads 1 */
		if (x2)
			return false;
		*value = a->dfr | 0x0fffffff;
		return true;
	case REG_SVR:
		*value = a->svr;
		return true;
	case REG_ESR:
		*value = a->esr;
		return true;
	case REG_ICR_LOW:
		*value = a->icr_low | (x2 ? (uint64_t)a->icr_high << 32 : 0);
		return true;
	case REG_ICR_HIGH: /* x2APIC: ICR is one 64-bit MSR, 0x830 */
		if (x2)
			return false;
		*value = a->icr_high;
		return true;
	case REG_TIMER_INITIAL:
		*value = a->timer_initial;
		return true;
	case REG_TIMER_CURRENT:
		*value = vlapic_timer_current(v);
		return true;
	case REG_TIMER_DIVIDE:
		*value = a->timer_divide;
		return true;
	}
	if (reg >= REG_ISR && reg < REG_ISR + 0x80) {
		*value = a->isr[(reg - REG_ISR) / 16];
		return true;
	}
	if (reg >= REG_TMR && reg < REG_TMR + 0x80) {
		*value = a->tmr[(reg - REG_TMR) / 16];
		return true;
	}
	if (reg >= REG_IRR && reg < REG_IRR + 0x80) {
		*value = a->irr[(reg - REG_IRR) / 16];
		return true;
	}
	if (reg >= REG_LVT && reg < REG_LVT + 16 * LVT_COUNT) {
		*value = a->lvt[(reg - REG_LVT) / 16];
		return true;
	}
	return false; /* reserved, CMCI (0x2f0: not present), SELF IPI (write-only) */
}

static void write_svr(struct vcpu *v, uint32_t value)
{
	struct vlapic *a = apic_of(v);
	/* §11.9: vector in 7:0, software enable bit 8; focus checking (bit 9)
	 * and EOI-broadcast suppression (bit 12) are not offered: they read 0. */
	a->svr = value & 0x1ff;
	if (!(a->svr & SVR_ENABLE)) /* §11.4.7.2: software disable masks every LVT entry */
		for (unsigned i = 0; i < LVT_COUNT; i++)
			a->lvt[i] |= LVT_MASKED;
}

static void write_lvt(struct vcpu *v, unsigned index, uint32_t value)
{
	struct vlapic *a = apic_of(v);
	value &= lvt_writable[index];
	if (!software_enabled(v)) /* §11.4.7.2: masks cannot be cleared while software-disabled */
		value |= LVT_MASKED;
	if (index == LVT_TIMER)
		vlapic_timer_set_lvt(v, value);
	else
		a->lvt[index] = value;
}

/* Write register @reg; false if the write is not allowed in this mode
 * (xAPIC: ESR bit 7 for a reserved one, read-only ones ignore it; x2APIC: #GP). */
static bool write_register(struct vcpu *v, unsigned reg, uint64_t value)
{
	struct vlapic *a = apic_of(v);
	bool x2 = x2apic_mode(v);
	uint32_t low = (uint32_t)value;
	/* x2APIC: every register is 32 bits except ICR; higher bits set are #GP. */
	if (x2 && reg != REG_ICR_LOW && value >> 32)
		return false;
	switch (reg) {
	case REG_ID:
		if (x2)
			return false; /* read-only in x2APIC mode */
		a->id = low >> 24;
		return true;
	case REG_TPR:
		if (x2 && (low & ~0xffu))
			return false;
		a->tpr = low & 0xff;
		return true;
	case REG_EOI:
		if (x2 && low)
			return false; /* §11.12.1.2: a non-zero EOI write is #GP in x2APIC mode */
		end_of_interrupt(v);
		return true;
	case REG_LDR:
		if (x2)
			return false;
		a->ldr = low & 0xff000000;
		return true;
	case REG_DFR:
		if (x2)
			return false;
		a->dfr = low | 0x0fffffff;
		return true;
	case REG_SVR:
		if (x2 && (low & ~0x1ffu))
			return false;
		write_svr(v, low);
		return true;
	case REG_ESR: /* §11.5.3: a write latches the errors since the last one */
		if (x2 && low)
			return false;
		a->esr = a->esr_pending;
		a->esr_pending = 0;
		return true;
	case REG_ICR_LOW:
		if (x2) {
			/* §11.12.9: one write, destination in 63:32; reserved bits #GP */
			if (value & 0x000000000ff33000ull)
				return false;
			a->icr_high = (uint32_t)(value >> 32);
			a->icr_low = low;
			send_ipi(v, low, a->icr_high);
			return true;
		}
		a->icr_low = low & 0x000ccfff; /* delivery status (12) reads 0: sent at once */
		send_ipi(v, low, a->icr_high >> 24);
		return true;
	case REG_ICR_HIGH:
		if (x2)
			return false;
		a->icr_high = low & 0xff000000;
		return true;
	case REG_TIMER_INITIAL:
		vlapic_timer_set_initial(v, low);
		return true;
	case REG_TIMER_DIVIDE:
		if (x2 && (low & ~0xbu))
			return false;
		vlapic_timer_set_divide(v, low & 0xb);
		return true;
	case REG_SELF_IPI: /* §11.12.11: x2APIC only, vector in 7:0 */
		if (!x2 || (low & ~0xffu))
			return false;
		if (low < 16)
			report_error(v, ESR_SEND_ILLEGAL_VECTOR | ESR_RECEIVE_ILLEGAL_VECTOR);
		else
			vlapic_accept(v, low);
		return true;
	}
	if (reg >= REG_LVT && reg < REG_LVT + 16 * LVT_COUNT) {
		unsigned index = (reg - REG_LVT) / 16;
		if (x2 && (low & ~lvt_writable[index] & ~(1u << 12 | 1u << 14)))
			return false;
		write_lvt(v, index, low);
		return true;
	}
	uint64_t ignored;
	if (read_register(v, reg, &ignored))
		return !x2; /* a read-only register: xAPIC ignores the write, x2APIC #GP */
	return false;
}

/* --- xAPIC: the register page (§11.4.1) --------------------------------------------- */

bool vlapic_mmio_claims(const struct vcpu *v, uint64_t gpa)
{
	uint64_t base = v->msr.apic_base & ~0xfffull & ((1ull << 52) - 1);
	/* The page answers in xAPIC mode only, and only where the domain has no
	 * RAM: an APIC moved onto RAM leaves the RAM in charge (documented choice). */
	return xapic_mode(v) && gpa - base < 0x1000 && base >= v->domain->memory_bytes;
}

uint64_t vlapic_mmio_read(struct vcpu *v, uint64_t offset, unsigned size)
{
	uint64_t value = 0;
	unsigned reg = (unsigned)offset & 0xff0, byte = (unsigned)offset & 0xf;
	if (!read_register(v, reg, &value)) {
		report_error(v, ESR_ILLEGAL_REGISTER);
		value = 0;
	}
	/* Registers are 32 bits at 16-byte boundaries (§11.4.1): bytes 4-15 read 0. */
	value = byte < 4 ? (uint32_t)value >> (8 * byte) : 0;
	return size >= 8 ? value : value & ((1ull << (8 * size)) - 1);
}

void vlapic_mmio_write(struct vcpu *v, uint64_t offset, unsigned size, uint64_t value)
{
	unsigned reg = (unsigned)offset & 0xff0;
	/* Only an aligned 32-bit (or wider) store is defined (§11.4.1); others are dropped. */
	if ((offset & 0xf) || size < 4)
		return;
	if (!write_register(v, reg, (uint32_t)value))
		report_error(v, ESR_ILLEGAL_REGISTER);
}

/* --- MSRs: IA32_APIC_BASE, IA32_TSC_DEADLINE, x2APIC ------------------------------- */

/* The CPU's physical-address width (CPUID 0x80000008 EAX[7:0]; 36 without the leaf). */
static unsigned max_physical_bits(void)
{
	if (cpuid(0x80000000, 0).eax < 0x80000008)
		return 36;
	unsigned bits = cpuid(0x80000008, 0).eax & 0xff;
	return bits >= 32 && bits <= 52 ? bits : 52;
}

/* IA32_APIC_BASE (§11.4.4, §11.12.5, Figure 11-27): which transitions are allowed;
 * the base's bits from MAXPHYADDR up are reserved. */
static bool write_apic_base(struct vcpu *v, uint64_t value)
{
	uint64_t old = v->msr.apic_base, mode_bits = APIC_BASE_ENABLE | APIC_BASE_EXTD;
	uint64_t base_bits = ((1ull << max_physical_bits()) - 1) & ~0xfffull;
	uint64_t reserved = ~(mode_bits | APIC_BASE_BSP | base_bits);
	if (value & reserved)
		return false;
	uint64_t from = old & mode_bits, to = value & mode_bits;
	if (to == APIC_BASE_EXTD)
		return false; /* x2APIC without the global enable: invalid */
	if (from == mode_bits && to == APIC_BASE_ENABLE)
		return false; /* x2APIC -> xAPIC: only through disabled */
	if (from == 0 && to == mode_bits)
		return false; /* disabled -> x2APIC: only through xAPIC */
	v->msr.apic_base = (value & ~APIC_BASE_BSP) | (old & APIC_BASE_BSP); /* BSP is read-only */
	if (!to && from) {
		/* Globally disabled: the APIC is as after reset when enabled again
		 * (§11.4.3); the 8259 now reaches the CPU directly. */
		vlapic_reset(v);
	}
	if (to == mode_bits && from != mode_bits) {
		/* Into x2APIC mode (§11.12.5.1): the ID is the x2APIC ID, the logical ID
		 * is derived from it — cluster = ID[19:4], member bit = ID[3:0]. */
		struct vlapic *a = apic_of(v);
		a->ldr = (a->id >> 4) << 16 | 1u << (a->id & 0xf);
	}
	return true;
}

bool vlapic_is_msr(uint32_t msr)
{
	return msr == MSR_APIC_BASE || msr == MSR_TSC_DEADLINE || (msr >= X2APIC_MSR_FIRST && msr <= X2APIC_MSR_LAST);
}

bool vlapic_msr(struct vcpu *v, uint32_t msr, bool write, uint64_t *value)
{
	if (msr == MSR_APIC_BASE) {
		if (write)
			return write_apic_base(v, *value);
		*value = v->msr.apic_base;
		return true;
	}
	if (msr == MSR_TSC_DEADLINE) { /* §11.5.4.1 */
		if (write)
			vlapic_timer_set_deadline(v, *value);
		else
			*value = v->lapic.tsc_deadline;
		return true;
	}
	if (msr < X2APIC_MSR_FIRST || msr > X2APIC_MSR_LAST || !x2apic_mode(v))
		return false; /* §11.12.1.2: the x2APIC MSRs are #GP outside x2APIC mode */
	unsigned reg = (msr - X2APIC_MSR_FIRST) * 16;
	if (write)
		return write_register(v, reg, *value);
	return reg != REG_SELF_IPI && read_register(v, reg, value);
}
