/**
 * @file vcpu.h
 * @brief The virtual CPU: guest state every backend shares, and the backend interface.
 *
 * Like Linux KVM's split of x86.c from svm/ and vmx/, the state and the
 * handling of exits live here once; each backend (pv/ today, svm/ and vmx/
 * in lab 3) only knows how to enter the guest and how to turn what the
 * hardware reports into a struct vcpu_exit.
 */
#ifndef HYPATIA_VCPU_H
#define HYPATIA_VCPU_H

#include "lapic.h"
#include "types.h"

struct domain;
struct vcpu;

/** General-purpose registers, RIP and RFLAGS of a guest. */
struct vcpu_regs {
	uint64_t rax; /**< RAX */
	uint64_t rbx; /**< RBX */
	uint64_t rcx; /**< RCX */
	uint64_t rdx; /**< RDX */
	uint64_t rsi; /**< RSI */
	uint64_t rdi; /**< RDI */
	uint64_t rbp; /**< RBP */
	uint64_t rsp; /**< RSP */
	uint64_t r8;  /**< R8 */
	uint64_t r9;  /**< R9 */
	uint64_t r10; /**< R10 */
	uint64_t r11; /**< R11 */
	uint64_t r12; /**< R12 */
	uint64_t r13; /**< R13 */
	uint64_t r14; /**< R14 */
	uint64_t r15; /**< R15 */
	uint64_t rip;    /**< instruction pointer */
	uint64_t rflags; /**< flags as the guest believes them (IF is the virtual IF under pv) */
};

/** A descriptor-table register (GDTR, IDTR) as LGDT/LIDT load it (SDM Vol. 3A §2.4). */
struct descriptor_table_register {
	uint64_t base;  /**< linear address of the table */
	uint16_t limit; /**< size in bytes minus one */
};

/** The guest's view of the MSRs a 64-bit kernel uses (SDM Vol. 4, AMD APM Vol. 2 §6.1). */
struct vcpu_msrs {
	uint64_t star;           /**< MSR 0xc0000081: SYSCALL/SYSRET segments */
	uint64_t lstar;          /**< MSR 0xc0000082: 64-bit SYSCALL entry */
	uint64_t cstar;          /**< MSR 0xc0000083: compatibility-mode SYSCALL entry */
	uint64_t sfmask;         /**< MSR 0xc0000084: RFLAGS bits SYSCALL clears */
	uint64_t fs_base;        /**< MSR 0xc0000100 */
	uint64_t gs_base;        /**< MSR 0xc0000101 */
	uint64_t kernel_gs_base; /**< MSR 0xc0000102: what SWAPGS exchanges with GS base */
	uint64_t tsc_offset;     /**< added to the host TSC: what WRMSR to IA32_TSC set */
	uint64_t apic_base;      /**< MSR 0x1b */
};

/** Why the guest stopped running: one list for every backend. */
enum vcpu_exit_reason {
	VCPU_EXIT_NONE,        /**< nothing to handle (e.g. a physical interrupt was serviced) */
	VCPU_EXIT_PRIVILEGED,  /**< pv: an instruction the guest may not execute at CPL 3 (\#GP/\#UD) */
	VCPU_EXIT_IO,          /**< port I/O (hardware-assisted: an IOIO intercept) */
	VCPU_EXIT_CPUID,       /**< CPUID */
	VCPU_EXIT_MSR,         /**< RDMSR/WRMSR */
	VCPU_EXIT_HLT,         /**< HLT */
	VCPU_EXIT_HYPERCALL,   /**< a hypercall (int 0x82/syscall from pv, VMMCALL/VMCALL from hvm) */
	VCPU_EXIT_EXCEPTION,   /**< an exception the guest raised that the hypervisor must look at */
	VCPU_EXIT_PAGE_FAULT,  /**< a \#PF (shadow paging) */
	VCPU_EXIT_NESTED_PAGE_FAULT, /**< an NPT/EPT violation */
	VCPU_EXIT_INTERRUPT,   /**< a physical interrupt arrived while the guest ran */
	VCPU_EXIT_SHUTDOWN,    /**< triple fault or shutdown: the guest is dead */
	VCPU_EXIT_REASON_COUNT /**< number of reasons (array size) */
};

/** Details of the last exit. */
struct vcpu_exit {
	enum vcpu_exit_reason reason; /**< what happened */
	uint8_t vector;               /**< exception or interrupt vector, where one applies */
	bool has_error_code;          /**< whether @c error_code is meaningful */
	uint32_t error_code;          /**< the exception's error code */
	uint64_t fault_address;       /**< CR2 for page faults, guest-physical address for NPF */
	uint64_t next_rip;            /**< hardware-assisted exits: the RIP after the instruction */
	uint16_t io_port;             /**< VCPU_EXIT_IO: the port */
	uint8_t io_size;              /**< VCPU_EXIT_IO: bytes per access (1, 2, 4) */
	bool io_in;                   /**< VCPU_EXIT_IO: IN/INS (else OUT/OUTS) */
	bool io_string;               /**< VCPU_EXIT_IO: INS/OUTS */
	bool io_rep;                  /**< VCPU_EXIT_IO: with a REP prefix */
};

/** What a backend implements. Every function is required. */
struct vcpu_ops {
	const char *name; /**< "pv", "svm", "vmx" */
	/** Prepare backend state for a fresh vCPU whose registers are already set. */
	bool (*setup)(struct vcpu *vcpu);
	/** Run the guest until it exits; fill vcpu->exit. */
	void (*run)(struct vcpu *vcpu);
	/** Deliver a pending virtual interrupt if the guest's interrupt flag allows it. */
	void (*deliver_pending)(struct vcpu *vcpu);
	/** Arrange for @p vector to be delivered to the guest on the next run. */
	void (*inject_exception)(struct vcpu *vcpu, uint8_t vector, bool has_error, uint32_t error);
	/** Free backend state. */
	void (*teardown)(struct vcpu *vcpu);
};

/** One virtual CPU. */
struct vcpu {
	struct domain *domain;      /**< the domain it belongs to */
	unsigned id;                /**< index within the domain */
	struct vcpu_regs regs;      /**< guest registers while not running */
	uint64_t cr0;               /**< the guest's view of CR0 */
	uint64_t cr2;               /**< the guest's view of CR2 */
	uint64_t cr3;               /**< the guest's view of CR3 */
	uint64_t cr4;               /**< the guest's view of CR4 */
	uint64_t efer;              /**< the guest's view of EFER */
	uint64_t cr8;               /**< pv: the guest's task-priority register (CR8); hardware-assisted guests: lapic.tpr */
	struct vlapic lapic;        /**< its local APIC (hardware-assisted guests; lapic.h) */
	struct descriptor_table_register gdtr; /**< the guest's GDTR, from its LGDT */
	struct descriptor_table_register idtr; /**< the guest's IDTR, from its LIDT */
	uint16_t ldtr;              /**< the guest's LDT selector (LLDT) */
	uint16_t tr;                /**< the guest's task register selector (LTR) */
	struct vcpu_msrs msr;       /**< the guest's MSRs */
	uint64_t xcr0;              /**< the guest's XCR0, saved while it does not run (xstate.h) */
	void *xsave_area;           /**< its x87/SSE/AVX registers while it does not run (XSAVE format) */
	bool virtual_if;            /**< pv: the guest's interrupt flag, kept by the hypervisor */
	uint8_t cpl;                /**< hvm: the guest's CPL at its last exit (VMCB CPL; VMX: SS.DPL) */
	uint8_t virtual_cpl;        /**< pv: the guest's privilege level, 0 (its kernel) or 3 (its user mode); both really run at CPL 3 */
	uint16_t virtual_cs;        /**< pv: the CS selector the guest believes it runs with (#PV_GUEST_CS in its kernel) */
	uint16_t virtual_ss;        /**< pv: the SS selector it believes it has (0 in its kernel after an entry from user mode) */
	bool sti_shadow;            /**< pv: the instruction after STI runs before any interrupt */
	bool step_one;              /**< pv: run one instruction only (single-step out of the STI shadow) */
	bool halted;                /**< waiting in HLT for an interrupt */
	bool yielded;               /**< gave up the rest of its slice (yield hypercall) */
	const struct vcpu_ops *ops; /**< the backend */
	void *backend;              /**< the backend's private state */
	struct vcpu_exit exit;      /**< the last exit */
	uint64_t exits[VCPU_EXIT_REASON_COUNT]; /**< exit counters, by reason */
};

/** Create vCPU 0 of @p domain on the backend @p ops. Returns NULL if out of memory. */
struct vcpu *vcpu_create(struct domain *domain, const struct vcpu_ops *ops);
/** Run @p vcpu for one slice: enter, handle exits, return when it must yield or its domain ends. */
void vcpu_run_slice(struct vcpu *vcpu);
/**
 * Deliver exception @p vector to the guest (with @p error if @p has_error),
 * as the hardware would; if delivery itself fails, escalate like the CPU
 * does (\#DF, then a triple fault that ends the domain).
 */
void vcpu_inject_exception(struct vcpu *vcpu, uint8_t vector, bool has_error, uint32_t error);
/** Pointer to general-purpose register @p n (0 = RAX ... 15 = R15, ModRM numbering). */
uint64_t *vcpu_gpr(struct vcpu *vcpu, unsigned n);
/** Free @p vcpu. */
void vcpu_destroy(struct vcpu *vcpu);
/** Name of an exit reason, for logs and counters. */
const char *vcpu_exit_reason_name(enum vcpu_exit_reason reason);

/** The trap-and-emulate backend (kernel/pv/). */
extern const struct vcpu_ops pv_vcpu_ops;

#endif
