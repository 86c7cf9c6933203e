/*
 * main.c — Dom0's start: find the hypervisor and the disk, mount it, run
 * the boot script (the `run=` option) and then the shell.
 *
 * run= holds shell commands for a run without typing (a demo's): `;`
 * between commands, `+` for a space, since the hypervisor's module options
 * are words: run=xl+create+/configs/hello-pv.cfg;xl+list. script=FILE runs
 * the lines of a file of Dom0's disk instead (the grader's way: no length
 * limit, the file made on the host with mtools).
 */
#include "dom0.h"
#include "xc.h"

#define SCRIPT_MAX 8192

struct dom0_disk dom0_disk;

static int disk_read(void *context, uint64_t sector, void *buffer)
{
	return ata_read(context, sector, buffer) ? FAT_EIO : 0;
}

static int disk_write(void *context, uint64_t sector, const void *buffer)
{
	return ata_write(context, sector, buffer) ? FAT_EIO : 0;
}

struct fat_volume *dom0_volume(void)
{
	if (!dom0_disk.present) {
		gprintf("dom0: no disk with a FAT filesystem (see `make dom0-disk`)\n");
		return NULL;
	}
	return &dom0_disk.volume;
}

int64_t dom0_read_file(const char *path, char *buffer, uint64_t size)
{
	struct fat_volume *v = dom0_volume();
	struct fat_file f;
	if (!v)
		return -1;
	int err = fat_open(v, path, &f);
	if (err)
		return gprintf("%s: %s\n", path, fat_strerror(err)), -1;
	if (f.directory)
		return gprintf("%s: %s\n", path, fat_strerror(FAT_EISDIR)), -1;
	if (f.size > size)
		return gprintf("%s: %u bytes, more than the %llu this reads\n", path, f.size,
			       (unsigned long long)size), -1;
	int64_t n = fat_read(v, &f, 0, buffer, f.size);
	if (n < 0)
		return gprintf("%s: %s\n", path, fat_strerror((int)n)), -1;
	return n;
}

static void mount_disk(void)
{
	struct dom0_disk *d = &dom0_disk;
	if (ata_probe(&d->ata)) {
		gprintf("dom0: no ATA disk on the primary channel\n");
		return;
	}
	d->dev = (struct fat_blockdev){&d->ata, d->ata.sectors, disk_read, disk_write};
	int err = fat_mount(&d->volume, &d->dev);
	if (err) {
		gprintf("dom0: disk '%s' (%llu sectors): %s\n", d->ata.model, (unsigned long long)d->ata.sectors,
			fat_strerror(err));
		return;
	}
	d->present = true;
	gprintf("dom0: disk '%s', %llu MiB, FAT%d\n", d->ata.model, (unsigned long long)(d->ata.sectors >> 11),
		d->volume.type);
}

/* The boot script's commands, each echoed after the prompt as if typed; false after `poweroff`. */
static bool run_script(void)
{
	static char script[SCRIPT_MAX];
	char path[128];
	bool from_file = guest_cmdline_get("script", path, sizeof(path));
	if (from_file) {
		int64_t n = dom0_read_file(path, script, sizeof(script) - 1);
		if (n < 0)
			return true;
		script[n] = '\0';
	} else if (!guest_cmdline_get("run", script, sizeof(script))) {
		return true;
	}
	for (char *command = script, *next; command && *command; command = next) {
		next = NULL;
		for (char *p = command; *p && !next; p++)
			if (*p == (from_file ? '\n' : ';'))
				*p = '\0', next = p + 1;
			else if (*p == '+' && !from_file)
				*p = ' ';
		gprintf("dom0# %s\n", command);
		if (!shell_run(command))
			return false;
	}
	return true;
}

void guest_main(void)
{
	static char line[DOM0_LINE_MAX];
	gprintf("Hypatia Dom0 on %s: nonce=%llu\n", guest_platform(),
		(unsigned long long)guest_cmdline_u64("nonce", 0));
	xc_on_xen = hypercall_find_xen();
	if (xc_on_xen)
		gprintf("dom0: domain 0 of a Xen-compatible hypervisor (domctl interface 0x%x)\n",
			XEN_DOMCTL_INTERFACE_VERSION);
	mount_disk();
	net_init();
	bool running = run_script();
	while (running) {
		gprintf("dom0# ");
		console_read_line(line, sizeof(line));
		running = shell_run(line);
	}
	gprintf("dom0: powering off\n");
	guest_pass();
}
