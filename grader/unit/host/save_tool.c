/*
 * save_tool.c — Dom0's save-stream code (guests/dom0/save_stream.c) on the
 * host, for grader/unit/test_dom0_save_stream.py:
 *
 *   save_tool write FILE pv|hvm PAGES SEED   a stream: HVM_CONTEXT, an optional record
 *                                            the reader must skip, PAGE_DATA in two
 *                                            records, the checksum, END
 *   save_tool read FILE                      one line per record, or "error: ..."
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "save_stream.h"

static int file_write(void *context, const void *data, uint32_t length)
{
	return fwrite(data, 1, length, context) != length;
}

static int file_read(void *context, void *data, uint32_t length)
{
	return fread(data, 1, length, context) != length;
}

static uint64_t next(uint64_t *state) /* SplitMix64, as gradelib.splitmix64_sequence */
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t fnv(const void *data, size_t n)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

int main(int argc, char **argv)
{
	static uint64_t body[(SAVE_RECORD_MAX + 8) / 8];
	struct save_stream s;
	if (argc == 6 && !strcmp(argv[1], "write")) {
		FILE *f = fopen(argv[2], "wb");
		struct save_io io = {f, file_write, file_read};
		uint32_t pages = (uint32_t)strtoul(argv[4], NULL, 0);
		uint64_t state = strtoull(argv[5], NULL, 0), *pfns = calloc(pages, 8);
		uint8_t *data = malloc((size_t)pages * SAVE_PAGE_SIZE), context[1000];
		for (size_t i = 0; i < sizeof(context); i++)
			context[i] = (uint8_t)next(&state);
		for (uint32_t i = 0; i < pages; i++) {
			pfns[i] = 16 + 3 * i + next(&state) % 3;
			for (int w = 0; w < 512; w++)
				((uint64_t *)(data + (size_t)i * SAVE_PAGE_SIZE))[w] = next(&state);
		}
		uint32_t half = pages / 2;
		if (save_write_headers(&s, &io, !strcmp(argv[3], "hvm") ? SAVE_DOMAIN_X86_HVM : SAVE_DOMAIN_X86_PV) ||
		    save_write_record(&s, SAVE_REC_HVM_CONTEXT, context, sizeof(context)) ||
		    save_write_record(&s, SAVE_REC_OPTIONAL | 0x77, "skip me", 7) ||
		    save_write_pages(&s, pfns, data, half) ||
		    save_write_pages(&s, pfns + half, data + (size_t)half * SAVE_PAGE_SIZE, pages - half) ||
		    save_write_end(&s)) {
			printf("error: %s\n", s.error);
			return 1;
		}
		free(pfns);
		free(data);
		return fclose(f) != 0;
	}
	if (argc == 3 && !strcmp(argv[1], "read")) {
		FILE *f = fopen(argv[2], "rb");
		struct save_io io = {f, file_write, file_read};
		if (!f || save_read_headers(&s, &io)) {
			printf("error: %s\n", f ? s.error : "cannot open");
			return 1;
		}
		printf("domain %u from Xen %u.%u\n", s.domain_type, s.xen_major, s.xen_minor);
		for (;;) {
			uint32_t type, length, count;
			const uint64_t *pfns;
			const uint8_t *pages;
			if (save_read_record(&s, &type, body, sizeof(body), &length)) {
				printf("error: %s\n", s.error);
				return 1;
			}
			if (type == SAVE_REC_PAGE_DATA) {
				if (save_parse_pages(&s, body, length, &count, &pfns, &pages)) {
					printf("error: %s\n", s.error);
					return 1;
				}
				for (uint32_t i = 0; i < count; i++)
					printf("page %llu %016llx\n", (unsigned long long)pfns[i],
					       (unsigned long long)fnv(pages + (size_t)i * SAVE_PAGE_SIZE, SAVE_PAGE_SIZE));
			} else {
				printf("record 0x%x %u %016llx\n", type, length, (unsigned long long)fnv(body, length));
			}
			if (type == SAVE_REC_END)
				return 0;
		}
	}
	return 2;
}
