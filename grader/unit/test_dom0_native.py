"""Dom0 booted natively on QEMU with its disk: the ATA driver, the FAT code and the shell, end to end.

scripts/mkdom0disk builds the disk with mtools; Dom0 (build/guests/dom0/native/dom0.elf32)
boots on QEMU with it as the IDE master, and a person's session is typed into its
console: list and read what the host put there, check a config with `xl create -n`,
write files. The host then reads what Dom0 wrote with mtools, and fsck.fat checks
the volume. Kit checks of lab 4's foundation (no points: nothing here is a student's).
"""
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

HERE = Path(__file__).resolve().parent.parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from gradelib import QEMU  # noqa: E402

DOM0 = ROOT / "build/guests/dom0/native/dom0.elf32"
PROMPT = "dom0# "

pytestmark = pytest.mark.skipif(not shutil.which("mformat"), reason="needs mtools (make deps)")


@pytest.fixture
def disk(tmp_path):
    if not DOM0.exists():
        pytest.fail(f"{DOM0} is missing: run make first")
    img = tmp_path / "disk.img"
    subprocess.run([str(ROOT / "scripts/mkdom0disk"), "--size", "64", str(img)], check=True, capture_output=True)
    return img


def boot(img, nonce, drive=True):
    cmd = [QEMU, "-machine", "pc", "-cpu", "qemu64", "-m", "64M", "-nodefaults", "-display", "none",
           "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-serial", "stdio",
           "-monitor", "none", "-kernel", str(DOM0), "-append", f"nonce={nonce}"]
    if drive:
        cmd += ["-drive", f"file={img},format=raw,if=ide,index=0"]
    return pexpect.spawn(cmd[0], cmd[1:], encoding="utf-8", codec_errors="replace", timeout=30)


def command(child, line):
    """Type @line at the prompt; what it printed before the next prompt."""
    child.sendline(line)
    child.expect(re.escape(PROMPT))
    return child.before.replace("\r\n", "\n").split("\n", 1)[1] if "\n" in child.before else ""


def mtools(*args, text=True):
    return subprocess.run(list(args), check=True, capture_output=True, text=text).stdout


def test_dom0_reads_and_writes_its_disk(disk):
    nonce = random.SystemRandom().randrange(1, 1 << 62)
    child = boot(disk, nonce)
    try:
        child.expect(rf"Hypatia Dom0 on native: nonce={nonce}")
        child.expect(r"dom0: disk 'QEMU HARDDISK', 64 MiB, FAT32")
        child.expect(re.escape(PROMPT))
        # What the host put there, as mdir sees it.
        listed = command(child, "ls /configs")
        host = {path.rsplit("/", 1)[1]: len(mtools("mtype", "-i", str(disk), path, text=False))
                for path in mtools("mdir", "-b", "-i", str(disk), "::/configs").split()}
        shown = dict((name, int(size)) for size, name in re.findall(r"^\s*(\d+)  (\S+)$", listed, re.M))
        assert shown == host and len(host) == 3, (listed, host)
        assert command(child, "cat /configs/block.cfg") == mtools("mtype", "-i", str(disk), "::/configs/block.cfg")
        out = command(child, "xl create -n /configs/block.cfg")
        assert "domain 'block': type pv, 4 MiB, 1 vCPU" in out and "disk xvda: /disks/block.img (rw)" in out
        # A file, in a new directory, named and filled from the nonce.
        name = f"run-{nonce % 100000}.txt"
        assert command(child, "mkdir /notes") == ""
        assert command(child, f"write /notes/{name} nonce {nonce} from dom0") == ""
        assert "no such file" in command(child, "cat /nowhere.cfg")
        assert "no such command" in command(child, "frobnicate")
        child.sendline("poweroff")
        child.expect("RESULT: PASS")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert mtools("mtype", "-i", str(disk), f"::/notes/{name}") == f"nonce {nonce} from dom0\n"
    fsck = subprocess.run(["fsck.fat", "-n", str(disk)], capture_output=True, text=True)
    assert fsck.returncode == 0, fsck.stdout


def test_a_bad_config_is_refused_by_line_and_key(disk, tmp_path):
    bad = tmp_path / "bad.cfg"
    bad.write_text('name = "x"\nkernel = "/guests/hello-pv.elf"\nmemory = "lots"\n')
    mtools("mcopy", "-i", str(disk), str(bad), "::/configs/bad.cfg")
    child = boot(disk, 1)
    try:
        child.expect(re.escape(PROMPT))
        out = command(child, "xl create -n /configs/bad.cfg")
        assert "xl create: /configs/bad.cfg:3: key 'memory': memory is a number of MiB" in out, out
        assert "usage: xl create [-n] [-p] [-v] FILE" in command(child, "xl create")
        child.sendline("poweroff")
        child.expect("RESULT: PASS")
    finally:
        child.close(force=True)


def test_without_a_disk_dom0_says_so(tmp_path):
    if not DOM0.exists():
        pytest.fail(f"{DOM0} is missing: run make first")
    child = boot(None, 1, drive=False)
    try:
        child.expect("dom0: no ATA disk on the primary channel")
        child.expect(re.escape(PROMPT))
        assert "no disk with a FAT filesystem" in command(child, "ls")
        child.sendline("poweroff")
        child.expect("RESULT: PASS")
    finally:
        child.close(force=True)
