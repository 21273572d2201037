# Student copy of nnlib for exercise 08_cnn; the reference is nnlib/ in the course repository.
"""Losses: ``loss.forward(pred, target) -> float`` (also ``loss(pred, target)``) and
``loss.backward() -> dpred``, the gradient of that float with respect to ``pred``.

Every loss is a mean over the batch, as PyTorch's default ``reduction="mean"``: so ``backward``
carries a factor ``1/N`` (or ``1/numel``), and forgetting it makes gradients N times too large.
"""
import numpy as np

from ._checks import as_float_array
from .functional import log_softmax, softmax
from .module import ForwardCache


class Loss(ForwardCache):
    """Shared plumbing: ``__call__`` and a clear error when ``backward`` comes before ``forward``."""

    def __call__(self, pred, target):
        return self.forward(pred, target)

    def __repr__(self):
        return f"{type(self).__name__}()"


def _same_shape(pred, target, owner):
    pred = as_float_array(pred, owner, "prediction")
    target = as_float_array(target, owner, "target")
    if pred.shape != target.shape:
        raise ValueError(f"{owner}: prediction has shape {pred.shape} but target has shape "
                         f"{target.shape}; they must match")
    return pred, target


class MSELoss(Loss):
    r"""Mean squared error :math:`L = \frac{1}{M}\sum_i (y_i - t_i)^2` over all M elements."""

    _pred = _target = None

    def forward(self, pred, target):
        """
        Parameters
        ----------
        pred : ndarray of any shape
        target : ndarray of the same shape

        Returns
        -------
        float
        """
        pred, target = _same_shape(pred, target, "MSELoss")
        self._pred, self._target = pred, target
        # BEGIN SOLUTION 04_single_layer_gradients
        return float(np.mean((pred - target) ** 2))
        # END SOLUTION

    def backward(self):
        r""":math:`\partial L / \partial y_i = 2 (y_i - t_i) / M`; the shape of ``pred``."""
        pred, target = self._cached("_pred", "_target")
        # BEGIN SOLUTION 04_single_layer_gradients
        return 2.0 * (pred - target) / pred.size
        # END SOLUTION


class BCELoss(Loss):
    r"""Mean binary cross-entropy of probabilities, as ``torch.nn.BCELoss``.

    .. math:: L = -\frac{1}{N}\sum_i \big[t_i \log o_i + (1 - t_i)\log(1 - o_i)\big]

    Like PyTorch, each log is clamped at -100 so that a probability of exactly 0 or 1 gives a large
    finite loss instead of ``inf``, and the gradient's denominator :math:`o(1-o)` is kept at least
    1e-12. When you have logits, a sigmoid followed by this loss is less stable than working with
    the logits directly (``nnlib.logistic`` does that).
    """

    _pred = _target = None

    def forward(self, pred, target):
        """
        Parameters
        ----------
        pred : ndarray of shape (N,) or (N, 1)
            Probabilities in [0, 1] (outputs of a sigmoid).
        target : ndarray of the same shape
            Targets in [0, 1], usually 0 or 1.

        Returns
        -------
        float
        """
        pred, target = _same_shape(pred, target, "BCELoss")
        if pred.ndim not in (1, 2) or (pred.ndim == 2 and pred.shape[1] != 1):
            raise ValueError(f"BCELoss: expected predictions of shape (N,) or (N, 1), got {pred.shape}")
        if pred.size and (pred.min() < 0 or pred.max() > 1):
            raise ValueError(f"BCELoss: predictions must be probabilities in [0, 1], got values in "
                             f"[{pred.min():.3g}, {pred.max():.3g}]: apply a sigmoid first")
        if target.size and (target.min() < 0 or target.max() > 1):
            raise ValueError(f"BCELoss: targets must lie in [0, 1], got values in "
                             f"[{target.min():.3g}, {target.max():.3g}]")
        self._pred, self._target = pred, target
        # BEGIN SOLUTION 04_single_layer_gradients
        with np.errstate(divide="ignore"):  # log(0) = -inf, clamped on the next line
            log_p = np.maximum(np.log(pred), -100.0)
            log_1mp = np.maximum(np.log(1.0 - pred), -100.0)
        return float(-np.mean(target * log_p + (1.0 - target) * log_1mp))
        # END SOLUTION

    def backward(self):
        r""":math:`\partial L/\partial o_i = \frac{o_i - t_i}{N\, o_i (1 - o_i)}`; the shape of ``pred``."""
        pred, target = self._cached("_pred", "_target")
        # BEGIN SOLUTION 04_single_layer_gradients
        return (pred - target) / np.maximum(pred * (1.0 - pred), 1e-12) / pred.size
        # END SOLUTION


class CrossEntropyLoss(Loss):
    r"""Mean softmax cross-entropy of logits and integer labels, as ``torch.nn.CrossEntropyLoss``.

    .. math:: L = -\frac{1}{N}\sum_i \log p_{i, t_i}, \qquad p_i = \mathrm{softmax}(z_i)

    and its gradient is the famous :math:`\partial L/\partial z_i = (p_i - \mathrm{onehot}(t_i))/N`.
    Computed through ``log_softmax``, so logits of size 1e3 give finite values.
    """

    _logits = _labels = None

    def forward(self, pred, target):
        """
        Parameters
        ----------
        pred : ndarray of shape (N, K)
            Logits (unnormalised scores), one row per example.
        target : ndarray of int, shape (N,)
            Class labels in ``0 .. K-1``.

        Returns
        -------
        float
        """
        logits = as_float_array(pred, "CrossEntropyLoss", "logits")
        labels = np.asarray(target)
        if logits.ndim != 2:
            raise ValueError(f"CrossEntropyLoss: expected logits of shape (N, K), got {logits.shape}")
        if labels.shape != (logits.shape[0],):
            raise ValueError(f"CrossEntropyLoss: expected labels of shape ({logits.shape[0]},) for "
                             f"logits of shape {logits.shape}, got {labels.shape}")
        if labels.dtype.kind not in "iu":
            raise ValueError(f"CrossEntropyLoss: labels must be integers (class indices), got dtype "
                             f"{labels.dtype}; one-hot targets are not accepted")
        if labels.size and (labels.min() < 0 or labels.max() >= logits.shape[1]):
            raise ValueError(f"CrossEntropyLoss: labels must lie in 0..{logits.shape[1] - 1}, got "
                             f"values in {labels.min()}..{labels.max()}")
        self._logits, self._labels = logits, labels
        # BEGIN SOLUTION 06_softmax
        log_probs = log_softmax(logits, axis=1)
        return float(-log_probs[np.arange(len(labels)), labels].sum() / len(labels))
        # END SOLUTION

    def backward(self):
        r""":math:`(p - \mathrm{onehot}(t)) / N`, shape (N, K)."""
        logits, labels = self._cached("_logits", "_labels")
        # BEGIN SOLUTION 06_softmax
        grad = softmax(logits, axis=1)
        grad[np.arange(len(labels)), labels] -= 1.0
        return grad / len(labels)
        # END SOLUTION
