/*
 * mmio.c — the memory-mapped devices a guest's loads and stores reach, and
 * the kit's test device.
 *
 * Two devices answer: the vCPU's local APIC (its xAPIC page, lapic.c),
 * which sits in the CPU and so sees an access before anything on the bus,
 * and the kit's test device — four registers in one page, enough for a
 * guest to prove that its loads and stores reach an emulated device through
 * nested-page faults and the instruction emulator: an ID, a scratch
 * register, a console and an access counter (mmio.h).
 */
#include "domain.h"
#include "lapic.h"
#include "mmio.h"
#include "vcpu.h"

static bool test_device_claims(uint64_t gpa)
{
	return gpa >= MMIO_TEST_DEVICE_BASE && gpa - MMIO_TEST_DEVICE_BASE < MMIO_TEST_DEVICE_SIZE;
}

bool mmio_claims(const struct vcpu *v, uint64_t gpa)
{
	return vlapic_mmio_claims(v, gpa) || test_device_claims(gpa);
}

static uint64_t size_mask(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

uint64_t mmio_read(struct vcpu *v, uint64_t gpa, unsigned size)
{
	struct domain *d = v->domain;
	if (vlapic_mmio_claims(v, gpa))
		return vlapic_mmio_read(v, gpa & 0xfff, size);
	d->mmio_accesses++;
	switch (gpa - MMIO_TEST_DEVICE_BASE) {
	case MMIO_TEST_ID:
		return 0x41505948 & size_mask(size);
	case MMIO_TEST_SCRATCH:
		return d->mmio_scratch & size_mask(size);
	case MMIO_TEST_ACCESSES:
		return d->mmio_accesses & size_mask(size);
	}
	return size_mask(size); /* nothing there: all-ones, as an unclaimed bus reads */
}

void mmio_write(struct vcpu *v, uint64_t gpa, unsigned size, uint64_t value)
{
	struct domain *d = v->domain;
	if (vlapic_mmio_claims(v, gpa)) {
		vlapic_mmio_write(v, gpa & 0xfff, size, value);
		return;
	}
	d->mmio_accesses++;
	switch (gpa - MMIO_TEST_DEVICE_BASE) {
	case MMIO_TEST_SCRATCH:
		d->mmio_scratch = (d->mmio_scratch & ~size_mask(size)) | (value & size_mask(size));
		break;
	case MMIO_TEST_CONSOLE:
		domain_console_putc(d, (char)value);
		break;
	}
}
