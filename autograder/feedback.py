"""``autograder feedback``: an HTML page per student, a score per test and what to do about each miss.

Two files per student in ``feedback/<student>/<unit>/``: ``summary.html`` (this module: one row per
test with the message of the hidden test that failed) and ``<unit>.html``, nbgrader's view of the
graded notebook, with hidden test code replaced by a comment and tracebacks cut to their message
(``autograder.preprocessors``).
"""
import html
from datetime import datetime
from pathlib import Path

from . import results
from .adjustments import current
from .deadlines import LatePolicy, describe_lateness, load as load_deadlines
from .files import write_atomically
from .nbgrader_api import make_api, quiet_nbgrader
from .course_folder import course_root

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{unit}: feedback for {student}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 56em; margin: 2em auto; color: #222; }}
table {{ border-collapse: collapse; width: 100%; }}
td, th {{ border-bottom: 1px solid #ddd; padding: .4em .6em; text-align: left; vertical-align: top; }}
.pass {{ color: #1a7f37; }} .fail {{ color: #b42318; }}
.problem {{ background: #fff4e5; border-left: 4px solid #f79009; padding: .6em 1em; }}
.deadline {{ border-left: 4px solid #ddd; padding: .6em 1em; }}
code {{ white-space: pre-wrap; }}
</style></head><body>
<h1>{unit}: {score:g} / {max_score:g}</h1>
<p>Feedback for <strong>{student}</strong>. Each test below was run by the autograder on fresh random
inputs. Fix the function a failed test names in your <code>nnlib/</code>, run the notebook's test cell
again, and resubmit. The full graded notebook is in <a href="{unit}.html">{unit}.html</a>.</p>
{problems}
<table><tr><th>test</th><th>points</th><th>what to do</th></tr>
{rows}
</table></body></html>
"""


RENDER_FAILED = "the graded notebook could not be rendered as a page"


class FeedbackNotRendered(RuntimeError):
    """Some graded notebooks could not be rendered; every summary page was written and the problem
    is recorded in ``grades/<unit>.json``."""


def _row(test):
    status = "pass" if test.score >= test.max_score else "fail"
    return (f'<tr><td class="{status}">{html.escape(test.name)}</td>'
            f'<td>{test.score:g} / {test.max_score:g}</td>'
            f'<td><code>{html.escape(test.feedback)}</code></td></tr>')


def _when(iso_time):
    return datetime.fromisoformat(iso_time).strftime("%Y-%m-%d %H:%M UTC")


def deadline_note(student, policy=None):
    """When the submission was handed in and due, and what being late cost, as one sentence
    (empty when the unit has no due date)."""
    if not student.due_at:
        return ""
    extension = f" (with an extension of {student.extension})" if student.extension else ""
    due = f"due {_when(student.due_at)}{extension}"
    if not student.submitted_at:
        return f"This unit was {due}; the time you handed it in is not known, so it counts as on time."
    sentence = f"Handed in {_when(student.submitted_at)}, {due}: "
    if student.seconds_late <= 0:
        return sentence + "on time."
    lateness = describe_lateness(student.seconds_late, policy or LatePolicy())
    if not student.late_penalty:
        return sentence + f"{lateness}, no points lost."
    return (sentence + f"{lateness}; late penalty {student.late_penalty:g} of your "
            f"{student.points:g} points" + (f" ({policy.describe()})" if policy else "") + ".")


def summary_page(unit, student, policy=None):
    """The HTML summary of one student's result (a ``results.StudentResult``); ``policy`` is the
    course's ``deadlines.LatePolicy``, named in the lateness sentence."""
    problems = "".join(f'<p class="problem">{html.escape(problem)}</p>' for problem in student.problems)
    note = deadline_note(student, policy)
    if note:
        problems += f'<p class="{"problem" if student.late_penalty else "deadline"}">{html.escape(note)}</p>'
    problems += "".join(f"<p>Grader's comment on <code>{html.escape(cell)}</code>: {html.escape(text)}</p>"
                        for cell, text in student.comments.items())
    return PAGE.format(unit=html.escape(unit), student=html.escape(student.student_id),
                       score=student.score, max_score=student.max_score, problems=problems,
                       rows="\n".join(_row(test) for test in student.tests))


def write_summary_page(folder, unit, student, policy=None):
    """Write ``folder/summary.html`` for ``student`` (a ``results.StudentResult``); returns it.
    Also a stage of ``nbgrader generate_feedback`` (``preprocessors.WriteSummaryPage``), which
    replaces the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return write_atomically(folder / "summary.html", summary_page(unit, student, policy))


def render_feedback(report, work_dir=None, root=None, api=None, students=None):
    """Write the pages of every student of ``report`` (or of ``students``), then save the report
    (already adjusted: ``adjustments``).

    A graded notebook nbgrader cannot render becomes a problem of its student, in ``report`` (so
    ``report.failures`` names them) and in ``grades/<unit>.json``; a later run that renders it
    removes the problem. Returns the summary pages written.
    """
    work_dir, root = course_root(work_dir), course_root(root)
    work_dir = Path(work_dir).resolve()
    api = api or make_api(root=root, work_dir=work_dir,
                          release_dir=work_dir / ".autograder" / "release")
    policy = load_deadlines(work_dir).policy
    written = []
    for student in report.students:
        if students is not None and student.student_id not in students:
            continue
        folder = work_dir / "feedback" / student.student_id / report.unit
        student.problems = [problem for problem in student.problems if problem != RENDER_FAILED]
        if (work_dir / "autograded" / student.student_id / report.unit).is_dir():
            with quiet_nbgrader():
                outcome = api.generate_feedback(report.unit, student.student_id, force=True)
            if not outcome.get("success"):
                student.problems.append(RENDER_FAILED)
        written.append(write_summary_page(folder, report.unit, student, policy))
    results.save(report, work_dir)
    return written


def write_feedback(unit, work_dir=None, root=None, api=None):
    """``autograder feedback``: the pages of every student graded by the last ``grade`` run of
    ``unit``, with the grades and comments given in the formgrader since; returns them.

    Raises ``FileNotFoundError`` before any grading, and ``FeedbackNotRendered`` naming the
    students whose graded notebook could not be rendered (after writing every page it could).
    """
    work_dir, root = course_root(work_dir), course_root(root)
    report = current(unit, work_dir)  # a grade given in the formgrader counts without a regrade
    pages = render_feedback(report, work_dir=work_dir, root=root, api=api)
    failed = [student.student_id for student in report.students if RENDER_FAILED in student.problems]
    if failed:
        raise FeedbackNotRendered(f"{unit}: {RENDER_FAILED} for {', '.join(failed)} (recorded in "
                                  f"grades/{unit}.json)")
    return pages
