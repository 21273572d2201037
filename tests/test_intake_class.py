"""One small class of unit 01 graded by real nbgrader through each intake path, read back as an
instructor would: a renamed notebook, a nested folder, an empty submission, an accented id with a
space, an LMS folder name mapped to an id. The same class is handed in as an LMS export
(``--submissions``) and as folders already in ``submitted/``; each student must get the same.
"""
import hashlib
import html
import json
from pathlib import Path

import pytest

from autograder import intake
from autograder.settings import course_config
from simulated_class import make_submission

UNIT = "01_linear_limits"
MAX_SCORE = 6
LMS_NAME = "Doe, Jane_4711_assignsubmission_file_"
RENAMED = f"{UNIT} (1).ipynb"
PATHS = ["export", "submitted"]
DEADLINES = f"""
[late_policy]
per_day = 0.25

[due]
{UNIT} = "2027-01-15 23:59"
"""
LATE, ON_TIME = "2027-01-16 12:00", "2027-01-15 20:00"


def renamed(release, folder):
    make_submission(release, folder)
    (folder / f"{UNIT}.ipynb").rename(folder / RENAMED)


def nested(release, folder):
    make_submission(release, folder / "Downloads" / "unit 01" / UNIT)


def empty(release, folder):
    folder.mkdir(parents=True)


CLASS = {"renamed": renamed, "nested": nested, "empty": empty, "Zoë Martin": make_submission,
         LMS_NAME: make_submission}


def digest(folder):
    return {path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(Path(folder).rglob("*")) if path.is_file()}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    from autograder.build import build_unit
    from autograder.grading import grade

    scratch = tmp_path_factory.mktemp("intake")
    release = build_unit(UNIT, scratch / "release", work_dir=scratch / "build")
    mapping = scratch / "ids.csv"
    mapping.write_text(f'lms_name,student_id\n"{LMS_NAME}",jdoe\n', encoding="utf-8")
    runs = {}

    export, work = scratch / "export", scratch / "work-export"
    for name, build in CLASS.items():
        build(release, export / name)
    # already in submitted/ before the run: --submissions must not grade it again
    make_submission(release, work / "submitted" / "earlier" / UNIT)
    stale_grading(work)
    # The export path has a due date and the LMS's submission times: "nested" is a day late.
    (work / "deadlines.toml").write_text(DEADLINES)
    times = scratch / "times.csv"
    times.write_text(f'student,submitted_at\nnested,{LATE}\n"{LMS_NAME}",{ON_TIME}\n')
    before = digest(export)
    report = grade(UNIT, submissions=export, work_dir=work, id_mapping=mapping, progress=False,
                   cell_timeout=10, jobs=2, times=times)
    runs["export"] = {"report": report, "work": work, "export_unchanged": digest(export) == before}

    work = scratch / "work-submitted"
    for name, build in CLASS.items():
        build(release, work / "submitted" / name / UNIT)
    report = grade(UNIT, work_dir=work, id_mapping=mapping, progress=False, cell_timeout=10, jobs=2)
    runs["submitted"] = {"report": report, "work": work}

    # A unit with nothing to grade: only an empty folder handed in.
    (scratch / "export-02" / "late").mkdir(parents=True)
    runs["nothing_to_grade"] = grade("02_xor", submissions=scratch / "export-02",
                                     work_dir=runs["export"]["work"], progress=False)
    runs["scratch"] = scratch
    return runs


def stale_grading(work):
    """What an earlier run left of "empty", before this one brings an empty resubmission: a graded
    copy, its feedback page and a submission with a score in the gradebook."""
    from nbgrader.api import Gradebook

    from autograder.nbgrader_api import ready_for_new_gradebooks, make_api

    for path in (work / "autograded" / "empty" / UNIT / f"{UNIT}.ipynb",
                 work / "feedback" / "empty" / UNIT / f"{UNIT}.html"):
        path.parent.mkdir(parents=True)
        path.write_text("{}")
    ready_for_new_gradebooks()
    # The unit's cells in the gradebook, as grading records them (nbgrader's own step).
    api = make_api(work_dir=work, release_dir=work / ".autograder" / "release")
    assert api.generate_assignment(UNIT, force=True, create=True)["success"]
    directory = course_config(work_dir=work).CourseDirectory
    with Gradebook(directory.db_url, directory.course_id) as gradebook:
        gradebook.add_student("empty")
        gradebook.add_submission(UNIT, "empty")
        gradebook.find_grade("test_sigmoid", UNIT, UNIT, "empty").auto_score = 1.0
        gradebook.db.commit()


def students(run):
    return {student.student_id: student for student in run["report"].students}


def grades(test):
    return pytest.mark.slow(pytest.mark.sandbox(test))


@grades
@pytest.mark.parametrize("path", PATHS)
def test_the_class_is_graded_under_the_students_ids(graded, path):
    assert sorted(students(graded[path])) == sorted(["renamed", "nested", "empty", "Zoë Martin",
                                                     "jdoe"])


@grades
@pytest.mark.parametrize("path", PATHS)
def test_a_renamed_notebook_is_graded_with_a_note_and_no_lost_point(graded, path):
    result = students(graded[path])["renamed"]
    assert result.score == result.max_score == MAX_SCORE
    [note] = result.notes  # for the instructor: not a problem, not on the student's page
    assert RENAMED in note and "no points lost" in note and result.problems == []
    report = graded[path]["report"]
    assert note in report.summary() and "renamed" not in dict(report.failures)
    copy = graded[path]["work"] / "submitted" / "renamed" / UNIT
    assert (copy / f"{UNIT}.ipynb").is_file() and not (copy / RENAMED).exists()


@grades
@pytest.mark.parametrize("path", PATHS)
def test_nested_accented_and_mapped_submissions_get_full_marks(graded, path):
    for student in ["nested", "Zoë Martin", "jdoe"]:
        result = students(graded[path])[student]
        late = path == "export" and student == "nested"  # its only difference: a day late
        assert result.points == result.max_score == MAX_SCORE, (student, result)
        assert result.score == MAX_SCORE * (0.75 if late else 1), (student, result)
        assert result.problems == [], student


@grades
@pytest.mark.parametrize("path", PATHS)
def test_an_empty_submission_gets_a_message_for_the_student(graded, path):
    result = students(graded[path])["empty"]
    assert result.score == 0 and result.max_score == MAX_SCORE
    assert result.problems == [intake.EMPTY]
    assert all(test.message == intake.EMPTY for test in result.tests)
    page = html.unescape((graded[path]["work"] / "feedback" / "empty" / UNIT / "summary.html")
                         .read_text())
    assert intake.EMPTY in page
    assert "NbGraderException" not in page and str(graded["scratch"]) not in page
    if path == "export":  # an empty resubmission: nothing of the earlier grading is left to show
        from nbgrader.api import Gradebook, MissingEntry

        work = graded[path]["work"]
        assert not (work / "autograded" / "empty" / UNIT).exists()
        assert not (work / "feedback" / "empty" / UNIT / f"{UNIT}.html").exists()
        directory = course_config(work_dir=work).CourseDirectory
        with Gradebook(directory.db_url, directory.course_id) as gradebook:
            with pytest.raises(MissingEntry):
                gradebook.find_submission(UNIT, "empty")


@grades
def test_submissions_grades_only_what_it_brings_and_reads_the_export_only(graded):
    work = graded["export"]["work"]
    assert "earlier" not in students(graded["export"])
    assert not (work / "autograded" / "earlier").exists()
    assert graded["export"]["export_unchanged"]


@grades
def test_a_unit_nobody_handed_in_stays_out_of_the_gradebook(graded):
    from nbgrader.api import Gradebook

    report = graded["nothing_to_grade"]
    assert [(s.student_id, s.problems) for s in report.students] == [("late", [intake.EMPTY])]
    directory = course_config(work_dir=graded["export"]["work"]).CourseDirectory
    with Gradebook(directory.db_url, directory.course_id) as gradebook:
        assert [assignment.name for assignment in gradebook.assignments] == [UNIT]


@grades
def test_the_roster_names_the_graded_students_in_the_gradebook(graded, tmp_path):
    from nbgrader.api import Gradebook

    work = graded["export"]["work"]
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,first_name,last_name,email\njdoe,Jane,Doe,jane@uni.edu\n"
                      "Zoë Martin,Zoë,Martin,zoe@uni.edu\n", encoding="utf-8")
    assert intake.import_roster(roster, work) == 2
    directory = course_config(work_dir=work).CourseDirectory
    with Gradebook(directory.db_url, directory.course_id) as gradebook:
        names = {student.id: (student.first_name, student.last_name)
                 for student in gradebook.students}
        assert names["jdoe"] == ("Jane", "Doe") and names["Zoë Martin"] == ("Zoë", "Martin")
        # graded, not only listed: the roster names the students the grades belong to
        assert gradebook.find_submission(UNIT, "jdoe").score == MAX_SCORE
    saved = json.loads((work / "grades" / f"{UNIT}.json").read_text())
    assert {student["student_id"] for student in saved["students"]} >= {"jdoe", "Zoë Martin"}


@grades
def test_a_late_submission_is_penalised_by_nbgrader_and_by_the_report_alike(graded):
    from nbgrader.api import Gradebook

    work = graded["export"]["work"]
    directory = course_config(work_dir=work).CourseDirectory
    with Gradebook(directory.db_url, directory.course_id) as gradebook:
        nested = gradebook.find_submission(UNIT, "nested")
        assert nested.total_seconds_late == 12 * 3600 + 60
        assert nested.late_submission_penalty == MAX_SCORE * 0.25
        assert gradebook.find_submission(UNIT, "jdoe").total_seconds_late == 0
    saved = {s["student_id"]: s for s in
             json.loads((work / "grades" / f"{UNIT}.json").read_text())["students"]}
    assert saved["nested"]["late_penalty"] == MAX_SCORE * 0.25
    assert saved["jdoe"]["late_penalty"] == 0 and saved["jdoe"]["submitted_at"]
    page = html.unescape((work / "feedback" / "nested" / UNIT / "summary.html").read_text())
    assert "12 h 1 min late; late penalty 1.5 of your 6 points" in page


@grades
def test_a_grade_given_in_the_gradebook_counts_at_once_and_survives_a_regrade(graded):
    """What a grader does in the formgrader: a score on one test (the course's test cells take no
    comments in nbgrader: only solution and task cells do; tests/test_export.py covers comments).
    ``autograder feedback`` shows it without a regrade; a regrade keeps it, the autograder's score
    beside it."""
    from nbgrader.api import Gradebook

    from autograder.feedback import write_feedback
    from autograder.grading import grade
    from autograder.results import OVERRIDDEN, load

    work = graded["submitted"]["work"]
    directory = course_config(work_dir=work).CourseDirectory
    test = students(graded["submitted"])["jdoe"].tests[0]
    with Gradebook(directory.db_url, directory.course_id) as gradebook:
        gradebook.find_grade(test.name, UNIT, UNIT, "jdoe").manual_score = test.max_score - 1
        gradebook.db.commit()
    write_feedback(UNIT, work_dir=work)
    for source in ("feedback", "regrade"):
        if source == "regrade":
            grade(UNIT, work_dir=work, students=["jdoe"], progress=False, cell_timeout=10)
        (jdoe,) = [s for s in load(UNIT, work).students if s.student_id == "jdoe"]
        (overridden,) = [t for t in jdoe.tests if t.overridden]
        assert (overridden.name, overridden.score, overridden.auto_score, overridden.comment) == \
            (test.name, test.max_score - 1, test.max_score, ""), source
        assert jdoe.score == MAX_SCORE - 1, source
        page = html.unescape((work / "feedback" / "jdoe" / UNIT / "summary.html").read_text())
        assert f"{OVERRIDDEN}: {test.max_score - 1:g} / {test.max_score:g}" in page, source
        table = (work / "grades" / f"{UNIT}.csv").read_text()
        assert f"jdoe,{UNIT},{MAX_SCORE - 1:g},{MAX_SCORE}," in table, source


@grades
def test_regrade_grades_only_what_changed(graded):
    """``autograder regrade UNIT``: with nothing changed, nothing is graded (the empty submission
    keeps its problem); after one student's file changes, only that student is graded again."""
    from autograder.grading import grade

    work = graded["submitted"]["work"]
    before = {student.student_id: student for student in
              grade(UNIT, work_dir=work, changed_only=True, progress=False, cell_timeout=10).students}
    runs = sorted((work / "grades" / UNIT).glob("*.json"))
    report = grade(UNIT, work_dir=work, changed_only=True, progress=False, cell_timeout=10)
    assert sorted(report.unchanged) == sorted(set(before) - {"empty"})
    assert sorted((work / "grades" / UNIT).glob("*.json")) == runs  # no run: nothing changed

    functional = work / "submitted" / "nested" / UNIT / "nnlib" / "functional.py"
    functional.write_text(functional.read_text() + "\n# tidied up\n")
    report = grade(UNIT, work_dir=work, changed_only=True, progress=False, cell_timeout=10)
    assert sorted(report.unchanged) == sorted(set(before) - {"empty", "nested"})
    after = {student.student_id: student for student in report.students}
    assert after["nested"].graded_from != before["nested"].graded_from
    assert after["nested"].score == before["nested"].score == MAX_SCORE
    assert all(after[name] == before[name] for name in report.unchanged)
