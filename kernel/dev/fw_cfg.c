/*
 * fw_cfg.c — QEMU's firmware configuration interface, the traditional
 * (port I/O) flavour (QEMU's docs/specs/fw_cfg.rst).
 *
 * How a kernel written for QEMU learns the machine without a BIOS table:
 * write a 16-bit item number ("selector") to port 0x510, then read the
 * item's bytes one at a time from port 0x511; each selector write starts at
 * byte 0 again, and reads past an item's end (or of an item that does not
 * exist) give 0. Offered here, as QEMU's `pc` machine has them:
 *
 *   0x0000 signature  "QEMU"
 *   0x0001 ID         bit 0: the traditional interface (no DMA interface here)
 *   0x0003 RAM size   64-bit little-endian, the domain's mem=
 *   0x0005 CPU count  16-bit, 1
 *   0x000f max CPUs   16-bit, 1
 *   0x0019 file directory: a 32-bit big-endian count, then per file a
 *          big-endian size and selector and a 56-byte name
 *   0x0020 "etc/e820" (the one file): QEMU's e820 format, one RAM entry from 0
 *          (address, length: 64-bit little-endian; type 1: 32-bit)
 */
#include "domain.h"
#include "string.h"
#include "vdev.h"

#define FW_CFG_SIGNATURE 0x0000
#define FW_CFG_ID 0x0001
#define FW_CFG_RAM_SIZE 0x0003
#define FW_CFG_NB_CPUS 0x0005
#define FW_CFG_MAX_CPUS 0x000f
#define FW_CFG_FILE_DIR 0x0019
#define FW_CFG_FILE_E820 0x0020
#define E820_ENTRY_SIZE 20
#define DIR_ENTRY_SIZE 64

static void put_le(uint8_t *p, uint64_t value, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		p[i] = (uint8_t)(value >> (8 * i));
}

static void put_be(uint8_t *p, uint64_t value, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		p[bytes - 1 - i] = (uint8_t)(value >> (8 * i));
}

/* Byte @offset of item @selector; 0 past its end or for an item that does not exist. */
static uint8_t item_byte(const struct domain *d, uint16_t selector, uint32_t offset)
{
	uint8_t item[4 + DIR_ENTRY_SIZE];
	size_t size = 0;
	memset(item, 0, sizeof(item));
	switch (selector) {
	case FW_CFG_SIGNATURE:
		memcpy(item, "QEMU", 4);
		size = 4;
		break;
	case FW_CFG_ID:
		put_le(item, 1, 4);
		size = 4;
		break;
	case FW_CFG_RAM_SIZE:
		put_le(item, d->memory_bytes, 8);
		size = 8;
		break;
	case FW_CFG_NB_CPUS:
	case FW_CFG_MAX_CPUS:
		put_le(item, 1, 2);
		size = 2;
		break;
	case FW_CFG_FILE_DIR:
		put_be(item, 1, 4);
		put_be(item + 4, E820_ENTRY_SIZE, 4);
		put_be(item + 8, FW_CFG_FILE_E820, 2);
		memcpy(item + 12, "etc/e820", 8);
		size = 4 + DIR_ENTRY_SIZE;
		break;
	case FW_CFG_FILE_E820:
		put_le(item, 0, 8);
		put_le(item + 8, d->memory_bytes, 8);
		put_le(item + 16, 1, 4); /* RAM */
		size = E820_ENTRY_SIZE;
		break;
	}
	return offset < size ? item[offset] : 0;
}

uint32_t vfw_cfg_read(struct domain *d, uint16_t port, unsigned size)
{
	if (port == FW_CFG_PORT_SELECTOR)
		return 0; /* the selector is write-only */
	uint32_t value = 0; /* a wider read takes that many bytes, the first in the low byte */
	for (unsigned i = 0; i < size; i++)
		value |= (uint32_t)item_byte(d, d->fw_cfg.selector, d->fw_cfg.offset++) << (8 * i);
	return value;
}

void vfw_cfg_write(struct domain *d, uint16_t port, unsigned size, uint32_t value)
{
	(void)size;
	if (port != FW_CFG_PORT_SELECTOR)
		return; /* writes to the data port were dropped from QEMU 2.4 on */
	d->fw_cfg.selector = (uint16_t)value;
	d->fw_cfg.offset = 0;
}
