/**
 * @file cpu.h
 * @brief What the processor we run on can do, read once from CPUID at boot.
 */
#ifndef HYPATIA_CPU_H
#define HYPATIA_CPU_H

#include "types.h"

/** Processor identification and the virtualization features the labs need. */
struct cpu_features {
	char vendor[13];     /**< "AuthenticAMD", "GenuineIntel", ... */
	char brand[49];      /**< brand string (CPUID 0x80000002-4), trimmed */
	unsigned family;     /**< display family */
	unsigned model;      /**< display model */
	unsigned stepping;   /**< stepping */
	bool svm;            /**< AMD-V: CPUID 0x80000001 ECX bit 2 (APM Vol. 2 §15.4) */
	bool npt;            /**< nested paging: CPUID 0x8000000A EDX bit 0 */
	bool nrip_save;      /**< next-RIP saved on \#VMEXIT: CPUID 0x8000000A EDX bit 3 */
	unsigned svm_asids;  /**< number of ASIDs: CPUID 0x8000000A EBX */
	bool vmx;            /**< Intel VT-x: CPUID 1 ECX bit 5 (SDM Vol. 3C §23.6) */
	bool ept;            /**< EPT allowed in secondary controls (IA32_VMX_PROCBASED_CTLS2) */
	bool umip;           /**< user-mode instruction prevention: CPUID 7 ECX bit 2 */
	bool nx;             /**< no-execute pages: CPUID 0x80000001 EDX bit 20 */
	bool pdpe1gb;        /**< 1 GiB pages: CPUID 0x80000001 EDX bit 26 */
	bool hypervisor;     /**< we ourselves run under a hypervisor: CPUID 1 ECX bit 31 */
};

/** Filled in by cpu_detect(). */
extern struct cpu_features cpu;

/** True if the CPU has UMIP (so CR4.UMIP may be set). */
static inline bool cpu_has_umip(void) { return cpu.umip; }
/** Read CPUID into #cpu. */
void cpu_detect(void);
/** Print the CPU and virtualization lines of the banner. */
void cpu_print(void);

#endif
