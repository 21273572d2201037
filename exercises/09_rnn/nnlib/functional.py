# Student copy of nnlib for exercise 09_rnn; the reference is nnlib/ in the course repository.
"""Elementwise activations, their derivatives, and the (log-)softmax, all numerically stable.

Every function takes an array (or a number) and returns a float64 array of the same shape.
"""
import numpy as np

from ._checks import as_float_array


def sigmoid(x):
    r"""Logistic sigmoid :math:`\sigma(x) = 1 / (1 + e^{-x})`, stable for any ``x``.

    The textbook formula overflows in ``exp(-x)`` for ``x`` below about -709. Writing it as
    :math:`e^{x} / (1 + e^{x})` for negative ``x`` only ever exponentiates a non-positive number.

    Parameters
    ----------
    x : array_like of any shape

    Returns
    -------
    ndarray of float64, the shape of ``x``
        Values in [0, 1].
    """
    x = as_float_array(x, "sigmoid")
    # BEGIN SOLUTION 01_linear_limits
    out = np.empty_like(x)
    positive = x >= 0
    out[positive] = 1.0 / (1.0 + np.exp(-x[positive]))
    exp_x = np.exp(x[~positive])
    out[~positive] = exp_x / (1.0 + exp_x)
    return out
    # END SOLUTION


def sigmoid_derivative(z):
    r""":math:`\sigma'(z) = \sigma(z)\,(1 - \sigma(z))`.

    Parameters
    ----------
    z : array_like of any shape
        Pre-activations.

    Returns
    -------
    ndarray of float64, the shape of ``z``
    """
    z = as_float_array(z, "sigmoid_derivative")
    # BEGIN SOLUTION 04_single_layer_gradients
    s = sigmoid(z)
    return s * (1.0 - s)
    # END SOLUTION


def tanh_derivative(z):
    r""":math:`\tanh'(z) = 1 - \tanh^2(z)`.

    Parameters
    ----------
    z : array_like of any shape
        Pre-activations.

    Returns
    -------
    ndarray of float64, the shape of ``z``
    """
    z = as_float_array(z, "tanh_derivative")
    # BEGIN SOLUTION 04_single_layer_gradients
    return 1.0 - np.tanh(z) ** 2
    # END SOLUTION


def relu_derivative(z):
    r""":math:`\mathrm{ReLU}'(z) = 1` where :math:`z > 0`, else 0 (0 at :math:`z = 0`, as in PyTorch).

    Parameters
    ----------
    z : array_like of any shape
        Pre-activations.

    Returns
    -------
    ndarray of float64, the shape of ``z``
    """
    z = as_float_array(z, "relu_derivative")
    # BEGIN SOLUTION 04_single_layer_gradients
    return (z > 0).astype(np.float64)
    # END SOLUTION


def softmax(x, axis=-1):
    r"""Softmax :math:`p_k = e^{x_k} / \sum_j e^{x_j}` along ``axis``, stable for ``|x|`` up to 1e3.

    Subtracting :math:`\max_j x_j` first changes nothing (it cancels between numerator and
    denominator) but keeps every exponent at most 0, so nothing overflows.

    Parameters
    ----------
    x : array_like, e.g. logits of shape (N, K)
    axis : int, default=-1

    Returns
    -------
    ndarray of float64, the shape of ``x``
        Non-negative, summing to 1 along ``axis``.
    """
    x = as_float_array(x, "softmax")
    # BEGIN SOLUTION 06_softmax
    shifted = x - x.max(axis=axis, keepdims=True)
    exp_shifted = np.exp(shifted)
    return exp_shifted / exp_shifted.sum(axis=axis, keepdims=True)
    # END SOLUTION


def log_softmax(x, axis=-1):
    r"""Log of the softmax, :math:`x_k - \log \sum_j e^{x_j}`, by the log-sum-exp trick.

    Taking ``np.log(softmax(x))`` would give ``-inf`` where a probability underflows to 0; here the
    maximum is factored out of the sum, so every entry stays finite.

    Parameters
    ----------
    x : array_like, e.g. logits of shape (N, K)
    axis : int, default=-1

    Returns
    -------
    ndarray of float64, the shape of ``x``
    """
    x = as_float_array(x, "log_softmax")
    # BEGIN SOLUTION 06_softmax
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    # END SOLUTION
