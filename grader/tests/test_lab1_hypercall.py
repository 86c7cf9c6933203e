"""Lab 1: hypercalls, the paravirtual guest's door into the hypervisor (docs/hypercalls.md).

guests/tests/hypercall.c, pv build: console_write, error returns, yield,
the virtual timer with the shared-info mask, and shutdown with a code of its
own. Every expected value is computed here from the nonce.
"""
import pytest

from gradelib import run_qemu
from test_lab1_equivalence import expect_exit, module, run_hypervisor, transcript

pytestmark = pytest.mark.handout("docs/hypercalls.md")

MASK64 = (1 << 64) - 1


def expected_start(nonce):
    text = f"console_write: {(nonce * 0x9E3779B97F4A7C15) & MASK64:x}"
    return [f"hypercall: nonce={nonce}",
            text,
            f"console_write returned {len(text) + 1} (length {len(text) + 1})",
            "console_write outside guest memory: -14",
            "console_write of 4097 bytes: -22",
            f"hypercall {1000 + nonce % 1000}: -38",
            "yield: 0"]


def shutdown_code(nonce):
    return 0x10 | (1 + nonce % 15) << 8


def expect_lines(r, got, want):
    if got != want:
        r.fail("the hypercall guest printed:\n      " + "\n      ".join(got) +
               "\n  but should have printed:\n      " + "\n      ".join(want))


def test_hypercalls(build, nonce):
    r = run_hypervisor(build, [module(build, "pv", "hypercall", "hc", nonce, "timer=0")], nonce)
    code = shutdown_code(nonce)
    expect_lines(r, transcript(r, "hc"), expected_start(nonce) + [f"shutdown(0x{code:x})", "RESULT: PASS"])
    expect_exit(r, "hc", code)


def test_hypercall_guest_skips_natively(build, nonce):
    # Vector 0x82 means nothing on bare metal: the guest must say SKIP, not crash.
    r = run_qemu(build.guest_native("hypercall"), f"nonce={nonce}", timeout=15)
    r.expect_status("success")
    r.expect(r"^RESULT: SKIP hypercalls are for the pv build", "'RESULT: SKIP' natively")


@pytest.mark.points(6)
@pytest.mark.student
def test_virtual_timer_and_shared_info(build, nonce):
    r = run_hypervisor(build, [module(build, "pv", "hypercall", "hc", nonce)], nonce)
    code = shutdown_code(nonce)
    vector = 48 + nonce % 16
    expect_lines(r, transcript(r, "hc"), expected_start(nonce) + [
        f"set_timer(10000 us, vector {vector}): 0",
        "unmasked: at least 3 timer interrupts handled",
        "masked for 3 ticks: 0 handled, pending: 1",
        "unmasked again: delivered at once: yes",
        "set_timer(0): 0",
        f"shutdown(0x{code:x})",
        "RESULT: PASS"])
    expect_exit(r, "hc", code)
