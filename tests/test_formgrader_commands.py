"""Every command the formgrader offers leaves the course whole, with and without ``--force``.

A copy of the course's tracked files, in a git repository of its own, with a ``nbgrader_config.py``
pointing every working folder into the copy. A small class of unit 01 is graded with ``autograder
grade`` (which writes each student's ``summary.html``); then nbgrader's own commands run in the
copy, as the formgrader would run them. After each: no tracked file changed (the release notebook
and its ``nnlib`` edition included) and every student's summary page exists.
"""
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from simulated_class import edit_notebook, is_test_cell, make_submission

REPO = Path(__file__).resolve().parents[1]

pytestmark = [pytest.mark.slow, pytest.mark.sandbox]

UNIT = "01_linear_limits"
EDITED_TEST = "test_sigmoid"
STUDENTS = ("reference", "untouched_release", "edits_a_test")
CHECKSUM_WARNING = "Attribute 'checksum'"
SUBMITTED_AT = "2026-01-15 12:00:00.000000 UTC"


def nbgrader(course, *arguments):
    tools = Path(sys.executable).parent
    environment = {**os.environ, "PATH": f"{tools}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run([str(tools / "nbgrader"), *arguments], cwd=course, env=environment,
                          capture_output=True, text=True, timeout=900)


def git(course, *arguments):
    return subprocess.run(["git", *arguments], cwd=course, capture_output=True, text=True,
                          check=True).stdout


def copy_course(destination):
    """The course's tracked files (as they are in the work tree; the ``autograder`` package is the
    installed one) in a fresh git repository whose ``nbgrader_config.py`` points nbgrader at the
    copy."""
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True,
                             check=True).stdout.decode().split("\0")
    for relative in filter(None, tracked):
        source = REPO / relative
        # nbgrader puts its working folder first on sys.path: a copy of the autograder there would
        # stand in for the installed one the sandbox shows its kernels.
        if relative.startswith("autograder/"):
            continue
        if source.is_file():
            (destination / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / relative)
    (destination / "nbgrader_config.py").write_text(
        "from autograder.settings import configure\n\n"
        "c = get_config()  # noqa: F821\n"
        f"configure(c, root={str(destination)!r}, cell_timeout=10)\n"
        f"c.Exchange.root = {str(destination.parent / 'exchange')!r}\n")
    (destination.parent / "exchange").mkdir()
    git(destination, "init", "-q")
    git(destination, "add", "-A")
    git(destination, "-c", "user.name=test", "-c", "user.email=test@example.org",
        "commit", "-q", "-m", "course")
    return destination


def edit_first_test_cell(notebook):
    cell = next(cell for cell in notebook["cells"] if is_test_cell(cell)
                and cell["metadata"]["nbgrader"]["grade_id"] == EDITED_TEST)
    source = "".join(cell["source"])
    cell["source"] = source + "\nprint('a student was here')"


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    from autograder.grading import grade

    scratch = tmp_path_factory.mktemp("formgrader")
    course = copy_course(scratch / "course")
    release = course / "exercises" / UNIT
    submissions = scratch / "submissions"
    make_submission(release, submissions / "reference" / UNIT)
    make_submission(release, submissions / "untouched_release" / UNIT, reference=False)
    edited = make_submission(release, submissions / "edits_a_test" / UNIT, reference=False)
    edit_notebook(edited, UNIT, edit_first_test_cell)
    for folder in submissions.glob(f"*/{UNIT}"):
        # As nbgrader's submit and collect leave a submission; release_feedback needs both files.
        (folder / "timestamp.txt").write_text(SUBMITTED_AT)
        (folder / "submission_secret.txt").write_text(secrets.token_hex(64))
    grade(UNIT, submissions=submissions, work_dir=course, root=course, progress=False,
          cell_timeout=10)
    return course


def summary_pages(course):
    """``{student: the text of their summary page, or None}``."""
    pages = {student: course / "feedback" / student / UNIT / "summary.html" for student in STUDENTS}
    return {student: page.read_text() if page.is_file() else None for student, page in pages.items()}


def test_every_formgrader_command_leaves_the_course_whole(course):
    written_by_grading = summary_pages(course)
    assert None not in written_by_grading.values()
    commands = [
        ("generate_assignment", UNIT), ("generate_assignment", UNIT, "--force"),
        ("autograde", UNIT), ("autograde", UNIT, "--force"),
        ("generate_feedback", UNIT), ("generate_feedback", UNIT, "--force"),
        ("release_feedback", UNIT), ("export",),
    ]
    for command in commands:
        result = nbgrader(course, *command)
        assert result.returncode == 0, (command, result.stderr[-3000:])
        changed = git(course, "status", "--porcelain", "--untracked-files=no")
        assert changed == "", (command, changed)
        missing = [student for student, page in summary_pages(course).items() if page is None]
        assert missing == [], (command, missing)
        # Rebuilt from the same grades, each page reads as `autograder grade` wrote it.
        assert summary_pages(course) == written_by_grading, command


def test_autograde_warns_of_a_changed_test_cell_only_where_a_student_changed_one(course):
    result = nbgrader(course, "autograde", UNIT, "--force")
    assert result.returncode == 0, result.stderr[-3000:]
    warnings = [line for line in result.stderr.splitlines() if CHECKSUM_WARNING in line]
    # Only the student who edited a test cell; an untouched release (and the reference) changed none.
    assert len(warnings) == 1, warnings
    assert EDITED_TEST in warnings[0]
