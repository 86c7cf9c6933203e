/*
 * ata.c — an ATA disk by programmed I/O (ata.h says why PIO).
 *
 * A command is: wait until the drive is not busy, select it with the high
 * LBA bits in the device register, write the sector count and the LBA, write
 * the command; then, per sector, wait for DRQ ("data request") and move 256
 * words through the data port. Interrupts stay off (nIEN): Dom0 polls.
 */
#include "ata.h"
#include "guest.h"
#include "x86.h"

#define ATA_DATA 0x1f0
#define ATA_ERROR 0x1f1
#define ATA_COUNT 0x1f2
#define ATA_LBA_LOW 0x1f3
#define ATA_LBA_MID 0x1f4
#define ATA_LBA_HIGH 0x1f5
#define ATA_DEVICE 0x1f6     /* bit 6: LBA addressing; bit 4: the slave; bits 0-3: LBA 24-27 */
#define ATA_STATUS 0x1f7     /* reading it also acknowledges an interrupt */
#define ATA_COMMAND 0x1f7
#define ATA_CONTROL 0x3f6    /* bit 1: nIEN, no interrupts; reading gives the status, unacknowledged */

#define STATUS_BSY 0x80
#define STATUS_DRDY 0x40
#define STATUS_DF 0x20
#define STATUS_DRQ 0x08
#define STATUS_ERR 0x01

#define CMD_READ_SECTORS 0x20
#define CMD_READ_SECTORS_EXT 0x24
#define CMD_WRITE_SECTORS 0x30
#define CMD_WRITE_SECTORS_EXT 0x34
#define CMD_FLUSH_CACHE 0xe7
#define CMD_FLUSH_CACHE_EXT 0xea
#define CMD_IDENTIFY 0xec

#define POLL_LIMIT 10000000u /* status reads before a command counts as lost */

/* The 400 ns a drive may take to show a new status (ATA-6 §9.2.1): four reads. */
static void settle(void)
{
	for (int i = 0; i < 4; i++)
		(void)inb(ATA_CONTROL);
}

static int wait_not_busy(uint8_t *status)
{
	for (uint32_t i = 0; i < POLL_LIMIT; i++) {
		*status = inb(ATA_STATUS);
		if (!(*status & STATUS_BSY))
			return 0;
	}
	return -1;
}

/* Wait for DRQ: the drive has a sector for us, or wants one. */
static int wait_data(void)
{
	uint8_t status;
	if (wait_not_busy(&status))
		return -1;
	for (uint32_t i = 0; i < POLL_LIMIT; i++) {
		if (status & (STATUS_ERR | STATUS_DF))
			return -1;
		if (status & STATUS_DRQ)
			return 0;
		status = inb(ATA_STATUS);
	}
	return -1;
}

/* Select the master and load count 1 and @sector, in 28 or 48 bits (ATA-6 §8.34, §8.36). */
static int issue(struct ata_disk *disk, uint64_t sector, uint8_t command28, uint8_t command48)
{
	uint8_t status;
	if (sector >= disk->sectors || wait_not_busy(&status))
		return -1;
	if (disk->lba48) {
		outb(ATA_DEVICE, 0x40);
		settle();
		outb(ATA_COUNT, 0); /* the high bytes first, then the low ones */
		outb(ATA_LBA_LOW, (uint8_t)(sector >> 24));
		outb(ATA_LBA_MID, (uint8_t)(sector >> 32));
		outb(ATA_LBA_HIGH, (uint8_t)(sector >> 40));
		outb(ATA_COUNT, 1);
		outb(ATA_LBA_LOW, (uint8_t)sector);
		outb(ATA_LBA_MID, (uint8_t)(sector >> 8));
		outb(ATA_LBA_HIGH, (uint8_t)(sector >> 16));
		outb(ATA_COMMAND, command48);
	} else {
		outb(ATA_DEVICE, (uint8_t)(0xe0 | ((sector >> 24) & 0x0f)));
		settle();
		outb(ATA_COUNT, 1);
		outb(ATA_LBA_LOW, (uint8_t)sector);
		outb(ATA_LBA_MID, (uint8_t)(sector >> 8));
		outb(ATA_LBA_HIGH, (uint8_t)(sector >> 16));
		outb(ATA_COMMAND, command28);
	}
	settle();
	return 0;
}

int ata_probe(struct ata_disk *disk)
{
	uint16_t id[256];
	memset(disk, 0, sizeof(*disk));
	outb(ATA_CONTROL, 0x02); /* nIEN */
	outb(ATA_DEVICE, 0xa0);  /* the master */
	settle();
	outb(ATA_COUNT, 0);
	outb(ATA_LBA_LOW, 0);
	outb(ATA_LBA_MID, 0);
	outb(ATA_LBA_HIGH, 0);
	outb(ATA_COMMAND, CMD_IDENTIFY);
	settle();
	if (inb(ATA_STATUS) == 0 || inb(ATA_STATUS) == 0xff)
		return -1; /* nothing there (a floating bus reads 0xFF) */
	uint8_t status;
	if (wait_not_busy(&status))
		return -1;
	if (inb(ATA_LBA_MID) || inb(ATA_LBA_HIGH))
		return -1; /* an ATAPI (CD-ROM) or SATA signature: not an ATA disk */
	if (wait_data())
		return -1;
	for (int i = 0; i < 256; i++)
		id[i] = inw(ATA_DATA);
	/* The model string is byte-swapped in each word (ATA-6 §8.15.8). */
	for (int i = 0; i < 20; i++) {
		disk->model[2 * i] = (char)(id[27 + i] >> 8);
		disk->model[2 * i + 1] = (char)id[27 + i];
	}
	for (int i = 39; i >= 0 && disk->model[i] == ' '; i--)
		disk->model[i] = '\0';
	disk->lba48 = id[83] & (1u << 10);
	disk->sectors = disk->lba48 ? (uint64_t)id[100] | (uint64_t)id[101] << 16 | (uint64_t)id[102] << 32 |
					      (uint64_t)id[103] << 48
				    : (uint64_t)id[60] | (uint64_t)id[61] << 16;
	disk->present = disk->sectors != 0;
	return disk->present ? 0 : -1;
}

int ata_read(struct ata_disk *disk, uint64_t sector, void *buffer)
{
	uint16_t *words = buffer;
	if (issue(disk, sector, CMD_READ_SECTORS, CMD_READ_SECTORS_EXT) || wait_data())
		return -1;
	for (int i = 0; i < 256; i++)
		words[i] = inw(ATA_DATA);
	return 0;
}

int ata_write(struct ata_disk *disk, uint64_t sector, const void *buffer)
{
	const uint16_t *words = buffer;
	uint8_t status;
	if (issue(disk, sector, CMD_WRITE_SECTORS, CMD_WRITE_SECTORS_EXT) || wait_data())
		return -1;
	for (int i = 0; i < 256; i++)
		outw(ATA_DATA, words[i]);
	/* The write is done when the drive says so; then push its cache out (ATA-6 §8.10). */
	if (wait_not_busy(&status) || (status & (STATUS_ERR | STATUS_DF)))
		return -1;
	outb(ATA_COMMAND, disk->lba48 ? CMD_FLUSH_CACHE_EXT : CMD_FLUSH_CACHE);
	settle();
	return wait_not_busy(&status) || (status & (STATUS_ERR | STATUS_DF)) ? -1 : 0;
}
