"""The `autograder` command line: help on every command, clear errors on bad arguments."""
import subprocess
import sys

import pytest

from autograder.cli import main


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

    monkeypatch.setattr(feedback, "REPO", tmp_path)
    original = feedback.write_feedback
    monkeypatch.setattr(feedback, "write_feedback",
                        lambda unit: original(unit, work_dir=tmp_path, root=tmp_path))
    assert main(["feedback", "04_single_layer_gradients"]) == 2
    assert "run `autograder grade 04_single_layer_gradients` first" in capsys.readouterr().err
