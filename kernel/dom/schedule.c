/*
 * schedule.c — running every domain, round-robin, one timer slice each.
 *
 * One physical CPU, several domains: each gets a slice of SLICE_TICKS timer
 * ticks (or less if it halts), then the next runnable one goes. A domain that
 * exits or crashes drops out; the rest keep running.
 */
#include "console.h"
#include "domain.h"
#include "linux_boot.h"
#include "memlayout.h"
#include "multiboot.h"
#include "paging.h"
#include "shadow.h"
#include "string.h"
#include "timer.h"
#include "vdev.h"
#include "vcpu.h"
#include "x86.h"
#include "xstate.h"

/* Every live domain, for the scheduler and for the GDB helpers (hv-domains). */
struct domain *domain_table[DOMAIN_MAX];
unsigned domain_count;

/* vpit_clock() at which @p d's next timer interrupt is due — its PIT's or
 * its local APIC timer's, whichever comes first — or 0 if none is coming. */
static uint64_t next_timer_event(struct domain *d)
{
	if (d->state != DOMAIN_RUNNABLE || d->pause_count || !d->vcpu) /* a domain Dom0 is still building */
		return 0;
	uint64_t pit = vpit_next_interrupt(d), apic_tsc = vlapic_timer_next(d->vcpu);
	uint64_t apic = apic_tsc ? vpit_clock_at(apic_tsc) + 1 : 0; /* +1: the clock rounds down */
	if (!pit || (apic && apic < pit))
		return apic;
	return pit;
}

/* Every domain is halted. Sleep until the next tick, unless a guest's own
 * timer (its emulated PIT or APIC timer) is due before: then wait for
 * exactly that moment, with interrupts on, so that the guest's interrupt is
 * on time. */
static void idle_until_next_event(struct domain **domains, unsigned count)
{
	uint64_t soonest = 0;
	for (unsigned i = 0; i < count; i++) {
		uint64_t due = next_timer_event(domains[i]);
		if (due && (!soonest || due < soonest))
			soonest = due;
	}
	if (!soonest || (int64_t)(soonest - vpit_clock()) >= (int64_t)(VPIT_HZ / TIMER_HZ)) {
		timer_wait_ticks(1);
		return;
	}
	uint64_t tick = timer_ticks(), flags = read_rflags();
	sti();
	while (vpit_clock() < soonest && timer_ticks() == tick)
		__asm__ volatile("pause");
	if (!(flags & RFLAGS_IF))
		cli();
}

struct domain *domain_lookup(unsigned id)
{
	for (unsigned i = 0; i < domain_count; i++)
		if (domain_table[i]->id == id)
			return domain_table[i];
	return NULL;
}

bool domain_table_add(struct domain *d)
{
	if (domain_count >= DOMAIN_MAX)
		return false;
	domain_table[domain_count++] = d;
	return true;
}

void domain_table_remove(struct domain *d)
{
	for (unsigned i = 0; i < domain_count; i++)
		if (domain_table[i] == d) {
			memmove(&domain_table[i], &domain_table[i + 1], (domain_count - i - 1) * sizeof(domain_table[0]));
			domain_table[--domain_count] = NULL;
			return;
		}
}

/* One slice of @d's vCPU, its CPU time counted (xl list's Time(s)) in TSC
 * cycles, turned into nanoseconds only when asked (domctl.c): reading the
 * platform clock here would calibrate it in the middle of a domain's turn. */
static void run_slice(struct domain *d)
{
	uint64_t start = rdtsc();
	/* A PV guest runs in its own address space; an HVM guest's is in its VMCB. */
	if (!d->hvm)
		write_cr3(d->pml4);
	xstate_switch_in(d->vcpu);
	vcpu_run_slice(d->vcpu);
	xstate_switch_out(d->vcpu);
	if (!d->hvm)
		write_cr3(paging_kernel_pml4());
	d->cpu_time_tsc += rdtsc() - start;
}

static void print_domain_stats(struct domain *d)
{
	struct vcpu *v = d->vcpu;
	kprintf("[hv] d%u exits:", d->id);
	for (int r = 0; v && r < VCPU_EXIT_REASON_COUNT; r++)
		if (v->exits[r])
			kprintf(" %s=%lu", vcpu_exit_reason_name(r), v->exits[r]);
	kprintf("\n");
	if (d->paging == PAGING_SHADOW)
		shadow_print_stats(d);
	if (d->dirty_logging)
		kprintf("[hv] d%u dirty log: %lu pages written\n", d->id, d->dirty_pages);
	if (d->lazy_memory)
		kprintf("[hv] d%u memory: %lu of %lu pages populated on first touch\n", d->id, d->pages_populated,
			d->page_count);
}

void domains_run_all(void)
{
	const struct multiboot_info *mbi = boot_info;
	unsigned refused = 0;
	if (!(mbi->flags & MULTIBOOT_INFO_MODS) || mbi->mods_count == 0)
		return;

	const struct multiboot_module *mods = phys_to_virt(mbi->mods_addr);
	for (uint32_t i = 0; i < mbi->mods_count && domain_count < DOMAIN_MAX; i++) {
		const char *options = mods[i].string ? (const char *)phys_to_virt(mods[i].string) : "";
		const void *image = phys_to_virt(mods[i].mod_start);
		size_t size = mods[i].mod_end - mods[i].mod_start;
		/* A module marked "initrd" is the initial RAM disk of the one before it. */
		const void *initrd = NULL;
		size_t initrd_size = 0;
		if (i + 1 < mbi->mods_count && mods[i + 1].string &&
		    linux_module_is_initrd(phys_to_virt(mods[i + 1].string))) {
			i++;
			initrd = phys_to_virt(mods[i].mod_start);
			initrd_size = mods[i].mod_end - mods[i].mod_start;
		}
		struct domain *d = domain_create_with_initrd(image, size, options, initrd, initrd_size);
		refused += d == NULL;
		if (d)
			domain_table_add(d);
		if (domain_count == DOMAIN_MAX && i + 1 < mbi->mods_count) {
			/* Say so rather than leave the rest out without a word (DESIGN §9). */
			kprintf("[hv] modules %u-%u refused: at most %u domains at once\n", i + 1, mbi->mods_count - 1,
				DOMAIN_MAX);
			refused += mbi->mods_count - 1 - i;
		}
	}

	/* Domains come (Dom0's xl create) and go (xl destroy) while this runs:
	 * the table is read afresh at every turn. With a Dom0 the host lives as
	 * long as Dom0 does, as on Xen; without one, until every domain ended. */
	unsigned exited = 0, crashed = 0;
	struct domain *dom0 = domain_lookup(0);
	for (bool any = domain_count > 0; any;) {
		any = false;
		bool all_idle = true;
		for (unsigned i = 0; i < domain_count; i++) {
			struct domain *d = domain_table[i];
			if (d->state != DOMAIN_RUNNABLE || d->pause_count || !d->vcpu)
				continue;
			run_slice(d);
			any |= d->state == DOMAIN_RUNNABLE;
			all_idle &= d->vcpu->halted || d->vcpu->yielded;
		}
		if (dom0)
			any = dom0->state == DOMAIN_RUNNABLE;
		/* Every domain waits for an interrupt: sleep until the next tick. */
		if (any && all_idle && !evtchn_take_wakeup()) /* an event raised in the pass: someone has work */
			idle_until_next_event(domain_table, domain_count);
	}

	while (domain_count) {
		struct domain *d = domain_table[0];
		print_domain_stats(d);
		exited += d->state == DOMAIN_EXITED;
		crashed += d->state == DOMAIN_CRASHED;
		domain_table_remove(d);
		domain_destroy(d);
	}
	kprintf("[hv] all domains ended: %u exited, %u crashed, %u refused\n", exited, crashed,
		refused);
}
