"""The grader survives what a broken kernel can do: hang, flood, triple-fault, vanish.

These run the hypervisor's own misbehaviour options (fault=hang|flood|triple),
so they test gradelib against real QEMU runs, not mocks.
"""
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from build import Build  # noqa: E402
from gradelib import (WALL_LIMIT_FACTOR, fnv1a64, kernel_symbols, kvm_vmx_available, run_qemu,  # noqa: E402
                     splitmix64_sequence, symbolize)
from report import find_culprit, student_functions  # noqa: E402

BUILD = Build(os.environ.get("HYPATIA_BUILD", "build/stub"))


@pytest.fixture(autouse=True)
def need_kernel():
    if not BUILD.kernel32.exists():
        pytest.fail(f"{BUILD.kernel32} is missing: run make first")


def test_hang_ends_at_timeout():
    r = run_qemu(BUILD.kernel32, "nonce=1 fault=hang", timeout=3)
    assert r.status == "timeout"
    assert 2.5 < r.duration < 3 * WALL_LIMIT_FACTOR + 2   # 3 s of CPU time; the wall clock stretches under load
    assert "fault: hanging" in r.output
    with pytest.raises(AssertionError, match="did not end within its time limit"):
        r.expect_status("success")


def test_flood_ends_at_cap():
    r = run_qemu(BUILD.kernel32, "nonce=1 fault=flood", timeout=30, cap=64 * 1024)
    assert r.status == "flood"
    assert len(r.output) <= 64 * 1024
    assert "flooding the console" in r.output


def test_triple_fault_is_not_success():
    r = run_qemu(BUILD.kernel32, "nonce=1 fault=triple", timeout=10)
    assert r.status == "triple-fault"
    assert r.exit_code == 0
    with pytest.raises(AssertionError, match="triple fault"):
        r.expect_status("success")


def test_missing_kernel_is_a_crash(tmp_path):
    r = run_qemu(tmp_path / "nope.elf", "nonce=1")
    assert r.status == "crash"
    assert "does not exist" in r.describe()


def test_failure_message_quotes_output():
    r = run_qemu(BUILD.kernel32, "nonce=5")
    assert r.status == "success"
    with pytest.raises(AssertionError) as e:
        r.expect(r"^no such line$", "a line that is not there")
    text = str(e.value)
    assert "a line that is not there" in text and "| [hv] exit: success" in text and "reproduce:" in text


def test_reference_helpers():
    # Published test vectors: SplitMix64 seeded with 0, FNV-1a of "a".
    assert splitmix64_sequence(0, 2) == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4]
    assert fnv1a64(b"a") == 0xAF63DC4C8601EC8C


@pytest.mark.parametrize("flags,nested,kvm_usable,env,want", [
    ("fpu vme vmx ept", "Y", True, None, True),
    ("fpu vme vmx ept", "1", True, None, True),
    ("fpu vme vmx ept", "Y", True, "bochs", False),  # forced
    ("fpu vme svm npt", "Y", True, None, False),     # AMD: TCG-like, no VMX through KVM
    ("fpu vme vmx ept", "N", True, None, False),     # kvm_intel without nesting
    ("fpu vme vmx ept", None, True, None, False),    # kvm_intel not loaded
    ("fpu vme vmx ept", "Y", False, None, False),    # no /dev/kvm
])
def test_kvm_vmx_detection(tmp_path, monkeypatch, flags, nested, kvm_usable, env, want):
    """The VMX tests leave Bochs for QEMU+KVM only where everything for it is there."""
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nflags\t\t: {flags}\n")
    nested_file = tmp_path / "nested"
    if nested is not None:
        nested_file.write_text(nested + "\n")
    kvm = tmp_path / "kvm"
    if kvm_usable:
        kvm.write_text("")
    if env:
        monkeypatch.setenv("HYPATIA_VMX", env)
    else:
        monkeypatch.delenv("HYPATIA_VMX", raising=False)
    assert kvm_vmx_available(cpuinfo=cpuinfo, kvm=kvm, nested=nested_file) == want


def test_this_machine_runs_vmx_in_bochs_unless_kvm_can():
    """Whatever this machine is, the answer agrees with its /proc/cpuinfo."""
    has_vmx = " vmx " in (" " + Path("/proc/cpuinfo").read_text().replace("\n", " ") + " ")
    if not has_vmx:
        assert kvm_vmx_available() is False


def test_a_hang_names_the_function_and_blames_the_student():
    # fault=hang spins in fault_hang(): gradelib asks QEMU where the CPU is. The
    # report turns a student function named there into "your code" (here the
    # stub's own stacktrace_walk stands in for a student's).
    r = run_qemu(BUILD.kernel32, "nonce=1 fault=hang", timeout=3)
    assert r.status == "timeout"
    assert "<fault_hang+0x" in r.where
    functions = student_functions(BUILD.dir)
    assert functions["stacktrace_walk"] == "kernel/arch/stacktrace.c"
    assert functions["ksym_lookup"] == "kernel/lib/ksym_lookup.c"
    assert find_culprit(r.describe(), functions) is None          # fault_hang is the kit's
    stuck = r.describe().replace("fault_hang", "stacktrace_walk")
    assert find_culprit(stuck, functions) == ("stacktrace_walk", "kernel/arch/stacktrace.c")
    # A bare hypervisor address counts too, named by nm, not by the kernel's own table.
    address = next(a for a, n in kernel_symbols(BUILD.kernel)[0] if n == "stacktrace_walk")
    assert find_culprit(f"rip {address + 4:016x}", functions, lambda a: symbolize(BUILD.kernel, a)[0]) == \
        ("stacktrace_walk", "kernel/arch/stacktrace.c")
