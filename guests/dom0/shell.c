/*
 * shell.c — Dom0's shell: a command table, one small function per command.
 *
 * The commands a Dom0 needs before it can make domains: look at its disk,
 * put files on it, read configs. `xl` hands the rest of the line to the
 * toolstack (xl.c). Every refusal says which command, which file and why.
 */
#include "dom0.h"

struct command {
	const char *name;
	const char *usage;
	const char *help;
	int (*run)(int argc, char **argv);
};

static int say_error(const char *command, const char *path, int error)
{
	gprintf("%s: %s: %s\n", command, path, fat_strerror(error));
	return 1;
}

static int print_entry(const struct fat_dirent *d, void *arg)
{
	(void)arg;
	if (d->directory)
		gprintf("%10s  %s/\n", "<dir>", d->name);
	else
		gprintf("%10u  %s\n", d->size, d->name);
	return 0;
}

static int cmd_ls(int argc, char **argv)
{
	struct fat_volume *v = dom0_volume();
	const char *path = argc > 1 ? argv[1] : "/";
	if (!v)
		return 1;
	int err = fat_list(v, path, print_entry, NULL);
	return err ? say_error("ls", path, err) : 0;
}

static int cmd_cat(int argc, char **argv)
{
	static char chunk[4096];
	struct fat_volume *v = dom0_volume();
	struct fat_file f;
	if (!v)
		return 1;
	for (int i = 1; i < argc; i++) {
		int err = fat_open(v, argv[i], &f);
		if (err)
			return say_error("cat", argv[i], err);
		for (uint64_t at = 0;;) {
			int64_t n = fat_read(v, &f, at, chunk, sizeof(chunk));
			if (n < 0)
				return say_error("cat", argv[i], (int)n);
			if (n == 0)
				break;
			for (int64_t k = 0; k < n; k++)
				gputc(chunk[k]);
			at += (uint64_t)n;
		}
	}
	return 0;
}

/* write FILE WORDS...: the words, joined by spaces, and a newline. */
static int cmd_write(int argc, char **argv)
{
	struct fat_volume *v = dom0_volume();
	struct fat_file f;
	uint64_t at = 0;
	if (!v)
		return 1;
	int err = fat_create(v, argv[1], &f);
	for (int i = 2; !err && i <= argc; i++) {
		const char *text = i < argc ? argv[i] : "\n";
		uint64_t n = strlen(text);
		if (i < argc && i > 2) {
			int64_t w = fat_write(v, &f, at++, " ", 1);
			if (w < 0)
				err = (int)w;
		}
		int64_t w = err ? 0 : fat_write(v, &f, at, text, n);
		if (w < 0)
			err = (int)w;
		at += n;
	}
	return err ? say_error("write", argv[1], err) : 0;
}

static int cmd_rm(int argc, char **argv)
{
	struct fat_volume *v = dom0_volume();
	if (!v)
		return 1;
	for (int i = 1; i < argc; i++) {
		int err = fat_remove(v, argv[i]);
		if (err)
			return say_error("rm", argv[i], err);
	}
	return 0;
}

static int cmd_mkdir(int argc, char **argv)
{
	struct fat_volume *v = dom0_volume();
	if (!v)
		return 1;
	int err = fat_mkdir(v, argv[1]);
	(void)argc;
	return err ? say_error("mkdir", argv[1], err) : 0;
}

static int cmd_df(int argc, char **argv)
{
	struct fat_volume *v = dom0_volume();
	uint32_t free_clusters, bytes;
	(void)argc, (void)argv;
	if (!v)
		return 1;
	int err = fat_free_space(v, &free_clusters, &bytes);
	if (err)
		return say_error("df", "/", err);
	gprintf("disk: %s, %llu sectors (%llu MiB), FAT%d\n", dom0_disk.ata.model,
		(unsigned long long)dom0_disk.ata.sectors, (unsigned long long)(dom0_disk.ata.sectors >> 11),
		v->type);
	gprintf("free: %llu KiB of %llu KiB\n", (unsigned long long)free_clusters * bytes / 1024,
		(unsigned long long)v->clusters * bytes / 1024);
	return 0;
}

static int cmd_xl(int argc, char **argv)
{
	return xl_main(argc, argv);
}

static int cmd_net(int argc, char **argv)
{
	return net_main(argc, argv);
}

static int cmd_help(int argc, char **argv);

static const struct command commands[] = {
	{"help", "help", "this list", cmd_help},
	{"ls", "ls [DIR]", "list a directory of Dom0's disk", cmd_ls},
	{"cat", "cat FILE...", "print files", cmd_cat},
	{"write", "write FILE [WORD...]", "make FILE hold the words and a newline", cmd_write},
	{"rm", "rm PATH...", "remove files or empty directories", cmd_rm},
	{"mkdir", "mkdir DIR", "make a directory", cmd_mkdir},
	{"df", "df", "the disk and its free space", cmd_df},
	{"xl", "xl COMMAND ...", "the toolstack: `xl help` lists its commands", cmd_xl},
	{"net", "net [COMMAND ...]", "the link to other hosts: `net help`", cmd_net},
	{"poweroff", "poweroff", "end Dom0", NULL},
};

static int cmd_help(int argc, char **argv)
{
	(void)argc, (void)argv;
	for (unsigned i = 0; i < ARRAY_SIZE(commands); i++)
		gprintf("  %-22s %s\n", commands[i].usage, commands[i].help);
	return 0;
}

/* The words of @line, split at blanks; quotes are not special. */
static int split(char *line, char **argv)
{
	int argc = 0;
	for (char *p = line; *p && argc < DOM0_ARGS_MAX;) {
		while (*p == ' ' || *p == '\t')
			*p++ = '\0';
		if (!*p)
			break;
		argv[argc++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
	}
	return argc;
}

/* How many words a command needs at least: its usage's words, but "[optional]" and "...". */
static int words_needed(const char *usage)
{
	int n = 0;
	for (const char *p = usage; *p; p++)
		if (*p != ' ' && *p != '[' && *p != '.' && (p == usage || p[-1] == ' '))
			n++;
	return n;
}

bool shell_run(char *line)
{
	char *argv[DOM0_ARGS_MAX + 1];
	int argc = split(line, argv);
	argv[argc] = NULL;
	if (argc == 0)
		return true;
	for (unsigned i = 0; i < ARRAY_SIZE(commands); i++) {
		if (strcmp(commands[i].name, argv[0]))
			continue;
		if (!commands[i].run)
			return false; /* poweroff */
		if (argc < words_needed(commands[i].usage)) {
			gprintf("usage: %s\n", commands[i].usage);
			return true;
		}
		commands[i].run(argc, argv);
		return true;
	}
	gprintf("%s: no such command (help lists them)\n", argv[0]);
	return true;
}
