"""Tests of nnlib.rnn: the vanilla RNN forward and backpropagation through time."""
import numpy as np
import pytest

from nnlib.gradcheck import check_layer, numerical_gradient, numerical_gradient_array, rel_error
from nnlib.rnn import RNN

# (N, T, D, H): one step, longer sequences, batch of 1, odd sizes.
CONFIGS = [(1, 1, 3, 4), (3, 1, 2, 5), (2, 4, 3, 3), (1, 9, 2, 4), (4, 6, 5, 2)]
CONFIG_IDS = [f"N{n}-T{t}-D{d}-H{h}" for n, t, d, h in CONFIGS]
SEEDS = [0, 1, 2]
TOL = 1e-7


def _unrolled(x, h0, Wx, Wh, b):
    """The recurrence written out step by step, independently of nnlib."""
    states = []
    h = h0
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t, :] @ Wx + h @ Wh + b)
        states.append(h)
    return np.stack(states, axis=1)


def _problem(config, seed):
    N, T, D, H = config
    rng = np.random.default_rng(seed)
    layer = RNN(D, H, rng=rng)
    x = rng.standard_normal((N, T, D))
    h0 = rng.standard_normal((N, H))
    return layer, x, h0, rng


@pytest.mark.parametrize("config", CONFIGS, ids=CONFIG_IDS)
def test_forward_equals_hand_unrolled_loop(config):
    layer, x, h0, _ = _problem(config, 0)
    Wx, Wh, b = layer.params["Wx"], layer.params["Wh"], layer.params["b"]
    h = layer.forward(x, h0)
    assert h.shape == (config[0], config[1], config[3])
    np.testing.assert_allclose(h, _unrolled(x, h0, Wx, Wh, b), rtol=0, atol=1e-14)
    # h0 defaults to zeros.
    np.testing.assert_allclose(layer.forward(x), _unrolled(x, np.zeros_like(h0), Wx, Wh, b),
                               rtol=0, atol=1e-14)


def test_forward_hand_computed_scalar_example():
    layer = RNN(1, 1, rng=0)
    layer.params["Wx"][...] = 0.5
    layer.params["Wh"][...] = -1.0
    layer.params["b"][...] = 0.1
    h = layer.forward(np.array([[[1.0], [2.0]]]), h0=np.array([[0.3]]))
    h1 = np.tanh(0.5 * 1.0 - 1.0 * 0.3 + 0.1)
    h2 = np.tanh(0.5 * 2.0 - 1.0 * h1 + 0.1)
    np.testing.assert_allclose(h[0, :, 0], [h1, h2], rtol=0, atol=1e-15)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("config", CONFIGS, ids=CONFIG_IDS)
def test_gradient_check_with_zero_initial_state(config, seed):
    layer, x, _, _ = _problem(config, seed)
    report = check_layer(layer, x, seed=seed, tol=TOL)
    assert report, str(report)
    assert set(layer.grads) == {"Wx", "Wh", "b"}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("config", CONFIGS, ids=CONFIG_IDS)
def test_gradient_check_with_h0_including_dh0(config, seed):
    layer, x, h0, rng = _problem(config, seed)
    dh = rng.standard_normal((config[0], config[1], config[3]))  # upstream gradient at every step
    layer.forward(x, h0)
    dx = layer.backward(dh)
    analytic = {"dx": dx, "dh0": layer.dh0.copy()}
    analytic.update({"d" + key: grad.copy() for key, grad in layer.grads.items()})

    def loss(_):
        return np.sum(layer.forward(x, h0) * dh)

    numeric = {"dx": numerical_gradient(loss, x), "dh0": numerical_gradient(loss, h0)}
    numeric.update({"d" + key: numerical_gradient(loss, param)
                    for key, param in layer.params.items()})
    assert analytic["dh0"].shape == h0.shape
    for name in ("dx", "dh0", "dWx", "dWh", "db"):
        assert rel_error(analytic[name], numeric[name]) <= TOL, name


@pytest.mark.parametrize("step", ["first", "last"])
def test_gradient_from_a_single_time_step(step):
    # Only one h_t feeds the loss (e.g. a classifier on the last state): the other steps get 0.
    # Short sequence: over many steps the gradient of the first inputs vanishes to ~1e-5, where
    # round-off alone exceeds the relative tolerance.
    layer, x, h0, rng = _problem((2, 3, 3, 4), 8)
    dh = np.zeros((2, 3, 4))
    t = 0 if step == "first" else -1
    dh[:, t] = rng.standard_normal((2, 4))
    layer.forward(x, h0)
    dx = layer.backward(dh)
    numeric = numerical_gradient_array(lambda x_: layer.forward(x_, h0), x, dh)
    assert rel_error(dx, numeric) <= TOL
    if step == "first":
        # h_0..h_t do not depend on later inputs: no gradient reaches them (causality).
        assert np.all(dx[:, 1:] == 0.0)
    else:
        assert np.all(np.abs(dx) > 0.0)  # the last state depends on every input


def test_gradients_flow_back_through_time():
    # With dh at every step, dx at step 0 collects contributions from all later steps, so it differs
    # from what the step-0 gradient alone gives.
    layer, x, h0, rng = _problem((2, 4, 3, 3), 0)
    dh = rng.standard_normal((2, 4, 3))
    layer.forward(x, h0)
    dx_all = layer.backward(dh)
    dh_first = np.zeros_like(dh)
    dh_first[:, 0] = dh[:, 0]
    layer.forward(x, h0)
    dx_first = layer.backward(dh_first)
    assert not np.allclose(dx_all[:, 0], dx_first[:, 0])


def test_grads_are_overwritten_in_place_not_accumulated():
    layer, x, h0, rng = _problem((2, 3, 2, 3), 0)
    grads = dict(layer.grads)
    dh = rng.standard_normal((2, 3, 3))
    layer.forward(x, h0)
    layer.backward(dh)
    first = {key: grad.copy() for key, grad in layer.grads.items()}
    layer.forward(x, h0)
    layer.backward(dh)
    for key, grad in layer.grads.items():
        assert grad is grads[key]
        np.testing.assert_array_equal(grad, first[key])


def test_init_shapes_bounds_and_seed():
    layer = RNN(3, 16, rng=0)
    assert layer.params["Wx"].shape == (3, 16)
    assert layer.params["Wh"].shape == (16, 16)
    assert layer.params["b"].shape == (16,)
    for param in layer.params.values():
        assert param.dtype == np.float64
        assert np.all(np.abs(param) <= 1 / np.sqrt(16))
    assert np.abs(layer.params["Wh"]).max() > 0.2  # uses the whole range 1/sqrt(16) = 0.25
    np.testing.assert_array_equal(layer.params["Wh"], RNN(3, 16, rng=0).params["Wh"])
    assert layer.dh0 is None


# --- errors ---------------------------------------------------------------------------------------

def test_forward_rejects_wrong_shapes():
    layer = RNN(3, 4)
    with pytest.raises(ValueError, match=r"RNN\(3 -> 4\).*\(N, T, 3\).*\(2, 3\)"):
        layer.forward(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"RNN\(3 -> 4\).*\(N, T, 3\).*\(2, 5, 2\)"):
        layer.forward(np.zeros((2, 5, 2)))
    with pytest.raises(ValueError, match=r"RNN\(3 -> 4\).*h0.*\(2, 4\).*\(2, 3\)"):
        layer.forward(np.zeros((2, 5, 3)), h0=np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"RNN\(3 -> 4\).*h0.*\(2, 4\).*\(4,\)"):
        layer.forward(np.zeros((2, 5, 3)), h0=np.zeros(4))
    with pytest.raises(ValueError, match=r"RNN\(3 -> 4\).*time step"):
        layer.forward(np.zeros((2, 0, 3)))
    with pytest.raises(ValueError, match="dtype"):
        layer.forward(np.array([[["a", "b", "c"]]]))


def test_backward_checks():
    layer = RNN(3, 4)
    with pytest.raises(RuntimeError, match="forward before backward"):
        layer.backward(np.zeros((2, 5, 4)))
    layer.forward(np.zeros((2, 5, 3)))
    with pytest.raises(ValueError, match=r"RNN\(3 -> 4\).*\(2, 5, 4\).*\(2, 4\)"):
        layer.backward(np.zeros((2, 4)))


@pytest.mark.parametrize("args", [(0, 4), (3, 0), (3.5, 4), (3, True)])
def test_constructor_rejects_bad_sizes(args):
    with pytest.raises(ValueError, match="RNN"):
        RNN(*args)


def test_matches_pytorch_rnn():
    torch = pytest.importorskip("torch")
    layer, x, h0, rng = _problem((3, 5, 4, 6), 0)
    h = layer.forward(x, h0)
    dh = rng.standard_normal(h.shape)
    dx = layer.backward(dh)
    ref = torch.nn.RNN(4, 6, batch_first=True).double()
    with torch.no_grad():  # nnlib's weights are the transposes; one bias stands for both
        ref.weight_ih_l0.copy_(torch.tensor(layer.params["Wx"].T))
        ref.weight_hh_l0.copy_(torch.tensor(layer.params["Wh"].T))
        ref.bias_ih_l0.copy_(torch.tensor(layer.params["b"]))
        ref.bias_hh_l0.zero_()
    x_t = torch.tensor(x, requires_grad=True)
    h0_t = torch.tensor(h0[None], requires_grad=True)
    h_t, _ = ref(x_t, h0_t)
    h_t.backward(torch.tensor(dh))
    np.testing.assert_allclose(h, h_t.detach().numpy(), rtol=0, atol=1e-14)
    np.testing.assert_allclose(dx, x_t.grad.numpy(), rtol=0, atol=1e-13)
    np.testing.assert_allclose(layer.dh0, h0_t.grad.numpy()[0], rtol=0, atol=1e-13)
    np.testing.assert_allclose(layer.grads["Wx"], ref.weight_ih_l0.grad.numpy().T, atol=1e-13)
    np.testing.assert_allclose(layer.grads["Wh"], ref.weight_hh_l0.grad.numpy().T, atol=1e-13)
    np.testing.assert_allclose(layer.grads["b"], ref.bias_ih_l0.grad.numpy(), atol=1e-13)


def test_last_time_step_selects_and_scatters_back():
    from nnlib.gradcheck import check_layer
    from nnlib.rnn import LastTimeStep

    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    layer = LastTimeStep()
    np.testing.assert_array_equal(layer.forward(x), x[:, -1])
    grad = layer.backward(np.ones((2, 4)))
    assert grad[:, :-1].sum() == 0 and grad[:, -1].sum() == 8
    assert check_layer(layer, x).passed
    with pytest.raises(ValueError, match=r"LastTimeStep\(\): expected input of shape \(N, T, H\)"):
        layer.forward(np.zeros((2, 3)))


# --- LSTM -----------------------------------------------------------------------------------------

from nnlib.rnn import LSTM  # noqa: E402

# The LSTM's gradients are checked at 1e-6 with nonzero initial states. From h0 = 0 some entries
# of dWh are built from states of 1e-4 or less, where the centred difference's round-off alone
# reaches a few 1e-6 of relative error: that check (check_layer) uses 1e-5. A wrong term is off
# by 1e-2 or more.
LSTM_TOL = 1e-6
LSTM_TOL_FROM_ZERO = 1e-5


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def _lstm_unrolled(x, h0, c0, Wx, Wh, b):
    """The LSTM written out step by step, independently of nnlib (gate order i, f, g, o)."""
    H = h0.shape[1]
    h, c, states = h0, c0, []
    for t in range(x.shape[1]):
        a = x[:, t] @ Wx + h @ Wh + b
        i, f, o = _sigmoid(a[:, :H]), _sigmoid(a[:, H:2 * H]), _sigmoid(a[:, 3 * H:])
        g = np.tanh(a[:, 2 * H:3 * H])
        c = f * c + i * g
        h = o * np.tanh(c)
        states.append(h)
    return np.stack(states, axis=1)


def _lstm_problem(config, seed):
    N, T, D, H = config
    rng = np.random.default_rng(seed)
    layer = LSTM(D, H, rng=rng)
    x = rng.standard_normal((N, T, D))
    h0, c0 = rng.standard_normal((N, H)), rng.standard_normal((N, H))
    return layer, x, h0, c0, rng


@pytest.mark.parametrize("config", CONFIGS, ids=CONFIG_IDS)
def test_lstm_forward_equals_hand_unrolled_loop(config):
    layer, x, h0, c0, _ = _lstm_problem(config, 0)
    p = layer.params
    h = layer.forward(x, h0, c0)
    assert h.shape == (config[0], config[1], config[3])
    np.testing.assert_allclose(h, _lstm_unrolled(x, h0, c0, p["Wx"], p["Wh"], p["b"]),
                               rtol=0, atol=1e-14)
    zeros = np.zeros_like(h0)  # h0 and c0 default to zeros
    np.testing.assert_allclose(layer.forward(x), _lstm_unrolled(x, zeros, zeros, p["Wx"], p["Wh"],
                                                                p["b"]), rtol=0, atol=1e-14)


def test_lstm_forward_hand_computed_scalar_example():
    # H = 1: the four gates are the four columns; W_h = 0 except the forget gate's.
    layer = LSTM(1, 1, rng=0)
    layer.params["Wx"][...] = [[1.0, 0.0, 2.0, -1.0]]
    layer.params["Wh"][...] = [[0.0, 0.5, 0.0, 0.0]]
    layer.params["b"][...] = [0.0, 1.0, 0.0, 0.5]
    h = layer.forward(np.array([[[1.0], [0.0]]]), h0=np.array([[0.0]]), c0=np.array([[0.4]]))
    s = _sigmoid
    c1 = s(1.0) * 0.4 + s(1.0) * np.tanh(2.0)
    h1 = s(-0.5) * np.tanh(c1)
    c2 = s(1.0 + 0.5 * h1) * c1 + 0.5 * np.tanh(0.0)
    h2 = s(0.5) * np.tanh(c2)
    np.testing.assert_allclose(h[0, :, 0], [h1, h2], rtol=0, atol=1e-15)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("config", CONFIGS, ids=CONFIG_IDS)
def test_lstm_gradient_check_of_every_parameter_dx_dh0_and_dc0(config, seed):
    layer, x, h0, c0, rng = _lstm_problem(config, seed)
    dh = rng.standard_normal((config[0], config[1], config[3]))  # upstream gradient at every step
    layer.forward(x, h0, c0)
    dx = layer.backward(dh)
    analytic = {"dx": dx, "dh0": layer.dh0.copy(), "dc0": layer.dc0.copy()}
    analytic.update({"d" + key: grad.copy() for key, grad in layer.grads.items()})

    def loss(_):
        return np.sum(layer.forward(x, h0, c0) * dh)

    numeric = {"dx": numerical_gradient(loss, x), "dh0": numerical_gradient(loss, h0),
               "dc0": numerical_gradient(loss, c0)}
    numeric.update({"d" + key: numerical_gradient(loss, param)
                    for key, param in layer.params.items()})
    assert set(layer.grads) == {"Wx", "Wh", "b"}
    for name in ("dx", "dh0", "dc0", "dWx", "dWh", "db"):
        assert analytic[name].shape == numeric[name].shape, name
        assert rel_error(analytic[name], numeric[name]) <= LSTM_TOL, name


@pytest.mark.parametrize("seed", SEEDS)
def test_lstm_check_layer_with_the_last_state_only(seed):
    from nnlib.layers import Sequential
    from nnlib.rnn import LastTimeStep

    x = np.random.default_rng(seed).standard_normal((3, 6, 2))
    report = check_layer(Sequential(LSTM(2, 4, rng=seed), LastTimeStep()), x, seed=seed,
                         tol=LSTM_TOL_FROM_ZERO)
    assert report, str(report)


def test_lstm_cell_path_carries_the_gradient_when_wh_is_zero():
    # With W_h = 0 the hidden states do not feed the next step: everything the first input hears
    # from a loss on the last state comes back along the cell state, multiplied by each f_t.
    layer, x, h0, c0, rng = _lstm_problem((2, 5, 3, 4), 1)
    layer.params["Wh"][...] = 0.0
    dh = np.zeros((2, 5, 4))
    dh[:, -1] = rng.standard_normal((2, 4))
    layer.forward(x, h0, c0)
    dx = layer.backward(dh)
    assert np.all(np.abs(dx[:, 0]) > 0)
    numeric = numerical_gradient_array(lambda x_: layer.forward(x_, h0, c0), x, dh)
    assert rel_error(dx, numeric) <= LSTM_TOL
    # A closed forget gate (f = 0) cuts that path: the earlier inputs then get nothing.
    layer.params["b"][4:8] = -1e3
    layer.forward(x, h0, c0)
    dx = layer.backward(dh)
    assert np.all(dx[:, :-1] == 0.0) and np.all(layer.dc0 == 0.0)


def test_lstm_grads_are_overwritten_in_place_not_accumulated():
    layer, x, h0, c0, rng = _lstm_problem((2, 3, 2, 3), 0)
    grads = dict(layer.grads)
    dh = rng.standard_normal((2, 3, 3))
    layer.forward(x, h0, c0)
    layer.backward(dh)
    first = {key: grad.copy() for key, grad in layer.grads.items()}
    layer.forward(x, h0, c0)
    layer.backward(dh)
    for key, grad in layer.grads.items():
        assert grad is grads[key]
        np.testing.assert_array_equal(grad, first[key])


def test_lstm_init_shapes_bounds_and_seed():
    layer = LSTM(3, 16, rng=0)
    assert layer.params["Wx"].shape == (3, 64)
    assert layer.params["Wh"].shape == (16, 64)
    assert layer.params["b"].shape == (64,)
    for param in layer.params.values():
        assert param.dtype == np.float64
        assert np.all(np.abs(param) <= 1 / np.sqrt(16))
    assert np.abs(layer.params["Wh"]).max() > 0.2  # uses the whole range 1/sqrt(16) = 0.25
    np.testing.assert_array_equal(layer.params["Wh"], LSTM(3, 16, rng=0).params["Wh"])
    assert layer.dh0 is None and layer.dc0 is None


def test_lstm_rejects_wrong_shapes():
    layer = LSTM(3, 4)
    with pytest.raises(ValueError, match=r"LSTM\(3 -> 4\).*\(N, T, 3\).*\(2, 5, 2\)"):
        layer.forward(np.zeros((2, 5, 2)))
    with pytest.raises(ValueError, match=r"LSTM\(3 -> 4\).*c0.*\(2, 4\).*\(2, 3\)"):
        layer.forward(np.zeros((2, 5, 3)), c0=np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"LSTM\(3 -> 4\).*time step"):
        layer.forward(np.zeros((2, 0, 3)))
    with pytest.raises(RuntimeError, match="forward before backward"):
        layer.backward(np.zeros((2, 5, 4)))
    with pytest.raises(ValueError, match="LSTM"):
        LSTM(3, 0)


def test_lstm_matches_pytorch_lstm():
    torch = pytest.importorskip("torch")
    layer, x, h0, c0, rng = _lstm_problem((3, 5, 4, 6), 0)
    h = layer.forward(x, h0, c0)
    dh = rng.standard_normal(h.shape)
    dx = layer.backward(dh)
    ref = torch.nn.LSTM(4, 6, batch_first=True).double()
    with torch.no_grad():  # nnlib's weights are the transposes; one bias stands for both
        ref.weight_ih_l0.copy_(torch.tensor(layer.params["Wx"].T))
        ref.weight_hh_l0.copy_(torch.tensor(layer.params["Wh"].T))
        ref.bias_ih_l0.copy_(torch.tensor(layer.params["b"]))
        ref.bias_hh_l0.zero_()
    x_t = torch.tensor(x, requires_grad=True)
    h0_t = torch.tensor(h0[None], requires_grad=True)
    c0_t = torch.tensor(c0[None], requires_grad=True)
    h_t, _ = ref(x_t, (h0_t, c0_t))
    h_t.backward(torch.tensor(dh))
    np.testing.assert_allclose(h, h_t.detach().numpy(), rtol=0, atol=1e-14)
    np.testing.assert_allclose(dx, x_t.grad.numpy(), rtol=0, atol=1e-13)
    np.testing.assert_allclose(layer.dh0, h0_t.grad.numpy()[0], rtol=0, atol=1e-13)
    np.testing.assert_allclose(layer.dc0, c0_t.grad.numpy()[0], rtol=0, atol=1e-13)
    np.testing.assert_allclose(layer.grads["Wx"], ref.weight_ih_l0.grad.numpy().T, atol=1e-13)
    np.testing.assert_allclose(layer.grads["Wh"], ref.weight_hh_l0.grad.numpy().T, atol=1e-13)
    np.testing.assert_allclose(layer.grads["b"], ref.bias_ih_l0.grad.numpy(), atol=1e-13)
