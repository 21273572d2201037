"""`autograder` installed once (a wheel, not editable) grades a course folder elsewhere.

The project is built as a wheel and installed into a fresh environment; the course's tracked files
are copied to another folder, and the installed `autograder` grades a small class there. Every
file it writes lands in the copied course (its own gradebook among them, which nbgrader, run there,
reads too); nothing is written to the installed package, and nothing to this repository.

The fresh environment holds the wheel alone; the dependencies come from this environment (a
``.pth`` line, their commands and Jupyter data files through ``PATH`` and ``JUPYTER_PATH``). So
that the sandbox, which shows a grading kernel only its own environment, could not see them: this
class is graded with ``--no-sandbox`` (what the sandbox shows is tests/test_sandbox.py's part).
"""
import csv
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from autograder.selfcheck import make_reference_submission
from course_copy import REPO, copied_course
from simulated_class import make_submission

pytestmark = pytest.mark.slow

UNIT = "01_linear_limits"
# What the project's wheel is built from (the build's working files go next to these).
PROJECT_PARTS = ("pyproject.toml", "README.md", "autograder", "nncourse")


def tracked(*parts):
    listed = subprocess.run(["git", "ls-files", "-z", "--", *parts], cwd=REPO, capture_output=True,
                            check=True).stdout.decode().split("\0")
    return [relative for relative in listed if relative]


def files_under(folder, skip=()):
    """``{relative path: (size, mtime)}`` of every file under ``folder``."""
    found = {}
    for path in Path(folder).rglob("*"):
        relative = path.relative_to(folder)
        if path.is_file() and not any(part in skip for part in relative.parts):
            found[relative.as_posix()] = (path.stat().st_size, path.stat().st_mtime_ns)
    return found


def install_wheel(scratch):
    """A new environment holding only the project's wheel; returns its ``bin`` folder."""
    source = scratch / "project"
    for relative in tracked(*PROJECT_PARTS):
        (source / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / relative, source / relative)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir",
                    str(scratch / "wheels"), str(source)], check=True, capture_output=True)
    (wheel,) = (scratch / "wheels").glob("*.whl")
    environment = scratch / "environment"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(environment)], check=True)
    python = environment / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
                    "--no-deps", "--no-index", str(wheel)], check=True, capture_output=True)
    site_packages = subprocess.run([str(python), "-c", "import sysconfig; "
                                    "print(sysconfig.get_paths()['purelib'])"],
                                   capture_output=True, text=True, check=True).stdout.strip()
    (Path(site_packages) / "course-dependencies.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n")
    return environment / "bin", Path(site_packages)


def test_the_installed_autograder_grades_a_course_folder_elsewhere(tmp_path):
    tools, site_packages = install_wheel(tmp_path)
    course = copied_course(tmp_path / "course")
    release = course / "exercises" / UNIT
    lms = tmp_path / "lms"
    make_reference_submission(release, lms / "ada" / UNIT, course / "nnlib")
    make_submission(release, lms / "alan" / UNIT, reference=False)
    environment = {key: value for key, value in os.environ.items() if key != "NNCOURSE_DIR"}
    environment.update(PATH=os.pathsep.join([str(tools), str(Path(sys.executable).parent),
                                             environment["PATH"]]),
                       JUPYTER_PATH=str(Path(sys.prefix) / "share" / "jupyter"))
    where = subprocess.run([str(tools / "python"), "-c",
                            "import autograder; print(autograder.__file__)"],
                           cwd=course, env=environment, capture_output=True, text=True, check=True)
    assert Path(where.stdout.strip()).is_relative_to(site_packages)  # the wheel's, not this checkout's
    installed = files_under(site_packages)
    repository = files_under(REPO, skip={".git", ".venv", "__pycache__", ".pytest_cache"})
    course_before = files_under(course)

    grading = subprocess.run([str(tools / "autograder"), "grade", UNIT, "--submissions", str(lms),
                              "--jobs", "2", "--timeout", "20", "--no-sandbox"],
                             cwd=course / "exercises", env=environment, capture_output=True,
                             text=True, timeout=600)
    assert grading.returncode == 0, grading.stdout[-2000:] + grading.stderr[-3000:]
    assert f"grade table: {course / 'grades' / f'{UNIT}.csv'}" in grading.stdout
    with open(course / "grades" / f"{UNIT}.csv") as table:
        scores = {row["student_id"]: (row["score"], row["max_score"]) for row in csv.DictReader(table)}
    assert scores["ada"][0] == scores["ada"][1] and float(scores["alan"][0]) == 0
    for student in scores:
        assert (course / "feedback" / student / UNIT / "summary.html").is_file()

    # nbgrader's own command, run in the copy, reads the gradebook the autograder wrote there.
    students = subprocess.run([str(tools / "python"), "-m", "nbgrader", "db", "student", "list"],
                              cwd=course, env=environment, capture_output=True, text=True,
                              timeout=300)
    assert students.returncode == 0, students.stderr[-3000:]
    assert "ada" in students.stdout and "alan" in students.stdout

    written = set(files_under(course)) - set(course_before)
    assert {"gradebook.db", f"grades/{UNIT}.csv", f"reports/{UNIT}.html"} <= written
    assert all(path.split("/")[0] in {"gradebook.db", "submitted", "autograded", "feedback", "grades",
                                      "reports", ".autograder"} for path in written), sorted(written)
    assert files_under(site_packages) == installed, "the installed package was written to"
    assert files_under(REPO, skip={".git", ".venv", "__pycache__", ".pytest_cache"}) == repository
