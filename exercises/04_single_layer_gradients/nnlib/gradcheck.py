# Student copy of nnlib for exercise 04_single_layer_gradients; the reference is nnlib/ in the course repository.
"""Numerical gradient checking: centred differences, relative error, and a per-layer report.

The reference for every backward pass in this course is the definition of the derivative,

.. math:: \\frac{\\partial f}{\\partial x_i} \\approx \\frac{f(x + h e_i) - f(x - h e_i)}{2h},

whose error is :math:`O(h^2)` (a one-sided difference is only :math:`O(h)`).
"""
import numpy as np

from ._checks import as_generator


def _check_perturbable(x, owner):
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        kind = x.dtype if isinstance(x, np.ndarray) else type(x).__name__
        raise ValueError(f"{owner}: x must be a float64 numpy array (it is perturbed in place), "
                         f"got {kind}")


def numerical_gradient(f, x, h=1e-5):
    """Centred-difference gradient of a scalar function.

    Parameters
    ----------
    f : callable
        ``f(x) -> float``; called with ``x`` itself after each perturbation.
    x : ndarray of float64, any shape
        The point. Each entry is perturbed in place by ``+h`` and ``-h`` and then restored, so ``f``
        may read ``x`` through a closure (a layer's parameter array) instead of its argument.
    h : float, default=1e-5
        Step size.

    Returns
    -------
    grad : ndarray of float64, the shape of ``x``
        ``(f(x + h e_i) - f(x - h e_i)) / (2 h)`` for every entry ``i``.
    """
    _check_perturbable(x, "numerical_gradient")
    # BEGIN SOLUTION 04_single_layer_gradients
    raise NotImplementedError('numerical_gradient: implement this in exercise 04_single_layer_gradients')
    # END SOLUTION


def numerical_gradient_array(f, x, grad_out, h=1e-5):
    """Centred-difference gradient of ``sum(f(x) * grad_out)``: what ``backward(grad_out)`` returns.

    ``f`` maps ``x`` to an array of the shape of ``grad_out`` (a layer's forward).
    """
    return numerical_gradient(lambda x_: np.sum(f(x_) * grad_out), x, h)


def rel_error(a, b):
    """Largest elementwise relative error ``|a - b| / max(|a| + |b|, 1e-8)``.

    The floor keeps two tiny numbers (both about 0) from counting as far apart. About 1e-7 or less
    means a correct float64 gradient; 1e-2 or more means a bug.

    Parameters
    ----------
    a, b : array_like of the same shape

    Returns
    -------
    float
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error: shapes differ, {a.shape} and {b.shape}")
    # BEGIN SOLUTION 04_single_layer_gradients
    raise NotImplementedError('rel_error: implement this in exercise 04_single_layer_gradients')
    # END SOLUTION


CHAIN_RULE = "differs from the numerical gradient: re-derive it with the chain rule, one factor at a time"


def diagnose(analytic, numeric, tol=1e-7, otherwise=CHAIN_RULE):
    """A hint a student can act on when ``analytic`` is not the ``numeric`` gradient ('' if it is).

    ``otherwise`` is said when no specific kind of mistake (scale, sign, transpose...) is found;
    the default speaks of gradients, callers comparing other values pass their own.
    """
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = np.asarray(numeric, dtype=np.float64)
    if analytic.shape != numeric.shape:
        if analytic.shape == numeric.T.shape:
            return (f"shape {analytic.shape} is the transpose of {numeric.shape}: "
                    "check the order of the matrix product")
        return f"shape {analytic.shape} should be {numeric.shape}"
    if not np.all(np.isfinite(analytic)):
        return "contains inf or nan: look for an overflow (exp of a large number) or a division by 0"
    if rel_error(analytic, numeric) <= tol:
        return ""
    if not np.any(analytic) and np.any(numeric):
        return "is all zeros: is it computed and stored (grads overwritten, not left at 0)?"
    if analytic.ndim == 2 and analytic.shape[0] == analytic.shape[1] and \
            rel_error(analytic, numeric.T) <= tol:
        return "is the transpose of the right gradient: check the order of the matrix product"
    if rel_error(analytic, -numeric) <= tol:
        return "has the wrong sign"
    flat_a, flat_n = analytic.ravel(), numeric.ravel()
    mask = np.abs(flat_n) > 1e-10
    if np.any(mask):
        ratios = flat_a[mask] / flat_n[mask]
        ratio = float(np.median(ratios))
        if np.allclose(ratios, ratio, rtol=1e-6) and abs(ratio - 1) > 1e-3 and ratio > 0:
            if ratio > 1:
                return (f"has the right shape but is {ratio:.4g} times too large: did you sum "
                        "where the loss takes a mean?")
            return (f"has the right shape but is {1 / ratio:.4g} times too small: did you take a "
                    "mean where a sum is needed, or divide twice?")
    if rel_error(analytic, numeric) < 1e-4:
        return ("is close to the numerical gradient but above the tolerance: a small term is "
                "missing, or the entries are so small that round-off dominates")
    return otherwise


class GradCheckReport:
    """Result of ``check_layer``: one row per gradient, printable, truthy when all pass."""

    def __init__(self, layer_name, rows, tol):
        self.layer_name = layer_name
        self.rows = rows  # list of (name, relative error, hint)
        self.tol = tol

    @property
    def passed(self):
        return all(not hint for _, _, hint in self.rows)

    def __bool__(self):
        return self.passed

    def __getitem__(self, name):
        """Relative error of the gradient called ``name`` (``'dx'``, ``'dW'``, ...)."""
        for row_name, error, _ in self.rows:
            if row_name == name:
                return error
        raise KeyError(name)

    def __str__(self):
        lines = [f"gradient check of {self.layer_name} (relative error, pass if <= {self.tol:g})"]
        for name, error, hint in self.rows:
            mark = "ok  " if not hint else "FAIL"
            shown = "   n/a   " if error is None else f"{error:9.2e}"
            lines.append(f"  {mark} {name:<8} {shown}" + (f"  {name} {hint}" if hint else ""))
        return "\n".join(lines)

    __repr__ = __str__


def check_layer(layer, x, seed=0, tol=1e-7, h=1e-5):
    """Compare a layer's backward with centred differences, for ``dx`` and every parameter.

    Parameters
    ----------
    layer : Module
        Must be deterministic in the mode it is in (call ``eval()`` on ``Dropout`` first).
    x : ndarray
        An input batch; converted to float64.
    seed : int, default=0
        Seeds the random upstream gradient ``dy``.
    tol : float, default=1e-7
        Largest relative error that passes.

    Returns
    -------
    GradCheckReport
        ``print(report)`` names each gradient, its relative error and a hint if it is off.
    """
    x = np.array(x, dtype=np.float64)
    rng = as_generator(seed)
    y = layer.forward(x)
    grad_out = rng.standard_normal(np.shape(y))
    layer.forward(x)
    analytic = {"dx": layer.backward(grad_out)}
    analytic.update({"d" + key: np.array(grad) for key, grad in layer.grads.items()})

    numeric = {"dx": numerical_gradient_array(layer.forward, x, grad_out, h)}
    for key, param in layer.params.items():
        numeric["d" + key] = numerical_gradient_array(lambda _: layer.forward(x), param, grad_out, h)

    rows = []
    for name, expected in numeric.items():
        got = analytic[name]
        if got is None or np.shape(got) != expected.shape:
            rows.append((name, None, diagnose(np.asarray(got if got is not None else []), expected)
                         or "is missing"))
            continue
        rows.append((name, rel_error(got, expected), diagnose(got, expected, tol)))
    return GradCheckReport(repr(layer), rows, tol)
