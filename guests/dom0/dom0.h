/*
 * dom0.h — what the parts of Dom0 share: its disk, its filesystem, its console.
 *
 * Dom0 (DESIGN §10) is the privileged domain that drives the devices and runs
 * the toolstack. This is its first part: the disk (ata.c), the filesystem on
 * it (fat.c), the console line reader (console.c) and the shell with `xl`
 * (shell.c, xl.c). It boots natively too (`build/guests/dom0/native/dom0.elf32`
 * with QEMU's -drive), which is how its drivers are tested apart from the
 * hypervisor (grader/unit/test_dom0_native.py).
 */
#ifndef DOM0_H
#define DOM0_H

#include "ata.h"
#include "fat.h"
#include "guest.h"

#define DOM0_LINE_MAX 256
#define DOM0_ARGS_MAX 16

/** Dom0's disk and the volume on it (present == false: no disk, or no FAT on it). */
struct dom0_disk {
	bool present;
	struct ata_disk ata;
	struct fat_blockdev dev;
	struct fat_volume volume;
};

extern struct dom0_disk dom0_disk;

/** Read one line typed on the console, echoing it; its length (the newline is not kept). */
int console_read_line(char *line, int size);

/** Run one shell command line; false when it was `poweroff`. */
bool shell_run(char *line);
/** Find and start the network card (net.c); says what it found. */
void net_init(void);
/** `net ARGS...`: messages and files to and from other hosts' Dom0s (net.c). */
int net_main(int argc, char **argv);
/** `xl ARGS...`: the toolstack's command table (xl.c). */
int xl_main(int argc, char **argv);
/** The volume, or NULL after saying why there is none. */
struct fat_volume *dom0_volume(void);
/** Read a whole file of Dom0's disk into @p buffer (at most @p size bytes); its length, or -1 after saying why. */
int64_t dom0_read_file(const char *path, char *buffer, uint64_t size);

#endif
