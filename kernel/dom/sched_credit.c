/*
 * sched_credit.c — the credit scheduler's policy (sched_credit.h).
 */
#include "sched_credit.h"

static struct credit_entry *entry(struct credit_scheduler *s, unsigned id)
{
	return id < CREDIT_MAX_DOMAINS && s->entries[id].used ? &s->entries[id] : NULL;
}

void credit_init(struct credit_scheduler *s)
{
	for (unsigned i = 0; i < CREDIT_MAX_DOMAINS; i++)
		s->entries[i] = (struct credit_entry){0};
	s->running = -1;
	s->slice_left = 0;
	s->ticks = s->order = 0;
}

int credit_add(struct credit_scheduler *s, unsigned id, bool runnable)
{
	if (id >= CREDIT_MAX_DOMAINS || s->entries[id].used)
		return -1;
	s->entries[id] = (struct credit_entry){
		.used = true, .runnable = runnable, .active = runnable, .weight = CREDIT_DEFAULT_WEIGHT,
		.priority = CREDIT_UNDER, .queued_at = s->order++,
	};
	return 0;
}

void credit_remove(struct credit_scheduler *s, unsigned id)
{
	if (!entry(s, id))
		return;
	s->entries[id].used = false;
	if (s->running == (int)id)
		s->running = -1;
}

int credit_set(struct credit_scheduler *s, unsigned id, unsigned weight, unsigned cap)
{
	struct credit_entry *e = entry(s, id);
	if (!e || weight < 1 || weight > CREDIT_WEIGHT_MAX || cap > 100)
		return -1;
	e->weight = (uint16_t)weight;
	e->cap = (uint16_t)cap;
	return 0;
}

void credit_sleep(struct credit_scheduler *s, unsigned id)
{
	struct credit_entry *e = entry(s, id);
	if (!e)
		return;
	e->runnable = false;
	if (e->priority == CREDIT_BOOST)
		e->priority = CREDIT_UNDER;
	if (s->running == (int)id)
		s->running = -1;
}

void credit_wake(struct credit_scheduler *s, unsigned id)
{
	struct credit_entry *e = entry(s, id);
	if (!e || e->runnable)
		return;
	e->runnable = e->active = true;
	e->queued_at = s->order++;
	/* Woken with credit left: it has been waiting, not hogging; let it go first. */
	if (e->priority == CREDIT_UNDER)
		e->priority = CREDIT_BOOST;
}

/* Share one period's credits among the domains that wanted to run, by weight (credit.c's
 * csched_acct, on one CPU): a capped one gets at most its cap; nobody keeps more than a
 * period's worth, nor owes more. */
static void account(struct credit_scheduler *s)
{
	uint64_t weights = 0;
	for (unsigned i = 0; i < CREDIT_MAX_DOMAINS; i++)
		if (s->entries[i].used && s->entries[i].active)
			weights += s->entries[i].weight;
	for (unsigned i = 0; i < CREDIT_MAX_DOMAINS; i++) {
		struct credit_entry *e = &s->entries[i];
		if (!e->used)
			continue;
		if (e->active && weights) {
			int32_t share = (int32_t)((CREDIT_PER_PERIOD * (uint64_t)e->weight + weights - 1) / weights);
			if (e->cap && share > (int32_t)(CREDIT_PER_PERIOD * e->cap / 100))
				share = (int32_t)(CREDIT_PER_PERIOD * e->cap / 100);
			e->credit += share;
		}
		if (e->credit > CREDIT_PER_PERIOD)
			e->credit = CREDIT_PER_PERIOD; /* saving up while idle does not buy a burst later */
		if (e->credit < -CREDIT_PER_PERIOD)
			e->credit = -CREDIT_PER_PERIOD;
		if (e->priority != CREDIT_BOOST)
			e->priority = e->credit > 0 ? CREDIT_UNDER : e->cap ? CREDIT_PARKED : CREDIT_OVER;
		e->active = e->runnable;
	}
}

bool credit_tick(struct credit_scheduler *s)
{
	s->ticks++;
	bool switch_now = false;
	if (s->running >= 0) {
		struct credit_entry *e = &s->entries[s->running];
		e->credit -= CREDIT_PER_TICK;
		e->ticks_run++;
		e->active = true;
		if (e->priority == CREDIT_BOOST)
			e->priority = CREDIT_UNDER; /* one tick of boost, no more */
		if (e->credit <= 0)
			e->priority = e->cap ? CREDIT_PARKED : CREDIT_OVER;
		if (s->slice_left)
			s->slice_left--;
		switch_now = s->slice_left == 0 || e->priority == CREDIT_PARKED;
	}
	if (s->ticks % CREDIT_TICKS_PER_PERIOD == 0)
		account(s);
	/* A boosted domain does not wait for the slice to end. */
	for (unsigned i = 0; i < CREDIT_MAX_DOMAINS && !switch_now; i++) {
		struct credit_entry *e = &s->entries[i];
		if (e->used && e->runnable && e->priority == CREDIT_BOOST && (int)i != s->running)
			switch_now = true;
	}
	return switch_now || s->running < 0;
}

int credit_pick(struct credit_scheduler *s)
{
	int best = -1;
	if (s->running >= 0 && s->entries[s->running].used)
		s->entries[s->running].queued_at = s->order++; /* the one that ran goes to the back */
	for (unsigned i = 0; i < CREDIT_MAX_DOMAINS; i++) {
		struct credit_entry *e = &s->entries[i];
		if (!e->used || !e->runnable || e->priority == CREDIT_PARKED)
			continue;
		if (best < 0 || e->priority < s->entries[best].priority ||
		    (e->priority == s->entries[best].priority && e->queued_at < s->entries[best].queued_at))
			best = (int)i;
	}
	s->running = best;
	s->slice_left = CREDIT_TICKS_PER_PERIOD;
	return best;
}

uint64_t credit_cpu_ticks(const struct credit_scheduler *s, unsigned id)
{
	return id < CREDIT_MAX_DOMAINS && s->entries[id].used ? s->entries[id].ticks_run : 0;
}
