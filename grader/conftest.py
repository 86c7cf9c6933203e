"""pytest configuration shared by every grader test: markers and fixtures."""
import os
import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from build import Build  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "points(n): the test is worth n points")
    config.addinivalue_line("markers", "student: the test depends on code students write; "
                            "it must fail on the handout's stubs")
    config.addinivalue_line("markers", "slow: the test takes more than a few seconds (Bochs, Linux)")
    config.addinivalue_line("markers", "long: the test boots Linux (a download once, then half a minute to "
                            "minutes); the grader runs it only with --long")
    config.addinivalue_line("markers", "handout(section): the handout section that explains what the test checks")


def pytest_collection_modifyitems(items):
    # Copy markers into user_properties: they travel from pytest-xdist workers
    # to the process that prints the grade report.
    for item in items:
        points = item.get_closest_marker("points")
        # A score counts only what the student wrote: a test that does not depend on
        # student code (it passes on the handout's stubs) is a kit check, and carries
        # no points. `make test` proves the other half: every student test fails on
        # the stubs.
        if points and points.args[0] and item.get_closest_marker("student") is None:
            raise pytest.UsageError(f"{item.nodeid} carries points({points.args[0]}) but is not marked "
                                    "student: a kit check is worth 0 points (docs/grading.md)")
        item.user_properties.append(("points", points.args[0] if points else 0))
        # Tests left out by choice (--no-slow, no --long) are skipped, not deselected,
        # so that every report says what it did not count (docs/grading.md).
        left_out = None
        if item.get_closest_marker("long") and os.environ.get("HYPATIA_LONG") != "1":
            left_out = "marked long (Linux as a guest): add --long"
        elif item.get_closest_marker("slow") and os.environ.get("HYPATIA_NO_SLOW") == "1":
            left_out = "marked slow (Bochs): --no-slow left it out"
        if left_out:
            item.add_marker(pytest.mark.skip(reason=f"not run: {left_out}"))
            item.user_properties.append(("not_run", left_out))
        item.user_properties.append(("student", item.get_closest_marker("student") is not None))
        handout = item.get_closest_marker("handout")
        if handout:
            item.user_properties.append(("handout", handout.args[0]))


@pytest.fixture(scope="session")
def build():
    """Paths of the kit's build artefacts (HYPATIA_BUILD, default build/stub)."""
    return Build(os.environ.get("HYPATIA_BUILD", "build/stub"))


@pytest.fixture
def nonce():
    """A fresh random nonce per test: guests fold it into what they print."""
    return random.SystemRandom().randrange(1, 1 << 62)


@pytest.fixture(scope="module")
def module_nonce():
    """One nonce shared by the tests of a module that boot once."""
    return random.SystemRandom().randrange(1, 1 << 62)
