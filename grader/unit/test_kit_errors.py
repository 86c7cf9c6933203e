"""A kit check that fails is the kit's failure, said as such — and said once in a batch.

A copy of this kit gets one more lab-0 kit check that always fails (a stand-in for
a broken machine: a missing tool, a QEMU that cannot start). Then:
- `python3 -m grader` prints it as a KIT ERROR, says the kit or the machine is
  broken, keeps it out of the score and exits 3 (not 1, which means the student's
  code lost points);
- the batch grader reports it once, against the kit (console and kit.txt), and the
  student whose files are right still gets full marks, with a report that says the
  failure is not theirs.
"""
import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent.parent
ROOT = HERE.parent
PYTHON = "/usr/bin/python3"
STUDENT_FILES = ["kernel/arch/stacktrace.c", "kernel/lib/ksym_lookup.c"]
BROKEN_CHECK = '''

def test_machine_has_a_frobnicator():
    raise AssertionError("this machine has no frobnicator (a stand-in for a missing tool)")
'''

pytestmark = pytest.mark.skipif(not (ROOT / "solutions/lab0" / STUDENT_FILES[0]).exists(),
                                reason="needs the reference solutions (an instructor's kit, not a handout)")


@pytest.fixture(scope="module")
def broken_kit(tmp_path_factory):
    kit = tmp_path_factory.mktemp("kit") / "hypatia"
    files = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           check=True, capture_output=True).stdout.decode().split("\0")
    for f in filter(None, files):
        if (ROOT / f).is_file() and not f.startswith(("build/", ".ci/")):
            (kit / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / f, kit / f)
    with open(kit / "grader/tests/test_lab0_guests.py", "a") as f:
        f.write(BROKEN_CHECK)
    subprocess.run(["make", "-s", "SOL=0", "all"], cwd=kit, check=True, capture_output=True,
                   env={k: v for k, v in os.environ.items() if not k.startswith("MAKE")})
    return kit


def test_the_grader_calls_it_a_kit_error(broken_kit):
    proc = subprocess.run([PYTHON, "-m", "grader", "--lab", "0", "--build", "build/sol-0"], cwd=broken_kit,
                          capture_output=True, text=True, timeout=300)
    out = proc.stdout
    assert proc.returncode == 3, out + proc.stderr
    assert "kit check lab0 machine_has_a_frobnicator: KIT ERROR" in out
    assert "the kit or this machine is broken, not your code" in out
    assert "KIT ERROR: 1 kit check(s) failed (lab0 machine_has_a_frobnicator)" in out
    assert "Score: 30/30" in out                      # the student's points are all there


def test_a_batch_reports_it_once_against_the_kit(broken_kit, tmp_path):
    subs = tmp_path / "subs"
    for who in ("carol", "dave"):
        for f in STUDENT_FILES:
            (subs / who / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / "solutions/lab0" / f, subs / who / f)
    out = tmp_path / "out"
    proc = subprocess.run([PYTHON, str(broken_kit / "grader/batch.py"), "--lab", "0", "--kit", str(broken_kit),
                           "--out", str(out), "-j", "2", str(subs)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("KIT ERROR: kit check lab0 machine_has_a_frobnicator fails on the clean kit") == 1
    assert "machine_has_a_frobnicator: FAILS on the clean kit" in (out / "kit.txt").read_text()
    with open(out / "grades.csv", newline="") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    for who in ("carol", "dave"):
        assert rows[who]["total"] == rows[who]["max"] == "30", rows[who]
        assert rows[who]["kit_checks"].endswith("failed: lab0 machine_has_a_frobnicator (kit)"), rows[who]
        report = (out / "reports" / f"{who}.txt").read_text()
        assert "lab0 machine_has_a_frobnicator: FAIL — KIT ERROR: it fails on the clean kit too" in report
        assert "frobnicator (a stand-in" not in report          # the kit's failure is told in kit.txt, once


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
