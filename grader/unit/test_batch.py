"""The batch grader against hostile submissions, bad input, and its own promises.

One batch (about 50 s on 2 cores) grades, side by side: the reference solution
packed by `scripts/handin` (twice: the same score both times), the solution as
a git-checkout folder, and kernels that hang, triple-fault, flood the console,
fail to build, edit files outside the student files, or print a hard-coded
backtrace; plus enormous and malformed submissions that must be refused. Every
submission here is generated into tmp_path from the kit's own stub and
solution: no binaries are committed.

HYPATIA_KIT=dir grades with another kit (default: this repository).
"""
import csv
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE))

import batch  # noqa: E402

ROOT = HERE.parent
KIT = Path(os.environ.get("HYPATIA_KIT", ROOT)).resolve()
PYTHON = "/usr/bin/python3"
STUDENT = "kernel/arch/stacktrace.c"
KSYM = "kernel/lib/ksym_lookup.c"     # lab 0's other student file: the reference one, unless a case says
TIMEOUT = 35     # one 20 s hang fits, the second is cut: both mechanisms show

pytestmark = pytest.mark.skipif(not (KIT / "solutions/lab0" / STUDENT).exists(),
                                reason="needs the reference solutions (an instructor's kit, not a handout)")


def stub_source():
    return (KIT / STUDENT).read_text()


def solution_source():
    return (KIT / "solutions/lab0" / STUDENT).read_text()


def ksym_solution():
    return (KIT / "solutions/lab0" / KSYM).read_bytes()


def with_body(body):
    """The stub file with stacktrace_walk's definition replaced by @body."""
    text = stub_source()
    head = text[:text.index("int stacktrace_walk(")]
    return head + "int stacktrace_walk(uint64_t rbp, uint64_t *return_addresses, int max)\n{\n" \
        "\t(void)rbp;\n\t(void)return_addresses;\n\t(void)max;\n" + body + "}\n"


HANG = with_body("\tfor (;;)\n\t\t__asm__ volatile(\"pause\");\n")
TRIPLE = with_body("\tstatic const struct { uint16_t limit; uint64_t base; } __attribute__((packed)) none = { 0, 0 };\n"
                   "\t__asm__ volatile(\"lidt %0; int3\" : : \"m\"(none));\n\treturn 0;\n")
FLOOD = with_body("\tfor (uint64_t i = 0;; i++)\n"
                  "\t\tkprintf(\"flood %lu: all work and no play makes a dull backtrace\\n\", i);\n")
BROKEN = with_body("\treturn 0  /* a missing semicolon */\n")
FAKE = with_body("".join(f'\tkprintf("  #{i} ffffffff8010{i}a1c backtrace_demo_recurse+0x2c\\n");\n' for i in range(4))
                 .replace('kprintf("  #0', 'kprintf("[hv] backtrace:\\n  #0')
                 + '\tkprintf("  #4 ffffffff80104b10 selftest_run+0x90\\n");\n'
                 '\tkprintf("  #5 ffffffff801001f3 kmain+0x1d3\\n");\n'
                 '\tkprintf("  #6 ffffffff80100040 higher_half_entry+0x10\\n");\n\treturn 0;\n')
CHEAT_CONFTEST = '''
import pytest
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    outcome.get_result().outcome = "passed"
'''


def make_tar(path, entries):
    """@entries: (name, bytes) for files, or a TarInfo already filled in (links, devices)."""
    with tarfile.open(path, "w:gz") as t:
        for e in entries:
            if isinstance(e, tarfile.TarInfo):
                t.addfile(e)
            else:
                info = tarfile.TarInfo(e[0])
                info.size = len(e[1])
                t.addfile(info, io.BytesIO(e[1]))


def link(name, target, kind=tarfile.SYMTYPE):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


def handin_of(tmp, source):
    """Run scripts/handin in a small git repository holding @source as the student file."""
    repo = tmp / "student-repo"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy2(ROOT / "scripts/handin", repo / "scripts/handin")
    shutil.copy2(KIT / "Makefile", repo / "Makefile")
    shutil.copytree(KIT / "labs", repo / "labs")
    (repo / STUDENT).parent.mkdir(parents=True)
    (repo / STUDENT).write_text(source)
    (repo / KSYM).parent.mkdir(parents=True)
    (repo / KSYM).write_bytes(ksym_solution())
    git = ["git", "-C", str(repo), "-c", "user.name=Alice", "-c", "user.email=alice@example.org"]
    subprocess.run(git + ["init", "-q"], check=True)
    subprocess.run(git + ["add", "-A"], check=True)
    subprocess.run(git + ["commit", "-q", "-m", "lab 0: the backtrace"], check=True)
    out = subprocess.run([PYTHON, str(repo / "scripts/handin"), "--labs", "0", "--user", "alice",
                          "--out", str(tmp)], capture_output=True, text=True, check=True).stdout
    return next(tmp.glob("handin-alice-*.tar.gz")), out


def kit_fingerprint():
    return {p: hashlib.sha256((KIT / p).read_bytes()).hexdigest()
            for p in ["Makefile", "grader/conftest.py", "grader/report.py", "grader/tests/test_lab0_faults.py", STUDENT]}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("batch")
    subs = tmp / "submissions"
    subs.mkdir()
    tarball, handin_out = handin_of(tmp, solution_source())
    shutil.copy(tarball, subs / "alice.tar.gz")
    shutil.copy(tarball, subs / "alice-again.tar.gz")
    (subs / "bob" / STUDENT).parent.mkdir(parents=True)          # a git checkout, as a folder
    (subs / "bob" / STUDENT).write_text(solution_source())
    (subs / "bob" / KSYM).parent.mkdir(parents=True)
    (subs / "bob" / KSYM).write_bytes(ksym_solution())
    (subs / "bob" / "README.md").write_text("bob's notes\n")
    for name, source in [("hang", HANG), ("triple", TRIPLE), ("flood", FLOOD), ("broken", BROKEN), ("fake", FAKE)]:
        make_tar(subs / f"{name}.tar.gz", [(STUDENT, source.encode()), (KSYM, ksym_solution())])
    make_tar(subs / "cheater.tar.gz", [
        (STUDENT, stub_source().encode()),
        (KSYM, (KIT / KSYM).read_bytes()),
        ("Makefile", b"all:\n\t@true\n"),
        ("grader/conftest.py", (HERE / "conftest.py").read_bytes() + CHEAT_CONFTEST.encode()),
        ("grader/tests/test_lab0_faults.py", b"def test_backtrace():\n    pass\n")])
    make_tar(subs / "enormous.tar.gz", [(STUDENT, bytes(50 << 20))])
    (subs / "huge.tar").write_bytes(os.urandom(2 << 20))       # over --max-archive-mib 1
    (subs / "notes.tar.gz").write_text("these are my answers, not a tarball\n")
    (subs / "zipped.zip").write_bytes(b"PK\x03\x04" + bytes(100))
    make_tar(subs / "empty-handed.tar.gz", [("README.md", b"I forgot the code\n")])
    make_tar(subs / "absolute.tar.gz", [(STUDENT, b"int x;\n"), ("/tmp/evil.c", b"int y;\n")])
    make_tar(subs / "dotdot.tar.gz", [(STUDENT, b"int x;\n"), ("kernel/../../evil.c", b"int y;\n")])
    make_tar(subs / "symlink.tar.gz", [link(STUDENT, "/etc/passwd")])
    make_tar(subs / "device.tar.gz", [(STUDENT, b"int x;\n"), link("dev/zero", "", tarfile.CHRTYPE)])
    make_tar(subs / "peeker.tar.gz", [(STUDENT, f'#include "{ROOT}/solutions/lab0/{STUDENT}"\n'.encode()),
                                      (KSYM, ksym_solution())])
    (subs / "linkdir" / STUDENT).parent.mkdir(parents=True)
    os.symlink("/etc/hostname", subs / "linkdir" / STUDENT)

    before = kit_fingerprint()
    work = tmp / "work"
    work.mkdir()
    out = tmp / "out"
    proc = subprocess.run([PYTHON, str(HERE / "batch.py"), "--lab", "0", "--kit", str(KIT), "--out", str(out),
                           "-j", "2", "--timeout", str(TIMEOUT), "--max-archive-mib", "1", "--tmp", str(work),
                           str(subs)], capture_output=True, text=True, timeout=300)
    with open(out / "grades.csv", newline="") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}

    class Graded:
        pass
    g = Graded()
    g.proc, g.out, g.rows, g.work, g.handin_out, g.tarball = proc, out, rows, work, handin_out, tarball
    g.kit_before, g.kit_after = before, kit_fingerprint()
    m = re.search(r"the stubs score (\d+)/(\d+)", proc.stdout)
    assert m, proc.stdout + proc.stderr
    g.baseline, g.max = int(m.group(1)), int(m.group(2))
    g.report = lambda s: (out / "reports" / f"{s}.txt").read_text()
    g.results = lambda s: json.loads((out / "results" / f"{s}.json").read_text())
    return g


def test_batch_runs_to_the_end(graded):
    assert graded.proc.returncode == 0, graded.proc.stdout + graded.proc.stderr
    assert "baseline ok" in graded.proc.stdout
    assert len(graded.rows) == 20
    assert re.search(r"20 submission\(s\) in [\d.]+ s \([\d.]+/min at -j 2\)", graded.proc.stdout)


def test_correct_submissions_get_full_marks_every_time(graded):
    rows = graded.rows
    for who in ("alice", "alice-again", "bob"):
        assert rows[who]["status"] == "graded", graded.report(who)
        assert rows[who]["total"] == rows[who]["max"] == str(graded.max), graded.report(who)
    tests = [k for k in rows["alice"] if k.startswith("lab0 ")]
    assert len(tests) >= 4                                   # graded tests only: kit checks have no column
    assert re.fullmatch(r"(\d+)/\1", rows["alice"]["kit_checks"]), rows["alice"]["kit_checks"]
    assert [rows["alice"][t] for t in tests] == [rows["alice-again"][t] for t in tests]
    doc = graded.results("alice")
    assert doc["score"] == doc["max_score"] == graded.max and all(t["status"] == "passed" for t in doc["tests"])
    assert "ignored" not in graded.report("alice")          # the handin's manifest and git log are not 'ignored'
    assert "ignored: 1 file(s)" in graded.report("bob")      # bob's README.md


def test_handin_packs_files_log_and_manifest(graded):
    with tarfile.open(graded.tarball) as t:
        names = sorted(t.getnames())
        manifest = json.load(t.extractfile("handin/manifest.json"))
        log = t.extractfile("handin/git-log.txt").read().decode()
    assert names == ["handin/git-log.txt", "handin/manifest.json", STUDENT, KSYM]
    assert manifest["labs"] == [0] and manifest["kit_version"] == batch.kit_version(KIT)
    assert manifest["files"] == {STUDENT: hashlib.sha256(solution_source().encode()).hexdigest(),
                                 KSYM: hashlib.sha256(ksym_solution()).hexdigest()}
    assert "lab 0: the backtrace" in log
    assert STUDENT in graded.handin_out and "manifest" in graded.handin_out


def test_hang_costs_tests_not_the_batch(graded):
    # Every panic prints a backtrace, so the first test that panics (a dump) hangs: gradelib
    # stops that run after 20 s of QEMU's CPU time, and the batch stops the submission at
    # TIMEOUT seconds of wall time, whichever comes first.
    row, report = graded.rows["hang"], graded.report("hang")
    assert row["status"] == "timeout"
    assert row["lab0 symbol_lookup"] == "10"                 # what ran before the hang keeps its points
    # (Where the CPU went round is named when gradelib's own limit stops the run first:
    # test_gradelib.py checks that; here the batch's wall clock may come first on a busy machine.)
    assert f"time limit ({TIMEOUT} s)" in report
    assert row["lab0 backtrace"] == "" and re.search(r"backtrace: NOT RUN 0/10", report)
    assert 0 < int(row["total"]) < graded.max
    assert graded.results("hang")["score"] == int(row["total"])


def test_triple_fault_and_flood_fail_the_backtrace_tests(graded):
    for who, words in (("triple", "triple fault"), ("flood", "more than the output cap")):
        row, report = graded.rows[who], graded.report(who)
        assert row["status"] == "graded", report
        assert row["lab0 backtrace"] == row["lab0 backtrace_in_panic"] == "0", report
        assert re.fullmatch(r"(\d+)/\1", row["kit_checks"]) or "(student)" in row["kit_checks"], row["kit_checks"]
        assert words in report
        assert "reproduce: qemu-system-x86_64" in report and "-kernel build/stub/kernel/hypatia32.elf" in report
        assert str(graded.work) not in report                 # paths as the student's repository has them


def test_build_failure_scores_zero_with_the_compiler_message(graded):
    row, report = graded.rows["broken"], graded.report("broken")
    assert row["status"] == "build-failed" and row["total"] == "0"
    assert "the build failed" in report and "error:" in report and STUDENT in report
    doc = graded.results("broken")
    assert doc["score"] == 0 and doc["max_score"] == graded.max and all(t["score"] == 0 for t in doc["tests"])


def test_files_outside_the_student_files_have_no_effect(graded):
    row, report = graded.rows["cheater"], graded.report("cheater")
    assert row["status"] == "graded" and int(row["total"]) == graded.baseline < graded.max
    assert row["lab0 backtrace"] == "0"
    assert "ignored: 3 file(s) outside the student files" in report
    assert "grader/conftest.py" in report and "Makefile" in report
    assert graded.kit_before == graded.kit_after              # and the kit itself was never touched


def test_hard_coded_output_is_defeated_by_the_nonce(graded):
    row, report = graded.rows["fake"], graded.report("fake")
    assert row["status"] == "graded"
    assert row["lab0 backtrace_in_panic"] == "0"
    assert re.search(r"backtrace_in_panic: FAIL 0/\d+\n.*should pass through", report)
    # The recursion depth is 2 + nonce % 6: a fixed depth of 4 is right one time in six at best.
    assert int(row["total"]) <= graded.max - 5 < int(graded.rows["alice"]["total"])


@pytest.mark.parametrize("who, message", [
    ("enormous", "is 50.0 MiB; one file may be at most 8.0 MiB"),
    ("huge", "the archive is 2.0 MiB; the limit is 1.0 MiB"),
    ("notes", "is not a tar archive"),
    ("zipped", "is not a tar archive (tar, tar.gz, tar.xz or tar.bz2) (it is a zip file)"),
    ("empty-handed", "none of the lab's student files is in the archive"),
    ("absolute", "absolute path, '/tmp/evil.c'"),
    ("dotdot", "a path with '..'"),
    ("symlink", "symbolic link out of the tree"),
    ("device", "a device or FIFO"),
    ("peeker", "by an absolute or '..' path"),
    ("linkdir", "is a symbolic link to '/etc/hostname', outside the submission"),
])
def test_bad_input_is_refused_clearly(graded, who, message):
    row = graded.rows[who]
    assert row["status"] == "refused" and row["total"] == "0"
    assert message in row["message"]
    assert message in graded.report(who) and message in graded.results(who)["output"]
    assert "make handin" in graded.report(who)


def test_nothing_is_left_running_or_on_disk(graded):
    assert list(graded.work.iterdir()) == []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        assert str(graded.work).encode() not in cmdline, f"process {pid} outlived the batch"


# --- fast checks, without building anything ------------------------------------------------------

def load(tmp_path, entries, name="s.tar.gz"):
    make_tar(tmp_path / name, entries)
    sub = batch.Submission("s", tmp_path / name)
    batch.load_submission(sub, [STUDENT], batch.Limits())
    return sub


def test_files_under_one_top_folder_are_found(tmp_path):
    sub = load(tmp_path, [("hypatia-main/" + STUDENT, b"int a;\n"), ("hypatia-main/Makefile", b"x\n"),
                          ("./hypatia-main/.git/HEAD", b"ref\n")])
    assert sub.files == {STUDENT: b"int a;\n"}
    assert sorted(sub.ignored) == ["hypatia-main/.git/HEAD", "hypatia-main/Makefile"]


def test_links_inside_the_tree_are_ignored_but_outside_refused(tmp_path):
    sub = load(tmp_path, [(STUDENT, b"int a;\n"), link("docs/readme", "../README.md")])
    assert sub.files == {STUDENT: b"int a;\n"}
    with pytest.raises(batch.Refused, match="hard link out of the tree"):
        load(tmp_path, [(STUDENT, b"int a;\n"), link("x", "../../etc/shadow", tarfile.LNKTYPE)], "h.tar.gz")
    with pytest.raises(batch.Refused, match="link or a folder, not a file"):
        load(tmp_path, [("real.c", b"int a;\n"), link(STUDENT, "../../real.c")], "l.tar.gz")


def test_total_size_limit(tmp_path):
    make_tar(tmp_path / "t.tar.gz", [(STUDENT, b"int a;\n")] + [(f"blob{i}", bytes(5 << 20)) for i in range(3)])
    sub = batch.Submission("t", tmp_path / "t.tar.gz")
    with pytest.raises(batch.Refused, match="unpacks to more than 12.0 MiB"):
        batch.load_submission(sub, [STUDENT], batch.Limits(total_mib=12))


def test_student_names_and_shards(tmp_path):
    for n in ("a.tar.gz", "b.tgz", "c.tar", "d", "e.tar.xz"):
        (tmp_path / n).mkdir() if n == "d" else (tmp_path / n).write_text("x")
    subs = batch.find_submissions([tmp_path], [])
    assert [s.name for s in subs] == ["a", "b", "c", "d", "e"]
    shards = [[s.name for s in subs][i - 1::2] for i in (1, 2)]
    assert shards == [["a", "c", "e"], ["b", "d"]]


def test_shards_merge_into_one_csv(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    for n in ("p", "q", "r"):
        (subs / f"{n}.tar.gz").write_text("not a tarball")
    for i in (1, 2):   # refused submissions build nothing: these batches are instant
        subprocess.run([PYTHON, str(HERE / "batch.py"), "--lab", "0", "--kit", str(KIT), "--no-baseline",
                        "--shard", f"{i}/2", "--out", str(tmp_path / f"o{i}"), str(subs)], check=True,
                       capture_output=True)
    subprocess.run([PYTHON, str(HERE / "batch.py"), "--out", str(tmp_path / "all"), "--merge",
                    str(tmp_path / "o1"), str(tmp_path / "o2")], check=True, capture_output=True)
    with open(tmp_path / "all/grades.csv", newline="") as f:
        assert sorted(r["student"] for r in csv.DictReader(f)) == ["p", "q", "r"]
    assert sorted(p.name for p in (tmp_path / "all/reports").iterdir()) == ["p.txt", "q.txt", "r.txt"]
