/*
 * xl.c — the toolstack's command line, after Xen's tools/xl: one table of
 * commands (name, function, usage, help), `xl help` printed from it.
 *
 * What works before Dom0 can make domains: `xl create -n FILE` reads and
 * checks a config and prints what it would create (Xen's "dry run"), `xl
 * info` says what Dom0 has. Creating, listing and destroying domains need the
 * hypervisor's domctl (lab 4, issue 12): their entries say so.
 */
#include "dom0.h"
#include "xl_config.h"

#define CONFIG_MAX 65536

struct xl_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
	const char *help;
};

static int xl_help(int argc, char **argv);

static int xl_info(int argc, char **argv)
{
	(void)argc, (void)argv;
	gprintf("host                   : %s\n", guest_platform());
	if (dom0_disk.present)
		gprintf("dom0 disk              : %s, %llu MiB, FAT%d\n", dom0_disk.ata.model,
			(unsigned long long)(dom0_disk.ata.sectors >> 11), dom0_disk.volume.type);
	else
		gprintf("dom0 disk              : none\n");
	return 0;
}

/* xl create [-n] FILE: read FILE, check it; -n prints the domain it describes. */
static int xl_create(int argc, char **argv)
{
	static char text[CONFIG_MAX];
	static struct xl_config c;
	char error[XL_ERROR_MAX];
	bool dry_run = false;
	const char *file = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-n") || !strcmp(argv[i], "--dryrun"))
			dry_run = true;
		else if (argv[i][0] == '-')
			return gprintf("xl create: unknown option %s (usage: xl create [-n] FILE)\n", argv[i]), 1;
		else
			file = argv[i];
	}
	if (!file)
		return gprintf("usage: xl create [-n] FILE\n"), 1;
	int64_t length = dom0_read_file(file, text, sizeof(text));
	if (length < 0)
		return 1;
	if (xl_config_parse(file, text, (uint64_t)length, &c, error))
		return gprintf("xl create: %s\n", error), 1;
	if (!dry_run)
		return gprintf("xl create: '%s' is a good config, but making domains needs the hypervisor's domctl, "
			       "which this Dom0 does not have yet (lab 4); -n checks a config\n", c.name), 1;
	gprintf("domain '%s': type %s, %llu MiB, %u vCPU\n", c.name, xl_type_name(c.type),
		(unsigned long long)c.memory_mib, c.vcpus);
	gprintf("  kernel %s%s%s\n", c.kernel, c.ramdisk[0] ? ", ramdisk " : "", c.ramdisk);
	gprintf("  cmdline \"%s\"\n", c.cmdline);
	for (int i = 0; i < c.disk_count; i++)
		gprintf("  disk %s: %s (%s)\n", c.disks[i].vdev, c.disks[i].target, c.disks[i].readonly ? "ro" : "rw");
	gprintf("  on_poweroff %s, on_reboot %s, on_crash %s, on_watchdog %s\n", xl_action_name(c.on_poweroff),
		xl_action_name(c.on_reboot), xl_action_name(c.on_crash), xl_action_name(c.on_watchdog));
	return 0;
}

static const struct xl_command xl_commands[] = {
	{"help", xl_help, "xl help", "this list"},
	{"info", xl_info, "xl info", "what this host and Dom0 have"},
	{"create", xl_create, "xl create [-n] FILE", "create a domain from a config (-n: check it only)"},
};

static int xl_help(int argc, char **argv)
{
	(void)argc, (void)argv;
	gprintf("xl: the toolstack (after Xen's xl). Commands:\n");
	for (unsigned i = 0; i < ARRAY_SIZE(xl_commands); i++)
		gprintf("  %-24s %s\n", xl_commands[i].usage, xl_commands[i].help);
	return 0;
}

int xl_main(int argc, char **argv)
{
	for (unsigned i = 0; i < ARRAY_SIZE(xl_commands); i++)
		if (!strcmp(xl_commands[i].name, argv[1]))
			return xl_commands[i].run(argc - 1, argv + 1);
	gprintf("xl: %s: no such command (xl help lists them)\n", argv[1]);
	return 1;
}
