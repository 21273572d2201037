# Student copy of nnlib for exercise 04_single_layer_gradients; the reference is nnlib/ in the course repository.
"""Rosenblatt's perceptron: a linear threshold classifier trained by the perceptron rule.

The rule changes the weights only on a mistake. On linearly separable data it stops after finitely
many mistakes (the perceptron convergence theorem); on XOR it never stops, because no line
separates the two classes, until a fixed feature map such as ``x1 * x2`` makes them separable.
"""
import numbers

import numpy as np

from ._checks import as_float_array, as_generator, check_int, check_shape, owner_name


def _check_binary_labels(y, n_samples, owner):
    """Return ``y`` as an int array of 0/1 of shape ``(n_samples,)``; ``ValueError`` otherwise."""
    y = as_float_array(y, owner, "labels")
    if y.shape != (n_samples,):
        raise ValueError(f"{owner_name(owner)}: expected labels of shape ({n_samples},) (one per "
                         f"row of X), got {y.shape}")
    bad = np.unique(y[(y != 0) & (y != 1)])
    if bad.size:
        shown = ", ".join(f"{value:g}" for value in bad[:5]) + (", ..." if bad.size > 5 else "")
        raise ValueError(f"{owner_name(owner)}: labels must be 0 or 1, found {shown}")
    return y.astype(np.int64)


class Perceptron:
    """A linear threshold unit ``prediction = 1 if x @ w + b >= 0 else 0``.

    Parameters
    ----------
    n_features : int
        Number of input features ``D``.
    lr : float, default=1.0
        Learning rate of the perceptron rule. With zero initial weights it only scales ``w`` and
        ``b``, so the predictions do not depend on it.
    rng : None, int or numpy.random.Generator, default=None
        Used only by ``fit(..., shuffle=True)`` to shuffle the sample order.

    Attributes
    ----------
    w : ndarray of shape (D,)
        Weights, float64, initialised to zeros.
    b : float
        Bias, initialised to 0.
    """

    def __init__(self, n_features, lr=1.0, rng=None):
        n_features = check_int(n_features, "n_features", "Perceptron")
        if not isinstance(lr, numbers.Real) or not lr > 0:
            raise ValueError(f"Perceptron: lr must be a positive number, got {lr!r}")
        self.n_features = n_features
        self.lr = float(lr)
        self.rng = as_generator(rng)
        self.w = np.zeros(self.n_features)
        self.b = 0.0

    def __repr__(self):
        return f"Perceptron({self.n_features} -> 1)"

    def _check_inputs(self, X):
        X = as_float_array(X, self)
        check_shape(X, (None, self.n_features), self)
        return X

    def decision_function(self, X):
        """The signed score ``X @ w + b`` of every sample.

        Parameters
        ----------
        X : ndarray of shape (N, D)

        Returns
        -------
        ndarray of shape (N,)
        """
        X = self._check_inputs(X)
        return X @ self.w + self.b

    def predict(self, X):
        """Class of every sample: 1 where ``X @ w + b >= 0``, else 0.

        Parameters
        ----------
        X : ndarray of shape (N, D)

        Returns
        -------
        ndarray of int of shape (N,)
            Values 0 or 1.
        """
        X = self._check_inputs(X)
        # BEGIN SOLUTION 01_linear_limits
        scores = X @ self.w + self.b
        return (scores >= 0).astype(np.int64)
        # END SOLUTION

    def update(self, x, target):
        """Apply the perceptron rule to one sample.

        If the prediction ``y`` for ``x`` is wrong, move the boundary towards the sample:
        ``w += lr * (target - y) * x`` and ``b += lr * (target - y)``; otherwise change nothing.

        Parameters
        ----------
        x : ndarray of shape (D,)
        target : int
            The true class, 0 or 1.

        Returns
        -------
        bool
            Whether ``x`` was misclassified (and the weights were changed).
        """
        x = as_float_array(x, self)
        check_shape(x, (self.n_features,), self, "sample")
        if np.ndim(target) != 0:
            raise ValueError(f"{self!r}: update takes one sample and its target, a single 0 or 1; "
                             f"got a target of shape {np.shape(target)}")
        target = int(_check_binary_labels(np.reshape(target, 1), 1, self)[0])
        # BEGIN SOLUTION 01_linear_limits
        prediction = 1 if x @ self.w + self.b >= 0 else 0
        error = target - prediction  # +1, -1, or 0 when correct
        if error == 0:
            return False
        self.w += self.lr * error * x
        self.b += self.lr * error
        return True
        # END SOLUTION

    def fit(self, X, y, max_epochs=100, shuffle=False):
        """Sweep the data with ``update`` until an epoch makes no mistake, or ``max_epochs`` epochs.

        Parameters
        ----------
        X : ndarray of shape (N, D)
        y : ndarray of shape (N,)
            Classes 0 or 1.
        max_epochs : int, default=100
            Largest number of passes over the data.
        shuffle : bool, default=False
            Visit the samples in a new random order (from ``rng``) every epoch; the default order
            ``0, ..., N-1`` keeps the result deterministic.

        Returns
        -------
        list of int
            Number of mistakes in each epoch. The last entry is 0 exactly when the data were
            separated; a list of ``max_epochs`` non-zero entries means they were not.
        """
        X = self._check_inputs(X)
        y = _check_binary_labels(y, X.shape[0], self)
        max_epochs = check_int(max_epochs, "max_epochs", self)
        # BEGIN SOLUTION 01_linear_limits
        mistakes_per_epoch = []
        for _ in range(max_epochs):
            order = self.rng.permutation(len(X)) if shuffle else range(len(X))
            mistakes = sum(self.update(X[i], y[i]) for i in order)
            mistakes_per_epoch.append(int(mistakes))
            if mistakes == 0:
                break  # every sample is on the right side: the data are separated
        return mistakes_per_epoch
        # END SOLUTION
