"""Hosts on one wire: Dom0's NE2000 driver and the link protocol, three hosts through scripts/net-hub.

Three native Dom0s (scripts/cluster, each its own disk and MAC) share one wire. A message
made from a random nonce goes from host 1 to host 3 and only there, then one from host 2
to host 3 (each pair of hosts numbers its own frames); a file goes from
host 2 to host 1 while host 1 ignores every third frame it receives, so it only arrives
whole if the protocol retransmits; the host then compares the copy with the original
using mtools. Kit checks of lab 6's foundation (no points).
"""
import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent

pytestmark = pytest.mark.skipif(not shutil.which("mformat"), reason="needs mtools (make deps)")


def test_three_hosts_message_and_file_with_loss(tmp_path):
    dom0 = ROOT / "build/guests/dom0/native/dom0.elf32"
    if not dom0.exists():
        pytest.fail(f"{dom0} is missing: run make first")
    disk = tmp_path / "disk.img"
    subprocess.run([str(ROOT / "scripts/mkdom0disk"), "--size", "64", str(disk)], check=True, capture_output=True)
    nonce = random.SystemRandom().randrange(1, 1 << 62)
    words = f"nonce {nonce} says hello"
    script = tmp_path / "script"
    script.write_text(f"""3 net recv 20
2 net recv 3
1 net send 52:54:00:00:00:03 {words}
1 net drop 3
1 net recvfile /from-two.elf
wait 0.3
2 net sendfile 52:54:00:00:00:01 /guests/primes-hvm.elf
3 net recv 20
2 net send 52:54:00:00:00:03 and from two
all net
quit
""")
    proc = subprocess.run([str(ROOT / "scripts/cluster"), "--hosts", "3", "--disk", str(disk),
                           "--work", str(tmp_path / "cluster"), "--script", str(script)],
                          capture_output=True, text=True, timeout=240)
    out = proc.stdout
    assert proc.returncode == 0, out[-3000:] + proc.stderr
    assert f"host3| net recv: from 52:54:00:00:00:01: {words}" in out, out[-3000:]
    assert "host2| net recv: nothing came" in out                      # not addressed to host 2
    # Host 3 heard from host 1 already; host 2 numbers its own frames from 0 (per-peer sequences).
    assert "host3| net recv: from 52:54:00:00:00:02: and from two" in out, out[-3000:]
    m = re.search(r"host2\| net sendfile: /guests/primes-hvm.elf, (\d+) bytes, fnv ([0-9a-f]{16}), (\d+) frames "
                  r"sent again", out)
    assert m, out[-3000:]
    assert int(m.group(3)) > 0                                          # the loss was real, and survived
    assert re.search(rf"host1\| net recvfile: /from-two.elf, {m.group(1)} bytes, fnv {m.group(2)}, "
                     r"from 52:54:00:00:00:02", out), out[-3000:]
    assert re.search(r"host1\| net: card 52:54:00:00:00:01, .* dropped on purpose [1-9]", out)
    original = subprocess.run(["mtype", "-i", str(disk), "::/guests/primes-hvm.elf"], capture_output=True).stdout
    copy = subprocess.run(["mtype", "-i", str(tmp_path / "cluster/host1.img"), "::/from-two.elf"],
                          capture_output=True).stdout
    assert copy == original and len(copy) == int(m.group(1))
    for n in (1, 2, 3):
        assert f"cluster: host{n} ended (QEMU status 33)" in out     # powered off, QEMU gone
