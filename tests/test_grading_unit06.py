"""A simulated class for unit 06 (softmax, log-softmax, cross-entropy, accuracy), by real nbgrader.

The reference scores full marks and the untouched release zero. Each plausible mistake loses the
points of its own test, with a phrase of the right message in the feedback. To keep grading short,
a student makes several mistakes, each in a different function, and every other test of that
student must keep its points. That holds although the reference loss calls softmax and log_softmax:
the cross-entropy probes replace both by lookup tables of their own logits
(``autograder/probes/unit06.py``), and the notebook's visible tests of the loss use moderate logits
(where an unstable softmax is still right) or a uniform shift of 1000 (which a stable softmax
removes). Among the mistakes are the seed slides' erratum, ``(o - t) o (1 - o)`` as the gradient of
softmax cross-entropy, and an accuracy that compares probabilities with labels. Correct
alternatives (log-sum-exp by ``np.logaddexp``, loops, a loss that computes its own softmax) keep
full marks.
"""
import html

import pytest

from simulated_class import grade_class, make_submission

UNIT = "06_softmax"
pytestmark = [pytest.mark.slow, pytest.mark.sandbox]

TESTS = ["test_softmax", "test_log_softmax", "test_cross_entropy_forward",
         "test_cross_entropy_backward", "test_accuracy"]
POINTS = 9

SOFTMAX = """
exp_shifted = np.exp({shifted})
return exp_shifted / exp_shifted.sum(axis={axis}, keepdims=True)
"""
ACCURACY = """
if pred.ndim == target.ndim + 1:
    predicted = np.argmax(pred, axis=-1)
else:
    predicted = {binary}
return float(np.mean(predicted == target))
"""

# student: {mistake: (region rewrite, the test that must lose points, phrases of its message)}
MISTAKES = {
    "overflows_and_rounds": {
        "softmax_without_max_shift": (
            ("functional", "softmax", SOFTMAX.format(shifted="x", axis="axis")),
            "test_softmax", ["no nan or inf for logits of ±1000"]),
        "cross_entropy_forward_without_log_sum_exp": (
            ("losses", "CrossEntropyLoss.forward", """
                n = len(labels)
                log_sum = np.log(np.exp(logits).sum(axis=1))
                return float(np.mean(log_sum - logits[np.arange(n), labels]))
            """),
            "test_cross_entropy_forward", ["finite number for logits shifted by ±1000"]),
        # np.round(0.5) is 0: a probability of exactly 1/2 goes to class 0
        "accuracy_rounds_probabilities": (
            ("metrics", "accuracy", ACCURACY.format(binary="np.round(pred)")),
            "test_accuracy", ["class 1 where p >= 0.5"]),
    },
    "wrong_axis_and_log_of_softmax": {
        # the axis argument ignored: always the last axis (right for the loss's (N, K) logits)
        "softmax_ignores_axis": (
            ("functional", "softmax", SOFTMAX.format(shifted="x - x.max(axis=-1, keepdims=True)",
                                                     axis="-1")),
            "test_softmax", ["each column sums to 1 with axis=0"]),
        "log_softmax_as_log_of_softmax": (
            ("functional", "log_softmax", "return np.log(softmax(x, axis=axis))"),
            "test_log_softmax", ["log(softmax(z)) underflows"]),
    },
    "the_slides_derivative": {
        "softmax_one_maximum_for_the_whole_array": (
            ("functional", "softmax", SOFTMAX.format(shifted="x - x.max()", axis="axis")),
            "test_softmax", ["no nan or inf for logits of ±1000", "each row's maximum"]),
        "cross_entropy_backward_erratum": (
            ("losses", "CrossEntropyLoss.backward", """
                p = softmax(logits, axis=1)
                t = np.zeros_like(p)
                t[np.arange(len(labels)), labels] = 1.0
                return (p - t) * p * (1 - p) / len(labels)
            """),
            "test_cross_entropy_backward", ["each row of dL/dz sums to 0"]),
    },
    "sums_and_probabilities": {
        "cross_entropy_backward_without_1_over_n": (
            ("losses", "CrossEntropyLoss.backward", """
                grad = softmax(logits, axis=1)
                grad[np.arange(len(labels)), labels] -= 1.0
                return grad
            """),
            "test_cross_entropy_backward", ["times too large"]),
        "accuracy_compares_probabilities_with_labels": (
            ("metrics", "accuracy", ACCURACY.format(binary="pred")),
            "test_accuracy", ["probabilities of class 1", "got 0"]),
    },
}

ALTERNATIVES = {
    "logaddexp_loops_and_one_hot": [
        ("functional", "log_softmax",
         "return x - np.logaddexp.reduce(x, axis=axis, keepdims=True)"),
        ("functional", "softmax", "return np.exp(log_softmax(x, axis=axis))"),
        ("losses", "CrossEntropyLoss.forward", """
            total = 0.0
            for row, label in zip(logits, labels):
                top = row.max()
                total += top + np.log(np.sum(np.exp(row - top))) - row[label]
            return total / len(labels)
        """),
        ("losses", "CrossEntropyLoss.backward", """
            from . import functional
            onehot = np.eye(logits.shape[1])[labels]
            return (np.exp(functional.log_softmax(logits, axis=1)) - onehot) / logits.shape[0]
        """),
        ("metrics", "accuracy", """
            probabilities = pred.dtype.kind == "f" and np.all((pred >= 0) & (pred <= 1))
            if pred.shape == target.shape and probabilities:
                predicted = np.where(pred >= 0.5, 1, 0)
            elif pred.shape == target.shape:
                predicted = pred
            else:
                predicted = pred.argmax(axis=-1)
            correct = sum(int(a == b) for a, b in zip(predicted.ravel(), target.ravel()))
            return correct / target.size
        """),
    ],
    "transposed_softmax_and_inline_gradient": [
        ("functional", "softmax", """
            moved = np.moveaxis(x, axis, 0)
            e = np.exp(moved - moved.max(axis=0))
            return np.moveaxis(e / e.sum(axis=0), 0, axis)
        """),
        ("losses", "CrossEntropyLoss.backward", """
            n = len(labels)
            shifted = logits - logits.max(axis=1, keepdims=True)
            p = np.exp(shifted)
            p /= p.sum(axis=1, keepdims=True)
            p[np.arange(n), labels] -= 1
            return p / n
        """),
    ],
}

@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    students = {"reference": lambda release, folder: make_submission(release, folder),
                "untouched_release": lambda release, folder: make_submission(release, folder,
                                                                             reference=False)}
    for name, mistakes in MISTAKES.items():
        regions = [region for region, _, _ in mistakes.values()]
        students[name] = lambda release, folder, regions=regions: make_submission(
            release, folder, regions=regions)
    for name, regions in ALTERNATIVES.items():
        students[name] = lambda release, folder, regions=regions: make_submission(
            release, folder, regions=regions)
    # After the tests the notebook trains a network on the digits (ungraded cells): give a busy
    # machine more than the default 10 s per cell.
    return grade_class(UNIT, tmp_path_factory.mktemp("class06"), students, cell_timeout=60)


def lost(result):
    return {test.name: test.message for test in result.tests if test.score < test.max_score}


def feedback(graded, student):
    return (graded["work"] / "feedback" / student / UNIT / "summary.html").read_text()


def test_reference_scores_full_marks_and_the_untouched_release_zero(graded):
    reference, untouched = graded["students"]["reference"], graded["students"]["untouched_release"]
    assert [test.name for test in reference.tests] == TESTS
    assert reference.score == reference.max_score == POINTS, lost(reference)
    assert untouched.score == 0 and set(lost(untouched)) == set(TESTS)
    assert all("not implemented yet" in test.message for test in untouched.tests)


@pytest.mark.parametrize("student", sorted(MISTAKES))
def test_mistakes_lose_exactly_their_own_tests(graded, student):
    expected = {test for _, test, _ in MISTAKES[student].values()}
    assert set(lost(graded["students"][student])) == expected, lost(graded["students"][student])


@pytest.mark.parametrize("student, mistake", [(student, mistake) for student, mistakes in
                                              MISTAKES.items() for mistake in mistakes])
def test_each_mistake_is_named_in_the_message_and_the_feedback(graded, student, mistake):
    _, test_name, phrases = MISTAKES[student][mistake]
    message, page = lost(graded["students"][student])[test_name], feedback(graded, student)
    for phrase in phrases:
        assert phrase in message, message
        assert html.escape(phrase) in page or phrase in page   # the feedback page is HTML


@pytest.mark.parametrize("name", sorted(ALTERNATIVES))
def test_correct_alternatives_keep_full_marks(graded, name):
    result = graded["students"][name]
    assert result.score == result.max_score == POINTS, lost(result)


def test_no_submitted_file_is_modified_or_lost(graded):
    assert graded["after"] == graded["before"]
