"""Lab 1: the kit's GDB commands (scripts/gdb/hypatia.py) show a live hypervisor correctly.

One batch-GDB session boots the hypervisor with a guest (primes) as a module,
stops in emulate_privileged — the handler of the guest's privileged
instructions, here its port I/O — on the guest's HITS-th such exit, and runs
every hv-* command. Each test checks one command against facts known without
it: the options the grader gave the domain, the breakpoint's hit count, and
GDB's own evaluation of the kernel's variables. None depends on student code:
a failure means the kit's GDB script (or the build) is broken.
"""
import inspect
import re

import pytest

from build import ROOT
from gradelib import run_gdb_session

pytestmark = pytest.mark.handout("docs/gdb.md, 'The kit's GDB commands'")

SCRIPT = ROOT / "scripts/gdb/hypatia.py"
HITS = 5  # stop at the guest's 5th privileged exit
GUEST_LOAD = 0x200000  # where guest images are loaded (docs/guests.md)
KERNEL_BASE = 0xFFFFFFFF80000000  # kernel/include/memlayout.h: the image's physical 0


def domain_options(nonce):
    """A name and a memory size that depend on the nonce, so the commands cannot print canned values."""
    return f"gdb{nonce % 100000}", (4 + nonce % 5) << 20


@pytest.fixture(scope="module")
def session(build, module_nonce):
    """One GDB session; returns {section name: GDB output of that section}."""
    if "modules" not in inspect.signature(run_gdb_session).parameters:
        pytest.fail("gradelib.run_gdb_session() takes no modules= yet: these tests need it to boot a guest")
    name, memory = domain_options(module_nonce)
    module = f"{build.guest_image('primes')} name={name} mem={memory >> 10}K nonce={module_nonce}"
    sections = {
        # Paging is off when GDB attaches: the first breakpoint must be a hardware one.
        "stop": ["hbreak emulate_privileged", f"ignore 1 {HITS - 1}", "continue"],
        "domains": ["hv-domains", "print domain_count", "print v->exits[VCPU_EXIT_PRIVILEGED]"],
        "vcpu": ["hv-vcpu", "print/x v->regs", "print/x v->cr0", "print/x v->efer", "print/d v->exit.vector",
                 "print/x v->xcr0"],
        "vcpu1": ["hv-vcpu 1"],
        "guest-walk": [f"hv-pagewalk {GUEST_LOAD:#x} --domain 1", f"hv-gpa2hpa 1 {GUEST_LOAD + 0x123:#x}",
                       f"print/x domain_table[0]->p2m[{GUEST_LOAD >> 12}]"],
        "unmapped": [f"hv-pagewalk {memory + 0x40000000:#x} --domain 1", f"hv-gpa2hpa 1 {memory:#x}"],
        "kernel-walk": ["hv-pagewalk &kmain", "print/x &kmain"],
        "vmcb": ["hv-vmcb", "hv-vmcs"],
        # Next trap from the guest: pv_trap_from_guest(f, ...) has a struct trap_frame *f.
        "trapframe": ["delete 1", "break pv_trap_from_guest", "continue", "hv-trapframe", "print/x f->rip",
                      "print f->vector", "print/x f->cs"],
    }
    commands = [f"source {SCRIPT}"]
    for section, lines in sections.items():
        commands += [f"echo @@{section}\\n"] + lines
    commands.append("kill")
    out, _ = run_gdb_session(build.kernel32, build.kernel, "nonce=1", commands, modules=[module])
    if "gdb-timeout" in out:
        pytest.fail("GDB did not finish within its time limit:\n" + out[-2000:])
    parts = re.split(r"^@@([\w-]+)$", out, flags=re.M)
    found = dict(zip(parts[1::2], parts[2::2]))
    found["all"] = out
    return found


def section(session, name):
    """The output of section @name, after checking GDB got to the breakpoint at all."""
    if not re.search(r"Breakpoint 1, (0x[0-9a-f]+ in )?emulate_privileged", session["all"]):
        raise AssertionError("GDB never stopped at emulate_privileged: did the guest run? GDB said:\n"
                             + session["all"][-3000:])
    return session.get(name, "")


def expect(text, pattern, what, session):
    m = re.search(pattern, text, re.M)
    if not m:
        raise AssertionError(f"expected {what}; GDB said:\n{text[-2500:]}\n--- GDB's errors, last lines:\n"
                             + "\n".join(session["all"].splitlines()[-8:]))
    return m


def value(text, n, session):
    """The value GDB printed as the @n-th '$k = ...' of @text (0-based)."""
    found = re.findall(r"^\$\d+ = (.*)$", text, re.M)
    if len(found) <= n:
        raise AssertionError(f"GDB printed {len(found)} values where {n + 1} were expected:\n{text[-2000:]}")
    return found[n]


def test_hv_domains(session, module_nonce):
    text = section(session, "domains")
    name, memory = domain_options(module_nonce)
    line = expect(text, rf"^\s+d1 '{name}'\s+state (\w+)\s+memory (\d+) KiB\s+paging (\w+)\s+backend (\w+)",
                  f"a line for d1 '{name}' with its state, memory, paging mode and backend", session)
    state, kib, paging, backend = line.group(1), int(line.group(2)), line.group(3), line.group(4)
    assert kib * 1024 == memory, f"hv-domains shows {kib} KiB; the module said mem={memory >> 10}K"
    assert (state, paging, backend) == ("runnable", "direct", "pv"), \
        f"d1 should be runnable, paging direct, backend pv; hv-domains says {state}, {paging}, {backend}"
    count = expect(text, r"^(\d+) domain\(s\)", "the count line 'N domain(s) ...'", session)
    assert int(count.group(1)) == int(value(text, 0, session)) == 1
    # Each stop at the breakpoint was one privileged exit, counted before it is handled.
    exits = expect(text, r"^\s+exits: .*\bprivileged=(\d+)", "d1's exit counters with privileged=N", session)
    assert int(exits.group(1)) == HITS == int(value(text, 1, session)), \
        f"hv-domains counts privileged={exits.group(1)}; the breakpoint was hit {HITS} times"


def parse_vcpu(text, session):
    regs = dict(re.findall(r"\b(r\w\w?|r1[0-5])\s+(0x[0-9a-f]+)", text.split("  rflags")[0]))
    expect(text, r"^\s+rip\s+0x", "an 'rip 0x...' line", session)
    return {k: int(v, 16) for k, v in regs.items()}


def test_hv_vcpu(session):
    text = section(session, "vcpu")
    expect(text, r"^vCPU 0 of d1 '.*', backend pv", "the header 'vCPU 0 of d1 ..., backend pv'", session)
    shown = parse_vcpu(text, session)
    truth = {k: int(v, 16) for k, v in re.findall(r"(\w+) = (0x[0-9a-f]+)", value(text, 0, session))}
    for reg in [r for r in truth if r != "rflags"]:
        assert shown.get(reg) == truth[reg], \
            f"hv-vcpu shows {reg} = {shown.get(reg)}; GDB's 'print/x v->regs' says {truth[reg]:#x}"
    rflags = int(expect(text, r"^\s+rflags (0x[0-9a-f]+) \[([^\]]*)\] IOPL=(\d)", "a decoded rflags line",
                        session).group(1), 16)
    assert rflags == truth["rflags"]
    cr0 = expect(text, r"^\s+cr0 (0x[0-9a-f]+) \[([^\]]*)\]", "a decoded cr0 line", session)
    assert int(cr0.group(1), 16) == int(value(text, 1, session), 16)
    assert {"PG", "PE"} <= set(cr0.group(2).split()), "the guest runs in long mode: CR0 must show PG and PE"
    efer = expect(text, r"^\s+efer (0x[0-9a-f]+) \[([^\]]*)\]", "a decoded efer line", session)
    assert int(efer.group(1), 16) == int(value(text, 2, session), 16)
    assert {"LME", "LMA"} <= set(efer.group(2).split()), "a 64-bit guest has EFER.LME and LMA"
    xcr0 = expect(text, r"^\s+xcr0 (0x[0-9a-f]+) \[([^\]]*)\]", "a decoded xcr0 line", session)
    assert int(xcr0.group(1), 16) == int(value(text, 4, session), 16)
    assert "X87" in xcr0.group(2).split(), "XCR0 always has x87 state (bit 0)"
    # Port I/O at CPL 3 with IOPL 0 raises #GP (SDM Vol. 1 §19.5): the exit that brought us here.
    last = expect(text, r"last exit: (\w+), vector (\d+) \((#\w+)\)", "the last exit with its vector", session)
    assert last.groups() == ("privileged", value(text, 3, session), "#GP"), last.group(0)
    # The same vCPU, chosen by domain id.
    assert parse_vcpu(section(session, "vcpu1"), session) == shown


def test_hv_pagewalk_guest_address(session):
    text = section(session, "guest-walk")
    levels = re.findall(r"^\s+(PML4|PDPT|PD|PT)\s+\[\s*(\d+)\]", text, re.M)
    # 0x200000: PML4 index 0, PDPT 0, PD 1, PT 0 (bits 47:39, 38:30, 29:21, 20:12).
    assert levels == [("PML4", "0"), ("PDPT", "0"), ("PD", "1"), ("PT", "0")], \
        f"hv-pagewalk 0x200000 should visit PML4[0] PDPT[0] PD[1] PT[0]; it printed {levels}\n{text}"
    walk = int(expect(text, r"^=> virtual 0x200000 -> physical (0x[0-9a-f]+)", "the walk's result line",
                      session).group(1), 16)
    gpa2hpa = int(expect(text, r"=> hpa (0x[0-9a-f]+)", "hv-gpa2hpa's 'hpa' result", session).group(1), 16)
    p2m = int(value(text, 0, session), 16)
    assert walk == p2m, f"the walk ends at {walk:#x}, but the domain's p2m[0x200] is {p2m:#x}"
    assert gpa2hpa == p2m + 0x123, f"hv-gpa2hpa 1 0x200123 says {gpa2hpa:#x}; p2m[0x200] + 0x123 is {p2m + 0x123:#x}"
    unmapped = section(session, "unmapped")
    expect(unmapped, r"not present", "a not-present level for an address beyond the guest's memory", session)
    expect(unmapped, r"^=> 0x[0-9a-f]+ is not mapped", "'=> ... is not mapped'", session)
    expect(unmapped, r"is outside its \d+ KiB", "hv-gpa2hpa refusing a GPA beyond mem=", session)


def test_hv_pagewalk_hypervisor_address(session):
    text = section(session, "kernel-walk")
    kmain = int(re.search(r"0x[0-9a-f]+", value(text, 0, session)).group(0), 16)
    # The boot tables map the image with 2 MiB pages (kernel/boot/multiboot.S).
    expect(text, r"^\s+PD\s+\[.*\bPS\b.*2 MiB page", "a PD entry with PS set mapping a 2 MiB page", session)
    walk = int(expect(text, r"^=> virtual 0x[0-9a-f]+ -> physical (0x[0-9a-f]+)", "the walk's result line",
                      session).group(1), 16)
    assert walk == kmain - KERNEL_BASE, \
        f"&kmain = {kmain:#x} should translate to {kmain - KERNEL_BASE:#x}; hv-pagewalk says {walk:#x}"


def test_hv_vmcb_placeholder(session):
    text = section(session, "vmcb")
    expect(text, r"^no SVM vCPU is running", "hv-vmcb to say no SVM vCPU runs (lab 3)", session)
    expect(text, r"^no VMX vCPU is running", "hv-vmcs to say no VMX vCPU runs (lab 3)", session)


def test_hv_trapframe(session):
    text = section(session, "trapframe")
    expect(text, r"Breakpoint 2, (0x[0-9a-f]+ in )?pv_trap_from_guest", "a stop in pv_trap_from_guest", session)
    head = expect(text, r"^trap frame at 0x[0-9a-f]+.*: vector (\d+) \(([^)]*)\)", "the trap frame's header",
                  session)
    rip = expect(text, r"^\s+rip (0x[0-9a-f]+).*cs (0x[0-9a-f]+) \(CPL (\d)", "the rip/cs line", session)
    assert int(rip.group(1), 16) == int(value(text, 0, session), 16), "hv-trapframe's rip is not f->rip"
    assert head.group(1) == value(text, 1, session), "hv-trapframe's vector is not f->vector"
    assert int(rip.group(2), 16) == int(value(text, 2, session), 16) and rip.group(3) == "3", \
        "the trap came from the guest: CS must be f->cs, with CPL 3"
