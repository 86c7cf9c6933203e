/*
 * net.c — `net`, the shell's door to the hosts' link (link.h): send and
 * receive messages and whole files between Dom0s. Cold migration (lab 6)
 * moves save files and disk images this way.
 */
#include "dom0.h"
#include "link.h"

#define NE2K_BASE 0x300
#define FILE_CHUNK 16384
#define RECEIVE_TIMEOUT_MS 30000

static struct ne2k card;
static struct link link;

void net_init(void)
{
	if (ne2k_init(&card, NE2K_BASE)) {
		gprintf("dom0: no network card at 0x%x\n", NE2K_BASE);
		return;
	}
	if (link_init(&link, &card)) {
		gprintf("dom0: network card found, but the link's clock could not be measured\n");
		card.present = false;
		return;
	}
	gprintf("dom0: network card %02x:%02x:%02x:%02x:%02x:%02x\n", card.mac[0], card.mac[1], card.mac[2],
		card.mac[3], card.mac[4], card.mac[5]);
}

static int parse_mac(const char *text, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++) {
		int value = 0;
		for (int d = 0; d < 2; d++, text++) {
			char c = *text;
			int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
				  : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
			if (digit < 0)
				return -1;
			value = value * 16 + digit;
		}
		mac[i] = (uint8_t)value;
		if (i < 5 && *text++ != ':')
			return -1;
	}
	return *text ? -1 : 0;
}

static void print_mac(const uint8_t *mac)
{
	gprintf("%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

/* net sendfile MAC PATH: "file SIZE", the data in chunks, then "end FNV". */
static int send_file(const uint8_t *mac, const char *path)
{
	static char chunk[FILE_CHUNK];
	struct fat_volume *v = dom0_volume();
	struct fat_file f;
	char line[64];
	if (!v)
		return 1;
	int err = fat_open(v, path, &f);
	if (err || f.directory)
		return gprintf("net sendfile: %s: %s\n", path, fat_strerror(err ? err : FAT_EISDIR)), 1;
	int n = gsnprintf(line, sizeof(line), "file %u", f.size);
	if (link_send(&link, mac, line, (uint32_t)n))
		return gprintf("net sendfile: the other host does not answer\n"), 1;
	uint64_t hash = 0xcbf29ce484222325ull;
	for (uint64_t at = 0; at < f.size;) {
		int64_t got = fat_read(v, &f, at, chunk, sizeof(chunk));
		if (got <= 0)
			return gprintf("net sendfile: %s: %s\n", path, fat_strerror(got ? (int)got : FAT_EIO)), 1;
		for (int64_t i = 0; i < got; i++)
			hash = (hash ^ (uint8_t)chunk[i]) * 0x100000001b3ull;
		if (link_send(&link, mac, chunk, (uint32_t)got))
			return gprintf("net sendfile: the other host stopped answering at byte %llu\n",
				       (unsigned long long)at), 1;
		at += (uint64_t)got;
	}
	n = gsnprintf(line, sizeof(line), "end %016llx", (unsigned long long)hash);
	if (link_send(&link, mac, line, (uint32_t)n))
		return gprintf("net sendfile: the other host did not confirm the end\n"), 1;
	gprintf("net sendfile: %s, %u bytes, fnv %016llx, %llu frames sent again\n", path, f.size,
		(unsigned long long)hash, (unsigned long long)link.retransmits);
	return 0;
}

static int receive_file(const char *path)
{
	static char chunk[FILE_CHUNK + 1];
	struct fat_volume *v = dom0_volume();
	struct fat_file f;
	uint8_t from[6];
	if (!v)
		return 1;
	int64_t n = link_receive(&link, from, chunk, FILE_CHUNK, RECEIVE_TIMEOUT_MS);
	if (n < 0)
		return gprintf("net recvfile: nothing came\n"), 1;
	chunk[n] = '\0';
	if (strncmp(chunk, "file ", 5))
		return gprintf("net recvfile: expected a file, got a message\n"), 1;
	uint64_t size = 0;
	for (const char *p = chunk + 5; *p >= '0' && *p <= '9'; p++)
		size = size * 10 + (uint64_t)(*p - '0');
	int err = fat_create(v, path, &f);
	if (err)
		return gprintf("net recvfile: %s: %s\n", path, fat_strerror(err)), 1;
	uint64_t hash = 0xcbf29ce484222325ull, at = 0;
	while (at < size) {
		n = link_receive(&link, from, chunk, FILE_CHUNK, RECEIVE_TIMEOUT_MS);
		if (n <= 0)
			return gprintf("net recvfile: the sender stopped at byte %llu of %llu\n", (unsigned long long)at,
				       (unsigned long long)size), 1;
		for (int64_t i = 0; i < n; i++)
			hash = (hash ^ (uint8_t)chunk[i]) * 0x100000001b3ull;
		int64_t w = fat_write(v, &f, at, chunk, (uint64_t)n);
		if (w < 0)
			return gprintf("net recvfile: %s: %s\n", path, fat_strerror((int)w)), 1;
		at += (uint64_t)n;
	}
	n = link_receive(&link, from, chunk, FILE_CHUNK, RECEIVE_TIMEOUT_MS);
	link_dally(&link, 3 * LINK_TIMEOUT_MS);
	char want[32];
	gsnprintf(want, sizeof(want), "end %016llx", (unsigned long long)hash);
	if (n < 0 || (chunk[n] = '\0', strcmp(chunk, want)))
		return gprintf("net recvfile: %s: the data does not match the sender's hash\n", path), 1;
	gprintf("net recvfile: %s, %llu bytes, fnv %016llx, from ", path, (unsigned long long)size,
		(unsigned long long)hash);
	print_mac(from);
	gprintf("\n");
	return 0;
}

int net_main(int argc, char **argv)
{
	uint8_t mac[6];
	static char message[DOM0_LINE_MAX + 1];
	if (!card.present)
		return gprintf("net: no network card\n"), 1;
	const char *what = argc > 1 ? argv[1] : "info";
	if (!strcmp(what, "info")) {
		gprintf("net: card ");
		print_mac(card.mac);
		gprintf(", frames sent %llu received %llu; sent again %llu, damaged %llu, duplicates %llu, "
			"dropped on purpose %llu\n", (unsigned long long)card.sent, (unsigned long long)card.received,
			(unsigned long long)link.retransmits, (unsigned long long)link.bad_frames,
			(unsigned long long)link.duplicates, (unsigned long long)link.dropped_on_purpose);
		return 0;
	}
	if (!strcmp(what, "drop") && argc == 3) {
		uint64_t every;
		if (!parse_u64(argv[2], strlen(argv[2]), &every) || every > 1000)
			return gprintf("net drop: N is a number from 0 (none) to 1000\n"), 1;
		link.drop_every = (uint32_t)every;
		return 0;
	}
	if ((!strcmp(what, "send") || !strcmp(what, "sendfile")) && argc >= 4) {
		if (parse_mac(argv[2], mac))
			return gprintf("net: %s is not a MAC address (52:54:00:12:34:56)\n", argv[2]), 1;
		if (!strcmp(what, "sendfile"))
			return send_file(mac, argv[3]);
		int n = 0;
		for (int i = 3; i < argc; i++)
			n += gsnprintf(message + n, sizeof(message) - (size_t)n, "%s%s", i > 3 ? " " : "", argv[i]);
		if (link_send(&link, mac, message, (uint32_t)n))
			return gprintf("net send: no acknowledgement from the other host\n"), 1;
		return 0;
	}
	if (!strcmp(what, "recv")) {
		uint64_t seconds = RECEIVE_TIMEOUT_MS / 1000;
		if (argc > 2 && (!parse_u64(argv[2], strlen(argv[2]), &seconds) || seconds > 3600))
			return gprintf("net recv: SECONDS is a number up to 3600\n"), 1;
		int64_t n = link_receive(&link, mac, message, DOM0_LINE_MAX, seconds * 1000);
		if (n < 0)
			return gprintf("net recv: nothing came\n"), 1;
		link_dally(&link, 3 * LINK_TIMEOUT_MS);
		message[n] = '\0';
		gprintf("net recv: from ");
		print_mac(mac);
		gprintf(": %s\n", message);
		return 0;
	}
	if (!strcmp(what, "recvfile") && argc == 3)
		return receive_file(argv[2]);
	gprintf("usage: net [info] | net send MAC WORDS... | net recv [SECONDS] | net sendfile MAC FILE | "
		"net recvfile FILE | "
		"net drop N\n");
	return 1;
}
