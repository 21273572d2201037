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

Manual grades and late penalties: every export starts from the unit's current results
(``adjustments.current``): a score a grader set in the formgrader replaces the autograder's (without a
regrade), and a late submission loses what ``deadlines.toml`` says. Gradescope's output says which
tests a grader scored, with the autograder's score and the grader's comment; the generic CSV has the
submission time and the late penalty when the unit has a due date.
"""
import csv
import io
import json
from pathlib import Path

from . import results
from .adjustments import current, read_gradebook
from .course import UNIT_IDS, get_unit
from .files import write_atomically
from .course_folder import course_root

FORMATS = ("gradescope", "csv", "canvas")
TABLE_FORMATS = ("csv", "canvas")  # the formats with a table across units
CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_POINTS_POSSIBLE = "Points Possible"
ALL_UNITS = "all-units"


def lateness(student):
    """``["handed in ... late: -0.6 points"]`` for a late submission, else ``[]``."""
    if student.seconds_late <= 0:
        return []
    return [f"handed in {student.submitted_at}, due {student.due_at}: {student.seconds_late / 3600:.1f} "
            f"hours late, late penalty {student.late_penalty:g} points"]


def gradescope_results(student):
    """Gradescope's ``results.json`` content for one student's result (``StudentResult``): the
    grader's comments on cells that are not tests, and any lateness, in the overall output."""
    tests = [{"name": test.name, "score": test.score, "max_score": test.max_score,
              "output": test.feedback, "visibility": "visible"}
             for test in student.tests]
    output = "; ".join(list(student.problems) + lateness(student)
                       + [f"grader's comment on {cell}: {text}" for cell, text in student.comments.items()])
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


def _canvas_rows(units, scores, maxima, records):
    """Canvas's table: header, ``Points Possible``, one row per student of ``scores``
    (``{student: {unit: points}}``)."""
    rows = [list(CANVAS_IDENTITY) + [canvas_title(unit) for unit in units],
            [CANVAS_POINTS_POSSIBLE] + [""] * (len(CANVAS_IDENTITY) - 1)
            + [_points(maxima[unit]) for unit in units]]
    for student_id in sorted(scores):
        name, canvas_id = records.students.get(student_id, ("", ""))
        rows.append([name or student_id, canvas_id, student_id, student_id, ""]
                    + [_points(scores[student_id].get(unit)) for unit in units])
    return rows


def export(unit, fmt, work_dir=None):
    """Write the export of ``unit`` in format ``fmt`` (one of ``FORMATS``); returns the paths
    written. ``FileNotFoundError`` when ``unit`` has no saved results."""
    work_dir = course_root(work_dir)
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    records = read_gradebook([unit], work_dir)  # read once, for the scores and Canvas's names
    students = current(unit, work_dir, records).students  # says what to run when nothing is saved
    folder = Path(work_dir) / "exports" / unit
    if fmt == "gradescope":
        return [write_atomically(folder / "gradescope" / student.student_id / "results.json",
                                 json.dumps(gradescope_results(student), indent=1))
                for student in students]
    if fmt == "csv":
        deadline = any(student.due_at for student in students)
        rows = [["Student ID", f"{unit} Points", f"{unit} Max Points"]
                + [f"{unit} Submitted At", f"{unit} Late Penalty"] * deadline]
        rows += [[student.student_id, _points(student.score), _points(student.max_score)]
                 + [student.submitted_at, _points(student.late_penalty)] * deadline
                 for student in students]
        return [write_atomically(folder / f"{unit}-lms.csv", _csv_text(rows))]
    scores = {student.student_id: {unit: student.score} for student in students}
    maxima = {unit: max((student.max_score for student in students), default=0.0)}
    return [write_atomically(folder / f"{unit}-canvas.csv",
                             _csv_text(_canvas_rows([unit], scores, maxima, records)))]


def export_all(fmt, work_dir=None):
    """Write one table of every unit with saved results in format ``fmt`` (one of
    ``TABLE_FORMATS``) under ``exports/all-units/``; returns the paths written."""
    work_dir = course_root(work_dir)
    if fmt not in TABLE_FORMATS:
        raise ValueError(f"format {fmt!r} has no table across units; choose one of "
                         f"{', '.join(TABLE_FORMATS)} (Gradescope takes one unit at a time)")
    units = [unit for unit in UNIT_IDS if results.results_path(unit, work_dir).is_file()]
    if not units:
        raise FileNotFoundError("no unit has been graded yet: run `autograder grade UNIT` first")
    records = read_gradebook(units, work_dir)
    scores, maxima = {}, {}
    for unit in units:
        students = current(unit, work_dir, records).students
        maxima[unit] = max((student.max_score for student in students), default=0.0)
        for student in students:
            scores.setdefault(student.student_id, {})[unit] = student.score
    folder = Path(work_dir) / "exports" / ALL_UNITS
    if fmt == "canvas":
        return [write_atomically(folder / f"{ALL_UNITS}-canvas.csv",
                                 _csv_text(_canvas_rows(units, scores, maxima, records)))]
    rows = [["Student ID"] + [f"{unit} Points" for unit in units] + ["Total Points", "Total Max Points"]]
    total_max = sum(maxima.values())
    for student_id in sorted(scores):
        points = [scores[student_id].get(unit) for unit in units]
        rows.append([student_id] + [_points(value) for value in points]
                    + [_points(sum(value for value in points if value is not None)),
                       _points(total_max)])
    return [write_atomically(folder / f"{ALL_UNITS}-lms.csv", _csv_text(rows))]
