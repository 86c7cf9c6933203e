/*
 * mmio.c — the kit's memory-mapped test device.
 *
 * Four registers in one page, enough for a guest to prove that its loads
 * and stores reach an emulated device through nested-page faults and the
 * instruction emulator: an ID, a scratch register, a console and an access
 * counter (mmio.h).
 */
#include "domain.h"
#include "mmio.h"

bool mmio_claims(uint64_t gpa)
{
	return gpa >= MMIO_TEST_DEVICE_BASE && gpa - MMIO_TEST_DEVICE_BASE < MMIO_TEST_DEVICE_SIZE;
}

static uint64_t size_mask(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

uint64_t mmio_read(struct domain *d, uint64_t gpa, unsigned size)
{
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

void mmio_write(struct domain *d, uint64_t gpa, unsigned size, uint64_t value)
{
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
