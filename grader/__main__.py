"""Grade one or more labs: `python3 -m grader --lab 0 [--build build/stub]`.

Prints one line per graded test, the kit checks under their own heading, and
`Score: T/P`. Exit status: 0 full marks, 1 points missing (the student's code),
3 a kit error (a kit check failed: the kit or the machine is broken, so the
score cannot be trusted), 2 the tests could not run at all.
With --expect, it checks instead that the build scores as it should:
`--expect solution`: every test passes (the reference solutions);
`--expect stub`: every test marked `student` fails and every other passes
(the handout as students receive it). `make test` runs both for every lab.
"""
import argparse
import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from report import GradeReport  # noqa: E402


def lab_test_files(labs):
    files = []
    for lab in labs:
        found = sorted((HERE / "tests").glob(f"test_lab{lab}_*.py"))
        if not found:
            sys.exit(f"grader: no tests for lab {lab} (looked for grader/tests/test_lab{lab}_*.py)")
        files += found
    return files


def have_xdist():
    try:
        import xdist  # noqa: F401
        return True
    except ImportError:
        return False


def check_expectation(report, expect):
    """Return the list of tests that did not behave as @expect says they must.

    On the stubs that is: every graded test fails (the score is 0 of P > 0) and
    every kit check passes; on the solutions, everything passes."""
    wrong = []
    got, possible = report.totals()
    if possible == 0:
        wrong.append("the lab has no graded test: nothing a student writes would count")
    if expect == "stub" and got != 0:
        wrong.append(f"the stubs score {got}/{possible}: points for no work")
    for r in report.counted():
        must_pass = expect == "solution" or not r.student
        if r.passed != must_pass:
            wrong.append(f"{r.label} {r.name}: {'passed' if r.passed else r.outcome}, "
                         f"but must {'pass' if must_pass else 'fail'} on the {expect}")
    return wrong


def main():
    ap = argparse.ArgumentParser(prog="python3 -m grader", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lab", action="append", required=True,
                    help="lab number (repeat, or 'all')")
    ap.add_argument("--build", default="build/stub", help="build directory (default build/stub)")
    ap.add_argument("--expect", choices=["solution", "stub"], help="check the build scores as it must")
    ap.add_argument("--gradescope", metavar="FILE", help="also write Gradescope results.json")
    ap.add_argument("--junit", metavar="FILE", help="also write JUnit XML")
    ap.add_argument("-j", "--jobs", type=int, default=min(os.cpu_count() or 1, 2),
                    help="tests run in parallel (default: up to 2)")
    ap.add_argument("-k", metavar="EXPR", help="only tests matching this pytest expression")
    ap.add_argument("--no-slow", action="store_true", help="skip tests marked slow (Bochs)")
    ap.add_argument("--long", action="store_true",
                    help="also run the tests marked long (Linux as a guest: fetches Debian's kernel once; "
                         "about 2 minutes with Bochs)")
    args = ap.parse_args()

    labs = []
    for lab in args.lab:
        if lab == "all":
            labs += sorted({p.name[8:].split("_")[0] for p in (HERE / "tests").glob("test_lab*_*.py")}, key=int)
        else:
            labs += lab.split(",")
    os.environ["HYPATIA_BUILD"] = args.build

    pytest_args = [str(f) for f in lab_test_files(labs)]
    pytest_args += ["-p", "no:terminal", "-p", "no:cacheprovider", "--rootdir", str(HERE),
                    "-c", str(HERE / "pytest.ini")]
    if args.jobs > 1 and have_xdist():
        pytest_args += ["-n", str(args.jobs), "--dist", "loadfile"]
    if args.junit:
        pytest_args += ["--junitxml", args.junit]
    if args.k:
        pytest_args += ["-k", args.k]
    # Read by conftest.py, in every pytest-xdist worker too.
    os.environ["HYPATIA_NO_SLOW"] = "1" if args.no_slow else "0"
    os.environ["HYPATIA_LONG"] = "1" if args.long else "0"

    report = GradeReport()
    code = pytest.main(pytest_args, plugins=[report])
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        print(f"grader: pytest could not run the tests (exit code {int(code)})", file=sys.stderr)
        return 2
    report.print_score()
    if args.gradescope:
        report.write_gradescope(args.gradescope)

    if args.expect:
        wrong = check_expectation(report, args.expect)
        for line in wrong:
            print(f"UNEXPECTED: {line}")
        if not report.counted():
            print("UNEXPECTED: no test ran")
            return 1
        print(f"expectation '{args.expect}' for lab(s) {','.join(labs)}: {'NOT MET' if wrong else 'met'}")
        return 1 if wrong else 0
    if report.kit_errors():
        return 3
    got, possible = report.totals()
    return 0 if got == possible else 1


if __name__ == "__main__":
    sys.exit(main())
