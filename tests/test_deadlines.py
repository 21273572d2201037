"""Due dates, extensions and late penalties (``deadlines.toml``), from the file to every place a
grade is shown: the grade table, the JSON, the feedback page, the exports, and nbgrader's own
late-penalty stage. No grading here: results are built by hand, the gradebook with nbgrader's API."""
import csv
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import nbformat
import pytest

from autograder import results
from autograder.adjustments import adjust, current
from autograder.deadlines import (DEADLINES_FILE, DeadlinesError, LatePolicy, load, parse_time,
                                  write_timestamp)
from autograder.export import export
from autograder.feedback import write_feedback
from autograder.intake import take_in
from autograder.results import GradeReport, StudentResult, TestResult
from autograder.settings import COURSE_ID

REPO = Path(__file__).resolve().parents[1]

UNIT = "01_linear_limits"
DEADLINES = f"""
timezone = "Europe/Berlin"

[late_policy]
grace_minutes = 10
per_day = 0.25
maximum = 0.5

[due]
{UNIT} = "2027-01-15 23:59"

[extensions.{UNIT}]
carol = "2 days"
"""
DUE = datetime(2027, 1, 15, 22, 59, tzinfo=timezone.utc)  # 23:59 in Berlin, in winter


def course(tmp_path, deadlines=DEADLINES):
    (tmp_path / DEADLINES_FILE).write_text(deadlines)
    students = [StudentResult(name, [TestResult("test_sigmoid", 1.0, 1.0),
                                     TestResult("test_fit", 2.0, 2.0)])
                for name in ("alice", "bob", "carol", "dave")]
    results.save(GradeReport(UNIT, students, tmp_path / "grades" / f"{UNIT}.csv"), tmp_path)
    handed_in = {"alice": DUE - timedelta(hours=1),       # on time
                 "bob": DUE + timedelta(hours=30),        # 2 days begun: 50%, the maximum
                 "carol": DUE + timedelta(hours=30)}      # within her 2-day extension
    for student, moment in handed_in.items():             # dave: time not known
        folder = tmp_path / "submitted" / student / UNIT
        folder.mkdir(parents=True)
        write_timestamp(folder, moment)


def read_csv(path):
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


def test_the_file_gives_due_dates_in_utc_extensions_and_the_policy(tmp_path):
    (tmp_path / DEADLINES_FILE).write_text(DEADLINES)
    deadlines = load(tmp_path)
    assert deadlines.due == {UNIT: DUE}
    assert deadlines.due_for(UNIT, "carol") == (DUE + timedelta(days=2), timedelta(days=2))
    assert deadlines.due_for(UNIT, "alice") == (DUE, None)
    assert deadlines.due_for("02_xor", "alice") == (None, None)
    assert deadlines.policy == LatePolicy(grace_minutes=10, per_day=0.25, maximum=0.5)
    assert load(tmp_path / "nowhere").due == {}  # no file: nothing is ever late


@pytest.mark.parametrize("text, says", [
    ('[due]\n09_lstm = "2027-01-15 23:59"', "unknown unit '09_lstm'; the units are: 01_linear_limits"),
    (f'[due]\n{UNIT} = "next friday"', f"[due] {UNIT} = 'next friday' is not a date"),
    (f'[extensions.{UNIT}]\nalice = "a while"', "'a while' is not a duration"),
    ('[late_policy]\nper_day = 10', "between 0 and 1"),
    ('[late_policy]\nper_week = 0.1', "unknown setting(s) per_week"),
    ('timezone = "Mars/Olympus"', "is not a time zone name"),
    ('[due\n', DEADLINES_FILE),
    ('deadline = "2027-01-15"', "unknown setting(s) deadline"),
])
def test_a_mistake_in_the_file_is_named(tmp_path, text, says):
    (tmp_path / DEADLINES_FILE).write_text(text)
    with pytest.raises(DeadlinesError) as raised:
        load(tmp_path)
    assert says in str(raised.value) and str(raised.value).startswith(DEADLINES_FILE)


def test_each_day_begun_after_the_grace_period_costs_its_share_up_to_the_maximum():
    policy = LatePolicy(grace_minutes=10, per_day=0.25, maximum=0.5)
    minute, day = 60, 24 * 3600
    assert [policy.penalty(4.0, seconds) for seconds in
            (0, 10 * minute, 11 * minute, day, day + 1, 2 * day + 1, 30 * day)] == \
        [0, 0, 1.0, 1.0, 2.0, 2.0, 2.0]
    assert LatePolicy().penalty(4.0, 30 * day) == 0  # the default policy takes nothing


def test_times_in_the_file_and_in_timestamps_are_read_as_utc():
    assert parse_time("2027-01-15 23:59") == datetime(2027, 1, 15, 23, 59, tzinfo=timezone.utc)
    assert parse_time("2027-01-15T23:59:00+01:00") == DUE
    assert parse_time("2027-01-15 22:59:00.000000 UTC") == DUE  # nbgrader's timestamp.txt


def test_a_late_submission_loses_points_in_the_table_the_json_the_export_and_its_page(tmp_path):
    course(tmp_path)
    report = current(UNIT, tmp_path)
    alice, bob, carol, dave = report.students
    assert (alice.seconds_late, alice.late_penalty, alice.score) == (0, 0, 3)
    assert (bob.seconds_late, bob.late_penalty, bob.score) == (30 * 3600, 1.5, 1.5)
    assert (carol.late_penalty, carol.extension, carol.due_at) == (0, "2 days, 0:00:00",
                                                                    (DUE + timedelta(days=2)).isoformat())
    assert (dave.submitted_at, dave.late_penalty) == ("", 0)

    table = read_csv(tmp_path / "grades" / f"{UNIT}.csv")
    assert table[0][-2:] == ["submitted_at", "late_penalty"]
    assert table[2][:3] == ["bob", UNIT, "1.5"] and table[2][-1] == "1.5"
    assert json.loads((tmp_path / "grades" / f"{UNIT}.json").read_text())["students"][1][
        "late_penalty"] == 1.5

    (lms,) = export(UNIT, "csv", work_dir=tmp_path)
    rows = read_csv(lms)
    assert rows[0] == ["Student ID", f"{UNIT} Points", f"{UNIT} Max Points", f"{UNIT} Submitted At",
                       f"{UNIT} Late Penalty"]
    assert rows[2] == ["bob", "1.5", "3", bob.submitted_at, "1.5"]
    export(UNIT, "gradescope", work_dir=tmp_path)
    gradescope = json.loads((tmp_path / "exports" / UNIT / "gradescope" / "bob" / "results.json")
                            .read_text())
    assert gradescope["score"] == 1.5 and "late penalty 1.5 points" in gradescope["output"]

    write_feedback(UNIT, work_dir=tmp_path)
    page = (tmp_path / "feedback" / "bob" / UNIT / "summary.html").read_text()
    assert "<h1>01_linear_limits: 1.5 / 3</h1>" in page
    assert ("Handed in 2027-01-17 04:59 UTC, due 2027-01-15 22:59 UTC: 1 day 6 h 0 min late; "
            "late penalty 1.5 of your 3 points (25% of the score per day late") in page
    carol_page = (tmp_path / "feedback" / "carol" / UNIT / "summary.html").read_text()
    assert "with an extension of 2 days" in carol_page and "on time." in carol_page
    dave_page = (tmp_path / "feedback" / "dave" / UNIT / "summary.html").read_text()
    assert "not known, so it counts as on time" in dave_page


def test_an_extension_granted_after_grading_takes_effect_without_a_regrade(tmp_path):
    course(tmp_path)
    assert current(UNIT, tmp_path).students[1].late_penalty == 1.5
    (tmp_path / DEADLINES_FILE).write_text(DEADLINES + 'bob = "36 hours"\n')
    (lms,) = export(UNIT, "csv", work_dir=tmp_path)
    assert read_csv(lms)[2][:2] == ["bob", "3"]
    runs = results.history(UNIT, tmp_path)  # each change is a run of its own: restorable
    assert [run.mean for run in runs] == [2.625, 3.0] and runs[-1].current


def test_a_grade_table_without_a_due_date_has_no_deadline_columns(tmp_path):
    course(tmp_path, deadlines="")
    report = current(UNIT, tmp_path)
    assert all(student.late_penalty == 0 and not student.due_at for student in report.students)
    assert read_csv(tmp_path / "grades" / f"{UNIT}.csv")[0] == \
        ["student_id", "unit", "score", "max_score", "test_sigmoid", "test_fit"]


def test_submission_times_from_the_lms_become_nbgraders_timestamps(tmp_path):
    lms = tmp_path / "lms"
    for name in ("Ann Lee", "bob"):
        folder = lms / name
        folder.mkdir(parents=True)
        source = REPO / "exercises" / UNIT / f"{UNIT}.ipynb"
        (folder / f"{UNIT}.ipynb").write_bytes(source.read_bytes())
    work = tmp_path / "course"
    (work).mkdir()
    (work / DEADLINES_FILE).write_text(DEADLINES)
    times = tmp_path / "times.csv"
    times.write_text("student,submitted_at\nAnn Lee,2027-01-16 08:00\nbob,2027-01-15T12:00:00Z\n")
    intake = take_in(UNIT, work, REPO, submissions=lms, times=times)
    assert intake.students == ["Ann Lee", "bob"]
    stamp = (work / "submitted" / "Ann Lee" / UNIT / "timestamp.txt").read_text()
    assert stamp == "2027-01-16 07:00:00.000000 UTC"  # 08:00 in Berlin, the course's zone
    from nbgrader.utils import parse_utc
    assert parse_utc(stamp) == datetime(2027, 1, 16, 7, 0)  # as nbgrader reads it
    assert (work / "submitted" / "bob" / UNIT / "timestamp.txt").read_text().startswith(
        "2027-01-15 12:00:00")

    times.write_text("student,submitted_at\nbob,yesterday\n")
    with pytest.raises(ValueError, match="times.csv line 2: 'yesterday' is not a date and time"):
        take_in(UNIT, work, REPO, submissions=lms, times=times)


def test_nbgraders_late_penalty_stage_applies_the_course_policy(tmp_path):
    """``nbgrader autograde`` and ``autograder`` agree: ApplyDeadlines puts the due date and the
    extension into the gradebook, and AssignLatePenalties asks the course's plugin."""
    from nbgrader.api import Gradebook
    from nbgrader.preprocessors import AssignLatePenalties

    from autograder.nbgrader_api import ready_for_new_gradebooks
    from autograder.preprocessors import ApplyDeadlines
    from autograder.settings import course_config

    (tmp_path / DEADLINES_FILE).write_text(DEADLINES)
    ready_for_new_gradebooks()
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(url, COURSE_ID) as gradebook:
        gradebook.add_assignment(UNIT)
        gradebook.add_notebook(UNIT, UNIT)
        gradebook.add_grade_cell("test_fit", UNIT, UNIT, max_score=4.0, cell_type="code")
        for student in ("bob", "carol"):
            gradebook.add_student(student)
            gradebook.add_submission(UNIT, student, timestamp=DUE + timedelta(hours=30))
            gradebook.find_grade("test_fit", UNIT, UNIT, student).auto_score = 4.0
        gradebook.db.commit()

    config = course_config(work_dir=tmp_path)
    penalties = {}
    for student in ("bob", "carol"):
        resources = {"nbgrader": {"assignment": UNIT, "notebook": UNIT, "student": student,
                                  "db_url": url}}
        notebook = nbformat.v4.new_notebook()
        ApplyDeadlines(config=config).preprocess(notebook, resources)
        AssignLatePenalties(config=config).preprocess(notebook, resources)
        with Gradebook(url, COURSE_ID) as gradebook:
            penalties[student] = gradebook.find_submission_notebook(UNIT, UNIT, student) \
                .late_submission_penalty
            assert gradebook.find_assignment(UNIT).duedate == DUE.replace(tzinfo=None)
    assert penalties == {"bob": LatePolicy(10, 0.25, 0.5).penalty(4.0, 30 * 3600), "carol": None}
    assert penalties["bob"] == 2.0


def test_grading_with_a_broken_deadlines_file_grades_nothing(tmp_path):
    from autograder.grading import UnsandboxedGrading, grade

    (tmp_path / DEADLINES_FILE).write_text(f'[due]\n{UNIT} = "soon"\n')
    with pytest.warns(UnsandboxedGrading), pytest.raises(DeadlinesError, match="'soon' is not a date"):
        grade(UNIT, work_dir=tmp_path, sandboxed=False, progress=False)
    assert sorted(path.name for path in tmp_path.iterdir()) == [DEADLINES_FILE]


def test_adjusting_twice_changes_nothing(tmp_path):
    course(tmp_path)
    report = results.load(UNIT, tmp_path)
    assert adjust(report, tmp_path)
    assert not adjust(report, tmp_path)
