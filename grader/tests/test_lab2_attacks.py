"""Lab 2: page tables that reach for what the guest does not own are refused.

guests/tests/paging_attack.c maps, in its own tables, a frame past any
domain's memory and pages in the hypervisor's upper half; natively (where
the guest owns the machine) every access completes. Under shadow paging the
hypervisor must not shadow them: it logs `[hv] dN shadow: refused ...` and
either delivers a #PF (the guest prints `DIFF: <what>: at 0x... #PF error
..., cr2 matches`) or ends the domain — and it must never let the access
complete. A page-table loop (a PML4 entry pointing at the PML4, legal
natively) must not hang or crash anything; a table outside the domain's
memory may end the domain, nothing else; a non-canonical address is #GP(0)
as natively. Each part runs alone (`only=...`), beside a pv domain that must
finish untouched.
"""
import re

import pytest

from test_lab1_domains import expect_hello
from test_lab1_equivalence import domain_end, domain_id, expect_equivalent, expect_exit, module, run_native, transcript
from test_lab2_equivalence import expect_not_crashed, run_shadow, shadow_module

pytestmark = [pytest.mark.student,
              pytest.mark.handout("labs/lab2/README.md, 1. The picture")]

REFUSED = r"^\[hv\] d{n} shadow: refused"


def run_attack(build, nonce, part, extra=""):
    """paging_attack only=@part as a shadow domain, beside a pv hello."""
    other = nonce ^ 0x2545F4914F6CDD1D
    r = run_shadow(build, [shadow_module(build, "paging_attack", "attack", nonce, f"only={part} {extra}".strip()),
                           module(build, "pv", "hello", "hello", other)], nonce)
    expect_hello(r, "hello", other, "pv")
    return r


def expect_refused(r, keys):
    """Each access @keys names was refused: a refused line, and a #PF or the end of the domain."""
    n = domain_id(r, "attack")
    if not re.search(REFUSED.format(n=n), r.output, re.M):
        r.fail(f"the hypervisor should have logged '[hv] d{n} shadow: refused ...' (the mapping is not the guest's)")
    lines = transcript(r, "attack")
    end = domain_end(r, "attack")
    crashed = end is not None and end[0] == "crashed"
    for key in keys:
        line = next((x for x in lines if x.startswith(f"DIFF: {key}: ")), None)
        if line is None:
            if crashed:
                return  # ended at this access or before: a legal way to refuse
            r.fail(f"domain 'attack' printed no line for '{key}' and did not crash")
        if " completed" in line:
            r.fail(f"the access completed under the hypervisor — the guest reached memory that is not its own:\n"
                   f"  {line}")
        if not re.search(r"#PF error 0x[0-9a-f]+, cr2 matches$", line):
            r.fail(f"a refused mapping should reach the guest as a #PF with CR2 = the address:\n  {line}")
    expect_exit(r, "attack", 0x10)


@pytest.mark.points(5)
def test_frame_outside_memory_is_refused(build, nonce):
    r = run_attack(build, nonce, "outside")
    expect_refused(r, ["frame outside memory, read", "frame outside memory, write"])


@pytest.mark.points(5)
def test_upper_half_is_refused(build, nonce):
    r = run_attack(build, nonce, "upper")
    expect_refused(r, [f"upper half (slot {s}), {a}" for s in (256, 511) for a in ("read", "write")])


@pytest.mark.points(3)
def test_page_table_loop_is_harmless(build, nonce):
    r = run_attack(build, nonce, "loop")
    expect_not_crashed(r, "attack")
    lines = transcript(r, "attack")
    if not any(re.match(r"page-table loop at pml4 slot \d+: still running$", x) for x in lines):
        r.fail("the guest should have gone on after reading through its page-table loop")
    expect_exit(r, "attack", 0x10)


@pytest.mark.points(3)
def test_table_outside_memory_ends_only_the_domain(build, nonce):
    # The loop first: it shows the guest really ran on its own tables (on a
    # stub the domain crashes at its first fault, which proves nothing).
    r = run_attack(build, nonce, "loop,table")
    if not any(re.match(r"page-table loop at pml4 slot \d+: still running$", x) for x in transcript(r, "attack")):
        expect_not_crashed(r, "attack")
        r.fail("the guest should have run on its own tables up to the table outside its memory")
    end = domain_end(r, "attack")
    if end is None:
        r.fail("domain 'attack' never ended (a page table outside its memory should crash it or fault)")
    if end[0] == "exited":
        line = next((x for x in transcript(r, "attack") if x.startswith("DIFF: table outside memory, read: ")), "")
        if "#PF" not in line:
            r.fail(f"a walk through a table outside the domain must fault or end the domain; the guest printed:\n"
                   f"  {line or 'no such line'}")
        expect_exit(r, "attack", 0x10)
    r.expect(r"^\[hv\] all domains ended: ", "'[hv] all domains ended: ...' (the hypervisor carried on)")


@pytest.mark.points(3)
def test_non_canonical_is_gp(build, nonce):
    native = run_native(build, "paging_attack", f"nonce={nonce} only=canonical")
    r = run_attack(build, nonce, "canonical")
    expect_not_crashed(r, "attack")
    expect_equivalent(r, "attack", native.lines, "image, mode=shadow")
    expect_exit(r, "attack", 0x10)
