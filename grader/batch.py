#!/usr/bin/python3
"""Batch grading: grade a folder of submissions for one lab, each in its own clean kit.

    /usr/bin/python3 -m grader.batch --lab 0 --out grades/ submissions/ [-j 2] [--shard 1/4]

A submission is a tarball (`make handin` makes one; any tar, tar.gz, tar.xz or
tar.bz2 holding the student files, at the root or under one top folder) or a
directory (a git checkout). For each one the batch:

  1. checks it: no absolute paths, no `..`, no links out of the tree, no device
     files, nothing over the size limits; a bad one is refused with a message;
  2. copies a clean kit (your working tree as git sees it, without solutions/),
     already built once with the stubs, and overlays *only* the lab's student
     files, whose list it reads from the kit's labs/labN/files — anything else
     in the submission (a Makefile, the grader, the tests) is ignored;
  3. runs `make -s`, then the kit's own grader (`-j 1`: the same tests as
     `make grade`, Bochs included; `--no-slow` leaves those out and every total
     says so), under one wall-clock time limit with an output cap.

Before any submission, the clean kit is built and graded once (the baseline).
A graded test that passes on the stubs would give points for nothing: the
batch stops. A kit check that fails on the clean kit is the kit's (or this
machine's) fault: it is reported once, in kit.txt and on the console, and
in no student's report as theirs.

Results in --out (written by grader/batch_output.py): grades.csv (student, total, max, status, points per graded
test, the kit checks passed), reports/<student>.txt (what failed, the last
lines, how to reproduce), results/<student>.json (Gradescope's format) and
kit.txt (the baseline). `--merge DIR...` joins the outputs of shards. See
docs/instructor.md.
"""
import argparse
import concurrent.futures
import csv
import io
import json
import os
import posixpath
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path

# Run as `python3 -m grader.batch`, as `grader/batch.py`, or imported by the tests: the
# grader's own modules are imported by name from its folder, as __main__.py does.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from intake import MiB, Limits, Refused, Submission, load_submission, manifest_notes  # noqa: E402
from batch_output import (_tail, csv_row, write_csv, write_kit_report, write_report,  # noqa: E402
                          write_results_json)

ROOT = Path(__file__).resolve().parent.parent
PYTHON = "/usr/bin/python3"
TAR_SUFFIXES = (".tar.gz", ".tar.xz", ".tar.bz2", ".tgz", ".txz", ".tbz2", ".tbz", ".tar")
GRADE_LINE = re.compile(r"^(lab\d+|grader) (\S+): (OK|FAIL|SKIP) \(([\d.]+) s\) (\d+)/(\d+)$")
KIT_LINE = re.compile(r"^kit check (lab\d+|grader) (\S+): (FAIL|KIT ERROR) \(([\d.]+) s\)$")


class KitError(Exception):
    """The kit or the environment is broken: no submission can be graded."""


# --- what a lab's student files are ---------------------------------------------------------

def student_files(kit, lab):
    """The paths listed in the kit's labs/lab<lab>/files (comments and blank lines skipped)."""
    listing = kit / "labs" / f"lab{lab}" / "files"
    if not listing.is_file():
        raise KitError(f"{listing} does not exist: is lab {lab} part of this kit?")
    paths = []
    for line in listing.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("/") or ".." in line.split("/"):
            raise KitError(f"{listing}: '{line}' must be a plain path inside the kit")
        paths.append(posixpath.normpath(line))
    if not paths:
        raise KitError(f"{listing} lists no student files")
    return paths


def is_graded(test):
    """A test of a results.json that carries points for student work (not a kit check)."""
    return test.get("extra_data", {}).get("kind", "graded") == "graded"


def test_name(test):
    """A results.json test's name as the grader prints it ("lab0 boot_banner"), kit checks too."""
    return test["name"].removeprefix("kit check: ")


def kit_version(kit):
    m = re.search(r"^VERSION\s*:?=\s*(\S+)", (kit / "Makefile").read_text(), re.M)
    return m.group(1) if m else "unknown"


# --- the clean kit ---------------------------------------------------------------------------

def kit_file_list(kit, sol_labs):
    """Files of the kit a copy holds: git's view of the working tree, without solutions/ and build/."""
    keep_solutions = tuple(f"solutions/lab{n}/" for n in sol_labs)
    if (kit / ".git").exists():
        out = subprocess.run(["git", "-C", str(kit), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             check=True, capture_output=True).stdout.decode()
        names = sorted(set(f for f in out.split("\0") if f))
    else:
        names = []
        for dirpath, dirnames, filenames in os.walk(kit):
            rel = Path(dirpath).relative_to(kit).as_posix()
            dirnames[:] = [d for d in dirnames if not (rel == "." and d in ("build", ".git"))
                           and d != "__pycache__"]
            names += [posixpath.normpath(posixpath.join(rel, f)) for f in filenames]
    out = []
    for f in names:
        if f.startswith(("build/", ".ci/", ".git/")):
            continue
        if f.startswith("solutions/") and not f.startswith(keep_solutions):
            continue
        if os.path.lexists(kit / f):   # deleted in the working tree but still tracked: skip
            out.append(f)
    return out


def copy_kit(kit, dest, sol_labs, rev=None):
    dest.mkdir(parents=True)
    if rev:
        data = subprocess.run(["git", "-C", str(kit), "archive", "--format=tar", rev],
                              check=True, capture_output=True).stdout
        keep = tuple(f"solutions/lab{n}/" for n in sol_labs)
        with tarfile.open(fileobj=io.BytesIO(data)) as t:
            chosen = [m for m in t.getmembers() if not m.name.startswith(".ci/")
                      and (not m.name.startswith("solutions/") or m.name.startswith(keep))]
            t.extractall(dest, members=chosen)
        return
    for f in kit_file_list(kit, sol_labs):
        (dest / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(kit / f, dest / f, follow_symlinks=False)


def clean_env():
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "PYTHONPATH", "PYTHONHOME", "HYPATIA_BUILD")}
    env["LC_ALL"] = "C.UTF-8"
    return env


def _descendants(pid):
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            found.append(c)
            todo.append(c)
    return found


def kill_tree(proc):
    """Kill @proc and every process under it (gradelib starts QEMU in its own session)."""
    seen = set()
    for _ in range(3):       # stop first, so nothing forks while we look
        for pid in [proc.pid] + _descendants(proc.pid):
            if pid not in seen:
                seen.add(pid)
                try:
                    os.kill(pid, signal.SIGSTOP)
                except ProcessLookupError:
                    pass
    for pid in seen:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()


def run_capped(cmd, cwd, deadline, cap, log_path):
    """Run @cmd until it ends or @deadline (time.monotonic()); output goes to @log_path.

    Returns (exit code or None on timeout, output text: the first and last cap/2 bytes)."""
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                env=clean_env(), start_new_session=True)
        code = None
        while True:
            try:
                code = proc.wait(timeout=min(0.25, max(0.01, deadline - time.monotonic())))
                break
            except subprocess.TimeoutExpired:
                if time.monotonic() >= deadline or os.fstat(log.fileno()).st_size > 8 * cap:
                    kill_tree(proc)
                    code = None if time.monotonic() >= deadline else -1
                    break
    size = os.path.getsize(log_path)
    with open(log_path, "rb") as log:
        if size <= cap:
            raw = log.read()
        else:
            head = log.read(cap // 2)
            log.seek(size - cap // 2)
            raw = head + f"\n... ({size - cap} bytes of output cut) ...\n".encode() + log.read()
    return code, raw.decode("utf-8", "replace")


# --- grading one submission -------------------------------------------------------------------

class Batch:
    def __init__(self, args):
        self.args = args
        self.kit = Path(args.kit).resolve()
        self.lab = args.lab
        self.wanted = student_files(self.kit, self.lab)
        self.version = kit_version(self.kit)
        self.sol_labs = [n for n in (args.sol.split(",") if args.sol else []) if n]
        if self.lab in self.sol_labs:
            raise KitError(f"--sol {args.sol} includes lab {self.lab}, the lab being graded")
        self.variant = "sol-" + "-".join(self.sol_labs) if self.sol_labs else "stub"
        self.limits = Limits(args.max_archive_mib, args.max_file_mib, args.max_total_mib)
        self.out = Path(args.out)
        self.work = Path(tempfile.mkdtemp(prefix="hypatia-batch-", dir=args.tmp))
        self.template = self.work / "template"
        self.tests = []          # (name, max) of the lab's graded tests, from the baseline
        self.kit_checks = []     # names of the lab's kit checks, from the baseline
        self.kit_failures = {}   # kit check -> its output, for those failing on the clean kit
        self.not_run = ""        # what the baseline said it left out (--no-slow, no --long)
        self.lock = threading.Lock()
        self.prepared = None     # True, or the KitError that stops the batch

    def make_command(self):
        return ["make", "-s"] + ([f"SOL={','.join(self.sol_labs)}"] if self.sol_labs else [])

    def grade_command(self, results_json, expect=None):
        cmd = [PYTHON, "-m", "grader", "--lab", self.lab, "--build", f"build/{self.variant}",
               "--gradescope", str(results_json), "-j", "1"]
        if self.args.no_slow:
            cmd.append("--no-slow")
        if self.args.long:
            cmd.append("--long")
        if expect:
            cmd += ["--expect", expect]
        return cmd

    def prepare(self):
        """Copy and build the clean kit once; grade its stubs (the baseline) unless told not to.

        With --no-baseline this waits for the first submission that needs a build,
        so a batch of refused submissions builds nothing."""
        with self.lock:
            if self.prepared is None:
                try:
                    self._prepare()
                    self.prepared = True
                except KitError as e:
                    self.prepared = e
            if self.prepared is not True:
                raise self.prepared

    def _prepare(self):
        copy_kit(self.kit, self.template, self.sol_labs, self.args.kit_rev)
        for w in self.wanted:
            for shadow in self.template.glob(f"solutions/lab*/{w}"):
                shadow.unlink()      # a student's file must never be replaced by a solution
        deadline = time.monotonic() + max(self.args.timeout, 600)
        code, out = run_capped(self.make_command(), self.template, deadline, self.args.output_cap,
                               self.work / "template-build.log")
        if code != 0:
            raise KitError("the clean kit does not build as it is (no student file overlaid):\n"
                           + _tail(out, 30) + "\nfix the kit before grading")
        if self.args.no_baseline:
            return
        results = self.work / "baseline.json"
        code, out = run_capped(self.grade_command(results), self.template, deadline,
                               self.args.output_cap, self.work / "baseline.log")
        if code is None or code == -1 or not results.exists():
            raise KitError("the clean kit's stubs could not be graded, so this machine cannot grade:\n"
                           + _tail(out, 40))
        doc = json.loads(results.read_text())
        free = [t["name"] for t in doc["tests"] if is_graded(t) and t["status"] == "passed"]
        if free:
            raise KitError(f"graded test(s) {', '.join(free)} pass on the clean kit's stubs: they would give "
                           "points for no work, so the kit is broken; fix it before grading")
        self.tests = [(t["name"], t["max_score"]) for t in doc["tests"] if is_graded(t)]
        self.kit_checks = [test_name(t) for t in doc["tests"] if not is_graded(t)]
        self.kit_failures = {test_name(t): t.get("output", "") for t in doc["tests"]
                             if not is_graded(t) and t["status"] != "passed"}
        self.not_run = "\n".join(line for line in doc.get("output", "").splitlines() if line.startswith("not run:"))
        self.baseline_score = doc["score"]

    def grade(self, sub):
        start = time.monotonic()
        result = {"student": sub.name, "source": str(sub.path), "status": "graded", "score": 0,
                  "max": sum(m for _, m in self.tests) if self.tests else None, "tests": {}, "kit": {}, "message": "",
                  "notes": [], "log": "", "seconds": 0.0}
        try:
            load_submission(sub, self.wanted, self.limits)
        except Refused as e:
            result.update(status="refused", message=f"refused: {e}")
        except (OSError, ValueError) as e:
            result.update(status="refused", message=f"refused: the submission could not be read: {e}")
        else:
            result["notes"] = manifest_notes(sub, self.version)
            try:
                self._build_and_grade(sub, result, start)
            except KitError:
                raise
            except Exception as e:      # one strange submission must not stop the batch
                result.update(status="error", message=f"the batch grader failed on this submission: {e!r}")
        result["seconds"] = time.monotonic() - start
        return result

    def _build_and_grade(self, sub, result, start):
        work = Path(tempfile.mkdtemp(prefix=re.sub(r"[^\w.-]", "_", sub.name) + "-", dir=self.work))
        kit = work / "kit"
        try:
            self.prepare()
            subprocess.run(["cp", "-a", str(self.template), str(kit)], check=True)
            for w, data in sub.files.items():
                target = kit / w
                target.parent.mkdir(parents=True, exist_ok=True)
                if os.path.lexists(target):
                    target.unlink()
                target.write_bytes(data)
            deadline = start + self.args.timeout
            code, out = run_capped(self.make_command(), kit, deadline, self.args.output_cap, work / "build.log")
            out = _unroot(out, kit)
            if code is None:
                result.update(status="timeout", message=f"the build did not finish within {self.args.timeout} s",
                              log=out)
                return
            if code != 0:
                result.update(status="build-failed", message="the build failed, so no test could run (score 0)",
                              log=out)
                return
            results = work / "results.json"
            code, out = run_capped(self.grade_command(results), kit, deadline, self.args.output_cap,
                                   work / "grade.log")
            result["log"] = _unroot(out, kit)
            if code is None or code == -1 or not results.exists():
                self._from_lines(result, result["log"])
                if code is None:
                    result.update(status="timeout", message=(
                        f"grading ran past the submission's time limit ({self.args.timeout} s) and was stopped; "
                        "tests that had finished keep their points, the others get 0"))
                elif code == -1:
                    result.update(status="error",
                                  message="the grader printed more than the output cap and was stopped")
                else:
                    result.update(status="error", message=f"the grader did not finish (exit code {code}): "
                                  "an environment problem, not the student's code; grade this one again")
                return
            doc = json.loads(results.read_text())
            for t in doc["tests"]:
                entry = {"score": t["score"], "max": t["max_score"], "status": t["status"],
                         "output": _unroot(t.get("output", ""), kit)}
                if is_graded(t):
                    result["tests"][t["name"]] = entry
                else:
                    result["kit"][test_name(t)] = entry
            result["score"] = doc["score"]
            result["max"] = doc["max_score"]
        finally:
            if not self.args.keep:
                shutil.rmtree(work, ignore_errors=True)

    def _from_lines(self, result, text):
        """Results from the grader's printed lines, when it wrote no results.json (stopped at the time limit)."""
        last = None
        for line in text.splitlines():
            m = GRADE_LINE.match(line)
            k = KIT_LINE.match(line)
            if m:
                last = result["tests"][f"{m.group(1)} {m.group(2)}"] = {
                    "score": int(m.group(5)), "max": int(m.group(6)),
                    "status": "passed" if m.group(3) == "OK" else "failed", "output": ""}
            elif k:
                last = result["kit"][f"{k.group(1)} {k.group(2)}"] = {"score": 0, "max": 0, "status": "failed",
                                                                       "output": ""}
            elif last is not None and line.startswith("    "):
                last["output"] += line[4:] + "\n"      # the failure message under a FAIL line
            else:
                last = None
        result["score"] = sum(t["score"] for t in result["tests"].values())


def _unroot(text, kit):
    """Paths inside the temporary copy, written as the student's repository would have them."""
    return text.replace(str(kit) + "/", "").replace(str(kit), ".")


# --- the folder of submissions ------------------------------------------------------------------

def student_name(path):
    name = path.name
    if path.is_dir():
        return name
    for suffix in TAR_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name.split(".", 1)[0] or name


def find_submissions(folders, singles):
    subs, names = [], set()
    entries = []
    for folder in folders:
        folder = Path(folder)
        if not folder.is_dir():
            raise KitError(f"{folder} is not a folder of submissions")
        entries += sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    entries += [Path(p) for p in singles]
    for p in entries:
        name, k = student_name(p), 2
        base = name
        while name in names:
            name, k = f"{base}~{k}", k + 1
        names.add(name)
        subs.append(Submission(name, p))
    return sorted(subs, key=lambda s: s.name)


def parse_shard(text):
    m = re.fullmatch(r"(\d+)/(\d+)", text or "")
    if not m or not 1 <= int(m.group(1)) <= int(m.group(2)):
        raise argparse.ArgumentTypeError(f"--shard wants i/n with 1 <= i <= n, not '{text}'")
    return int(m.group(1)), int(m.group(2))


def merge(dirs, out):
    """Join the outputs of several shards into @out."""
    rows, names = [], []
    for d in map(Path, dirs):
        with open(d / "grades.csv", newline="") as f:
            reader = csv.DictReader(f)
            names += [n for n in reader.fieldnames[4:-2] if n not in names]
            rows += list(reader)
        for sub in ("reports", "results"):
            for p in (d / sub).glob("*"):
                shutil.copy2(p, out / sub / p.name)
    write_csv(out / "grades.csv", rows, names)
    print(f"batch: merged {len(rows)} submissions from {len(dirs)} folders into {out / 'grades.csv'}")


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m grader.batch", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folders", nargs="*", help="folders whose entries are submissions (tarballs or directories)")
    ap.add_argument("--submission", action="append", default=[], metavar="PATH",
                    help="one more submission (a tarball or a directory); repeatable")
    ap.add_argument("--lab", help="the lab to grade")
    ap.add_argument("--out", required=True, help="where grades.csv, reports/ and results/ go")
    ap.add_argument("-j", "--jobs", type=int, default=min(os.cpu_count() or 1, 2),
                    help="submissions graded at once (default: up to 2)")
    ap.add_argument("--shard", type=parse_shard, help="i/n: grade only every n-th submission, from the i-th")
    ap.add_argument("--timeout", type=int, default=300, help="seconds for one submission's build and grading")
    ap.add_argument("--output-cap", type=int, default=1 * MiB, help="bytes of output kept per submission")
    ap.add_argument("--max-archive-mib", type=int, default=32)
    ap.add_argument("--max-file-mib", type=int, default=8, help="limit for any one file in a submission")
    ap.add_argument("--max-total-mib", type=int, default=64)
    ap.add_argument("--sol", default="", help="overlay the reference solutions of these earlier labs (e.g. 0,1)")
    ap.add_argument("--kit", default=str(ROOT), help="the kit to grade with (default: this one)")
    ap.add_argument("--kit-rev", help="use this git commit of the kit instead of its working tree")
    ap.add_argument("--no-slow", action="store_true",
                    help="leave out the slow (Bochs) tests: every total then says how many points were not run")
    ap.add_argument("--long", action="store_true", help="also run the tests marked long (Linux as a guest)")
    ap.add_argument("--no-baseline", action="store_true", help="skip grading the clean kit's stubs first")
    ap.add_argument("--tmp", help="where the per-submission copies go (default: the system's temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep each submission's copy of the kit (for debugging)")
    ap.add_argument("--merge", nargs="+", metavar="DIR", help="join the --out folders of shards into --out")
    args = ap.parse_args(argv)

    out = Path(args.out)
    for sub in ("reports", "results"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    if args.merge:
        merge(args.merge, out)
        return 0
    if args.lab is None:
        ap.error("--lab is required")
    try:
        subs = find_submissions(args.folders, args.submission)
        if args.shard:
            i, n = args.shard
            subs = subs[i - 1::n]
        batch = Batch(args)
    except KitError as e:
        print(f"batch: {e}", file=sys.stderr)
        return 2
    start = time.monotonic()
    try:
        print(f"batch: lab {batch.lab}, {len(subs)} submission(s), -j {args.jobs}; "
              f"preparing the clean kit in {batch.work}", flush=True)
        if not args.no_baseline:
            batch.prepare()
        if batch.tests:
            print(f"batch: baseline ok (the stubs score {batch.baseline_score}/{sum(m for _, m in batch.tests)}; "
                  f"{len(batch.kit_checks) - len(batch.kit_failures)} of {len(batch.kit_checks)} kit checks pass)",
                  flush=True)
            write_kit_report(batch)
        rows, done = [], 0

        def one(sub):
            r = batch.grade(sub)
            r["kit_failures"] = tuple(batch.kit_failures)
            write_report(batch, sub, r)
            write_results_json(batch, sub, r)
            return r

        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            for r in pool.map(one, subs):
                done += 1
                rows.append(csv_row(r))
                print(f"[{done}/{len(subs)}] {r['student']}: {r['status']} {r['score']}/{r['max'] or '?'} "
                      f"({r['seconds']:.1f} s){' — ' + r['message'].splitlines()[0] if r['message'] else ''}",
                      flush=True)
        names = [n for n, _ in batch.tests]
        for row in rows:
            names += [k for k in row if k not in names
                      and k not in ("student", "total", "max", "status", "kit_checks", "message")]
        write_csv(out / "grades.csv", rows, names)
    except KitError as e:
        print(f"batch: {e}", file=sys.stderr)
        return 2
    finally:
        if not args.keep:
            shutil.rmtree(batch.work, ignore_errors=True)
    took = time.monotonic() - start
    counts = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    rate = len(subs) / took * 60 if took > 0 else 0
    print(f"batch: {len(subs)} submission(s) in {took:.1f} s ({rate:.1f}/min at -j {args.jobs}): "
          + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())))
    print(f"batch: {out / 'grades.csv'}, {out / 'reports'}/, {out / 'results'}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
