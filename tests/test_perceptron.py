"""The perceptron: separates AND and OR, never XOR, and XOR after a fixed feature map."""
import numpy as np
import pytest

from nnlib.perceptron import Perceptron

BITS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
AND = np.array([0, 0, 0, 1])
OR = np.array([0, 1, 1, 1])
XOR = np.array([0, 1, 1, 0])


@pytest.mark.parametrize("labels", [AND, OR], ids=["and", "or"])
@pytest.mark.parametrize("shuffle", [False, True])
def test_separates_and_or(labels, shuffle):
    model = Perceptron(2, rng=0)
    mistakes = model.fit(BITS, labels, max_epochs=100, shuffle=shuffle)
    assert mistakes[-1] == 0
    assert len(mistakes) < 100
    assert all(m > 0 for m in mistakes[:-1])  # it stops after the first clean epoch
    np.testing.assert_array_equal(model.predict(BITS), labels)


def test_and_trace_by_hand():
    # traced by hand in the order (0,0), (0,1), (1,0), (1,1) with lr = 1 from w = 0, b = 0
    # (a score of 0 predicts 1): epoch 1 errs on (0,0) -> b = -1, then on (1,1) -> w = (1,1), b = 0;
    # ... epoch 6 makes no mistake with w = (2, 1), b = -3
    model = Perceptron(2)
    mistakes = model.fit(BITS, AND)
    assert mistakes == [2, 3, 3, 2, 1, 0]
    np.testing.assert_array_equal(model.w, [2.0, 1.0])
    assert model.b == -3.0


@pytest.mark.parametrize("shuffle", [False, True])
def test_never_separates_xor(shuffle):
    model = Perceptron(2, rng=1)
    mistakes = model.fit(BITS, XOR, max_epochs=50, shuffle=shuffle)
    assert len(mistakes) == 50
    assert all(m > 0 for m in mistakes)
    assert np.any(model.predict(BITS) != XOR)


def test_xor_separable_with_product_feature():
    # x1 XOR x2 = x1 + x2 - 2 x1 x2: linear in (x1, x2, x1 x2)
    features = np.column_stack([BITS, BITS[:, 0] * BITS[:, 1]])
    model = Perceptron(3)
    mistakes = model.fit(features, XOR, max_epochs=100)
    assert mistakes[-1] == 0
    np.testing.assert_array_equal(model.predict(features), XOR)


def test_one_dimensional_data_separable_with_square_feature():
    # class 1 far from 0 on both sides: no threshold on x separates it, one on x^2 does
    x = np.array([-3.0, -2.0, -1.5, -0.5, 0.0, 0.4, 1.0, 2.5, 3.0])
    y = (np.abs(x) > 1.2).astype(int)
    plain = Perceptron(1)
    assert all(m > 0 for m in plain.fit(x[:, None], y, max_epochs=30))
    squared = Perceptron(2)
    features = np.column_stack([x, x ** 2])
    mistakes = squared.fit(features, y, max_epochs=200)
    assert mistakes[-1] == 0
    np.testing.assert_array_equal(squared.predict(features), y)


def test_update_on_correct_prediction_changes_nothing():
    model = Perceptron(3)
    model.w[:] = [1.0, -2.0, 0.5]
    model.b = 0.25
    w_before = model.w.copy()
    assert model.update(np.array([1.0, 0.0, 1.0]), 1) is False  # score 1.75 >= 0, predicts 1
    assert model.update(np.array([0.0, 1.0, 0.0]), 0) is False  # score -1.75 < 0, predicts 0
    np.testing.assert_array_equal(model.w, w_before)
    assert model.b == 0.25


def test_update_by_hand():
    model = Perceptron(3, lr=0.5)
    model.w[:] = [1.0, -2.0, 0.5]
    model.b = 0.25
    w_object = model.w
    # score 1 - 4 + 0.25 = -2.75 < 0 predicts 0; target 1: w += 0.5 * x, b += 0.5
    assert model.update(np.array([1.0, 2.0, 0.0]), 1) is True
    np.testing.assert_allclose(model.w, [1.5, -1.0, 0.5], rtol=0, atol=0)
    assert model.b == 0.75
    # score 1.5 + 0.75 = 2.25 >= 0 predicts 1; target 0: w -= 0.5 * x, b -= 0.5
    assert model.update(np.array([1.0, 0.0, 0.0]), 0) is True
    np.testing.assert_allclose(model.w, [1.0, -1.0, 0.5], rtol=0, atol=0)
    assert model.b == 0.25
    assert model.w is w_object


def test_predict_boundary_and_dtype():
    model = Perceptron(2)
    model.w[:] = [1.0, -1.0]
    model.b = 0.0
    pred = model.predict(np.array([[1.0, 1.0], [0.0, 1.0], [2.0, 1.0]]))
    np.testing.assert_array_equal(pred, [1, 0, 1])  # a score of exactly 0 is class 1
    assert pred.dtype.kind == "i"
    assert pred.shape == (3,)
    np.testing.assert_array_equal(model.decision_function(np.array([[3.0, 1.0]])), [2.0])


def test_initial_state():
    model = Perceptron(4)
    assert model.w.shape == (4,) and model.w.dtype == np.float64 and not np.any(model.w)
    assert model.b == 0.0


def test_bad_labels_raise():
    model = Perceptron(2)
    with pytest.raises(ValueError, match=r"0 or 1.*-1"):
        model.fit(BITS, np.array([-1, 1, 1, -1]))
    with pytest.raises(ValueError, match=r"0 or 1.*2"):
        model.update(BITS[0], 2)
    with pytest.raises(ValueError, match=r"\(4,\)"):
        model.fit(BITS, np.array([0, 1, 1]))


def test_bad_shapes_raise():
    model = Perceptron(2)
    with pytest.raises(ValueError, match=r"Perceptron\(2 -> 1\).*\(N, 2\).*\(4, 3\)"):
        model.predict(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        model.update(np.zeros(3), 1)
    with pytest.raises(ValueError):
        Perceptron(0)


def test_shuffle_draws_from_rng_and_is_reproducible():
    rng = np.random.default_rng(3)
    model = Perceptron(2, rng=rng)
    mistakes = model.fit(BITS, AND, shuffle=True)
    assert rng.random() != np.random.default_rng(3).random()  # the order came from rng
    again = Perceptron(2, rng=3)
    assert again.fit(BITS, AND, shuffle=True) == mistakes
    np.testing.assert_array_equal(again.w, model.w)

    untouched = np.random.default_rng(3)
    Perceptron(2, rng=untouched).fit(BITS, AND)  # shuffle=False draws nothing
    assert untouched.random() == np.random.default_rng(3).random()
