"""``autograder feedback``: an HTML page per student, a score per test and what to do about each miss.

Two files per student in ``feedback/<student>/<unit>/``: ``summary.html`` (this module: one row per
test with the message of the hidden test that failed) and ``<unit>.html``, nbgrader's view of the
graded notebook, with hidden test code replaced by a comment and tracebacks cut to their message
(``autograder.preprocessors``).
"""
import functools
import html
import multiprocessing
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from pathlib import Path

from . import results, stopping
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


def render_feedback(report, work_dir=None, root=None, api=None, students=None, ahead=None):
    """Write the pages of every student of ``report`` (or of ``students``), then save the report
    (already adjusted: ``adjustments``). ``ahead`` (``PagesAhead``) holds graded notebooks already
    rendered during the run: they are moved into place instead of rendered again.

    A graded notebook nbgrader cannot render becomes a problem of its student, in ``report`` (so
    ``report.failures`` names them) and in ``grades/<unit>.json``; a later run that renders it
    removes the problem. Returns the summary pages written.
    """
    work_dir, root = course_root(work_dir), course_root(root)
    work_dir = Path(work_dir).resolve()
    rendered_ahead = ahead.outcomes() if ahead is not None else {}
    if api is None and any(student.student_id not in rendered_ahead for student in report.students):
        api = make_api(root=root, work_dir=work_dir, release_dir=work_dir / ".autograder" / "release")
    policy = load_deadlines(work_dir).policy
    written = []
    for student in report.students:
        if students is not None and student.student_id not in students:
            continue
        folder = work_dir / "feedback" / student.student_id / report.unit
        student.problems = [problem for problem in student.problems if problem != RENDER_FAILED]
        if student.student_id in rendered_ahead:
            outcome = rendered_ahead[student.student_id]
            if outcome:
                with stopping.deferred():  # the folder is replaced whole, as nbgrader does
                    ahead.move_into(folder, student.student_id)
            elif outcome is False:
                student.problems.append(RENDER_FAILED)
        elif _render_notebook_page(api, report.unit, student.student_id, work_dir) is False:
            student.problems.append(RENDER_FAILED)
        written.append(write_summary_page(folder, report.unit, student, policy))
    results.save(report, work_dir)
    return written


def _render_notebook_page(api, unit, student, work_dir):
    """Render ``student``'s graded notebook with nbgrader's ``generate_feedback`` (replacing their
    feedback folder); whether it could, or None without a graded notebook."""
    if not (Path(work_dir) / "autograded" / student / unit).is_dir():
        return None
    with quiet_nbgrader():
        return bool(api.generate_feedback(unit, student, force=True).get("success"))


class PagesAhead:
    """Graded notebooks rendered while the rest of the class is graded, by a process of their own.

    ``render(student)`` is called once the student's grades are in the gradebook; the page is
    rendered as ``generate_feedback`` renders it then, into a folder of this object's, and reaches
    ``feedback/`` only when ``render_feedback`` moves it there, after the run's results are saved:
    a stopped run changes no feedback page. A renderer killed by the OS costs nothing: the pages it
    did not return are rendered at the end, as they were before.
    """

    def __init__(self, unit, work_dir, root, log_path=None):
        self.unit, self.work_dir, self.root = unit, str(Path(work_dir).resolve()), str(root)
        self.folder = Path(tempfile.mkdtemp(prefix="autograder-pages-"))
        self._pool = ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("spawn"),
            initializer=stopping.prepare_worker, initargs=(str(log_path) if log_path else None,))
        self._futures = {}
        self.seconds = 0.0  # spent rendering them (``outcomes``), for the benchmark

    def render(self, student):
        try:
            self._futures[student] = self._pool.submit(
                _render_ahead, self.unit, student, self.work_dir, self.root, str(self.folder))
        except BrokenProcessPool:
            pass  # rendered at the end

    def outcomes(self):
        """``{student: True (rendered), False (nbgrader could not), None (nothing to render)}``
        for every page rendered ahead; waits for those still being rendered."""
        found, self.seconds = {}, 0.0
        for student, future in self._futures.items():
            try:
                found[student], seconds = future.result()
            except BrokenProcessPool:
                continue
            self.seconds += seconds
        return found

    def move_into(self, folder, student):
        staged = self.folder / student / self.unit
        shutil.rmtree(folder, ignore_errors=True)
        folder.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(staged, folder)

    def close(self):
        """End the renderer (at once, with whatever it was doing) and remove its pages."""
        processes = list((self._pool._processes or {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        stopping.end_workers(processes)
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


@functools.lru_cache(maxsize=None)
def _staging_api(work_dir, root, folder):
    """The course's nbgrader API, its feedback folder ``folder``; without the summary-page stage
    (``render_feedback`` writes the summary with the run's own results, which are not saved yet)."""
    api = make_api(root=root, work_dir=work_dir, release_dir=Path(work_dir) / ".autograder" / "release")
    api.coursedir.feedback_directory = folder
    api.config.GenerateFeedback.preprocessors = [
        stage for stage in api.config.GenerateFeedback.preprocessors
        if stage != "autograder.preprocessors.WriteSummaryPage"]
    return api


def _render_ahead(unit, student, work_dir, root, folder):
    """In the renderer: ``student``'s notebook page into ``folder/<student>/<unit>/``; with the
    seconds it took."""
    started = time.perf_counter()
    outcome = _render_notebook_page(_staging_api(work_dir, root, folder), unit, student, work_dir)
    return outcome, time.perf_counter() - started


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
