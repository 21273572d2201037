"""The gradient checker itself: it must be accurate, restore its input, and catch wrong gradients."""
import numpy as np
import pytest

from nnlib.gradcheck import check_layer, diagnose, numerical_gradient, numerical_gradient_array, rel_error
from nnlib.layers import Linear


def test_numerical_gradient_of_a_known_function_is_second_order_accurate():
    x = np.array([0.3, -1.2, 2.0])
    exact = np.cos(x) * 3 * x ** 2 + np.sin(x) * 6 * x  # d/dx of sin(x) * 3x^2 ... per entry
    f = lambda v: float(np.sum(np.sin(v) * 3 * v ** 2))
    grad = numerical_gradient(f, x)
    assert rel_error(grad, np.cos(x) * 3 * x ** 2 + np.sin(x) * 6 * x) <= 1e-9
    # A one-sided difference with the same h is far less accurate: this is why we centre.
    h = 1e-5
    one_sided = np.array([(f(x + h * e) - f(x)) / h for e in np.eye(3)])
    assert rel_error(one_sided, exact) > 1e-7


def test_numerical_gradient_restores_x_and_calls_f_with_x():
    x = np.arange(6.0).reshape(2, 3)
    before = x.copy()
    seen = []
    numerical_gradient(lambda v: seen.append(v is x) or float(np.sum(v)), x)
    np.testing.assert_array_equal(x, before)
    assert all(seen) and len(seen) == 12


def test_numerical_gradient_refuses_arrays_it_cannot_perturb():
    with pytest.raises(ValueError, match="float64"):
        numerical_gradient(lambda v: 0.0, np.arange(3))


def test_numerical_gradient_array_contracts_with_upstream_gradient():
    A = np.random.default_rng(0).standard_normal((3, 4))
    x = np.random.default_rng(1).standard_normal((2, 3))
    dy = np.random.default_rng(2).standard_normal((2, 4))
    assert rel_error(numerical_gradient_array(lambda v: v @ A, x, dy), dy @ A.T) <= 1e-9


def test_rel_error_definition():
    assert rel_error(np.ones(3), np.ones(3)) == 0.0
    assert rel_error([1.0], [1.1]) == pytest.approx(0.1 / 2.1)
    assert rel_error([0.0], [1e-12]) < 1e-3  # both essentially zero: the 1e-8 floor
    assert rel_error([1.0, 100.0], [1.0, 101.0]) == pytest.approx(1 / 201)  # largest entry counts
    with pytest.raises(ValueError, match="shapes differ"):
        rel_error(np.ones(2), np.ones(3))


class ScaledLinear(Linear):
    """A wrong Linear: dW is N times too large (summing where a mean is needed)."""

    def backward(self, grad_out):
        dx = super().backward(grad_out)
        self.grads["W"] = self.grads["W"] * 4
        return dx


def test_check_layer_catches_a_wrong_gradient_and_says_how():
    report = check_layer(ScaledLinear(3, 2, rng=0), np.random.default_rng(0).standard_normal((5, 3)))
    assert not report.passed and not report
    assert report["dx"] <= 1e-7 and report["dW"] > 0.5
    assert "4 times too large" in str(report) and "FAIL dW" in str(report)


@pytest.mark.parametrize("analytic, hint", [
    (lambda g: g.T, "transpose"),
    (lambda g: -g, "wrong sign"),
    (lambda g: np.zeros_like(g), "all zeros"),
    (lambda g: g / 3, "3 times too small"),
    (lambda g: g + np.nan, "inf or nan"),
    (lambda g: g, ""),
])
def test_diagnose_names_the_kind_of_mistake(analytic, hint):
    numeric = np.random.default_rng(0).standard_normal((3, 3))
    message = diagnose(analytic(numeric), numeric)
    assert (hint in message) if hint else message == ""
