# Student copy of nnlib for exercise 01_linear_limits; the reference is nnlib/ in the course repository.
"""Classification metrics: accuracy and the confusion matrix."""
import numpy as np

__all__ = ["accuracy", "confusion_matrix"]


def accuracy(pred, target):
    """Fraction of samples whose predicted class is the target class.

    ``pred`` may be any of the three things a classifier produces; which one is read from its shape:

    - class scores (logits or softmax probabilities), shape ``target.shape + (K,)`` with ``K >= 2``
      (e.g. ``(N, K)`` for targets ``(N,)``): the predicted class is the arg-max over the last axis;
    - probabilities of class 1 for a binary problem, a float array of ``target``'s shape with all
      values in ``[0, 1]``, or with an extra axis of size 1 (``(N, 1)`` for targets ``(N,)``): the
      predicted class is 1 where the probability is ``>= 0.5``;
    - class labels, ``target``'s shape.

    0/1 labels given as floats are also read as probabilities, with the same result.

    Parameters
    ----------
    pred : array_like of shape (N, K), (N, 1) or (N,)
        Scores, probabilities or labels, as above. Sequence outputs ``(N, T, K)`` work the same way.
    target : array_like of shape (N,)
        The true class labels (integers, or 0.0/1.0). ``(N, 1)`` is accepted for binary targets.

    Returns
    -------
    float
        In ``[0, 1]``.

    Examples
    --------
    >>> accuracy(np.array([[2.0, 0.1], [0.3, 1.5]]), np.array([0, 0]))
    0.5
    """
    pred, target = np.asarray(pred), np.asarray(target)
    if target.ndim == pred.ndim and target.ndim >= 2 and target.shape[-1] == 1:
        target = target[..., 0]  # binary targets (N, 1), as BCELoss takes them
    if pred.shape == target.shape + (1,):
        pred = pred[..., 0]  # one probability per sample, e.g. the (N, 1) output of a sigmoid
    if target.ndim == 0 or len(target) == 0:
        raise ValueError(f"accuracy: target must hold at least one label, got shape {target.shape}")
    if pred.shape != target.shape and pred.shape[:-1] != target.shape:
        raise ValueError(f"accuracy: pred must have the shape of target {target.shape} (labels or "
                         f"probabilities) or add a class axis, like (N, K); got {pred.shape}")
    if pred.shape[:-1] == target.shape and pred.shape[-1] < 2:
        raise ValueError(f"accuracy: class scores need at least 2 classes, got shape {pred.shape}")
    if pred.dtype.kind not in "biuf" or target.dtype.kind not in "biuf":
        raise ValueError(f"accuracy: expected numeric arrays, got dtypes {pred.dtype} and "
                         f"{target.dtype}")
    if (pred.shape == target.shape and pred.dtype.kind == "f"
            and np.any((pred < 0) | (pred > 1)) and np.any(pred != np.round(pred))):
        raise ValueError("accuracy: pred has target's shape but is neither labels nor probabilities "
                         "in [0, 1] (raw scores?); apply a sigmoid first, or pass labels")
    # BEGIN SOLUTION 06_softmax
    raise NotImplementedError('accuracy: implement this in exercise 06_softmax')
    # END SOLUTION


def confusion_matrix(y_true, y_pred, n_classes=None):
    """Count how often each true class was predicted as each class.

    Parameters
    ----------
    y_true : array_like of int, shape (N,)
        True labels, ``0 .. K - 1``.
    y_pred : array_like of int, shape (N,)
        Predicted labels (take ``scores.argmax(axis=1)`` first if you have scores).
    n_classes : int, optional
        ``K``; by default the largest label seen plus one.

    Returns
    -------
    ndarray of shape (K, K), intp
        ``cm[i, j]`` is the number of samples of true class ``i`` predicted as class ``j``: rows are
        true classes, columns predicted ones (scikit-learn's convention). The diagonal holds the
        correct predictions and the whole matrix sums to ``N``.
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.ndim != 1 or y_true.shape != y_pred.shape:
        raise ValueError(f"confusion_matrix: y_true and y_pred must be label vectors of the same "
                         f"shape (N,), got {y_true.shape} and {y_pred.shape}")
    for name, labels in (("y_true", y_true), ("y_pred", y_pred)):
        if labels.size and (labels.dtype.kind not in "biuf" or np.any(labels != np.round(labels))
                            or np.any(labels < 0)):
            raise ValueError(f"confusion_matrix: {name} must hold integer labels >= 0; for class "
                             f"scores pass scores.argmax(axis=1)")
    y_true, y_pred = y_true.astype(np.intp), y_pred.astype(np.intp)
    largest = int(max(y_true.max(initial=-1), y_pred.max(initial=-1)))
    if n_classes is None:
        n_classes = largest + 1
    elif largest >= n_classes:
        raise ValueError(f"confusion_matrix: label {largest} does not fit n_classes={n_classes}")
    counts = np.zeros((n_classes, n_classes), dtype=np.intp)
    np.add.at(counts, (y_true, y_pred), 1)
    return counts
