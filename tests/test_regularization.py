"""Dropout and BatchNorm1d: statistics of the masks, gradient checks, running statistics, modes."""
import numpy as np
import pytest

from nnlib.gradcheck import check_layer
from nnlib.regularization import BatchNorm1d, Dropout

# --- Dropout -----------------------------------------------------------------------------------


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_dropout_drops_a_fraction_p_and_scales_the_rest(p):
    layer = Dropout(p, rng=0)
    x = np.random.default_rng(1).uniform(1.0, 2.0, size=(200, 500))  # no zeros of its own
    y = layer.forward(x)
    dropped = y == 0
    # 100,000 Bernoulli draws: the fraction's sd is below 0.002
    assert dropped.mean() == pytest.approx(p, abs=0.01)
    np.testing.assert_allclose(y[~dropped], x[~dropped] / (1 - p), rtol=1e-15)


@pytest.mark.parametrize("p", [0.25, 0.6])
def test_dropout_keeps_the_expectation(p):
    x = np.full((400, 250), 3.0)
    y = Dropout(p, rng=2).forward(x)
    # each y is 3 / (1 - p) or 0: mean 3, sd 3 sqrt(p / (1 - p)) <= 3.7, over 1e5 values
    assert y.mean() == pytest.approx(3.0, abs=0.05)


def test_dropout_eval_is_identity():
    layer = Dropout(0.5, rng=0).eval()
    x = np.random.default_rng(0).standard_normal((4, 3))
    np.testing.assert_array_equal(layer.forward(x), x)
    dy = np.random.default_rng(1).standard_normal((4, 3))
    np.testing.assert_array_equal(layer.backward(dy), dy)


def test_dropout_backward_uses_the_forward_mask():
    layer = Dropout(0.5, rng=3)
    x = np.random.default_rng(4).uniform(1.0, 2.0, size=(6, 7))
    y = layer.forward(x)
    mask = y / x  # exactly 0 or 2 for p = 0.5
    assert set(np.unique(mask)) == {0.0, 2.0}
    dy = np.random.default_rng(5).standard_normal((6, 7))
    np.testing.assert_array_equal(layer.backward(dy), dy * mask)
    # a second backward reuses the same mask instead of drawing a new one
    np.testing.assert_array_equal(layer.backward(dy), dy * mask)


def test_dropout_gradient_check_with_a_fixed_mask():
    layer = Dropout(0.3, rng=0)
    x = np.random.default_rng(6).standard_normal((5, 4))
    layer.forward(x)
    mask = layer.mask.copy()
    # check_layer calls forward repeatedly; freeze the mask so forward is a fixed function
    layer.forward = lambda x_: x_ * mask
    layer.mask = mask
    report = check_layer(layer, x, seed=1)
    assert report, report


def test_dropout_any_shape_and_fresh_masks():
    layer = Dropout(0.5, rng=7)
    x = np.ones((2, 3, 4, 5))
    first, second = layer.forward(x), layer.forward(x)
    assert first.shape == x.shape
    assert not np.array_equal(first, second)  # a new mask every forward pass


def test_dropout_same_seed_same_masks():
    x = np.ones((10, 10))
    np.testing.assert_array_equal(Dropout(0.5, rng=11).forward(x), Dropout(0.5, rng=11).forward(x))


def test_dropout_p_zero_is_identity_in_training():
    layer = Dropout(0.0, rng=0)
    x = np.random.default_rng(0).standard_normal((3, 4))
    np.testing.assert_array_equal(layer.forward(x), x)
    dy = np.ones((3, 4))
    np.testing.assert_array_equal(layer.backward(dy), dy)


def test_dropout_p_one_gives_zeros_without_dividing_by_zero():
    layer = Dropout(1.0, rng=0)
    x = np.random.default_rng(0).standard_normal((3, 4))
    with np.errstate(all="raise"):
        y = layer.forward(x)
        dx = layer.backward(np.ones((3, 4)))
    np.testing.assert_array_equal(y, np.zeros((3, 4)))
    np.testing.assert_array_equal(dx, np.zeros((3, 4)))
    np.testing.assert_array_equal(layer.eval().forward(x), x)


@pytest.mark.parametrize("p", [-0.1, 1.5, True, "0.5", None])
def test_dropout_rejects_invalid_p(p):
    with pytest.raises(ValueError, match="between 0 and 1"):
        Dropout(p)


def test_dropout_errors():
    layer = Dropout(0.5, rng=0)
    with pytest.raises(RuntimeError, match="forward before backward"):
        layer.backward(np.ones((2, 2)))
    layer.forward(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"Dropout\(p=0\.5\).*\(2, 3\).*\(3, 2\)"):
        layer.backward(np.ones((3, 2)))


# --- BatchNorm1d -------------------------------------------------------------------------------


def random_batchnorm(num_features, rng, eps=1e-5):
    layer = BatchNorm1d(num_features, eps=eps)
    layer.params["gamma"][...] = rng.uniform(0.5, 2.0, num_features)
    layer.params["beta"][...] = rng.standard_normal(num_features)
    return layer


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("shape", [(5, 3), (8, 1), (3, 7), (16, 4)])
def test_batchnorm_gradient_check_training(seed, shape):
    rng = np.random.default_rng(seed)
    layer = random_batchnorm(shape[1], rng)
    x = 2.0 * rng.standard_normal(shape) + 1.0
    report = check_layer(layer, x, seed=seed)
    assert report, report
    assert max(report["dx"], report["dgamma"], report["dbeta"]) <= 1e-7


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("num_features", [1, 5])
def test_batchnorm_gradient_check_batch_of_two(seed, num_features):
    # With N = 2 and a tiny eps, x_hat = +-1 whatever x is, so dx is about eps and a numerical
    # gradient of it is mostly rounding error; a large eps keeps the output a real function of x.
    rng = np.random.default_rng(seed)
    layer = random_batchnorm(num_features, rng, eps=0.5)
    report = check_layer(layer, rng.standard_normal((2, num_features)), seed=seed)
    assert report, report


@pytest.mark.parametrize("seed", [0, 1])
def test_batchnorm_gradient_check_eval(seed):
    rng = np.random.default_rng(seed)
    layer = random_batchnorm(3, rng)
    for _ in range(3):
        layer.forward(rng.standard_normal((6, 3)) * 3.0 + 2.0)
    layer.eval()
    report = check_layer(layer, rng.standard_normal((4, 3)), seed=seed)
    assert report, report
    report = check_layer(layer, rng.standard_normal((1, 3)), seed=seed)  # batch of 1 is fine here
    assert report, report


def test_batchnorm_backward_follows_the_mode_of_forward():
    rng = np.random.default_rng(3)
    layer = random_batchnorm(3, rng)
    x, dy = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    layer.forward(x)
    expected = layer.backward(dy)
    layer.forward(x)
    layer.eval()
    np.testing.assert_array_equal(layer.backward(dy), expected)


def test_batchnorm_training_output_is_normalised():
    rng = np.random.default_rng(4)
    x = rng.normal(5.0, 3.0, size=(50, 4)) * np.array([1.0, 10.0, 0.1, 2.0])
    layer = BatchNorm1d(4)
    y = layer.forward(x)
    np.testing.assert_allclose(y.mean(axis=0), 0.0, atol=1e-12)
    variance = x.var(axis=0)
    np.testing.assert_allclose(y.var(axis=0), variance / (variance + 1e-5), rtol=1e-12)

    gamma, beta = np.array([2.0, 0.5, 1.0, 3.0]), np.array([-1.0, 0.0, 4.0, 1.0])
    layer.params["gamma"][...] = gamma
    layer.params["beta"][...] = beta
    np.testing.assert_allclose(layer.forward(x), gamma * y + beta, rtol=1e-12, atol=1e-12)


def test_batchnorm_running_statistics_after_two_steps():
    layer = BatchNorm1d(2)  # momentum 0.1: running = 0.9 running + 0.1 batch statistic
    np.testing.assert_array_equal(layer.running_mean, [0.0, 0.0])
    np.testing.assert_array_equal(layer.running_var, [1.0, 1.0])
    # batch 1: mean (2, 4); unbiased variances ((1-2)^2 + (3-2)^2) / 1 = 2 and (4 + 4) / 1 = 8
    layer.forward(np.array([[1.0, 2.0], [3.0, 6.0]]))
    np.testing.assert_allclose(layer.running_mean, [0.2, 0.4], rtol=1e-15)
    np.testing.assert_allclose(layer.running_var, [0.9 + 0.2, 0.9 + 0.8], rtol=1e-15)
    # batch 2: mean (2, 1); unbiased variances (4 + 0 + 4) / 2 = 4 and (1 + 1 + 4) / 2 = 3
    layer.forward(np.array([[0.0, 0.0], [2.0, 0.0], [4.0, 3.0]]))
    np.testing.assert_allclose(layer.running_mean, [0.38, 0.46], rtol=1e-15)
    np.testing.assert_allclose(layer.running_var, [1.39, 1.83], rtol=1e-15)
    assert set(layer.params) == {"gamma", "beta"}  # running statistics are not parameters

    # evaluation: normalise with the running statistics, and leave them alone
    layer.eval()
    layer.params["gamma"][...] = [2.0, -1.0]
    layer.params["beta"][...] = [0.5, 1.0]
    x = np.array([[1.0, 1.0], [0.38, 2.0], [5.0, -3.0]])
    expected = (np.array([2.0, -1.0]) * (x - [0.38, 0.46]) / np.sqrt(np.array([1.39, 1.83]) + 1e-5)
                + [0.5, 1.0])
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-14)
    np.testing.assert_allclose(layer.forward(x[:1]), expected[:1], rtol=1e-14)
    np.testing.assert_allclose(layer.running_mean, [0.38, 0.46], rtol=1e-15)
    np.testing.assert_allclose(layer.running_var, [1.39, 1.83], rtol=1e-15)


def test_batchnorm_momentum_argument():
    layer = BatchNorm1d(1, momentum=0.5)
    layer.forward(np.array([[0.0], [2.0]]))  # mean 1, unbiased variance 2
    np.testing.assert_allclose(layer.running_mean, [0.5])
    np.testing.assert_allclose(layer.running_var, [1.5])


def test_batchnorm_batch_of_one_in_training_raises():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        BatchNorm1d(3).forward(np.ones((1, 3)))


@pytest.mark.parametrize("shape", [(4, 3), (4,), (2, 2, 2)])
def test_batchnorm_wrong_shape_raises(shape):
    with pytest.raises(ValueError, match=r"BatchNorm1d\(2.*\(N, 2\)"):
        BatchNorm1d(2).forward(np.ones(shape))


def test_batchnorm_backward_errors():
    layer = BatchNorm1d(2)
    with pytest.raises(RuntimeError, match="forward before backward"):
        layer.backward(np.ones((3, 2)))
    layer.forward(np.arange(6.0).reshape(3, 2))
    with pytest.raises(ValueError, match=r"\(3, 2\).*\(2, 3\)"):
        layer.backward(np.ones((2, 3)))


@pytest.mark.parametrize("kwargs", [
    {"num_features": 0}, {"num_features": 2.0}, {"num_features": 2, "eps": 0.0},
    {"num_features": 2, "eps": -1e-5}, {"num_features": 2, "momentum": 1.5},
    {"num_features": 2, "momentum": None},
])
def test_batchnorm_rejects_invalid_arguments(kwargs):
    with pytest.raises(ValueError, match="BatchNorm1d"):
        BatchNorm1d(**kwargs)
