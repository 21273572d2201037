"""Grade results (``autograder.results``): the one reader and writer of ``grades/<unit>.json``, and
what ``feedback`` and ``export`` make of it. No grading here: reports are built by hand."""
import csv
import json

import pytest

from autograder import results
from autograder.cli import main
from autograder.export import export
from autograder.feedback import RENDER_FAILED, FeedbackNotRendered, render_feedback, write_feedback
from autograder.results import GradeReport, StudentResult, TestResult
from course_copy import linked_course

UNIT = "01_linear_limits"


def report(tmp_path, problems=()):
    students = [StudentResult("alice", [TestResult("test_sigmoid", 1.0, 1.0),
                                        TestResult("test_fit", 0.0, 2.0, "fit: expected a list of")]),
                StudentResult("bob", [TestResult("test_sigmoid", 0.0, 1.0, "inf or nan"),
                                      TestResult("test_fit", 2.0, 2.0)], list(problems))]
    return GradeReport(UNIT, students, tmp_path / "grades" / f"{UNIT}.csv", "bubblewrap 0.8.0")


class RenderOnly:
    """Stands in for nbgrader's API: ``generate_feedback`` fails for the students named."""

    def __init__(self, failing=()):
        self.failing = set(failing)

    def generate_feedback(self, unit, student_id, force=True):
        return {"success": student_id not in self.failing, "log": "", "error": ""}


def graded_folders(work, unit, *students):
    for student in students:
        (work / "autograded" / student / unit).mkdir(parents=True)


def test_saved_format_keeps_its_keys_and_loads_back_equal(tmp_path):
    original = report(tmp_path, problems=["no notebook was submitted"])
    path = results.save(original, tmp_path)
    assert path == tmp_path / "grades" / f"{UNIT}.json"
    saved = json.loads(path.read_text())
    assert set(saved) == {"unit", "isolation", "students"}
    assert set(saved["students"][0]) == {"student_id", "tests", "problems", "notes", "comments",
                                         "submitted_at", "due_at", "extension", "seconds_late",
                                         "late_penalty", "graded_from"}
    assert set(saved["students"][0]["tests"][0]) == {"name", "score", "max_score", "message",
                                                     "auto_score", "comment"}
    loaded = results.load(UNIT, tmp_path)
    assert loaded == original
    assert loaded.failures == [("bob", "no notebook was submitted")]


def test_results_saved_before_grader_scores_and_deadlines_existed_still_load(tmp_path):
    path = tmp_path / "grades" / f"{UNIT}.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"unit": UNIT, "isolation": "", "students": [
        {"student_id": "alice", "problems": [],
         "tests": [{"name": "test_fit", "score": 1.0, "max_score": 2.0, "message": "off"}]}]}))
    (alice,) = results.load(UNIT, tmp_path).students
    assert (alice.score, alice.late_penalty, alice.notes, alice.tests[0].overridden) == (1.0, 0.0, [], False)


def test_load_before_grading_says_what_to_run(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"run `autograder grade {UNIT}` first"):
        results.load(UNIT, tmp_path)


def test_merge_replaces_the_regraded_students_and_keeps_the_others_in_order(tmp_path):
    previous = report(tmp_path).students
    regraded = StudentResult("bob", [TestResult("test_sigmoid", 1.0, 1.0), TestResult("test_fit", 2.0, 2.0)])
    newcomer = StudentResult("aaron", [])
    merged = results.merge(previous, [regraded, newcomer])
    assert [student.student_id for student in merged] == ["aaron", "alice", "bob"]
    assert merged[1] is previous[0] and merged[2] is regraded


def test_a_page_that_cannot_be_rendered_is_a_recorded_failure_of_its_student(tmp_path):
    graded = report(tmp_path)
    graded_folders(tmp_path, UNIT, "alice", "bob")
    pages = render_feedback(graded, work_dir=tmp_path, api=RenderOnly(failing={"bob"}))
    assert len(pages) == 2  # bob's summary page is written all the same, naming the problem
    assert graded.failures == [("bob", RENDER_FAILED)]
    assert RENDER_FAILED in (tmp_path / "feedback" / "bob" / UNIT / "summary.html").read_text()
    assert results.load(UNIT, tmp_path).failures == [("bob", RENDER_FAILED)]
    assert "bob: " + RENDER_FAILED in graded.summary()


def test_feedback_names_the_students_it_could_not_render_and_a_later_success_clears_them(tmp_path):
    results.save(report(tmp_path), tmp_path)
    graded_folders(tmp_path, UNIT, "alice", "bob")
    with pytest.raises(FeedbackNotRendered, match=r"for bob \(recorded in grades/"):
        write_feedback(UNIT, work_dir=tmp_path, api=RenderOnly(failing={"bob"}))
    assert results.load(UNIT, tmp_path).failures == [("bob", RENDER_FAILED)]
    with pytest.raises(FeedbackNotRendered):  # the problem is recorded once, however often it recurs
        write_feedback(UNIT, work_dir=tmp_path, api=RenderOnly(failing={"bob"}))
    assert results.load(UNIT, tmp_path).failures == [("bob", RENDER_FAILED)]
    assert len(write_feedback(UNIT, work_dir=tmp_path, api=RenderOnly())) == 2
    assert results.load(UNIT, tmp_path).failures == []


def test_the_feedback_command_exits_non_zero_naming_the_student(tmp_path, monkeypatch, capsys):
    import autograder.feedback as feedback

    results.save(report(tmp_path), tmp_path)
    graded_folders(tmp_path, UNIT, "alice", "bob")
    original = feedback.write_feedback
    monkeypatch.setattr(feedback, "write_feedback", lambda unit, **options: original(
        unit, work_dir=tmp_path, api=RenderOnly(failing={"bob"})))
    assert main(["feedback", UNIT]) == 1
    message = capsys.readouterr().err
    assert message.startswith("autograder feedback: ") and "bob" in message and RENDER_FAILED in message
    assert "Traceback" not in message


def test_exports_read_the_saved_results(tmp_path):
    results.save(report(tmp_path, problems=["no notebook was submitted"]), tmp_path)
    export(UNIT, "gradescope", work_dir=tmp_path)
    bob = json.loads((tmp_path / "exports" / UNIT / "gradescope" / "bob" / "results.json").read_text())
    assert bob["score"] == 2.0 and bob["output"] == "no notebook was submitted"
    assert bob["tests"][0] == {"name": "test_sigmoid", "score": 0.0, "max_score": 1.0,
                               "output": "inf or nan", "visibility": "visible"}
    (lms,) = export(UNIT, "csv", work_dir=tmp_path)
    with open(lms) as handle:
        assert list(csv.reader(handle)) == [["Student ID", f"{UNIT} Points", f"{UNIT} Max Points"],
                                            ["alice", "1", "3"], ["bob", "2", "3"]]


def test_ungradable_submissions_are_counted_apart_from_the_statistics(tmp_path):
    graded = report(tmp_path)
    corrupt = "the notebook file is corrupt (not valid JSON): it could not be graded"
    graded.students.append(StudentResult("carol", [TestResult("test_sigmoid", 0.0, 1.0, corrupt),
                                                   TestResult("test_fit", 0.0, 2.0, corrupt)],
                                         [corrupt]))
    assert [student.ungradable for student in graded.students] == [False, False, True]
    summary = graded.summary()
    assert f"{UNIT}: 3 submissions (1 could not be graded, not counted below)" in summary
    assert "mean 1.50 / 3, median 1.50 of 2 graded" in summary
    assert "  test_sigmoid: 1 of 2" in summary and "  test_fit: 1 of 2" in summary
    assert f"  carol: {corrupt}" in summary


def test_a_submission_with_a_problem_but_graded_tests_counts_as_graded(tmp_path):
    graded = report(tmp_path, problems=[RENDER_FAILED])
    assert not graded.students[1].ungradable
    assert "2 submissions\n" in graded.summary() and "of 2 graded" in graded.summary()


def test_every_run_is_kept_and_an_earlier_one_can_be_restored(tmp_path, capsys, monkeypatch):
    first, second = report(tmp_path), report(tmp_path)
    second.students[0].tests[1].score = 2.0
    for run, graded in (("2026-12-01T090000Z", first), ("2026-12-02T090000Z", second)):
        results.save(graded, tmp_path, run=run)
        (tmp_path / "grades" / UNIT / f"{run}.csv").write_text(f"table of {run}\n")
    (tmp_path / "grades" / f"{UNIT}.csv").write_text("table of 2026-12-02T090000Z\n")
    (tmp_path / "grades" / UNIT / "2026-12-03T090000Z.log").write_text("a stopped run's log\n")
    assert [(run.name, run.students, run.mean, run.current) for run in results.history(UNIT, tmp_path)] \
        == [("2026-12-01T090000Z", 2, 1.5, False), ("2026-12-02T090000Z", 2, 2.5, True)]
    monkeypatch.setenv("NNCOURSE_DIR", str(linked_course(tmp_path)))
    assert main(["history", UNIT]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 3 and out[1].split() == ["2026-12-01T090000Z", "2", "1.50", "/", "3"]
    assert out[2].split()[-1] == "current"
    assert main(["restore", UNIT, "2026-12-01T090000Z"]) == 0
    assert "2026-12-01T090000Z are current again" in capsys.readouterr().out
    assert (tmp_path / "grades" / f"{UNIT}.json").read_bytes() == \
        (tmp_path / "grades" / UNIT / "2026-12-01T090000Z.json").read_bytes()
    assert (tmp_path / "grades" / f"{UNIT}.csv").read_text() == "table of 2026-12-01T090000Z\n"
    assert results.load(UNIT, tmp_path) == first
    assert [run.current for run in results.history(UNIT, tmp_path)] == [True, False]
    for missing in ("2026-12-03T090000Z", "../../grades/" + UNIT):
        assert main(["restore", UNIT, missing]) == 2
        assert "autograder history" in capsys.readouterr().err
    assert results.load(UNIT, tmp_path) == first
