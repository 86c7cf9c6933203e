"""Lab 0: the same kernel boots in Bochs, the emulator with Intel VMX + EPT (lab 3's VMX path).

Bochs boots it from a GRUB rescue ISO (scripts/bochs-run, docs/bochs.md) and has no
exit-status device: the grader reads the kernel's own last line.
"""
import pytest

from gradelib import run_bochs, splitmix64_sequence


@pytest.mark.slow
@pytest.mark.handout("labs/lab0/README.md, 'Build and boot'; docs/bochs.md")
def test_bochs_boot(build, nonce):
    r = run_bochs(build.kernel, f"nonce={nonce} selftest=frames", timeout=90)
    r.expect_status("success")
    r.expect(r"^cpu: GenuineIntel ", "an Intel CPU in the banner (Bochs' corei7_haswell_4770 model)")
    r.expect(r"^virtualization: SVM no, NPT no, VMX yes, EPT yes",
             "the banner reporting VMX and EPT, which Bochs' Haswell model has")
    r.expect(r"^boot loader: GRUB", "GRUB named as the boot loader")
    n = 64 + nonce % 193
    check = 0
    for v in splitmix64_sequence(nonce, n):
        check ^= v
    r.expect(rf"^selftest frames: n={n} .* check={check:016x} ok$",
             "the frames self-test line with this nonce's figures")
