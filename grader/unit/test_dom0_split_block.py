"""Xen's block split driver end to end on the host: toolstack, xenstore, backend, frontend.

One process (grader/unit/host/split_block_tool.c) runs Dom0's xenstored, the
toolstack's device nodes and the backend (guests/dom0/vbd.c, blkback.c) beside the
guest runtime's xenbus client and blkfront (guests/lib/xenbus.c, blkfront.c), with a
stand-in grant table and event channels. The two ends must meet through xenstore as
Linux's and Xen's do (InitWait, Initialised, Connected); then data the frontend writes
(made from a random seed) must be in the image file, read here from the file itself.
"""
import random
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from hostlib import build_dom0_tool, splitmix_bytes  # noqa: E402
from gradelib import fnv1a64  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent.parent
SOURCES = ["grader/unit/host/split_block_tool.c", "guests/dom0/vbd.c", "guests/dom0/blkback.c",
           "guests/dom0/xenstored.c", "guests/dom0/xenstore_tree.c", "guests/lib/xenbus.c", "guests/lib/blkfront.c"]


@pytest.fixture(scope="module")
def tool(tmp_path_factory):
    return build_dom0_tool(tmp_path_factory.mktemp("split"), "split_block_tool", SOURCES)


@pytest.fixture
def image(tmp_path):
    path = tmp_path / "xvda.img"
    with open(path, "wb") as f:
        f.truncate(2 << 20)
    return path


def run(tool, image, *args, commands=()):
    proc = subprocess.run([str(tool), str(image), *args], input="".join(c + "\n" for c in commands),
                          capture_output=True, text=True, timeout=120)
    return proc.returncode, proc.stdout


def test_the_two_ends_connect_and_the_data_lands_in_the_image(tool, image):
    rng = random.SystemRandom()
    seed, sector, count = rng.randrange(1 << 63), rng.randrange(0, 3500), rng.randrange(1, 300)
    code, out = run(tool, image, commands=[f"write {sector} {count} {seed}", f"read {sector} {count}",
                                           "write 4095 2 1"])
    assert code == 0, out
    assert out.startswith("connected: 4096 sectors, backend /local/domain/0/backend/vbd/1/51712\n")
    want = splitmix_bytes(seed, count * 64)
    assert image.read_bytes()[sector * 512:(sector + count) * 512] == want
    assert f"read fnv {fnv1a64(want):016x}" in out
    assert "write failed: device/vbd/51712: sector 4095: status -1" in out   # past the disk's end


def test_a_readonly_disk_refuses_writes(tool, image):
    code, out = run(tool, image, "readonly", commands=["write 0 1 7"])
    assert code == 0 and "write failed: device/vbd/51712: sector 0: status -1" in out
    assert image.read_bytes() == bytes(2 << 20)


@pytest.mark.parametrize("fault, words", [
    ("bad-ring", "the ring-ref is not a page the frontend granted to Dom0"),
    ("bad-port", "the event-channel is not a port the frontend opened for Dom0"),
])
def test_a_frontend_that_lies_is_refused_by_the_backend(tool, image, fault, words):
    code, out = run(tool, image, fault)
    assert code == 1
    assert f"blkback: vbd 51712 of domain 1: {words}" in out
    assert "frontend error: device/vbd/51712: the backend never went Connected" in out
    assert "backend state 5" in out                                        # Closing, and nothing served
