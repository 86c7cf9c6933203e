/**
 * @file fat.h
 * @brief Dom0's filesystem: FAT16 and FAT32 on its disk, read and written.
 *
 * Dom0's disk holds the VM configs, the DomU kernels, the DomU disk images
 * and (lab 5) the save files, as files a person can also reach from the
 * host with Debian's mtools (`mdir -i disk.img`, `mcopy -i disk.img ::x .`)
 * without root and without mounting anything. That is why it is FAT: the one
 * filesystem whose tools the kit already installs (GRUB's ISO needs mtools),
 * small enough to implement in one file here, and documented in one public
 * specification (Microsoft's "FAT: General Overview of On-Disk Format",
 * fatgen103, cited below by section).
 *
 * What it does: long file names (read and created), subdirectories, files of
 * any size up to 4 GiB - 1 read, written at any offset (growing as needed),
 * truncated and removed; both FAT copies kept equal. What it does not: FAT12
 * (disks under ~16 MiB: refused by name), sectors other than 512 bytes,
 * timestamps (new entries carry a fixed date), and any caching beyond one
 * sector of the FAT: every call reaches the disk, so nothing is lost when a
 * DomU or Dom0 itself stops mid-way except the call in flight.
 *
 * The block device is a pair of callbacks, so the same code runs in Dom0
 * over its ATA disk and on the host over an image file (the kit's unit test,
 * grader/unit/test_dom0_fat.py, checks it against mtools and fsck.fat).
 */
#ifndef DOM0_FAT_H
#define DOM0_FAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Bytes per sector: the only size FAT volumes here may use. */
#define FAT_SECTOR_SIZE 512
/** Longest path component a name may have (the LFN limit, fatgen103 §7). */
#define FAT_NAME_MAX 255

/** Errors: negative values, Linux's errno numbers (fat_strerror() words them). */
enum fat_error {
	FAT_EIO = -5,       /**< the block device failed */
	FAT_ENOENT = -2,    /**< no such file or directory */
	FAT_EEXIST = -17,   /**< the name exists already */
	FAT_ENOTDIR = -20,  /**< a path component is a file */
	FAT_EISDIR = -21,   /**< a directory where a file was wanted */
	FAT_EINVAL = -22,   /**< a bad name, offset or volume */
	FAT_EFBIG = -27,    /**< past the 4 GiB - 1 a FAT file can hold */
	FAT_ENOSPC = -28,   /**< no free cluster (or no room in a FAT16 root) */
	FAT_ENOTEMPTY = -39 /**< a directory to remove still has entries */
};

/** A disk: 512-byte sectors through two callbacks that return 0 or a FAT_E*. */
struct fat_blockdev {
	void *context;     /**< passed back to the callbacks */
	uint64_t sectors;  /**< the disk's size */
	int (*read)(void *context, uint64_t sector, void *buffer);        /**< one sector */
	int (*write)(void *context, uint64_t sector, const void *buffer); /**< one sector */
};

/** A mounted volume: the geometry from its boot sector (fatgen103 §3). */
struct fat_volume {
	struct fat_blockdev *dev;
	int type;                      /**< 16 or 32 */
	uint32_t sectors_per_cluster;
	uint32_t reserved_sectors;     /**< before the first FAT */
	uint32_t fat_count;            /**< copies of the FAT (kept equal) */
	uint32_t fat_sectors;          /**< sectors of one FAT */
	uint32_t root_entries;         /**< FAT16: entries of the fixed root directory */
	uint32_t root_sector;          /**< FAT16: where that root directory starts */
	uint32_t root_cluster;         /**< FAT32: the root directory's first cluster */
	uint32_t data_sector;          /**< cluster 2's first sector */
	uint32_t clusters;             /**< data clusters: numbered 2 .. clusters + 1 */
	uint32_t fsinfo_sector;        /**< FAT32: the FSInfo sector (0: none) */
	uint32_t next_free;            /**< where the search for a free cluster starts */
	int64_t fat_cached;            /**< the FAT sector in fat_cache (-1: none) */
	uint8_t fat_cache[FAT_SECTOR_SIZE];
};

/** An open file or directory: where its data is and where its entry is. */
struct fat_file {
	uint32_t first_cluster;  /**< 0 for an empty file (and FAT16's root) */
	uint32_t size;           /**< bytes (0 for directories) */
	bool directory;
	uint64_t entry_sector;   /**< the sector holding its 32-byte entry (0: the root) */
	uint32_t entry_offset;   /**< the entry's byte offset in that sector */
};

/** What fat_list() reports of each entry of a directory. */
struct fat_dirent {
	char name[FAT_NAME_MAX + 1]; /**< the long name, or the short one as 'name.ext' */
	uint32_t size;
	bool directory;
};

/** Read the boot sector and check it; 0 or a FAT_E*. */
int fat_mount(struct fat_volume *v, struct fat_blockdev *dev);
/** Find @p path ("/dir/name", case-insensitive, '/' separated) and fill @p f. */
int fat_open(struct fat_volume *v, const char *path, struct fat_file *f);
/** Create the file @p path, empty (its directory must exist; an existing file is truncated). */
int fat_create(struct fat_volume *v, const char *path, struct fat_file *f);
/** Create the directory @p path (its parent must exist). */
int fat_mkdir(struct fat_volume *v, const char *path);
/** Read up to @p length bytes at @p offset; the count read (0 at the end) or a FAT_E*. */
int64_t fat_read(struct fat_volume *v, struct fat_file *f, uint64_t offset, void *buffer, uint64_t length);
/** Write @p length bytes at @p offset, growing the file (zeros in any gap); the count or a FAT_E*. */
int64_t fat_write(struct fat_volume *v, struct fat_file *f, uint64_t offset, const void *buffer,
		  uint64_t length);
/** Cut the file to @p size bytes (only shorter), freeing the clusters past it. */
int fat_truncate(struct fat_volume *v, struct fat_file *f, uint32_t size);
/** Remove the file, or the empty directory, @p path. */
int fat_remove(struct fat_volume *v, const char *path);
/** Call @p each for every entry of directory @p path ("." and ".." left out); stops at a nonzero return. */
int fat_list(struct fat_volume *v, const char *path, int (*each)(const struct fat_dirent *, void *), void *arg);
/** Clusters free, and the cluster size in bytes. */
int fat_free_space(struct fat_volume *v, uint32_t *free_clusters, uint32_t *cluster_bytes);
/** A word or two for a FAT_E* code. */
const char *fat_strerror(int error);

#endif
