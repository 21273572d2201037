"""Probes of unit 01: the stable sigmoid and the perceptron (predict, update rule, fit loop).

Each perceptron method is graded on its own: the update probe gives the model a trusted
``predict`` and the fit probe a trusted ``update`` (written out below, not taken from the reference
nnlib, which the judge's child cannot read), so a mistake in one method costs only its own test.
"""
import types

import numpy as np

from . import probe

# Awkward inputs of a sigmoid: 0, values where exp(x) or exp(-x) overflows (|x| > 709.78), where
# the result is a denormal number (|x| near 745) and where it underflows to exactly 0 or 1.
_LARGE = np.array([0.0, 1e-12, 20.0, 36.0, 40.0, 100.0, 700.0, 709.0, 710.0, 745.0, 800.0, 1000.0])


@probe("nnlib.functional.sigmoid", label="sigmoid(x)")
def _(nn, rng):
    x = np.concatenate([rng.normal(0.0, 4.0, 22), _LARGE, -_LARGE[1:]])
    x = rng.permutation(x).reshape(5, 9)
    small = rng.normal(0.0, 2.0, int(rng.integers(1, 7)))
    return {"x of shape (5, 9) with |x| up to 1000": nn.functional.sigmoid(x),
            "x of shape (n,)": nn.functional.sigmoid(small)}


def _integer_perceptron(nn, rng, n_features, lr):
    """A perceptron with small whole weights, so that scores of whole inputs are exactly 0 at times."""
    model = nn.perceptron.Perceptron(n_features, lr=lr)
    model.w[...] = rng.integers(-2, 3, n_features)
    model.b = float(rng.integers(-1, 2))
    return model


def _trusted_predict(self, X):
    X = np.asarray(X, dtype=np.float64)
    return (X @ self.w + self.b >= 0).astype(np.int64)


def _trusted_update(self, x, target):
    x = np.asarray(x, dtype=np.float64)
    error = int(target) - (1 if float(x @ self.w + self.b) >= 0 else 0)
    if error == 0:
        return False
    self.w += self.lr * error * x
    self.b += self.lr * error
    return True


@probe("nnlib.perceptron.Perceptron.predict", label="Perceptron.predict(X)")
def _(nn, rng):
    n_features = int(rng.integers(1, 5))
    model = _integer_perceptron(nn, rng, n_features, 1.0)
    # Whole-number rows (some land exactly on the boundary, score 0 -> class 1), a row of zeros
    # (score b), and ordinary real-valued rows.
    model.w[0] = rng.choice([-1.0, 1.0])
    whole = rng.integers(-2, 3, (12, n_features)).astype(np.float64)
    # The first four on the boundary for sure: solve w . x + b = 0 for x[0] (w[0] is +-1).
    whole[:4, 0] = -(model.b + whole[:4, 1:] @ model.w[1:]) / model.w[0]
    real = rng.normal(0.0, 2.0, (int(rng.integers(3, 9)), n_features))
    X = rng.permutation(np.concatenate([whole, np.zeros((1, n_features)), real]))
    w_before, b_before = model.w.copy(), float(model.b)
    predictions = model.predict(X)
    unchanged = bool(np.array_equal(model.w, w_before) and model.b == b_before)
    return {"predictions (a score of exactly 0 predicts class 1)": predictions,
            "w and b unchanged by predict": unchanged}


@probe("nnlib.perceptron.Perceptron.update", label="Perceptron.update(x, target)")
def _(nn, rng):
    n_features = int(rng.integers(1, 5))
    lr = float(rng.choice([0.25, 0.5, 0.75, 1.5, 2.0]))  # binary fractions: scores stay exact
    model = _integer_perceptron(nn, rng, n_features, lr)
    model.b = 0.0
    model.predict = types.MethodType(_trusted_predict, model)  # in case update calls predict
    # First a sample on the boundary (score exactly 0 predicts 1) whose target is 0: a mistake.
    samples = [np.zeros(n_features)] + list(rng.integers(-2, 3, (14, n_features)).astype(np.float64))
    targets = [0] + [int(t) for t in rng.integers(0, 2, 14)]
    returned, ws, bs = [], [], []
    for x, target in zip(samples, targets):
        returned.append(model.update(x, target))
        ws.append(np.array(model.w, dtype=np.float64, copy=True))
        bs.append(float(model.b))
    return {"b after each update (b += lr (target - y))": np.array(bs),
            "w after each update (w += lr (target - y) x)": np.array(ws),
            "returned (True exactly on a mistake)": returned}


def _separable_problem(rng):
    """Points with a margin around a random line: the perceptron separates them in few mistakes."""
    n_features = int(rng.integers(2, 4))
    while True:
        u = rng.normal(size=n_features)
        c = float(rng.normal(0.0, 0.5))
        X = rng.normal(0.0, 1.5, (int(rng.integers(10, 20)), n_features))
        scores = (X @ u + c) / np.linalg.norm(u)
        X = X[np.abs(scores) > 0.2]
        y = (X @ u + c > 0).astype(np.int64)
        if len(X) < 4 or y.min() == y.max():
            continue
        # Perceptron convergence theorem on the inputs extended by a 1 (for the bias):
        # at most (R / gamma)^2 mistakes in all, whatever the order of the samples.
        extended = np.column_stack([X, np.ones(len(X))])
        direction = np.append(u, c) / np.linalg.norm(np.append(u, c))
        gamma = np.min((2 * y - 1) * (extended @ direction))
        radius = np.max(np.linalg.norm(extended, axis=1))
        if (radius / gamma) ** 2 <= 300:
            return X, y


def _fitted(nn, rng, X, y, **fit_args):
    model = nn.perceptron.Perceptron(X.shape[1], lr=float(rng.choice([0.5, 1.0, 2.0])),
                                     rng=int(rng.integers(2 ** 31)))
    # Graded apart from the update rule and predict: fit runs on trusted copies of both.
    model.update = types.MethodType(_trusted_update, model)
    model.predict = types.MethodType(_trusted_predict, model)
    mistakes = model.fit(X, y, **fit_args)
    return model, mistakes


@probe("nnlib.perceptron.Perceptron.fit", label="Perceptron.fit")
def _(nn, rng):
    X, y = _separable_problem(rng)
    model, separable = _fitted(nn, rng, X, y, max_epochs=400)

    # Not separable for sure: one point appears twice, with both labels.
    Z = rng.normal(0.0, 1.5, (int(rng.integers(4, 9)), 2))
    Z = np.concatenate([Z, Z[:1]])
    t = np.append(rng.integers(0, 2, len(Z) - 1), 0)
    t[0] = 1
    max_epochs = int(rng.integers(3, 9))
    stuck, not_separable = _fitted(nn, rng, Z, t, max_epochs=max_epochs)

    # The visiting order under shuffle=True is the student's choice; only the outcome is compared.
    shuffled, shuffled_mistakes = _fitted(nn, rng, X, y, max_epochs=400, shuffle=True)
    separated = (isinstance(shuffled_mistakes, (list, tuple)) and len(shuffled_mistakes) > 0
                 and shuffled_mistakes[-1] == 0
                 and bool(np.array_equal(_trusted_predict(shuffled, X), y)))
    return {"mistakes per epoch on separable data": separable,
            "w after fit on separable data": model.w, "b after fit on separable data": float(model.b),
            f"mistakes per epoch on data no line separates, max_epochs={max_epochs}": not_separable,
            "w after fit on data no line separates": stuck.w,
            "separable data separated with shuffle=True": bool(separated)}
