/*
 * xl.c — the toolstack's command line, after Xen's tools/xl: one table of
 * commands (name, function, usage, help), `xl help` printed from it.
 *
 * `xl create FILE` reads the config, builds the domain (xl_build.c) and
 * remembers its name (Xen keeps names in xenstore; this Dom0 keeps them here
 * until xenstore exists); `xl list` prints Xen's table from getdomaininfo;
 * `xl destroy`, `xl pause`, `xl unpause` name a domain by name or id.
 * `xl create -n FILE` only checks a config (Xen's "dry run").
 */
#include "dom0.h"
#include "xc.h"
#include "xl_build.h"
#include "xl_config.h"

#define CONFIG_MAX 65536
#define XL_DOMAINS_MAX 256
/* xl list asks about every id up to this, or the highest it made (ids are
 * never reused while the host runs). */
#define XL_LIST_MIN_IDS 32

/* The names of the domains this Dom0 made (Xen's xenstore /local/domain/N/name). */
static struct {
	uint16_t domid;
	char name[XL_NAME_MAX];
} named[XL_DOMAINS_MAX];
static unsigned named_count, highest_domid;

static const char *domain_name(uint16_t domid)
{
	if (domid == 0)
		return "Domain-0";
	for (unsigned i = 0; i < named_count; i++)
		if (named[i].domid == domid)
			return named[i].name;
	return NULL;
}

static void forget_name(uint16_t domid)
{
	for (unsigned i = 0; i < named_count; i++)
		if (named[i].domid == domid) {
			named[i] = named[--named_count];
			return;
		}
}

/* NAME or ID of a live domain; -1 after saying why not. */
static int find_domain(const char *command, const char *what)
{
	struct xen_domctl_getdomaininfo info;
	const char *end;
	uint64_t id = 0;
	for (end = what; *end >= '0' && *end <= '9'; end++)
		id = id * 10 + (uint64_t)(*end - '0');
	if (*end || end == what) {
		id = ~0ull;
		if (!strcmp(what, "Domain-0"))
			id = 0;
		for (unsigned i = 0; i < named_count; i++)
			if (!strcmp(named[i].name, what))
				id = named[i].domid;
	}
	if (id >= DOMID_FIRST_RESERVED || xc_domain_info((uint16_t)id, &info))
		return gprintf("xl %s: no domain '%s'\n", command, what), -1;
	return (int)id;
}

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
	bool dry_run = false, paused = false, verbose = false;
	const char *file = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-n") || !strcmp(argv[i], "--dryrun"))
			dry_run = true;
		else if (!strcmp(argv[i], "-p"))
			paused = true;
		else if (!strcmp(argv[i], "-v"))
			verbose = true;
		else if (argv[i][0] == '-')
			return gprintf("xl create: unknown option %s (usage: xl create [-n] [-p] [-v] FILE)\n", argv[i]), 1;
		else
			file = argv[i];
	}
	if (!file)
		return gprintf("usage: xl create [-n] [-p] [-v] FILE\n"), 1;
	int64_t length = dom0_read_file(file, text, sizeof(text));
	if (length < 0)
		return 1;
	if (xl_config_parse(file, text, (uint64_t)length, &c, error))
		return gprintf("xl create: %s\n", error), 1;
	if (!dry_run) {
		uint16_t domid;
		bool taken = !strcmp(c.name, "Domain-0");
		for (unsigned i = 0; i < named_count; i++)
			taken |= !strcmp(named[i].name, c.name);
		if (taken)
			return gprintf("xl create: %s: a domain named '%s' exists already\n", file, c.name), 1;
		if (named_count >= XL_DOMAINS_MAX)
			return gprintf("xl create: %s: this Dom0 keeps %d domains at most\n", file, XL_DOMAINS_MAX), 1;
		if (xl_build(&c, paused, verbose, &domid))
			return 1;
		named[named_count].domid = domid;
		memcpy(named[named_count++].name, c.name, strlen(c.name) + 1);
		if (domid > highest_domid)
			highest_domid = domid;
		return 0;
	}
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

/* Xen's table (tools/xl/xl_info.c, list_domains): Mem is tot_pages in MiB,
 * Time(s) the vCPU time with one decimal (computed in integers: Dom0 has no
 * floating point), State r b p s, the shutdown reason's letter, d. */
static int xl_list(int argc, char **argv)
{
	static const char reason_letters[] = "-rscwS";
	struct xen_domctl_getdomaininfo info;
	(void)argv;
	if (argc > 1)
		return gprintf("usage: xl list\n"), 1;
	if (!xc_on_xen)
		return gprintf("xl list: Dom0 runs natively here: no hypervisor to ask\n"), 1;
	gprintf("Name                                        ID   Mem VCPUs\tState\tTime(s)\n");
	unsigned last = highest_domid > XL_LIST_MIN_IDS ? highest_domid : XL_LIST_MIN_IDS;
	for (unsigned id = 0; id <= last; id++) {
		if (xc_domain_info((uint16_t)id, &info))
			continue;
		bool shutdown = info.flags & XEN_DOMINF_shutdown;
		unsigned reason = shutdown ? info.flags >> XEN_DOMINF_shutdownshift & XEN_DOMINF_shutdownmask : 0;
		const char *name = domain_name((uint16_t)id);
		uint64_t tenths = (info.cpu_time + 50000000) / 100000000;
		gprintf("%-40s %5d %5lu %5d     %c%c%c%c%c%c  %6llu.%llu\n", name ? name : "(null)", id,
			(unsigned long)(info.tot_pages * 4 / 1024), info.nr_online_vcpus,
			info.flags & XEN_DOMINF_running ? 'r' : '-', info.flags & XEN_DOMINF_blocked ? 'b' : '-',
			info.flags & XEN_DOMINF_paused ? 'p' : '-', shutdown ? 's' : '-',
			reason < sizeof(reason_letters) - 1 ? reason_letters[reason] : '?',
			info.flags & XEN_DOMINF_dying ? 'd' : '-', (unsigned long long)(tenths / 10),
			(unsigned long long)(tenths % 10));
	}
	return 0;
}

/* xl destroy|pause|unpause NAME|ID */
static int xl_control(int argc, char **argv)
{
	if (argc != 2)
		return gprintf("usage: xl %s NAME|ID\n", argv[0]), 1;
	int id = find_domain(argv[0], argv[1]);
	if (id < 0)
		return 1;
	int64_t r = !strcmp(argv[0], "destroy") ? xc_domain_destroy((uint16_t)id)
		    : !strcmp(argv[0], "pause") ? xc_domain_pause((uint16_t)id)
						: xc_domain_unpause((uint16_t)id);
	if (r)
		return gprintf("xl %s: %s: %s\n", argv[0], argv[1], xc_error_name(r)), 1;
	if (!strcmp(argv[0], "destroy"))
		forget_name((uint16_t)id);
	if (!strcmp(argv[0], "unpause"))
		xc_yield(); /* let it run at once */
	return 0;
}

static const struct xl_command xl_commands[] = {
	{"help", xl_help, "xl help", "this list"},
	{"info", xl_info, "xl info", "what this host and Dom0 have"},
	{"create", xl_create, "xl create [-n] [-p] [-v] FILE", "create a domain (-n: check only; -p: paused; -v: timings)"},
	{"list", xl_list, "xl list", "the domains, Xen's table"},
	{"destroy", xl_control, "xl destroy NAME|ID", "end a domain at once"},
	{"pause", xl_control, "xl pause NAME|ID", "stop running it"},
	{"unpause", xl_control, "xl unpause NAME|ID", "let it run again"},
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
