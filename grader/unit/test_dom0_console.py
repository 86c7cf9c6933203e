"""The console split driver on the host: the guest runtime's ring code as the DomU, Dom0's backend.

Lines a DomU writes (made from a random nonce) come out of the backend whole and
under the domain's name; a long line is cut, control characters cannot reach Dom0's
terminal, a full ring takes no more until the backend reads, typed input reaches the
DomU, and a DomU that breaks the ring indexes is cut off with one line.
"""
import random
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hostlib import build_dom0_tool  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture(scope="module")
def tool(tmp_path_factory):
    return build_dom0_tool(tmp_path_factory.mktemp("console_tool"), "console_tool", ['grader/unit/host/console_tool.c', 'guests/dom0/consoled.c', 'guests/lib/xencons.c'])


def hexed(text):
    return text.encode().hex()


def run(tool, commands):
    proc = subprocess.run([str(tool)], input="\n".join(commands) + "\n", capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def test_lines_come_out_whole_under_the_domains_name(tool):
    nonce = random.SystemRandom().randrange(1 << 62)
    text = f"hello from the DomU: nonce={nonce}\nRESULT: PASS\nhalf a "
    out = run(tool, [f"write {text.encode().hex()}", "poll", "write " + hexed("line\n"), "poll"])
    lines = [line for line in out if line.startswith("line ")]
    assert lines == [f"line [hello-pv] hello from the DomU: nonce={nonce}", "line [hello-pv] RESULT: PASS",
                     "line [hello-pv] half a line"]


def test_long_lines_are_cut_and_control_characters_defused(tool):
    long = "x" * 450
    out = run(tool, ["write " + hexed(long + "\n"), "poll",
                     "write " + hexed("bell\a esc\x1b[2J tab\tok\r\n"), "poll"])
    lines = [line[len("line [hello-pv] "):] for line in out if line.startswith("line ")]
    assert lines == ["x" * 200, "x" * 200, "x" * 50, "bell? esc?[2J tab\tok"]


def test_a_full_ring_takes_nothing_more_until_read(tool):
    out = run(tool, ["write " + hexed("y" * 3000), "write " + hexed("z"), "poll",
                     "write " + hexed("w" * 10)])
    assert out[0] == "wrote 2048" and out[1] == "wrote 0"
    assert "took 2048" in out and out[-1] == "wrote 10"


def test_typed_input_reaches_the_domu(tool):
    out = run(tool, ["input " + hexed("echo $((6*7))\r"), "guestread", "guestread"])
    assert out[0] == "typed 14" and out[1] == "got " + hexed("echo $((6*7))\r") and out[2] == "got "


def test_a_broken_ring_is_cut_off_once(tool):
    out = run(tool, ["write " + hexed("before\n"), "poll", "badindex", "poll", "poll",
                     "input " + hexed("x")])
    assert "line [hello-pv] before" in out
    assert out.count("line [hello-pv] (console cut off: its ring's indexes are more than a ring apart)") == 1
    assert out.count("took -1") == 2 and out[-1] == "typed 0"
