"""The `autograder` command line: help on every command, clear errors on bad arguments."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.cli import main

REPO = Path(__file__).resolve().parents[1]  # the course the tests run in


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "autograder", *args], capture_output=True,
                          text=True, cwd=cwd)


@pytest.mark.parametrize("command", ["build", "grade", "feedback", "check"])
def test_every_command_has_help_with_examples(command):
    result = run(command, "--help")
    assert result.returncode == 0
    assert "examples:" in result.stdout and f"autograder {command}" in result.stdout


def test_top_level_help_lists_the_commands():
    result = run("--help")
    assert result.returncode == 0
    for command in ["build", "grade", "feedback", "check"]:
        assert command in result.stdout


def test_unknown_unit_is_refused_with_the_list_of_units():
    result = run("grade", "4_gradients")
    assert result.returncode == 2
    assert "unknown unit '4_gradients'" in result.stderr and "04_single_layer_gradients" in result.stderr


def test_submissions_must_be_a_folder(tmp_path):
    result = run("grade", "04_single_layer_gradients", "--submissions", str(tmp_path / "nope"))
    assert result.returncode == 2 and "is not a folder" in result.stderr


def test_feedback_before_grading_says_what_to_run(tmp_path, monkeypatch, capsys):
    import autograder.feedback as feedback

    original = feedback.write_feedback
    monkeypatch.setattr(feedback, "write_feedback",
                        lambda unit, **options: original(unit, work_dir=tmp_path, root=tmp_path))
    assert main(["feedback", "04_single_layer_gradients"]) == 2
    assert "run `autograder grade 04_single_layer_gradients` first" in capsys.readouterr().err


# Each command in process, its library function replaced by a stand-in that records its arguments:
# what is tested is the shell (arguments passed on, messages, exit codes), not the grading.

UNIT = "04_single_layer_gradients"


@pytest.fixture
def calls(monkeypatch):
    """Stand-ins for the library functions; ``calls[name]`` holds each call's keyword arguments."""
    import autograder.build
    import autograder.export
    import autograder.feedback
    import autograder.grading
    import autograder.selfcheck
    from autograder.grading import GradeReport, StudentResult, TestResult

    record, behaviour = {}, {}

    def stand_in(name, result):
        def function(*args, **kwargs):
            record.setdefault(name, []).append((args, kwargs))
            if isinstance(behaviour.get(name), Exception):
                raise behaviour[name]
            return behaviour.get(name, result)
        return function

    alice = StudentResult("alice", [TestResult("test_a", 1.0, 1.0), TestResult("test_b", 0.0, 2.0,
                                                                              "dW is off")])
    report = GradeReport(UNIT, [alice], REPO / "grades" / f"{UNIT}.csv")
    monkeypatch.setattr(autograder.build, "build", stand_in("build", [REPO / "exercises" / UNIT]))
    monkeypatch.setattr(autograder.grading, "grade", stand_in("grade", report))
    monkeypatch.setattr(autograder.export, "export", stand_in("export", ["a.json", "b.csv"]))
    monkeypatch.setattr(autograder.feedback, "write_feedback", stand_in("feedback", ["p1", "p2"]))
    monkeypatch.setattr(autograder.selfcheck, "check", stand_in("check", []))
    record["behaviour"], record["report"] = behaviour, report
    return record


def test_build_prints_each_folder(calls, capsys):
    assert main(["build", UNIT]) == 0
    assert calls["build"] == [(([UNIT],), {"root": REPO})]
    assert capsys.readouterr().out == f"built exercises/{UNIT}\n"


def test_grade_passes_its_options_and_exits_by_the_submissions_problems(calls, capsys, tmp_path):
    assert main(["grade", UNIT, "--submissions", str(tmp_path), "--timeout", "30", "--jobs", "3",
                 "--no-feedback"]) == 0
    assert calls["grade"] == [((UNIT,), dict(submissions=tmp_path, work_dir=REPO, root=REPO,
                                             cell_timeout=30, feedback=False,
                                             jobs=3, sandboxed=True, id_mapping=None,
                                             all_submitted=False, times=None,
                                             scheduler=None))]
    out, err = capsys.readouterr()
    assert f"{UNIT}: 1 submissions" in out and err == ""
    calls["report"].students[0].problems.append("corrupt notebook")
    assert main(["grade", UNIT]) == 1


def test_grade_without_sandbox_warns_and_without_bubblewrap_grades_nothing(calls, capsys):
    from autograder.sandbox import UNSANDBOXED, SandboxUnavailable
    main(["grade", UNIT, "--no-sandbox"])
    assert calls["grade"][-1][1]["sandboxed"] is False
    assert capsys.readouterr().err == f"autograder grade: WARNING: {UNSANDBOXED}\n"
    calls["behaviour"]["grade"] = SandboxUnavailable("no bubblewrap")
    assert main(["grade", UNIT]) == 2
    assert capsys.readouterr().err == "autograder grade: nothing was graded: no bubblewrap\n"


def test_regrade_prints_the_lost_points_and_refuses_an_unknown_student(calls, capsys):
    from autograder.sandbox import UNSANDBOXED
    assert main(["regrade", UNIT, "alice", "--timeout", "5", "--no-sandbox"]) == 0
    assert calls["grade"] == [((UNIT,), dict(work_dir=REPO, root=REPO, students=["alice"],
                                             changed_only=False, cell_timeout=5, sandboxed=False,
                                             jobs=os.cpu_count() or 1, scheduler=None))]
    out, err = capsys.readouterr()
    assert out == "alice: 1 / 3\n  test_b: dW is off\n"
    assert err == f"autograder regrade: WARNING: {UNSANDBOXED}\n"
    calls["report"].students[0].problems.append("timed out")
    assert main(["regrade", UNIT, "alice"]) == 1
    capsys.readouterr()
    calls["behaviour"]["grade"] = ValueError("no submission of it for bob")
    assert main(["regrade", UNIT, "bob"]) == 2
    assert capsys.readouterr().err == "autograder regrade: no submission of it for bob\n"


def test_regrade_without_a_student_grades_what_changed_and_says_what_it_kept(calls, capsys):
    from autograder.results import StudentResult, TestResult
    report = calls["report"]  # alice graded again; bob and carol kept, as the merged results hold
    report.students += [StudentResult(name, [TestResult("test_a", 1.0, 1.0)]) for name in ("bob", "carol")]
    report.unchanged = ["bob", "carol"]
    assert main(["regrade", UNIT]) == 0
    assert calls["grade"] == [((UNIT,), dict(work_dir=REPO, root=REPO, students=None,
                                             changed_only=True, cell_timeout=None, sandboxed=True,
                                             jobs=os.cpu_count() or 1, scheduler=None))]
    out = capsys.readouterr().out
    assert out.startswith(f"{UNIT}: graded again 1, kept 2 unchanged") and "3 submissions" in out


def test_export_and_feedback_report_what_they_wrote_or_what_is_missing(calls, capsys):
    assert main(["export", UNIT, "--format", "csv"]) == 0
    assert calls["export"] == [((UNIT, "csv", REPO), {})]
    assert capsys.readouterr().out == f"wrote 2 file(s) under exports/{UNIT}/\n"
    calls["behaviour"]["export"] = FileNotFoundError("grade it first")
    assert main(["export", UNIT, "--format", "gradescope"]) == 2
    assert capsys.readouterr().err == "autograder export: grade it first\n"
    assert main(["feedback", UNIT]) == 0
    assert capsys.readouterr().out == f"wrote feedback for 2 students in feedback/*/{UNIT}/\n"


def test_check_lists_each_unit_and_fails_if_one_fails(calls, capsys):
    from autograder.sandbox import SandboxUnavailable
    from autograder.selfcheck import UnitCheck
    assert main(["check"]) == 0
    assert capsys.readouterr().out == "no unit has an assignment yet\n"
    calls["behaviour"]["check"] = [UnitCheck("01_linear_limits"),
                                   UnitCheck(UNIT, ["reference scores 1/2 on test_b: off"])]
    assert main(["check", "01_linear_limits", UNIT]) == 1
    assert calls["check"][-1] == ((["01_linear_limits", UNIT],), {"root": REPO})
    assert capsys.readouterr().out == (f"ok   01_linear_limits\nFAIL {UNIT}\n"
                                       "       reference scores 1/2 on test_b: off\n")
    calls["behaviour"]["check"] = SandboxUnavailable("no user namespaces")
    assert main(["check"]) == 2
    assert capsys.readouterr().err == "autograder check: nothing was graded: no user namespaces\n"


def test_build_refuses_to_replace_unsaved_work_with_a_message(monkeypatch, capsys):
    import autograder.build

    def refuse(units, root):
        raise autograder.build.UnsavedWork("exercises/05_backprop holds work git has not committed: "
                                           "nnlib/layers.py")
    monkeypatch.setattr(autograder.build, "build", refuse)
    assert main(["build", "05_backprop"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("autograder build: exercises/05_backprop holds work") and "Traceback" not in error


def test_grade_without_submissions_changes_nothing_and_says_where_it_looked(tmp_path, capsys,
                                                                             monkeypatch):
    import autograder.grading

    grades = tmp_path / "grades"
    grades.mkdir()
    (grades / f"{UNIT}.csv").write_text("student_id\nalice\n")
    original = autograder.grading.grade
    monkeypatch.setattr(autograder.grading, "grade", lambda unit, **options: original(
        unit, **{**options, "work_dir": tmp_path, "sandboxed": False}))
    empty = tmp_path / "lms"
    empty.mkdir()
    with pytest.warns(autograder.grading.UnsandboxedGrading):
        assert main(["grade", UNIT, "--submissions", str(empty), "--jobs", "1"]) == 2
    error = capsys.readouterr().err
    assert f"no submissions of {UNIT} found: looked in {empty.resolve()}" in error
    assert str(tmp_path / "submitted") in error
    assert [path.relative_to(tmp_path).as_posix() for path in sorted(tmp_path.rglob("*"))] == \
        ["grades", f"grades/{UNIT}.csv", "lms"]
    assert (grades / f"{UNIT}.csv").read_text() == "student_id\nalice\n"
