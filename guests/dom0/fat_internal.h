/*
 * fat_internal.h — what fat.c (clusters, the FAT, file data) and fat_dir.c
 * (directories, names, paths) share. Not for Dom0's other code: use fat.h.
 */
#ifndef DOM0_FAT_INTERNAL_H
#define DOM0_FAT_INTERNAL_H

#include "fat.h"
#include "dom0_env.h"

int fat_sector_read(struct fat_volume *v, uint64_t sector, void *buffer);
int fat_sector_write(struct fat_volume *v, uint64_t sector, const void *buffer);
int fat_entry_get(struct fat_volume *v, uint32_t cluster, uint32_t *value);
int fat_entry_set(struct fat_volume *v, uint32_t cluster, uint32_t value);
bool fat_is_end(struct fat_volume *v, uint32_t value);
bool fat_is_cluster(struct fat_volume *v, uint32_t value);
uint64_t fat_cluster_sector(struct fat_volume *v, uint32_t cluster);
int fat_cluster_alloc(struct fat_volume *v, bool zero, uint32_t *out);
int fat_chain_free(struct fat_volume *v, uint32_t first);
int fat_cluster_at(struct fat_volume *v, struct fat_file *f, uint32_t index, bool grow, uint32_t *out);
int fat_step(struct fat_volume *v, struct fat_file *f, uint32_t *cluster, bool grow);
int fat_entry_update(struct fat_volume *v, struct fat_file *f);
void fat_short_name_text(const uint8_t *entry, char *out);
bool fat_same_name(const char *a, const char *b);
char fat_upper(char c);

#endif
