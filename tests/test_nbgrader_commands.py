"""nbgrader's own command (what the formgrader runs) grades in the same sandbox as `autograder grade`.

The course's ``nbgrader_config.py`` calls ``autograder.settings.configure``; a course folder here
does the same, pointed at a temporary working folder. ``nbgrader autograde`` then grades an honest
reference and a submission that copies the most complete ``nnlib`` it can find (the reference) over
itself: without the sandbox that copy scores full marks (tests/test_sandbox.py shows the reference
is readable bare); with it, zero.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.build import build_unit
from hostile import UNIT, attack_source
from simulated_class import make_submission

REPO = Path(__file__).resolve().parents[1]

pytestmark = [pytest.mark.slow, pytest.mark.sandbox]


def nbgrader(course, *arguments):
    tools = Path(sys.executable).parent
    environment = {**os.environ, "PATH": f"{tools}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run([str(tools / "nbgrader"), *arguments], cwd=course, env=environment,
                          capture_output=True, text=True, timeout=600)


def test_nbgrader_autograde_runs_submissions_in_the_sandbox(tmp_path):
    from nbgrader.api import Gradebook

    course = tmp_path / "course"
    course.mkdir()
    (course / "nbgrader_config.py").write_text(
        "from autograder.settings import configure\n\n"
        "c = get_config()  # noqa: F821\n"
        f"configure(c, root={str(REPO)!r}, work_dir={str(course)!r})\n"
        f"c.CourseDirectory.release_directory = {str(tmp_path / 'release')!r}\n")
    release = build_unit(UNIT, tmp_path / "edition", work_dir=tmp_path / "build")
    make_submission(release, course / "submitted" / "reference" / UNIT)
    thief = make_submission(release, course / "submitted" / "thief" / UNIT, reference=False)
    params = {"repo": str(REPO), "work": str(course), "home": os.path.expanduser("~"),
              "student": "thief", "unit": UNIT, "port": 9, "token": "unused", "daemon_seconds": 0,
              "submitted_nnlib": str(thief / "nnlib")}
    init = thief / "nnlib" / "__init__.py"
    init.write_text(init.read_text() + attack_source("copies_the_reference", params))
    before = init.read_bytes()

    generated = nbgrader(course, "generate_assignment", UNIT, "--force")
    assert generated.returncode == 0, generated.stderr[-3000:]
    graded = nbgrader(course, "autograde", UNIT, "--force")
    assert graded.returncode == 0, graded.stderr[-3000:]

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        assert gradebook.find_submission(UNIT, "reference").score == 14.0
        assert gradebook.find_submission(UNIT, "thief").score == 0.0
    assert init.read_bytes() == before
