"""Lab 0: exceptions in the hypervisor give a readable dump, and the backtrace (the exercise).

The faulting addresses and the recursion depth depend on the nonce.
"""
import re

import pytest

from gradelib import run_qemu

pytestmark = pytest.mark.handout("labs/lab0/README.md, 'Reading a crash'")

RIP_LINE = r"^  rip ([0-9a-f]{16}) <(\w+)\+0x[0-9a-f]+>"


def dump(r, vector, name):
    """Check the dump's first two lines; return the match of the RIP line."""
    r.expect_status("panic")
    r.expect(rf"^\[hv\] EXCEPTION: vector {vector} {re.escape(name)}", f"a dump headed 'vector {vector} {name}'")
    return r.expect(RIP_LINE, "the 'rip <address> <function+offset>' line")


@pytest.mark.points(5)
def test_page_fault_dump(build, nonce):
    r = run_qemu(build.kernel32, f"nonce={nonce} fault=pf")
    address = 0x40000000 + ((nonce & 0xFFFFF) << 12) + 8
    r.expect(r"^\[hv\] EXCEPTION: vector 14 #PF page fault, error code 0x2 \(not-present write supervisor\)",
             "a #PF dump with error code 0x2, decoded as a not-present supervisor write")
    m = dump(r, 14, "#PF")
    if m.group(2) != "fault_page_fault":
        r.fail(f"the RIP should be inside fault_page_fault, not {m.group(2)}")
    m = r.expect(r"^  cr2 ([0-9a-f]{16})", "the CR2 line")
    if int(m.group(1), 16) != address:
        r.fail(f"CR2 shows {m.group(1)}, but the fault was at {address:016x}")


@pytest.mark.points(3)
def test_invalid_opcode_dump(build, nonce):
    r = run_qemu(build.kernel32, f"nonce={nonce} fault=ud")
    m = dump(r, 6, "#UD")
    if m.group(2) != "fault_invalid_opcode":
        r.fail(f"the RIP should be inside fault_invalid_opcode, not {m.group(2)}")


@pytest.mark.points(2)
def test_general_protection_dump(build, nonce):
    r = run_qemu(build.kernel32, f"nonce={nonce} fault=gp")
    m = dump(r, 13, "#GP")
    if m.group(2) != "fault_general_protection":
        r.fail(f"the RIP should be inside fault_general_protection, not {m.group(2)}")
    m = r.expect(r"^  rax [0-9a-f]{16}  rbx ([0-9a-f]{16})", "the register lines")


@pytest.mark.points(3)
def test_double_fault_dump(build, nonce):
    r = run_qemu(build.kernel32, f"nonce={nonce} fault=df")
    dump(r, 8, "#DF")
    r.expect(r"^  rax .*\n  rsi .* rsp 0000000000001000$", "RSP 0x1000, the unusable stack, in the dump")


def backtrace_frames(r):
    """The (index, function) pairs of the first backtrace in the output."""
    block = r.expect(r"^\[hv\] backtrace:\n((?:  .*\n?)*)", "a '[hv] backtrace:' block").group(1)
    return [(int(m.group(1)), m.group(2)) for m in re.finditer(r"^  #(\d+) [0-9a-f]{16} (\w+)\+0x[0-9a-f]+$",
                                                                   block, re.M)]


@pytest.mark.points(10)
@pytest.mark.student
@pytest.mark.handout("labs/lab0/README.md, exercise 1: the backtrace")
def test_backtrace(build, nonce):
    r = run_qemu(build.kernel32, f"nonce={nonce} selftest=backtrace")
    r.expect_status("success")
    depth = 2 + nonce % 6
    r.expect(rf"^selftest backtrace: depth={depth}$", f"'selftest backtrace: depth={depth}'")
    names = [name for _, name in backtrace_frames(r)]
    expected = ["backtrace_demo_recurse"] * depth + ["selftest_run", "kmain", "higher_half_entry"]
    if names != expected:
        r.fail(f"the backtrace should list {depth} frames in backtrace_demo_recurse, then selftest_run, "
               f"kmain and higher_half_entry;\n  it listed: {names or 'no frames'}")


@pytest.mark.points(5)
@pytest.mark.student
@pytest.mark.handout("labs/lab0/README.md, exercise 1: the backtrace")
def test_backtrace_in_panic(build, nonce):
    r = run_qemu(build.kernel32, f"nonce={nonce} fault=pf")
    r.expect_status("panic")
    r.expect(r"^\[hv\] PANIC: unhandled #PF", "the panic line after the dump")
    names = [name for _, name in backtrace_frames(r)]
    # The panic's backtrace runs from the handler through the trap entry into the code that faulted.
    must = ["trap_dispatch", "trap_common", "fault_page_fault", "selftest_fault", "kmain"]
    if [n for n in names if n in must] != must:
        r.fail(f"the panic's backtrace should pass through {' -> '.join(must)}; it listed: {names or 'no frames'}")
