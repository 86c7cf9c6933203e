/*
 * fat_dir.c — FAT directories: entries, long names, paths (fatgen103 §6-§7).
 *
 * A directory is an array of 32-byte entries. Entry byte 0 says what it is:
 * 0x00 the end (every later entry is unused too), 0xE5 a deleted entry, else
 * a live one. A long name takes the entries just before its short entry, last
 * part first (its first byte is the part number | 0x40), 13 UCS-2 characters
 * each, all carrying a checksum of the short name so that an old system that
 * renamed the short entry without knowing of long names can be detected.
 */
#include "fat_internal.h"

#define ATTR_DIRECTORY 0x10
#define ATTR_ARCHIVE 0x20
#define ATTR_VOLUME_ID 0x08
#define ATTR_LONG_NAME 0x0f
#define ENTRY_END 0x00
#define ENTRY_FREE 0xe5
#define LFN_LAST 0x40
#define LFN_CHARS 13
#define ENTRY_SIZE 32
#define ENTRIES_PER_SECTOR (FAT_SECTOR_SIZE / ENTRY_SIZE)
#define FIXED_DATE ((uint16_t)(((2026 - 1980) << 9) | (1 << 5) | 1))

/* Where the 13 characters of a long-name entry sit (fatgen103 §7). */
static const uint8_t lfn_offsets[LFN_CHARS] = {1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30};

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static void put16(uint8_t *p, uint16_t x) { p[0] = (uint8_t)x; p[1] = (uint8_t)(x >> 8); }

static uint8_t short_name_checksum(const uint8_t *name11)
{
	uint8_t sum = 0;
	for (int i = 0; i < 11; i++)
		sum = (uint8_t)(((sum & 1) << 7) + (sum >> 1) + name11[i]);
	return sum;
}

/* The directory this volume's root is, as an open file. */
static void root_of(struct fat_volume *v, struct fat_file *f)
{
	memset(f, 0, sizeof(*f));
	f->directory = true;
	f->first_cluster = v->type == 32 ? v->root_cluster : 0;
}

/* Where entry @index of @dir is. 1: past the directory's end (when not @grow);
 * growing a subdirectory adds a zeroed cluster; FAT16's root cannot grow. */
static int dir_locate(struct fat_volume *v, struct fat_file *dir, uint32_t index, bool grow, uint64_t *sector,
		      uint32_t *offset)
{
	*offset = (index % ENTRIES_PER_SECTOR) * ENTRY_SIZE;
	if (dir->first_cluster == 0) { /* FAT16's fixed root directory */
		if (index >= v->root_entries)
			return grow ? FAT_ENOSPC : 1;
		*sector = v->root_sector + index / ENTRIES_PER_SECTOR;
		return 0;
	}
	uint32_t per_cluster = v->sectors_per_cluster * ENTRIES_PER_SECTOR, c = dir->first_cluster;
	for (uint32_t n = 0; n < index / per_cluster; n++) {
		uint32_t next;
		if (n > v->clusters || fat_entry_get(v, c, &next))
			return FAT_EIO;
		if (fat_is_end(v, next) && !grow)
			return 1;
		int err = fat_step(v, dir, &c, grow);
		if (err)
			return err;
	}
	*sector = fat_cluster_sector(v, c) + (index % per_cluster) / ENTRIES_PER_SECTOR;
	return 0;
}

/* One live entry of a directory, as dir_walk() hands it over. */
struct dir_item {
	uint8_t entry[ENTRY_SIZE];
	char name[FAT_NAME_MAX + 1]; /* the long name when it is intact, else the short one */
	uint32_t first_index;        /* its first entry (a long name's first part) */
	uint32_t index;              /* its short entry */
	uint64_t sector;
	uint32_t offset;
};

/* Call @each for every live short entry of @dir (volume labels left out), in order. */
static int dir_walk(struct fat_volume *v, struct fat_file *dir, int (*each)(struct dir_item *, void *), void *arg)
{
	uint8_t s[FAT_SECTOR_SIZE];
	uint64_t loaded = 0;
	struct dir_item item;
	char lfn[FAT_NAME_MAX + 1];
	int lfn_next = 0; /* the part number the next long-name entry must have (0: none pending) */
	uint8_t lfn_sum = 0;
	uint32_t lfn_first = 0;
	for (uint32_t index = 0;; index++) {
		uint64_t sector;
		uint32_t offset;
		int err = dir_locate(v, dir, index, false, &sector, &offset);
		if (err)
			return err > 0 ? 0 : err;
		if (sector != loaded) {
			if (fat_sector_read(v, sector, s))
				return FAT_EIO;
			loaded = sector;
		}
		const uint8_t *e = s + offset;
		if (e[0] == ENTRY_END)
			return 0;
		if (e[0] == ENTRY_FREE) {
			lfn_next = 0;
			continue;
		}
		if ((e[11] & 0x3f) == ATTR_LONG_NAME) {
			int part = e[0] & 0x1f;
			if (e[0] & LFN_LAST) {
				memset(lfn, 0, sizeof(lfn));
				lfn_sum = e[13];
				lfn_first = index;
			} else if (part != lfn_next - 1 || e[13] != lfn_sum) {
				lfn_next = 0; /* out of sequence: an orphan part */
				continue;
			}
			if (part < 1 || part > 20) {
				lfn_next = 0;
				continue;
			}
			for (int i = 0; i < LFN_CHARS; i++) {
				uint16_t ch = get16(e + lfn_offsets[i]);
				int at = (part - 1) * LFN_CHARS + i;
				if (ch == 0 || ch == 0xffff || at >= FAT_NAME_MAX)
					break;
				lfn[at] = ch < 0x80 ? (char)ch : '?';
			}
			lfn_next = part;
			continue;
		}
		if (e[11] & ATTR_VOLUME_ID) {
			lfn_next = 0;
			continue;
		}
		memcpy(item.entry, e, ENTRY_SIZE);
		bool long_ok = lfn_next == 1 && lfn_sum == short_name_checksum(e) && lfn[0];
		if (long_ok) {
			memcpy(item.name, lfn, sizeof(lfn));
			item.first_index = lfn_first;
		} else {
			fat_short_name_text(e, item.name);
			item.first_index = index;
		}
		lfn_next = 0;
		item.index = index;
		item.sector = sector;
		item.offset = offset;
		if ((err = each(&item, arg)) != 0)
			return err;
	}
}

static void file_of(struct fat_volume *v, const struct dir_item *item, struct fat_file *f)
{
	(void)v;
	f->first_cluster = (uint32_t)get16(item->entry + 20) << 16 | get16(item->entry + 26);
	f->size = (uint32_t)get16(item->entry + 28) | (uint32_t)get16(item->entry + 30) << 16;
	f->directory = item->entry[11] & ATTR_DIRECTORY;
	f->entry_sector = item->sector;
	f->entry_offset = item->offset;
}

struct find {
	const char *name;
	struct dir_item found;
};

static int find_one(struct dir_item *item, void *arg)
{
	struct find *q = arg;
	char short_text[13];
	fat_short_name_text(item->entry, short_text);
	if (!fat_same_name(item->name, q->name) && !fat_same_name(short_text, q->name))
		return 0;
	q->found = *item;
	return 1;
}

/* Find @name in @dir: 0 with @item filled, FAT_ENOENT, or another error. */
static int dir_find(struct fat_volume *v, struct fat_file *dir, const char *name, struct dir_item *item)
{
	struct find q = {.name = name};
	int err = dir_walk(v, dir, find_one, &q);
	if (err < 0)
		return err;
	if (err == 0)
		return FAT_ENOENT;
	*item = q.found;
	return 0;
}

/* Copy the next path component of *path into @name; 0 at the end, else its length. */
static int next_component(const char **path, char *name)
{
	const char *p = *path;
	while (*p == '/')
		p++;
	int n = 0;
	while (*p && *p != '/') {
		if (n == FAT_NAME_MAX)
			return FAT_EINVAL;
		name[n++] = *p++;
	}
	name[n] = '\0';
	*path = p;
	return n;
}

/* Open the directory that holds the last component of @path, and return that component. */
static int open_parent(struct fat_volume *v, const char *path, struct fat_file *dir, char *leaf)
{
	char name[FAT_NAME_MAX + 1];
	root_of(v, dir);
	leaf[0] = '\0';
	for (;;) {
		int n = next_component(&path, name);
		if (n < 0)
			return n;
		if (n == 0)
			return leaf[0] ? 0 : FAT_EINVAL; /* the root itself has no parent */
		const char *rest = path;
		char probe[FAT_NAME_MAX + 1];
		if (next_component(&rest, probe) == 0) {
			memcpy(leaf, name, (size_t)n + 1);
			return 0;
		}
		struct dir_item item;
		int err = dir_find(v, dir, name, &item);
		if (err)
			return err;
		if (!(item.entry[11] & ATTR_DIRECTORY))
			return FAT_ENOTDIR;
		file_of(v, &item, dir);
		if (dir->first_cluster == 0)
			root_of(v, dir); /* ".." of a child of the root */
	}
}

int fat_open(struct fat_volume *v, const char *path, struct fat_file *f)
{
	char leaf[FAT_NAME_MAX + 1];
	struct fat_file dir;
	struct dir_item item;
	const char *p = path;
	char probe[FAT_NAME_MAX + 1];
	if (next_component(&p, probe) == 0) { /* "/" */
		root_of(v, f);
		return 0;
	}
	int err = open_parent(v, path, &dir, leaf);
	if (err)
		return err;
	if ((err = dir_find(v, &dir, leaf, &item)))
		return err;
	file_of(v, &item, f);
	if (f->directory && f->first_cluster == 0)
		root_of(v, f);
	return 0;
}

/* --- new entries ------------------------------------------------------------------- */

static bool valid_short_char(char c)
{
	if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	for (const char *p = "!#$%&'()-@^_`{}~"; *p; p++)
		if (c == *p)
			return true;
	return false;
}

static bool contains(const char *set, char c)
{
	for (; *set; set++)
		if (*set == c)
			return true;
	return false;
}

static bool valid_long_name(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > FAT_NAME_MAX || !strcmp(name, ".") || !strcmp(name, "..") || name[n - 1] == '.' ||
	    name[n - 1] == ' ')
		return false;
	for (const char *p = name; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f || contains("\"*/:<>?\\|", *p))
			return false;
	return true;
}

/* Is @name an 8.3 name as it stands? Fill the 11-byte short name and the case flags. */
static bool fits_short(const char *name, uint8_t *name11, uint8_t *case_flags)
{
	int base = 0, ext = -1;
	bool lower[2] = {false, false}, upper[2] = {false, false};
	memset(name11, ' ', 11);
	for (const char *p = name; *p; p++) {
		int part = ext >= 0;
		if (*p == '.') {
			if (part || p == name)
				return false;
			ext = 0;
			continue;
		}
		char c = fat_upper(*p);
		if (!valid_short_char(c))
			return false;
		lower[part] |= *p != c;
		upper[part] |= *p >= 'A' && *p <= 'Z';
		if (part ? ext == 3 : base == 8)
			return false;
		name11[part ? 8 + ext++ : base++] = (uint8_t)c;
	}
	if (base == 0 || ext == 0 || (lower[0] && upper[0]) || (lower[1] && upper[1]))
		return false;
	*case_flags = (uint8_t)((lower[0] ? 0x08 : 0) | (lower[1] ? 0x10 : 0));
	return true;
}

struct short_clash {
	const uint8_t *name11;
};

static int clash_one(struct dir_item *item, void *arg)
{
	return !memcmp(item->entry, ((struct short_clash *)arg)->name11, 11);
}

/* A short name "BASE~N.EXT" no entry of @dir has yet (fatgen103 §7, "numeric tail"). */
static int make_short_name(struct fat_volume *v, struct fat_file *dir, const char *name, uint8_t *name11)
{
	char base[8];
	int base_len = 0, ext_len = 0;
	const char *dot = NULL;
	for (const char *p = name; *p; p++)
		if (*p == '.')
			dot = p;
	memset(name11, ' ', 11);
	for (const char *p = name; *p && p != dot; p++) {
		char c = fat_upper(*p);
		if (c == '.' || c == ' ')
			continue;
		if (base_len < 8)
			base[base_len++] = valid_short_char(c) ? c : '_';
	}
	for (const char *p = dot ? dot + 1 : ""; *p && ext_len < 3; p++) {
		char c = fat_upper(*p);
		if (c != ' ')
			name11[8 + ext_len++] = (uint8_t)(valid_short_char(c) ? c : '_');
	}
	if (base_len == 0)
		base[base_len++] = '_';
	for (uint32_t tail = 1; tail < 1000000; tail++) {
		char digits[8];
		int d = 0;
		for (uint32_t t = tail; t; t /= 10)
			digits[d++] = (char)('0' + t % 10);
		int keep = base_len < 7 - d ? base_len : 7 - d;
		memcpy(name11, base, (size_t)keep);
		name11[keep] = '~';
		for (int i = 0; i < d; i++)
			name11[keep + 1 + i] = (uint8_t)digits[d - 1 - i];
		for (int i = keep + 1 + d; i < 8; i++)
			name11[i] = ' ';
		struct short_clash q = {name11};
		int err = dir_walk(v, dir, clash_one, &q);
		if (err < 0)
			return err;
		if (err == 0)
			return 0;
	}
	return FAT_EEXIST;
}

static int write_entry(struct fat_volume *v, struct fat_file *dir, uint32_t index, const uint8_t *entry,
		       uint64_t *sector, uint32_t *offset)
{
	uint8_t s[FAT_SECTOR_SIZE];
	int err = dir_locate(v, dir, index, true, sector, offset);
	if (err)
		return err;
	if (fat_sector_read(v, *sector, s))
		return FAT_EIO;
	memcpy(s + *offset, entry, ENTRY_SIZE);
	return fat_sector_write(v, *sector, s);
}

/* Find @need consecutive unused entries in @dir (growing it if it must); their first index. */
static int find_free_run(struct fat_volume *v, struct fat_file *dir, uint32_t need, uint32_t *start)
{
	uint8_t s[FAT_SECTOR_SIZE];
	uint32_t run = 0;
	for (uint32_t index = 0;; index++) {
		uint64_t sector;
		uint32_t offset;
		int err = dir_locate(v, dir, index, false, &sector, &offset);
		if (err < 0)
			return err;
		if (err > 0) { /* past the end of a subdirectory: the rest comes from growing it */
			*start = index - run;
			return 0;
		}
		if (fat_sector_read(v, sector, s))
			return FAT_EIO;
		uint8_t first = s[offset];
		if (first == ENTRY_END) { /* every entry from here on is unused */
			*start = index - run;
			if (dir->first_cluster == 0 && *start + need > v->root_entries)
				return FAT_ENOSPC;
			return 0;
		}
		run = first == ENTRY_FREE ? run + 1 : 0;
		if (run == need) {
			*start = index + 1 - need;
			return 0;
		}
	}
}

/* Add entries for @name (long-name parts as needed, then the short entry) to @dir. */
static int dir_add(struct fat_volume *v, struct fat_file *dir, const char *name, uint8_t attributes,
		   uint32_t first_cluster, struct fat_file *out)
{
	uint8_t name11[11], case_flags = 0, entry[ENTRY_SIZE];
	if (!valid_long_name(name))
		return FAT_EINVAL;
	bool long_name = !fits_short(name, name11, &case_flags);
	if (long_name) {
		int err = make_short_name(v, dir, name, name11);
		if (err)
			return err;
		case_flags = 0;
	}
	uint32_t length = (uint32_t)strlen(name), parts = long_name ? (length + LFN_CHARS - 1) / LFN_CHARS : 0;
	uint32_t start;
	int err = find_free_run(v, dir, parts + 1, &start);
	if (err)
		return err;
	uint8_t sum = short_name_checksum(name11);
	uint64_t sector;
	uint32_t offset;
	for (uint32_t i = 0; i < parts; i++) {
		uint32_t part = parts - i; /* the last part is written first */
		memset(entry, 0, sizeof(entry));
		entry[0] = (uint8_t)(part | (i == 0 ? LFN_LAST : 0));
		entry[11] = ATTR_LONG_NAME;
		entry[13] = sum;
		for (int c = 0; c < LFN_CHARS; c++) {
			uint32_t at = (part - 1) * LFN_CHARS + (uint32_t)c;
			uint16_t ch = at < length ? (uint8_t)name[at] : at == length ? 0 : 0xffff;
			put16(entry + lfn_offsets[c], ch);
		}
		if ((err = write_entry(v, dir, start + i, entry, &sector, &offset)))
			return err;
	}
	memset(entry, 0, sizeof(entry));
	memcpy(entry, name11, 11);
	entry[11] = attributes;
	entry[12] = case_flags;
	put16(entry + 16, FIXED_DATE); /* created */
	put16(entry + 18, FIXED_DATE); /* last accessed */
	put16(entry + 20, (uint16_t)(first_cluster >> 16));
	put16(entry + 24, FIXED_DATE); /* written */
	put16(entry + 26, (uint16_t)first_cluster);
	if ((err = write_entry(v, dir, start + parts, entry, &sector, &offset)))
		return err;
	memset(out, 0, sizeof(*out));
	out->first_cluster = first_cluster;
	out->directory = attributes & ATTR_DIRECTORY;
	out->entry_sector = sector;
	out->entry_offset = offset;
	return 0;
}

int fat_create(struct fat_volume *v, const char *path, struct fat_file *f)
{
	char leaf[FAT_NAME_MAX + 1];
	struct fat_file dir;
	struct dir_item item;
	int err = open_parent(v, path, &dir, leaf);
	if (err)
		return err;
	err = dir_find(v, &dir, leaf, &item);
	if (err == 0) { /* an existing file starts again, empty */
		file_of(v, &item, f);
		return f->directory ? FAT_EISDIR : fat_truncate(v, f, 0);
	}
	return err == FAT_ENOENT ? dir_add(v, &dir, leaf, ATTR_ARCHIVE, 0, f) : err;
}

int fat_mkdir(struct fat_volume *v, const char *path)
{
	char leaf[FAT_NAME_MAX + 1];
	struct fat_file dir, made;
	struct dir_item item;
	uint32_t cluster;
	int err = open_parent(v, path, &dir, leaf);
	if (err)
		return err;
	err = dir_find(v, &dir, leaf, &item);
	if (err != FAT_ENOENT)
		return err ? err : FAT_EEXIST;
	if (!valid_long_name(leaf))
		return FAT_EINVAL;
	if ((err = fat_cluster_alloc(v, true, &cluster)))
		return err;
	/* "." names the directory itself, ".." its parent: cluster 0 when that is the root. */
	uint8_t s[FAT_SECTOR_SIZE] = {0};
	uint32_t parent = dir.entry_sector == 0 ? 0 : dir.first_cluster;
	memset(s, ' ', 11);
	s[0] = '.';
	memset(s + ENTRY_SIZE, ' ', 11);
	s[ENTRY_SIZE] = s[ENTRY_SIZE + 1] = '.';
	for (int i = 0; i < 2; i++) {
		uint8_t *e = s + i * ENTRY_SIZE;
		uint32_t c = i == 0 ? cluster : parent;
		e[11] = ATTR_DIRECTORY;
		put16(e + 16, FIXED_DATE);
		put16(e + 18, FIXED_DATE);
		put16(e + 20, (uint16_t)(c >> 16));
		put16(e + 24, FIXED_DATE);
		put16(e + 26, (uint16_t)c);
	}
	if (fat_sector_write(v, fat_cluster_sector(v, cluster), s))
		return FAT_EIO;
	err = dir_add(v, &dir, leaf, ATTR_DIRECTORY, cluster, &made);
	if (err)
		fat_chain_free(v, cluster);
	return err;
}

static int any_entry(struct dir_item *item, void *arg)
{
	(void)arg;
	return strcmp(item->name, ".") && strcmp(item->name, "..");
}

int fat_remove(struct fat_volume *v, const char *path)
{
	char leaf[FAT_NAME_MAX + 1];
	struct fat_file dir, f;
	struct dir_item item;
	uint8_t s[FAT_SECTOR_SIZE];
	int err = open_parent(v, path, &dir, leaf);
	if (err)
		return err;
	if ((err = dir_find(v, &dir, leaf, &item)))
		return err;
	if (!strcmp(leaf, ".") || !strcmp(leaf, ".."))
		return FAT_EINVAL;
	file_of(v, &item, &f);
	if (f.directory) {
		err = dir_walk(v, &f, any_entry, NULL);
		if (err)
			return err < 0 ? err : FAT_ENOTEMPTY;
	}
	if (f.first_cluster && fat_chain_free(v, f.first_cluster))
		return FAT_EIO;
	/* Mark the short entry and its long-name parts deleted. */
	for (uint32_t index = item.first_index; index <= item.index; index++) {
		uint64_t sector;
		uint32_t offset;
		if (dir_locate(v, &dir, index, false, &sector, &offset) || fat_sector_read(v, sector, s))
			return FAT_EIO;
		s[offset] = ENTRY_FREE;
		if (fat_sector_write(v, sector, s))
			return FAT_EIO;
	}
	return 0;
}

struct lister {
	int (*each)(const struct fat_dirent *, void *);
	void *arg;
};

static int list_one(struct dir_item *item, void *arg)
{
	struct lister *l = arg;
	struct fat_dirent d;
	if (!strcmp(item->name, ".") || !strcmp(item->name, ".."))
		return 0;
	memcpy(d.name, item->name, sizeof(d.name));
	d.directory = item->entry[11] & ATTR_DIRECTORY;
	d.size = d.directory ? 0 : (uint32_t)get16(item->entry + 28) | (uint32_t)get16(item->entry + 30) << 16;
	return l->each(&d, l->arg);
}

int fat_list(struct fat_volume *v, const char *path, int (*each)(const struct fat_dirent *, void *), void *arg)
{
	struct fat_file dir;
	int err = fat_open(v, path, &dir);
	if (err)
		return err;
	if (!dir.directory)
		return FAT_ENOTDIR;
	struct lister l = {each, arg};
	err = dir_walk(v, &dir, list_one, &l);
	return err < 0 ? err : 0;
}
