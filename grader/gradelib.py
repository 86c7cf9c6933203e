"""gradelib — run the hypervisor (or a native guest) in QEMU or Bochs and judge the run.

Every run has a timeout and an output cap, so a kernel that hangs, floods the
console or triple-faults costs one test, never the grader. A run's status says
how it ended, in the words of docs/exit-codes.md:

    success        the kernel wrote exit code 0x10   (QEMU status 33)
    failure        exit code 0x11: a test ran and found a wrong result
    panic          exit code 0x12: the kernel crashed (a dump is in the output)
    error          exit code 0x13: the test could not run (bad setup or input)
    triple-fault   QEMU stopped with status 0: the CPU reset (-no-reboot)
    timeout        no exit within the time limit: a hang
    flood          more output than the cap allows
    crash          the emulator itself failed (bad arguments, missing file)

`Run.expect()` is how tests check output: on a mismatch it raises an
AssertionError that says what was expected, what the run did instead, and
quotes the last lines of output.
"""
import bisect
import json
import os
import re
import select
import shlex
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QEMU = "qemu-system-x86_64"
QEMU_CPU = "qemu64,+svm,+npt,+umip"
QEMU_MEMORY = "128M"
OUTPUT_CAP = 512 * 1024
QUOTE_LINES = 25

QEMU_STATUS = {33: "success", 35: "failure", 37: "panic", 39: "error", 0: "triple-fault"}
EXIT_LINE = re.compile(r"^\[hv\] exit: (success|failure|panic|error)\b", re.M)
RESULT_LINE = re.compile(r"^RESULT: (PASS|FAIL|ERROR|SKIP)\b", re.M)
RESULT_STATUS = {"PASS": "success", "SKIP": "success", "FAIL": "failure", "ERROR": "error"}


class Run:
    """The outcome of one boot: the serial output and how the run ended."""

    def __init__(self, command, output, status, exit_code, duration, stderr=""):
        self.command = command
        self.output = output
        self.lines = output.splitlines()
        self.status = status
        self.exit_code = exit_code
        self.duration = duration
        self.stderr = stderr
        self.where = ""          # for a hang: where the CPU was when it was stopped

    def tail(self, n=QUOTE_LINES):
        """The last @n lines of output, indented, for error messages."""
        lines = self.lines[-n:] if self.lines else ["(no output at all)"]
        return "\n".join("    | " + line for line in lines)

    def describe(self):
        how = {
            "timeout": "the run did not end within its time limit (a hang?: the limit counts the emulator's "
                       "CPU time)",
            "flood": "the run printed more than the output cap (an endless loop printing?)",
            "triple-fault": "the CPU reset: a triple fault (an exception the kernel could not handle at all)",
            "crash": "the emulator could not run the kernel",
        }.get(self.status, f"the run ended with status '{self.status}'")
        text = f"{how} after {self.duration:.1f} s"
        if self.where:
            text += f"\n  {self.where}"
        if self.stderr.strip():
            text += "\n  emulator said: " + self.stderr.strip().splitlines()[-1]
        return text

    def fail(self, message):
        """Raise an AssertionError about this run, quoting its output."""
        raise AssertionError(f"{message}\n  {self.describe()}\n  last lines of output:\n{self.tail()}\n"
                             f"  reproduce: {self.reproduce()}")

    def reproduce(self):
        return " ".join(shlex.quote(c) for c in self.command)

    def expect(self, pattern, what=None, flags=re.M):
        """Return the first match of regex @pattern in the output, or fail saying @what was missing."""
        m = re.search(pattern, self.output, flags)
        if not m:
            self.fail(f"expected {what or 'a line matching /' + pattern + '/'}, but it never appeared")
        return m

    def expect_all(self, pattern, what=None, flags=re.M):
        """All matches of @pattern (at least one)."""
        found = list(re.finditer(pattern, self.output, flags))
        if not found:
            self.fail(f"expected {what or 'lines matching /' + pattern + '/'}, but none appeared")
        return found

    def reject(self, pattern, what=None, flags=re.M):
        """Fail if @pattern appears."""
        m = re.search(pattern, self.output, flags)
        if m:
            self.fail(f"did not expect {what or 'this'}, but saw: {m.group(0)!r}")

    def expect_status(self, *statuses):
        """Fail unless the run ended in one of @statuses."""
        if self.status not in statuses:
            self.fail(f"expected the run to end with {' or '.join(statuses)}")


# A run's time limit is counted in the emulator's own CPU time: it exists to catch hangs,
# and on a loaded machine an emulator that gets a sixth of a core needs six times the
# wall time for the same work (with -icount, the very same work). A kernel that hangs
# spins, so its CPU time runs out as fast as on an idle machine. What does not spin — an
# emulator halted for good — is caught by the wall-clock cap, WALL_LIMIT_FACTOR times
# the limit.
WALL_LIMIT_FACTOR = 6
_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """User + system CPU time of process @pid (all its threads) so far; None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS
    except (OSError, ValueError, IndexError):
        return None


def _collect(proc, timeout, cap, on_timeout=None):
    """Read a process's stdout until it exits, times out or passes the cap.

    @timeout is in CPU seconds of @proc (see WALL_LIMIT_FACTOR). @on_timeout is
    called, with the process still running, before a hang is killed."""
    chunks, size, status = [], 0, None
    start = time.monotonic()
    fd = proc.stdout.fileno()
    while True:
        used = cpu_seconds(proc.pid)
        wall = time.monotonic() - start
        left = min(timeout - (used if used is not None else wall), timeout * WALL_LIMIT_FACTOR - wall)
        if left <= 0:
            status = "timeout"
            if on_timeout:
                on_timeout()
            break
        ready, _, _ = select.select([fd], [], [], min(max(left, 0.01), 0.25))
        if ready:
            data = os.read(fd, 65536)
            if not data:
                break
            chunks.append(data)
            size += len(data)
            if size > cap:
                status = "flood"
                break
        elif proc.poll() is not None:
            # Drain what is left after the process ended.
            rest = proc.stdout.read()
            if rest:
                chunks.append(rest)
            break
    if status:
        _kill(proc)
    else:
        proc.wait()
    output = b"".join(chunks)[:cap].decode("utf-8", "replace").replace("\r\n", "\n")
    return output, status


def _kill(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


# The grader runs QEMU on a clock that host load cannot move (docs/grading.md, "Same
# work, same score"): under -icount every guest-visible time source (TSC, PIT, RTC
# with clock=vm, the hypervisor's own tick) advances with the instructions executed,
# so a busy machine makes a run slower, never different. shift=3 is 8 ns of virtual
# time per instruction (125 MHz): about TCG's own speed, so guests that wait for
# ticks do not wait longer in wall time than they would without it. The benchmark
# passes icount=True for shift=0 (one instruction = one nanosecond = one TSC cycle).
GRADER_ICOUNT = "shift=3,align=off,sleep=off"
BENCH_ICOUNT = "shift=0,align=off,sleep=off"


def grader_icount():
    """The -icount setting grader runs use: HYPATIA_ICOUNT=off turns it off, any other value replaces it."""
    value = os.environ.get("HYPATIA_ICOUNT", GRADER_ICOUNT)
    return None if value in ("", "0", "off") else value


def qemu_command(kernel, cmdline="", modules=(), icount=None, extra=()):
    """The QEMU command line for booting @kernel (an ELF32 multiboot image).

    @icount: None for the grader's clock (grader_icount()), True for the benchmark's
    (one instruction per nanosecond), False for real time (interactive runs)."""
    cmd = [QEMU, "-machine", "pc", "-cpu", QEMU_CPU, "-m", QEMU_MEMORY, "-nodefaults", "-display", "none",
           "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-serial", "stdio",
           "-monitor", "none", "-kernel", str(kernel), "-append", cmdline]
    if modules:
        # -initrd "file args,file args": a comma inside a module's arguments would be doubled.
        cmd += ["-initrd", ",".join(str(m).replace(",", ",,") for m in modules)]
    setting = BENCH_ICOUNT if icount is True else (grader_icount() if icount is None else None)
    if setting:
        cmd += ["-icount", setting, "-rtc", "clock=vm"]
    return cmd + list(extra)


def _where_it_hung(qmp_path, kernel):
    """Ask a still-running QEMU where its CPU is (QMP 'info registers'); a sentence, or ''.

    A hang is the hardest failure to read from a log: its last line says what
    happened before, not where the CPU went round. The hypervisor's own addresses
    are named from its ELF symbols (nm), not from the kernel's own table."""
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(2)
            s.connect(str(qmp_path))
            f = s.makefile("rw")
            f.readline()                                           # the greeting
            for command in ({"execute": "qmp_capabilities"},
                            {"execute": "human-monitor-command", "arguments": {"command-line": "info registers"}}):
                f.write(json.dumps(command) + "\n")
                f.flush()
                while True:
                    answer = json.loads(f.readline())
                    if "return" in answer or "error" in answer:
                        break
            text = answer.get("return", "")
    except (OSError, ValueError):
        return ""
    m = re.search(r"RIP=([0-9a-f]{16})", text)
    if not m:
        return ""
    rip = int(m.group(1), 16)
    return f"when it was stopped, the CPU was at {rip:016x} {describe_address(kernel, rip)}"


def run_qemu(kernel, cmdline="", modules=(), timeout=20, cap=OUTPUT_CAP, icount=None, extra=()):
    """Boot @kernel in QEMU and return a Run. Never raises for a misbehaving kernel."""
    kernel = Path(kernel)
    with tempfile.TemporaryDirectory(prefix="hypatia-qemu-") as work:
        qmp = Path(work) / "qmp"
        cmd = qemu_command(kernel, cmdline, modules, icount, extra)
        if not kernel.exists():
            return Run(cmd, "", "crash", None, 0.0, f"kernel {kernel} does not exist: was it built?")
        start = time.monotonic()
        with tempfile.TemporaryFile() as err:
            try:
                proc = subprocess.Popen(cmd + ["-qmp", f"unix:{qmp},server=on,wait=off"], stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=err, start_new_session=True)
            except FileNotFoundError:
                return Run(cmd, "", "crash", None, 0.0, f"{QEMU} is not installed: run make deps")
            where = []
            output, status = _collect(proc, timeout, cap, on_timeout=lambda: where.append(_where_it_hung(qmp, kernel)))
            err.seek(0)
            stderr = err.read().decode("utf-8", "replace")
    duration = time.monotonic() - start
    if status is None:
        status = QEMU_STATUS.get(proc.returncode, "crash")
    run = Run(cmd, output, status, proc.returncode, duration, stderr)
    run.where = where[0] if where else ""
    return run


# --- naming the hypervisor's addresses, independently of its own symbol table -------------

_SYMBOLS = {}


def kernel_symbols(kernel):
    """The hypervisor's function table as scripts/gen-ksyms builds it, read here from nm.

    Returns (sorted [(address, name)], text_start, text_end) of the ELF64 beside
    @kernel: code symbols (t/T) but the assembler's .L labels and ksym_*, sorted by
    address then name — the table kernel/lib/ksym_lookup.c searches, rebuilt
    independently so that the grader can judge that search."""
    elf = Path(kernel)
    if elf.name.endswith("32.elf"):
        elf = elf.with_name(elf.name.replace("32.elf", ".elf"))
    if elf not in _SYMBOLS:
        try:
            out = subprocess.run(["nm", "-n", "--defined-only", str(elf)], capture_output=True, text=True,
                                 timeout=30).stdout
        except (OSError, subprocess.TimeoutExpired):
            out = ""
        table, bounds = [], {}
        for line in out.splitlines():
            parts = line.split()
            if len(parts) != 3:
                continue
            address, kind, name = int(parts[0], 16), parts[1], parts[2]
            if name in ("kernel_text_start", "kernel_text_end"):
                bounds[name] = address
            if kind in "tT" and not name.startswith((".L", "ksym_")):
                table.append((address, name))
        _SYMBOLS[elf] = (sorted(table), bounds.get("kernel_text_start", 0), bounds.get("kernel_text_end", 0))
    return _SYMBOLS[elf]


def symbolize(kernel, address):
    """(name, offset) of the hypervisor function holding @address, or None outside its code."""
    table, start, end = kernel_symbols(kernel)
    if not start <= address < end:
        return None
    i = bisect.bisect_right(table, (address, "\U0010ffff"))   # the last entry whose address <= @address
    if i == 0:
        return None
    base, name = table[i - 1]
    return name, address - base


def describe_address(kernel, address):
    found = symbolize(kernel, address)
    if found:
        return f"<{found[0]}+0x{found[1]:x}> in the hypervisor"
    return "(not in the hypervisor's code: in a guest, or in the boot code)"


def kvm_vmx_available(cpuinfo="/proc/cpuinfo", kvm="/dev/kvm",
                      nested="/sys/module/kvm_intel/parameters/nested"):
    """Can QEMU run the VMX backend with KVM (an Intel host whose KVM offers nested VMX)?

    TCG emulates no VMX (DESIGN §2), so the VMX tests run in Bochs; on a student's
    Intel machine with nested KVM, QEMU runs them in a fraction of the time. Never
    required: HYPATIA_VMX=bochs forces Bochs, and anything missing means Bochs.
    """
    if os.environ.get("HYPATIA_VMX", "auto") == "bochs":
        return False
    try:
        has_vmx = re.search(r"^flags\s*:.*\bvmx\b", Path(cpuinfo).read_text(), re.M) is not None
        nested_on = Path(nested).read_text().strip() in ("Y", "1")
    except OSError:
        return False
    return has_vmx and nested_on and os.access(kvm, os.R_OK | os.W_OK)


def run_qemu_kvm(kernel, cmdline="", modules=(), timeout=20, cap=OUTPUT_CAP):
    """Boot @kernel in QEMU with KVM and the host's CPU (VT-x passed through): see kvm_vmx_available()."""
    return run_qemu(kernel, cmdline, modules, timeout, cap, extra=("-accel", "kvm", "-cpu", "host"))


def run_bochs(kernel, cmdline="", modules=(), timeout=90, cap=OUTPUT_CAP, cpu=None, megs=None, disk=None):
    """Boot @kernel (ELF64) in Bochs through scripts/bochs-run; the status comes from the log's exit line.

    @disk: a raw image as the primary ATA master (Dom0's disk, lab 4)."""
    with tempfile.TemporaryDirectory(prefix="hypatia-bochs-") as work:
        serial = Path(work) / "serial.log"
        cmd = [str(ROOT / "scripts/bochs-run"), "--kernel", str(kernel), "--cmdline", cmdline,
               "--serial", str(serial), "--timeout", str(timeout), "--workdir", work]
        for m in modules:
            cmd += ["--module", str(m)]
        if cpu:
            cmd += ["--cpu", cpu]
        if megs:
            cmd += ["--megs", str(megs)]
        if disk:
            cmd += ["--disk", str(disk)]
        start = time.monotonic()
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=timeout * WALL_LIMIT_FACTOR + 30)
        duration = time.monotonic() - start
        raw = serial.read_bytes() if serial.exists() else b""
    output = raw[:cap].decode("utf-8", "replace").replace("\r\n", "\n")
    stderr = proc.stderr.decode("utf-8", "replace")
    if len(raw) > cap:
        status = "flood"
    elif proc.returncode == 124:
        status = "timeout"
    elif "bochs-run: triple fault" in stderr:
        status = "triple-fault"
    else:
        status = _status_from_log(output) or "crash"
    return Run(cmd, output, status, proc.returncode, duration, stderr)


def _status_from_log(output):
    """Bochs has no exit-status device: read the kernel's own last word."""
    m = list(EXIT_LINE.finditer(output))
    if m:
        return m[-1].group(1)
    m = list(RESULT_LINE.finditer(output))
    if m:
        return RESULT_STATUS[m[-1].group(1)]
    return None


def free_tcp_port():
    """A TCP port nobody listens on right now (for QEMU's GDB stub)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_gdb_session(kernel32, kernel_elf, cmdline, gdb_commands, timeout=60, modules=()):
    """Boot @kernel32 stopped under QEMU's GDB stub and run batch GDB with @gdb_commands.

    Returns (gdb_output, qemu_run). The kernel's symbols come from @kernel_elf;
    @modules are multiboot modules ("file args"), as for run_qemu().
    """
    port = free_tcp_port()
    qemu = qemu_command(kernel32, cmdline, modules, extra=["-S", "-gdb", f"tcp:127.0.0.1:{port}"])
    serial_log = tempfile.TemporaryFile()
    proc = subprocess.Popen(qemu, stdin=subprocess.DEVNULL, stdout=serial_log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        gdb = ["gdb", "-q", "-n", "-batch", "-ex", "set confirm off", "-ex", "set pagination off",
               "-ex", "set architecture i386:x86-64", "-ex", f"file {kernel_elf}",
               "-ex", f"target remote 127.0.0.1:{port}"]
        for c in gdb_commands:
            gdb += ["-ex", c]
        for _ in range(50):  # QEMU needs a moment to open its port
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        try:
            out = subprocess.run(gdb, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
            text = out.stdout.decode("utf-8", "replace") + out.stderr.decode("utf-8", "replace")
        except subprocess.TimeoutExpired:
            text = "gdb-timeout"
    finally:
        _kill(proc)
        serial_log.seek(0)
        serial = serial_log.read().decode("utf-8", "replace")
        serial_log.close()
    return text, Run(qemu, serial, "gdb", proc.returncode, 0.0)


# --- independent reimplementations of what kernels compute from the nonce -----------------

MASK64 = (1 << 64) - 1


def splitmix64_sequence(seed, count):
    """The first @count outputs of SplitMix64 seeded with @seed (Steele, Lea, Flood 2014)."""
    out, state = [], seed & MASK64
    for _ in range(count):
        state = (state + 0x9E3779B97F4A7C15) & MASK64
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        out.append(z ^ (z >> 31))
    return out


def fnv1a64(data):
    """64-bit FNV-1a of @data (bytes)."""
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & MASK64
    return h
