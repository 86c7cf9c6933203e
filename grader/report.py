"""The grade report: one line per test, the score, and Gradescope's results.json.

A pytest plugin (registered by grader/__main__.py) that collects each test's
outcome and prints it the way MIT's 6.828 grade scripts do. Tests come in two
kinds (docs/grading.md):

- **graded tests** (marked `student`) check code the student wrote: they fail
  on the handout's stubs and carry every point. Their lines print as they end:

      lab0 backtrace: OK (0.6 s) 10/10

- **kit checks** check the kit and the machine (the boot, the loaders, the
  grader's own references): they pass on the stubs and carry no points. They
  are listed at the end under their own heading; one that fails is also
  printed when it ends (`kit check lab0 boot_banner: KIT ERROR (0.3 s)` and its
  message), so that a run cut short still shows it. It is a *kit error*
  (the XTF word: the test could not judge) unless the run shows a student
  function at fault — a panic or a hang inside it — which makes it the
  student's failure, named as such.

The last line is `Score: T/P`; kit errors, and tests left out by choice
(--no-slow, no --long), are said on lines of their own above it.
"""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

MESSAGE_LINES = 40
ROOT = Path(__file__).resolve().parent.parent
KIT_ERROR_ADVICE = ("the kit or this machine is broken, not your code: run `make deps`, then `make grade` again; "
                    "if it stays, tell your instructor")


class TestResult:
    def __init__(self, nodeid):
        self.nodeid = nodeid
        module = nodeid.split("::")[0]
        m = re.search(r"test_lab(\d+)_", module)
        self.lab = int(m.group(1)) if m else None
        self.name = nodeid.split("::")[-1].removeprefix("test_")
        self.points = 0
        self.student = False
        self.handout = None
        self.not_run = None      # why a test was left out by choice (--no-slow, no --long)
        self.outcome = "passed"
        self.duration = 0.0
        self.message = ""
        self.culprit = None      # (function, file) of student code a failed kit check ran into

    @property
    def passed(self):
        return self.outcome == "passed"

    @property
    def graded(self):
        return self.student

    @property
    def kit_error(self):
        """A kit check that failed through no visible fault of the student's code."""
        return not self.graded and not self.not_run and not self.passed and self.culprit is None

    @property
    def score(self):
        return self.points if self.passed else 0

    @property
    def label(self):
        return f"lab{self.lab}" if self.lab is not None else "grader"

    @property
    def word(self):
        if self.kit_error:
            return "KIT ERROR"
        return {"passed": "OK", "failed": "FAIL", "skipped": "SKIP"}[self.outcome]


# --- which student function a failed kit check ran into ------------------------------------

def student_functions(build_dir, root=ROOT):
    """{function: student file} for every lab's student files, from their objects in @build_dir."""
    found = {}
    for listing in sorted((root / "labs").glob("lab*/files")):
        for line in listing.read_text().splitlines():
            path = line.split("#", 1)[0].strip()
            obj = Path(build_dir) / f"{path}.o"
            if not path or not obj.exists():
                continue
            try:
                out = subprocess.run(["nm", "--defined-only", str(obj)], capture_output=True, text=True,
                                     timeout=30).stdout
            except (OSError, subprocess.TimeoutExpired):
                continue
            for sym in out.splitlines():
                parts = sym.split()
                if len(parts) == 3 and parts[1] in "tT":
                    found.setdefault(parts[2], path)
    return found


def find_culprit(message, functions, name_of=lambda address: None):
    """The student function a failure message shows at fault: in a panic dump or where a hang stopped.

    Names come from the hypervisor's dumps (`<name+0x1f>`, backtrace lines), from
    gradelib's naming of a hung CPU, and from bare hypervisor addresses, which
    @name_of names (the kernel's own symbol lookup is lab 0's exercise, so it is not
    trusted here); the first one in the text — the innermost frame — counts."""
    for m in re.finditer(r"\b([A-Za-z_][\w.]*)\+0x[0-9a-f]+\b|\b(?:0x)?(ffffffff8[0-9a-f]{7})\b", message):
        name = m.group(1) or name_of(int(m.group(2), 16))
        if name in functions:
            return name, functions[name]
    return None


class GradeReport:
    """pytest plugin: gathers results, prints the report at the end."""

    def __init__(self, stream=sys.stdout, build_dir=None):
        self.results = {}
        self.order = []
        self.stream = stream
        self.build_dir = build_dir or os.environ.get("HYPATIA_BUILD", "build/stub")
        self._functions = None

    def functions(self):
        if self._functions is None:
            self._functions = student_functions(ROOT / self.build_dir)
        return self._functions

    def name_of(self, address):
        from gradelib import symbolize
        found = symbolize(ROOT / self.build_dir / "kernel/hypatia.elf", address)
        return found[0] if found else None

    def pytest_runtest_logreport(self, report):
        r = self.results.get(report.nodeid)
        if r is None:
            r = self.results[report.nodeid] = TestResult(report.nodeid)
            self.order.append(report.nodeid)
        props = dict(report.user_properties)
        r.points = props.get("points", r.points)
        r.student = props.get("student", r.student)
        r.handout = props.get("handout", r.handout)
        r.not_run = props.get("not_run", r.not_run)
        r.duration += report.duration
        if report.failed and r.outcome == "passed":
            r.outcome = "failed"
            r.message = _failure_text(report)
        elif report.skipped and r.outcome == "passed":
            r.outcome = "skipped"
            r.message = _skip_text(report)
        if report.when == "teardown":
            if not r.graded and r.outcome == "failed":
                r.culprit = find_culprit(r.message, self.functions(), self.name_of)
            if not r.not_run and (r.graded or r.outcome == "failed"):
                self._print(r)

    def _print(self, r, indent="", brief=False):
        if r.graded:
            self.stream.write(f"{r.label} {r.name}: {r.word} ({r.duration:.1f} s) {r.score}/{r.points}\n")
        elif brief:
            self.stream.write(f"{indent}{r.label} {r.name}: {r.word} ({r.duration:.1f} s)"
                              f"{'' if r.passed else ' (shown above)'}\n")
            return
        else:
            self.stream.write(f"kit check {r.label} {r.name}: {r.word} ({r.duration:.1f} s)\n")
        if not r.passed and r.message:
            pad = indent + "    "
            if r.culprit:
                self.stream.write(f"{pad}your code: this kit check failed inside {r.culprit[0]}() "
                                  f"({r.culprit[1]}), one of your functions\n")
            elif r.kit_error:
                self.stream.write(f"{pad}{KIT_ERROR_ADVICE}\n")
            lines = r.message.splitlines()
            for line in lines[:MESSAGE_LINES]:
                self.stream.write(f"{pad}{line}\n")
            if len(lines) > MESSAGE_LINES:
                self.stream.write(f"{pad}... ({len(lines) - MESSAGE_LINES} more lines)\n")
            if r.handout:
                self.stream.write(f"{pad}see: {r.handout}\n")
        self.stream.flush()

    def ordered(self):
        return [self.results[n] for n in self.order]

    def counted(self):
        """The tests that count: every test that ran (those left out by choice do not)."""
        return [r for r in self.ordered() if not r.not_run]

    def graded(self):
        return [r for r in self.counted() if r.graded]

    def kit_checks(self):
        return [r for r in self.counted() if not r.graded]

    def kit_errors(self):
        return [r for r in self.kit_checks() if r.kit_error]

    def totals(self):
        results = self.graded()
        return sum(r.score for r in results), sum(r.points for r in results)

    def print_score(self):
        kit = self.kit_checks()
        if kit:
            passed = sum(r.passed for r in kit)
            self.stream.write(f"\nKit checks ({passed} of {len(kit)} passed; worth no points: they check the kit "
                              "and this machine, not your code):\n")
            for r in kit:
                self._print(r, indent="  ", brief=True)
        left_out = [r for r in self.ordered() if r.not_run]
        if left_out:
            why = sorted({r.not_run for r in left_out})
            points = sum(r.points for r in left_out if r.graded)
            self.stream.write(f"Not run: {len(left_out)} test(s) worth {points} point(s), not in this total "
                              f"({'; '.join(why)})\n")
        errors = self.kit_errors()
        if errors:
            self.stream.write(f"KIT ERROR: {len(errors)} kit check(s) failed "
                              f"({', '.join(f'{r.label} {r.name}' for r in errors)}): {KIT_ERROR_ADVICE}. "
                              "The score below may be wrong.\n")
        got, possible = self.totals()
        self.stream.write(f"Score: {got}/{possible}\n")

    def write_gradescope(self, path):
        """Gradescope's autograder results format (results.json).

        Kit checks are visible 0-point tests whose names say so; a failed one
        says whose fault it is in its output."""
        got, possible = self.totals()
        tests = []
        for r in self.counted():
            output = r.message[-8000:] if r.message else ""
            if r.culprit:
                output = f"your code: this kit check failed inside {r.culprit[0]}() ({r.culprit[1]})\n" + output
            elif r.kit_error:
                output = f"KIT ERROR: {KIT_ERROR_ADVICE}\n" + output
            tests.append({
                "name": f"{r.label} {r.name}" if r.graded else f"kit check: {r.label} {r.name}",
                "score": r.score,
                "max_score": r.points,
                "status": "passed" if r.passed else "failed",
                "output": output,
                "visibility": "visible",
                "extra_data": {"kind": "graded" if r.graded else "kit check",
                               "kit_error": r.kit_error},
            })
        left_out = [r for r in self.ordered() if r.not_run]
        doc = {
            "score": got,
            "max_score": possible,
            "visibility": "visible",
            "output": "\n".join(
                ([f"KIT ERROR: {len(self.kit_errors())} kit check(s) failed: {KIT_ERROR_ADVICE}"]
                 if self.kit_errors() else []) +
                ([f"not run: {len(left_out)} test(s) ({'; '.join(sorted({r.not_run for r in left_out}))})"]
                 if left_out else [])),
            "tests": tests,
        }
        Path(path).write_text(json.dumps(doc, indent=2) + "\n")


def _failure_text(report):
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        text = crash.message
    else:
        text = str(report.longrepr)
    text = re.sub(r"^AssertionError: ", "", text)
    # pytest appends "assert False"-style introspection after our message; keep ours.
    text = re.split(r"\nassert ", text)[0]
    if report.when != "call":
        text = f"(during {report.when}) {text}"
    return text


def _skip_text(report):
    if isinstance(report.longrepr, tuple) and len(report.longrepr) == 3:
        return report.longrepr[2]
    return str(report.longrepr)
