"""Tests of nnlib.metrics: accuracy in its three readings, and the confusion matrix."""
import numpy as np
import pytest

from nnlib.metrics import accuracy, confusion_matrix


# ----------------------------------------------------------------------------------------------
# accuracy
# ----------------------------------------------------------------------------------------------

def test_accuracy_of_labels():
    assert accuracy(np.array([0, 1, 2, 2]), np.array([0, 1, 1, 2])) == 0.75
    assert accuracy([3, 3], [3, 3]) == 1.0
    assert accuracy(np.array([1]), np.array([0])) == 0.0


def test_accuracy_returns_a_python_float():
    result = accuracy(np.array([0, 1]), np.array([0, 0]))
    assert type(result) is float and result == 0.5


def test_accuracy_of_logits_takes_the_argmax():
    logits = np.array([[2.0, 0.1, -1.0],     # 0
                       [0.3, 1.5, 0.2],      # 1
                       [-5.0, -4.0, -3.0],   # 2 (all negative)
                       [10.0, 20.0, 0.0],    # 1 (large)
                       [0.0, 0.0, 0.1]])     # 2
    target = np.array([0, 1, 2, 0, 1])
    assert accuracy(logits, target) == pytest.approx(3 / 5)


def test_accuracy_of_softmax_probabilities_is_that_of_the_logits():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(50, 4))
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    target = rng.integers(0, 4, size=50)
    expected = np.mean(logits.argmax(axis=1) == target)
    assert accuracy(logits, target) == pytest.approx(expected)
    assert accuracy(probabilities, target) == pytest.approx(expected)


def test_accuracy_of_two_class_scores_uses_argmax_not_threshold():
    scores = np.array([[0.2, 0.3], [0.9, 0.95], [0.7, 0.1]])  # every row: argmax, not p >= 0.5
    assert accuracy(scores, np.array([1, 1, 0])) == 1.0


@pytest.mark.parametrize("shape", [(6,), (6, 1)])
def test_accuracy_of_binary_probabilities_thresholds_at_one_half(shape):
    p = np.array([0.1, 0.49, 0.5, 0.51, 0.99, 0.7]).reshape(shape)
    target = np.array([0, 0, 1, 1, 1, 0])
    assert accuracy(p, target) == pytest.approx(5 / 6)
    assert accuracy(p, target.reshape(shape).astype(np.float64)) == pytest.approx(5 / 6)


def test_accuracy_binary_probabilities_with_column_targets():
    p = np.array([[0.2], [0.8], [0.6]])
    t = np.array([[0.0], [1.0], [1.0]])  # as BCELoss takes them
    assert accuracy(p, t) == 1.0


def test_accuracy_float_labels_are_labels():
    assert accuracy(np.array([0.0, 2.0, 1.0]), np.array([0, 2, 2])) == pytest.approx(2 / 3)
    assert accuracy(np.array([0.0, 1.0, 1.0]), np.array([0, 1, 0])) == pytest.approx(2 / 3)


def test_accuracy_of_sequence_scores():
    scores = np.zeros((2, 3, 4))
    labels = np.array([[0, 1, 2], [3, 3, 0]])
    scores[np.arange(2)[:, None], np.arange(3)[None], labels] = 1.0
    target = labels.copy()
    target[1, 2] = 1
    assert accuracy(scores, target) == pytest.approx(5 / 6)


@pytest.mark.parametrize("pred, target, match", [
    (np.zeros(4), np.zeros(3), r"\(4,\)"),
    (np.zeros((4, 3)), np.zeros(5), r"\(4, 3\)"),
    (np.zeros((4, 3, 2)), np.zeros(4), r"\(4, 3, 2\)"),
    (np.zeros(0), np.zeros(0), "at least one"),
    (np.array([-1.3, 2.7]), np.array([0, 1]), "raw scores"),
    (np.array(["a", "b"]), np.array([0, 1]), "numeric"),
])
def test_accuracy_rejects_mismatched_input(pred, target, match):
    with pytest.raises(ValueError, match=match):
        accuracy(pred, target)


# ----------------------------------------------------------------------------------------------
# confusion_matrix
# ----------------------------------------------------------------------------------------------

def test_confusion_matrix_by_hand():
    y_true = np.array([0, 0, 1, 1, 1, 2])
    y_pred = np.array([0, 1, 1, 1, 2, 0])
    cm = confusion_matrix(y_true, y_pred)
    expected = np.array([[1, 1, 0],   # rows: true class, columns: predicted class
                         [0, 2, 1],
                         [1, 0, 0]])
    np.testing.assert_array_equal(cm, expected)
    assert cm.dtype.kind == "i"


def test_confusion_matrix_sums():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 5, size=200)
    y_pred = rng.integers(0, 5, size=200)
    cm = confusion_matrix(y_true, y_pred, n_classes=6)
    assert cm.shape == (6, 6)
    assert cm.sum() == 200
    np.testing.assert_array_equal(cm.sum(axis=1), np.bincount(y_true, minlength=6))
    np.testing.assert_array_equal(cm.sum(axis=0), np.bincount(y_pred, minlength=6))
    assert np.trace(cm) == np.sum(y_true == y_pred)
    assert np.trace(cm) / cm.sum() == accuracy(y_pred, y_true)


def test_confusion_matrix_size_from_both_label_sets():
    assert confusion_matrix([0, 1], [0, 3]).shape == (4, 4)


@pytest.mark.parametrize("y_true, y_pred, kwargs, match", [
    ([0, 1], [0], {}, "same shape"),
    ([0, 3], [0, 1], {"n_classes": 3}, "n_classes"),
    ([0, -1], [0, 1], {}, "integer labels"),
    ([0.5, 1], [0, 1], {}, "integer labels"),
    (np.zeros((2, 2)), np.zeros((2, 2)), {}, "label vectors"),
])
def test_confusion_matrix_rejects_bad_labels(y_true, y_pred, kwargs, match):
    with pytest.raises(ValueError, match=match):
        confusion_matrix(y_true, y_pred, **kwargs)
