/**
 * @file sched_credit.h
 * @brief Xen's credit scheduler (credit1), as policy with no mechanism: who runs next, and for how long.
 *
 * Every domain has a weight (default 256) and may have a cap (a percentage
 * of one CPU; 0 = none). Time is counted in ticks of 10 ms; a slice is 3
 * ticks (30 ms). The running domain pays 100 credits per tick. Every 3 ticks
 * (an accounting period) the credits of one CPU's period, 300, are shared
 * among the domains that wanted to run, in proportion to their weights — a
 * capped domain gets at most its cap's worth — and kept within one period's
 * credits either way. A domain with credit left is UNDER, one in debt is
 * OVER; UNDER ones run first, round-robin; a domain that wakes from sleep
 * with credit left is BOOSTed ahead of both until its next tick, which is
 * what keeps an interactive Dom0 responsive while DomUs spin. A capped
 * domain in debt is parked (not run at all) until an accounting pays it back.
 * A halted domain is not charged and earns nothing. (Xen's
 * xen/common/sched/credit.c does the same with these constants; this is the
 * kit's own code, one CPU.)
 *
 * The module holds no pointers and calls nothing: kernel/dom/schedule.c
 * feeds it ticks and wakes and asks it whom to run; the kit's host test
 * drives it the same way (grader/unit/test_sched_credit.py).
 */
#ifndef HYPATIA_SCHED_CREDIT_H
#define HYPATIA_SCHED_CREDIT_H

#include "types.h"

#define CREDIT_MAX_DOMAINS 64           /**< entries: domain ids 0..63 */
#define CREDIT_PER_TICK 100            /**< what the running domain pays per 10 ms tick */
#define CREDIT_TICKS_PER_PERIOD 3      /**< an accounting period, and a time slice: 30 ms */
#define CREDIT_PER_PERIOD (CREDIT_PER_TICK * CREDIT_TICKS_PER_PERIOD) /**< one CPU's credits per period */
#define CREDIT_DEFAULT_WEIGHT 256      /**< Xen's default weight */
#define CREDIT_WEIGHT_MAX 65535        /**< the largest weight xl accepts */

/** Priorities, best first (credit.c's CSCHED_PRI_*). */
enum credit_priority { CREDIT_BOOST, CREDIT_UNDER, CREDIT_OVER, CREDIT_PARKED };

/** One domain as the scheduler sees it. */
struct credit_entry {
	bool used;               /**< the entry holds a domain */
	bool runnable;           /**< wants the CPU (not halted, not paused) */
	bool active;             /**< wanted it at some time in this accounting period */
	uint16_t weight;         /**< 1..65535 */
	uint16_t cap;            /**< percent of one CPU; 0: none */
	int32_t credit;          /**< what is left of its share, -300..300 */
	enum credit_priority priority; /**< BOOST, UNDER, OVER or PARKED */
	uint64_t queued_at;      /**< for round-robin within a priority: the older goes first */
	uint64_t ticks_run;      /**< CPU time used, in ticks (for xl list's Time(s) and the tests) */
};

/** The scheduler of one CPU. */
struct credit_scheduler {
	struct credit_entry entries[CREDIT_MAX_DOMAINS]; /**< by domain id */
	int running;             /**< the entry running now, -1: idle */
	uint32_t slice_left;     /**< ticks before the running one is preempted anyway */
	uint64_t ticks;          /**< ticks since credit_init() */
	uint64_t order;          /**< the round-robin clock */
};

/** An empty scheduler. */
void credit_init(struct credit_scheduler *s);
/** Add entry @p id (a domain), runnable or not, with Xen's defaults. -1 if @p id is out of range or taken. */
int credit_add(struct credit_scheduler *s, unsigned id, bool runnable);
/** Forget entry @p id. */
void credit_remove(struct credit_scheduler *s, unsigned id);
/** xl sched-credit -w W -c C: 0, or -1 if out of range (weight 1..65535, cap 0..100). */
int credit_set(struct credit_scheduler *s, unsigned id, unsigned weight, unsigned cap);
/** The domain halted (or was paused): it stops being charged and earning. */
void credit_sleep(struct credit_scheduler *s, unsigned id);
/** The domain woke (an interrupt, an event, an unpause): with credit left it is BOOSTed. */
void credit_wake(struct credit_scheduler *s, unsigned id);
/**
 * A timer tick passed while the current entry ran: charge it, account every
 * period. True when the CPU should switch now (its slice is over, or a
 * BOOSTed domain waits).
 */
bool credit_tick(struct credit_scheduler *s);
/** Whom to run now (and start its slice): an entry's id, or -1 for idle. */
int credit_pick(struct credit_scheduler *s);
/** The CPU time entry @p id has used, in ticks (xl list's Time(s), xentop's CPU(sec)). */
uint64_t credit_cpu_ticks(const struct credit_scheduler *s, unsigned id);

#endif
