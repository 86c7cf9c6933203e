/*
 * fat.c — FAT16 and FAT32 for Dom0's disk (fat.h says what and why).
 *
 * A FAT volume is four regions (fatgen103 §3-§6): the reserved sectors (the
 * boot sector with the BIOS Parameter Block that describes the rest), the
 * FATs (copies of one table with an entry per data cluster: 0 free, the next
 * cluster of a file, or end-of-chain), FAT16's fixed root directory, and the
 * data clusters, numbered from 2. A file is a chain of clusters; a directory
 * is a file of 32-byte entries; a long name is stored in extra entries just
 * before its short (8.3) entry, 13 UCS-2 characters each, last part first.
 */
#include "fat.h"
#include "fat_internal.h"

/* Directory entry fields this file writes (fatgen103 §6; fat_dir.c has the rest). */
#define DIR_NTRES 12        /* bit 3: the base is lower case; bit 4: the extension */
#define DIR_CLUSTER_HIGH 20
#define DIR_WRT_DATE 24
#define DIR_CLUSTER_LOW 26
#define DIR_SIZE 28
#define DIR_ENTRY_SIZE 32

/* New entries' date: the kit keeps no clock here (2026-01-01, fatgen103 §6 "Date format"). */
#define FIXED_DATE ((uint16_t)(((2026 - 1980) << 9) | (1 << 5) | 1))

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16; }
static void put16(uint8_t *p, uint16_t x) { p[0] = (uint8_t)x; p[1] = (uint8_t)(x >> 8); }
static void put32(uint8_t *p, uint32_t x) { put16(p, (uint16_t)x); put16(p + 2, (uint16_t)(x >> 16)); }

static char to_upper(char c) { return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c; }
static char to_lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c; }

static bool same_name(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (to_upper(*a) != to_upper(*b))
			return false;
	return *a == *b;
}

int fat_sector_read(struct fat_volume *v, uint64_t sector, void *buffer)
{
	if (sector >= v->dev->sectors)
		return FAT_EIO;
	return v->dev->read(v->dev->context, sector, buffer) ? FAT_EIO : 0;
}

int fat_sector_write(struct fat_volume *v, uint64_t sector, const void *buffer)
{
	if (sector >= v->dev->sectors)
		return FAT_EIO;
	return v->dev->write(v->dev->context, sector, buffer) ? FAT_EIO : 0;
}

/* --- mounting (fatgen103 §3.1-§3.5) ------------------------------------------------ */

int fat_mount(struct fat_volume *v, struct fat_blockdev *dev)
{
	uint8_t bs[FAT_SECTOR_SIZE];
	memset(v, 0, sizeof(*v));
	v->dev = dev;
	v->fat_cached = -1;
	if (dev->sectors == 0 || fat_sector_read(v, 0, bs))
		return FAT_EIO;
	if (bs[510] != 0x55 || bs[511] != 0xaa || get16(bs + 11) != FAT_SECTOR_SIZE)
		return FAT_EINVAL; /* no boot-sector signature, or not 512-byte sectors */
	uint32_t spc = bs[13], total = get16(bs + 19) ? get16(bs + 19) : get32(bs + 32);
	uint32_t fat16_size = get16(bs + 22);
	v->sectors_per_cluster = spc;
	v->reserved_sectors = get16(bs + 14);
	v->fat_count = bs[16];
	v->root_entries = get16(bs + 17);
	v->fat_sectors = fat16_size ? fat16_size : get32(bs + 36);
	if (spc == 0 || (spc & (spc - 1)) || v->reserved_sectors == 0 || v->fat_count == 0 ||
	    v->fat_sectors == 0 || total > dev->sectors)
		return FAT_EINVAL;
	uint32_t root_sectors = (v->root_entries * DIR_ENTRY_SIZE + FAT_SECTOR_SIZE - 1) / FAT_SECTOR_SIZE;
	v->root_sector = v->reserved_sectors + v->fat_count * v->fat_sectors;
	v->data_sector = v->root_sector + root_sectors;
	if (v->data_sector >= total)
		return FAT_EINVAL;
	v->clusters = (total - v->data_sector) / spc;
	/* The type follows from the cluster count alone (fatgen103 §3.5). */
	if (v->clusters < 4085)
		return FAT_EINVAL; /* FAT12: a floppy-sized volume, not supported */
	v->type = v->clusters < 65525 ? 16 : 32;
	if (v->type == 32) {
		if (v->root_entries || fat16_size)
			return FAT_EINVAL;
		v->root_cluster = get32(bs + 44);
		v->fsinfo_sector = get16(bs + 48);
		if (v->root_cluster < 2 || v->root_cluster > v->clusters + 1)
			return FAT_EINVAL;
	} else if (v->root_entries == 0) {
		return FAT_EINVAL;
	}
	/* Every FAT entry must fit in the FAT. */
	if ((uint64_t)(v->clusters + 2) * (v->type / 8) > (uint64_t)v->fat_sectors * FAT_SECTOR_SIZE)
		return FAT_EINVAL;
	v->next_free = 2;
	return 0;
}

/* --- the FAT: one entry per cluster (fatgen103 §4) --------------------------------- */

static int fat_sector_of(struct fat_volume *v, uint32_t cluster, uint32_t *sector, uint32_t *offset)
{
	uint32_t byte = cluster * (uint32_t)(v->type / 8);
	*sector = byte / FAT_SECTOR_SIZE;
	*offset = byte % FAT_SECTOR_SIZE;
	if (v->fat_cached != (int64_t)*sector) {
		if (fat_sector_read(v, v->reserved_sectors + *sector, v->fat_cache))
			return FAT_EIO;
		v->fat_cached = *sector;
	}
	return 0;
}

int fat_entry_get(struct fat_volume *v, uint32_t cluster, uint32_t *value)
{
	uint32_t sector, offset;
	if (fat_sector_of(v, cluster, &sector, &offset))
		return FAT_EIO;
	/* FAT32 entries are 28 bits: the top 4 are reserved (fatgen103 §4.2). */
	*value = v->type == 16 ? get16(v->fat_cache + offset) : get32(v->fat_cache + offset) & 0x0fffffff;
	return 0;
}

int fat_entry_set(struct fat_volume *v, uint32_t cluster, uint32_t value)
{
	uint32_t sector, offset;
	if (fat_sector_of(v, cluster, &sector, &offset))
		return FAT_EIO;
	if (v->type == 16)
		put16(v->fat_cache + offset, (uint16_t)value);
	else
		put32(v->fat_cache + offset, (get32(v->fat_cache + offset) & 0xf0000000) | (value & 0x0fffffff));
	for (uint32_t copy = 0; copy < v->fat_count; copy++) /* every copy, the same */
		if (fat_sector_write(v, v->reserved_sectors + copy * v->fat_sectors + sector, v->fat_cache))
			return FAT_EIO;
	return 0;
}

bool fat_is_end(struct fat_volume *v, uint32_t value)
{
	return value >= (v->type == 16 ? 0xfff8u : 0x0ffffff8u);
}

/* A value that may link a chain: a data cluster of this volume. */
bool fat_is_cluster(struct fat_volume *v, uint32_t value)
{
	return value >= 2 && value <= v->clusters + 1;
}

uint64_t fat_cluster_sector(struct fat_volume *v, uint32_t cluster)
{
	return v->data_sector + (uint64_t)(cluster - 2) * v->sectors_per_cluster;
}

/* FAT32 keeps a hint of the free count in its FSInfo sector (fatgen103 §5):
 * once this code changes the FAT, mark it unknown rather than keep it exact. */
static int fsinfo_forget(struct fat_volume *v)
{
	uint8_t s[FAT_SECTOR_SIZE];
	if (v->type != 32 || v->fsinfo_sector == 0 || v->fsinfo_sector == 0xffff)
		return 0;
	if (fat_sector_read(v, v->fsinfo_sector, s))
		return FAT_EIO;
	if (get32(s) != 0x41615252 || get32(s + 484) != 0x61417272)
		return 0; /* no FSInfo signature: nothing to keep in step */
	if (get32(s + 488) == 0xffffffff && get32(s + 492) == 0xffffffff)
		return 0;
	put32(s + 488, 0xffffffff);
	put32(s + 492, 0xffffffff);
	return fat_sector_write(v, v->fsinfo_sector, s);
}

/* Take a free cluster, mark it the end of a chain, and zero it if asked. */
int fat_cluster_alloc(struct fat_volume *v, bool zero, uint32_t *out)
{
	for (uint32_t n = 0; n < v->clusters; n++) {
		uint32_t c = 2 + (v->next_free - 2 + n) % v->clusters, value;
		if (fat_entry_get(v, c, &value))
			return FAT_EIO;
		if (value != 0)
			continue;
		if (fsinfo_forget(v) || fat_entry_set(v, c, 0x0fffffff))
			return FAT_EIO;
		v->next_free = c + 1 > v->clusters + 1 ? 2 : c + 1;
		if (zero) {
			uint8_t blank[FAT_SECTOR_SIZE] = {0};
			for (uint32_t s = 0; s < v->sectors_per_cluster; s++)
				if (fat_sector_write(v, fat_cluster_sector(v, c) + s, blank))
					return FAT_EIO;
		}
		*out = c;
		return 0;
	}
	return FAT_ENOSPC;
}

/* Free the chain that starts at @first. A chain longer than the volume is a loop. */
int fat_chain_free(struct fat_volume *v, uint32_t first)
{
	uint32_t c = first;
	if (fsinfo_forget(v))
		return FAT_EIO;
	for (uint32_t n = 0; fat_is_cluster(v, c); n++) {
		uint32_t next;
		if (n > v->clusters || fat_entry_get(v, c, &next) || fat_entry_set(v, c, 0))
			return FAT_EIO;
		if (c < v->next_free)
			v->next_free = c;
		if (fat_is_end(v, next))
			return 0;
		c = next;
	}
	return c == first ? 0 : FAT_EIO;
}

/* The cluster that holds byte @index * cluster size of @f, growing the chain when
 * @grow (a new first cluster lands in f->first_cluster: the caller writes the entry). */
int fat_cluster_at(struct fat_volume *v, struct fat_file *f, uint32_t index, bool grow, uint32_t *out)
{
	if (f->first_cluster == 0) {
		if (!grow)
			return FAT_EIO;
		if (fat_cluster_alloc(v, f->directory, &f->first_cluster))
			return FAT_ENOSPC;
	}
	uint32_t c = f->first_cluster;
	for (uint32_t n = 0; n < index; n++) {
		uint32_t next;
		if (!fat_is_cluster(v, c) || fat_entry_get(v, c, &next))
			return FAT_EIO;
		if (fat_is_end(v, next)) {
			if (!grow)
				return FAT_EIO; /* the chain is shorter than the size says */
			int err = fat_cluster_alloc(v, f->directory, &next);
			if (err)
				return err;
			if (fat_entry_set(v, c, next))
				return FAT_EIO;
		}
		c = next;
	}
	if (!fat_is_cluster(v, c))
		return FAT_EIO;
	*out = c;
	return 0;
}

int fat_free_space(struct fat_volume *v, uint32_t *free_clusters, uint32_t *cluster_bytes)
{
	uint32_t count = 0;
	for (uint32_t c = 2; c < v->clusters + 2; c++) {
		uint32_t value;
		if (fat_entry_get(v, c, &value))
			return FAT_EIO;
		count += value == 0;
	}
	*free_clusters = count;
	*cluster_bytes = v->sectors_per_cluster * FAT_SECTOR_SIZE;
	return 0;
}

/* --- file data ------------------------------------------------------------------------ */

/* Move *cluster to the next cluster of f's chain, growing the chain at its end when @grow. */
int fat_step(struct fat_volume *v, struct fat_file *f, uint32_t *cluster, bool grow)
{
	uint32_t next;
	if (fat_entry_get(v, *cluster, &next))
		return FAT_EIO;
	if (fat_is_end(v, next) && grow) {
		int err = fat_cluster_alloc(v, f->directory, &next);
		if (err)
			return err;
		if (fat_entry_set(v, *cluster, next))
			return FAT_EIO;
	}
	if (!fat_is_cluster(v, next))
		return FAT_EIO; /* the chain ends before the size says, or is damaged */
	*cluster = next;
	return 0;
}

/* Copy between @data and f's bytes [offset, offset + length): a read, or (@writing)
 * a write that grows the chain; NULL data writes zeros. One walk to the first
 * cluster, then one step per cluster; partial sectors are read, changed, written. */
static int64_t transfer(struct fat_volume *v, struct fat_file *f, uint64_t offset, uint8_t *data,
			uint64_t length, bool writing)
{
	uint8_t sector[FAT_SECTOR_SIZE];
	uint32_t cluster_bytes = v->sectors_per_cluster * FAT_SECTOR_SIZE, cluster = 0;
	for (uint64_t done = 0; done < length;) {
		uint64_t at = offset + done;
		uint32_t in_cluster = (uint32_t)(at % cluster_bytes);
		int err = 0;
		if (done == 0)
			err = fat_cluster_at(v, f, (uint32_t)(at / cluster_bytes), writing, &cluster);
		else if (in_cluster == 0)
			err = fat_step(v, f, &cluster, writing);
		if (err)
			return err;
		uint64_t s = fat_cluster_sector(v, cluster) + in_cluster / FAT_SECTOR_SIZE;
		uint32_t in_sector = in_cluster % FAT_SECTOR_SIZE;
		uint64_t n = FAT_SECTOR_SIZE - in_sector;
		if (n > length - done)
			n = length - done;
		bool whole = n == FAT_SECTOR_SIZE;
		if (!writing) {
			if (fat_sector_read(v, s, sector))
				return FAT_EIO;
			memcpy(data + done, sector + in_sector, n);
		} else if (whole && data) {
			if (fat_sector_write(v, s, data + done))
				return FAT_EIO;
		} else {
			/* Keep what the sector already holds of the file; past its end, zeros. */
			if (!whole && at - in_sector < f->size) {
				if (fat_sector_read(v, s, sector))
					return FAT_EIO;
			} else {
				memset(sector, 0, sizeof(sector));
			}
			if (data)
				memcpy(sector + in_sector, data + done, n);
			else
				memset(sector + in_sector, 0, n);
			if (fat_sector_write(v, s, sector))
				return FAT_EIO;
		}
		done += n;
	}
	return (int64_t)length;
}

int64_t fat_read(struct fat_volume *v, struct fat_file *f, uint64_t offset, void *buffer, uint64_t length)
{
	if (f->directory)
		return FAT_EISDIR;
	if (offset >= f->size)
		return 0;
	if (length > f->size - offset)
		length = f->size - offset;
	return transfer(v, f, offset, buffer, length, false);
}

int64_t fat_write(struct fat_volume *v, struct fat_file *f, uint64_t offset, const void *buffer,
		  uint64_t length)
{
	if (f->directory)
		return FAT_EISDIR;
	if (offset + length > 0xffffffffull || offset + length < offset)
		return FAT_EFBIG;
	int64_t err = 0;
	if (offset > f->size) /* a gap reads as zeros, as on every filesystem */
		err = transfer(v, f, f->size, NULL, offset - f->size, true);
	if (err >= 0)
		err = transfer(v, f, offset, (uint8_t *)buffer, length, true);
	if (err >= 0 && offset + length > f->size)
		f->size = (uint32_t)(offset + length);
	int saved = fat_entry_update(v, f); /* the size and first cluster, even after a partial write */
	return err < 0 ? err : saved ? saved : (int64_t)length;
}

int fat_truncate(struct fat_volume *v, struct fat_file *f, uint32_t size)
{
	uint32_t cluster_bytes = v->sectors_per_cluster * FAT_SECTOR_SIZE;
	if (f->directory)
		return FAT_EISDIR;
	if (size >= f->size)
		return 0;
	uint32_t keep = (size + cluster_bytes - 1) / cluster_bytes;
	if (keep == 0) {
		if (f->first_cluster && fat_chain_free(v, f->first_cluster))
			return FAT_EIO;
		f->first_cluster = 0;
	} else {
		uint32_t last, rest;
		if (fat_cluster_at(v, f, keep - 1, false, &last) || fat_entry_get(v, last, &rest))
			return FAT_EIO;
		if (!fat_is_end(v, rest) && (fat_entry_set(v, last, 0x0fffffff) || fat_chain_free(v, rest)))
			return FAT_EIO;
	}
	f->size = size;
	return fat_entry_update(v, f);
}

/* Write f's first cluster and size back into its directory entry. */
int fat_entry_update(struct fat_volume *v, struct fat_file *f)
{
	uint8_t s[FAT_SECTOR_SIZE];
	if (f->entry_sector == 0)
		return 0; /* the root directory has no entry */
	if (fat_sector_read(v, f->entry_sector, s))
		return FAT_EIO;
	uint8_t *e = s + f->entry_offset;
	put16(e + DIR_CLUSTER_HIGH, (uint16_t)(f->first_cluster >> 16));
	put16(e + DIR_CLUSTER_LOW, (uint16_t)f->first_cluster);
	put32(e + DIR_SIZE, f->directory ? 0 : f->size);
	put16(e + DIR_WRT_DATE, FIXED_DATE);
	return fat_sector_write(v, f->entry_sector, s);
}

const char *fat_strerror(int error)
{
	switch (error) {
	case 0: return "no error";
	case FAT_EIO: return "the disk failed, or the volume is damaged";
	case FAT_ENOENT: return "no such file or directory";
	case FAT_EEXIST: return "the name exists already";
	case FAT_ENOTDIR: return "not a directory";
	case FAT_EISDIR: return "is a directory";
	case FAT_EINVAL: return "not a FAT16/FAT32 volume, or a bad name";
	case FAT_EFBIG: return "a FAT file holds at most 4 GiB - 1";
	case FAT_ENOSPC: return "no space left on the disk";
	case FAT_ENOTEMPTY: return "the directory is not empty";
	default: return "unknown error";
	}
}

/* Shared with fat_dir.c: names. */
void fat_short_name_text(const uint8_t *entry, char *out)
{
	int n = 0;
	uint8_t lower = entry[DIR_NTRES];
	for (int i = 0; i < 8 && entry[i] != ' '; i++) {
		char c = (char)(i == 0 && entry[0] == 0x05 ? 0xe5 : entry[i]); /* 0x05 stands for 0xE5 */
		out[n++] = lower & 0x08 ? to_lower(c) : c;
	}
	if (entry[8] != ' ') {
		out[n++] = '.';
		for (int i = 8; i < 11 && entry[i] != ' '; i++)
			out[n++] = lower & 0x10 ? to_lower((char)entry[i]) : (char)entry[i];
	}
	out[n] = '\0';
}

bool fat_same_name(const char *a, const char *b) { return same_name(a, b); }
char fat_upper(char c) { return to_upper(c); }
