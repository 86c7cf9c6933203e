/*
 * cpu.c — identifying the processor and its virtualization extensions.
 *
 * Which CPUID bits say what: AMD APM Vol. 3 Appendix E (CPUID), Intel SDM
 * Vol. 2A "CPUID", and for the VMX capability MSRs Intel SDM Vol. 3D
 * Appendix A.3.
 */
#include "console.h"
#include "cpu.h"
#include "string.h"
#include "x86.h"

struct cpu_features cpu;

static void copy_register(char *dst, uint32_t value)
{
	for (int i = 0; i < 4; i++)
		dst[i] = (char)(value >> (8 * i));
}

static void read_brand_string(void)
{
	char raw[49] = {0};
	for (uint32_t i = 0; i < 3; i++) {
		struct cpuid_regs r = cpuid(0x80000002 + i, 0);
		copy_register(raw + 16 * i + 0, r.eax);
		copy_register(raw + 16 * i + 4, r.ebx);
		copy_register(raw + 16 * i + 8, r.ecx);
		copy_register(raw + 16 * i + 12, r.edx);
	}
	const char *start = raw;
	while (*start == ' ')
		start++;
	strlcpy(cpu.brand, start, sizeof(cpu.brand));
	for (size_t n = strlen(cpu.brand); n && cpu.brand[n - 1] == ' '; n--)
		cpu.brand[n - 1] = '\0';
}

/* EPT is a secondary processor-based control (SDM Vol. 3C §25.6.2, bit 1).
 * It exists if the primary controls allow "activate secondary controls"
 * (bit 31) and the secondary controls' allowed-1 half (the MSR's high 32
 * bits) allows bit 1. The MSRs exist only when CPUID says VMX. */
static bool vmx_has_ept(void)
{
	uint64_t primary = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS);
	if (!(primary >> 32 & (1u << 31)))
		return false;
	return rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2) >> 32 & (1u << 1);
}

void cpu_detect(void)
{
	struct cpuid_regs r = cpuid(0, 0);
	uint32_t max_leaf = r.eax;
	copy_register(cpu.vendor + 0, r.ebx);
	copy_register(cpu.vendor + 4, r.edx);
	copy_register(cpu.vendor + 8, r.ecx);

	r = cpuid(1, 0);
	unsigned family = (r.eax >> 8) & 0xf, model = (r.eax >> 4) & 0xf;
	if (family == 0xf)
		family += (r.eax >> 20) & 0xff;
	if (family == 0x6 || family >= 0xf)
		model |= ((r.eax >> 16) & 0xf) << 4;
	cpu.family = family;
	cpu.model = model;
	cpu.stepping = r.eax & 0xf;
	cpu.vmx = r.ecx & (1u << 5);
	cpu.hypervisor = r.ecx & (1u << 31);

	if (max_leaf >= 7)
		cpu.umip = cpuid(7, 0).ecx & (1u << 2);

	uint32_t max_extended = cpuid(0x80000000, 0).eax;
	if (max_extended >= 0x80000001) {
		r = cpuid(0x80000001, 0);
		cpu.svm = r.ecx & (1u << 2);
		cpu.nx = r.edx & (1u << 20);
		cpu.pdpe1gb = r.edx & (1u << 26);
	}
	if (max_extended >= 0x80000004)
		read_brand_string();
	if (cpu.svm && max_extended >= 0x8000000a) {
		r = cpuid(0x8000000a, 0);
		cpu.npt = r.edx & (1u << 0);
		cpu.nrip_save = r.edx & (1u << 3);
		cpu.svm_asids = r.ebx;
	}
	if (cpu.vmx)
		cpu.ept = vmx_has_ept();
}

static const char *yes_no(bool b) { return b ? "yes" : "no"; }

void cpu_print(void)
{
	kprintf("cpu: %s \"%s\" family %u model %u stepping %u\n", cpu.vendor, cpu.brand, cpu.family, cpu.model,
		cpu.stepping);
	kprintf("virtualization: SVM %s, NPT %s, VMX %s, EPT %s, UMIP %s, NX %s\n", yes_no(cpu.svm),
		yes_no(cpu.npt), yes_no(cpu.vmx), yes_no(cpu.ept), yes_no(cpu.umip), yes_no(cpu.nx));
	if (cpu.svm)
		kprintf("svm: %u ASIDs, next-RIP save %s\n", cpu.svm_asids, yes_no(cpu.nrip_save));
}
