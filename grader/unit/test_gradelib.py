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
from gradelib import fnv1a64, run_qemu, splitmix64_sequence  # noqa: E402

BUILD = Build(os.environ.get("HYPATIA_BUILD", "build/stub"))


@pytest.fixture(autouse=True)
def need_kernel():
    if not BUILD.kernel32.exists():
        pytest.fail(f"{BUILD.kernel32} is missing: run make first")


def test_hang_ends_at_timeout():
    r = run_qemu(BUILD.kernel32, "nonce=1 fault=hang", timeout=3)
    assert r.status == "timeout"
    assert 2.5 < r.duration < 10
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
