"""A simulated class for unit 06 (softmax, log-softmax, cross-entropy, accuracy), by real nbgrader.

The reference scores full marks and the untouched release zero. Each plausible mistake loses the
points of its own test, with a phrase of the right message in the feedback. To keep grading short,
a student makes several mistakes, each in a different function, and every other test of that
student must keep its points. That holds although the reference loss calls softmax and log_softmax:
the cross-entropy probes replace both by lookup tables of their own logits
(``autograder/probes/unit06.py``), and the notebook's visible tests of the loss use moderate logits
(where an unstable softmax is still right) or a uniform shift of 1000 (which a stable softmax
removes). Among the mistakes are the seed slides' erratum, ``(o - t) o (1 - o)`` as the gradient of
softmax cross-entropy, and an accuracy that compares probabilities with labels. Stability is graded:
a softmax or a loss that overflows, divides by zero or makes a nan on the way loses its points with
a message naming the floating-point error and what to do (the loss's visible test of a probability
that underflows waits for a stable log_softmax, so an unstable log_softmax costs only its own
test). Correct
alternatives (log-sum-exp by ``np.logaddexp``, loops, a loss that computes its own softmax) keep
full marks.
"""
from grading_harness import SimulatedClass

UNIT = "06_softmax"
TESTS = ["test_softmax", "test_log_softmax", "test_cross_entropy_forward",
         "test_cross_entropy_backward", "test_accuracy"]
MAX_SCORE = 9

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
            "test_softmax", ["floating-point overflow", "subtract each row's maximum"]),
        "cross_entropy_forward_without_log_sum_exp": (
            ("losses", "CrossEntropyLoss.forward", """
                n = len(labels)
                log_sum = np.log(np.exp(logits).sum(axis=1))
                return float(np.mean(log_sum - logits[np.arange(n), labels]))
            """),
            "test_cross_entropy_forward", ["floating-point overflow", "log-sum-exp"]),
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
            "test_log_softmax", ["division by zero", "log(softmax(z)) underflows"]),
        # right wherever no probability underflows to 0: the loss of a right class far below the
        # others takes log(0)
        "cross_entropy_forward_log_of_softmax": (
            ("losses", "CrossEntropyLoss.forward", """
                p = softmax(logits, axis=1)
                return float(-np.mean(np.log(p[np.arange(len(labels)), labels])))
            """),
            "test_cross_entropy_forward", ["division by zero", "log-sum-exp"]),
    },
    "the_slides_derivative": {
        "softmax_one_maximum_for_the_whole_array": (
            ("functional", "softmax", SOFTMAX.format(shifted="x - x.max()", axis="axis")),
            "test_softmax", ["invalid value", "each row's maximum"]),
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


class TestUnit06(SimulatedClass):
    unit, tests, max_score = UNIT, TESTS, MAX_SCORE
    mistakes, alternatives = MISTAKES, ALTERNATIVES
    # After the tests the notebook trains a network on the digits (ungraded cells): give a busy
    # machine more than the default 10 s per cell.
    cell_timeout = 60
