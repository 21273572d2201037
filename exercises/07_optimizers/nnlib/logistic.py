# Student copy of nnlib for exercise 07_optimizers; the reference is nnlib/ in the course repository.
r"""Logistic regression: one sigmoid unit trained by full-batch gradient descent on cross-entropy.

For logits :math:`z = Xw + b`, outputs :math:`o = \sigma(z)` and targets :math:`t`, the mean binary
cross-entropy is

.. math:: E = \frac1N \sum_n -t_n \log o_n - (1 - t_n) \log(1 - o_n)
            = \frac1N \sum_n \log(1 + e^{z_n}) - t_n z_n,

and the sigmoid's derivative cancels against the loss's: :math:`\partial E / \partial z_n =
(o_n - t_n) / N`. The second form of :math:`E` never takes the log of a rounded-off 0.
"""
import numbers

import numpy as np

from ._checks import as_float_array, as_generator, check_int, check_shape
from .functional import sigmoid


class LogisticRegression:
    """A single sigmoid unit ``P(class 1 | x) = sigmoid(x @ w + b)``.

    Parameters
    ----------
    n_features : int
        Number of input features ``D``.
    rng : None, int or numpy.random.Generator, default=None
        Kept for the common constructor signature; the weights start at zero (the loss is convex,
        so there is no symmetry to break) and nothing is drawn.

    Attributes
    ----------
    w : ndarray of shape (D,)
        Weights, float64, initialised to zeros.
    b : float
        Bias, initialised to 0.
    """

    def __init__(self, n_features, rng=None):
        n_features = check_int(n_features, "n_features", "LogisticRegression")
        self.n_features = n_features
        self.rng = as_generator(rng)
        self.w = np.zeros(self.n_features)
        self.b = 0.0

    def __repr__(self):
        return f"LogisticRegression({self.n_features} -> 1)"

    def _check_inputs(self, X):
        X = as_float_array(X, self)
        check_shape(X, (None, self.n_features), self)
        return X

    def _check_targets(self, t, n_samples):
        t = as_float_array(t, self, "targets")
        if t.shape != (n_samples,):
            raise ValueError(f"{self!r}: expected targets of shape ({n_samples},) (one per row of "
                             f"X), got {t.shape}")
        if np.any((t < 0) | (t > 1)) or not np.all(np.isfinite(t)):
            raise ValueError(f"{self!r}: targets must lie in [0, 1] (class labels 0/1), found "
                             f"values from {t.min():g} to {t.max():g}")
        return t

    def decision_function(self, X):
        """The logits ``z = X @ w + b``.

        Parameters
        ----------
        X : ndarray of shape (N, D)

        Returns
        -------
        ndarray of shape (N,)
        """
        X = self._check_inputs(X)
        return X @ self.w + self.b

    def predict_proba(self, X):
        """Probability of class 1, ``sigmoid(X @ w + b)``.

        Parameters
        ----------
        X : ndarray of shape (N, D)

        Returns
        -------
        ndarray of shape (N,)
            Values in [0, 1].
        """
        return sigmoid(self.decision_function(X))

    def predict(self, X):
        """Most probable class: 1 where ``sigmoid(X @ w + b) >= 0.5`` (that is, ``z >= 0``), else 0.

        Parameters
        ----------
        X : ndarray of shape (N, D)

        Returns
        -------
        ndarray of int of shape (N,)
        """
        return (self.decision_function(X) >= 0).astype(np.int64)

    def loss_and_gradients(self, X, t):
        """Mean binary cross-entropy and its gradients with respect to ``w`` and ``b``.

        Parameters
        ----------
        X : ndarray of shape (N, D)
        t : ndarray of shape (N,)
            Targets in [0, 1] (usually the class labels 0/1).

        Returns
        -------
        loss : float
            ``mean(log(1 + exp(z)) - t * z)`` with ``z = X @ w + b``, computed with ``np.logaddexp``
            so that large ``|z|`` neither overflows nor takes ``log(0)``.
        dw : ndarray of shape (D,)
            ``X.T @ dz`` with ``dz = (sigmoid(z) - t) / N``.
        db : float
            ``sum(dz)``.
        """
        X = self._check_inputs(X)
        t = self._check_targets(t, X.shape[0])
        # BEGIN SOLUTION 04_single_layer_gradients
        z = X @ self.w + self.b
        o = sigmoid(z)
        loss = np.mean(np.logaddexp(0.0, z) - t * z)  # logaddexp(0, z) = log(1 + e^z)
        dz = (o - t) / X.shape[0]  # dE/dz: the sigmoid's derivative cancels
        dw = X.T @ dz
        db = np.sum(dz)
        return float(loss), dw, float(db)
        # END SOLUTION

    def fit(self, X, t, lr=0.1, epochs=100):
        """Full-batch gradient descent: ``w -= lr * dw``, ``b -= lr * db``, ``epochs`` times.

        Parameters
        ----------
        X : ndarray of shape (N, D)
        t : ndarray of shape (N,)
            Targets in [0, 1].
        lr : float, default=0.1
            Learning rate.
        epochs : int, default=100
            Number of gradient steps (each uses all N samples).

        Returns
        -------
        list of float
            The loss of each epoch, evaluated before that epoch's update.
        """
        X = self._check_inputs(X)
        t = self._check_targets(t, X.shape[0])
        if not isinstance(lr, numbers.Real) or not lr > 0:
            raise ValueError(f"{self!r}: lr must be a positive number, got {lr!r}")
        epochs = check_int(epochs, "epochs", self, minimum=0)
        # BEGIN SOLUTION 04_single_layer_gradients
        losses = []
        for _ in range(epochs):
            loss, dw, db = self.loss_and_gradients(X, t)
            self.w -= lr * dw  # in place: w keeps its identity
            self.b -= lr * db
            losses.append(loss)
        return losses
        # END SOLUTION
