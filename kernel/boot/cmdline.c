/*
 * cmdline.c — the hypervisor's command-line options.
 *
 * The command line is a list of words `key=value` (or a bare `key`). Every
 * option the hypervisor understands is listed in `known_options` with one
 * line of help, so that a typo is reported rather than silently ignored.
 */
#include "cmdline.h"
#include "console.h"
#include "string.h"

#define CMDLINE_MAX 1024
#define OPTIONS_MAX 32

struct option_help {
	const char *key;
	const char *help;
};

static const struct option_help known_options[] = {
	{"nonce", "the grader's random number; tests fold it into what they print"},
	{"selftest", "comma-separated boot self-tests: frames, heap, timer, backtrace, ksyms, all"},
	{"fault", "trigger a fault in the hypervisor to see its dump: pf, ud, gp, df; or misbehave for the grader's own tests: hang, flood, triple"},
	{"halt", "after booting, idle with the timer running instead of exiting"},
};

struct option {
	const char *key;
	const char *value;
};

static char buffer[CMDLINE_MAX];
static struct option options[OPTIONS_MAX];
static unsigned option_count;
uint64_t boot_nonce;

static bool is_known(const char *key)
{
	for (size_t i = 0; i < ARRAY_SIZE(known_options); i++)
		if (strcmp(known_options[i].key, key) == 0)
			return true;
	return false;
}

void cmdline_init(const char *cmdline)
{
	if (strlcpy(buffer, cmdline, sizeof(buffer)) >= sizeof(buffer))
		kprintf("[hv] warning: command line longer than %d characters; the rest is ignored\n", CMDLINE_MAX - 1);
	option_count = 0;
	/* Both QEMU and GRUB start the multiboot command line with the kernel's
	 * file name; it is not an option. */
	char *p = buffer;
	while (*p == ' ')
		p++;
	char *first_end = p;
	while (*first_end && *first_end != ' ' && *first_end != '=')
		first_end++;
	if (*first_end != '=')
		p = first_end;
	for (; *p;) {
		while (*p == ' ')
			*p++ = '\0';
		if (!*p)
			break;
		char *word = p;
		while (*p && *p != ' ')
			p++;
		if (*p)
			*p++ = '\0';
		char *eq = strchr(word, '=');
		if (eq)
			*eq = '\0';
		if (!is_known(word)) {
			kprintf("[hv] warning: unknown option '%s' ignored (known:", word);
			for (size_t i = 0; i < ARRAY_SIZE(known_options); i++)
				kprintf(" %s", known_options[i].key);
			kprintf(")\n");
			continue;
		}
		if (option_count == OPTIONS_MAX) {
			kprintf("[hv] warning: more than %d options; '%s' ignored\n", OPTIONS_MAX, word);
			continue;
		}
		options[option_count++] = (struct option){word, eq ? eq + 1 : ""};
	}
	boot_nonce = cmdline_get_u64("nonce", 0);
}

const char *cmdline_get(const char *key)
{
	/* The last occurrence wins, as on Linux's command line. */
	for (unsigned i = option_count; i-- > 0;)
		if (strcmp(options[i].key, key) == 0)
			return options[i].value;
	return NULL;
}

uint64_t cmdline_get_u64(const char *key, uint64_t fallback)
{
	const char *value = cmdline_get(key);
	const char *end;
	if (!value || !*value)
		return fallback;
	uint64_t n = parse_u64(value, &end);
	if (*end) {
		kprintf("[hv] warning: option %s=%s is not a number; using %lu\n", key, value, fallback);
		return fallback;
	}
	return n;
}

bool cmdline_list_has(const char *key, const char *item)
{
	const char *list = cmdline_get(key);
	if (!list)
		return false;
	size_t n = strlen(item);
	for (const char *p = list; *p;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if ((len == n && strncmp(p, item, n) == 0) || (len == 3 && strncmp(p, "all", 3) == 0))
			return true;
		p += len + (comma ? 1 : 0);
	}
	return false;
}
