"""Lab 2: guest user mode and the U/S split.

guests/tests/paging_user.c is a guest kernel with two user processes
(docs/guests.md): they compute nonce-dependent values and make system calls
(`int $0x80` through a gate of DPL 3), then try what a user program may not
do — read, write or run a guest-kernel page (U = 0), CLI, HLT, MOV to CR3,
INT through a DPL-0 gate — and each time the guest kernel must get the
fault the hardware gives (#PF with U set, #GP) and kill the process.

Under Hypatia the guest's kernel and user mode both run at CPL 3: the PV
backend tracks the guest's *virtual* CPL (IRETQ to an RPL-3 CS enters user
mode; an event from user mode is delivered on the stack the guest's TSS
names), and the shadow MMU keeps two roots, one per mode, so that what the
guest kernel may reach never serves its user mode.
"""
import re

import pytest

from test_lab1_domains import expect_hello
from test_lab1_equivalence import diff_lines, domain_id, module, transcript
from test_lab2_equivalence import expect_not_crashed, run_shadow, shadow_equivalence, shadow_module

pytestmark = [pytest.mark.student,
              pytest.mark.handout("labs/lab2/README.md, 5. Guest user mode and the U/S split")]

MASK = (1 << 64) - 1
LCG_MUL, LCG_ADD = 6364136223846793005, 1442695040888963407


def user_program(pid, seed, count):
    """The lines the guest kernel prints for one compute run (paging_user.c, recomputed here)."""
    x, total, heap0 = seed, 0, None
    for _ in range(count):
        x = (x * LCG_MUL + LCG_ADD) & MASK
        heap0 = x if heap0 is None else heap0
        total = (total + (x >> 33)) & MASK
    return [f"pid {pid}: report 0x{total:016x}", f"pid {pid}: report 0x{heap0 ^ pid:016x}",
            f"pid {pid}: exited with status {total & 0xff}", f"pid {pid}: its heap frame holds its values: yes"]


def run_user(build, nonce, kind="image"):
    """paging_user as a shadow domain, beside a pv hello that must finish untouched."""
    other = nonce ^ 0x2545F4914F6CDD1D
    r = run_shadow(build, [shadow_module(build, "paging_user", "user", nonce, kind=kind),
                           module(build, "pv", "hello", "hello", other)],
                   nonce)
    expect_not_crashed(r, "user")
    expect_hello(r, "hello", other, "pv")
    return r


@pytest.mark.points(6)
@pytest.mark.parametrize("kind", ["image", "pv"])
def test_user_equivalence(build, nonce, kind):
    """The whole transcript equals the native one (DIFF: lines aside)."""
    shadow_equivalence(build, nonce, "paging_user", kind=kind)


@pytest.mark.points(5)
def test_user_programs_compute(build, nonce):
    """Two processes at the same addresses compute in their own frames and make system calls."""
    r = run_user(build, nonce)
    lines = transcript(r, "user")
    seed1, seed2 = nonce ^ 0x5851F42D4C957F2D, (nonce * 3 + 7) & MASK
    want = (user_program(1, seed1, 4 + nonce % 13) + user_program(2, seed2, 4 + (nonce >> 4) % 13) +
            ["pid 1: heap untouched by pid 2: yes"])
    got = lines[1:1 + len(want)]
    if got != want:
        r.fail("the user processes should have printed (recomputed from the nonce):\n  " + "\n  ".join(want) +
               "\nbut the guest printed:\n  " + "\n  ".join(got))
    again = user_program(1 + nonce % 2, seed1 ^ seed2, 3)
    if not any(lines[i:i + len(again)] == again for i in range(len(lines))):
        r.fail("after being killed a process should still run in its address space:\n  " + "\n  ".join(again))


# What each attack must give the guest kernel: the hardware's error code (SDM Vol. 3A §4.7: U = 4, P = 1,
# W = 2, I/D = 0x10; §6.13 for #GP) and the kill. Keys: what follows "pid N" on the line before.
ATTACKS = [
    (" reads a kernel page", "#PF error 0x5, cr2 matches: yes, killed"),
    (" writes a kernel page", "#PF error 0x7, cr2 matches: yes, killed"),
    (" calls a kernel function", "#PF error 0x15, cr2 matches: yes, killed"),
    (" reads an unmapped page of its own", "#PF error 0x4, cr2 matches: yes, killed"),
    (" jumps into its no-execute data page", "#PF error 0x15, cr2 matches: yes, killed"),
    (" executes cli", "#GP error 0x0, killed"),
    (" executes hlt", "#GP error 0x0, killed"),
    (" executes mov to cr3", "#GP error 0x0, killed"),
    (" iretqs to the kernel's code segment", "#GP error 0x8, killed"),
    # The virtual TLB of user mode: the kernel clears U in a user PTE, then flushes.
    (", its data page made kernel-only + invlpg", "#PF error 0x5, cr2 matches: yes, killed"),
    (", its data page made kernel-only + cr3 reload", "#PF error 0x5, cr2 matches: yes, killed"),
]


def line_after(lines, key):
    """(pid, the line after) for the first line `pid N<key>:`, or (None, None)."""
    for i, line in enumerate(lines):
        m = re.fullmatch(rf"pid (\d){re.escape(key)}:", line)
        if m:
            return m.group(1), lines[i + 1] if i + 1 < len(lines) else "(nothing)"
    return None, None


@pytest.mark.points(10)
def test_user_cannot_touch_kernel_pages(build, nonce):
    """A guest user program touching guest-kernel pages, or privileged state, is refused and killed."""
    r = run_user(build, nonce)
    lines = transcript(r, "user")
    problems = []
    for key, want in ATTACKS:
        pid, got = line_after(lines, key)
        if pid is None:
            problems.append(f"no 'pid N{key}:' line")
        elif got != f"pid {pid}: {want}":
            problems.append(f"pid {pid}{key}: expected 'pid {pid}: {want}', got '{got}'")
    if "kernel secret unchanged: yes" not in lines:
        problems.append("the user write reached the guest kernel's secret ('kernel secret unchanged: yes' missing)")
    pid, got = line_after(lines, " iretqs within user mode")
    if got != f"pid {pid}: report 0x{nonce ^ 0x1237:016x}":
        problems.append(f"an IRETQ from user mode to user mode should go on: expected 'pid {pid}: report "
                        f"0x{nonce ^ 0x1237:016x}', got '{got}'")
    if problems:
        r.fail("guest user mode must not reach guest-kernel pages nor privileged state "
               "(a separate shadow root for user mode; #GP for privileged instructions):\n  " + "\n  ".join(problems))


@pytest.mark.points(2)
def test_timer_preempts_user_mode(build, nonce):
    """A virtual timer interrupt while the guest runs in user mode reaches its kernel with a user frame."""
    r = run_user(build, nonce)
    pid, got = line_after(transcript(r, "user"), " spins in user mode")
    want = f"pid {pid}: timer interrupt in user mode, frame: user cs yes, if yes; preempted"
    if got != want:
        r.fail(f"expected '{want}' after 'pid {pid} spins in user mode:', got '{got}'")


@pytest.mark.points(3)
def test_closed_gates(build, nonce):
    """INT n from user mode through a DPL-0 gate: #GP(n * 8 + 2) (SDM Vol. 3A §6.12.1.1, §6.13).

    QEMU's TCG gives n * 16 + 2 natively, so the guest prints these as DIFF: lines; the hypervisor
    is held to the SDM. INT 0x82, the hypervisor's hypercall vector, is the guest kernel's gate here."""
    r = run_user(build, nonce)
    lines = diff_lines(transcript(r, "user"))
    wrong = []
    for vector in (0x81, 0x82):
        line = lines.get(f"int $0x{vector:x}")
        if not line or not re.search(rf"#GP error 0x{vector * 8 + 2:x}, killed$", line):
            wrong.append(f"int $0x{vector:x}: expected '#GP error 0x{vector * 8 + 2:x}, killed', got: "
                         f"{line or 'no such line'}")
    if wrong:
        r.fail("\n  ".join(wrong))


@pytest.mark.points(3)
def test_root_switches_counted(build, nonce):
    """The hypervisor counts every entry into guest user mode and every return to the guest kernel."""
    r = run_user(build, nonce)
    lines = transcript(r, "user")
    m = next((re.match(r"entries into user mode: (\d+), into the kernel from user mode: (\d+)$", x) for x in lines
              if x.startswith("entries into user mode")), None)
    if not m:
        r.fail("the guest did not print 'entries into user mode: E, into the kernel from user mode: K'")
    n = domain_id(r, "user")
    stats = re.search(rf"^\[hv\] d{n} shadow: user_entries=(\d+) kernel_entries=(\d+)", r.output, re.M)
    if not stats:
        r.fail(f"no '[hv] d{n} shadow: user_entries=E kernel_entries=K' line when the domain ended")
    if stats.groups() != m.groups():
        r.fail(f"the hypervisor counted user_entries={stats.group(1)} kernel_entries={stats.group(2)}, "
               f"the guest {m.group(1)} and {m.group(2)}")
