"""Feedback rendered during a grading run is the feedback ``autograder feedback`` renders after it.

``autograder grade`` renders each graded notebook's page while the rest of the class is graded
(``feedback.PagesAhead``, a process of its own), and moves it into ``feedback/`` once the run's
results are saved. Whatever the gradebook holds when the page is rendered must already be final: a
late submission's penalty, a grade a grader set in the formgrader (which a regrade keeps). So the
pages of a run are compared, byte for byte, with the pages rendered afresh from the same graded
notebooks afterwards; and a renderer killed in the middle of a run costs no student their page.
"""
import os
import shutil
import signal
from datetime import timedelta

import pytest
from nbgrader.api import Gradebook

from autograder.build import build_unit
from autograder.deadlines import DEADLINES_FILE, write_timestamp
from autograder.feedback import PagesAhead, write_feedback
from autograder.grading import grade
from autograder.settings import COURSE_ID
from simulated_class import make_submission
from test_deadlines import DEADLINES, DUE, UNIT

pytestmark = [pytest.mark.slow, pytest.mark.sandbox]

STUDENTS = {
    "alice": lambda release, folder: make_submission(release, folder),
    "bob": lambda release, folder: make_submission(  # late, and one mistake
        release, folder, regions=[("functional", "sigmoid", "return np.exp(x) / (1.0 + np.exp(x))")]),
    "carol": lambda release, folder: make_submission(release, folder, reference=False),
}


def pages(work):
    """Every feedback file's bytes (the pages, and the files nbgrader copies beside them), by its
    path below ``feedback/``."""
    return {path.relative_to(work / "feedback").as_posix(): path.read_bytes()
            for path in sorted((work / "feedback").rglob("*")) if path.is_file()}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The class handed in (bob a day late) and graded once."""
    scratch = tmp_path_factory.mktemp("ahead")
    release = build_unit(UNIT, scratch / "release", work_dir=scratch / "build")
    submissions, work = scratch / "submissions", scratch / "work"
    for name, build in STUDENTS.items():
        build(release, submissions / name / UNIT)
    write_timestamp(submissions / "bob" / UNIT, DUE + timedelta(hours=30))
    work.mkdir()
    (work / DEADLINES_FILE).write_text(DEADLINES)
    report = grade(UNIT, submissions=submissions, work_dir=work, progress=False, cell_timeout=10,
                   jobs=2)
    return {"work": work, "report": report}


def rendered_again(work):
    """The pages ``autograder feedback`` renders now, from nothing."""
    shutil.rmtree(work / "feedback")
    write_feedback(UNIT, work_dir=work)
    return pages(work)


def test_pages_rendered_during_a_first_run_are_the_pages_rendered_after_it(course):
    work = course["work"]
    during = pages(work)
    assert sorted(page for page in during if page.endswith(".html")) == [
        f"{student}/{UNIT}/{page}" for student in sorted(STUDENTS)
        for page in (f"{UNIT}.html", "summary.html")]
    assert "late penalty" in (work / "feedback" / "bob" / UNIT / "summary.html").read_text()
    assert not course["report"].failures
    assert rendered_again(work) == during


def test_a_regrade_renders_the_grade_a_grader_set_as_feedback_would(course):
    work, first_test = course["work"], course["report"].students[0].tests[0]
    with Gradebook(f"sqlite:///{work / 'gradebook.db'}", COURSE_ID) as gradebook:
        gradebook.find_grade(first_test.name, UNIT, UNIT, "alice").manual_score = \
            first_test.max_score / 2
        gradebook.db.commit()
    report = grade(UNIT, work_dir=work, progress=False, cell_timeout=10, jobs=2)
    during = pages(work)
    alice = (work / "feedback" / "alice" / UNIT / f"{UNIT}.html").read_text()
    assert "Score: 5.5 / 6.0" in alice  # half of a point taken in the formgrader, kept by a regrade
    assert not report.failures
    assert rendered_again(work) == during


def test_a_renderer_killed_mid_run_costs_no_page(course, monkeypatch):
    work = course["work"]
    shutil.rmtree(work / "feedback")
    render, killed, staging = PagesAhead.render, [], set()

    def render_then_die(self, student):
        render(self, student)
        staging.add(self.folder)
        if not killed:  # the OS kills the renderer once it has rendered the first page
            self._futures[student].result()
            (renderer,) = self._pool._processes.values()
            os.kill(renderer.pid, signal.SIGKILL)
            killed.append(student)

    monkeypatch.setattr(PagesAhead, "render", render_then_die)
    report = grade(UNIT, work_dir=work, progress=False, cell_timeout=10, jobs=2)
    assert killed
    assert not report.failures
    during = pages(work)
    assert len([page for page in during if page.endswith(".html")]) == 2 * len(STUDENTS)
    monkeypatch.undo()
    assert rendered_again(work) == during
    assert staging and not any(folder.exists() for folder in staging)  # removed with the run
