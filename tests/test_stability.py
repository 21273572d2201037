"""Stability is graded where it is the point: the sigmoid (01), binary cross-entropy and the
logistic unit's loss (04), softmax, log-softmax and cross-entropy (06).

An implementation that overflows, divides by zero or makes a nan on the way fails the hidden test's
probe (``autograder.probes.stable``) and the notebook's visible check (``nnlib.testing.check_stable``)
even where its values come out right, with a message that says what happened and what to do. These
tests decide on the functions directly (no nbgrader): each unstable variant is written into a
private copy of the reference nnlib and judged as the judge would, by its probe and ``compare``.
The simulated classes of units 01, 04 and 06 grade one of each end to end.
"""
import contextlib
import importlib.util
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from autograder.hidden_tests import compare
from autograder.probes import PROBES
from autograder.reference import reference_nnlib
from nnlib.testing import CheckFailed, check_stable

REPO = Path(__file__).resolve().parents[1]
REFERENCE_DIR = REPO / "nnlib"

COPY = "_unstable_nnlib"


def copy_with(qualified, source):
    """A private copy of the reference nnlib with ``qualified`` (``module.qualname``) replaced by the
    function defined in ``source`` (which sees numpy as ``np`` and the module's own names)."""
    for key in [key for key in sys.modules if key == COPY or key.startswith(COPY + ".")]:
        del sys.modules[key]
    spec = importlib.util.spec_from_file_location(COPY, REFERENCE_DIR / "__init__.py",
                                                  submodule_search_locations=[str(REFERENCE_DIR)])
    package = importlib.util.module_from_spec(spec)
    sys.modules[COPY] = package
    spec.loader.exec_module(package)
    module_name, *path = qualified.split(".")
    module = getattr(package, module_name)
    namespace = dict(vars(module))
    exec(textwrap.dedent(source), namespace)
    owner = module
    for part in path[:-1]:
        owner = getattr(owner, part)
    setattr(owner, path[-1], namespace[path[-1]])
    return package


def judged(name, package, seed=11):
    """What the judge would say about ``package``'s ``name``: ``""`` if it passes, else its message."""
    probe, reference = PROBES[name], reference_nnlib()
    expected = probe.judged(probe.run(reference, np.random.default_rng(seed)), reference, seed)
    try:
        got = probe.judged(probe.run(package, np.random.default_rng(seed)), reference, seed)
        compare(probe.label, got, expected, rtol=probe.rtol, atol=probe.atol)
    except Exception as error:  # the judge's child reports the student's exception as its verdict
        return f"{type(error).__name__}: {error}"
    return ""


TEXTBOOK_SIGMOID = """
def sigmoid(x):
    x = np.asarray(x, dtype=np.float64)
    return 1.0 / (1.0 + np.exp(-x))
"""
# The log clamped at -100 as the docstring says, but only after numpy took log(0).
BCE_LOG_OF_ZERO = """
def forward(self, pred, target):
    pred, target = np.asarray(pred, dtype=float), np.asarray(target, dtype=float)
    self._pred, self._target = pred, target
    log_p = np.maximum(np.log(pred), -100.0)
    log_1mp = np.maximum(np.log(1.0 - pred), -100.0)
    return float(-np.mean(target * log_p + (1.0 - target) * log_1mp))
"""
SOFTMAX_WITHOUT_SHIFT = """
def softmax(x, axis=-1):
    e = np.exp(np.asarray(x, dtype=np.float64))
    return e / e.sum(axis=axis, keepdims=True)
"""
LOG_OF_SOFTMAX = """
def log_softmax(x, axis=-1):
    return np.log(softmax(x, axis=axis))
"""
# Right wherever no probability underflows: the probe's lookup tables serve its softmax.
CROSS_ENTROPY_LOG_OF_SOFTMAX = """
def forward(self, pred, target):
    logits, labels = np.asarray(pred, dtype=float), np.asarray(target)
    self._logits, self._labels = logits, labels
    p = softmax(logits, axis=1)
    return float(-np.mean(np.log(p[np.arange(len(labels)), labels])))
"""
# The loss through log(o): o is exactly 0 or 1 once |z| > 37, and log(0) follows.
LOGISTIC_LOG_OF_O = """
def loss_and_gradients(self, X, t):
    z = X @ self.w + self.b
    o = sigmoid(z)
    loss = -np.mean(t * np.log(o) + (1.0 - t) * np.log(1.0 - o))
    dz = (o - t) / X.shape[0]
    return float(loss), X.T @ dz, float(np.sum(dz))
"""
UNSTABLE = {
    "nnlib.functional.sigmoid": ("functional.sigmoid", TEXTBOOK_SIGMOID,
                                 ["floating-point overflow", "exponent is at most 0"]),
    "nnlib.losses.BCELoss.forward": ("losses.BCELoss.forward", BCE_LOG_OF_ZERO,
                                     ["division by zero", "divide by zero encountered in log",
                                      "clamp each log at -100"]),
    "nnlib.functional.softmax": ("functional.softmax", SOFTMAX_WITHOUT_SHIFT,
                                 ["floating-point overflow", "subtract each row's maximum"]),
    "nnlib.functional.log_softmax": ("functional.log_softmax", LOG_OF_SOFTMAX,
                                     ["division by zero", "log(softmax(z)) underflows"]),
    "nnlib.losses.CrossEntropyLoss.forward": ("losses.CrossEntropyLoss.forward",
                                              CROSS_ENTROPY_LOG_OF_SOFTMAX,
                                              ["division by zero", "log-sum-exp"]),
    "nnlib.logistic.LogisticRegression.loss_and_gradients": (
        "logistic.LogisticRegression.loss_and_gradients", LOGISTIC_LOG_OF_O,
        ["division by zero", "np.logaddexp(0, z)"]),
}


@pytest.mark.parametrize("name", sorted(UNSTABLE))
def test_an_unstable_implementation_fails_its_hidden_test_saying_what_to_do(name):
    qualified, source, phrases = UNSTABLE[name]
    verdict = judged(name, copy_with(qualified, source))
    assert verdict.startswith("FloatingPointError: "), verdict
    for phrase in phrases:
        assert phrase in verdict, verdict
    assert "Even where the values come out right" in verdict


@pytest.mark.parametrize("name", ["nnlib.functional.sigmoid", "nnlib.losses.BCELoss.forward"])
def test_the_values_alone_would_have_passed(name, monkeypatch):
    """The textbook sigmoid and the late clamp are right in value: only their overflow fails them."""
    qualified, source, _ = UNSTABLE[name]
    package = copy_with(qualified, source)
    probe, reference = PROBES[name], reference_nnlib()
    monkeypatch.setattr(sys.modules[probe.run.__module__], "stable",
                        lambda what, advice: contextlib.nullcontext())
    with np.errstate(all="ignore"):
        got = probe.run(package, np.random.default_rng(5))
    compare(name, got, probe.run(reference, np.random.default_rng(5)), probe.rtol, probe.atol)


@pytest.mark.parametrize("name", sorted(UNSTABLE))
def test_the_reference_passes_the_stable_probes(name):
    assert judged(name, copy_with("functional.relu_derivative", "def relu_derivative(z):\n"
                                  "    return (np.asarray(z) > 0).astype(np.float64)\n")) == ""


def test_a_stable_alternative_passes():
    package = copy_with("functional.sigmoid", """
        def sigmoid(x):
            e = np.exp(-np.abs(np.asarray(x, dtype=np.float64)))
            return np.where(np.asarray(x) >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    """)
    assert judged("nnlib.functional.sigmoid", package) == ""


def test_a_perceptron_update_with_a_strict_inequality_is_told_about_the_score_of_0():
    package = copy_with("perceptron.Perceptron.update", """
        def update(self, x, target):
            prediction = 1 if x @ self.w + self.b > 0 else 0
            if prediction == target:
                return False
            self.w += self.lr * (target - prediction) * x
            self.b += self.lr * (target - prediction)
            return True
    """)
    verdict = judged("nnlib.perceptron.Perceptron.update", package)
    assert "score is exactly 0" in verdict and "a score of 0 predicts class 1" in verdict, verdict


# ----------------------------------------------------------------------------------------------
# The visible check

def test_check_stable_fails_an_overflow_naming_it_and_the_line(tmp_path, monkeypatch):
    (tmp_path / "nnlib").mkdir()
    (tmp_path / "nnlib" / "mine.py").write_text(
        "import numpy as np\n\n\ndef sigmoid(x):\n    return 1.0 / (1.0 + np.exp(-x))\n")
    spec = importlib.util.spec_from_file_location("_mine", tmp_path / "nnlib" / "mine.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.raises(CheckFailed) as caught:
        check_stable("sigmoid at -1000", lambda: module.sigmoid(np.array([-1000.0])),
                     "Use each form where its exponent is at most 0.")
    message = str(caught.value)
    assert "a floating-point overflow (numpy: overflow encountered in exp)" in message
    assert "nnlib/mine.py, line 5: return 1.0 / (1.0 + np.exp(-x))" in message
    assert message.endswith("Use each form where its exponent is at most 0.")


def test_check_stable_returns_the_value_and_allows_underflow(capsys):
    value = check_stable("tiny", lambda: np.exp(np.array([-1000.0])), "none needed")
    assert value[0] == 0.0
    assert "\u2713 tiny" in capsys.readouterr().out
