"""The batch grader's outputs: per-student reports, Gradescope results, grades.csv, kit.txt.

Split from grader/batch.py (which grades; this writes what it found). See docs/instructor.md.
"""
import csv
import hashlib
import json
import re

REPORT_LINE_CHARS = 300        # one line of a report is cut after this many characters


def _tail(text, n):
    lines = text.rstrip("\n").splitlines()[-n:]
    return "\n".join("    | " + line[:REPORT_LINE_CHARS] for line in lines) if lines else "    | (no output)"


def safe_name(name):
    return re.sub(r"[^\w.@+-]", "_", name) or "_"


def write_report(batch, sub, r):
    lines = [f"Hypatia lab {batch.lab} — {r['student']}", "",
             f"submission: {sub.path.name} ({sub.kind})",
             f"status:     {r['status']}",
             f"score:      {r['score']}/{r['max'] if r['max'] is not None else '?'}",
             f"kit:        {batch.version}" + (f" with the reference solutions of lab(s) {','.join(batch.sol_labs)}"
                                              if batch.sol_labs else ""),
             f"time:       {r['seconds']:.1f} s"]
    if batch.not_run:
        lines.append(f"{batch.not_run} — the same for every student")
    if r["message"]:
        lines += ["", r["message"]]
    if sub.files:
        lines += ["", "student files used:"]
        lines += [f"  {p}  sha256 {hashlib.sha256(d).hexdigest()[:16]}  {len(d)} bytes" for p, d in sub.files.items()]
    if sub.ignored:
        dotgit = [n for n in sub.ignored if "/.git/" in f"/{n}"]
        other = [n for n in sub.ignored if n not in dotgit]
        lines += ["", f"ignored: {len(other)} file(s) outside the student files"
                  + (f" (and {len(dotgit)} under .git/)" if dotgit else "")
                  + " — only the files listed in labs/lab{}/files are graded".format(batch.lab)]
        lines += [f"  {n}" for n in other[:10]] + ([f"  ... and {len(other) - 10} more"] if len(other) > 10 else [])
    for note in r["notes"]:
        lines.append(f"note: {note}")
    if r["status"] in ("graded", "timeout", "error") and (r["tests"] or batch.tests):
        lines += ["", "tests:"]
        names = [n for n, _ in batch.tests] or list(r["tests"])
        names += [n for n in r["tests"] if n not in names]
        for name in names:
            t = r["tests"].get(name)
            if t is None:
                lines.append(f"  {name}: NOT RUN 0/{dict(batch.tests).get(name, '?')}")
                continue
            word = {"passed": "OK", "failed": "FAIL"}.get(t["status"], t["status"].upper())
            lines.append(f"  {name}: {word} {t['score']}/{t['max']}")
            if t["status"] != "passed" and t["output"]:
                lines += [f"      {line[:REPORT_LINE_CHARS]}" for line in t["output"].splitlines()[:40]]
    lines += kit_check_lines(batch, r)
    if r["status"] in ("build-failed", "timeout", "error") and r["log"]:
        lines += ["", "last lines of output:", _tail(r["log"], 30)]
    if r["status"] != "refused":
        lines += ["", "to reproduce locally: put these student files into a clean handout of the kit, then run",
                  f"    make grade LAB={batch.lab}" + (f" SOL={','.join(batch.sol_labs)}" if batch.sol_labs else ""),
                  "a failing test prints the QEMU command of its run ('reproduce:'); "
                  "run it from the repository root."]
    else:
        lines += ["", "nothing was built or run. Make the tarball with `make handin` in your repository, "
                  "then hand it in again."]
    if sub.git_log:
        log = sub.git_log.splitlines()
        lines += ["", f"git log (from the handin, {len(log)} lines; the first 10):"]
        lines += [f"  {x[:200]}" for x in log[:10]]
    text = "\n".join(lines) + "\n"
    (batch.out / "reports" / f"{safe_name(r['student'])}.txt").write_text(text)
    return text


def kit_verdict(batch, name, t):
    """Whose failure a failed kit check is, in a few words."""
    if name in batch.kit_failures:
        return "KIT ERROR: it fails on the clean kit too, so it is the kit's (or the machine's) fault, not yours"
    said = re.search(r"^your code: .*$", t["output"], re.M)
    return (said.group(0) if said else
            "your code: it passes on the clean kit and fails with your files")


def kit_check_lines(batch, r):
    """The report's section on the kit checks: worth no points, shown apart."""
    if not r["kit"]:
        return []
    failed = {n: t for n, t in r["kit"].items() if t["status"] != "passed"}
    lines = ["", f"kit checks (no points: they check the kit and this machine): "
                 f"{len(r['kit']) - len(failed)} of {len(r['kit'])} passed"]
    for name, t in failed.items():
        lines.append(f"  {name}: FAIL — {kit_verdict(batch, name, t)}")
        if name not in batch.kit_failures:
            lines += [f"      {line[:REPORT_LINE_CHARS]}" for line in t["output"].splitlines()[:40]
                      if not line.startswith("your code: ")]
    return lines


def write_results_json(batch, sub, r):
    """Gradescope's results.json for one student."""
    if r["tests"]:
        tests = [{"name": n, "score": t["score"], "max_score": t["max"],
                  "status": "passed" if t["status"] == "passed" else "failed",
                  "output": t["output"][-8000:], "visibility": "visible"} for n, t in r["tests"].items()]
        done = set(r["tests"])
    else:
        tests, done = [], set()
    why = r["message"] or r["status"]
    tests += [{"name": n, "score": 0, "max_score": m, "status": "failed", "output": f"not run: {why}",
               "visibility": "visible"} for n, m in batch.tests if n not in done]
    for name, t in r["kit"].items():
        failed = t["status"] != "passed"
        tests.append({"name": f"kit check: {name}", "score": 0, "max_score": 0,
                      "status": "failed" if failed else "passed",
                      "output": (kit_verdict(batch, name, t) + "\n" + t["output"][-8000:]) if failed else "",
                      "visibility": "visible"})
    summary = [f"status: {r['status']}"] + ([r["message"]] if r["message"] else [])
    summary += [f"note: {n}" for n in r["notes"]]
    if batch.not_run:
        summary.append(batch.not_run)
    if sub.ignored:
        summary.append(f"ignored: {len(sub.ignored)} file(s) outside the student files")
    if r["status"] in ("build-failed", "timeout", "error") and r["log"]:
        summary += ["last lines of output:", _tail(r["log"], 30)]
    doc = {"score": r["score"], "output": "\n".join(summary)[-16000:], "visibility": "visible",
           "execution_time": round(r["seconds"], 1), "tests": tests}
    if r["max"] is not None:
        doc["max_score"] = r["max"]
    (batch.out / "results" / f"{safe_name(r['student'])}.json").write_text(json.dumps(doc, indent=2) + "\n")


def write_csv(path, rows, test_names):
    """One row per student: the total, then the points of each graded test, then the kit checks."""
    fields = ["student", "total", "max", "status"] + test_names + ["kit_checks", "message"]
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        for row in sorted(rows, key=lambda r: r["student"]):
            w.writerow(row)


def batch_kit_failures(r):
    return r.get("kit_failures", ())


def write_kit_report(batch):
    """kit.txt: the baseline's kit checks, and the ones that fail on the clean kit — said once, here."""
    lines = [f"Hypatia lab {batch.lab}: the clean kit (stubs) graded before any submission", "",
             f"kit checks: {len(batch.kit_checks) - len(batch.kit_failures)} of {len(batch.kit_checks)} pass"]
    if batch.not_run:
        lines.append(batch.not_run)
    for name, output in batch.kit_failures.items():
        lines += ["", f"{name}: FAILS on the clean kit — the kit or this machine is broken; no student's report "
                      "counts it as theirs", _tail(output, 30)]
        print(f"batch: KIT ERROR: kit check {name} fails on the clean kit (reported once, in kit.txt)", flush=True)
    (batch.out / "kit.txt").write_text("\n".join(lines) + "\n")


def csv_row(r):
    row = {"student": r["student"], "total": r["score"], "max": "" if r["max"] is None else r["max"],
           "status": r["status"], "message": r["message"].splitlines()[0] if r["message"] else ""}
    for name, t in r["tests"].items():
        row[name] = t["score"]
    if r["kit"]:
        failed = [n for n, t in r["kit"].items() if t["status"] != "passed"]
        row["kit_checks"] = f"{len(r['kit']) - len(failed)}/{len(r['kit'])}" + (
            " failed: " + ", ".join(n + (" (kit)" if n in batch_kit_failures(r) else " (student)") for n in failed)
            if failed else "")
    return row
