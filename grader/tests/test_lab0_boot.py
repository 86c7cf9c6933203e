"""Lab 0: the hypervisor boots, reports its machine, and its allocators and timer work.

Each test boots the hypervisor with the grader's nonce; the figures the
self-tests print are recomputed here, independently, from the same nonce.
"""

import pytest

from gradelib import run_qemu, splitmix64_sequence

pytestmark = pytest.mark.handout("labs/lab0/README.md")


@pytest.fixture(scope="module")
def boot(build, module_nonce):
    """One boot with every self-test, shared by the tests below."""
    return run_qemu(build.kernel32, f"nonce={module_nonce} selftest=frames,heap,timer", timeout=20)


def test_boot_banner(boot, module_nonce):
    boot.expect_status("success")
    boot.expect(r"^Hypatia \d+\.\d+\.\d+ ", "the banner line 'Hypatia <version> ...'")
    boot.expect(r"^cpu: AuthenticAMD ", "the CPU line naming the vendor (QEMU's CPU model is AMD)")
    # The QEMU CPU model the grader asks for has SVM with nested paging and no VMX.
    boot.expect(r"^virtualization: SVM yes, NPT yes, VMX no, EPT no, UMIP yes",
                "the virtualization line reporting what CPUID says: SVM yes, NPT yes, VMX no, EPT no, UMIP yes")
    boot.expect(rf'^cmdline: ".*nonce={module_nonce}\b', "the command line, with the grader's nonce")
    boot.expect(r"^\[hv\] exit: success", "the final '[hv] exit: success' line")


def test_memory_map(boot):
    boot.expect_status("success")
    # QEMU with 128 MiB: usable RAM below 640 KiB and from 1 MiB to just under 128 MiB.
    regions = boot.expect_all(r"^  \[([0-9a-f]{16})-([0-9a-f]{16})\]\s+(\d+) KiB (\w[\w ]*)$",
                              "memory-map lines '[start-end] N KiB type'")
    usable = 0
    for m in regions:
        start, end, kib, kind = int(m.group(1), 16), int(m.group(2), 16), int(m.group(3)), m.group(4)
        if end + 1 - start != kib * 1024 and kib * 1024 < end + 1 - start - 1023:
            boot.fail(f"memory-map line {m.group(0).strip()!r}: its KiB does not match its range")
        if kind == "usable":
            usable += end + 1 - start
    if not 120 << 20 <= usable <= 128 << 20:
        boot.fail(f"the memory map shows {usable >> 20} MiB usable; QEMU was given 128 MiB")
    m = boot.expect(r"^memory: (\d+) MiB usable, (\d+) frames free of (\d+)$", "the 'memory:' summary line")
    free, total = int(m.group(2)), int(m.group(3))
    if not 0 < free < total <= usable // 4096:
        boot.fail(f"frames free {free} of {total} is impossible with {usable // 4096} usable frames")


def test_selftest_frames(boot, module_nonce):
    boot.expect_status("success")
    m = boot.expect(r"^selftest frames: n=(\d+) free_before=(\d+) free_during=(\d+) free_after=(\d+) "
                    r"check=([0-9a-f]{16}) (\w+)$", "the 'selftest frames:' line")
    n, before, during, after = (int(m.group(i)) for i in range(1, 5))
    expected_n = 64 + module_nonce % 193
    if n != expected_n:
        boot.fail(f"the frames self-test allocated {n} frames; with this nonce it must allocate {expected_n}")
    if during != before - n or after != before:
        boot.fail(f"free counts {before} -> {during} -> {after} do not add up for {n} frames")
    expected_check = 0
    for v in splitmix64_sequence(module_nonce, n):
        expected_check ^= v
    if int(m.group(5), 16) != expected_check or m.group(6) != "ok":
        boot.fail(f"frames self-test check {m.group(5)} {m.group(6)}; expected {expected_check:016x} ok")


def test_selftest_heap(boot, module_nonce):
    boot.expect_status("success")
    m = boot.expect(r"^selftest heap: allocs=(\d+) bytes=(\d+) in_use_after=(\d+) (\w+)$",
                    "the 'selftest heap:' line")
    n = 100 + module_nonce % 400
    sizes = [1 + v % 3000 for v in splitmix64_sequence(module_nonce ^ 0x68656170, n)]
    got = (int(m.group(1)), int(m.group(2)), int(m.group(3)), m.group(4))
    if got != (n, sum(sizes), 0, "ok"):
        boot.fail(f"heap self-test printed allocs={got[0]} bytes={got[1]} in_use_after={got[2]} {got[3]}; "
                  f"expected allocs={n} bytes={sum(sizes)} in_use_after=0 ok")


def test_timer_ticks(boot, module_nonce):
    boot.expect_status("success")
    m = boot.expect(r"^selftest timer: waited=(\d+) ticks start=(\d+) end=(\d+) tsc_delta=(\d+) (\w+)$",
                    "the 'selftest timer:' line")
    waited, start, end, tsc = (int(m.group(i)) for i in range(1, 5))
    if waited != 5 + module_nonce % 11:
        boot.fail(f"the timer self-test waited {waited} ticks; with this nonce it must wait {5 + module_nonce % 11}")
    if end - start < waited or tsc == 0 or m.group(5) != "ok":
        boot.fail(f"ticks went {start} -> {end} (tsc delta {tsc}) while waiting for {waited}: the timer is not ticking")


def test_unknown_option(build, nonce):
    r = run_qemu(build.kernel32, f"nonce={nonce} frobnicate=3")
    r.expect_status("success")
    r.expect(r"^\[hv\] warning: unknown option 'frobnicate' ignored", "a warning naming the unknown option")


def test_modules_listed(build, nonce, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text(f"not a guest image {nonce}\n" * 10)
    r = run_qemu(build.kernel32, f"nonce={nonce}", modules=[f"{text} role=notes{nonce}"])
    r.expect_status("success")
    r.expect(rf'^  module 0: \[[0-9a-f]+-[0-9a-f]+\] {len(text.read_bytes())} bytes "[^"]*role=notes{nonce}": not an ELF',
             "module 0 listed with its size, its arguments and 'not an ELF file'")
    r.expect(r"^\[hv\] warning: module 0 .* cannot be a guest image", "a warning that module 0 is no guest image")


def test_no_modules(build, nonce):
    r = run_qemu(build.kernel32, f"nonce={nonce}")
    r.expect_status("success")
    r.expect(r"^modules: none$", "'modules: none' when QEMU was given no -initrd")
