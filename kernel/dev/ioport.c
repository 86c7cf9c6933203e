/*
 * ioport.c — routing guest port I/O to emulated devices.
 *
 * The PC platform a guest sees: COM1 (a 16550A, uart.c), the 8259 PIC pair
 * with its edge/level registers (pic.c), the 8254 PIT and port 0x61
 * (pit.c), the CMOS RTC (rtc.c), QEMU's fw_cfg (fw_cfg.c), QEMU's debug-exit port and Bochs' shutdown
 * port. Every other port reads all-ones and ignores writes, like an ISA bus
 * with nothing on it.
 * Each guest gets its own console (lines are prefixed with its domain id);
 * nothing here touches the real hardware.
 */
#include "domain.h"
#include "ioport.h"
#include "vdev.h"

#define COM1 0x3f8

/* QEMU's isa-debug-exit: the guest says it is done, with a code. */
static void debug_exit_write(struct domain *d, uint16_t port, unsigned size, uint32_t value)
{
	(void)port;
	(void)size;
	domain_exit(d, value);
}

static uint32_t read_nothing(struct domain *d, uint16_t port, unsigned size)
{
	(void)d;
	(void)port;
	return size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

static void write_nothing(struct domain *d, uint16_t port, unsigned size, uint32_t value)
{
	(void)d, (void)port, (void)size, (void)value;
}

static const struct ioport_device devices[] = {
	{"uart", COM1, 8, vuart_read, vuart_write},
	{"pic-master", 0x20, 2, vpic_read, vpic_write},
	{"pic-slave", 0xa0, 2, vpic_read, vpic_write},
	{"pic-elcr", 0x4d0, 2, vpic_elcr_read, vpic_elcr_write},
	{"pit", 0x40, 4, vpit_read, vpit_write},
	{"system-control", 0x61, 1, vpit_port61_read, vpit_port61_write},
	{"rtc", 0x70, 2, vrtc_read, vrtc_write},
	{"fw_cfg", FW_CFG_PORT_SELECTOR, 2, vfw_cfg_read, vfw_cfg_write},
	{"debug-exit", 0xf4, 4, read_nothing, debug_exit_write},
	{"bochs-shutdown", 0x8900, 1, read_nothing, write_nothing},
};

static const struct ioport_device *find(uint16_t port)
{
	for (size_t i = 0; i < ARRAY_SIZE(devices); i++)
		if (port >= devices[i].first && port - devices[i].first < devices[i].count)
			return &devices[i];
	return NULL;
}

uint32_t ioport_read(struct domain *d, uint16_t port, unsigned size)
{
	const struct ioport_device *dev = find(port);
	return dev ? dev->read(d, port, size) : read_nothing(d, port, size);
}

void ioport_write(struct domain *d, uint16_t port, unsigned size, uint32_t value)
{
	const struct ioport_device *dev = find(port);
	if (dev)
		dev->write(d, port, size, value);
}
