"""Lab 0: exceptions in the hypervisor give a readable dump; the two exercises —
naming addresses (ksym_lookup) and the backtrace (stacktrace_walk).

The faulting addresses, the addresses looked up and the recursion depth depend
on the nonce. What a name *should* be the grader works out for itself from `nm`
of the built kernel (gradelib.symbolize), never from the kernel's own table.
"""
import re

import pytest

from gradelib import run_qemu, symbolize

pytestmark = pytest.mark.handout("labs/lab0/README.md, 'Reading a crash'")

# The kit prints the RIP as <function+0xoffset> once ksym_lookup() works, <0xaddress> before.
RIP_LINE = r"^  rip ([0-9a-f]{16}) <([^>]*)>"
FAULTS = [("pf", 14, "#PF"), ("ud", 6, "#UD"), ("gp", 13, "#GP"), ("df", 8, "#DF")]


def function_at(build, address):
    """The function @address is in, by nm of the kernel (None outside the hypervisor's code)."""
    found = symbolize(build.kernel, address)
    return found[0] if found else None


def dump(r, vector, name):
    """Check the dump's first two lines; return the match of the RIP line."""
    r.expect_status("panic")
    r.expect(rf"^\[hv\] EXCEPTION: vector {vector} {re.escape(name)}", f"a dump headed 'vector {vector} {name}'")
    return r.expect(RIP_LINE, "the 'rip <address> <function+offset>' line")


def expect_rip_in(build, r, m, function):
    """The dumped RIP (the address itself, whatever name is printed) lies in @function."""
    found = function_at(build, int(m.group(1), 16))
    if found != function:
        r.fail(f"the RIP {m.group(1)} should be inside {function}, but nm puts it in {found}")


# --- exercise 2: naming addresses -------------------------------------------------------------

# Names as gcc makes them, clones included (next_rising_edge.part.0.isra.0).
KSYMS_LINE = re.compile(r"^selftest ksyms: ([0-9a-f]{16}) -> (none|([\w.$]+)\+0x([0-9a-f]+))$", re.M)


@pytest.mark.points(10)
@pytest.mark.student
@pytest.mark.handout("labs/lab0/README.md, exercise 2: naming addresses")
def test_symbol_lookup(build, nonce):
    # The kernel asks ksym_lookup() about 19 addresses (12 drawn from the nonce, the
    # edges of the code, a function's first byte and the byte before it, non-code);
    # each answer must be what nm says.
    r = run_qemu(build.kernel32, f"nonce={nonce} selftest=ksyms")
    r.expect_status("success")
    answers = KSYMS_LINE.findall(r.output)
    if len(answers) != 19:
        r.fail(f"expected 19 'selftest ksyms: <address> -> <name+0xoffset | none>' lines, got {len(answers)}")
    wrong = []
    for address, said, name, offset in answers:
        found = symbolize(build.kernel, int(address, 16))
        want = "none" if found is None else f"{found[0]}+0x{found[1]:x}"
        if said != want:
            wrong.append(f"{address}: ksym_lookup() said {said}, nm says {want}")
    if wrong:
        r.fail("ksym_lookup() named addresses wrongly:\n    " + "\n    ".join(wrong))


@pytest.mark.points(5)
@pytest.mark.student
@pytest.mark.handout("labs/lab0/README.md, exercise 2: naming addresses")
def test_dumps_name_the_function(build, nonce):
    # The four hypervisor faults of 'Reading a crash': each dump's RIP line names
    # its function and offset as nm does.
    for fault, vector, name in FAULTS:
        r = run_qemu(build.kernel32, f"nonce={nonce} fault={fault}")
        m = dump(r, vector, name)
        found = symbolize(build.kernel, int(m.group(1), 16))
        want = f"{found[0]}+0x{found[1]:x}" if found else f"0x{int(m.group(1), 16):x}"
        if m.group(2) != want:
            r.fail(f"the {name} dump's RIP {m.group(1)} should read <{want}>, but it reads <{m.group(2)}>")


# --- the dumps (kit checks) and exercise 1, the backtrace ----------------------------------

def test_page_fault_dump(build, nonce):
    r = run_qemu(build.kernel32, f"nonce={nonce} fault=pf")
    address = 0x40000000 + ((nonce & 0xFFFFF) << 12) + 8
    r.expect(r"^\[hv\] EXCEPTION: vector 14 #PF page fault, error code 0x2 \(not-present write supervisor\)",
             "a #PF dump with error code 0x2, decoded as a not-present supervisor write")
    m = dump(r, 14, "#PF")
    expect_rip_in(build, r, m, "fault_page_fault")
    m = r.expect(r"^  cr2 ([0-9a-f]{16})", "the CR2 line")
    if int(m.group(1), 16) != address:
        r.fail(f"CR2 shows {m.group(1)}, but the fault was at {address:016x}")


def test_invalid_opcode_dump(build, nonce):
    r = run_qemu(build.kernel32, f"nonce={nonce} fault=ud")
    m = dump(r, 6, "#UD")
    expect_rip_in(build, r, m, "fault_invalid_opcode")


def test_general_protection_dump(build, nonce):
    r = run_qemu(build.kernel32, f"nonce={nonce} fault=gp")
    m = dump(r, 13, "#GP")
    expect_rip_in(build, r, m, "fault_general_protection")
    m = r.expect(r"^  rax [0-9a-f]{16}  rbx ([0-9a-f]{16})", "the register lines")


def test_double_fault_dump(build, nonce):
    r = run_qemu(build.kernel32, f"nonce={nonce} fault=df")
    dump(r, 8, "#DF")
    r.expect(r"^  rax .*\n  rsi .* rsp 0000000000001000$", "RSP 0x1000, the unusable stack, in the dump")


def backtrace_frames(build, r):
    """The (index, function) pairs of the first backtrace in the output.

    Each frame's function is named from its return address by nm, not by the name
    printed beside it: the backtrace is judged apart from ksym_lookup()."""
    block = r.expect(r"^\[hv\] backtrace:\n((?:  .*\n?)*)", "a '[hv] backtrace:' block").group(1)
    return [(int(m.group(1)), function_at(build, int(m.group(2), 16) - 1))
            for m in re.finditer(r"^  #(\d+) ([0-9a-f]{16}) \S+$", block, re.M)]


@pytest.mark.points(10)
@pytest.mark.student
@pytest.mark.handout("labs/lab0/README.md, exercise 1: the backtrace")
def test_backtrace(build, nonce):
    r = run_qemu(build.kernel32, f"nonce={nonce} selftest=backtrace")
    r.expect_status("success")
    depth = 2 + nonce % 6
    r.expect(rf"^selftest backtrace: depth={depth}$", f"'selftest backtrace: depth={depth}'")
    names = [name for _, name in backtrace_frames(build, r)]
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
    names = [name for _, name in backtrace_frames(build, r)]
    # The panic's backtrace runs from the handler through the trap entry into the code that faulted.
    must = ["trap_dispatch", "trap_common", "fault_page_fault", "selftest_fault", "kmain"]
    if [n for n in names if n in must] != must:
        r.fail(f"the panic's backtrace should pass through {' -> '.join(must)}; it listed: {names or 'no frames'}")
