"""``autograder feedback``: an HTML page per student, a score per test and what to do about each miss.

Two files per student in ``feedback/<student>/<unit>/``: ``summary.html`` (this module: one row per
test with the message of the hidden test that failed) and ``<unit>.html``, nbgrader's view of the
graded notebook, with hidden test code replaced by a comment and tracebacks cut to their message
(``autograder.preprocessors``).
"""
import html
import json
from dataclasses import asdict
from pathlib import Path

from .nbgrader_api import make_api, quiet_nbgrader
from .reference import REPO

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{unit}: feedback for {student}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 56em; margin: 2em auto; color: #222; }}
table {{ border-collapse: collapse; width: 100%; }}
td, th {{ border-bottom: 1px solid #ddd; padding: .4em .6em; text-align: left; vertical-align: top; }}
.pass {{ color: #1a7f37; }} .fail {{ color: #b42318; }}
.problem {{ background: #fff4e5; border-left: 4px solid #f79009; padding: .6em 1em; }}
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


def report_path(unit, work_dir):
    return Path(work_dir) / "grades" / f"{unit}.json"


def save_report(report, work_dir):
    path = report_path(report.unit, work_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"unit": report.unit, "isolation": report.isolation,
                                "students": [asdict(student) for student in report.students]},
                               indent=1))
    return path


def _row(test):
    passed = test["score"] >= test["max_score"]
    status = "pass" if passed else "fail"
    advice = "passed" if passed else html.escape(test["message"] or "did not pass")
    return (f'<tr><td class="{status}">{html.escape(test["name"])}</td>'
            f'<td>{test["score"]:g} / {test["max_score"]:g}</td><td><code>{advice}</code></td></tr>')


def summary_page(unit, student):
    """The HTML summary of one student's result (a dict as saved in ``grades/<unit>.json``)."""
    problems = "".join(f'<p class="problem">{html.escape(problem)}</p>' for problem in student["problems"])
    score = sum(test["score"] for test in student["tests"])
    max_score = sum(test["max_score"] for test in student["tests"])
    return PAGE.format(unit=html.escape(unit), student=html.escape(student["student_id"]),
                       score=score, max_score=max_score, problems=problems,
                       rows="\n".join(_row(test) for test in student["tests"]))


def write_feedback(unit, report=None, work_dir=REPO, root=REPO, api=None, students=None):
    """Write the feedback of every student (or of ``students``) for ``unit``; returns the pages.

    ``report`` is a ``GradeReport``; without it the one saved by the last ``grade`` run is used.
    """
    work_dir = Path(work_dir).resolve()
    if report is not None:
        save_report(report, work_dir)
    path = report_path(unit, work_dir)
    if not path.is_file():
        raise FileNotFoundError(f"no grades for {unit} yet: run `autograder grade {unit}` first")
    everyone = json.loads(path.read_text())["students"]
    api = api or make_api(root=root, work_dir=work_dir,
                          release_dir=work_dir / ".autograder" / "release")
    written = []
    for student in [entry for entry in everyone if students is None or entry["student_id"] in students]:
        folder = work_dir / "feedback" / student["student_id"] / unit
        if (work_dir / "autograded" / student["student_id"] / unit).is_dir():
            with quiet_nbgrader():
                outcome = api.generate_feedback(unit, student["student_id"], force=True)
            if not outcome.get("success"):
                student["problems"].append("the graded notebook could not be rendered as a page")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "summary.html").write_text(summary_page(unit, student))
        written.append(folder / "summary.html")
    return written
