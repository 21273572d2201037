"""Optimizers against hand-computed steps of torch.optim's update rules, and gradient clipping.

Every expected value below is written out from the update formulas for scalar parameters (arrays of
shape (1,)), so a wrong factor, a missing bias correction or a zero-initialised buffer shows up as a
different number.
"""
import numpy as np
import pytest

from nnlib.module import Module
from nnlib.optim import SGD, Adagrad, Adam, Optimizer, RMSprop, clip_grad_norm


def scalar_pair(value, grad=0.0):
    return np.array([value], dtype=np.float64), np.array([grad], dtype=np.float64)


def run_steps(optimizer, grads):
    """Apply one step per gradient value to the single scalar parameter; return its trajectory."""
    (param, grad), = optimizer.params
    trajectory = []
    for value in grads:
        grad[...] = value
        optimizer.step()
        trajectory.append(float(param[0]))
    return trajectory


# --- SGD ---------------------------------------------------------------------------------------

def test_sgd_plain_steps():
    opt = SGD([scalar_pair(1.0)], lr=0.1)
    assert run_steps(opt, [0.5, 0.5, -2.0]) == pytest.approx([0.95, 0.90, 1.10], abs=1e-15)


def test_sgd_momentum_buffer_starts_at_first_gradient():
    opt = SGD([scalar_pair(1.0)], lr=0.1, momentum=0.9)
    # b1 = g1 = 1.0; b2 = 0.9 * 1.0 + 0.5 = 1.4; b3 = 0.9 * 1.4 - 1.0 = 0.26
    expected = [1.0 - 0.1 * 1.0, 0.9 - 0.1 * 1.4, 0.76 - 0.1 * 0.26]
    assert run_steps(opt, [1.0, 0.5, -1.0]) == pytest.approx(expected, abs=1e-14)
    assert opt.state[0]["momentum_buffer"] == pytest.approx([0.26], abs=1e-14)


def test_sgd_weight_decay_adds_to_gradient_before_momentum():
    opt = SGD([scalar_pair(2.0)], lr=0.1, momentum=0.9, weight_decay=0.1)
    # step 1: d = 0.5 + 0.1 * 2.0 = 0.7 = b1, theta = 2.0 - 0.07 = 1.93
    # step 2: d = 0.5 + 0.1 * 1.93 = 0.693, b2 = 0.9 * 0.7 + 0.693 = 1.323, theta = 1.93 - 0.1323
    assert run_steps(opt, [0.5, 0.5]) == pytest.approx([1.93, 1.7977], abs=1e-14)


def test_sgd_weight_decay_without_momentum_leaves_grad_array_alone():
    param, grad = scalar_pair(2.0, 0.5)
    opt = SGD([(param, grad)], lr=0.1, weight_decay=0.1)
    opt.step()
    assert param[0] == pytest.approx(2.0 - 0.1 * (0.5 + 0.1 * 2.0), abs=1e-15)
    assert grad[0] == 0.5  # the decay term goes into the step, not into the stored gradient
    assert "momentum_buffer" not in opt.state[0]


def test_sgd_momentum_direction_returns_buffer():
    opt = SGD([scalar_pair(0.0)], lr=0.1, momentum=0.5)
    state = {}
    first = opt.momentum_direction(np.array([1.0]), np.array([2.0]), state)
    second = opt.momentum_direction(np.array([1.0]), np.array([-1.0]), state)
    np.testing.assert_allclose(first, [2.0])
    np.testing.assert_allclose(second, [0.5 * 2.0 - 1.0])
    np.testing.assert_allclose(state["momentum_buffer"], [0.0])


# --- Adagrad, RMSprop, Adam --------------------------------------------------------------------

def test_adagrad_steps():
    opt = Adagrad([scalar_pair(1.0)], lr=0.1)
    # s1 = 4, s2 = 4 + 1 = 5, s3 = 5 + 9 = 14; eps = 1e-10 added after the square root
    theta1 = 1.0 - 0.1 * 2.0 / (np.sqrt(4.0) + 1e-10)
    theta2 = theta1 - 0.1 * 1.0 / (np.sqrt(5.0) + 1e-10)
    theta3 = theta2 - 0.1 * -3.0 / (np.sqrt(14.0) + 1e-10)
    assert run_steps(opt, [2.0, 1.0, -3.0]) == pytest.approx([theta1, theta2, theta3], abs=1e-14)
    assert opt.state[0]["sum"] == pytest.approx([14.0])
    assert opt.state[0]["step"] == 3


def test_adagrad_weight_decay():
    opt = Adagrad([scalar_pair(1.0)], lr=0.1, weight_decay=0.5)
    # g1 = 2 + 0.5 * 1 = 2.5, s1 = 6.25, theta1 = 1 - 0.1 * 2.5 / 2.5 (about 0.9)
    theta1 = 1.0 - 0.1 * 2.5 / (2.5 + 1e-10)
    # g2 = 2 + 0.5 * theta1 (about 2.45), s2 = 6.25 + g2^2
    g2 = 2.0 + 0.5 * theta1
    theta2 = theta1 - 0.1 * g2 / (np.sqrt(6.25 + g2 ** 2) + 1e-10)
    assert run_steps(opt, [2.0, 2.0]) == pytest.approx([theta1, theta2], abs=1e-14)


def test_rmsprop_steps():
    opt = RMSprop([scalar_pair(1.0)], lr=0.01, alpha=0.99)
    # v1 = 0.01 * 4 = 0.04 (no bias correction: the first step is 10 * lr), v2 = 0.99 * 0.04 + 0.01
    v1, v2 = 0.04, 0.99 * 0.04 + 0.01 * 1.0
    theta1 = 1.0 - 0.01 * 2.0 / (np.sqrt(v1) + 1e-8)
    theta2 = theta1 - 0.01 * 1.0 / (np.sqrt(v2) + 1e-8)
    assert run_steps(opt, [2.0, 1.0]) == pytest.approx([theta1, theta2], abs=1e-14)
    assert theta1 == pytest.approx(0.9, abs=1e-6)
    assert opt.state[0]["square_avg"] == pytest.approx([v2], abs=1e-15)


def test_rmsprop_weight_decay():
    opt = RMSprop([scalar_pair(1.0)], lr=0.01, alpha=0.9, weight_decay=1.0)
    # g1 = 1 + 1 * 1 = 2, v1 = 0.1 * 4 = 0.4
    theta1 = 1.0 - 0.01 * 2.0 / (np.sqrt(0.4) + 1e-8)
    g2 = 1.0 + theta1
    theta2 = theta1 - 0.01 * g2 / (np.sqrt(0.9 * 0.4 + 0.1 * g2 ** 2) + 1e-8)
    assert run_steps(opt, [1.0, 1.0]) == pytest.approx([theta1, theta2], abs=1e-14)


def test_adam_bias_correction_steps_one_two_three():
    opt = Adam([scalar_pair(1.0)], lr=0.1)
    # m1 = 0.1 * 2 = 0.2, v1 = 0.001 * 4 = 0.004: m_hat = 2, v_hat = 4, a step of lr * sign(g)
    theta1 = 1.0 - 0.1 * 2.0 / (2.0 + 1e-8)
    # m2 = 0.9 * 0.2 - 0.1 = 0.08, v2 = 0.999 * 0.004 + 0.001 = 0.004996
    m2_hat, v2_hat = 0.08 / (1 - 0.9 ** 2), 0.004996 / (1 - 0.999 ** 2)
    theta2 = theta1 - 0.1 * m2_hat / (np.sqrt(v2_hat) + 1e-8)
    # m3 = 0.9 * 0.08 + 0.1 * 0.5 = 0.122, v3 = 0.999 * 0.004996 + 0.001 * 0.25
    m3_hat = 0.122 / (1 - 0.9 ** 3)
    v3_hat = (0.999 * 0.004996 + 0.00025) / (1 - 0.999 ** 3)
    theta3 = theta2 - 0.1 * m3_hat / (np.sqrt(v3_hat) + 1e-8)
    assert run_steps(opt, [2.0, -1.0, 0.5]) == pytest.approx([theta1, theta2, theta3], abs=1e-13)
    assert opt.state[0]["step"] == 3
    assert opt.state[0]["exp_avg"] == pytest.approx([0.122], abs=1e-15)
    assert opt.state[0]["exp_avg_sq"] == pytest.approx([0.999 * 0.004996 + 0.00025], abs=1e-15)


def test_adam_first_step_moves_every_coordinate_by_lr_times_sign():
    grads = np.array([1e-3, -5.0, 100.0, -0.02])
    param = np.zeros(4)
    opt = Adam([(param, grads.copy())], lr=0.01)
    opt.step()
    # eps perturbs the smallest coordinate by about eps / 1e-3 = 1e-5 relatively
    np.testing.assert_allclose(param, -0.01 * np.sign(grads), rtol=2e-5)


def test_adam_weight_decay():
    opt = Adam([scalar_pair(1.0)], lr=0.1, betas=(0.5, 0.75), weight_decay=0.2)
    # g1 = 1 + 0.2 * 1 = 1.2: the first step is lr * sign(g1)
    theta1 = 1.0 - 0.1 * 1.2 / (1.2 + 1e-8)
    g2 = 1.0 + 0.2 * theta1
    m2 = 0.5 * (0.5 * 1.2) + 0.5 * g2
    v2 = 0.75 * (0.25 * 1.2 ** 2) + 0.25 * g2 ** 2
    theta2 = theta1 - 0.1 * (m2 / (1 - 0.5 ** 2)) / (np.sqrt(v2 / (1 - 0.75 ** 2)) + 1e-8)
    assert run_steps(opt, [1.0, 1.0]) == pytest.approx([theta1, theta2], abs=1e-14)


# --- shared behaviour --------------------------------------------------------------------------

class TwoParameterModel(Module):
    def __init__(self):
        super().__init__()
        self._add_parameter("W", np.arange(6.0).reshape(2, 3))
        self._add_parameter("b", np.array([1.0, -1.0, 0.5]))


OPTIMIZERS = [
    lambda params: SGD(params, lr=0.1),
    lambda params: SGD(params, lr=0.1, momentum=0.9, weight_decay=0.01),
    lambda params: Adagrad(params, lr=0.1, weight_decay=0.01),
    lambda params: RMSprop(params, lr=0.01, weight_decay=0.01),
    lambda params: Adam(params, lr=0.01, weight_decay=0.01),
]


@pytest.mark.parametrize("make", OPTIMIZERS)
def test_updates_the_model_arrays_in_place(make):
    model = TwoParameterModel()
    W, b = model.params["W"], model.params["b"]
    W_before, b_before = W.copy(), b.copy()
    opt = make(model.parameters())
    model.grads["W"] = np.ones((2, 3))
    model.grads["b"] = np.array([0.5, -0.5, 0.0])
    opt.step()
    opt.step()
    assert model.params["W"] is W and model.params["b"] is b
    assert np.all(W < W_before)  # positive gradient, small decay: every entry went down
    assert b[0] < b_before[0] and b[1] > b_before[1]


@pytest.mark.parametrize("make", OPTIMIZERS)
def test_each_parameter_follows_its_own_gradient_and_state(make):
    """Several parameters in one optimizer move exactly as each would alone."""
    shapes = [(3, 2), (2,), (1, 4)]
    rng = np.random.default_rng(0)
    values = [rng.standard_normal(shape) for shape in shapes]
    grads = [[rng.standard_normal(shape) for shape in shapes] for _ in range(3)]

    together = [(v.copy(), np.zeros_like(v)) for v in values]
    opt = make(together)
    for step_grads in grads:
        for (_, grad), g in zip(together, step_grads):
            grad[...] = g
        opt.step()

    for k, value in enumerate(values):
        alone = (value.copy(), np.zeros_like(value))
        single = make([alone])
        for step_grads in grads:
            alone[1][...] = step_grads[k]
            single.step()
        np.testing.assert_array_equal(together[k][0], alone[0])
    assert sorted(opt.state) in ([], [0, 1, 2])


@pytest.mark.parametrize("make", OPTIMIZERS)
def test_zero_grad_fills_the_same_arrays_with_zero(make):
    model = TwoParameterModel()
    model.grads["W"] = np.ones((2, 3))
    model.grads["b"] = np.ones(3)
    grad_W = model.grads["W"]
    opt = make(model.parameters())
    opt.zero_grad()
    assert model.grads["W"] is grad_W
    assert not np.any(model.grads["W"]) and not np.any(model.grads["b"])


def test_state_is_created_on_first_step_under_torch_names():
    pairs = [scalar_pair(1.0, 1.0)]
    expected_keys = [
        (SGD(pairs, lr=0.1, momentum=0.9), {"momentum_buffer"}),
        (Adagrad(pairs), {"step", "sum"}),
        (RMSprop(pairs), {"step", "square_avg"}),
        (Adam(pairs), {"step", "exp_avg", "exp_avg_sq"}),
    ]
    for opt, keys in expected_keys:
        assert len(opt.state) == 0
        opt.step()
        assert set(opt.state[0]) == keys, opt


@pytest.mark.parametrize("make, value", [
    (lambda p: SGD(p, lr=-0.1), "-0.1"),
    (lambda p: SGD(p, lr=0.1, momentum=-0.5), "-0.5"),
    (lambda p: SGD(p, lr=0.1, weight_decay=-1e-4), "-0.0001"),
    (lambda p: SGD(p, lr=float("nan")), "nan"),
    (lambda p: SGD(p, lr="0.1"), "'0.1'"),
    (lambda p: Adagrad(p, lr=-1.0), "-1.0"),
    (lambda p: Adagrad(p, eps=-1e-10), "-1e-10"),
    (lambda p: RMSprop(p, alpha=-0.1), "-0.1"),
    (lambda p: RMSprop(p, alpha=1.5), "1.5"),
    (lambda p: RMSprop(p, weight_decay=-2.0), "-2.0"),
    (lambda p: Adam(p, betas=(1.0, 0.999)), "1.0"),
    (lambda p: Adam(p, betas=(0.9, -0.1)), "-0.1"),
    (lambda p: Adam(p, betas=0.9), "0.9"),
    (lambda p: Adam(p, eps=-1.0), "-1.0"),
])
def test_invalid_hyperparameters_raise_with_the_value(make, value):
    with pytest.raises(ValueError, match=value.replace(".", r"\.").replace("(", r"\(")):
        make([scalar_pair(1.0)])


@pytest.mark.parametrize("params, fragment", [
    ([], "empty"),
    (np.zeros(3), "list of"),
    ([np.zeros(3)], "pair"),
    ([(np.zeros(3), np.zeros(4))], r"\(3,\).*\(4,\)"),
    ([(np.zeros(3, dtype=np.float32), np.zeros(3, dtype=np.float32))], "float64"),
    ([(np.zeros(3), [0.0, 0.0, 0.0])], "float64"),
    (TwoParameterModel(), r"model\.parameters\(\)"),
])
def test_invalid_params_raise(params, fragment):
    with pytest.raises(ValueError, match=fragment):
        SGD(params, lr=0.1)


def test_base_optimizer_step_is_abstract():
    with pytest.raises(NotImplementedError):
        Optimizer([scalar_pair(1.0)], lr=0.1).step()


@pytest.mark.parametrize("make, steps", [
    (lambda p: SGD(p, lr=0.05), 600),
    (lambda p: SGD(p, lr=0.02, momentum=0.9), 600),
    (lambda p: Adagrad(p, lr=0.5), 2000),
    (lambda p: RMSprop(p, lr=0.01), 1000),
    (lambda p: Adam(p, lr=0.02), 2000),
])
def test_minimises_an_ill_conditioned_quadratic(make, steps):
    # f(theta) = 1/2 theta^T A theta - c^T theta, minimum at A^{-1} c = (3, -0.2)
    curvature = np.array([1.0, 20.0])
    target = np.array([3.0, -4.0])
    theta, grad = np.array([-2.0, 2.0]), np.zeros(2)
    opt = make([(theta, grad)])
    for _ in range(steps):
        grad[...] = curvature * theta - target
        opt.step()
    np.testing.assert_allclose(theta, target / curvature, atol=1e-2)


# --- gradient clipping -------------------------------------------------------------------------

def test_clip_grad_norm_scales_all_gradients_by_one_factor():
    # joint norm sqrt(3^2 + 4^2 + 12^2) = 13; per-array norms are 5 and 12
    g1, g2 = np.array([3.0, 4.0]), np.array([[12.0]])
    pairs = [(np.zeros(2), g1), (np.zeros((1, 1)), g2)]
    total = clip_grad_norm(pairs, max_norm=6.5)
    assert isinstance(total, float) and total == pytest.approx(13.0, abs=1e-12)
    factor = 6.5 / (13.0 + 1e-6)  # torch's 1e-6
    np.testing.assert_allclose(g1, [3.0 * factor, 4.0 * factor], rtol=1e-15)
    np.testing.assert_allclose(g2, [[12.0 * factor]], rtol=1e-15)
    # clipping each array to 6.5 on its own would have left g1 alone and made g2 6.5
    assert not np.allclose(g1, [3.0, 4.0]) and not np.allclose(g2, [[6.5]])
    assert np.sqrt(np.sum(g1 ** 2) + np.sum(g2 ** 2)) == pytest.approx(6.5, abs=1e-6)


def test_clip_grad_norm_leaves_small_gradients_alone():
    g1, g2 = np.array([3.0, 4.0]), np.array([[12.0]])
    total = clip_grad_norm([(np.zeros(2), g1), (np.zeros((1, 1)), g2)], max_norm=20.0)
    assert total == pytest.approx(13.0, abs=1e-12)
    np.testing.assert_array_equal(g1, [3.0, 4.0])
    np.testing.assert_array_equal(g2, [[12.0]])


def test_clip_grad_norm_keeps_array_identity_and_params():
    param, grad = np.ones((2, 2)), np.full((2, 2), 10.0)
    total = clip_grad_norm([(param, grad)], max_norm=1.0)
    assert total == pytest.approx(20.0)
    assert np.sqrt(np.sum(grad ** 2)) == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_array_equal(param, np.ones((2, 2)))


def test_clip_grad_norm_rejects_bad_arguments():
    with pytest.raises(ValueError, match="-1.0"):
        clip_grad_norm([scalar_pair(1.0, 1.0)], max_norm=-1.0)
    with pytest.raises(ValueError, match="shape"):
        clip_grad_norm([(np.zeros(2), np.zeros(3))], max_norm=1.0)
