"""Lab 3: hardware-assisted virtualization with Intel VMX and EPT (Bochs).

The twin of test_lab3_svm.py. QEMU's TCG has no VMX, so these runs boot the
hypervisor in Bochs (corei7_haswell_4770: VMX, EPT, unrestricted guest; no
SVM), where `mode=nested` domains get the vmx backend. The reference is the
guest's *native* run in QEMU, as for every other equivalence test.

The two runs are on different CPUs: QEMU's default model is an AMD one,
Bochs' an Intel Haswell. A line that reports what the CPU is (its vendor,
brand string, family or model, raw CPUID output) would differ natively too,
so such lines are left out of the comparison (VENDOR_DEPENDENT below). The
guests compared here, hello and nonvirt, print none today: everything they
print — the nonce's hash, interrupt-flag behaviour, CS, SGDT/SIDT/STR —
is the same on any x86-64 CPU, so in practice every line is compared.

Each Bochs run costs 2-3 s (mostly BIOS and GRUB): marked slow.
"""
import re

import pytest

from gradelib import run_bochs
from test_lab1_equivalence import (comparable, diff_lines, domain_end, expect_exit, module, run_native,
                                   transcript)

pytestmark = [pytest.mark.handout("labs/lab3/README.md; docs/bochs.md"), pytest.mark.slow]

BOCHS_TIMEOUT = 60
VENDOR_DEPENDENT = re.compile(r"GenuineIntel|AuthenticAMD|\b(vendor|brand|family|model|cpuid)\b", re.I)


def run_vmx(build, modules, nonce):
    """Boot the hypervisor in Bochs with @modules; mode=nested domains run on VMX + EPT."""
    r = run_bochs(build.kernel, f"nonce={nonce}", modules=modules, timeout=BOCHS_TIMEOUT)
    if "mode vmx" not in r.output and r.status in ("success", "crash"):
        r.fail("no domain ran on the vmx backend: under Bochs (Intel, no SVM) mode=nested must pick "
               "vmx_vcpu_ops (kernel/dom/domain.c) and vmx_enable() must succeed")
    return r


def vendor_neutral(lines):
    """comparable() lines, without those that depend on the CPU's vendor (module docstring)."""
    return [line for line in comparable(lines) if not VENDOR_DEPENDENT.search(line)]


def expect_equivalent_vmx(run, name, native_lines):
    want, got = vendor_neutral(native_lines), vendor_neutral(transcript(run, name))
    if want != got:
        import difflib
        diff = "\n".join("    " + d for d in difflib.unified_diff(want, got, "native (QEMU)", "vmx (Bochs)",
                                                                  lineterm="", n=2))
        run.fail(f"under VMX '{name}' printed other lines than natively (equivalence, DESIGN §5; "
                 f"'-' native, '+' under Hypatia in Bochs):\n{diff}")


def nested_vmx(build, guest, nonce, extra=""):
    """Run @guest natively (QEMU) and as a mode=nested domain under VMX (Bochs)."""
    native = run_native(build, guest, f"nonce={nonce}{' ' + extra if extra else ''}")
    r = run_vmx(build, [module(build, "image", guest, guest, nonce, ("mode=nested " + extra).strip())], nonce)
    return native, r


@pytest.mark.points(5)
@pytest.mark.student
def test_vmx_hello_equivalent(build, nonce):
    """VMXON, a VMCS, VMLAUNCH, I/O exits to the UART, a clean exit: the same lines as native."""
    native, r = nested_vmx(build, "hello", nonce)
    expect_equivalent_vmx(r, "hello", native.lines)
    expect_exit(r, "hello", 0x10)


def case(guest, points, extra=""):
    return pytest.param(guest, extra, marks=[pytest.mark.points(points)], id=guest)


@pytest.mark.student
@pytest.mark.parametrize("guest,extra", [
    case("io", 3), case("cpu_state", 3), case("exceptions", 3), case("timer", 5),
])
def test_vmx_equivalence(build, nonce, guest, extra):
    """More of the lab-1 suite under VMX: string I/O, MSRs and CRs, the guest's own IDT, virtual
    timer interrupts through interrupt-window exiting."""
    native, r = nested_vmx(build, guest, nonce, extra)
    expect_equivalent_vmx(r, guest, native.lines)
    expect_exit(r, guest, 0x10)


@pytest.mark.points(8)
@pytest.mark.student
def test_vmx_nonvirtualizable_instructions_behave_natively(build, nonce):
    """Lab 1's DIFF: lines (POPF, PUSHF, mov %cs, SGDT/SIDT/STR) equal native under VMX too."""
    native, r = nested_vmx(build, "nonvirt", nonce, "umip=0")
    expect_exit(r, "nonvirt", 0x10)
    want, got = diff_lines(native.lines), diff_lines(transcript(r, "nonvirt"))
    wrong = [f"    native: {want[k]}\n    vmx:    {got.get(k, '(missing)')}" for k in want if got.get(k) != want[k]]
    if wrong or not want:
        r.fail("under VMX the guest runs at CPL 0 on the (emulated) CPU, so the lines that differed under "
               "trap-and-emulate must equal native:\n" + "\n".join(wrong))
    expect_equivalent_vmx(r, "nonvirt", native.lines)


@pytest.mark.points(5)
@pytest.mark.student
def test_vmx_triple_fault_ends_only_that_guest(build, nonce):
    """A triple fault is VM exit reason 2: that domain crashes, the next one runs to its end."""
    r = run_vmx(build, [module(build, "image", "crash", "crash", nonce, "mode=nested how=triple"),
                        module(build, "image", "hello", "hello", nonce, "mode=nested")], nonce)
    end = domain_end(r, "crash")
    if not end or end[0] != "crashed" or "triple fault" not in end[1]:
        r.fail(f"the guest that triple-faults should crash alone with a 'triple fault' reason; it: {end}")
    expect_exit(r, "hello", 0x10)
