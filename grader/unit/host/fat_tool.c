/*
 * fat_tool.c — Dom0's FAT code (guests/dom0/fat*.c) run on the host over an
 * image file, so that grader/unit/test_dom0_fat.py can check it against mtools
 * and fsck.fat. Built by that test: cc -DDOM0_HOSTED -Iguests/dom0 ...
 *
 *   fat_tool IMAGE ls DIR | cat FILE | put FILE [OFFSET] < data | mkdir DIR |
 *            rm PATH | truncate FILE SIZE | df
 *
 * Prints what the command read; errors as "error: <words>" with exit status 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fat.h"

static int image_read(void *context, uint64_t sector, void *buffer)
{
	FILE *f = context;
	return fseek(f, (long)(sector * FAT_SECTOR_SIZE), SEEK_SET) || fread(buffer, FAT_SECTOR_SIZE, 1, f) != 1;
}

static int image_write(void *context, uint64_t sector, const void *buffer)
{
	FILE *f = context;
	return fseek(f, (long)(sector * FAT_SECTOR_SIZE), SEEK_SET) || fwrite(buffer, FAT_SECTOR_SIZE, 1, f) != 1;
}

static int print_entry(const struct fat_dirent *d, void *arg)
{
	(void)arg;
	printf("%s %s %u\n", d->directory ? "dir" : "file", d->name, d->size);
	return 0;
}

static int fail(int err)
{
	printf("error: %s\n", fat_strerror(err));
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	FILE *image = fopen(argv[1], "r+b");
	if (!image)
		return 2;
	fseek(image, 0, SEEK_END);
	struct fat_blockdev dev = {image, (uint64_t)ftell(image) / FAT_SECTOR_SIZE, image_read, image_write};
	struct fat_volume v;
	struct fat_file f;
	int err = fat_mount(&v, &dev);
	if (err)
		return fail(err);
	const char *cmd = argv[2], *path = argc > 3 ? argv[3] : "/";
	if (!strcmp(cmd, "ls"))
		return (err = fat_list(&v, path, print_entry, NULL)) ? fail(err) : 0;
	if (!strcmp(cmd, "df")) {
		uint32_t free_clusters, bytes;
		if ((err = fat_free_space(&v, &free_clusters, &bytes)))
			return fail(err);
		printf("FAT%d clusters=%u free=%u cluster_bytes=%u\n", v.type, v.clusters, free_clusters, bytes);
		return 0;
	}
	if (!strcmp(cmd, "cat")) {
		static char buffer[65536 + 7];
		if ((err = fat_open(&v, path, &f)))
			return fail(err);
		for (uint64_t at = 0;;) {
			/* An odd chunk size: reads that straddle sectors and clusters. */
			int64_t n = fat_read(&v, &f, at, buffer, sizeof(buffer));
			if (n < 0)
				return fail((int)n);
			if (n == 0)
				return 0;
			fwrite(buffer, 1, (size_t)n, stdout);
			at += (uint64_t)n;
		}
	}
	if (!strcmp(cmd, "put")) {
		static char buffer[3000];
		uint64_t at = argc > 4 ? strtoull(argv[4], NULL, 0) : 0;
		if (argc > 4 ? (err = fat_open(&v, path, &f)) : (err = fat_create(&v, path, &f)))
			return fail(err);
		size_t n;
		while ((n = fread(buffer, 1, sizeof(buffer), stdin)) > 0) {
			int64_t w = fat_write(&v, &f, at, buffer, n);
			if (w < 0)
				return fail((int)w);
			at += n;
		}
		return 0;
	}
	if (!strcmp(cmd, "mkdir"))
		return (err = fat_mkdir(&v, path)) ? fail(err) : 0;
	if (!strcmp(cmd, "rm"))
		return (err = fat_remove(&v, path)) ? fail(err) : 0;
	if (!strcmp(cmd, "truncate") && argc > 4) {
		if ((err = fat_open(&v, path, &f)) || (err = fat_truncate(&v, &f, (uint32_t)strtoul(argv[4], NULL, 0))))
			return fail(err);
		return 0;
	}
	return 2;
}
