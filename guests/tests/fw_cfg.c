/*
 * fw_cfg — QEMU's firmware configuration interface, as a kernel written for
 * QEMU reads it (lab 3; QEMU's docs/specs/fw_cfg.rst).
 *
 * A 16-bit selector written to port 0x510 picks an item; its bytes come one
 * at a time from port 0x511. The guest reads the signature, the interface ID,
 * the CPU counts, the RAM size, the file directory and the file "etc/e820" it
 * names, past an item's end and an item that does not exist (both read 0).
 * Natively that is QEMU's fw_cfg; under Hypatia the emulated one
 * (kernel/dev/fw_cfg.c): the lines must be equal. The RAM size itself
 * differs (QEMU's -m against the domain's mem=): only how it agrees with
 * etc/e820 is printed.
 */
#include "guest.h"
#include "x86.h"

#define SELECTOR 0x510
#define DATA 0x511

static void select_item(uint16_t item)
{
	outw(SELECTOR, item);
}

static uint64_t read_le(unsigned bytes)
{
	uint64_t value = 0;
	for (unsigned i = 0; i < bytes; i++)
		value |= (uint64_t)inb(DATA) << (8 * i);
	return value;
}

static uint64_t read_be(unsigned bytes)
{
	uint64_t value = 0;
	for (unsigned i = 0; i < bytes; i++)
		value = value << 8 | inb(DATA);
	return value;
}

static const char *yes(bool b)
{
	return b ? "yes" : "no";
}

void guest_main(void)
{
	uint64_t nonce = guest_nonce();
	char signature[5] = {0};
	select_item(0x0000);
	for (unsigned i = 0; i < 4; i++)
		signature[i] = (char)inb(DATA);
	uint32_t past = (uint32_t)read_le(4);
	gprintf("fw_cfg: signature \"%s\", the 4 bytes after it 0x%x\n", signature, past);
	if (strcmp(signature, "QEMU") != 0)
		guest_skip("no fw_cfg here");
	select_item(0x0001);
	gprintf("fw_cfg: traditional interface: %s\n", yes(read_le(4) & 1));
	select_item(0x0005);
	unsigned cpus = (unsigned)read_le(2);
	select_item(0x000f);
	gprintf("fw_cfg: cpus %u, max cpus %u\n", cpus, (unsigned)read_le(2));
	select_item(0x0003);
	uint64_t ram = read_le(8);
	gprintf("fw_cfg: ram size a whole number of MiB: %s\n", yes(ram && ram % (1 << 20) == 0));
	/* The file directory: big-endian count, then size, selector, reserved, 56-byte name. */
	select_item(0x0019);
	uint32_t files = (uint32_t)read_be(4);
	uint32_t e820_size = 0;
	uint16_t e820_select = 0;
	for (uint32_t f = 0; f < files && f < 256; f++) {
		uint32_t size = (uint32_t)read_be(4);
		uint16_t select = (uint16_t)read_be(2);
		(void)read_be(2);
		char name[57] = {0};
		for (unsigned i = 0; i < 56; i++)
			name[i] = (char)inb(DATA);
		if (strcmp(name, "etc/e820") == 0) {
			e820_size = size;
			e820_select = select;
		}
	}
	gprintf("fw_cfg: the directory names etc/e820: %s, its size a multiple of 20 bytes: %s\n",
		yes(e820_select != 0), yes(e820_size && e820_size % 20 == 0));
	if (e820_select) {
		/* QEMU lists reserved ranges too (the HyperTransport hole of AMD CPUs): find the RAM from 0. */
		select_item(e820_select);
		bool found = false, same = false;
		for (uint32_t e = 0; e < e820_size / 20; e++) {
			uint64_t address = read_le(8), length = read_le(8);
			uint32_t type = (uint32_t)read_le(4);
			if (address == 0 && type == 1 && !found) {
				found = true;
				same = length == ram;
			}
		}
		gprintf("fw_cfg: etc/e820 has RAM from 0: %s, as long as the ram size: %s\n", yes(found), yes(same));
	}
	uint16_t missing = (uint16_t)(0x3000 + nonce % 0x100);
	select_item(missing);
	gprintf("fw_cfg: selector 0x%x (none) reads 0x%lx\n", missing, (unsigned long)read_le(8));
	guest_pass();
}
