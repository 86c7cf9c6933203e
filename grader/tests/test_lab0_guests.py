"""Lab 0: the test guests run natively, straight on QEMU.

These are the reference runs every later lab compares against: the same
guests, run under Hypatia, must print the same lines. Each expected line is
recomputed here from the grader's nonce by independent Python code. No test
here depends on student code; a failure means the kit itself (guests/ or
the toolchain) is broken.
"""
import re

import pytest

from gradelib import fnv1a64, run_qemu

pytestmark = pytest.mark.handout("docs/guests.md")

RESULT = re.compile(r"^RESULT: (PASS|FAIL|ERROR|SKIP)\b.*$", re.M)


def primes_below(limit):
    """Count and sum the primes below @limit, by trial division over the primes found so far."""
    primes = []
    for n in range(2, limit):
        if all(n % p for p in primes if p * p <= n):
            primes.append(n)
    return len(primes), sum(primes) % (1 << 32)


def check_result(run, word):
    """The run printed exactly one result line, it is the last line, and it says @word."""
    results = RESULT.findall(run.output)
    if len(results) != 1:
        run.fail(f"expected exactly one 'RESULT:' line, found {len(results)}")
    if not run.lines or not run.lines[-1].startswith("RESULT: "):
        run.fail("the 'RESULT:' line must be the last line the guest prints")
    if results[0] != word:
        run.fail(f"expected 'RESULT: {word}', got {run.lines[-1]!r}")


def test_hello_native(build, nonce):
    r = run_qemu(build.guest_native("hello"), f"nonce={nonce}", timeout=10)
    r.expect_status("success")
    fnv = fnv1a64(str(nonce).encode())
    r.expect(rf"^hello from native: nonce={nonce} fnv={fnv:016x}$",
             f"'hello from native: nonce={nonce} fnv={fnv:016x}' (FNV-1a of the decimal nonce)")
    check_result(r, "PASS")


def test_primes_native(build, nonce):
    r = run_qemu(build.guest_native("primes"), f"nonce={nonce}", timeout=10)
    r.expect_status("success")
    limit = 10000 + nonce % 20000
    count, total = primes_below(limit)
    r.expect(rf"^primes below {limit}: {count}$", f"'primes below {limit}: {count}'")
    r.expect(rf"^sum of primes below {limit} mod 2\^32: {total}$",
             f"'sum of primes below {limit} mod 2^32: {total}'")
    check_result(r, "PASS")


def test_guest_without_nonce_is_an_error(build):
    # No nonce: the guest cannot prove it ran this time, so it must refuse
    # to run (ERROR, exit 0x13) rather than pass.
    r = run_qemu(build.guest_native("hello"), "", timeout=10)
    r.expect_status("error")
    r.expect(r"^RESULT: ERROR .*nonce", "'RESULT: ERROR' naming the missing nonce")
    check_result(r, "ERROR")
