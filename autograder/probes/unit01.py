"""Probes of unit 01: the stable sigmoid and the perceptron (predict, update rule, fit loop).

Each perceptron method is graded on its own. The fit probe gives the model a scripted ``update``
that is no perceptron rule at all: it says "mistake" a set number of times per sample, and records
which samples ``fit`` visits, in what order and with which targets. So fit is judged on its loop
(every sample once per epoch, mistakes counted, stop after a clean epoch or ``max_epochs``), a
mistake in ``update`` costs only its own test, and the probes hold no solution a judged process
could call. ``update`` runs with the student's own ``predict`` should it call it.
"""
import numpy as np

from . import probe, stable

# Awkward inputs of a sigmoid: 0, values where exp(x) or exp(-x) overflows (|x| > 709.78), where
# the result is a denormal number (|x| near 745) and where it underflows to exactly 0 or 1.
_LARGE = np.array([0.0, 1e-12, 20.0, 36.0, 40.0, 100.0, 700.0, 709.0, 710.0, 745.0, 800.0, 1000.0])


@probe("nnlib.functional.sigmoid", label="sigmoid(x)")
def _(nn, rng):
    x = np.concatenate([rng.normal(0.0, 4.0, 22), _LARGE, -_LARGE[1:]])
    x = rng.permutation(x).reshape(5, 9)
    small = rng.normal(0.0, 2.0, int(rng.integers(1, 7)))
    with stable("sigmoid(x) with x from -1000 to 1000",
                "a sigmoid that never overflows uses 1 / (1 + exp(-x)) only where x >= 0 and "
                "exp(x) / (1 + exp(x)) where x < 0, so that every exponent is at most 0"):
        large, ordinary = nn.functional.sigmoid(x), nn.functional.sigmoid(small)
    return {"x of shape (5, 9) with |x| up to 1000": large, "x of shape (n,)": ordinary}


def _integer_perceptron(nn, rng, n_features, lr):
    """A perceptron with small whole weights, so that scores of whole inputs are exactly 0 at times."""
    model = nn.perceptron.Perceptron(n_features, lr=lr)
    model.w[...] = rng.integers(-2, 3, n_features)
    model.b = float(rng.integers(-1, 2))
    return model


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
    # First a sample on the boundary (score exactly 0 predicts 1) whose target is 0: a mistake.
    samples = [np.zeros(n_features)] + list(rng.integers(-2, 3, (14, n_features)).astype(np.float64))
    targets = [0] + [int(t) for t in rng.integers(0, 2, 14)]
    returned, ws, bs = [], [], []
    for x, target in zip(samples, targets):
        returned.append(model.update(x, target))
        ws.append(np.array(model.w, dtype=np.float64, copy=True))
        bs.append(float(model.b))
    return {"returned by the first update, of a sample whose score is exactly 0, with target 0 "
            "(a score of 0 predicts class 1: a mistake)": returned[0],
            "b after each update (b += lr (target - y))": np.array(bs),
            "w after each update (w += lr (target - y) x)": np.array(ws),
            "returned (True exactly on a mistake)": returned}


class _ScriptedUpdate:
    """Stands in for ``Perceptron.update`` in the fit probe: sample ``i`` counts as a mistake on its
    first ``mistakes[i]`` visits, whatever the weights. Records every visit as ``(i, target)``."""

    def __init__(self, X, mistakes):
        self.rows = {np.asarray(x, dtype=np.float64).tobytes(): i for i, x in enumerate(X)}
        self.remaining = [int(m) for m in mistakes]
        self.visits = []

    def __call__(self, x, target):
        key = np.asarray(x, dtype=np.float64).reshape(-1).tobytes()
        if key not in self.rows:
            raise ValueError("fit passed update a sample that is not a row of X")
        i = self.rows[key]
        self.visits.append((i, int(target)))
        self.remaining[i] -= 1
        return self.remaining[i] >= 0


def _epochs(visits, n_samples):
    """The visits cut into epochs of ``n_samples`` (the last one may be short)."""
    return [visits[start:start + n_samples] for start in range(0, len(visits), n_samples)]


def _fit_run(nn, rng, n_samples, mistakes, max_epochs, shuffle):
    """Fit a perceptron with a scripted update on distinct random rows; what it did, as numbers."""
    n_features = int(rng.integers(1, 4))
    X = rng.normal(0.0, 1.5, (n_samples, n_features))
    y = rng.integers(0, 2, n_samples)
    model = nn.perceptron.Perceptron(n_features, lr=float(rng.choice([0.5, 1.0, 2.0])),
                                     rng=int(rng.integers(2 ** 31)))
    scripted = _ScriptedUpdate(X, mistakes)
    model.update = scripted  # an instance attribute: self.update(x, target) calls the script
    returned = model.fit(X, y, max_epochs=max_epochs, shuffle=shuffle)
    epochs = _epochs(scripted.visits, n_samples)
    return {"returned": returned, "epochs": epochs, "y": y}


@probe("nnlib.perceptron.Perceptron.fit", label="Perceptron.fit")
def _(nn, rng):
    # Separable in effect: sample i is a mistake on its first mistakes[i] visits, so epoch e has
    # as many mistakes as samples with mistakes[i] > e, and epoch max(mistakes) + 1 is clean.
    n = int(rng.integers(5, 10))
    mistakes = rng.integers(0, 4, n)
    mistakes[int(rng.integers(n))] = 3
    plain = _fit_run(nn, rng, n, mistakes, 50, shuffle=False)
    visited = [[i for i, _ in epoch] for epoch in plain["epochs"]]
    targets_right = all(t == int(plain["y"][i]) for epoch in plain["epochs"] for i, t in epoch)

    # Never clean: one sample is always a mistake, so fit must run exactly max_epochs epochs.
    max_epochs = int(rng.integers(3, 9))
    stuck = _fit_run(nn, rng, n, np.append(rng.integers(0, 3, n - 1), 10 ** 6), max_epochs, False)

    # Shuffled: the order is the student's choice; each epoch must still visit every sample once.
    shuffled = _fit_run(nn, rng, n, mistakes, 50, shuffle=True)
    every_sample_once = all(sorted(i for i, _ in epoch) == list(range(n))
                            for epoch in shuffled["epochs"])
    return {"mistakes per epoch on separable data": plain["returned"],
            "samples update was given, epoch by epoch (shuffle=False)": visited,
            "update given each sample with its own label y[i]": targets_right,
            f"epochs run on data no line separates, max_epochs={max_epochs}": len(stuck["epochs"]),
            f"mistakes per epoch on data no line separates, max_epochs={max_epochs}":
                stuck["returned"],
            "every sample visited once per epoch with shuffle=True": every_sample_once,
            "mistakes per epoch with shuffle=True": shuffled["returned"]}
