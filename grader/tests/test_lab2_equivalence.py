"""Lab 2: shadow paging — the paging guests print the same under Hypatia as natively.

Each paging guest (guests/tests/paging_*.c, docs/guests.md) builds its own
page tables, loads CR3, maps and remaps pages, watches the accessed and dirty
bits, and takes page faults on purpose. Natively (QEMU, CPL 0, the real MMU)
that is the reference; as a domain with `mode=shadow` the hypervisor runs the
guest on shadow tables it fills from the guest's on every hidden fault, and
delivers only the true faults. Equivalence (DESIGN §5) then checks the whole
shadow MMU at once: the walk, the A/D bits, the error codes, the virtual-TLB
flushes on INVLPG and CR3 loads.

Two facts of QEMU 7.2's TCG shape the checks, as the RDMSR one did in lab 1:
a reserved-bit #PF comes natively *without* the P bit the SDM requires, so
paging_faults prints those lines as `DIFF:` and test_reserved_bits holds the
hypervisor to the SDM (P | RSVD, plus W or I/D); and natively all 128 MiB of
RAM exist, so the refusals are checked on their own (test_lab2_attacks.py).

The counters: when a shadow domain ends the hypervisor prints
`[hv] dN shadow: hidden_faults=H true_faults=T cr3_loads=C invlpg=I ...`;
every guest prints how many page faults reached it (`true faults seen: N`)
and how many CR3 loads and INVLPGs it executed. A hypervisor that delivers
exactly the true faults has T = N.

This module also holds the helpers the other lab-2 test modules import.
"""
import re

import pytest

from test_lab1_equivalence import (diff_lines, domain_end, domain_id, expect_equivalent, expect_exit, module,
                                   run_hypervisor, run_native, transcript)

pytestmark = pytest.mark.handout("labs/lab2/README.md, 1. The picture")

HV_TIMEOUT = 20
STATS = re.compile(r"^\[hv\] d(\d+) shadow: hidden_faults=(\d+) true_faults=(\d+) cr3_loads=(\d+) invlpg=(\d+)",
                   re.M)


# --- helpers shared by the lab-2 tests ----------------------------------------------------

def shadow_module(build, guest, name, nonce, extra="", kind="image"):
    """A module string for @guest as a `mode=shadow` domain."""
    return module(build, kind, guest, name, nonce, "mode=shadow" + (f" {extra}" if extra else ""))


def run_shadow(build, modules, nonce, timeout=HV_TIMEOUT):
    return run_hypervisor(build, modules, nonce, timeout=timeout)


def expect_not_crashed(run, name):
    """Fail with the hypervisor's own reason if domain @name crashed (say, a stub's 'LAB 2: ...')."""
    end = domain_end(run, name)
    if end and end[0] == "crashed":
        run.fail(f"domain '{name}' crashed: {end[1]} at RIP 0x{end[2]:x}")


def shadow_equivalence(build, nonce, guest, extra="", kind="image"):
    """Run @guest natively and as a shadow domain; the transcripts must agree."""
    args = f"nonce={nonce}{' ' + extra if extra else ''}"
    native = run_native(build, guest, args)
    r = run_shadow(build, [shadow_module(build, guest, guest, nonce, extra, kind)], nonce)
    expect_not_crashed(r, guest)
    expect_equivalent(r, guest, native.lines, f"{kind}, mode=shadow")
    expect_exit(r, guest, 0x10)
    return native, r


def shadow_stats(run, name):
    """Domain @name's counters {hidden_faults, true_faults, cr3_loads, invlpg}."""
    n = domain_id(run, name)
    for m in STATS.finditer(run.output):
        if int(m.group(1)) == n:
            return dict(zip(("hidden_faults", "true_faults", "cr3_loads", "invlpg"), map(int, m.groups()[1:])))
    run.fail(f"no '[hv] d{n} shadow: hidden_faults=H true_faults=T cr3_loads=C invlpg=I' line for "
             f"domain '{name}' (printed when a shadow domain ends)")


def guest_counts(run, name):
    """What the guest itself counted: {faults, cr3_loads, invlpg}."""
    lines = transcript(run, name)
    out = {}
    for line in lines:
        m = re.match(r"true faults seen: (\d+)$", line)
        if m:
            out["faults"] = int(m.group(1))
        m = re.match(r"cr3 loads: (\d+), invlpg: (\d+)$", line)
        if m:
            out["cr3_loads"], out["invlpg"] = int(m.group(1)), int(m.group(2))
    if "faults" not in out:
        run.fail(f"domain '{name}' never printed 'true faults seen: N'")
    return out


# --- equivalence -------------------------------------------------------------------------------

def case(guest, points, extra="", kind="image"):
    return pytest.param(guest, extra, kind, marks=[pytest.mark.points(points), pytest.mark.student],
                        id=f"{guest}-{kind}" if kind != "image" else guest)


CASES = [
    case("paging_basic", 10),
    case("paging_faults", 10),
    case("paging_processes", 10),
    case("paging_stress", 10),
    # A paravirtualized guest on shadow paging: hypercall pointers go through its tables too.
    case("paging_basic", 3, kind="pv"),
    # Unmodified guests on the tables the hypervisor built for them.
    case("hello", 2),
    case("exceptions", 3),
    case("cpu_state", 3),
]


@pytest.mark.parametrize("guest,extra,kind", CASES)
def test_equivalence(build, nonce, guest, extra, kind):
    shadow_equivalence(build, nonce, guest, extra, kind)


# The SDM's error code for each reserved-bit fault paging_faults takes
# (Vol. 3A §4.7: RSVD is only ever set together with P).
RESERVED = {
    "bit 51 in the pte, read": 0x9,
    "bit 51 in the pte, write": 0xB,
    "bit 51 in the pte, fetch": 0x19,
    "bit 51 in the pde, read": 0x9,
    "ps in the pml4 entry, read": 0x9,
    "2 MiB page with bit 13 set, read": 0x9,
}


@pytest.mark.points(5)
@pytest.mark.student
@pytest.mark.handout("labs/lab2/README.md, 2. Exercise 1: the walk (`kernel/virt/shadow_walk.c`)")
def test_reserved_bits(build, nonce):
    """A reserved bit set in a guest entry: #PF with P | RSVD (+ W / I/D), never a mapping."""
    r = run_shadow(build, [shadow_module(build, "paging_faults", "faults", nonce)], nonce)
    expect_not_crashed(r, "faults")
    lines = diff_lines(transcript(r, "faults"))
    wrong = []
    for key, code in RESERVED.items():
        line = lines.get(key)
        if not line or not re.search(rf"#PF error 0x{code:x}, cr2 matches", line):
            wrong.append(f"{key}: expected '#PF error 0x{code:x}, cr2 matches', got: {line or 'no such line'}")
    if wrong:
        r.fail("reserved-bit faults must carry P and RSVD (SDM Vol. 3A §4.7):\n  " + "\n  ".join(wrong))
    expect_exit(r, "faults", 0x10)


# --- the counters --------------------------------------------------------------------------------

COUNTED = ["paging_basic", "paging_faults", "paging_processes", "paging_stress", "paging_user"]


@pytest.mark.parametrize("guest", [pytest.param(g, marks=[pytest.mark.points(3), pytest.mark.student], id=g)
                                   for g in COUNTED])
@pytest.mark.handout("labs/lab2/README.md, 3. Exercise 2: hidden or true (`kernel/virt/shadow_fault.c`)")
def test_counters(build, nonce, guest):
    """true_faults = the faults the guest saw; cr3_loads and invlpg = what it executed; some hidden faults."""
    r = run_shadow(build, [shadow_module(build, guest, guest, nonce)], nonce)
    expect_not_crashed(r, guest)
    expect_exit(r, guest, 0x10)
    stats, counts = shadow_stats(r, guest), guest_counts(r, guest)
    problems = []
    if stats["true_faults"] != counts["faults"]:
        problems.append(f"true_faults={stats['true_faults']}, but the guest's own #PF handler ran "
                        f"{counts['faults']} times: every true fault, and only those, reaches the guest")
    if stats["cr3_loads"] != counts.get("cr3_loads"):
        problems.append(f"cr3_loads={stats['cr3_loads']}, but the guest loaded CR3 {counts.get('cr3_loads')} times")
    if stats["invlpg"] != counts.get("invlpg"):
        problems.append(f"invlpg={stats['invlpg']}, but the guest executed INVLPG {counts.get('invlpg')} times")
    if stats["hidden_faults"] == 0:
        problems.append("hidden_faults=0: the shadow starts empty, so the guest's first accesses must fault")
    if problems:
        r.fail("the shadow counters disagree with the guest:\n  " + "\n  ".join(problems))
