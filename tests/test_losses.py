"""Losses: values against hand-computed numbers and PyTorch's conventions, gradients, stability."""
import numpy as np
import pytest

from nnlib.gradcheck import numerical_gradient, rel_error
from nnlib.losses import BCELoss, CrossEntropyLoss, MSELoss

TOL = 1e-7


def loss_gradient_error(loss, pred, target):
    loss.forward(pred, target)
    analytic = loss.backward()
    numeric = numerical_gradient(lambda p: loss.forward(p, target), pred.copy())
    return rel_error(analytic, numeric)


@pytest.mark.parametrize("shape", [(1,), (1, 1), (5, 3), (2, 3, 4)])
@pytest.mark.parametrize("seed", [0, 1])
def test_mse_value_and_gradient(shape, seed):
    rng = np.random.default_rng(seed)
    pred, target = rng.standard_normal(shape), rng.standard_normal(shape)
    assert MSELoss()(pred, target) == pytest.approx(np.sum((pred - target) ** 2) / pred.size, rel=1e-12)
    assert loss_gradient_error(MSELoss(), pred, target) <= TOL


def test_mse_hand_computed():
    loss = MSELoss()
    assert loss(np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 0.0])) == pytest.approx(13 / 3)
    np.testing.assert_allclose(loss.backward(), [0.0, 4 / 3, 2.0])


@pytest.mark.parametrize("shape", [(1,), (6,), (4, 1)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bce_value_and_gradient(shape, seed):
    rng = np.random.default_rng(seed)
    probs = rng.uniform(0.05, 0.95, shape)
    targets = rng.integers(0, 2, shape).astype(float)
    expected = -np.mean(targets * np.log(probs) + (1 - targets) * np.log(1 - probs))
    assert BCELoss()(probs, targets) == pytest.approx(expected, rel=1e-12)
    assert loss_gradient_error(BCELoss(), probs, targets) <= TOL


def test_bce_clamps_log_at_minus_100_like_pytorch():
    loss = BCELoss()
    # A confident wrong answer: log(0) is clamped to -100, so the loss is 100/2 for 1 of 2 examples.
    assert loss(np.array([0.0, 1.0]), np.array([1.0, 1.0])) == pytest.approx(50.0)
    assert np.all(np.isfinite(loss.backward()))


def test_bce_refuses_logits():
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\].*apply a sigmoid"):
        BCELoss()(np.array([2.0, -1.0]), np.array([1.0, 0.0]))


@pytest.mark.parametrize("n, k", [(1, 2), (5, 3), (4, 10)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cross_entropy_value_and_gradient(n, k, seed):
    rng = np.random.default_rng(seed)
    # Unit-scale logits: with very confident logits some gradient entries are ~1e-5, where the
    # centred difference's round-off alone exceeds 1e-7 (stability is tested separately below).
    logits = rng.standard_normal((n, k))
    labels = rng.integers(0, k, n)
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    expected = -np.mean(np.log(probs[np.arange(n), labels]))
    loss = CrossEntropyLoss()
    assert loss(logits, labels) == pytest.approx(expected, rel=1e-12)
    onehot = np.eye(k)[labels]
    np.testing.assert_allclose(loss.backward(), (probs - onehot) / n, rtol=1e-12, atol=1e-15)
    assert loss_gradient_error(CrossEntropyLoss(), logits, labels) <= TOL


def test_cross_entropy_gradient_is_p_minus_t_and_not_the_erratum():
    # The seed deck's erratum, (o - t) o (1 - o), fails the gradient check; o - t passes.
    rng = np.random.default_rng(0)
    logits, labels = rng.standard_normal((3, 4)), np.array([0, 3, 1])
    loss = CrossEntropyLoss()
    loss(logits, labels)
    numeric = numerical_gradient(lambda z: loss.forward(z, labels), logits.copy())
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    onehot = np.eye(4)[labels]
    assert rel_error((probs - onehot) / 3, numeric) <= TOL
    assert rel_error((probs - onehot) * probs * (1 - probs) / 3, numeric) > 1e-2


def test_cross_entropy_stable_at_logits_of_1000():
    logits = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, 1000.0], [1000.0, 1000.0, 0.0]])
    labels = np.array([0, 0, 1])
    loss = CrossEntropyLoss()
    value = loss(logits, labels)
    # Example 1 is right (loss 0), example 2 wrong by 2000, example 3 a tie between two: log 2.
    assert value == pytest.approx((0 + 2000 + np.log(2)) / 3)
    grad = loss.backward()
    np.testing.assert_allclose(grad, np.array([[0, 0, 0], [-1, 0, 1], [0.5, -0.5, 0]]) / 3, atol=1e-15)


@pytest.mark.parametrize("logits, labels, message", [
    (np.zeros(3), np.array([0]), r"shape \(N, K\)"),
    (np.zeros((2, 3)), np.array([0, 1, 2]), r"labels of shape \(2,\)"),
    (np.zeros((2, 3)), np.array([0.0, 1.0]), "must be integers"),
    (np.zeros((2, 3)), np.array([0, 3]), r"0\.\.2"),
])
def test_cross_entropy_bad_input(logits, labels, message):
    with pytest.raises(ValueError, match=message):
        CrossEntropyLoss()(logits, labels)


def test_shape_mismatch_and_order_errors():
    with pytest.raises(ValueError, match=r"MSELoss: prediction has shape \(3,\) but target has shape \(3, 1\)"):
        MSELoss()(np.zeros(3), np.zeros((3, 1)))
    with pytest.raises(RuntimeError, match="forward before backward"):
        CrossEntropyLoss().backward()
