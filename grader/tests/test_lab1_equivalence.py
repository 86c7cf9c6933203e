"""Lab 1: equivalence — each test guest prints the same under Hypatia as natively.

Popek and Goldberg's equivalence property as a test (DESIGN §5): a guest runs
natively on QEMU (the reference) and as a domain of the hypervisor, with the
same nonce, and the two transcripts must agree line for line — except lines
the guest marks `DIFF:` (the non-virtualizable ones, judged separately in
test_lab1_nonvirt.py) and the platform's name in `hello from <platform>`.

Each guest is run in both of lab 1's builds: `image` (deprivileged, every
privileged instruction traps and is emulated) and `pv` (paravirtualized:
hypercalls and the shared-info page instead of port I/O and CLI/STI).

This module also holds the helpers the other lab-1 test modules import.
"""
import difflib
import re

import pytest

from gradelib import run_qemu

pytestmark = pytest.mark.handout("labs/lab1/README.md, 5. How it is graded")

NATIVE_TIMEOUT = 15
HV_TIMEOUT = 12
RESULT = re.compile(r"^RESULT: (PASS|FAIL|ERROR|SKIP)\b")
PLATFORM_WORD = re.compile(r"^hello from (native|image|pv):")


# --- helpers shared by the lab-1 tests ----------------------------------------------------

def guest_file(build, kind, name):
    """The guest image file of @name in build @kind ('image' or 'pv')."""
    if kind == "image":
        return build.guest_image(name)
    return build.guests / kind / f"{name}.elf"


def module(build, kind, guest, name, nonce, extra=""):
    """A multiboot module string: the image, then the domain's options and the guest's command line."""
    return f"{guest_file(build, kind, guest)} name={name} nonce={nonce}{' ' + extra if extra else ''}"


def run_hypervisor(build, modules, nonce, timeout=HV_TIMEOUT):
    """Boot the hypervisor with @modules (one domain each)."""
    return run_qemu(build.kernel32, f"nonce={nonce}", modules=modules, timeout=timeout)


def run_native(build, guest, cmdline, timeout=NATIVE_TIMEOUT):
    """Boot the native build of @guest; it must end with RESULT: PASS (else the kit is broken)."""
    r = run_qemu(build.guest_native(guest), cmdline, timeout=timeout)
    if r.status != "success" or not r.lines or r.lines[-1] != "RESULT: PASS":
        r.fail(f"the native run of '{guest}' (the reference) did not pass: the kit itself is broken, "
               f"not your hypervisor")
    return r


def domain_id(run, name):
    """The id N of domain @name, from its `[hv] dN 'name' created` line."""
    m = re.search(rf"^\[hv\] d(\d+) '{re.escape(name)}' created:", run.output, re.M)
    if not m:
        refused = re.search(rf"^\[hv\] domain '{re.escape(name)}' refused: .*$", run.output, re.M)
        run.fail(f"domain '{name}' was never created" + (f" ({refused.group(0)})" if refused else ""))
    return int(m.group(1))


def transcript(run, name):
    """The lines domain @name printed, without their `[dN] ` prefix."""
    prefix = f"[d{domain_id(run, name)}] "
    return [line[len(prefix):] for line in run.lines if line.startswith(prefix)]


def domain_end(run, name):
    """How domain @name ended: ('exited', code), ('crashed', reason, rip) or None."""
    n = domain_id(run, name)
    m = re.search(rf"^\[hv\] d{n} exited: code (0x[0-9a-f]+)$", run.output, re.M)
    if m:
        return ("exited", int(m.group(1), 16))
    m = re.search(rf"^\[hv\] d{n} crashed: (.*) at RIP (0x[0-9a-f]+)$", run.output, re.M)
    if m:
        return ("crashed", m.group(1), int(m.group(2), 16))
    return None


def expect_exit(run, name, code=0x10):
    """Domain @name must have exited with @code."""
    end = domain_end(run, name)
    if end != ("exited", code):
        said = {None: "never ended (no '[hv] dN exited' or 'crashed' line)"}.get(end) or \
            (f"exited with code 0x{end[1]:x}" if end[0] == "exited" else f"crashed: {end[1]} at RIP 0x{end[2]:x}")
        run.fail(f"domain '{name}' should have exited with code 0x{code:x}, but it {said}")


def comparable(lines):
    """The lines that must agree with native: no DIFF: lines, no platform name."""
    return [PLATFORM_WORD.sub("hello from <platform>:", line) for line in lines if not line.startswith("DIFF:")]


def diff_lines(lines):
    """The DIFF: lines by key (the words before their first ': ')."""
    out = {}
    for line in lines:
        if line.startswith("DIFF: "):
            key = line[len("DIFF: "):].split(": ")[0]
            out[key] = line
    return out


def expect_equivalent(run, name, native_lines, kind):
    """Domain @name's transcript equals the native one (DIFF: lines and the platform name aside)."""
    virtual = transcript(run, name)
    want, got = comparable(native_lines), comparable(virtual)
    if want != got:
        diff = "\n".join("    " + d for d in difflib.unified_diff(want, got, "native", kind, lineterm="", n=2))
        run.fail(f"the '{kind}' run of '{name}' printed other lines than the native run "
                 f"(equivalence, DESIGN §5; '-' native, '+' under Hypatia):\n{diff}")
    return virtual


# --- the equivalence tests -------------------------------------------------------------------

def equivalence(build, nonce, guest, kind, extra=""):
    native = run_native(build, guest, f"nonce={nonce}{' ' + extra if extra else ''}")
    r = run_hypervisor(build, [module(build, kind, guest, guest, nonce, extra)], nonce)
    expect_equivalent(r, guest, native.lines, kind)
    expect_exit(r, guest, 0x10)
    return native, r


def case(guest, kind, points, extra=""):
    """A graded case (@points > 0, needs the student files) or a kit check (@points == 0)."""
    marks = [pytest.mark.points(points), pytest.mark.student] if points else []
    return pytest.param(guest, kind, extra, marks=marks, id=f"{guest}-{kind}")


# Given code (domains, the PV backend, port I/O, CLI/STI/HLT, hypercalls) runs
# hello, primes and io; the others need the student files (emulate_priv.c: CRs,
# descriptor tables, MSRs; bounce.c: exceptions, interrupts, IRETQ).
CASES = [
    case("hello", "image", 0),
    case("hello", "pv", 0),
    case("primes", "image", 0, "rounds=2"),
    case("primes", "pv", 0),
    case("io", "image", 0),
    case("io", "pv", 0),
    case("cpu_state", "image", 10),
    case("cpu_state", "pv", 3),
    case("exceptions", "image", 10),
    case("exceptions", "pv", 3),
    case("timer", "image", 10),
    case("timer", "pv", 5),
]


@pytest.mark.parametrize("guest,kind,extra", CASES)
def test_equivalence(build, nonce, guest, kind, extra):
    equivalence(build, nonce, guest, kind, extra)


@pytest.mark.points(2)
@pytest.mark.student
def test_unknown_msr_is_gp(build, nonce):
    """RDMSR of an MSR that does not exist raises #GP(0) (SDM Vol. 2B "RDMSR").

    QEMU's TCG returns 0 instead of faulting, so the native line cannot be the
    reference here: cpu_state marks it DIFF: and this test checks it alone.
    """
    r = run_hypervisor(build, [module(build, "image", "cpu_state", "cpu_state", nonce)], nonce)
    lines = diff_lines(transcript(r, "cpu_state"))
    line = lines.get("rdmsr 0xdeadbeef")
    if line != "DIFF: rdmsr 0xdeadbeef: #GP error=0x0":
        r.fail(f"RDMSR of MSR 0xdeadbeef should raise #GP with error code 0 in the guest;\n"
               f"  the guest printed: {line or 'no such line'}")
