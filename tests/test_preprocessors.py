"""The course's nbgrader stages (``autograder.preprocessors``), each on a small notebook built here.

No kernel and no grading: each stage is a function from a notebook to a notebook, so it is tried
on cells named by scenario; the judge is replaced by chosen verdicts.
"""
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from traitlets.config import Config

import autograder.judge
from autograder.judge import Verdict
from autograder.preprocessors import (HideHiddenTests, JudgeVerdicts, LimitOutputSize,
                                      SandboxedExecute, TrimTracebacks)

RESOURCES = {"nbgrader": {"student": "alice", "assignment": "04_single_layer_gradients"}}


def graded_cell(source, outputs=(), grade_id="test_cell"):
    """A test cell as nbgrader marks it (graded, locked)."""
    cell = new_code_cell(source, outputs=list(outputs))
    cell.metadata.nbgrader = {"grade": True, "solution": False, "locked": True,
                              "grade_id": grade_id, "points": 1, "schema_version": 3}
    return cell


def run(stage, *cells):
    notebook, _ = stage.preprocess(new_notebook(cells=list(cells)), {**RESOURCES})
    nbformat.validate(notebook)
    return notebook.cells


def kernel_error(ename="AssertionError", evalue="expected 1, got 0"):
    return new_output("error", ename=ename, evalue=evalue,
                      traceback=["Traceback (most recent call last)", '  File "autograder/checks.py"',
                                 f"{ename}: {evalue}"])


# HideHiddenTests ---------------------------------------------------------------------------------

HIDDEN_TEST_CELL = """from nnlib.functional import sigmoid
check_close("visible", sigmoid(0.0), 0.5)
### BEGIN HIDDEN TESTS
grade("nnlib.functional.sigmoid")
### END HIDDEN TESTS
print("done")"""


def test_hidden_tests_are_replaced_by_a_placeholder_and_the_visible_code_kept():
    (cell,) = run(HideHiddenTests(), graded_cell(HIDDEN_TEST_CELL))
    assert "grade(" not in cell.source and "HIDDEN TESTS" not in cell.source
    assert cell.source.splitlines() == ["from nnlib.functional import sigmoid",
                                        'check_close("visible", sigmoid(0.0), 0.5)',
                                        "# (hidden tests ran here; the message below says what they found)",
                                        'print("done")']


def test_hidden_tests_only_hidden_in_test_cells():
    student_cell, markdown = new_code_cell(HIDDEN_TEST_CELL), new_markdown_cell(HIDDEN_TEST_CELL)
    assert [cell.source for cell in run(HideHiddenTests(), student_cell, markdown)] == [HIDDEN_TEST_CELL] * 2


def test_two_hidden_blocks_are_both_hidden_and_the_code_between_kept():
    source = ("### BEGIN HIDDEN TESTS\nsecret_one()\n### END HIDDEN TESTS\nvisible()\n"
              "    ### BEGIN HIDDEN TESTS\n    secret_two()\n    ### END HIDDEN TESTS")
    (cell,) = run(HideHiddenTests(), graded_cell(source))
    assert "secret" not in cell.source and "visible()" in cell.source
    assert cell.source.count("hidden tests ran here") == 2


# JudgeVerdicts -----------------------------------------------------------------------------------

@pytest.fixture
def verdicts(monkeypatch):
    """The judge replaced: ``verdicts[name] = Verdict(...)`` chooses its answer; ``verdicts.calls``
    records what it was asked."""

    class Chosen(dict):
        def __init__(self):
            super().__init__()
            self.calls = []

    chosen = Chosen()

    def judge(names, submission, sandboxed=True, **kwargs):
        chosen.calls.append((list(names), submission, sandboxed))
        return {name: chosen[name] for name in names}

    monkeypatch.setattr(autograder.judge, "judge", judge)
    return chosen


def judged(*cells, sandboxed=True):
    return run(JudgeVerdicts(submitted_directory="course/submitted", sandboxed=sandboxed), *cells)


def test_the_judges_error_goes_first_in_a_cell_it_rejects(verdicts):
    verdicts["nnlib.functional.sigmoid"] = Verdict("nnlib.functional.sigmoid", False,
                                                   "sigmoid(x)['x = 1000']: expected 1, got nan")
    printed = new_output("stream", name="stdout", text="\u2713 all tests passed\n")
    (cell,) = judged(graded_cell('grade("nnlib.functional.sigmoid")', outputs=[printed]))
    assert [output.output_type for output in cell.outputs] == ["error", "stream"]
    assert cell.outputs[0].ename == "JudgeError"
    assert cell.outputs[0].evalue == "sigmoid(x)['x = 1000']: expected 1, got nan"
    assert cell.outputs[1] == printed  # what the kernel printed stays, after the verdict


def test_a_cell_scores_only_if_every_function_it_names_passes(verdicts):
    verdicts["nnlib.layers.Linear.forward"] = Verdict("nnlib.layers.Linear.forward", True)
    verdicts["nnlib.layers.ReLU.forward"] = Verdict("nnlib.layers.ReLU.forward", False, "ReLU(x) = 0 for x < 0")
    verdicts["nnlib.layers.Tanh.forward"] = Verdict("nnlib.layers.Tanh.forward", False, "slope at 0 is 1")
    both_fail = graded_cell('grade("nnlib.layers.ReLU.forward")\ngrade( "nnlib.layers.Tanh.forward")',
                          outputs=[kernel_error()], grade_id="both")
    passes = graded_cell('grade("nnlib.layers.Linear.forward")', grade_id="passes")
    one_fails = graded_cell('grade("nnlib.layers.Linear.forward")\ngrade("nnlib.layers.ReLU.forward")',
                          grade_id="one_fails")
    both, passed, one = judged(both_fail, passes, one_fails)
    assert both.outputs[0].evalue == "ReLU(x) = 0 for x < 0; slope at 0 is 1"
    assert both.outputs[1].ename == "AssertionError"  # the kernel's own error comes after
    assert passed.outputs == []
    assert [output.evalue for output in one.outputs] == ["ReLU(x) = 0 for x < 0"]
    # each function judged once, on the submitted files of this student
    assert verdicts.calls == [(["nnlib.layers.Linear.forward", "nnlib.layers.ReLU.forward",
                                "nnlib.layers.Tanh.forward"],
                               Path("course/submitted/alice/04_single_layer_gradients"),
                               True)]


def test_cells_that_name_no_graded_function_leave_the_judge_idle(verdicts):
    solution = new_code_cell('grade("nnlib.functional.sigmoid")')  # not a test cell
    cells = judged(solution, graded_cell("assert 1 + 1 == 2"), new_markdown_cell("grade(...)"))
    assert verdicts.calls == [] and all(cell.get("outputs", []) == [] for cell in cells)


def test_the_judge_runs_unsandboxed_only_when_told(verdicts):
    verdicts["nnlib.functional.sigmoid"] = Verdict("nnlib.functional.sigmoid", True)
    judged(graded_cell('grade("nnlib.functional.sigmoid")'), sandboxed=False)
    assert verdicts.calls[0][2] is False
    assert JudgeVerdicts().sandboxed is True


# LimitOutputSize ---------------------------------------------------------------------------------

def test_every_kind_of_text_output_is_cut_and_the_budget_is_shared_by_the_cell():
    stage = LimitOutputSize(max_chars=100)
    cell = new_code_cell("noisy()", outputs=[
        new_output("stream", name="stdout", text="a" * 60),
        new_output("stream", name="stderr", text=["b" * 30, "b" * 30]),  # a list, as saved on disk
        new_output("execute_result", data={"text/plain": "c" * 50}, execution_count=1),
        new_output("error", ename="ValueError", evalue="d" * 50, traceback=[])])
    (cell,) = run(stage, cell)
    stdout, stderr, result, error = cell.outputs
    assert stdout.text == "a" * 60  # within the budget: untouched
    assert stderr.text.startswith("b" * 40 + "\n... output truncated: 60 characters, 40 kept")
    assert result.data["text/plain"].startswith("\n... output truncated: 50 characters, 0 kept")
    assert error.evalue.startswith("\n... output truncated: 50 characters, 0 kept")


def test_one_huge_line_is_cut_and_each_cell_has_its_own_budget():
    huge = new_code_cell("print('x' * 5_000_000)",
                         outputs=[new_output("stream", name="stdout", text="x" * 5_000_000)])
    small = new_code_cell("print('ok')", outputs=[new_output("stream", name="stdout", text="ok\n")])
    huge, small = run(LimitOutputSize(), huge, small)
    assert len(huge.outputs[0].text) < 20_100 and "5,000,000 characters, 20,000 kept" in huge.outputs[0].text
    assert small.outputs[0].text == "ok\n"


def test_no_limit_when_told_and_images_untouched():
    image = new_output("display_data", data={"image/png": "iVBORw0KGgo" * 10_000})
    text = new_output("stream", name="stdout", text="y" * 50)
    (cell,) = run(LimitOutputSize(max_chars=-1), new_code_cell("plot()", outputs=[text]))
    assert cell.outputs[0].text == "y" * 50
    (cell,) = run(LimitOutputSize(max_chars=10), new_code_cell("plot()", outputs=[image]))
    assert cell.outputs[0].data["image/png"] == "iVBORw0KGgo" * 10_000


# TrimTracebacks ----------------------------------------------------------------------------------

def test_an_error_shows_its_message_not_the_frames_of_the_grading_code():
    printed = new_output("stream", name="stdout", text="checking\n")
    (cell,) = run(TrimTracebacks(), graded_cell("grade('x')", outputs=[printed, kernel_error()]))
    assert cell.outputs[0] == printed
    assert cell.outputs[1].traceback == ["AssertionError: expected 1, got 0"]


def test_a_cell_without_errors_is_unchanged():
    printed = new_output("stream", name="stdout", text="\u2713 passed\n")
    (cell,) = run(TrimTracebacks(), new_code_cell("ok()", outputs=[printed]))
    assert cell.outputs == [printed]


# SandboxedExecute --------------------------------------------------------------------------------

def test_every_kernel_is_started_by_the_sandboxed_manager_whatever_the_config_says():
    from jupyter_client.manager import KernelManager

    from autograder.grading_kernel import SandboxedKernelManager

    config = Config({"Execute": {"kernel_manager_class": KernelManager},
                     "SandboxedExecute": {"sandboxed": False}})
    stage = SandboxedExecute(config=config)
    assert stage.kernel_manager_class is SandboxedKernelManager
    stage.nb = new_notebook()
    manager = stage.create_kernel_manager()
    assert isinstance(manager, SandboxedKernelManager) and manager.sandboxed is False
    assert SandboxedExecute().sandboxed is True


def test_every_released_test_cell_is_recognised_as_the_released_form_of_its_source():
    """``OverwriteReleasedCells`` sees an untouched cell as such only if clearing the hidden tests
    of the source cell gives exactly the released cell: checked for every locked cell of every unit."""

    from autograder.build import units_with_assignments
    from autograder.preprocessors import OverwriteReleasedCells

    REPO = Path(__file__).resolve().parents[1]

    stage = OverwriteReleasedCells()

    def locked_cells(path):
        cells = nbformat.reads(path.read_text(), as_version=4).cells
        return {cell.metadata.nbgrader["grade_id"]: cell for cell in cells
                if cell.metadata.get("nbgrader", {}).get("locked")}

    checked = 0
    for unit in units_with_assignments():
        sources = locked_cells(REPO / "solutions" / unit / f"{unit}.ipynb")
        released = locked_cells(REPO / "exercises" / unit / f"{unit}.ipynb")
        assert sources.keys() == released.keys(), unit
        for grade_id, cell in sources.items():
            assert stage.released_source(cell) == released[grade_id].source, (unit, grade_id)
            checked += 1
    assert checked > 0
