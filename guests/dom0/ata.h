/**
 * @file ata.h
 * @brief Dom0's disk driver: an ATA disk on the primary IDE channel, by PIO.
 *
 * Dom0 drives its disk itself, as Xen's Dom0 does (the hypervisor has no disk
 * driver). PIO — the CPU moves every 16-bit word through port 0x1F0 — needs no
 * DMA and so no IOMMU: under nested paging Dom0 knows only guest-physical
 * addresses, and a DMA engine would need host-physical ones (DESIGN §10).
 * Facts from the ATA/ATAPI-6 standard (T13/1410D): the command block
 * registers §7.2-§7.15, IDENTIFY DEVICE §8.15, READ/WRITE SECTORS (EXT)
 * §8.34-§8.36, §8.62-§8.64, the PIO data-in/out protocols §9.5-§9.6.
 */
#ifndef DOM0_ATA_H
#define DOM0_ATA_H

#include <stdbool.h>
#include <stdint.h>

/** The disk found by ata_probe(). */
struct ata_disk {
	bool present;
	bool lba48;          /**< 48-bit sector numbers (IDENTIFY word 83 bit 10) */
	uint64_t sectors;    /**< 512-byte sectors */
	char model[41];      /**< IDENTIFY words 27-46, spaces trimmed */
};

/** Look for the master disk on the primary channel; 0, or -1 (no disk, or not ATA). */
int ata_probe(struct ata_disk *disk);
/** Read one 512-byte sector; 0 or -1 (the disk reported an error or did not answer). */
int ata_read(struct ata_disk *disk, uint64_t sector, void *buffer);
/** Write one 512-byte sector and flush the disk's cache; 0 or -1. */
int ata_write(struct ata_disk *disk, uint64_t sector, const void *buffer);

#endif
