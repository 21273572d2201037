"""Scalar autodiff: values and gradients of Value against centred differences."""
import math

import numpy as np
import pytest

from nnlib.autodiff import Value
from nnlib.gradcheck import numerical_gradient, rel_error

TOL = 1e-7


def check_expression(expression, point):
    """Compare the gradients ``backward`` finds with centred differences of ``expression``.

    ``expression`` maps Values to a Value; the numerical gradient re-evaluates it on fresh Values.
    """
    inputs = [Value(x) for x in point]
    out = expression(*inputs)
    out.backward()
    analytic = np.array([v.grad for v in inputs])

    def f(x):
        return expression(*[Value(xi) for xi in x]).data

    numeric = numerical_gradient(f, np.array(point, dtype=np.float64))
    assert rel_error(analytic, numeric) <= TOL, (analytic, numeric)
    return out


EXPRESSIONS = {
    "add": (lambda a, b: a + b, [1.5, -2.0]),
    "mul": (lambda a, b: a * b, [1.5, -2.0]),
    "sub": (lambda a, b: a - b, [1.5, -2.0]),
    "div": (lambda a, b: a / b, [1.5, -2.5]),
    "neg": (lambda a: -a, [0.7]),
    "square": (lambda a: a ** 2, [-1.3]),
    "cube": (lambda a: a ** 3, [-1.3]),
    "inverse_square": (lambda a: a ** -2, [0.8]),
    "sqrt": (lambda a: a ** 0.5, [2.3]),
    "power_negative_fraction": (lambda a: a ** -1.5, [1.7]),
    "tanh": (lambda a: a.tanh(), [0.4]),
    "tanh_negative": (lambda a: a.tanh(), [-1.9]),
    "exp": (lambda a: a.exp(), [-0.6]),
    "log": (lambda a: a.log(), [0.3]),
    "relu_positive": (lambda a: a.relu() * 3, [0.8]),
    "relu_negative": (lambda a: a.relu() * 3 + a, [-0.8]),
    "radd": (lambda a: 2 + a, [0.3]),
    "rsub": (lambda a: 2 - a, [0.3]),
    "rmul": (lambda a: 2.5 * a, [0.3]),
    "rtruediv": (lambda a: 2.5 / a, [0.3]),
    "numbers_right": (lambda a: (a + 1) * 3 - 4 / 2 + (a / 4), [-0.9]),
    "mixed": (lambda a, b, c: ((a * b + c.exp()) / (b ** 2 + 1)).tanh() - (c * c + a).log(),
              [0.3, -1.2, 0.5]),
}


@pytest.mark.parametrize("name", sorted(EXPRESSIONS))
def test_gradients_match_centred_differences(name):
    expression, point = EXPRESSIONS[name]
    check_expression(expression, point)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_points(seed):
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(0.5, 2.0, size=2)
    c = rng.standard_normal()
    check_expression(lambda x, y, z: (x * y) ** 1.5 / (z.exp() + x.log()) - (y - z).tanh(),
                     [a, b, c])


def test_forward_values():
    a, b = Value(2.0), Value(-3.0)
    assert (a + b).data == -1.0
    assert (a * b).data == -6.0
    assert (a - b).data == 5.0
    assert (a / b).data == pytest.approx(-2 / 3, rel=1e-15)
    assert (a ** 3).data == 8.0
    assert (-a).data == -2.0
    assert (1 - a).data == -1.0
    assert (6 / a).data == 3.0
    assert a.exp().data == pytest.approx(math.exp(2.0), rel=1e-15)
    assert a.log().data == pytest.approx(math.log(2.0), rel=1e-15)
    assert b.tanh().data == pytest.approx(math.tanh(-3.0), rel=1e-15)
    assert a.relu().data == 2.0 and b.relu().data == 0.0
    assert isinstance(Value(3).data, float)


def test_relu_is_a_max_gate():
    for x, expected in [(2.0, 1.0), (-2.0, 0.0), (0.0, 0.0)]:
        a = Value(x)
        a.relu().backward()
        assert a.grad == expected


def test_node_used_twice_gets_both_contributions():
    a = Value(3.0)
    square = a * a
    square.backward()
    assert a.grad == 6.0

    a = Value(3.0)
    b = a + a
    c = b * a  # c = 2 a^2
    c.backward()
    assert c.data == 18.0
    assert a.grad == 12.0
    assert b.grad == 3.0


def test_shared_subexpression_is_visited_once():
    a = Value(-1.5)
    e = a.exp()
    out = e * e + e  # e used three times; backward must run e's closure exactly once
    out.backward()
    expected = 2 * math.exp(2 * -1.5) + math.exp(-1.5)
    assert a.grad == pytest.approx(expected, rel=1e-14)


def test_two_layer_neuron_network():
    rng = np.random.default_rng(0)
    n_in, n_hidden = 3, 4
    x0 = rng.standard_normal(n_in)
    W1 = rng.standard_normal((n_in, n_hidden))
    b1 = rng.standard_normal(n_hidden)
    w2 = rng.standard_normal(n_hidden)
    params = np.concatenate([W1.ravel(), b1, w2, [0.3]])

    def network(p):
        p = np.array(p, dtype=object)  # a vector of Values, indexable like the parameters
        W = p[:n_in * n_hidden].reshape(n_in, n_hidden)
        b = p[n_in * n_hidden:n_in * n_hidden + n_hidden]
        v = p[n_in * n_hidden + n_hidden:-1]
        c = p[-1]
        x = [float(xi) for xi in x0]
        hidden = []
        for j in range(n_hidden):
            z = b[j]
            for i in range(n_in):
                z = z + W[i, j] * x[i]
            hidden.append(z.tanh() if j % 2 == 0 else z.relu())
        out = c
        for j in range(n_hidden):
            out = out + v[j] * hidden[j]
        return (out - 1.0) ** 2

    values = [Value(p) for p in params]
    loss = network(values)
    loss.backward()
    analytic = np.array([v.grad for v in values])
    numeric = numerical_gradient(lambda p: network([Value(pi) for pi in p]).data,
                                 params.copy())
    assert rel_error(analytic, numeric) <= TOL

    # the same numbers with plain numpy
    z = x0 @ W1 + b1
    h = np.where(np.arange(n_hidden) % 2 == 0, np.tanh(z), np.maximum(z, 0))
    assert loss.data == pytest.approx((h @ w2 + 0.3 - 1.0) ** 2, rel=1e-12)


def test_backward_sets_output_gradient_to_one():
    a = Value(0.5)
    out = a.tanh()
    out.backward()
    assert out.grad == 1.0


def test_graph_bookkeeping():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    assert c._op == "*" and c._prev == {a, b}
    d = c.tanh()
    assert d._op == "tanh" and d._prev == {c}
    assert a._prev == set() and a._op == ""
    assert "data=2" in repr(c) and "grad=0" in repr(c)


def test_value_exponent_is_refused():
    with pytest.raises(TypeError, match="only int/float exponents"):
        Value(2.0) ** Value(3.0)


def test_log_of_non_positive_raises():
    with pytest.raises(ValueError, match="non-positive"):
        Value(0.0).log()
    with pytest.raises(ValueError, match="non-positive"):
        Value(-1.0).log()


def test_fractional_power_of_negative_raises():
    with pytest.raises(ValueError):
        Value(-2.0) ** 0.5


def test_non_numbers_are_refused():
    with pytest.raises(TypeError):
        Value(1.0) + "1"
    with pytest.raises(TypeError):
        Value("1")


DEPTH = 10_000  # ten times Python's default recursion limit


def test_backward_of_a_sum_of_many_products_needs_no_recursion():
    # sum() chains the additions, so the graph is DEPTH nodes deep.
    rng = np.random.default_rng(0)
    a = [Value(x) for x in rng.normal(size=DEPTH)]
    b = [Value(x) for x in rng.normal(size=DEPTH)]
    total = sum(ai * bi for ai, bi in zip(a, b))
    total.backward()
    # d(sum a_i b_i)/d a_i = b_i and d/d b_i = a_i, exactly (each product is reached once).
    assert [ai.grad for ai in a] == [bi.data for bi in b]
    assert [bi.grad for bi in b] == [ai.data for ai in a]


def test_backward_of_a_deep_chain_reusing_its_input():
    # y_0 = x, y_k = w * y_{k-1} + x: y_n = x (w^n + w^(n-1) + ... + 1),
    # so dy_n/dx = (w^(n+1) - 1) / (w - 1).
    w, x = 0.999, Value(0.5)
    y = x
    for _ in range(DEPTH):
        y = y * w + x
    y.backward()
    expected = (w ** (DEPTH + 1) - 1) / (w - 1)
    assert y.data == pytest.approx(0.5 * expected, rel=1e-10)
    assert x.grad == pytest.approx(expected, rel=1e-10)


def test_exp_overflow_is_a_clear_error():
    largest = math.log(np.finfo(np.float64).max)
    assert math.isfinite(Value(largest).exp().data)  # the largest input that is allowed
    with pytest.raises(OverflowError, match=r"Value.exp: exp\(800\) is larger than the largest float"):
        Value(800.0).exp()
    with pytest.raises(OverflowError, match="Value.exp"):
        Value(math.nextafter(largest, math.inf)).exp()
    assert Value(-800.0).exp().data == 0.0  # underflow is harmless: exp(-800) rounds to 0
