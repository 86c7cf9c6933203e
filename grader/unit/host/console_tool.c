/*
 * console_tool.c — both ends of the console split driver on the host: the
 * guest runtime's ring code (guests/lib/xencons.c) as the DomU, Dom0's
 * backend (guests/dom0/consoled.c). For grader/unit/test_dom0_console.py.
 *
 *   write HEX     the DomU writes these bytes (as many as fit: "wrote N")
 *   poll          the backend takes what it may; its lines print as "line [name] ..."
 *   input HEX     Dom0 types into the DomU ("typed N")
 *   guestread     the DomU reads its input ("got HEX")
 *   badindex      the DomU's out_prod jumps past a ring
 */
#include <stdio.h>
#include <string.h>

#include "hex.h"

#include "consoled.h"

static struct xencons_interface page;

static void print(void *context, const char *name, const char *line)
{
	(void)context;
	printf("line [%s] %s\n", name, line);
}

int main(void)
{
	static char line[70000], bytes[40000], hex[70000];
	struct consoled c;
	consoled_init(&c, &page, "hello-pv", print, NULL);
	while (fgets(line, sizeof(line), stdin)) {
		if (sscanf(line, "write %s", hex) == 1) {
			size_t n = unhex(hex, bytes);
			printf("wrote %u\n", xencons_put(page.out, XENCONS_OUT_SIZE, &page.out_cons, &page.out_prod, bytes,
							 (uint32_t)n));
		} else if (!strncmp(line, "poll", 4)) {
			printf("took %d\n", consoled_poll(&c));
		} else if (sscanf(line, "input %s", hex) == 1) {
			size_t n = unhex(hex, bytes);
			printf("typed %u\n", consoled_input(&c, bytes, (uint32_t)n));
		} else if (!strncmp(line, "guestread", 9)) {
			int32_t n = xencons_take(page.in, XENCONS_IN_SIZE, &page.in_cons, &page.in_prod, bytes, sizeof(bytes));
			printf("got ");
			for (int32_t i = 0; i < n; i++)
				printf("%02x", (unsigned char)bytes[i]);
			printf("\n");
		} else if (!strncmp(line, "badindex", 8)) {
			page.out_prod = page.out_cons + 3 * XENCONS_OUT_SIZE;
		}
		fflush(stdout);
	}
	return 0;
}
