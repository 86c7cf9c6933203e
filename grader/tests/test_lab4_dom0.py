"""Lab 4: Dom0 as domain 0 and its toolstack — `xl create`, `xl list`, `xl destroy`.

One boot of the hypervisor (SVM, nested paging) with Dom0 as domain 0 (the module
marked `dom0`) and its disk (scripts/mkdom0disk, QEMU's IDE disk, passed through to
Dom0). The disk gets this run's configs (their guests fold the nonce into what they
print) and a script, which Dom0 runs (its `script=` option) as if typed: create a PV
and an HVM DomU, one paused; list; destroy one; unpause the other; try bad configs;
create a DomU that attacks (domctl, foreign mapping, ...); list again; power off.
Each test judges the part of the transcript after its command's prompt.

Every DomU needs the builder's step students write (guests/dom0/xl_build_load.c,
xl_load_segments): without it `xl create` refuses and destroys the half-made domain.
The checks of bad configs and of the attacker need it too (and labs 1-3): they are
marked student but worth nothing, since what they check is the kit's.
"""
import re
import shutil
import subprocess

import pytest

from gradelib import fnv1a64, run_bochs, run_qemu

pytestmark = pytest.mark.handout("labs/lab4/README.md")

LIST_HEADER = "Name                                        ID   Mem VCPUs\tState\tTime(s)"
# tools/xl/xl_info.c: shutdown reasons poweroff reboot suspend crash watchdog soft_reset.
SHUTDOWN_LETTERS = "-rscwS"
TEST_EXIT_CODE = 0x10  # a test guest's PASS, carried in SCHEDOP_shutdown's reason (docs/hypercalls.md)
EPERM, ESRCH = -1, -3
DOM0_MEMORY_MIB = 32


def list_row(name, domid, mem_mib, vcpus, state):
    """A row of `xl list` as Xen prints it: "%-40s %5d %5lu %5d     %c%c%c%c%c%c  %8.1f" (time: any)."""
    return re.escape(f"{name:<40} {domid:5d} {mem_mib:5d} {vcpus:5d}     {state}  ") + r"[ \d]{5}\d\.\d"


def state(running=False, blocked=False, paused=False, shutdown_reason=None, dying=False):
    """xl list's six state letters, from what getdomaininfo says."""
    reason = "-"
    if shutdown_reason is not None:
        reason = SHUTDOWN_LETTERS[shutdown_reason] if shutdown_reason < len(SHUTDOWN_LETTERS) - 1 else "?"
    return ("r" if running else "-") + ("b" if blocked else "-") + ("p" if paused else "-") + \
        ("s" if shutdown_reason is not None else "-") + reason + ("d" if dying else "-")


def hello_line(platform, nonce):
    return f"hello from {platform}: nonce={nonce} fnv={fnv1a64(str(nonce).encode()):016x}"


def config(name, kind, kernel, nonce, memory=4, extra=""):
    return f'name = "{name}"\ntype = "{kind}"\nmemory = {memory}\nkernel = "{kernel}"\ncmdline = "nonce={nonce}"\n{extra}'


BAD_CONFIGS = {
    # file: (text, what xl create must say)
    "bad-noname.cfg": ('type = "pv"\nkernel = "/guests/hello-pv.elf"\n', r"name"),
    "bad-key.cfg": ('name = "bad-key"\nkernal = "/guests/hello-pv.elf"\n', r"kernal"),
    "bad-missing.cfg": ('name = "bad-missing"\nkernel = "/guests/nothing.elf"\n', r"nothing\.elf"),
    "bad-notkernel.cfg": ('name = "bad-notkernel"\nmemory = 4\nkernel = "/README.TXT"\n', r"not an ELF file"),
    "bad-huge.cfg": ('name = "bad-huge"\nmemory = 200\nkernel = "/guests/hello-pv.elf"\n',
                     r"out of host memory"),
    "bad-dup.cfg": ('name = "t-hvm"\nmemory = 4\nkernel = "/guests/hello-pv.elf"\n', r"exists already"),
}


class Session:
    """The shared boot: its run, and Dom0's transcript cut at each prompt."""

    def __init__(self, run, nonces):
        self.run, self.nonces = run, nonces
        self.sections = []  # (command, [lines after it, up to the next prompt])
        for line in run.lines:
            m = re.match(r"^\[d0\] dom0# (.*)$", line)
            if m:
                self.sections.append((m.group(1), []))
            elif self.sections:
                self.sections[-1][1].append(line)

    def after(self, command, nth=0):
        """The lines after the @nth prompt that ran @command."""
        found = [lines for c, lines in self.sections if c == command]
        if len(found) <= nth:
            self.run.fail(f"Dom0 never ran `{command}` (its prompt 'dom0# {command}' is missing)")
        return found[nth]

    def expect_in(self, command, pattern, what, nth=0):
        lines = self.after(command, nth)
        for line in lines:
            m = re.search(pattern, line)
            if m:
                return m
        quoted = "\n".join("        | " + line for line in lines[:30]) or "        (nothing)"
        self.run.fail(f"after `{command}`, expected {what};\n      what followed it:\n{quoted}")

    def created_id(self, command):
        """The domain id `xl create` reported ("xl create: 'NAME' is dN ...")."""
        m = self.expect_in(command, r"^\[d0\] xl create: '[^']+' is d(\d+) ", "xl create to report the new domain's id")
        return int(m.group(1))


SCRIPT = [
    "xl list",
    "xl create /configs/t-pv.cfg",
    "xl create /configs/t-hvm.cfg",
    "xl create -p /configs/t-paused.cfg",
    "xl list",
    "xl destroy t-pv",
    "xl list",
    "xl unpause t-paused",
    *[f"xl create /configs/{name}" for name in BAD_CONFIGS],
    "xl create /configs/t-attack.cfg",
    "xl list",
    "poweroff",
]


def make_disk(build, work, files):
    """Dom0's disk for this run: mkdom0disk's, with @files ({name: text}) added to /configs."""
    disk = work / "disk.img"
    made = subprocess.run(["/usr/bin/python3", "scripts/mkdom0disk", "--size", "64", str(disk)],
                          capture_output=True, text=True, cwd=build.guests.parent.parent)
    if made.returncode:
        pytest.fail(f"scripts/mkdom0disk failed: {made.stderr or made.stdout}")
    for name, text in files.items():
        (work / name).write_text(text)
        subprocess.run(["mcopy", "-i", str(disk), str(work / name), f"::/configs/{name}"], check=True)
    return disk


@pytest.fixture(scope="module")
def session(build, module_nonce, tmp_path_factory):
    work = tmp_path_factory.mktemp("dom0")
    nonces = {"t-pv": module_nonce, "t-hvm": module_nonce ^ 0x5a5a5a5a, "t-paused": module_nonce + 7,
              "t-attack": module_nonce * 3 % (1 << 62)}
    files = {
        "t-pv.cfg": config("t-pv", "pv", "/guests/hello-pv.elf", nonces["t-pv"]),
        "t-hvm.cfg": config("t-hvm", "hvm", "/guests/hello-hvm.elf", nonces["t-hvm"]),
        "t-paused.cfg": config("t-paused", "pv", "/guests/hello-pv.elf", nonces["t-paused"]),
        "t-attack.cfg": config("t-attack", "pv", "/guests/attack-pv.elf", nonces["t-attack"]),
        **{name: text for name, (text, _) in BAD_CONFIGS.items()},
    }
    disk = make_disk(build, work, files)
    (work / "test.sh").write_text("\n".join(SCRIPT) + "\n")
    subprocess.run(["mcopy", "-i", str(disk), str(work / "test.sh"), "::/test.sh"], check=True)
    dom0 = build.dir / "guests/dom0.elf"
    run = run_qemu(build.kernel32, f"nonce={module_nonce}",
                   modules=[f"{dom0} name=Domain-0 dom0 mem={DOM0_MEMORY_MIB}M nonce={module_nonce} script=/test.sh"],
                   timeout=60, extra=("-drive", f"file={disk},format=raw,if=ide,index=0"))
    yield Session(run, nonces)
    shutil.rmtree(work, ignore_errors=True)


def expect_domain_output(s, command, name, platform):
    domid = s.created_id(command)
    s.expect_in(command, rf"^\[hv\] d{domid} created by Dom0: ", f"the hypervisor's line 'd{domid} created by Dom0'")
    want = hello_line(platform, s.nonces[name])
    s.expect_in(command, rf"^\[d{domid}\] {re.escape(want)}$", f"'[d{domid}] {want}' (FNV-1a of the decimal nonce)")
    s.expect_in(command, rf"^\[d{domid}\] RESULT: PASS$", f"'[d{domid}] RESULT: PASS'")
    return domid


@pytest.mark.points(10)
@pytest.mark.student
def test_create_pv(session):
    """xl create of a PV DomU: built by Dom0, it runs and prints its nonce line."""
    session.run.expect(r"^\[d0\] dom0: disk ", "Dom0's line about its disk (passed-through ATA ports)")
    expect_domain_output(session, "xl create /configs/t-pv.cfg", "t-pv", "pv")


@pytest.mark.points(10)
@pytest.mark.student
def test_create_hvm(session):
    """xl create of an HVM DomU (nested paging)."""
    expect_domain_output(session, "xl create /configs/t-hvm.cfg", "t-hvm", "image")


@pytest.mark.points(10)
@pytest.mark.student
def test_list(session):
    """xl list: Xen's header, Domain-0 first, a row per domain in Xen's format and state letters."""
    s = session
    first = s.after("xl list", 0)
    if not first or first[0] != f"[d0] {LIST_HEADER}":
        s.run.fail(f"xl list should start with Xen's header {LIST_HEADER!r}; it printed {first[:1]}")
    if len(first) < 2 or not first[1].startswith("[d0] " + f"{'Domain-0':<40} {0:5d} "):
        s.run.fail(f"xl list's first row should be Domain-0's, id 0; it printed {first[1:2]}")
    pv, hvm, paused = (s.created_id(f"xl create {c}") for c in
                       ("/configs/t-pv.cfg", "/configs/t-hvm.cfg", "-p /configs/t-paused.cfg"))
    rows = s.after("xl list", 1)
    if len(rows) < 2 or rows[0] != f"[d0] {LIST_HEADER}" or not rows[1].startswith("[d0] Domain-0 "):
        s.run.fail(f"the second xl list should print the header, then Domain-0 first; it printed {rows[:2]}")
    dom0_row = r"^\[d0\] " + re.escape(f"{'Domain-0':<40} {0:5d} ") + r"[ \d]{4}\d " + \
        re.escape(f"{1:5d}     {state(running=True)}  ") + r"[ \d]{5}\d\.\d$"
    s.expect_in("xl list", dom0_row, "Domain-0's row: running (r), 1 vCPU", nth=1)
    for name, domid, st in (("t-pv", pv, state(shutdown_reason=TEST_EXIT_CODE)),
                            ("t-hvm", hvm, state(shutdown_reason=TEST_EXIT_CODE)),
                            ("t-paused", paused, state(paused=True))):
        s.expect_in("xl list", rf"^\[d0\] {list_row(name, domid, 4, 1, st)}$",
                    f"the row of {name}: id {domid}, 4 MiB, 1 vCPU, state {st!r}", nth=1)


@pytest.mark.points(5)
@pytest.mark.student
def test_destroy_and_unpause(session):
    """xl destroy ends a domain (gone from xl list); a paused one runs only after xl unpause."""
    s = session
    pv = s.created_id("xl create /configs/t-pv.cfg")
    paused = s.created_id("xl create -p /configs/t-paused.cfg")
    s.expect_in("xl destroy t-pv", rf"^\[hv\] d{pv} destroyed by Dom0\b", f"'[hv] d{pv} destroyed by Dom0'")
    if any(re.search(r"\bt-pv\b", line) for line in s.after("xl list", 2)):
        s.run.fail("after xl destroy t-pv, xl list still shows it")
    commands = [c for c, _ in s.sections]
    unpause = commands.index("xl unpause t-paused") if "xl unpause t-paused" in commands else len(commands)
    before = [line for _, lines in s.sections[:unpause] for line in lines if line.startswith(f"[d{paused}] ")]
    if before:
        s.run.fail(f"t-paused (d{paused}) printed before xl unpause: {before[0]!r}")
    want = hello_line("pv", s.nonces["t-paused"])
    s.expect_in("xl unpause t-paused", rf"^\[d{paused}\] {re.escape(want)}$", f"'[d{paused}] {want}' after unpause")


@pytest.mark.points(0)
@pytest.mark.student
def test_bad_configs_refused(session):
    """Bad configs and kernels: xl says what is wrong, and no domain is left (the last xl list)."""
    s = session
    for name, (_, said) in BAD_CONFIGS.items():
        s.expect_in(f"xl create /configs/{name}", rf"^\[d0\] xl create: .*{said}", f"xl create to say '{said}'")
    s.expect_in("xl create /configs/bad-huge.cfg", r"^\[hv\] d(\d+) destroyed by Dom0\b",
                "the half-built domain destroyed")
    rows = [line for line in s.after("xl list", 3) if line.startswith("[d0] bad-")]
    if rows:
        s.run.fail(f"a refused config left a domain: {rows[0]!r}")


@pytest.mark.points(0)
@pytest.mark.student
def test_domu_cannot_act_as_dom0(session):
    """A DomU trying domctl, foreign mapping, populate, CONSOLEIO_read: Xen's errors, nothing changed."""
    s = session
    command = "xl create /configs/t-attack.cfg"
    domid = s.created_id(command)
    nonce = s.nonces["t-attack"]
    missing = 1000 + nonce % 1000
    gfn = 1 + nonce % 64
    want = [f"attack: nonce={nonce}, missing domain {missing}", f"attack createdomain: {EPERM}",
            f"attack pausedomain d0: {EPERM}", f"attack destroydomain d0: {EPERM}", f"attack max_mem d0: {EPERM}",
            f"attack getdomaininfo self: {EPERM}", f"attack populate_physmap d0: {EPERM}",
            f"attack populate_physmap d{missing}: {ESRCH}", f"attack map d0 page 0x{gfn:x}: {EPERM}",
            "attack own page kept: yes", f"attack remove_from_physmap d0: {EPERM}", f"attack console read: {EPERM}",
            "RESULT: PASS"]
    for line in want:
        s.expect_in(command, rf"^\[d{domid}\] {re.escape(line)}$", f"'[d{domid}] {line}'")
    rows = s.after("xl list", 3)
    s.expect_in("xl list", r"^\[d0\] Domain-0 +0 .* r-----  ", "Domain-0 still running after the attack", nth=3)
    names = sorted(line.split()[1] for line in rows if line.startswith("[d0] ") and line != f"[d0] {LIST_HEADER}")
    if names != sorted(["Domain-0", "t-hvm", "t-paused", "t-attack"]):
        s.run.fail(f"after the attack xl list should show Domain-0, t-hvm, t-paused, t-attack; it shows {names}")
    s.run.reject(r"^\[hv\] .*panic", "no hypervisor panic")


@pytest.mark.points(5)
@pytest.mark.student
@pytest.mark.slow
def test_dom0_under_vmx(build, nonce, tmp_path):
    """The same under Intel VMX + EPT (Bochs): Dom0's I/O bitmaps pass its disk through; a PV and an HVM DomU."""
    nonces = {"v-pv": nonce, "v-hvm": nonce ^ 0x3c3c3c3c}
    disk = make_disk(build, tmp_path, {"v-pv.cfg": config("v-pv", "pv", "/guests/hello-pv.elf", nonces["v-pv"]),
                                       "v-hvm.cfg": config("v-hvm", "hvm", "/guests/hello-hvm.elf",
                                                           nonces["v-hvm"])})
    script = "xl+create+/configs/v-pv.cfg;xl+create+/configs/v-hvm.cfg;xl+list;poweroff"
    run = run_bochs(build.kernel, f"nonce={nonce}", timeout=120, disk=disk,
                    modules=[f"{build.dir / 'guests/dom0.elf'} name=Domain-0 dom0 mem={DOM0_MEMORY_MIB}M "
                             f"nonce={nonce} run={script}"])
    s = Session(run, nonces)
    run.expect(r"^\[hv\] d0 'Domain-0' created: .* mode vmx", "Dom0 on the vmx backend")
    # A DomU's lines may come before Dom0 ends its own (a tick can end Dom0's slice mid-line):
    # they are looked for in the whole run.
    for name, platform in (("v-pv", "pv"), ("v-hvm", "image")):
        domid = s.created_id(f"xl create /configs/{name}.cfg")
        want = hello_line(platform, nonces[name])
        run.expect(rf"^\[d{domid}\] {re.escape(want)}$", f"'[d{domid}] {want}'")
