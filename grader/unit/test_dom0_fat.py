"""Dom0's FAT code against the host's own FAT tools: what one writes, the other reads.

guests/dom0/fat.c and fat_dir.c are compiled for the host (-DDOM0_HOSTED, with
AddressSanitizer and UBSan) into a small tool that works on an image file. Images
are made by mformat (FAT16 and FAT32), filled by mcopy, and every file Dom0's code
writes is read back by mtools' mtype and checked by fsck.fat (dosfstools): the
judges are independent implementations, never this code reading itself.
"""
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hostlib import build_dom0_tool  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent.parent
SOURCES = [ROOT / "grader/unit/host/fat_tool.c", ROOT / "guests/dom0/fat.c", ROOT / "guests/dom0/fat_dir.c"]

pytestmark = pytest.mark.skipif(not (shutil.which("mformat") and shutil.which("fsck.fat")),
                                reason="needs mtools and dosfstools (make deps)")


@pytest.fixture(scope="module")
def tool(tmp_path_factory):
    return build_dom0_tool(tmp_path_factory.mktemp("fat_tool"), "fat_tool", ['grader/unit/host/fat_tool.c', 'guests/dom0/fat.c', 'guests/dom0/fat_dir.c'])


@pytest.fixture(params=["fat16", "fat32"])
def image(request, tmp_path):
    path = tmp_path / "dom0.img"
    with open(path, "wb") as f:
        f.truncate((64 if request.param == "fat16" else 300) << 20)
    subprocess.run(["mformat", "-i", str(path)] + (["-F"] if request.param == "fat32" else []) + ["::"],
                   check=True, capture_output=True)
    return path


def run(tool, image, *args, data=None, ok=True):
    proc = subprocess.run([str(tool), str(image), *args], input=data, capture_output=True, timeout=120)
    if ok:
        assert proc.returncode == 0, (args, proc.stdout[-500:], proc.stderr[-2000:])
    return proc.stdout


def mtype(image, path):
    return subprocess.run(["mtype", "-i", str(image), "::" + path], check=True, capture_output=True).stdout


def mcopy(image, data, path, tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    subprocess.run(["mcopy", "-i", str(image), str(src), "::" + path], check=True, capture_output=True)


def fsck(image):
    proc = subprocess.run(["fsck.fat", "-n", str(image)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # FSInfo's free count is a hint the code marks unknown on purpose (fat.c, fsinfo_forget).
    problems = [line for line in proc.stdout.splitlines()[1:]
                if "files," not in line and "Free cluster summary" not in line]
    assert not problems, proc.stdout


def test_reads_what_mtools_wrote(tool, image, tmp_path):
    rng = random.Random(os.urandom(8))
    big = rng.randbytes(3_000_000 + rng.randrange(4096))
    subprocess.run(["mmd", "-i", str(image), "::/configs"], check=True)
    mcopy(image, b"name = 'hello'\n", "/configs/hello.cfg", tmp_path)
    mcopy(image, big, "/A long kernel name.bin", tmp_path)
    mcopy(image, b"", "/empty", tmp_path)
    listing = run(tool, image, "ls", "/").decode().splitlines()
    assert sorted(listing) == sorted(["dir configs 0", f"file A long kernel name.bin {len(big)}", "file empty 0"])
    assert run(tool, image, "cat", "/configs/HELLO.CFG") == b"name = 'hello'\n"   # names are case-blind
    assert run(tool, image, "cat", "/a long kernel name.bin") == big
    assert run(tool, image, "cat", "/empty") == b""


def test_what_it_writes_mtools_reads_and_fsck_passes(tool, image, tmp_path):
    rng = random.Random(os.urandom(8))
    files = {"/saves/Checkpoint of domU number 1.sav": rng.randbytes(2_500_000 + rng.randrange(10000)),
             "/saves/small.txt": b"x" * rng.randrange(1, 600),
             "/UPPER.TXT": b"upper\n", "/lower.cfg": b"lower\n", "/MiXed.Txt": b"mixed\n",
             "/saves/deep/er/still.img": rng.randbytes(70_000)}
    for d in ("/saves", "/saves/deep", "/saves/deep/er"):
        run(tool, image, "mkdir", d)
    for path, data in files.items():
        run(tool, image, "put", path, data=data)
    for i in range(40):          # enough long names to grow a subdirectory past its first cluster
        files[f"/saves/longer name {i}.dat"] = f"file {i}\n".encode()
        run(tool, image, "put", f"/saves/longer name {i}.dat", data=files[f"/saves/longer name {i}.dat"])
    for path, data in files.items():
        assert mtype(image, path) == data, path
    fsck(image)
    names = subprocess.run(["mdir", "-b", "-i", str(image), "::/"], check=True, capture_output=True,
                           text=True).stdout.split()
    assert {"::/UPPER.TXT", "::/lower.cfg", "::/MiXed.Txt", "::/saves/"} <= set(names), names


def test_overwrite_gaps_truncate_and_remove(tool, image, tmp_path):
    rng = random.Random(os.urandom(8))
    data = bytearray(rng.randbytes(200_000))
    run(tool, image, "put", "/disk.img", data=bytes(data))
    patch = rng.randbytes(5000)
    at = rng.randrange(1, 150_000)
    run(tool, image, "put", "/disk.img", str(at), data=patch)           # overwrite in the middle
    data[at:at + len(patch)] = patch
    tail_at = len(data) + rng.randrange(1, 20_000)                      # past the end: a gap of zeros
    run(tool, image, "put", "/disk.img", str(tail_at), data=b"tail")
    data += bytes(tail_at - len(data)) + b"tail"
    assert mtype(image, "/disk.img") == bytes(data)
    cut = rng.randrange(1, 9000)
    run(tool, image, "truncate", "/disk.img", str(cut))
    assert mtype(image, "/disk.img") == bytes(data[:cut])
    fsck(image)
    before = run(tool, image, "df")
    run(tool, image, "put", "/doomed", data=rng.randbytes(300_000))
    run(tool, image, "rm", "/doomed")
    assert run(tool, image, "df") == before                             # every cluster came back
    assert b"error: no such file" in run(tool, image, "cat", "/doomed", ok=False)
    fsck(image)


def test_refusals_are_clear(tool, image):
    run(tool, image, "mkdir", "/vm")
    run(tool, image, "put", "/vm/a.cfg", data=b"x")
    assert b"not empty" in run(tool, image, "rm", "/vm", ok=False)
    assert b"no such file" in run(tool, image, "cat", "/nope/a.cfg", ok=False)
    assert b"not a directory" in run(tool, image, "put", "/vm/a.cfg/b", data=b"x", ok=False)
    assert b"exists" in run(tool, image, "mkdir", "/vm", ok=False)
    for bad in ("/vm/a:b", "/vm/star*", "/vm/trailing.", "/vm/" + "n" * 256):
        assert b"error: " in run(tool, image, "put", bad, data=b"x", ok=False), bad
    assert b"is a directory" in run(tool, image, "put", "/vm", data=b"x", ok=False)
    fsck(image)


def test_not_a_fat_volume_is_refused(tool, tmp_path):
    junk = tmp_path / "junk.img"
    junk.write_bytes(os.urandom(1 << 20))
    assert b"not a FAT16/FAT32 volume" in run(tool, junk, "ls", "/", ok=False)
    small = tmp_path / "floppy.img"
    with open(small, "wb") as f:
        f.truncate(1440 << 10)
    subprocess.run(["mformat", "-i", str(small), "::"], check=True, capture_output=True)   # FAT12
    assert b"not a FAT16/FAT32 volume" in run(tool, small, "ls", "/", ok=False)
