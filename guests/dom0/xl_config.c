/*
 * xl_config.c — reading a domain config in xl.cfg(5) syntax (xl_config.h).
 *
 * A small recursive-descent reader: a config is a list of settings, a setting
 * is KEY = VALUE, a value is a number, a quoted string or a bracketed list of
 * values. Each setting is then checked against the key it names (the table
 * `keys` below), so that every refusal can say which file, line, key and value.
 */
#include "xl_config.h"
#include "dom0_env.h"

enum value_kind { VALUE_NUMBER, VALUE_STRING, VALUE_LIST };

#define LIST_MAX 8
#define STRING_MAX XL_CMDLINE_MAX

struct value {
	enum value_kind kind;
	uint64_t number;
	char string[STRING_MAX];
	int count;                          /* a list's strings */
	char items[LIST_MAX][XL_PATH_MAX];
};

struct reader {
	const char *file, *p, *end;
	int line;
	char *error;
};

/* Say what is wrong, where: "hello.cfg:3: key 'memory': ..."; always false. */
static bool fail(struct reader *r, const char *what, const char *key)
{
	if (key)
		dom0_snprintf(r->error, XL_ERROR_MAX, "%s:%d: key '%s': %s", r->file, r->line, key, what);
	else
		dom0_snprintf(r->error, XL_ERROR_MAX, "%s:%d: %s", r->file, r->line, what);
	return false;
}

/* Skip blanks and comments; with @newlines, line ends too (inside a list). */
static void skip_space(struct reader *r, bool newlines)
{
	while (r->p < r->end) {
		char c = *r->p;
		if (c == '#') {
			while (r->p < r->end && *r->p != '\n')
				r->p++;
		} else if (c == ' ' || c == '\t' || c == '\r' || (newlines && c == '\n')) {
			if (c == '\n')
				r->line++;
			r->p++;
		} else {
			return;
		}
	}
}

static bool is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static bool read_string(struct reader *r, char *out, size_t size, const char *key)
{
	char quote = *r->p++;
	size_t n = 0;
	while (r->p < r->end && *r->p != quote) {
		if (*r->p == '\n')
			return fail(r, "a string must end on its own line", key);
		if (n + 1 >= size)
			return fail(r, "the string is too long", key);
		out[n++] = *r->p++;
	}
	if (r->p == r->end)
		return fail(r, "the string has no closing quote", key);
	r->p++;
	out[n] = '\0';
	return true;
}

static bool read_number(struct reader *r, uint64_t *out, const char *key)
{
	uint64_t x = 0;
	int base = 10;
	if (r->end - r->p > 2 && r->p[0] == '0' && (r->p[1] == 'x' || r->p[1] == 'X')) {
		base = 16;
		r->p += 2;
	}
	const char *start = r->p;
	for (; r->p < r->end; r->p++) {
		char c = *r->p;
		int digit = c >= '0' && c <= '9' ? c - '0' : base == 16 && c >= 'a' && c <= 'f' ? c - 'a' + 10
			  : base == 16 && c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (digit < 0)
			break;
		if (x > (UINT64_MAX - (uint64_t)digit) / (uint64_t)base)
			return fail(r, "the number is too large", key);
		x = x * (uint64_t)base + (uint64_t)digit;
	}
	if (r->p == start || (r->p < r->end && is_key_char(*r->p)))
		return fail(r, "a number, a quoted string or a [list] is needed here", key);
	*out = x;
	return true;
}

static bool read_value(struct reader *r, struct value *v, const char *key)
{
	skip_space(r, false);
	if (r->p == r->end || *r->p == '\n')
		return fail(r, "the value is missing", key);
	char c = *r->p;
	if (c == '"' || c == '\'') {
		v->kind = VALUE_STRING;
		return read_string(r, v->string, sizeof(v->string), key);
	}
	if (c == '[') {
		v->kind = VALUE_LIST;
		v->count = 0;
		r->p++;
		for (;;) {
			skip_space(r, true);
			if (r->p < r->end && *r->p == ']') {
				r->p++;
				return true;
			}
			if (r->p == r->end)
				return fail(r, "the list has no closing ]", key);
			if (*r->p != '"' && *r->p != '\'')
				return fail(r, "a list holds quoted strings", key);
			if (v->count == LIST_MAX)
				return fail(r, "the list is too long", key);
			if (!read_string(r, v->items[v->count++], XL_PATH_MAX, key))
				return false;
			skip_space(r, true);
			if (r->p < r->end && *r->p == ',')
				r->p++;
			else if (r->p < r->end && *r->p != ']')
				return fail(r, "list items are separated by commas", key);
		}
	}
	v->kind = VALUE_NUMBER;
	return read_number(r, &v->number, key);
}

/* --- the keys ------------------------------------------------------------------------ */

static const char *const action_names[] = {"destroy", "restart", "rename-restart", "preserve",
					   "coredump-destroy", "coredump-restart"};
static const char *const type_names[] = {"pv", "pvh", "hvm"};

const char *xl_action_name(enum xl_action action) { return action_names[action]; }
const char *xl_type_name(enum xl_type type) { return type_names[type]; }

/* Keys xl knows that the kit does not act on yet: refused by name, not as typos. */
static const char *const xen_keys_unsupported[] = {
	"vif", "maxmem", "maxvcpus", "cpus", "bootloader", "bootloader_args", "builder", "device_model_version",
	"serial", "vnc", "sdl", "boot", "pci", "usb", "vfb", "vtpm", "p9", "channel", "extra", "root", "uuid",
	"pool", "cpu_weight", "cap", "seclabel", "localtime", "rtc_timeoffset", "viridian", "acpi", "apic",
	"pae", "hap", "nestedhvm", "shadow_memory", "videoram", "soundhw", "firmware", "device_tree", NULL};

static bool copy_string(struct reader *r, const struct value *v, char *out, size_t size, const char *key)
{
	if (v->kind != VALUE_STRING)
		return fail(r, "a quoted string is needed", key);
	if (strlen(v->string) >= size)
		return fail(r, "the string is too long", key);
	memcpy(out, v->string, strlen(v->string) + 1);
	return true;
}

static bool pick_word(struct reader *r, const struct value *v, const char *const *words, int count, int *out,
		      const char *key, const char *expected)
{
	if (v->kind == VALUE_STRING)
		for (int i = 0; i < count; i++)
			if (!strcmp(v->string, words[i])) {
				*out = i;
				return true;
			}
	return fail(r, expected, key);
}

/* One disk spec: positional "target,format,vdev,access" or key=value items. */
static bool parse_disk(struct reader *r, const char *spec, struct xl_disk *d)
{
	char item[XL_PATH_MAX];
	int position = 0;
	bool have_vdev = false;
	memset(d, 0, sizeof(*d));
	for (const char *p = spec;;) {
		size_t n = 0;
		while (*p == ' ')
			p++;
		while (*p && *p != ',' && n + 1 < sizeof(item))
			item[n++] = *p++;
		while (n && item[n - 1] == ' ')
			n--;
		item[n] = '\0';
		const char *value = item, *eq = NULL;
		for (const char *q = item; *q; q++)
			if (*q == '=' && !eq)
				eq = q;
		int slot = position++;
		if (eq) {
			size_t k = (size_t)(eq - item);
			value = eq + 1;
			slot = k == 6 && !strncmp(item, "target", 6) ? 0 : k == 6 && !strncmp(item, "format", 6) ? 1
			     : k == 4 && !strncmp(item, "vdev", 4) ? 2 : k == 6 && !strncmp(item, "access", 6) ? 3 : -1;
			if (slot < 0)
				return fail(r, "a disk item must be target=, format=, vdev= or access=", "disk");
		}
		if (slot == 0) {
			memcpy(d->target, value, strlen(value) + 1);
		} else if (slot == 1) {
			if (strcmp(value, "raw"))
				return fail(r, "format must be raw: Dom0's block backend reads raw images only", "disk");
		} else if (slot == 2) {
			if (strlen(value) != 4 || strncmp(value, "xvd", 3) || value[3] < 'a' || value[3] > 'z')
				return fail(r, "vdev must be xvda .. xvdz", "disk");
			memcpy(d->vdev, value, 5);
			have_vdev = true;
		} else if (slot == 3) {
			if (!strcmp(value, "ro") || !strcmp(value, "r"))
				d->readonly = true;
			else if (strcmp(value, "rw") && strcmp(value, "w"))
				return fail(r, "access must be rw or ro", "disk");
		} else {
			return fail(r, "a disk is at most 'target,format,vdev,access'", "disk");
		}
		if (!*p)
			break;
		p++;
	}
	if (!d->target[0])
		return fail(r, "a disk needs its target: the image file", "disk");
	if (!have_vdev)
		return fail(r, "a disk needs its vdev (xvda, ...)", "disk");
	return true;
}

static bool valid_name(const char *name)
{
	if (!name[0])
		return false;
	for (const char *p = name; *p; p++)
		if (!is_key_char(*p) && *p != '-' && *p != '.')
			return false;
	return true;
}

/* Apply KEY = VALUE to @c; @seen says which keys came already. */
static bool apply(struct reader *r, struct xl_config *c, const char *key, const struct value *v, uint32_t *seen)
{
	static const char *const keys[] = {"name", "type", "memory", "vcpus", "kernel", "ramdisk", "cmdline",
					   "disk", "on_poweroff", "on_reboot", "on_crash", "on_watchdog", NULL};
	int k = 0;
	while (keys[k] && strcmp(keys[k], key))
		k++;
	if (!keys[k]) {
		for (int i = 0; xen_keys_unsupported[i]; i++)
			if (!strcmp(xen_keys_unsupported[i], key))
				return fail(r, "Xen's xl knows it, the kit's does not support it (yet)", key);
		return fail(r, "unknown key (xl.cfg(5) lists the keys; the kit takes name, type, memory, vcpus, "
			    "kernel, ramdisk, cmdline, disk, on_poweroff, on_reboot, on_crash, on_watchdog)", key);
	}
	if (*seen & (1u << k))
		return fail(r, "set twice", key);
	*seen |= 1u << k;
	int word = 0;
	switch (k) {
	case 0:
		if (!copy_string(r, v, c->name, sizeof(c->name), key))
			return false;
		return valid_name(c->name) ? true : fail(r, "a name is letters, digits, '_', '-' and '.'", key);
	case 1:
		if (!pick_word(r, v, type_names, 3, &word, key, "type is \"pv\", \"pvh\" or \"hvm\""))
			return false;
		c->type = (enum xl_type)word;
		return true;
	case 2:
		if (v->kind != VALUE_NUMBER || v->number == 0 || v->number > (1ull << 20))
			return fail(r, "memory is a number of MiB, at least 1", key);
		c->memory_mib = v->number;
		return true;
	case 3:
		if (v->kind != VALUE_NUMBER || v->number == 0)
			return fail(r, "vcpus is a number, at least 1", key);
		if (v->number != 1)
			return fail(r, "the kit runs one vCPU per domain (SMP is to come): use vcpus = 1", key);
		c->vcpus = 1;
		return true;
	case 4: return copy_string(r, v, c->kernel, sizeof(c->kernel), key);
	case 5: return copy_string(r, v, c->ramdisk, sizeof(c->ramdisk), key);
	case 6: return copy_string(r, v, c->cmdline, sizeof(c->cmdline), key);
	case 7:
		if (v->kind != VALUE_LIST)
			return fail(r, "disk is a list: disk = [ 'image,raw,xvda,rw' ]", key);
		if (v->count > XL_DISKS_MAX)
			return fail(r, "at most 4 disks", key);
		for (int i = 0; i < v->count; i++) {
			if (!parse_disk(r, v->items[i], &c->disks[i]))
				return false;
			for (int j = 0; j < i; j++)
				if (!strcmp(c->disks[j].vdev, c->disks[i].vdev))
					return fail(r, "two disks with the same vdev", key);
		}
		c->disk_count = v->count;
		return true;
	default: {
		enum xl_action *slot = k == 8 ? &c->on_poweroff : k == 9 ? &c->on_reboot : k == 10 ? &c->on_crash
				     : &c->on_watchdog;
		if (!pick_word(r, v, action_names, 6, &word, key, "the action is destroy, restart, rename-restart, "
			       "preserve, coredump-destroy or coredump-restart"))
			return false;
		*slot = (enum xl_action)word;
		return true;
	}
	}
}

int xl_config_parse(const char *file_name, const char *text, uint64_t length, struct xl_config *config,
		    char *error)
{
	static struct value v; /* large: not on Dom0's small stack */
	struct reader r = {file_name, text, text + length, 1, error};
	uint32_t seen = 0;
	memset(config, 0, sizeof(*config));
	config->type = XL_TYPE_PV;
	config->memory_mib = 128;
	config->vcpus = 1;
	config->on_poweroff = XL_ACTION_DESTROY;
	config->on_reboot = XL_ACTION_RESTART;
	config->on_crash = XL_ACTION_DESTROY;
	config->on_watchdog = XL_ACTION_DESTROY;
	error[0] = '\0';
	for (;;) {
		skip_space(&r, true);
		if (r.p == r.end)
			break;
		char key[32];
		size_t n = 0;
		while (r.p < r.end && is_key_char(*r.p)) {
			if (n + 1 == sizeof(key))
				return fail(&r, "a key is at most 31 characters", NULL), -1;
			key[n++] = *r.p++;
		}
		key[n] = '\0';
		if (n == 0)
			return fail(&r, "a line must be KEY = VALUE", NULL), -1;
		skip_space(&r, false);
		if (r.p == r.end || *r.p != '=')
			return fail(&r, "'=' is missing after the key", key), -1;
		r.p++;
		if (!read_value(&r, &v, key))
			return -1;
		skip_space(&r, false);
		if (r.p < r.end && *r.p == ';')
			r.p++;
		skip_space(&r, false);
		if (r.p < r.end && *r.p != '\n')
			return fail(&r, "one setting per line", key), -1;
		if (!apply(&r, config, key, &v, &seen))
			return -1;
	}
	if (!(seen & 1))
		return fail(&r, "no name: xl.cfg requires name = \"...\"", NULL), -1;
	if (!config->kernel[0])
		return fail(&r, "no kernel: the kit boots every domain from a kernel file (kernel = \"...\")", NULL), -1;
	return 0;
}
