"""A simulated class graded by real nbgrader (no mocks): the pilot unit 04, end to end.

Proves (issue: the autograder) that the reference scores full marks and the untouched release zero;
that plausible mistakes lose points on the right test with the right message in the feedback, while
correct alternatives keep them; that deleting or editing tests, or deleting nnlib/, never pays; and
that crashes, hangs, huge output and corrupt notebooks cost only the affected points, leaving every
submitted file byte for byte as it was.
"""
import csv
import hashlib
import json
import shutil
from pathlib import Path

import pytest

from autograder.build import build_unit
from autograder.grading import grade
from simulated_class import code_cell, is_test_cell, make_submission

UNIT = "04_single_layer_gradients"
CELL_TIMEOUT = 10
pytestmark = [pytest.mark.slow, pytest.mark.sandbox]

LOGISTIC = """
    z = X @ self.w + self.b
    o = sigmoid(z)
    loss = np.mean(np.logaddexp(0.0, z) - t * z)
    dz = {dz}
    dw = {dw}
    db = {db}
    return float(loss), dw, float(db)
"""


def logistic(dz="(o - t) / X.shape[0]", dw="X.T @ dz", db="np.sum(dz)"):
    return ("logistic", "LogisticRegression.loss_and_gradients", LOGISTIC.format(dz=dz, dw=dw, db=db))


# name: (region rewrites, the test that must lose points, a phrase its feedback must contain)
MISTAKES = {
    "mean_instead_of_sum": ([logistic(db="np.mean(dz)")], "test_logistic_gradients", "times too small"),
    "sigmoid_derivative_is_sigmoid": (
        [("functional", "sigmoid_derivative", "return sigmoid(z)")],
        "test_sigmoid_derivative", "sigmoid_derivative"),
    "mse_gradient_without_1_over_n": (
        [("losses", "MSELoss.backward", "return 2.0 * (pred - target)")],
        "test_mse_backward", "times too large"),
    "one_sided_differences": ([("gradcheck", "numerical_gradient", """
        grad = np.zeros_like(x)
        f_x = float(f(x))
        for index in np.ndindex(x.shape):
            original = x[index]
            x[index] = original + h
            grad[index] = (float(f(x)) - f_x) / h
            x[index] = original
        return grad
    """)], "test_numerical_gradient", "numerical_gradient"),
    "transposed_weight_gradient": ([logistic(dw="X @ dz")], "test_logistic_gradients",
                                   "loss_and_gradients raised ValueError"),
    "erratum_derivative": ([logistic(dz="(o - t) * o * (1 - o) / X.shape[0]")],
                           "test_logistic_gradients", "dw"),
    "relu_derivative_one_at_zero": ([("functional", "relu_derivative", "return (z >= 0).astype(np.float64)")],
                                    "test_relu_derivative", "relu_derivative"),
    "loss_recorded_after_update": ([("logistic", "LogisticRegression.fit", """
        losses = []
        for _ in range(epochs):
            loss, dw, db = self.loss_and_gradients(X, t)
            self.w -= lr * dw
            self.b -= lr * db
            losses.append(self.loss_and_gradients(X, t)[0])
        return losses
    """)], "test_logistic_fit", "losses per epoch"),
}

ALTERNATIVES = {
    "explicit_loops": [
        ("losses", "MSELoss.forward", """
            total = 0.0
            for p, q in zip(pred.ravel(), target.ravel()):
                total += (p - q) ** 2
            return total / pred.size
        """),
        ("gradcheck", "numerical_gradient", """
            grad = np.zeros(x.shape)
            flat_x, flat_grad = x.reshape(-1), grad.reshape(-1)
            for i in range(flat_x.size):
                saved = flat_x[i]
                flat_x[i] = saved + h
                up = f(x)
                flat_x[i] = saved - h
                down = f(x)
                flat_x[i] = saved
                flat_grad[i] = (up - down) / (2 * h)
            return grad
        """),
        logistic(dw="np.array([sum(X[n, j] * dz[n] for n in range(len(dz))) for j in range(X.shape[1])])",
                 db="sum(dz[n] for n in range(len(dz)))"),
    ],
    "other_stable_formulas": [
        ("functional", "sigmoid_derivative", """
            e = np.exp(-np.abs(z))
            return e / (1.0 + e) ** 2
        """),
        ("logistic", "LogisticRegression.loss_and_gradients", """
            z = X @ self.w + self.b
            loss = np.mean(np.log1p(np.exp(-np.abs(z))) + np.maximum(z, 0.0) - t * z)
            dz = (sigmoid(z) - t) / len(t)
            return float(loss), X.T @ dz, float(dz.sum())
        """),
    ],
}


# Runs when the student's nnlib is imported in the grading kernel: every in-kernel check passes.
KERNEL_CHEAT = """
import sys, types, numpy
numpy.allclose = lambda *args, **kwargs: True
fake = types.ModuleType("autograder.hidden_tests")
fake.grade = lambda *args, **kwargs: None
sys.modules["autograder.hidden_tests"] = sys.modules["autograder.checks"] = fake
from . import testing as _testing
_testing.check_close = lambda name, *args, **kwargs: print("\u2713", name)
# Silence every failure in the kernel: no traceback shown, no error output for nbgrader to see.
from IPython import get_ipython
_shell = get_ipython()
if _shell is not None:  # in the kernel, not in the judge's child
    _shell.showtraceback = _shell._showtraceback = lambda *args, **kwargs: None
sys.excepthook = lambda *args: None
"""


def drop_test_cells(notebook):
    notebook["cells"] = [cell for cell in notebook["cells"] if not is_test_cell(cell)]


def fake_test_cells(notebook):
    for cell in notebook["cells"]:
        if is_test_cell(cell):
            cell["source"] = "print('\u2713 all tests passed')"


def insert_after_setup(source):
    def change(notebook):
        notebook["cells"].insert(2, code_cell(source))
    return change


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    scratch = tmp_path_factory.mktemp("class")
    release = build_unit(UNIT, scratch / "release", work_dir=scratch / "build")
    submissions = scratch / "submissions"

    def student(name, **kwargs):
        return make_submission(release, submissions / name / UNIT, **kwargs)

    student("reference")
    student("untouched_release", reference=False)
    for name, (regions, _, _) in MISTAKES.items():
        student(name, regions=regions)
    for name, regions in ALTERNATIVES.items():
        student(name, regions=regions)
    student("deleted_tests_stub_code", reference=False, notebook=drop_test_cells)
    student("deleted_tests_correct_code", notebook=drop_test_cells)
    student("faked_tests_stub_code", reference=False, notebook=fake_test_cells)
    shutil.rmtree(student("deleted_nnlib") / "nnlib")
    student("infinite_loop", regions=[("functional", "relu_derivative", "while True:\n    pass")])
    student("memory_hog", regions=[("functional", "tanh_derivative",
                                    "hog = np.ones(10 * 1024 ** 3 // 8)  # 10 GB")])
    student("sys_exit_in_a_cell", notebook=insert_after_setup("import sys\nsys.exit('bye')"))
    student("huge_print", notebook=insert_after_setup("print('x' * 50_000_000)"))
    student("syntax_error_in_losses", regions=[("losses", "MSELoss.forward", "return (pred -")])
    corrupt = student("corrupt_notebook") / f"{UNIT}.ipynb"
    corrupt.write_text(corrupt.read_text()[:500])
    student("stray_runtime_warning", regions=[("functional", "sigmoid_derivative", """
        np.exp(np.array([1000.0]))  # overflows: numpy prints a RuntimeWarning to stderr
        s = sigmoid(z)
        return s * (1.0 - s)
    """)])

    cheat = student("kernel_cheat", regions=[("functional", "sigmoid_derivative", "return sigmoid(z)")])
    init = cheat / "nnlib" / "__init__.py"
    init.write_text(KERNEL_CHEAT + init.read_text())

    before = hashes(submissions)
    report = grade(UNIT, submissions=submissions, work_dir=scratch / "work", progress=False,
                   cell_timeout=CELL_TIMEOUT)
    return {"report": report, "students": {s.student_id: s for s in report.students},
            "submissions": submissions, "before": before, "work": scratch / "work"}


def hashes(folder):
    return {path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(Path(folder).rglob("*")) if path.is_file()}


def scores(result):
    return {test.name: test.score for test in result.tests}


def full_marks(result):
    return result.score == result.max_score > 0


def feedback_text(graded, student):
    return (graded["work"] / "feedback" / student / UNIT / "summary.html").read_text()


def test_class_size(graded_class):
    assert len(graded_class["students"]) >= 12


def test_reference_scores_full_marks_and_the_untouched_release_zero(graded_class):
    students = graded_class["students"]
    assert full_marks(students["reference"]), [(t.name, t.message) for t in students["reference"].tests]
    assert all(score == 0 for score in scores(students["untouched_release"]).values())


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_each_mistake_loses_points_on_its_test_with_the_right_message(graded_class, name):
    _, test_name, phrase = MISTAKES[name]
    result = graded_class["students"][name]
    lost = {test.name for test in result.tests if test.score < test.max_score}
    assert test_name in lost, f"{name} kept the points of {test_name}"
    message = next(test.message for test in result.tests if test.name == test_name)
    assert phrase in message
    assert phrase in feedback_text(graded_class, name)


@pytest.mark.parametrize("name", sorted(ALTERNATIVES))
def test_correct_alternatives_keep_full_marks(graded_class, name):
    result = graded_class["students"][name]
    assert full_marks(result), [(t.name, t.message) for t in result.tests if t.score < t.max_score]


@pytest.mark.parametrize("name", ["deleted_tests_stub_code", "faked_tests_stub_code", "deleted_nnlib"])
def test_tampering_with_tests_or_nnlib_never_pays(graded_class, name):
    result = graded_class["students"][name]
    assert result.score == 0, scores(result)


def test_deleted_tests_are_put_back_and_run(graded_class):
    assert full_marks(graded_class["students"]["deleted_tests_correct_code"])


def test_missing_nnlib_is_named_in_the_feedback(graded_class):
    result = graded_class["students"]["deleted_nnlib"]
    assert all("nnlib/ is missing from your submission" in test.message for test in result.tests)
    assert "nnlib/ is missing from your submission" in feedback_text(graded_class, "deleted_nnlib")


def test_an_infinite_loop_costs_only_its_test(graded_class):
    result = graded_class["students"]["infinite_loop"]
    lost = {test.name: test.message for test in result.tests if test.score < test.max_score}
    assert list(lost) == ["test_relu_derivative"]
    assert "did not finish within" in lost["test_relu_derivative"]


def test_exhausting_memory_costs_only_its_test(graded_class):
    result = graded_class["students"]["memory_hog"]
    lost = {test.name: test.message for test in result.tests if test.score < test.max_score}
    assert list(lost) == ["test_tanh_derivative"] and "MemoryError" in lost["test_tanh_derivative"]


@pytest.mark.parametrize("name", ["sys_exit_in_a_cell", "huge_print", "stray_runtime_warning"])
def test_harmless_disruptions_keep_full_marks(graded_class, name):
    result = graded_class["students"][name]
    assert full_marks(result), [(t.name, t.message) for t in result.tests if t.score < t.max_score]


def test_huge_output_is_truncated_in_the_graded_notebook(graded_class):
    graded = graded_class["work"] / "autograded" / "huge_print" / UNIT / f"{UNIT}.ipynb"
    assert graded.stat().st_size < 2_000_000
    assert "output truncated" in graded.read_text()


def test_a_syntax_error_costs_only_the_tests_of_that_module(graded_class):
    result = graded_class["students"]["syntax_error_in_losses"]
    lost = sorted(test.name for test in result.tests if test.score < test.max_score)
    assert lost == ["test_bce_backward", "test_bce_forward", "test_mse_backward", "test_mse_forward"]
    assert "SyntaxError" in next(t.message for t in result.tests if t.name == "test_mse_forward")


def test_a_corrupt_notebook_scores_zero_with_a_reason(graded_class):
    result = graded_class["students"]["corrupt_notebook"]
    assert result.score == 0
    assert any("not valid JSON" in problem for problem in result.problems)
    assert "not valid JSON" in feedback_text(graded_class, "corrupt_notebook")
    assert ("corrupt_notebook", result.problems[0]) in graded_class["report"].failures


def test_tampering_inside_the_kernel_is_overruled_by_the_judge(graded_class):
    result = graded_class["students"]["kernel_cheat"]
    lost = {test.name: test.message for test in result.tests if test.score < test.max_score}
    assert list(lost) == ["test_sigmoid_derivative"]
    assert lost["test_sigmoid_derivative"].startswith("JudgeError: sigmoid_derivative(z)")
    assert "sigmoid_derivative(z)" in feedback_text(graded_class, "kernel_cheat")


def test_no_submitted_file_is_modified_or_lost(graded_class):
    assert hashes(graded_class["submissions"]) == graded_class["before"]


def test_grade_table_and_feedback_pages(graded_class):
    report = graded_class["report"]
    with open(report.csv_path) as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:4] == ["student_id", "unit", "score", "max_score"]
    assert len(rows[0]) == 4 + 11 and len(rows) == 1 + len(graded_class["students"])
    reference = next(row for row in rows if row[0] == "reference")
    assert reference[2] == reference[3] == "14"
    page = graded_class["work"] / "feedback" / "mean_instead_of_sum" / UNIT / f"{UNIT}.html"
    text = page.read_text()
    assert "BEGIN HIDDEN TESTS" not in text and "grade(" not in text
    assert "autograder/hidden_tests.py" not in text and "autograder/checks.py" not in text
    assert "Traceback (most recent call last)" not in text
    summary = report.summary()
    assert "tests most often failed" in summary and "corrupt_notebook" in summary
