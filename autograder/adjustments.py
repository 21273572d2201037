"""What changes a grade after the autograder: a grader's score and comments, and the late penalty.

A grader sets a score or writes a comment in the formgrader (nbgrader's gradebook,
``gradebook.db`` in the course folder); a submission handed in after its due date loses what the
late policy says (``deadlines.toml``, ``autograder.deadlines``). ``adjust`` applies both to a
report's students, so that the grade table, the JSON, the feedback pages and every export say the
same thing; it can be applied again at any time (it starts from the autograder's own scores, which
each overridden test keeps). ``autograder grade``, ``feedback`` and ``export`` call ``current``,
which saves the adjusted results (a new entry of ``autograder history``) when anything changed, so
a grade given by hand needs no regrade.

The gradebook is only read here (SQLite opened read-only).
"""
import contextlib
import sqlite3
from dataclasses import dataclass, field
from datetime import timezone
from pathlib import Path

from . import results
from .deadlines import load as load_deadlines


@dataclass
class GradebookRecords:
    """What an instructor set in nbgrader's gradebook, read once."""

    # (unit, student, test) -> final score (the manual score plus any extra credit)
    scores: dict = field(default_factory=dict)
    # (unit, student) -> {cell name: the grader's comment}
    comments: dict = field(default_factory=dict)
    # student id -> (name as "Last, First" or "", Canvas user id or "")
    students: dict = field(default_factory=dict)
    # unit -> due date set in the formgrader (naive UTC), when there is one
    due: dict = field(default_factory=dict)


def read_gradebook(units, work_dir, students=None):
    """The manual scores, comments, student names and due dates of ``units`` in
    ``work_dir/gradebook.db``, opened read-only; empty ``GradebookRecords`` without a gradebook.
    With ``students``, the scores and comments of only those (one feedback page needs one)."""
    from .settings import COURSE_ID

    path = Path(work_dir).resolve() / "gradebook.db"
    records = GradebookRecords()
    # mode=ro: SQLite itself refuses any write, whatever nbgrader's Gradebook would try.
    url = f"file:{path}?mode=ro"
    if not path.is_file() or not _has_course(url, COURSE_ID):
        return records
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(f"sqlite:///{url}&uri=true", COURSE_ID) as gradebook:
        for student in gradebook.students:
            name = ", ".join(part for part in (student.last_name, student.first_name) if part)
            records.students[student.id] = (name, student.lms_user_id or "")
        for unit in units:
            try:
                due = gradebook.find_assignment(unit).duedate
            except MissingEntry:
                continue
            if due is not None:
                records.due[unit] = due.replace(tzinfo=timezone.utc)
            for student in records.students:
                if students is not None and student not in students:
                    continue
                try:
                    notebook = gradebook.find_submission_notebook(unit, unit, student)
                except MissingEntry:
                    continue
                for grade in notebook.grades:
                    if grade.manual_score is not None:
                        records.scores[unit, student, grade.name] = float(grade.score)
                comments = {comment.name: comment.manual_comment.strip()
                            for comment in notebook.comments
                            if comment.manual_comment and comment.manual_comment.strip()}
                if comments:
                    records.comments[unit, student] = comments
    return records


def _has_course(url, course_id):
    """Whether the SQLite database at ``url`` is a gradebook holding ``course_id`` (nbgrader's
    ``Gradebook`` would add the course, a write, when it is missing)."""
    with contextlib.closing(sqlite3.connect(url, uri=True)) as connection:
        try:
            return connection.execute("SELECT 1 FROM course WHERE id = ?", (course_id,)).fetchone() \
                is not None
        except sqlite3.DatabaseError:  # no course table: not (yet) a gradebook
            return False


def submission_time(work_dir, unit, student):
    """When ``student`` handed in ``unit``: nbgrader's ``timestamp.txt`` in
    ``submitted/<student>/<unit>/``, as an aware UTC datetime, or None."""
    from nbgrader.utils import parse_utc

    path = Path(work_dir) / "submitted" / student / unit / "timestamp.txt"
    try:
        text = path.read_text().strip()
        return parse_utc(text).replace(tzinfo=timezone.utc) if text else None
    except (OSError, ValueError, OverflowError):
        return None


def adjust(report, work_dir, records=None, deadlines=None):
    """Apply the gradebook's manual scores and comments, and the late policy, to ``report``'s
    students, in place. Returns whether anything changed."""
    if records is None:
        records = read_gradebook([report.unit], work_dir,
                                 students={student.student_id for student in report.students})
    deadlines = deadlines if deadlines is not None else load_deadlines(work_dir)
    before = results.dumps(report)
    for student in report.students:
        comments = dict(records.comments.get((report.unit, student.student_id), {}))
        for test in student.tests:
            if test.overridden:  # back to the autograder's score, then the gradebook's
                test.score, test.auto_score = test.auto_score, None
            final = records.scores.get((report.unit, student.student_id, test.name))
            if final is not None:  # even when it equals the autograder's: a grader decided
                test.score, test.auto_score = final, test.score
            test.comment = comments.pop(test.name, "")
        student.comments = comments
        _apply_deadline(student, report.unit, work_dir, records, deadlines)
    return results.dumps(report) != before


def _apply_deadline(student, unit, work_dir, records, deadlines):
    submitted = submission_time(work_dir, unit, student.student_id)
    due, extension = deadlines.due_for(unit, student.student_id, records.due.get(unit))
    student.submitted_at = submitted.isoformat() if submitted else ""
    student.due_at = due.isoformat() if due else ""
    student.extension = str(extension) if extension else ""
    late = (submitted - due).total_seconds() if submitted and due else 0.0
    student.seconds_late = max(late, 0.0)
    student.late_penalty = deadlines.policy.penalty(student.points, student.seconds_late)


def current(unit, work_dir, records=None):
    """The last results of ``unit``, adjusted (``adjust``; ``records`` when the gradebook was
    already read); saved first, as a new run of ``autograder history``, when the gradebook or the
    deadlines changed them."""
    report = results.load(unit, work_dir)
    if adjust(report, work_dir, records=records):
        results.save(report, work_dir, run=results.new_run(unit, work_dir))
    return report
