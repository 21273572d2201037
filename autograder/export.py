"""``autograder export``: the last grading run of a unit in the formats other systems import.

- ``gradescope``: ``exports/<unit>/gradescope/<student>/results.json`` in Gradescope's autograder
  format (a total and one entry per test with name, score, max_score, output and visibility).
- ``csv``: ``exports/<unit>/<unit>-lms.csv`` with one row per student, ``Student ID``, the unit's
  points and its maximum, which LMS gradebooks (Canvas, Moodle, Blackboard) import as a column.
"""
import csv
import json
from pathlib import Path

from . import results
from .reference import REPO

FORMATS = ("gradescope", "csv")


def gradescope_results(student):
    """Gradescope's ``results.json`` content for one student's saved result (``StudentResult``)."""
    tests = [{"name": test.name, "score": test.score, "max_score": test.max_score,
              "output": test.message or "passed", "visibility": "visible"}
             for test in student.tests]
    output = "; ".join(student.problems)
    return {"score": student.score,
            "output": output or f"{len(tests)} tests, graded by the course autograder",
            "tests": tests}


def export(unit, fmt, work_dir=REPO):
    """Write the export of ``unit`` in format ``fmt``; returns the paths written."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    students = results.load(unit, work_dir).students
    folder = Path(work_dir) / "exports" / unit
    written = []
    if fmt == "gradescope":
        for student in students:
            path = folder / "gradescope" / student.student_id / "results.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(gradescope_results(student), indent=1))
            written.append(path)
    else:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{unit}-lms.csv"
        with open(path, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["Student ID", f"{unit} Points", f"{unit} Max Points"])
            for student in students:
                writer.writerow([student.student_id, f"{student.score:g}", f"{student.max_score:g}"])
        written.append(path)
    return written
