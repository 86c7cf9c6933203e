/*
 * consoled.c — the console backend (consoled.h).
 */
#include "consoled.h"
#include "dom0_env.h"

void consoled_init(struct consoled *c, struct xencons_interface *ring, const char *name,
		   void (*print)(void *, const char *, const char *), void *context)
{
	memset(c, 0, sizeof(*c));
	c->ring = ring;
	dom0_snprintf(c->name, sizeof(c->name), "%s", name);
	c->print = print;
	c->context = context;
}

static void end_line(struct consoled *c)
{
	c->line[c->line_length] = '\0';
	c->print(c->context, c->name, c->line);
	c->line_length = 0;
	c->lines++;
}

int consoled_poll(struct consoled *c)
{
	char chunk[256];
	int taken = 0;
	if (c->cut_off)
		return -1;
	while (taken < CONSOLED_BUDGET) {
		int32_t n = xencons_take(c->ring->out, XENCONS_OUT_SIZE, &c->ring->out_cons, &c->ring->out_prod, chunk,
					 sizeof(chunk));
		if (n < 0) {
			c->cut_off = true;
			char why[CONSOLED_LINE_MAX];
			dom0_snprintf(why, sizeof(why), "(console cut off: its ring's indexes are more than a ring apart)");
			c->print(c->context, c->name, why);
			return -1;
		}
		if (n == 0)
			break;
		for (int32_t i = 0; i < n; i++) {
			char ch = chunk[i];
			if (ch == '\n') {
				end_line(c);
			} else if (ch != '\r') {
				/* Control characters print as '?': a DomU cannot drive Dom0's terminal. */
				c->line[c->line_length++] = (unsigned char)ch < 0x20 && ch != '\t' ? '?' : ch;
				if (c->line_length == CONSOLED_LINE_MAX)
					end_line(c);
			}
		}
		taken += n;
		c->bytes += (uint64_t)n;
	}
	return taken;
}

uint32_t consoled_input(struct consoled *c, const char *data, uint32_t length)
{
	if (c->cut_off)
		return 0;
	return xencons_put(c->ring->in, XENCONS_IN_SIZE, &c->ring->in_cons, &c->ring->in_prod, data, length);
}
