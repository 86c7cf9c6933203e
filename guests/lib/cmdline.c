/*
 * cmdline.c — the command line: space-separated key=value words.
 *
 * The grader passes at least `nonce=N`, a random decimal number every test
 * folds into what it prints, so that no expected output can be hard-coded
 * into a solution. The platform's start code hands the line to
 * guest_start(), which copies it here before anything else runs.
 */
#include "guest.h"
#include "hypatia_note.h"
#include "internal.h"

static char cmdline[HYPATIA_CMDLINE_MAX];

void cmdline_set(const char *line)
{
	size_t n = 0;

	if (line)
		while (n + 1 < sizeof(cmdline) && line[n])
			n++;
	memcpy(cmdline, line, n);
	cmdline[n] = '\0';
}

const char *guest_cmdline(void)
{
	return cmdline;
}

/*
 * Find word @key (as "key=value" or a bare "key"); return its value and
 * length through @value / @len. The last occurrence wins, as on Linux.
 */
static bool find_key(const char *key, const char **value, size_t *len)
{
	size_t key_len = strlen(key);
	bool found = false;

	for (const char *p = cmdline; *p;) {
		while (*p == ' ')
			p++;
		const char *word = p;
		while (*p && *p != ' ')
			p++;
		size_t word_len = p - word;
		if (word_len >= key_len && strncmp(word, key, key_len) == 0) {
			if (word_len == key_len) {
				*value = word + key_len;
				*len = 0;
				found = true;
			} else if (word[key_len] == '=') {
				*value = word + key_len + 1;
				*len = word_len - key_len - 1;
				found = true;
			}
		}
	}
	return found;
}

bool guest_cmdline_get(const char *key, char *buf, size_t size)
{
	const char *value;
	size_t len;

	if (!find_key(key, &value, &len))
		return false;
	if (size > 0) {
		if (len > size - 1)
			len = size - 1;
		memcpy(buf, value, len);
		buf[len] = '\0';
	}
	return true;
}

uint64_t guest_cmdline_u64(const char *key, uint64_t default_value)
{
	const char *value;
	size_t len;
	uint64_t number;

	if (!find_key(key, &value, &len))
		return default_value;
	if (!parse_u64(value, len, &number))
		guest_error("%s= must be a number, decimal or 0x-hex (command line \"%s\")",
			    key, cmdline);
	return number;
}

uint64_t guest_nonce(void)
{
	const char *value;
	size_t len;
	uint64_t nonce;

	if (!find_key("nonce", &value, &len))
		guest_error("no nonce= on the command line \"%s\"", cmdline);
	for (size_t i = 0; i < len; i++)
		if (value[i] < '0' || value[i] > '9')
			len = 0; /* decimal only: force the error below */
	if (!parse_u64(value, len, &nonce))
		guest_error("nonce= must be a decimal 64-bit number (command line \"%s\")",
			    cmdline);
	return nonce;
}
