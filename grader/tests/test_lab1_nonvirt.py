"""Lab 1: the lesson — what trap-and-emulate cannot hide, and what paravirtualization fixes.

guests/tests/nonvirt.c marks every line that shows the machine is not bare
with `DIFF:`. Run deprivileged (`image`) with UMIP off (`umip=0`), every one
of them must differ from native: POPF silently keeps IF, PUSHF shows IF = 1,
the timer still interrupts a guest that "disabled" it with POPF, CS shows
RPL 3, and SGDT/SIDT/STR show the hypervisor's own registers. The
paravirtualized build (`pv`) flips the shared-info mask instead of IF: its
interrupt lines equal native, while CS and the table registers still differ
(the guest was changed, not the CPU). With UMIP on — the default — SGDT,
SIDT and STR trap and are emulated, and match native again.
"""
import pytest

from test_lab1_equivalence import (diff_lines, expect_equivalent, expect_exit, module, run_hypervisor,
                                   run_native, transcript)

pytestmark = pytest.mark.handout("labs/lab1/README.md, 4. The lesson: what does not trap")

# The keys of nonvirt's DIFF: lines (the text before their first ': ').
INTERRUPT_FLAG = ["interrupts enabled after disabling them",
                  "interrupts enabled after restoring a saved disabled state",
                  "timer interrupts taken in the five periods after that"]
PRIVILEGE = ["cs"]
TABLES = ["sgdt", "sidt", "str"]


def run_both(build, nonce, kind, options):
    native = run_native(build, "nonvirt", f"nonce={nonce}")
    r = run_hypervisor(build, [module(build, kind, "nonvirt", "nonvirt", nonce, options)], nonce)
    expect_equivalent(r, "nonvirt", native.lines, kind)
    expect_exit(r, "nonvirt")
    return diff_lines(native.lines), diff_lines(transcript(r, "nonvirt")), r


def judge(r, kind, native, virtual, differ, same):
    problems = []
    for key in differ + same:
        if key not in native or key not in virtual:
            problems.append(f"no 'DIFF: {key}: ...' line " + ("natively" if key not in native else f"under {kind}"))
        elif key in differ and native[key] == virtual[key]:
            problems.append(f"'{key}' should differ from native under {kind}, but both say: {native[key]}")
        elif key in same and native[key] != virtual[key]:
            problems.append(f"'{key}' should equal native under {kind}:\n      native: {native[key]}\n"
                            f"      {kind}: {virtual[key]}")
    if problems:
        r.fail("the non-virtualizable instructions did not show the expected differences:\n    "
               + "\n    ".join(problems))


@pytest.mark.points(10)
@pytest.mark.student
def test_nonvirt_image_differs(build, nonce):
    native, virtual, r = run_both(build, nonce, "image", "umip=0")
    judge(r, "image", native, virtual, INTERRUPT_FLAG + PRIVILEGE + TABLES, [])


@pytest.mark.points(5)
@pytest.mark.student
def test_nonvirt_pv_fixes_the_interrupt_flag(build, nonce):
    native, virtual, r = run_both(build, nonce, "pv", "umip=0")
    judge(r, "pv", native, virtual, PRIVILEGE + TABLES, INTERRUPT_FLAG)


@pytest.mark.points(3)
@pytest.mark.student
def test_umip_hides_the_tables(build, nonce):
    native, virtual, r = run_both(build, nonce, "image", "")
    judge(r, "image with umip=1", native, virtual, INTERRUPT_FLAG + PRIVILEGE, TABLES)
