"""Lab 3: an unmodified Linux kernel boots as an HVM guest (docs/linux.md).

Debian's own kernel (the bzImage of linux-image-amd64) and an initramfs of
Debian's busybox-static, nothing patched, booted by the hypervisor's loader
(the x86 boot protocol) on its emulated PC: 8259 PIC pair, 8254 PIT, CMOS
RTC, 16550A UART. The test types into the guest's shell through the
hypervisor's console, as a person in `make linux` does: it waits for the
prompt, has the shell compute something from the grader's nonce, then runs
`poweroff`, which halts the CPU with interrupts disabled and so ends the
domain cleanly.

The same kernel also boots under Intel VMX with EPT, in Bochs (its Haswell
model has VMX and no SVM). Bochs has no console the grader can type into, so
there the kernel command line carries `hypatia.auto=N`, N from the nonce: the
initramfs' /init (scripts/mkinitramfs) reads /proc/cmdline, prints N * 3 as
computed by the guest's shell, and powers off. Bochs is slow (about two
minutes to boot), so that run starts at once, next to the QEMU sessions.

These tests download Debian's kernel (a 71 MB package, once) and take from
half a minute to over two: they are marked `long` and run only with the
grader's `--long` (`make test` passes it), so that `make grade LAB=3` stays
a matter of seconds.

It needs the lab-3 student files (the VMCB, the VMCS): on the stubs no HVM
guest runs. Without network access to Debian's archive the test SKIPs,
saying so.
"""
import concurrent.futures
import io
import re
import subprocess
import sys
import time

import pexpect
import pytest

from gradelib import ROOT, WALL_LIMIT_FACTOR, Run, cpu_seconds, qemu_command, run_bochs, run_qemu
from test_lab1_equivalence import expect_equivalent, expect_exit, module, run_hypervisor, run_native

pytestmark = pytest.mark.handout("docs/linux.md")

LINUX_DIR = ROOT / "build/linux"
# noapic: the emulated PC has a local APIC (its timer is Linux's clock event device) but no I/O APIC.
GUEST_ARGS = "console=ttyS0 earlyprintk=ttyS0 acpi=off pci=off noapic tsc=reliable nopv"
HOST_MEMORY = "512M"
GUEST_MEMORY = "256M"
PROMPT = r"\[d1\] linux# "
# Wall-clock limits under QEMU's TCG on 2 shared cores (the prompt comes after
# about 10 s with nested paging, 20 s with shadow paging: docs/linux.md).
BOOT_TIMEOUT = {"nested": 240, "shadow": 400}
COMMAND_TIMEOUT = 60
MODES = ["nested", "shadow"]
# Bochs: its RAM (the hypervisor, the 8 MB bzImage and the initrd as modules, 256M for the
# guest), and a wall-clock limit for the whole run (about 130 s on 2 shared cores: docs/linux.md).
BOCHS_MEGS = 512
BOCHS_TIMEOUT = 900


@pytest.fixture(scope="module")
def linux_files():
    """Debian's vmlinuz and the busybox initramfs, fetched and built once (cached in build/linux)."""
    fetch = subprocess.run([str(ROOT / "scripts/fetch-linux"), str(LINUX_DIR)], capture_output=True, text=True)
    if fetch.returncode == 2:
        pytest.skip("SKIP: Debian's kernel and busybox could not be downloaded: " + fetch.stderr.strip())
    if fetch.returncode != 0:
        pytest.fail("scripts/fetch-linux failed:\n" + fetch.stdout + fetch.stderr)
    initrd = LINUX_DIR / "initramfs.cpio.gz"
    subprocess.run([sys.executable, str(ROOT / "scripts/mkinitramfs"), str(LINUX_DIR / "busybox"), str(initrd)],
                   check=True)
    return LINUX_DIR / "vmlinuz", initrd


def linux_modules(vmlinuz, initrd, mode):
    """The kernel module (domain options, then Linux's command line) and its initrd module."""
    return [f"{vmlinuz} name=linux mem={GUEST_MEMORY} type=hvm mode={mode} {GUEST_ARGS}", f"{initrd} initrd"]


class Session:
    """QEMU running the hypervisor with a Linux domain, driven through its serial console."""

    def __init__(self, build, nonce, modules):
        self.cmd = qemu_command(build.kernel32, f"nonce={nonce}", modules=modules, extra=["-m", HOST_MEMORY])
        self.log = io.StringIO()
        self.start = time.monotonic()
        self.child = pexpect.spawn(self.cmd[0], self.cmd[1:], encoding="utf-8", codec_errors="replace",
                                   cwd=str(ROOT), maxread=65536)
        self.child.logfile_read = self.log

    def run(self, status="timeout"):
        """What happened so far, as a gradelib Run (for its failure messages)."""
        output = re.sub(r"\r+\n", "\n", self.log.getvalue())
        return Run(self.cmd, output, status, self.child.exitstatus, time.monotonic() - self.start)

    def expect(self, pattern, timeout, what):
        """Wait for @pattern; fail saying @what was expected, with the end of the output, if it does not come.

        @timeout counts QEMU's CPU time, as gradelib's limits do: on a loaded machine a boot takes
        longer in wall time, not in work (at most WALL_LIMIT_FACTOR times longer)."""
        crash = r"^\[hv\] d1 crashed[^\n]*|^\[hv\] panic[^\n]*|^PANIC[^\n]*"
        patterns = [pattern, re.compile(crash, re.M), pexpect.TIMEOUT, pexpect.EOF]
        cpu_start, wall_start = cpu_seconds(self.child.pid) or 0.0, time.monotonic()
        while True:
            i = self.child.expect(patterns, timeout=1)
            used = (cpu_seconds(self.child.pid) or cpu_start) - cpu_start
            if i != 2 or used >= timeout or time.monotonic() - wall_start >= timeout * WALL_LIMIT_FACTOR:
                break
        if i == 0:
            return self.child.match
        ended = {1: "the domain ended or the hypervisor panicked", 2: f"nothing for {timeout} s",
                 3: "QEMU exited"}[i]
        self.close()
        self.run("crash" if i != 2 else "timeout").fail(f"expected {what}; instead: {ended}")

    def close(self):
        self.child.close(force=True)


def shell_session(build, nonce, linux_files, mode):
    """Boot to the shell, compute from the nonce, power off; raises the failure if anything goes wrong."""
    vmlinuz, initrd = linux_files
    s = Session(build, nonce, linux_modules(vmlinuz, initrd, mode))
    try:
        s.expect(r"\[hv\] d1 'linux' created", 30, "the bzImage accepted as domain d1")
        s.expect(PROMPT, BOOT_TIMEOUT[mode], "Linux to boot to the busybox shell prompt 'linux# '")
        n = nonce % (1 << 61)  # the shell computes in signed 64 bits: keep 3n below 2^63
        s.child.sendline(f"echo $(({n}*3))")
        s.expect(rf"\[d1\] {n * 3}\r*\n", COMMAND_TIMEOUT,
                 f"the shell's answer {n * 3} to 'echo $(({n}*3))' (console input reaching the guest's UART)")
        s.expect(PROMPT, COMMAND_TIMEOUT, "the prompt again")
        # The local APIC's timer is Linux's clock event device (in TSC-deadline mode, with the
        # tsc_early_khz= the loader adds): what wakes the shell from 'sleep 1' is a LOC interrupt.
        s.child.sendline("cat /sys/devices/system/clockevents/clockevent0/current_device; "
                         "grep LOC: /proc/interrupts; sleep 1; grep LOC: /proc/interrupts")
        # Each reading up to the words after it: matching as bytes arrive once took "12" of "1279".
        s.expect(r"\[d1\] (\S+)\r*\n(?:.*\n)*?.*LOC: +(\d+) +Local timer[^\n]*\n(?:.*\n)*?.*LOC: +(\d+) +Local timer",
                 COMMAND_TIMEOUT,
                 "the clock event device's name and two readings of the LOC line")
        device, before, after = s.child.match.group(1), int(s.child.match.group(2)), int(s.child.match.group(3))
        if not device.startswith("lapic") or after <= before:
            s.run("success").fail(f"expected Linux's clock events from its local APIC timer: the device is "
                                  f"'{device}', LOC went from {before} to {after} through 'sleep 1'")
        s.expect(PROMPT, COMMAND_TIMEOUT, "the prompt again")
        s.child.sendline("poweroff")
        s.expect(r"\[hv\] d1 halted with interrupts disabled: powered off", COMMAND_TIMEOUT,
                 "poweroff to halt the guest with interrupts disabled, ending it cleanly")
        s.expect(r"\[hv\] d1 exits: [^\r\n]*", 10, "the domain's exit counters")
        s.expect(r"\[hv\] all domains ended: 1 exited, 0 crashed, 0 refused", 10, "the run to end")
        s.child.expect(pexpect.EOF, timeout=30)
    finally:
        s.close()
    r = s.run("success" if s.child.exitstatus == 33 else "crash")
    r.reject(r"^\[d1\] \[[ 0-9.]+\] (Kernel panic|BUG:|WARNING:|Oops)", "no kernel panic, BUG, WARNING or Oops")


def vmx_session(build, nonce, linux_files):
    """Under VMX in Bochs: boot, let /init compute from the nonce (hypatia.auto=N), power off."""
    vmlinuz, initrd = linux_files
    n = nonce % (1 << 61)  # the shell computes in signed 64 bits: keep 3n below 2^63
    modules = [f"{vmlinuz} name=linux mem={GUEST_MEMORY} type=hvm mode=nested {GUEST_ARGS} hypatia.auto={n}",
               f"{initrd} initrd"]
    r = run_bochs(build.kernel, f"nonce={nonce}", modules=modules, timeout=BOCHS_TIMEOUT, megs=BOCHS_MEGS)
    r.expect(r"^\[hv\] d1 'linux' created: \d+ KiB, mode vmx\b", "the bzImage accepted as d1 on the vmx backend")
    r.expect(r"^\[d1\] \[[ 0-9.]+\] Run /init as init process", "Linux to boot as far as starting /init")
    r.expect(rf"^\[d1\] hypatia\.auto: {n} \* 3 = {n * 3},", f"the guest's shell to print {n} * 3 = {n * 3}")
    r.expect(r"^\[d1\] hypatia\.auto: local timer interrupts [1-9]\d*", "Linux's local APIC timer to have ticked (LOC)")
    r.expect(r"^\[hv\] d1 halted with interrupts disabled: powered off",
             "poweroff to halt the guest with interrupts disabled, ending it cleanly")
    r.expect(r"^\[hv\] d1 exits: [^\n]*", "the domain's exit counters")
    r.expect(r"^\[hv\] all domains ended: 1 exited, 0 crashed, 0 refused", "the run to end")
    r.reject(r"^\[d1\] \[[ 0-9.]+\] (Kernel panic|BUG:|WARNING:|Oops)", "no kernel panic, BUG, WARNING or Oops")


def outcome(session, *args):
    """Run @session in a thread: None if it passed, else what it raised (re-raised by the test)."""
    try:
        session(*args)
    except BaseException as e:  # noqa: B902 — pytest's Failed is a BaseException
        return e
    return None


@pytest.fixture(scope="module")
def shell_outcomes(build, module_nonce, linux_files):
    """Every paging mode's session at once: they take about 20 s each under TCG, one core each;
    and the VMX run in Bochs (about two minutes), started first."""
    with concurrent.futures.ThreadPoolExecutor(len(MODES) + 1) as pool:
        futures = {"vmx": pool.submit(outcome, vmx_session, build, module_nonce, linux_files)}
        futures.update({mode: pool.submit(outcome, shell_session, build, module_nonce, linux_files, mode)
                        for mode in MODES})
    return {mode: f.result() for mode, f in futures.items()}


@pytest.mark.points(15)
@pytest.mark.student
@pytest.mark.slow
@pytest.mark.long
@pytest.mark.parametrize("mode", MODES)
def test_linux_shell_and_poweroff(shell_outcomes, mode):
    """Linux boots to busybox's shell, which answers a sum made from the nonce through the console
    input path; `poweroff` (HLT with interrupts disabled) ends the domain cleanly."""
    if shell_outcomes[mode] is not None:
        raise shell_outcomes[mode]


@pytest.mark.points(10)
@pytest.mark.student
@pytest.mark.slow
@pytest.mark.long
def test_linux_under_vmx_in_bochs(shell_outcomes):
    """Linux boots on the vmx backend in Bochs (64-bit entry, RDTSCP, INVPCID, XSETBV); its init
    computes from the nonce on the command line, and poweroff ends the domain cleanly."""
    if shell_outcomes["vmx"] is not None:
        raise shell_outcomes["vmx"]


@pytest.mark.slow
@pytest.mark.long
def test_bad_linux_images_refused(build, linux_files, tmp_path):
    """A truncated bzImage, an initrd that cannot fit and a kernel for another architecture are refused by name."""
    vmlinuz, initrd = linux_files
    data = vmlinuz.read_bytes()
    truncated = tmp_path / "truncated"
    truncated.write_bytes(data[:len(data) // 2])
    arm64 = tmp_path / "arm64"
    arm64.write_bytes(bytes(0x38) + b"ARM\x64" + bytes(64))  # the arm64 Image magic (arm64/booting.rst)
    big = tmp_path / "big.cpio.gz"
    big.write_bytes(bytes(20 << 20))
    modules = [
        f"{truncated} name=cut mem={GUEST_MEMORY} type=hvm mode=nested",
        f"{arm64} name=arm mem={GUEST_MEMORY} type=hvm mode=nested",
        f"{vmlinuz} name=small mem=96M type=hvm mode=nested {GUEST_ARGS}", f"{big} initrd",
    ]
    r = run_qemu(build.kernel32, "nonce=1", modules=modules, timeout=30, extra=["-m", HOST_MEMORY])
    r.expect(r"^\[hv\] domain 'cut' refused: bzImage: truncated", "the truncated bzImage refused")
    r.expect(r"^\[hv\] domain 'arm' refused: a Linux kernel for arm64", "the arm64 kernel refused")
    r.expect(r"^\[hv\] domain 'small' refused: the initrd does not fit", "the oversized initrd refused")
    r.expect(r"^\[hv\] all domains ended: 0 exited, 0 crashed, 3 refused", "nothing else happening")


@pytest.mark.points(5)
@pytest.mark.student
def test_pc_devices_read_back_as_natively(build, nonce):
    """The PIT (counters 0 and 2, port 0x61), the RTC and the UART, programmed and read back as
    Linux does: a domain under SVM must print what QEMU's own devices make the native run print."""
    native = run_native(build, "platform", f"nonce={nonce}")
    r = run_hypervisor(build, [module(build, "image", "platform", "platform", nonce, "mode=nested")], nonce,
                       timeout=30)
    expect_equivalent(r, "platform", native.lines, "nested")
    expect_exit(r, "platform", 0x10)
