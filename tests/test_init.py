"""Glorot and He initialisation: shapes, bounds, distribution and seeding."""
import numpy as np
import pytest

from nnlib.init import glorot_uniform, he_normal

INITIALISERS = [glorot_uniform, he_normal]


@pytest.mark.parametrize("init", INITIALISERS)
@pytest.mark.parametrize("fan_in, fan_out", [(1, 1), (3, 5), (7, 2), (64, 32)])
def test_shape_and_dtype(init, fan_in, fan_out):
    weights = init(fan_in, fan_out, rng=0)
    assert weights.shape == (fan_in, fan_out)
    assert weights.dtype == np.float64


def test_glorot_uniform_bounds_and_variance():
    fan_in, fan_out = 400, 600
    bound = np.sqrt(6.0 / (fan_in + fan_out))
    weights = glorot_uniform(fan_in, fan_out, rng=np.random.default_rng(1))
    assert np.all(np.abs(weights) <= bound)
    # 240,000 draws fill the interval up to its ends
    assert weights.max() > 0.999 * bound and weights.min() < -0.999 * bound
    assert abs(weights.mean()) < 1e-3
    # Var U(-a, a) = a^2 / 3 = 2 / (fan_in + fan_out); the estimate's relative sd is about 0.2 %
    assert weights.var() == pytest.approx(2.0 / (fan_in + fan_out), rel=0.02)


def test_he_normal_variance_uses_fan_in():
    fan_in, fan_out = 500, 300
    weights = he_normal(fan_in, fan_out, rng=np.random.default_rng(2))
    assert abs(weights.mean()) < 1e-3
    # the estimate's relative sd is about sqrt(2 / 150,000) = 0.4 %; 2 / fan_out would be 67 % off
    assert weights.var() == pytest.approx(2.0 / fan_in, rel=0.03)


def test_he_normal_is_gaussian_not_uniform():
    weights = he_normal(400, 400, rng=np.random.default_rng(3))
    std = np.sqrt(2.0 / 400)
    # P(|z| > 2) = 4.55 % for a normal; a uniform of the same variance has none beyond 1.73 sd
    assert np.mean(np.abs(weights) > 2 * std) == pytest.approx(0.0455, abs=0.004)


@pytest.mark.parametrize("init", INITIALISERS)
def test_same_seed_same_weights(init):
    np.testing.assert_array_equal(init(6, 4, rng=7), init(6, 4, rng=7))
    np.testing.assert_array_equal(init(6, 4, rng=np.random.default_rng(7)),
                                  init(6, 4, rng=np.random.default_rng(7)))


@pytest.mark.parametrize("init", INITIALISERS)
def test_different_seeds_or_draws_differ(init):
    assert not np.array_equal(init(6, 4, rng=7), init(6, 4, rng=8))
    rng = np.random.default_rng(7)
    first, second = init(6, 4, rng=rng), init(6, 4, rng=rng)  # the generator advances
    assert not np.array_equal(first, second)
    assert not np.array_equal(init(6, 4), init(6, 4))  # rng=None: fresh entropy each call


def test_uses_only_the_given_generator():
    state = np.random.get_state()
    glorot_uniform(3, 3, rng=0)
    he_normal(3, 3, rng=0)
    after = np.random.get_state()
    assert state[0] == after[0] and np.array_equal(state[1], after[1])


@pytest.mark.parametrize("init", INITIALISERS)
@pytest.mark.parametrize("fan_in, fan_out", [(0, 3), (3, -1), (2.5, 3), (True, 3), ("3", 3)])
def test_invalid_fans_raise(init, fan_in, fan_out):
    with pytest.raises(ValueError, match=init.__name__):
        init(fan_in, fan_out)
