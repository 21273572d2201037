"""Which course `autograder` works on: ``--course DIR``, else ``$NNCOURSE_DIR``, else the working
folder or the nearest folder above it holding ``nbgrader_config.py``; never where it is installed.
nbgrader's own commands, reading the course's ``nbgrader_config.py``, choose the same course."""
import os
import subprocess
import sys

import pytest
from traitlets.config.loader import PyFileConfigLoader

from autograder import results
from autograder.course_folder import CourseNotFound, find
from autograder.results import GradeReport, StudentResult, TestResult
from autograder.settings import course_config
from course_copy import linked_course

UNIT = "01_linear_limits"


def run(*args, cwd, environment=None):
    env = {key: value for key, value in os.environ.items() if key != "NNCOURSE_DIR"}
    return subprocess.run([sys.executable, "-m", "autograder", *args], capture_output=True,
                          text=True, cwd=cwd, env={**env, **(environment or {})}, timeout=120)


def graded(course, *students):
    """``course`` with a saved grading run of ``UNIT`` per student (each graded alone, a day
    apart); the last is current."""
    for day, student in enumerate(students, start=1):
        report = GradeReport(UNIT, [StudentResult(student, [TestResult("test_sigmoid", 1.0, 1.0)])],
                             course / "grades" / f"{UNIT}.csv")
        results.save(report, course, run=f"2026-12-0{day}T090000Z")
    return course


def graded_students(course):
    return [student.student_id for student in results.load(UNIT, course).students]


@pytest.fixture
def courses(tmp_path):
    return (graded(linked_course(tmp_path / "first"), "ada", "alan"),
            graded(linked_course(tmp_path / "second"), "grace", "gordon"))


def test_the_course_is_found_from_any_folder_inside_it(courses, monkeypatch):
    first, _ = courses
    monkeypatch.delenv("NNCOURSE_DIR", raising=False)
    for folder in (first, first / "grades" / UNIT):
        monkeypatch.chdir(folder)
        assert find() == first
    result = run("restore", UNIT, "2026-12-01T090000Z", cwd=first / "grades" / UNIT)
    assert result.returncode == 0, result.stderr
    assert graded_students(first) == ["ada"]


def test_course_option_then_environment_then_working_folder(courses):
    first, second = courses
    assert find(first) == first
    result = run("--course", str(second), "restore", UNIT, "2026-12-01T090000Z", cwd=first,
                 environment={"NNCOURSE_DIR": str(first)})
    assert result.returncode == 0, result.stderr
    assert (graded_students(first), graded_students(second)) == (["alan"], ["grace"])
    graded(second, "grace", "gordon")
    result = run("restore", UNIT, "2026-12-01T090000Z", cwd=first,
                 environment={"NNCOURSE_DIR": str(second)})
    assert result.returncode == 0, result.stderr
    assert (graded_students(first), graded_students(second)) == (["alan"], ["grace"])
    result = run("restore", UNIT, "2026-12-01T090000Z", cwd=first)
    assert result.returncode == 0, result.stderr
    assert (graded_students(first), graded_students(second)) == (["ada"], ["grace"])


def test_outside_a_course_it_says_where_it_looked_and_how_to_name_one(tmp_path):
    result = run("history", UNIT, cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert f"no nbgrader_config.py in {tmp_path}" in result.stderr
    assert "--course DIR" in result.stderr and "NNCOURSE_DIR" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_folder_that_is_not_this_course_is_refused_naming_what_it_lacks(tmp_path, monkeypatch):
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")  # someone else's nbgrader
    (tmp_path / "nnlib").mkdir()
    monkeypatch.chdir(tmp_path / "nnlib")
    with pytest.raises(CourseNotFound, match="lacks solutions, nnlib/__init__.py"):
        find()
    result = run("--course", str(tmp_path / "missing"), "history", UNIT, cwd=tmp_path)
    assert result.returncode == 2 and "is not a folder" in result.stderr
    result = run("history", UNIT, cwd=tmp_path, environment={"NNCOURSE_DIR": str(tmp_path)})
    assert result.returncode == 2 and "NNCOURSE_DIR names" in result.stderr


def nbgrader_sees(course):
    """The config nbgrader builds from ``course``'s nbgrader_config.py, as it loads the file."""
    return PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()


def test_nbgrader_and_autograder_use_the_same_course_and_gradebook(courses, monkeypatch):
    first, second = courses
    monkeypatch.delenv("NNCOURSE_DIR", raising=False)
    monkeypatch.chdir(first)
    for course in courses:  # each copy its own gradebook, wherever nbgrader is started from
        seen = nbgrader_sees(course)
        assert seen.CourseDirectory.root == str(course)
        assert seen.CourseDirectory.db_url.startswith(f"sqlite:///{course / 'gradebook.db'}?")
        assert seen.CourseDirectory.source_directory == str(course / "solutions")
    assert nbgrader_sees(first).CourseDirectory == course_config().CourseDirectory
    monkeypatch.setenv("NNCOURSE_DIR", str(second))  # the course named for both
    assert nbgrader_sees(first).CourseDirectory == course_config().CourseDirectory
    assert course_config().CourseDirectory.root == str(second)
