# Student copy of nnlib for exercise 02_xor; the reference is nnlib/ in the course repository.
"""McCulloch-Pitts threshold units as logic gates, and a hand-built two-layer network for XOR.

A threshold unit outputs ``step(x @ w + b)``: 1 when the weighted sum reaches the threshold ``-b``,
else 0. One unit computes AND, OR or NAND of two bits, but not XOR: XOR is 1 exactly when the two
inputs differ, and no single line separates {(0, 1), (1, 0)} from {(0, 0), (1, 1)}. (The lecture
slides phrase the problem as "do 2 input elements have the same value?"; that question is XNOR, the
negation of XOR, and is just as impossible for one unit.) Two layers suffice:
``XOR(x1, x2) = AND(OR(x1, x2), NAND(x1, x2))``, and the hidden layer (OR, NAND) is a new
representation of the input in which the classes are linearly separable.
"""
import numpy as np

from ._checks import as_float_array, check_shape


def step(z):
    """Heaviside step: 1.0 where ``z >= 0``, else 0.0 (so ``step(0) = 1``).

    Parameters
    ----------
    z : array_like of any shape

    Returns
    -------
    ndarray of float64, the shape of ``z``
    """
    z = as_float_array(z, "step")
    # BEGIN SOLUTION 02_xor
    raise NotImplementedError('step: implement this in exercise 02_xor')
    # END SOLUTION


class ThresholdLayer:
    """A layer of ``M`` threshold units with fixed weights: ``y = step(x @ W + b)``.

    Parameters
    ----------
    W : array_like of shape (D, M)
        Column ``j`` holds the input weights of unit ``j``.
    b : array_like of shape (M,)
        Biases (minus the thresholds).
    """

    def __init__(self, W, b):
        W = as_float_array(W, "ThresholdLayer", "W")
        if W.ndim != 2:
            raise ValueError(f"ThresholdLayer: expected W of shape (D, M), got {W.shape}")
        self.W = W.copy()
        b = as_float_array(b, self, "b")
        check_shape(b, (self.W.shape[1],), self, "b")
        self.b = b.copy()

    @property
    def in_features(self):
        return self.W.shape[0]

    @property
    def out_features(self):
        return self.W.shape[1]

    def __repr__(self):
        return f"ThresholdLayer({self.in_features} -> {self.out_features})"

    def forward(self, X):
        """Outputs of the units for every sample.

        Parameters
        ----------
        X : array_like of shape (N, D)

        Returns
        -------
        ndarray of float64 of shape (N, M)
            Values 0.0 or 1.0.
        """
        X = as_float_array(X, self)
        check_shape(X, (None, self.in_features), self)
        # BEGIN SOLUTION 02_xor
        raise NotImplementedError('ThresholdLayer.forward: implement this in exercise 02_xor')
        # END SOLUTION

    __call__ = forward


def and_gate_weights():
    """Weights of one threshold unit computing ``x1 AND x2`` on inputs in {0, 1}.

    Returns
    -------
    W : ndarray of shape (2, 1)
    b : ndarray of shape (1,)
        Chosen so that ``x @ W + b`` is at least 0.5 away from 0 on every input (a margin).
    """
    # BEGIN SOLUTION 02_xor
    raise NotImplementedError('and_gate_weights: implement this in exercise 02_xor')
    # END SOLUTION


def or_gate_weights():
    """Weights of one threshold unit computing ``x1 OR x2`` on inputs in {0, 1}.

    Returns
    -------
    W : ndarray of shape (2, 1)
    b : ndarray of shape (1,)
        Chosen so that ``x @ W + b`` is at least 0.5 away from 0 on every input (a margin).
    """
    # BEGIN SOLUTION 02_xor
    raise NotImplementedError('or_gate_weights: implement this in exercise 02_xor')
    # END SOLUTION


def nand_gate_weights():
    """Weights of one threshold unit computing ``NOT (x1 AND x2)`` on inputs in {0, 1}.

    Returns
    -------
    W : ndarray of shape (2, 1)
    b : ndarray of shape (1,)
        Chosen so that ``x @ W + b`` is at least 0.5 away from 0 on every input (a margin).
    """
    # BEGIN SOLUTION 02_xor
    raise NotImplementedError('nand_gate_weights: implement this in exercise 02_xor')
    # END SOLUTION


def xor_network():
    """A two-layer threshold network computing ``x1 XOR x2`` on inputs in {0, 1}.

    The hidden layer holds an OR unit and a NAND unit side by side; the output unit is their AND.

    Returns
    -------
    list of ThresholdLayer
        ``[hidden (2 -> 2), output (2 -> 1)]``; ``run_network(xor_network(), X)`` has shape (N, 1).
    """
    # BEGIN SOLUTION 02_xor
    raise NotImplementedError('xor_network: implement this in exercise 02_xor')
    # END SOLUTION


def run_network(layers, X):
    """Apply ``layers`` in order: ``layers[-1](... layers[0](X))``.

    Parameters
    ----------
    layers : sequence of ThresholdLayer (or any callables)
    X : array_like of shape (N, D)

    Returns
    -------
    ndarray
        The output of the last layer, e.g. of shape (N, 1).
    """
    for layer in layers:
        X = layer(X)
    return X
