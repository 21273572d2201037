"""Dense layers, activations and Sequential: values, gradients (centred differences), errors."""
import numpy as np
import pytest

from nnlib.gradcheck import check_layer, rel_error
from nnlib.layers import Flatten, Linear, ReLU, Sequential, Sigmoid, Tanh
from nnlib.module import Module, count_parameters

TOL = 1e-7
SEEDS = [0, 1, 2]
# (batch, features in, features out): batch of 1 and odd sizes on purpose
SHAPES = [(1, 1, 1), (1, 5, 3), (7, 3, 11), (4, 13, 2)]


def random_input(seed, *shape):
    # Keep activations away from ReLU's kink at 0, where the centred difference is not a derivative.
    x = np.random.default_rng(seed).standard_normal(shape)
    return np.where(np.abs(x) < 1e-3, 0.1, x)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("n, d_in, d_out", SHAPES)
def test_linear_gradients(seed, n, d_in, d_out):
    report = check_layer(Linear(d_in, d_out, rng=seed), random_input(seed + 10, n, d_in), seed=seed)
    assert report.passed, str(report)
    assert {name for name, _, _ in report.rows} == {"dx", "dW", "db"}


def test_linear_forward_is_x_at_w_plus_b_and_backward_matches_hand_formulas():
    layer = Linear(3, 2, rng=0)
    layer.params["W"][...] = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    layer.params["b"][...] = [0.5, -0.5]
    x = np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]])
    np.testing.assert_allclose(layer.forward(x), [[-3.5, -4.5], [5.5, 7.5]])
    dy = np.array([[1.0, 0.0], [0.0, 2.0]])
    np.testing.assert_allclose(layer.backward(dy), [[1.0, 3.0, 5.0], [4.0, 8.0, 12.0]])
    np.testing.assert_allclose(layer.grads["W"], [[1.0, 4.0], [0.0, 2.0], [-1.0, 0.0]])
    np.testing.assert_allclose(layer.grads["b"], [1.0, 2.0])


def test_linear_init_matches_pytorch_default_bound_and_is_seeded():
    layer = Linear(400, 300, rng=0)
    bound = 1 / np.sqrt(400)
    assert layer.params["W"].shape == (400, 300) and layer.params["b"].shape == (300,)
    assert layer.params["W"].dtype == np.float64
    assert np.abs(layer.params["W"]).max() <= bound and np.abs(layer.params["W"]).max() > 0.99 * bound
    np.testing.assert_array_equal(layer.params["W"], Linear(400, 300, rng=0).params["W"])
    assert not np.array_equal(layer.params["W"], Linear(400, 300, rng=1).params["W"])


def test_backward_overwrites_grads_in_place_so_optimizer_references_stay_valid():
    layer = Linear(4, 3, rng=0)
    (W, dW), (b, db) = layer.parameters()
    x = random_input(0, 5, 4)
    layer.forward(x)
    layer.backward(np.ones((5, 3)))
    first = dW.copy()
    layer.forward(x)
    layer.backward(np.ones((5, 3)))
    assert layer.grads["W"] is dW and layer.params["W"] is W
    np.testing.assert_allclose(dW, first, err_msg="grads must be overwritten, not accumulated")
    layer.reset_parameters()
    assert layer.params["W"] is W, "re-initialising keeps the arrays optimizers hold"


@pytest.mark.parametrize("activation, formula", [
    (Sigmoid, lambda x: 1 / (1 + np.exp(-x))),
    (Tanh, np.tanh),
    (ReLU, lambda x: np.maximum(x, 0)),
])
@pytest.mark.parametrize("shape", [(1, 1), (3, 7), (2, 3, 4)])
def test_activations_values_and_gradients(activation, formula, shape):
    x = random_input(sum(shape), *shape)
    layer = activation()
    np.testing.assert_allclose(layer.forward(x), formula(x), rtol=1e-12)
    report = check_layer(layer, x, seed=3)
    assert report.passed, str(report)


def test_sigmoid_layer_is_stable_at_large_inputs():
    layer = Sigmoid()
    x = np.array([[-1000.0, -50.0, 0.0, 50.0, 1000.0]])
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        y = layer.forward(x)
        dx = layer.backward(np.ones_like(x))
    np.testing.assert_allclose(y, [[0.0, 1.9287498479639178e-22, 0.5, 1.0, 1.0]], rtol=1e-12, atol=0)
    assert np.all(np.isfinite(dx)) and dx[0, 2] == 0.25


def test_relu_gradient_is_zero_at_and_below_zero():
    layer = ReLU()
    layer.forward(np.array([[-1.0, 0.0, 2.0]]))
    np.testing.assert_array_equal(layer.backward(np.array([[5.0, 5.0, 5.0]])), [[0.0, 0.0, 5.0]])


@pytest.mark.parametrize("seed", SEEDS)
def test_sequential_mlp_gradients(seed):
    model = Sequential(Linear(6, 9, rng=seed), Tanh(), Linear(9, 5, rng=seed + 1), ReLU(),
                       Linear(5, 3, rng=seed + 2), Sigmoid())
    # Looser than TOL: after two saturating activations some entries of dW0 are ~1e-5, where the
    # centred difference's round-off (~1e-11 absolute) alone is a relative error of ~1e-6. Every
    # layer in it is checked alone at TOL above; this checks how they compose.
    report = check_layer(model, random_input(seed, 4, 6), seed=seed, tol=1e-6)
    assert report.passed, str(report)
    assert len(report.rows) == 7  # dx and three (W, b) pairs


def test_sequential_params_are_the_layers_own_arrays_keyed_by_index():
    first, last = Linear(2, 3, rng=0), Linear(3, 1, rng=1)
    model = Sequential(first, ReLU(), last)
    assert list(model.params) == ["0.W", "0.b", "2.W", "2.b"]
    assert model.params["2.W"] is last.params["W"] and model.grads["0.b"] is first.grads["b"]
    assert [p is q for (p, _), q in zip(model.parameters(), [first.params["W"], first.params["b"],
                                                             last.params["W"], last.params["b"]])] \
        == [True] * 4
    assert count_parameters(model) == 2 * 3 + 3 + 3 * 1 + 1
    model.eval()
    assert not first.training and not model.training
    model.train()
    assert first.training


def test_sequential_is_set_up_by_module_init(monkeypatch):
    initialised = []
    module_init = Module.__init__

    def recording_init(self):
        initialised.append(type(self).__name__)
        module_init(self)

    monkeypatch.setattr(Module, "__init__", recording_init)
    model = Sequential(Linear(2, 3, rng=0), ReLU())
    assert initialised == ["Linear", "ReLU", "Sequential"]
    assert model.training


def test_flatten_and_sequential_name_themselves_by_repr_in_errors():
    model = Sequential(Flatten(), Linear(6, 2, rng=0))
    with pytest.raises(ValueError, match=r"^Flatten\(\): expected a real numeric input"):
        model(np.array([["a", "b"]]))
    model(np.zeros((4, 2, 3)))
    with pytest.raises(ValueError, match=r"^Linear\(6 -> 2\): backward expected an upstream "
                                         r"gradient of shape \(4, 2\)"):
        model.backward(np.zeros((4, 3)))


def test_sequential_forward_and_backward_compose_in_order():
    model = Sequential(Linear(3, 4, rng=0), ReLU(), Linear(4, 2, rng=1))
    x = random_input(0, 5, 3)
    by_hand = np.maximum(x @ model[0].params["W"] + model[0].params["b"], 0) \
        @ model[2].params["W"] + model[2].params["b"]
    np.testing.assert_allclose(model(x), by_hand, rtol=1e-12)


def test_flatten_round_trip_and_gradient():
    x = random_input(0, 2, 3, 4, 5)
    layer = Flatten()
    assert layer.forward(x).shape == (2, 60)
    np.testing.assert_array_equal(layer.backward(np.arange(120.0).reshape(2, 60)).reshape(-1),
                                  np.arange(120.0))
    assert check_layer(layer, x).passed


@pytest.mark.parametrize("make_call, message", [
    (lambda: Linear(64, 32)(np.zeros((10, 63))),
     r"Linear\(64 -> 32\): expected input of shape \(N, 64\), got \(10, 63\)"),
    (lambda: Linear(4, 2)(np.zeros(4)), r"Linear\(4 -> 2\): expected input of shape \(N, 4\), got \(4,\)"),
    (lambda: Linear(2, 2)(np.array([["a", "b"]])), r"Linear\(2 -> 2\): expected a real numeric input"),
    (lambda: Linear(0, 2), "in_features must be a positive integer"),
    (lambda: Linear(2, 2.5), "out_features must be a positive integer"),
    (lambda: Sequential(Linear(2, 2), ReLU), "not a layer"),
])
def test_bad_input_raises_value_error_naming_layer_and_shapes(make_call, message):
    with pytest.raises(ValueError, match=message):
        make_call()


def test_backward_checks_upstream_shape_and_order():
    layer = Linear(3, 2)
    with pytest.raises(RuntimeError, match="forward before backward"):
        layer.backward(np.zeros((4, 2)))
    layer.forward(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"Linear\(3 -> 2\).*\(4, 2\).*\(4, 3\)"):
        layer.backward(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="ReLU"):
        relu = ReLU()
        relu.forward(np.zeros((2, 2)))
        relu.backward(np.zeros((2, 3)))


def test_integer_input_is_converted_to_float64():
    layer = Linear(2, 1, rng=0)
    y = layer.forward(np.array([[0, 1], [1, 1]]))
    assert y.dtype == np.float64
    assert rel_error(y, layer.forward(np.array([[0.0, 1.0], [1.0, 1.0]]))) == 0
