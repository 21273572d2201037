"""``autograder export``: the last grading run in the formats other systems import as they are.

Per unit (``autograder export UNIT --format ...``), under ``exports/<unit>/``:

- ``gradescope``: ``gradescope/<student>/results.json`` in Gradescope's autograder format: ``score``,
  ``output``, and ``tests``, each with ``name``, ``score``, ``max_score``, ``output``, ``visibility``.
- ``csv``: ``<unit>-lms.csv``, a generic table for Moodle or Blackboard: ``Student ID`` (the nbgrader
  student id, i.e. the folder name of the submission), ``<unit> Points``, ``<unit> Max Points``.
- ``canvas``: ``<unit>-canvas.csv``, a Canvas gradebook import (see below).

Across units (``autograder export --all --format csv|canvas``), under ``exports/all-units/``, one
table of every unit with saved results (``grades/<unit>.json``), a blank cell where a student has no
grade for a unit:

- ``all-units-lms.csv``: ``Student ID``, ``<unit> Points`` per unit, ``Total Points`` (the sum of
  the student's unit points) and ``Total Max Points`` (the sum of the units' maxima).
- ``all-units-canvas.csv``: the Canvas layout with one column per unit and no total (Canvas computes
  its own; a ``Total`` column would be imported as one more assignment).

Canvas layout, following Canvas's documented gradebook CSV (the one its gradebook exports and
imports): the identity columns ``Student``, ``ID``, ``SIS User ID``, ``SIS Login ID``, ``Section``,
then one column per assignment titled ``Unit 04: Gradients of a single layer``; the first data row
is ``Points Possible`` with each assignment's maximum and blank identity cells. Assumptions, as
Canvas's documentation could not be checked from here:

- nbgrader's student id is what the institution knows the student by, so it fills both ``SIS User
  ID`` and ``SIS Login ID``: Canvas matches a row by ``ID``, then ``SIS User ID``, then ``SIS Login
  ID``, so whichever of the two the course's ids are, the row matches. ``ID`` (Canvas's own user id)
  is the gradebook's ``lms_user_id`` when set, else blank; ``Student`` is the gradebook's
  "Last, First" name when set, else the student id; ``Section`` is blank (Canvas ignores it on
  import).
- A column title without Canvas's ``(<assignment id>)`` suffix creates a new assignment on import; to
  fill an existing one instead, rename the header to the title Canvas's own export gives it.
- A blank score leaves that student's grade as it is.

Manual grades: nbgrader's gradebook (``gradebook.db`` in the working folder) keeps a ``manual_score``
the instructor sets in the formgrader, which overrides the automatic score. Every export uses the
gradebook's final score for such a test (``Grade.score``: the manual score plus any extra credit);
Gradescope's output for it says it was overridden, with the automatic score and the grader's comment
(the manual comment on the cell of the same name). Manual comments on other cells of the notebook go
into Gradescope's overall output. The gradebook is only read (opened read-only); without one, the
saved results are exported as they are.
"""
import contextlib
import csv
import io
import json
import sqlite3
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import results
from .course import UNIT_IDS, get_unit
from .files import write_atomically
from .reference import REPO

FORMATS = ("gradescope", "csv", "canvas")
TABLE_FORMATS = ("csv", "canvas")  # the formats with a table across units
CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_POINTS_POSSIBLE = "Points Possible"
ALL_UNITS = "all-units"
OVERRIDDEN = "score set by the grader"


@dataclass
class ManualGrades:
    """What an instructor set by hand in nbgrader's gradebook, read once for an export."""

    # (unit, student, test) -> (final score, automatic score or None)
    scores: dict = field(default_factory=dict)
    # (unit, student) -> {cell name: the grader's comment}
    comments: dict = field(default_factory=dict)
    # student id -> (name as "Last, First" or "", Canvas user id or "")
    students: dict = field(default_factory=dict)


def read_gradebook(units, work_dir=REPO):
    """The manual scores, comments and student names of ``units`` in ``work_dir/gradebook.db``,
    opened read-only; empty ``ManualGrades`` when there is no gradebook."""
    from .settings import COURSE_ID

    path = Path(work_dir).resolve() / "gradebook.db"
    manual = ManualGrades()
    # mode=ro: SQLite itself refuses any write, whatever nbgrader's Gradebook would try.
    url = f"file:{path}?mode=ro"
    if not path.is_file() or not _has_course(url, COURSE_ID):
        return manual
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(f"sqlite:///{url}&uri=true", COURSE_ID) as gradebook:
        for student in gradebook.students:
            name = ", ".join(part for part in (student.last_name, student.first_name) if part)
            manual.students[student.id] = (name, student.lms_user_id or "")
        for unit in units:
            for student in manual.students:
                try:
                    notebook = gradebook.find_submission_notebook(unit, unit, student)
                except MissingEntry:
                    continue
                for grade in notebook.grades:
                    if grade.manual_score is not None:
                        manual.scores[unit, student, grade.name] = (float(grade.score),
                                                                     grade.auto_score)
                comments = {comment.name: comment.manual_comment.strip()
                            for comment in notebook.comments
                            if comment.manual_comment and comment.manual_comment.strip()}
                if comments:
                    manual.comments[unit, student] = comments
    return manual


def _has_course(url, course_id):
    """Whether the SQLite database at ``url`` is a gradebook holding ``course_id`` (nbgrader's
    ``Gradebook`` would add the course, a write, when it is missing)."""
    with contextlib.closing(sqlite3.connect(url, uri=True)) as connection:
        try:
            return connection.execute("SELECT 1 FROM course WHERE id = ?", (course_id,)).fetchone() \
                is not None
        except sqlite3.DatabaseError:  # no course table: not (yet) a gradebook
            return False


def with_manual_grades(unit, students, manual):
    """``students`` (``StudentResult``) with each manually graded test's score replaced by the
    gradebook's and its message saying so; returns ``(students, {student: other comments})``."""
    updated, other_comments = [], {}
    for student in students:
        comments = dict(manual.comments.get((unit, student.student_id), {}))
        tests = []
        for test in student.tests:
            key = (unit, student.student_id, test.name)
            if key in manual.scores:
                score, auto_score = manual.scores[key]
                automatic = "none" if auto_score is None else f"{auto_score:g}"
                note = f"{OVERRIDDEN}: {score:g} / {test.max_score:g} (autograder: {automatic})"
                comment = comments.pop(test.name, "")
                message = "; ".join(part for part in (note, comment and f"grader's comment: {comment}",
                                                      test.message and f"autograder: {test.message}")
                                    if part)
                test = replace(test, score=score, message=message)
            tests.append(test)
        updated.append(replace(student, tests=tests))
        other_comments[student.student_id] = comments
    return updated, other_comments


def gradescope_results(student, comments=None):
    """Gradescope's ``results.json`` content for one student's result (``StudentResult``), with the
    grader's ``{cell: comment}`` not tied to a test in the overall output."""
    tests = [{"name": test.name, "score": test.score, "max_score": test.max_score,
              "output": test.message or "passed", "visibility": "visible"}
             for test in student.tests]
    output = "; ".join(list(student.problems)
                       + [f"grader's comment on {cell}: {text}" for cell, text in (comments or {}).items()])
    return {"score": student.score,
            "output": output or f"{len(tests)} tests, graded by the course autograder",
            "tests": tests}


def canvas_title(unit):
    """The Canvas column of ``unit``: ``Unit 04: Gradients of a single layer``."""
    return f"Unit {unit.split('_')[0]}: {get_unit(unit).title}"


def _csv_text(rows):
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


def _points(value):
    return "" if value is None else f"{value:g}"


def _graded(unit, work_dir, manual):
    """The saved students of ``unit`` with the gradebook's manual grades applied."""
    return with_manual_grades(unit, results.load(unit, work_dir).students, manual)


def _canvas_rows(units, scores, maxima, manual):
    """Canvas's table: header, ``Points Possible``, one row per student of ``scores``
    (``{student: {unit: points}}``)."""
    rows = [list(CANVAS_IDENTITY) + [canvas_title(unit) for unit in units],
            [CANVAS_POINTS_POSSIBLE] + [""] * (len(CANVAS_IDENTITY) - 1)
            + [_points(maxima[unit]) for unit in units]]
    for student_id in sorted(scores):
        name, canvas_id = manual.students.get(student_id, ("", ""))
        rows.append([name or student_id, canvas_id, student_id, student_id, ""]
                    + [_points(scores[student_id].get(unit)) for unit in units])
    return rows


def export(unit, fmt, work_dir=REPO):
    """Write the export of ``unit`` in format ``fmt`` (one of ``FORMATS``); returns the paths
    written. ``FileNotFoundError`` when ``unit`` has no saved results."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    saved = results.load(unit, work_dir)  # first: fails saying what to run before anything is read
    manual = read_gradebook([unit], work_dir)
    students, comments = with_manual_grades(unit, saved.students, manual)
    folder = Path(work_dir) / "exports" / unit
    if fmt == "gradescope":
        return [write_atomically(folder / "gradescope" / student.student_id / "results.json",
                                 json.dumps(gradescope_results(student, comments[student.student_id]),
                                            indent=1))
                for student in students]
    if fmt == "csv":
        rows = [["Student ID", f"{unit} Points", f"{unit} Max Points"]]
        rows += [[student.student_id, _points(student.score), _points(student.max_score)]
                 for student in students]
        return [write_atomically(folder / f"{unit}-lms.csv", _csv_text(rows))]
    scores = {student.student_id: {unit: student.score} for student in students}
    maxima = {unit: max((student.max_score for student in students), default=0.0)}
    return [write_atomically(folder / f"{unit}-canvas.csv",
                             _csv_text(_canvas_rows([unit], scores, maxima, manual)))]


def export_all(fmt, work_dir=REPO):
    """Write one table of every unit with saved results in format ``fmt`` (one of
    ``TABLE_FORMATS``) under ``exports/all-units/``; returns the paths written."""
    if fmt not in TABLE_FORMATS:
        raise ValueError(f"format {fmt!r} has no table across units; choose one of "
                         f"{', '.join(TABLE_FORMATS)} (Gradescope takes one unit at a time)")
    units = [unit for unit in UNIT_IDS if results.results_path(unit, work_dir).is_file()]
    if not units:
        raise FileNotFoundError("no unit has been graded yet: run `autograder grade UNIT` first")
    manual = read_gradebook(units, work_dir)
    scores, maxima = {}, {}
    for unit in units:
        students, _ = _graded(unit, work_dir, manual)
        maxima[unit] = max((student.max_score for student in students), default=0.0)
        for student in students:
            scores.setdefault(student.student_id, {})[unit] = student.score
    folder = Path(work_dir) / "exports" / ALL_UNITS
    if fmt == "canvas":
        return [write_atomically(folder / f"{ALL_UNITS}-canvas.csv",
                                 _csv_text(_canvas_rows(units, scores, maxima, manual)))]
    rows = [["Student ID"] + [f"{unit} Points" for unit in units] + ["Total Points", "Total Max Points"]]
    total_max = sum(maxima.values())
    for student_id in sorted(scores):
        points = [scores[student_id].get(unit) for unit in units]
        rows.append([student_id] + [_points(value) for value in points]
                    + [_points(sum(value for value in points if value is not None)),
                       _points(total_max)])
    return [write_atomically(folder / f"{ALL_UNITS}-lms.csv", _csv_text(rows))]
