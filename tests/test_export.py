"""``autograder export``: the Canvas, generic CSV, all-units and Gradescope exports of saved results,
with manual grades from a real nbgrader gradebook. No grading here: results are built by hand."""
import csv
import json
import os

import pytest

from autograder import results
from autograder.cli import main
from autograder.export import CANVAS_IDENTITY, canvas_title, export, export_all, read_gradebook
from autograder.feedback import write_feedback
from autograder.results import OVERRIDDEN, GradeReport, StudentResult, TestResult
from autograder.settings import COURSE_ID

UNIT = "01_linear_limits"
LATER_UNIT = "02_xor"


def save_unit(work, unit, students):
    results.save(GradeReport(unit, students, work / "grades" / f"{unit}.csv", "bubblewrap 0.8.0"), work)


def save_unit_01(work):
    save_unit(work, UNIT, [
        StudentResult("alice", [TestResult("test_sigmoid", 1.0, 1.0),
                                TestResult("test_fit", 0.0, 2.0, "fit: expected a list of")]),
        StudentResult("bob", [TestResult("test_sigmoid", 0.0, 1.0, "inf or nan"),
                              TestResult("test_fit", 2.0, 2.0)])])


def gradebook_with_a_manual_grade(work):
    """A gradebook of ``UNIT`` as grading leaves it (automatic scores), then alice's ``test_fit``
    set to 1.5 by hand with a comment, and a comment on a cell that is not a test."""
    from nbgrader.api import Gradebook

    from autograder.nbgrader_api import ready_for_new_gradebooks

    ready_for_new_gradebooks()
    with Gradebook(f"sqlite:///{work / 'gradebook.db'}", COURSE_ID) as gradebook:
        gradebook.add_assignment(UNIT)
        gradebook.add_notebook(UNIT, UNIT)
        gradebook.add_grade_cell("test_sigmoid", UNIT, UNIT, max_score=1.0, cell_type="code")
        gradebook.add_grade_cell("test_fit", UNIT, UNIT, max_score=2.0, cell_type="code")
        gradebook.add_solution_cell("test_fit", UNIT, UNIT)  # a graded cell the grader can comment
        gradebook.add_solution_cell("notes", UNIT, UNIT)
        gradebook.add_student("alice", first_name="Alice", last_name="Liddell", lms_user_id="4711")
        gradebook.add_student("bob")
        for student, scores in {"alice": (1.0, 0.0), "bob": (0.0, 2.0)}.items():
            gradebook.add_submission(UNIT, student)
            for name, score in zip(("test_sigmoid", "test_fit"), scores):
                gradebook.find_grade(name, UNIT, UNIT, student).auto_score = score
        gradebook.find_grade("test_fit", UNIT, UNIT, "alice").manual_score = 1.5
        gradebook.find_comment("test_fit", UNIT, UNIT, "alice").manual_comment = "right idea, off by one"
        gradebook.find_comment("notes", UNIT, UNIT, "bob").manual_comment = "tidy work"
        gradebook.db.commit()


def read_csv(path):
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


def test_canvas_export_has_the_identity_columns_and_a_points_possible_row(tmp_path):
    save_unit_01(tmp_path)
    (path,) = export(UNIT, "canvas", work_dir=tmp_path)
    assert path == tmp_path / "exports" / UNIT / f"{UNIT}-canvas.csv"
    title = canvas_title(UNIT)
    assert title == "Unit 01: Limits of linear classifiers"
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", title]
        points_possible, *students = list(reader)
    assert points_possible == {"Student": "Points Possible", "ID": "", "SIS User ID": "",
                               "SIS Login ID": "", "Section": "", title: "3"}
    assert [(row["Student"], row["SIS User ID"], row["SIS Login ID"], row[title]) for row in students] \
        == [("alice", "alice", "alice", "1"), ("bob", "bob", "bob", "2")]


def test_generic_csv_has_one_row_per_student_with_points_and_maximum(tmp_path):
    save_unit_01(tmp_path)
    (path,) = export(UNIT, "csv", work_dir=tmp_path)
    assert read_csv(path) == [["Student ID", f"{UNIT} Points", f"{UNIT} Max Points"],
                              ["alice", "1", "3"], ["bob", "2", "3"]]


def test_all_units_table_leaves_missing_units_blank_and_totals_each_student(tmp_path):
    save_unit_01(tmp_path)
    save_unit(tmp_path, LATER_UNIT, [StudentResult("bob", [TestResult("test_step", 4.0, 5.0)]),
                                     StudentResult("carol", [TestResult("test_step", 5.0, 5.0)])])
    (path,) = export_all("csv", work_dir=tmp_path)
    assert path == tmp_path / "exports" / "all-units" / "all-units-lms.csv"
    assert read_csv(path) == [
        ["Student ID", f"{UNIT} Points", f"{LATER_UNIT} Points", "Total Points", "Total Max Points"],
        ["alice", "1", "", "1", "8"], ["bob", "2", "4", "6", "8"], ["carol", "", "5", "5", "8"]]
    (canvas,) = export_all("canvas", work_dir=tmp_path)
    with open(canvas, newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    assert reader.fieldnames == list(CANVAS_IDENTITY) + [canvas_title(UNIT), canvas_title(LATER_UNIT)]
    assert [list(row.values())[5:] for row in rows] == [["3", "5"], ["1", ""], ["2", "4"], ["", "5"]]
    with pytest.raises(ValueError, match="Gradescope takes one unit at a time"):
        export_all("gradescope", work_dir=tmp_path)


def test_all_units_before_any_grading_says_what_to_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="run `autograder grade UNIT` first"):
        export_all("csv", work_dir=tmp_path)


def test_an_interrupted_export_leaves_the_previous_file_whole(tmp_path, monkeypatch):
    save_unit_01(tmp_path)
    (path,) = export(UNIT, "canvas", work_dir=tmp_path)
    before = path.read_bytes()
    save_unit(tmp_path, UNIT, [StudentResult("zoe", [TestResult("test_sigmoid", 1.0, 1.0)])])

    def interrupted(source, destination):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)  # the run stops just before the new file is in place
    for fmt in ("canvas", "csv", "gradescope"):
        with pytest.raises(KeyboardInterrupt):
            export(UNIT, fmt, work_dir=tmp_path)
    with pytest.raises(KeyboardInterrupt):
        export_all("csv", work_dir=tmp_path)
    assert path.read_bytes() == before
    leftovers = [p for p in (tmp_path / "exports").rglob("*") if p.is_file() and p != path]
    assert leftovers == []


def test_without_a_gradebook_of_the_course_the_saved_results_are_exported_as_they_are(tmp_path):
    save_unit_01(tmp_path)
    expected = [["alice", "1", "3"], ["bob", "2", "3"]]
    records = read_gradebook([UNIT], tmp_path)
    assert (records.scores, records.comments, records.students, records.due) == ({}, {}, {}, {})
    assert read_csv(export(UNIT, "csv", work_dir=tmp_path)[0])[1:] == expected
    assert not (tmp_path / "gradebook.db").exists()
    (tmp_path / "gradebook.db").write_bytes(b"")  # an empty file, as a failed first run leaves
    assert read_csv(export(UNIT, "csv", work_dir=tmp_path)[0])[1:] == expected
    assert (tmp_path / "gradebook.db").read_bytes() == b""


def test_a_manual_grade_reaches_every_export_with_its_comment(tmp_path):
    save_unit_01(tmp_path)
    gradebook_with_a_manual_grade(tmp_path)
    database = (tmp_path / "gradebook.db").read_bytes()

    (lms,) = export(UNIT, "csv", work_dir=tmp_path)
    assert read_csv(lms)[1:] == [["alice", "2.5", "3"], ["bob", "2", "3"]]

    (canvas,) = export(UNIT, "canvas", work_dir=tmp_path)
    with open(canvas, newline="") as handle:
        alice = list(csv.DictReader(handle))[1]
    assert (alice["Student"], alice["ID"], alice["SIS User ID"]) == ("Liddell, Alice", "4711", "alice")
    assert alice[canvas_title(UNIT)] == "2.5"

    export(UNIT, "gradescope", work_dir=tmp_path)
    folder = tmp_path / "exports" / UNIT / "gradescope"
    alice = json.loads((folder / "alice" / "results.json").read_text())
    assert alice["score"] == 2.5
    fit = alice["tests"][1]
    assert fit["name"] == "test_fit" and fit["score"] == 1.5 and fit["max_score"] == 2.0
    assert fit["output"].startswith(f"{OVERRIDDEN}: 1.5 / 2 (the autograder gave 0)")
    assert "right idea, off by one" in fit["output"] and "fit: expected a list of" in fit["output"]
    assert alice["tests"][0]["output"] == "passed"  # not overridden: untouched
    bob = json.loads((folder / "bob" / "results.json").read_text())
    assert bob["score"] == 2.0 and "tidy work" in bob["output"]
    assert not any(OVERRIDDEN in test["output"] for test in bob["tests"])

    export_all("csv", work_dir=tmp_path)
    assert read_csv(tmp_path / "exports" / "all-units" / "all-units-lms.csv")[1] == \
        ["alice", "2.5", "2.5", "3"]
    assert (tmp_path / "gradebook.db").read_bytes() == database  # only ever read


def test_a_manual_grade_reaches_the_table_the_json_and_the_feedback_page_without_a_regrade(tmp_path):
    save_unit_01(tmp_path)
    gradebook_with_a_manual_grade(tmp_path)
    (page,) = [p for p in write_feedback(UNIT, work_dir=tmp_path) if p.parent.parent.name == "alice"]

    saved = results.load(UNIT, tmp_path)
    alice = saved.students[0]
    fit = alice.tests[1]
    assert (fit.score, fit.auto_score, fit.comment) == (1.5, 0.0, "right idea, off by one")
    assert fit.message == "fit: expected a list of"  # the autograder's word is kept beside it
    assert not alice.tests[0].overridden and alice.score == 2.5
    assert saved.students[1].comments == {"notes": "tidy work"}
    assert read_csv(tmp_path / "grades" / f"{UNIT}.csv")[1] == ["alice", UNIT, "2.5", "3", "1", "1.5"]

    text = page.read_text()
    assert "<h1>01_linear_limits: 2.5 / 3</h1>" in text
    assert f"{OVERRIDDEN}: 1.5 / 2 (the autograder gave 0)" in text
    assert "right idea, off by one" in text and "fit: expected a list of" in text
    bob_page = (tmp_path / "feedback" / "bob" / UNIT / "summary.html").read_text()
    assert "tidy work" in bob_page and OVERRIDDEN not in bob_page

    # Kept as a run of its own (restorable); applying the same gradebook again changes nothing.
    runs = results.history(UNIT, tmp_path)
    assert len(runs) == 1 and runs[0].current and runs[0].mean == 2.25
    export(UNIT, "csv", work_dir=tmp_path)
    assert len(results.history(UNIT, tmp_path)) == 1


def test_a_grade_removed_from_the_gradebook_gives_the_autograders_score_back(tmp_path):
    from nbgrader.api import Gradebook

    save_unit_01(tmp_path)
    gradebook_with_a_manual_grade(tmp_path)
    export(UNIT, "csv", work_dir=tmp_path)
    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}", COURSE_ID) as gradebook:
        gradebook.find_grade("test_fit", UNIT, UNIT, "alice").manual_score = None
        gradebook.db.commit()
    (lms,) = export(UNIT, "csv", work_dir=tmp_path)
    assert read_csv(lms)[1] == ["alice", "1", "3"]
    fit = results.load(UNIT, tmp_path).students[0].tests[1]
    assert (fit.score, fit.auto_score) == (0.0, None)


def test_export_command_takes_a_unit_or_all(tmp_path, monkeypatch, capsys):
    import autograder.export as module

    save_unit_01(tmp_path)
    original_export, original_all = module.export, module.export_all
    monkeypatch.setattr(module, "export", lambda unit, fmt, work_dir: original_export(unit, fmt, work_dir=tmp_path))
    monkeypatch.setattr(module, "export_all", lambda fmt, work_dir: original_all(fmt, work_dir=tmp_path))
    assert main(["export", UNIT, "--format", "canvas"]) == 0
    assert capsys.readouterr().out == f"wrote 1 file(s) under exports/{UNIT}/\n"
    assert main(["export", "--all", "--format", "csv"]) == 0
    assert capsys.readouterr().out == "wrote 1 file(s) under exports/all-units/\n"
    assert (tmp_path / "exports" / "all-units" / "all-units-lms.csv").is_file()
    assert main(["export", "--format", "csv"]) == 2
    assert "name one UNIT, or --all" in capsys.readouterr().err
    assert main(["export", UNIT, "--all", "--format", "csv"]) == 2
    capsys.readouterr()
    assert main(["export", "--all", "--format", "gradescope"]) == 2
    assert "one unit at a time" in capsys.readouterr().err


def test_one_students_records_are_read_without_the_others(tmp_path):
    """A feedback page reads its student's grades only (a class's pages would read the class once
    per page otherwise), and finds the same as a read of the whole class."""
    gradebook_with_a_manual_grade(tmp_path)
    everyone = read_gradebook([UNIT], tmp_path)
    bob = read_gradebook([UNIT], tmp_path, students={"bob"})
    assert bob.comments == {(UNIT, "bob"): {"notes": "tidy work"}}
    assert bob.scores == {}
    assert everyone.comments[UNIT, "bob"] == bob.comments[UNIT, "bob"]
    assert everyone.scores == {(UNIT, "alice", "test_fit"): 1.5}
    assert bob.students == everyone.students  # names, for any export
