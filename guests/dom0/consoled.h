/**
 * @file consoled.h
 * @brief Dom0's console backend: a DomU's console ring, in lines under its name.
 *
 * What a DomU writes to its console ring (xencons.h) comes out of Dom0 as
 * whole lines behind the domain's name — `[hello] RESULT: PASS` — and what
 * `xl console` types goes into the ring's other half. One domain cannot
 * drown the others: each poll takes at most CONSOLED_BUDGET bytes of a ring,
 * a line longer than CONSOLED_LINE_MAX is cut into pieces, and a domain
 * whose ring indexes are more than a ring apart is cut off with one line.
 */
#ifndef DOM0_CONSOLED_H
#define DOM0_CONSOLED_H

#include <stdbool.h>
#include <stdint.h>

#include "xencons.h"

#define CONSOLED_LINE_MAX 200
#define CONSOLED_BUDGET 4096

struct consoled {
	struct xencons_interface *ring;
	char name[64];
	char line[CONSOLED_LINE_MAX + 1];
	uint32_t line_length;
	bool cut_off;
	uint64_t bytes, lines;
	/** Where finished lines go (Dom0's console, and `xl console` when attached). */
	void (*print)(void *context, const char *name, const char *line);
	void *context;
};

/** Start serving @p ring for the domain @p name. */
void consoled_init(struct consoled *c, struct xencons_interface *ring, const char *name,
		   void (*print)(void *, const char *, const char *), void *context);
/** Take what the DomU wrote (up to the budget); the bytes taken, or -1 once it is cut off. */
int consoled_poll(struct consoled *c);
/** Give the DomU typed input; the bytes that fit. */
uint32_t consoled_input(struct consoled *c, const char *data, uint32_t length);

#endif
