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
    """The longest files first, and tests that grade need the sandbox (bubblewrap): where it
    cannot run, they skip and say why."""
    # `make test` hands whole files to its workers in this order: the files that grade a class
    # (minutes each) go first, so that the many short files fill the end and no worker is left
    # with a long one while the other has finished. A file's tests keep their order (a stable sort).
    weight = {}
    for item in items:
        heavy = 2 if item.get_closest_marker("sandbox") else 1 if item.get_closest_marker("slow") else 0
        weight[item.path] = max(weight.get(item.path, 0), heavy)
    items.sort(key=lambda item: -weight[item.path])
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
