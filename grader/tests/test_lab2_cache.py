"""Lab 2, part 2: the shadow cache — shadows kept across CR3 loads, kept correct.

With the cache (option shadowcache=1, the default) a guest CR3 load switches
to the shadow kept for that root (a hit) or starts an empty one (a miss);
every guest page table a shadow was built from is write-protected, and the
guest's writes to one are emulated. When a shadow domain ends, its counters
line carries, after part 1's fields,
`cache_hits=H cache_misses=M emulated_pte_writes=E unprotected=U
space_pages_max=S pages_max=P`.

The expected values come from the guest's own output, never from a recorded
run: guests/tests/paging_processes.c counts the CR3 loads that name a root
it loaded before (or started on) and those that name a new one. A cache that
holds at least as many shadows as the guest has roots (the kit's holds
SHADOW_CACHE_SIZE = 8; the guest uses at most 7) finds exactly the former.
The guest also rewrites a page table of a process that is not loaded and
checks that the process sees it after the switch (no INVLPG is owed): a
cache without write protection fails there, and equivalence with the
native run catches it.
"""
import re

import pytest

from test_lab1_equivalence import domain_id, expect_equivalent, expect_exit, run_native, transcript
from test_lab2_equivalence import expect_not_crashed, run_shadow, shadow_module, shadow_stats

pytestmark = [pytest.mark.student,
              pytest.mark.handout("labs/lab2/README.md, 6. Part 2: keeping shadows across CR3 loads")]

CACHE_SIZE = 8  # SHADOW_CACHE_SIZE in kernel/include/shadow.h
CACHE_STATS = re.compile(r"^\[hv\] d(\d+) shadow: hidden_faults=\d+ .*cache_hits=(\d+) cache_misses=(\d+) "
                         r"emulated_pte_writes=(\d+) unprotected=(\d+) space_pages_max=(\d+) pages_max=(\d+)",
                         re.M)
FIELDS = ("cache_hits", "cache_misses", "emulated_pte_writes", "unprotected", "space_pages_max", "pages_max")


def cache_stats(run, name):
    """Domain @name's part-2 counters, and part 1's (shadow_stats)."""
    n = domain_id(run, name)
    for m in CACHE_STATS.finditer(run.output):
        if int(m.group(1)) == n:
            stats = dict(zip(FIELDS, map(int, m.groups()[1:])))
            stats.update(shadow_stats(run, name))
            return stats
    run.fail(f"no '[hv] d{n} shadow: ... cache_hits=H cache_misses=M emulated_pte_writes=E unprotected=U "
             f"space_pages_max=S pages_max=P' line for domain '{name}'")


def guest_roots(run, name):
    """What paging_processes counted: (loads of a known root, loads of a new root, roots)."""
    for line in transcript(run, name):
        m = re.match(r"cr3 loads of a root loaded before: (\d+), of a new root: (\d+), roots: (\d+)$", line)
        if m:
            return tuple(map(int, m.groups()))
    run.fail(f"domain '{name}' never printed 'cr3 loads of a root loaded before: K, of a new root: N, roots: R'")


def run_processes(build, nonce, native, extra=""):
    r = run_shadow(build, [shadow_module(build, "paging_processes", "procs", nonce, extra)], nonce)
    expect_not_crashed(r, "procs")
    expect_equivalent(r, "procs", native.lines, "image, mode=shadow" + (f" {extra}" if extra else ""))
    expect_exit(r, "procs", 0x10)
    return r


@pytest.mark.points(5)
@pytest.mark.handout("labs/lab2/README.md, 7. Exercise 3: the cache (`kernel/virt/shadow_cache.c`)")
def test_hits_and_misses_follow_the_guest(build, nonce):
    """cache_hits = the guest's loads of a root it used before; cache_misses = loads of a new one."""
    native = run_native(build, "paging_processes", f"nonce={nonce}")
    r = run_processes(build, nonce, native)
    known, new, roots = guest_roots(r, "procs")
    if roots > CACHE_SIZE:
        r.fail(f"the guest used {roots} roots, more than the cache holds: this test cannot judge it")
    stats = cache_stats(r, "procs")
    problems = []
    if stats["cache_hits"] != known:
        problems.append(f"cache_hits={stats['cache_hits']}, but {known} CR3 loads named a root the guest had "
                        f"loaded before (it has {roots} roots, the cache holds {CACHE_SIZE})")
    if stats["cache_misses"] != new:
        problems.append(f"cache_misses={stats['cache_misses']}, but {new} CR3 loads named a new root")
    if stats["space_pages_max"] < 2:
        problems.append(f"space_pages_max={stats['space_pages_max']}: a shadow holds at least its root and a table")
    if problems:
        r.fail("the cache counters disagree with the guest:\n  " + "\n  ".join(problems))


@pytest.mark.points(5)
@pytest.mark.handout("labs/lab2/README.md, 8. Exercise 4: page-table writes (`kernel/virt/shadow_cache.c`)")
@pytest.mark.parametrize("guest", ["paging_processes", "paging_faults"])
def test_page_table_writes_are_emulated(build, nonce, guest):
    """The guests write live page tables (demand paging, fork, a recursive mapping): emulated, none given up."""
    native = run_native(build, guest, f"nonce={nonce}")
    r = run_shadow(build, [shadow_module(build, guest, guest, nonce)], nonce)
    expect_not_crashed(r, guest)
    expect_equivalent(r, guest, native.lines, "image, mode=shadow")
    expect_exit(r, guest, 0x10)
    stats = cache_stats(r, guest)
    if stats["emulated_pte_writes"] == 0:
        r.fail(f"emulated_pte_writes=0: '{guest}' writes page tables that its shadow was built from "
               f"(they must be write-protected, and each write emulated)")
    if stats["unprotected"]:
        r.fail(f"unprotected={stats['unprotected']}: every store '{guest}' makes to a page table is a MOV, "
               f"XCHG, CMPXCHG, AND, OR, XOR or BTS/BTR/BTC, which the emulator must handle")


@pytest.mark.points(3)
def test_without_the_cache(build, nonce):
    """shadowcache=0 is part 1's virtual TLB: no hits, no emulation — and more hidden faults than with the cache."""
    native = run_native(build, "paging_processes", f"nonce={nonce}")
    with_cache = cache_stats(run_processes(build, nonce, native), "procs")
    r = run_processes(build, nonce, native, "shadowcache=0")
    without = cache_stats(r, "procs")
    problems = [f"{k}={without[k]} with shadowcache=0 (expected 0)"
                for k in ("cache_hits", "cache_misses", "emulated_pte_writes") if without[k]]
    if with_cache["hidden_faults"] >= without["hidden_faults"]:
        problems.append(f"hidden_faults: {with_cache['hidden_faults']} with the cache, {without['hidden_faults']} "
                        f"without — switching back to a kept shadow should spare most of the refills")
    if problems:
        r.fail("shadowcache=0 should switch the cache off:\n  " + "\n  ".join(problems))
