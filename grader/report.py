"""The grade report: one line per test, the score, and Gradescope's results.json.

A pytest plugin (registered by grader/__main__.py) that collects each test's
outcome and prints it the way MIT's 6.828 grade scripts do:

    lab0 boot_banner: OK (0.6 s) 5/5
    lab0 backtrace: FAIL (0.5 s) 0/10
        expected ...
    Score: 35/45
"""
import json
import re
import sys
from pathlib import Path

MESSAGE_LINES = 40


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
        self.outcome = "passed"
        self.duration = 0.0
        self.message = ""

    @property
    def passed(self):
        return self.outcome == "passed"

    @property
    def score(self):
        return self.points if self.passed else 0

    @property
    def label(self):
        return f"lab{self.lab}" if self.lab is not None else "grader"


class GradeReport:
    """pytest plugin: gathers results, prints the report at the end."""

    def __init__(self, stream=sys.stdout):
        self.results = {}
        self.order = []
        self.stream = stream

    def pytest_runtest_logreport(self, report):
        r = self.results.get(report.nodeid)
        if r is None:
            r = self.results[report.nodeid] = TestResult(report.nodeid)
            self.order.append(report.nodeid)
        props = dict(report.user_properties)
        r.points = props.get("points", r.points)
        r.student = props.get("student", r.student)
        r.handout = props.get("handout", r.handout)
        r.duration += report.duration
        if report.failed and r.outcome == "passed":
            r.outcome = "failed"
            r.message = _failure_text(report)
        elif report.skipped and r.outcome == "passed":
            r.outcome = "skipped"
            r.message = _skip_text(report)
        if report.when == "teardown":
            self._print(r)

    def _print(self, r):
        word = {"passed": "OK", "failed": "FAIL", "skipped": "SKIP"}[r.outcome]
        self.stream.write(f"{r.label} {r.name}: {word} ({r.duration:.1f} s) {r.score}/{r.points}\n")
        if not r.passed and r.message:
            lines = r.message.splitlines()
            for line in lines[:MESSAGE_LINES]:
                self.stream.write(f"    {line}\n")
            if len(lines) > MESSAGE_LINES:
                self.stream.write(f"    ... ({len(lines) - MESSAGE_LINES} more lines)\n")
            if r.handout:
                self.stream.write(f"    see: {r.handout}\n")
        self.stream.flush()

    def ordered(self):
        return [self.results[n] for n in self.order]

    def totals(self):
        results = self.ordered()
        return sum(r.score for r in results), sum(r.points for r in results)

    def print_score(self):
        got, possible = self.totals()
        self.stream.write(f"Score: {got}/{possible}\n")

    def write_gradescope(self, path):
        """Gradescope's autograder results format (results.json)."""
        got, possible = self.totals()
        doc = {
            "score": got,
            "max_score": possible,
            "visibility": "visible",
            "tests": [{
                "name": f"{r.label} {r.name}",
                "score": r.score,
                "max_score": r.points,
                "status": "passed" if r.passed else "failed",
                "output": r.message[-8000:] if r.message else "",
                "visibility": "visible",
            } for r in self.ordered()],
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
