"""Logistic regression: cross-entropy gradients against centred differences, stability, training."""
import numpy as np
import pytest

from nnlib.gradcheck import numerical_gradient, rel_error
from nnlib.logistic import LogisticRegression

TOL = 1e-7


def random_problem(seed, n_samples, n_features):
    rng = np.random.default_rng(seed)
    model = LogisticRegression(n_features)
    model.w[:] = rng.standard_normal(n_features)
    model.b = float(rng.standard_normal())
    X = rng.standard_normal((n_samples, n_features))
    t = rng.integers(0, 2, size=n_samples).astype(np.float64)
    return model, X, t


def blobs(seed, n_per_class=100):
    """Two well-separated Gaussian blobs (centres 4 apart, unit variance), labels 0/1."""
    rng = np.random.default_rng(seed)
    X = np.concatenate([rng.normal([-2.0, -1.0], 1.0, size=(n_per_class, 2)),
                        rng.normal([2.0, 1.0], 1.0, size=(n_per_class, 2))])
    t = np.repeat([0.0, 1.0], n_per_class)
    return X, t


@pytest.mark.parametrize("seed, n_samples, n_features", [(0, 1, 1), (1, 1, 3), (2, 7, 3),
                                                          (3, 13, 5), (4, 2, 1)])
def test_gradients_match_centred_differences(seed, n_samples, n_features):
    model, X, t = random_problem(seed, n_samples, n_features)
    _, dw, db = model.loss_and_gradients(X, t)
    assert dw.shape == (n_features,)
    assert isinstance(db, float)

    numeric_dw = numerical_gradient(lambda _: model.loss_and_gradients(X, t)[0], model.w)
    b_holder = np.array([model.b])

    def loss_of_b(b):
        model.b = float(b[0])
        return model.loss_and_gradients(X, t)[0]

    numeric_db = numerical_gradient(loss_of_b, b_holder)
    assert rel_error(dw, numeric_dw) <= TOL
    assert rel_error(db, numeric_db[0]) <= TOL


def test_loss_matches_the_cross_entropy_formula():
    model, X, t = random_problem(5, 9, 4)
    loss, _, _ = model.loss_and_gradients(X, t)
    o = 1 / (1 + np.exp(-(X @ model.w + model.b)))
    expected = np.mean(-t * np.log(o) - (1 - t) * np.log(1 - o))
    assert loss == pytest.approx(expected, rel=1e-12)
    assert isinstance(loss, float)


def test_dE_dz_is_output_minus_target():
    # with X = I and b = 0 the logits are w, so dw_n = dE/dz_n = (o_n - t_n) / N
    n = 6
    rng = np.random.default_rng(6)
    model = LogisticRegression(n)
    model.w[:] = rng.standard_normal(n) * 3
    t = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.0])
    _, dw, db = model.loss_and_gradients(np.eye(n), t)
    o = model.predict_proba(np.eye(n))
    np.testing.assert_allclose(dw * n, o - t, rtol=1e-12, atol=1e-15)
    assert db == pytest.approx(np.sum(o - t) / n, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("seed", [0, 1])
def test_stable_for_large_logits(seed):
    model, X, t = random_problem(seed, 20, 3)
    # no overflow, no log(0), no invalid value (underflow to 0 in exp(-|z|) is harmless)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        loss, dw, db = model.loss_and_gradients(X * 1000, t)
    assert np.isfinite(loss) and np.all(np.isfinite(dw)) and np.isfinite(db)
    # the loss is then about mean(|z|) over the misclassified samples, not inf
    z = X @ model.w * 1000 + model.b
    expected = np.mean(np.where((z > 0) != (t > 0), np.abs(z), 0.0))
    assert loss == pytest.approx(expected, rel=1e-6)


def test_fit_decreases_loss_and_separates_blobs():
    X, t = blobs(seed=0)
    model = LogisticRegression(2)
    w_object = model.w
    losses = model.fit(X, t, lr=0.05, epochs=200)
    assert len(losses) == 200
    assert losses[0] == pytest.approx(np.log(2), rel=1e-12)  # zero weights: o = 0.5 everywhere
    assert np.all(np.diff(losses) < 0)
    assert losses[-1] < 0.2
    assert np.mean(model.predict(X) == t) > 0.95
    assert model.w is w_object  # updated in place
    final_loss, _, _ = model.loss_and_gradients(X, t)
    assert final_loss < losses[-1]  # losses are recorded before each update


def test_fit_is_one_gradient_step_per_epoch():
    model, X, t = random_problem(7, 5, 2)
    w0, b0 = model.w.copy(), model.b
    _, dw, db = model.loss_and_gradients(X, t)
    model.fit(X, t, lr=0.3, epochs=1)
    np.testing.assert_allclose(model.w, w0 - 0.3 * dw, rtol=1e-14)
    assert model.b == pytest.approx(b0 - 0.3 * db, rel=1e-14)


def test_predict_and_initial_state():
    model = LogisticRegression(3)
    assert model.w.shape == (3,) and model.w.dtype == np.float64 and not np.any(model.w)
    assert model.b == 0.0
    model.w[:] = [1.0, 0.0, -1.0]
    X = np.array([[2.0, 5.0, 1.0], [0.0, 1.0, 3.0], [1.0, 0.0, 1.0]])
    np.testing.assert_array_equal(model.predict(X), [1, 0, 1])
    np.testing.assert_allclose(model.predict_proba(X), 1 / (1 + np.exp(-np.array([1.0, -3.0, 0.0]))))


def test_validation():
    model = LogisticRegression(2)
    with pytest.raises(ValueError, match=r"LogisticRegression\(2 -> 1\).*\(N, 2\).*\(3, 3\)"):
        model.loss_and_gradients(np.zeros((3, 3)), np.zeros(3))
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        model.loss_and_gradients(np.zeros((3, 2)), np.zeros(2))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        model.fit(np.zeros((3, 2)), np.array([0.0, 1.0, 2.0]))
