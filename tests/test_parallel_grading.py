"""Grading in parallel gives the same grades; regrade and export work on the saved results."""
import csv
import json
import shutil

import pytest

from autograder.cli import main
from autograder.export import export
from autograder.grading import grade
from simulated_class import grade_class, make_submission

UNIT = "04_single_layer_gradients"
pytestmark = [pytest.mark.slow, pytest.mark.sandbox]

STUDENTS = {
    "reference": lambda release, folder: make_submission(release, folder),
    "untouched": lambda release, folder: make_submission(release, folder, reference=False),
    "wrong_mse": lambda release, folder: make_submission(
        release, folder, regions=[("losses", "MSELoss.backward", "return 2.0 * (pred - target)")]),
    "wrong_relu": lambda release, folder: make_submission(
        release, folder, regions=[("functional", "relu_derivative", "return (z >= 0) * 1.0")]),
    "hangs": lambda release, folder: make_submission(
        release, folder, regions=[("functional", "tanh_derivative", "while True:\n    pass")]),
}


@pytest.fixture(scope="module")
def graded_twice(tmp_path_factory):
    sequential = grade_class(UNIT, tmp_path_factory.mktemp("one"), STUDENTS, cell_timeout=8, jobs=1)
    parallel_work = tmp_path_factory.mktemp("two")
    report = grade(UNIT, submissions=sequential["submissions"], work_dir=parallel_work,
                   progress=False, cell_timeout=8, jobs=2)
    return sequential, report, parallel_work


def table(report):
    return {s.student_id: [(t.name, t.score) for t in s.tests] for s in report.students}


def test_parallel_grading_gives_the_same_grades(graded_twice):
    sequential, parallel, _ = graded_twice
    assert table(parallel) == table(sequential["report"])
    assert sequential["before"] == sequential["after"]


def test_regrade_changes_one_student_and_keeps_the_others(graded_twice):
    _, parallel, work = graded_twice
    fixed = work / "submitted" / "wrong_mse" / UNIT
    shutil.rmtree(fixed / "nnlib")
    shutil.copytree(work / "submitted" / "reference" / UNIT / "nnlib", fixed / "nnlib")
    report = grade(UNIT, work_dir=work, progress=False, cell_timeout=8, students=["wrong_mse"])
    before, after = table(parallel), table(report)
    assert after["wrong_mse"] != before["wrong_mse"]
    assert all(score == dict(before["reference"])[name] for name, score in after["wrong_mse"])
    assert {k: v for k, v in after.items() if k != "wrong_mse"} == \
        {k: v for k, v in before.items() if k != "wrong_mse"}
    with open(report.csv_path) as handle:
        assert len(list(csv.reader(handle))) == 1 + len(STUDENTS)
    with pytest.raises(ValueError, match="no submission of .* for nobody_here"):
        grade(UNIT, work_dir=work, progress=False, students=["nobody_here"])


def test_exports_for_gradescope_and_an_lms(graded_twice):
    _, report, work = graded_twice
    paths = export(UNIT, "gradescope", work_dir=work)
    assert len(paths) == len(STUDENTS)
    results = json.loads((work / "exports" / UNIT / "gradescope" / "wrong_relu" / "results.json")
                         .read_text())
    assert set(results) >= {"score", "tests"}
    assert all(set(test) == {"name", "score", "max_score", "output", "visibility"}
               for test in results["tests"])
    failed = [test for test in results["tests"] if test["score"] < test["max_score"]]
    assert [test["name"] for test in failed] == ["test_relu_derivative"]
    assert "relu_derivative" in failed[0]["output"]
    (lms,) = export(UNIT, "csv", work_dir=work)
    with open(lms) as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["Student ID", f"{UNIT} Points", f"{UNIT} Max Points"]
    assert ["reference", "14", "14"] in rows and ["untouched", "0", "14"] in rows
    with pytest.raises(ValueError, match="unknown format"):
        export(UNIT, "xlsx", work_dir=work)


def test_export_before_grading_says_what_to_run(tmp_path, monkeypatch, capsys):
    import autograder.export as module

    original = module.export
    monkeypatch.setattr(module, "export", lambda unit, fmt, work_dir: original(unit, fmt, work_dir=tmp_path))
    assert main(["export", UNIT, "--format", "csv"]) == 2
    assert "run `autograder grade" in capsys.readouterr().err
