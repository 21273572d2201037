import os
import sys
from pathlib import Path

import pytest

# Figures are drawn off-screen in tests.
os.environ.setdefault("MPLBACKEND", "Agg")
# The tests work on this repository's course (the working folder), whatever course the shell that
# runs them names (autograder.course_folder).
os.environ.pop("NNCOURSE_DIR", None)
# Test helpers (the simulated class) import as plain modules.
sys.path.insert(0, str(Path(__file__).parent))


def pytest_collection_modifyitems(config, items):
    """Tests that grade need the sandbox (bubblewrap); where it cannot run, they skip and say why."""
    marked = [item for item in items if item.get_closest_marker("sandbox")]
    if not marked:
        return
    from autograder import sandbox

    reason = sandbox.problem()
    # Only what the machine lacks is a reason to skip; a sandbox that fails otherwise is a bug.
    if reason and reason.startswith(sandbox.MACHINE_PROBLEMS):
        skip = pytest.mark.skip(reason=f"needs the grading sandbox: {reason}")
        for item in marked:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def grading_is_marked(request, monkeypatch):
    """A test that grades must be marked ``slow`` or ``sandbox``: ``make test-fast`` leaves out
    exactly those, so an unmarked one would make it slow. Enforced, not hoped for: every grading
    run starts with ``autograder.grading.make_api``."""
    if request.node.get_closest_marker("slow") or request.node.get_closest_marker("sandbox"):
        return
    import autograder.grading

    def refuse(*args, **kwargs):
        pytest.fail("this test grades with nbgrader: mark it `slow` (and `sandbox` if it runs "
                    "student code in the sandbox) so that `make test-fast` leaves it out")

    monkeypatch.setattr(autograder.grading, "make_api", refuse)
