"""Activations, derivatives and (log-)softmax: formulas checked numerically, stable at |x| = 1000."""
import numpy as np
import pytest

from nnlib import functional as F
from nnlib.gradcheck import numerical_gradient, rel_error

TOL = 1e-7
STRICT = dict(over="raise", divide="raise", invalid="raise")


def test_sigmoid_values_and_stability():
    x = np.array([-1000.0, -745.0, -1.0, 0.0, 1.0, 40.0, 1000.0])
    with np.errstate(**STRICT):
        y = F.sigmoid(x)
    np.testing.assert_allclose(y[2:6], 1 / (1 + np.exp(-x[2:6])), rtol=1e-15)
    assert y[0] == 0.0 and y[-1] == 1.0 and 0 < y[1] < 1e-300
    assert F.sigmoid(0.0) == 0.5  # numbers work too


@pytest.mark.parametrize("function, derivative", [
    (F.sigmoid, F.sigmoid_derivative),
    (np.tanh, F.tanh_derivative),
    (lambda z: np.maximum(z, 0), F.relu_derivative),
])
def test_derivatives_match_centred_differences(function, derivative):
    # In [-3, 3]: beyond, the derivatives are tiny and round-off dominates the relative error.
    z = np.random.default_rng(0).uniform(-3, 3, 20)
    z = z[np.abs(z) > 1e-3]  # away from ReLU's kink
    numeric = np.array([numerical_gradient(lambda v: function(v).item(), np.array([value]))[0]
                        for value in z])
    assert rel_error(derivative(z), numeric) <= TOL


def test_sigmoid_derivative_is_finite_at_extremes():
    with np.errstate(**STRICT):
        d = F.sigmoid_derivative(np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_array_equal(d, [0.0, 0.25, 0.0])
    assert F.relu_derivative(np.array([0.0]))[0] == 0.0


@pytest.mark.parametrize("scale", [1.0, 100.0, 1000.0])
def test_softmax_and_log_softmax_are_consistent_and_stable(scale):
    x = np.random.default_rng(1).standard_normal((5, 7)) * scale
    with np.errstate(over="raise", invalid="raise"):
        p = F.softmax(x)
        log_p = F.log_softmax(x)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
    assert np.all(np.isfinite(log_p))
    np.testing.assert_allclose(np.exp(log_p), p, rtol=1e-10, atol=1e-300)
    np.testing.assert_array_equal(np.argmax(p, axis=1), np.argmax(x, axis=1))


def test_softmax_axis_and_shift_invariance():
    x = np.random.default_rng(2).standard_normal((3, 4))
    np.testing.assert_allclose(F.softmax(x, axis=0).sum(axis=0), 1.0)
    np.testing.assert_allclose(F.softmax(x + 123.0), F.softmax(x), rtol=1e-12)
    np.testing.assert_allclose(F.log_softmax(np.array([[1000.0, 0.0]])), [[0.0, -1000.0]])


def test_softmax_jacobian_matches_diag_p_minus_p_p_transpose():
    # The lecture's formula: d p_i / d z_j = p_i (delta_ij - p_j).
    z = np.random.default_rng(3).standard_normal(4)
    p = F.softmax(z)
    jacobian = np.diag(p) - np.outer(p, p)
    for i in range(4):
        numeric = numerical_gradient(lambda v: F.softmax(v)[i], z.copy())
        assert rel_error(jacobian[i], numeric) <= TOL


def test_non_numeric_input_is_refused():
    with pytest.raises(ValueError, match="sigmoid: expected a real numeric"):
        F.sigmoid(np.array(["a"]))
