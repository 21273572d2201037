"""A simulated class graded by real nbgrader (no mocks): the pilot unit 04, end to end.

Proves (issue: the autograder) that the reference scores full marks and the untouched release zero;
that plausible mistakes lose points on the right test with the right message in the feedback, while
correct alternatives keep them; that deleting or editing tests, or deleting nnlib/, never pays; and
that crashes, hangs, huge output and corrupt notebooks cost only the affected points, leaving every
submitted file byte for byte as it was; that a graded notebook nbgrader cannot render as a page fails
``autograder feedback`` naming its student, recorded in ``grades/<unit>.json``. The tests every unit
shares come from ``grading_harness.SimulatedClass``; the scenarios below are this unit's own.
"""
import csv
import shutil

import pytest

from autograder import results
from autograder.feedback import RENDER_FAILED, FeedbackNotRendered, write_feedback
from grading_harness import SimulatedClass, feedback_page, grades, lost, submission
from simulated_class import code_cell, is_test_cell, make_submission

UNIT = "04_single_layer_gradients"
TESTS = ["test_sigmoid_derivative", "test_tanh_derivative", "test_relu_derivative",
         "test_mse_forward", "test_mse_backward", "test_bce_forward", "test_bce_backward",
         "test_numerical_gradient", "test_rel_error", "test_logistic_gradients", "test_logistic_fit"]
MAX_SCORE = 14

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
    "mse_without_1_over_n_and_bce_log_of_0": {
        "mse_gradient_without_1_over_n": (
            [("losses", "MSELoss.backward", "return 2.0 * (pred - target)")],
            "test_mse_backward", "times too large"),
        # clamped at -100 as the docstring says, so every value is right, but only after numpy took
        # log(0) of a saturated probability: the division by zero fails it, saying what to do
        "bce_log_of_0": (
            [("losses", "BCELoss.forward", """
                log_p = np.maximum(np.log(pred), -100.0)
                log_1mp = np.maximum(np.log(1.0 - pred), -100.0)
                return float(-np.mean(target * log_p + (1.0 - target) * log_1mp))
            """)],
            "test_bce_forward", ["division by zero", "divide by zero encountered in log",
                                 "clamp each log at -100"]),
    },
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
        ("functional", "tanh_derivative", """
            t = np.tanh(z)
            return (1.0 - t) * (1.0 + t)
        """),
        ("gradcheck", "rel_error", """
            pairs = zip(a.ravel(), b.ravel())
            return float(max((abs(x - y) / max(abs(x) + abs(y), 1e-8) for x, y in pairs), default=0.0))
        """),
        # the log clamped at -100 by its argument, as PyTorch's BCELoss does, instead of its value
        ("losses", "BCELoss.forward", """
            floor = np.exp(-100.0)
            log_likelihood = (target * np.log(np.maximum(pred, floor))
                              + (1.0 - target) * np.log(np.maximum(1.0 - pred, floor)))
            return float(-log_likelihood.sum() / pred.size)
        """),
        ("losses", "BCELoss.backward", """
            n = pred.size
            return (pred - target) / (n * np.clip(pred * (1.0 - pred), 1e-12, None))
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


def without_nnlib(release, folder):
    shutil.rmtree(make_submission(release, folder) / "nnlib")


def corrupt_notebook(release, folder):
    notebook = make_submission(release, folder) / f"{UNIT}.ipynb"
    notebook.write_text(notebook.read_text()[:500])


def kernel_cheat(release, folder):
    make_submission(release, folder, regions=[("functional", "sigmoid_derivative", "return sigmoid(z)")])
    init = folder / "nnlib" / "__init__.py"
    init.write_text(KERNEL_CHEAT + init.read_text())


# Tampering, crashes and disruptions: each test below says what its student must get.
SCENARIOS = {
    "deleted_tests_stub_code": submission(reference=False, notebook=drop_test_cells),
    "deleted_tests_correct_code": submission(notebook=drop_test_cells),
    "faked_tests_stub_code": submission(reference=False, notebook=fake_test_cells),
    "deleted_nnlib": without_nnlib,
    "infinite_loop": submission(regions=[("functional", "relu_derivative", "while True:\n    pass")]),
    "memory_hog": submission(regions=[("functional", "tanh_derivative",
                                       "hog = np.ones(10 * 1024 ** 3 // 8)  # 10 GB")]),
    "sys_exit_in_a_cell": submission(notebook=insert_after_setup("import sys\nsys.exit('bye')")),
    "huge_print": submission(notebook=insert_after_setup("print('x' * 50_000_000)")),
    "syntax_error_in_losses": submission(regions=[("losses", "MSELoss.forward", "return (pred -")]),
    "corrupt_notebook": corrupt_notebook,
    "stray_runtime_warning": submission(regions=[("functional", "sigmoid_derivative", """
        np.exp(np.array([1000.0]))  # overflows: numpy prints a RuntimeWarning to stderr
        s = sigmoid(z)
        return s * (1.0 - s)
    """)]),
    "kernel_cheat": kernel_cheat,
    # graded in full; its graded notebook is then made unreadable for nbgrader's feedback
    "feedback_cannot_render": submission(),
}


def full_marks(result):
    return result.score == result.max_score == MAX_SCORE


class TestUnit04(SimulatedClass):
    unit, tests, max_score = UNIT, TESTS, MAX_SCORE
    mistakes, alternatives = MISTAKES, ALTERNATIVES
    # fit's visible test calls the student's loss_and_gradients: when that raises, fit fails too
    also_lost = {"transposed_weight_gradient": ["test_logistic_fit"]}
    jobs = 1  # one at a time: the time-out and memory scenarios then never wait for a busy core

    @classmethod
    def students(cls):
        return {**super().students(), **SCENARIOS}

    @grades
    def test_class_size(self, graded):
        assert len(graded["students"]) == len(self.students()) >= 12

    @grades
    @pytest.mark.parametrize("name", ["deleted_tests_stub_code", "faked_tests_stub_code", "deleted_nnlib"])
    def test_tampering_with_tests_or_nnlib_never_pays(self, graded, name):
        result = graded["students"][name]
        assert result.score == 0, lost(result)

    @grades
    def test_deleted_tests_are_put_back_and_run(self, graded):
        assert full_marks(graded["students"]["deleted_tests_correct_code"])

    @grades
    def test_missing_nnlib_is_named_in_the_feedback(self, graded):
        result = graded["students"]["deleted_nnlib"]
        assert all("nnlib/ is missing from your submission" in test.message for test in result.tests)
        assert "nnlib/ is missing from your submission" in feedback_page(graded, UNIT, "deleted_nnlib")

    @grades
    def test_an_infinite_loop_costs_only_its_test(self, graded):
        failed = lost(graded["students"]["infinite_loop"])
        assert list(failed) == ["test_relu_derivative"]
        assert "did not finish within" in failed["test_relu_derivative"]

    @grades
    def test_exhausting_memory_costs_only_its_test(self, graded):
        failed = lost(graded["students"]["memory_hog"])
        assert list(failed) == ["test_tanh_derivative"] and "MemoryError" in failed["test_tanh_derivative"]

    @grades
    @pytest.mark.parametrize("name", ["sys_exit_in_a_cell", "huge_print", "stray_runtime_warning"])
    def test_harmless_disruptions_keep_full_marks(self, graded, name):
        result = graded["students"][name]
        assert full_marks(result), lost(result)

    @grades
    def test_huge_output_is_truncated_in_the_graded_notebook(self, graded):
        notebook = graded["work"] / "autograded" / "huge_print" / UNIT / f"{UNIT}.ipynb"
        assert notebook.stat().st_size < 2_000_000
        assert "output truncated" in notebook.read_text()

    @grades
    def test_a_syntax_error_costs_only_the_tests_of_that_module(self, graded):
        result = graded["students"]["syntax_error_in_losses"]
        assert sorted(lost(result)) == ["test_bce_backward", "test_bce_forward", "test_mse_backward",
                                        "test_mse_forward"]
        assert "SyntaxError" in lost(result)["test_mse_forward"]

    @grades
    def test_a_corrupt_notebook_scores_zero_with_a_reason(self, graded):
        result = graded["students"]["corrupt_notebook"]
        assert result.score == 0
        assert any("not valid JSON" in problem for problem in result.problems)
        assert "not valid JSON" in feedback_page(graded, UNIT, "corrupt_notebook")
        assert ("corrupt_notebook", result.problems[0]) in graded["report"].failures

    @grades
    def test_tampering_inside_the_kernel_is_overruled_by_the_judge(self, graded):
        failed = lost(graded["students"]["kernel_cheat"])
        assert list(failed) == ["test_sigmoid_derivative"]
        assert failed["test_sigmoid_derivative"].startswith("JudgeError: sigmoid_derivative(z)")
        assert "sigmoid_derivative(z)" in feedback_page(graded, UNIT, "kernel_cheat")

    @grades
    def test_grade_table_and_feedback_pages(self, graded):
        report = graded["report"]
        with open(report.csv_path) as handle:
            rows = list(csv.reader(handle))
        assert rows[0][:4] == ["student_id", "unit", "score", "max_score"]
        assert len(rows[0]) == 4 + 11 and len(rows) == 1 + len(graded["students"])
        reference = next(row for row in rows if row[0] == "reference")
        assert reference[2] == reference[3] == "14"
        page = graded["work"] / "feedback" / "mean_instead_of_sum" / UNIT / f"{UNIT}.html"
        text = page.read_text()
        assert "BEGIN HIDDEN TESTS" not in text and "grade(" not in text
        assert "autograder/hidden_tests.py" not in text and "autograder/checks.py" not in text
        assert "Traceback (most recent call last)" not in text
        summary = report.summary()
        assert "tests most often failed" in summary and "corrupt_notebook" in summary

    @grades
    def test_a_page_that_cannot_be_rendered_fails_the_feedback_and_is_recorded(self, graded):
        student = "feedback_cannot_render"
        assert full_marks(graded["students"][student]) and not graded["students"][student].problems
        notebook = graded["work"] / "autograded" / student / UNIT / f"{UNIT}.ipynb"
        intact = notebook.read_bytes()
        notebook.write_text("{ unreadable")  # nbgrader's generate_feedback now fails on it
        try:
            with pytest.raises(FeedbackNotRendered, match=student):
                write_feedback(UNIT, work_dir=graded["work"])
        finally:
            notebook.write_bytes(intact)
        saved = results.load(UNIT, graded["work"])
        assert [failure for failure in saved.failures if failure[0] == student] == [(student, RENDER_FAILED)]
        assert RENDER_FAILED in feedback_page(graded, UNIT, student)
