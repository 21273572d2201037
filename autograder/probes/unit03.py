"""Probes of unit 03: ``Linear`` (initialisation and forward), the activation forwards, ``Sequential``.

Each forward is graded on its own. The ``Linear.forward`` probe builds its layer from a subclass
whose ``reset_parameters`` is written out below and then sets ``W`` and ``b`` itself, so a broken
initialisation costs only its own test; the ``Sequential.forward`` probe chains small layers defined
here (trusted code, subclasses of the student's ``Module``), so only the chaining is judged.

Results hold numbers, booleans and arrays only (what the judge's child can send back). A boolean
checks one property and is named after it, so a wrong answer reads "ReLU(x) = x for x > 0: expected
True, got False"; the values themselves are compared after those properties.
"""
import numpy as np

from . import probe


def _same(got, expected, rtol=1e-9, atol=1e-12):
    """True if ``got`` is an array of ``expected``'s shape with the same values (never raises)."""
    return (isinstance(got, np.ndarray) and got.shape == expected.shape
            and bool(np.all(np.isfinite(got) == np.isfinite(expected)))
            and bool(np.allclose(got, expected, rtol=rtol, atol=atol)))


# ----------------------------------------------------------------------------------------------
# Linear.reset_parameters: the draws of a correct implementation may come in another order than
# the reference's, so only properties of the distribution are compared, never the arrays.

def _ratio(value, bound, decimals):
    return round(float(value) / bound, decimals)


@probe("nnlib.layers.Linear.reset_parameters", label="Linear.reset_parameters")
def _(nn, rng):
    Linear = nn.layers.Linear
    # Large enough that the extremes of a uniform draw sit within 1% (W) or 5% (b) of the bound.
    n_in, n_out = int(rng.integers(50, 200)), int(rng.integers(1000, 1500))
    seed = int(rng.integers(0, 2 ** 31))
    layer = Linear(n_in, n_out, rng=seed)
    bound = 1.0 / np.sqrt(n_in)
    params, grads = dict(layer.params), dict(layer.grads)
    result = {"params has exactly the keys 'W' and 'b'": sorted(params) == ["W", "b"]}
    W, b = params.get("W"), params.get("b")
    if not (isinstance(W, np.ndarray) and isinstance(b, np.ndarray)):
        return result  # the comparison stops at the first entry
    result["W.shape"] = [int(size) for size in W.shape]
    result["b.shape"] = [int(size) for size in b.shape]
    if W.shape != (n_in, n_out) or b.shape != (n_out,):
        return result
    result["grads holds zeros of the shapes of W and b"] = (
        sorted(grads) == ["W", "b"]
        and all(isinstance(grads[k], np.ndarray) and grads[k].shape == params[k].shape
                and not np.any(grads[k]) for k in ("W", "b")))
    slack = bound * (1 + 1e-12)
    result["every entry of W lies within ±1/sqrt(in_features)"] = bool(np.all(np.abs(W) <= slack))
    result["every entry of b lies within ±1/sqrt(in_features)"] = bool(np.all(np.abs(b) <= slack))
    result["largest entry of W divided by 1/sqrt(in_features)"] = _ratio(W.max(), bound, 2)
    result["smallest entry of W divided by 1/sqrt(in_features)"] = _ratio(W.min(), bound, 2)
    # U(-a, a) has standard deviation a / sqrt(3).
    result["standard deviation of W times sqrt(3), divided by 1/sqrt(in_features)"] = \
        _ratio(W.std() * np.sqrt(3.0), bound, 1)
    result["largest |b| divided by 1/sqrt(in_features)"] = _ratio(np.abs(b).max(), bound, 1)

    small_in, small_out = int(rng.integers(2, 6)), int(rng.integers(2, 6))
    first, again = Linear(small_in, small_out, rng=seed), Linear(small_in, small_out, rng=seed)
    other = Linear(small_in, small_out, rng=seed + 1)
    result["the same rng seed gives the same W and b (draw from self.rng)"] = bool(
        np.array_equal(first.params["W"], again.params["W"])
        and np.array_equal(first.params["b"], again.params["b"]))
    result["another seed gives other weights"] = not np.array_equal(first.params["W"], other.params["W"])
    before = first.params["W"].copy()
    first.reset_parameters()
    result["calling reset_parameters again draws new weights"] = not np.array_equal(
        first.params["W"], before)
    return result


# ----------------------------------------------------------------------------------------------
# Linear.forward

def _linear_layer(nn, W, b):
    """A Linear layer of the student's class with the given W and b, whatever its initialisation."""

    class FixedLinear(nn.layers.Linear):
        def reset_parameters(self):
            self._add_parameter("W", np.zeros((self.in_features, self.out_features)))
            self._add_parameter("b", np.zeros(self.out_features))

    layer = FixedLinear(W.shape[0], W.shape[1])
    layer.params["W"] = W
    layer.params["b"] = b
    return layer


@probe("nnlib.layers.Linear.forward", label="Linear.forward(x)")
def _(nn, rng):
    # Distinct sizes, so that a transposed product fails instead of passing by accident.
    n_in, n_out = [int(size) for size in rng.choice(np.arange(1, 8), 2, replace=False)]
    n = int(rng.integers(8, 12))
    W, b = rng.normal(size=(n_in, n_out)), rng.normal(size=n_out)
    layer = _linear_layer(nn, W, b)
    x = rng.normal(size=(n, n_in))
    y = layer.forward(x)
    zeros = layer.forward(np.zeros((3, n_in)))
    return {
        "output of shape (N, out_features) for x of shape (N, in_features)":
            isinstance(y, np.ndarray) and y.shape == (n, n_out),
        "forward(zeros) gives b in every row (is the bias added?)": _same(zeros, np.tile(b, (3, 1))),
        "x @ W + b": y,
        "x @ W + b for one example, x of shape (1, in_features)": layer.forward(x[:1]),
    }


# ----------------------------------------------------------------------------------------------
# Activations

def _pre_activations(rng, large):
    """Shape (5, 9): normal values, exact zeros and +-1 and the large magnitudes ``large``."""
    special = np.concatenate([[0.0, 0.0, 1.0, -1.0], large, -np.asarray(large)])
    z = np.concatenate([special, rng.normal(0.0, 3.0, 45 - len(special))])
    return rng.permutation(z).reshape(5, 9)


def _slope_at_zero(layer, h=1e-4):
    up, down = layer.forward(np.array([[h]])), layer.forward(np.array([[-h]]))
    return float((np.asarray(up) - np.asarray(down)).ravel()[0] / (2 * h))


def _activation(nn, rng, cls, large, properties):
    z = _pre_activations(rng, large)
    cube = rng.normal(0.0, 2.0, (2, 3, 4))
    layer = getattr(nn.layers, cls)()
    out = layer.forward(z)
    result = {name: bool(check(layer, z, out)) for name, check in properties.items()}
    result[f"{cls.lower()}(x) for x of shape (5, 9)"] = out
    result[f"{cls.lower()}(x) for x of shape (2, 3, 4)"] = layer.forward(cube)
    return result


def _mirror(layer, z, out):
    return layer.forward(-z)


@probe("nnlib.layers.Sigmoid.forward", label="Sigmoid.forward")
def _(nn, rng):
    return _activation(nn, rng, "Sigmoid", [10.0, 40.0, 750.0, 1000.0], {
        "sigmoid(0) = 1/2": lambda layer, z, out: _same(layer.forward(np.zeros((1, 2))), np.full((1, 2), 0.5)),
        "sigmoid(-x) = 1 - sigmoid(x)": lambda layer, z, out: _same(_mirror(layer, z, out), 1.0 - out,
                                                                    atol=1e-12),
        "slope at 0 is 1/4 (is x scaled right?)": lambda layer, z, out: abs(_slope_at_zero(layer) - 0.25) < 1e-6,
        "values lie in [0, 1]": lambda layer, z, out: bool(np.all((out >= 0) & (out <= 1))),
    })


@probe("nnlib.layers.Tanh.forward", label="Tanh.forward")
def _(nn, rng):
    return _activation(nn, rng, "Tanh", [5.0, 20.0, 300.0], {
        "tanh(0) = 0": lambda layer, z, out: _same(layer.forward(np.zeros((1, 2))), np.zeros((1, 2))),
        "tanh(-x) = -tanh(x)": lambda layer, z, out: _same(_mirror(layer, z, out), -out, atol=1e-12),
        "slope at 0 is 1 (is x scaled right?)": lambda layer, z, out: abs(_slope_at_zero(layer) - 1.0) < 1e-6,
        "values lie in [-1, 1]": lambda layer, z, out: bool(np.all((out >= -1) & (out <= 1))),
    })


@probe("nnlib.layers.ReLU.forward", label="ReLU.forward")
def _(nn, rng):
    return _activation(nn, rng, "ReLU", [1e-9, 0.5, 2.0, 1e6], {
        "ReLU(x) = 0 for x <= 0": lambda layer, z, out: bool(np.all(out[z <= 0] == 0)),
        "ReLU(x) = x for x > 0": lambda layer, z, out: bool(np.all(out[z > 0] == z[z > 0])),
    })


# ----------------------------------------------------------------------------------------------
# Sequential.forward: chains trusted layers, which log the order in which they run.

def _trusted_layers(nn, rng, log, width):
    Module = nn.module.Module

    class Affine(Module):
        def __init__(self, index):
            super().__init__()
            self.index, self.W, self.b = index, rng.normal(size=(width, width)), rng.normal(size=width)

        def forward(self, x):
            log.append(self.index)
            return np.asarray(x, dtype=np.float64) @ self.W + self.b

    class Sine(Module):
        def __init__(self, index):
            super().__init__()
            self.index = index

        def forward(self, x):
            log.append(self.index)
            return np.sin(np.asarray(x, dtype=np.float64))

    class Shift(Module):
        def __init__(self, index):
            super().__init__()
            self.index, self.c = index, float(rng.normal())

        def forward(self, x):
            log.append(self.index)
            return np.asarray(x, dtype=np.float64) * 2.0 + self.c

    kinds = [Affine, Sine, Shift, Affine, Sine]
    return [kind(index) for index, kind in enumerate(kinds)]


@probe("nnlib.layers.Sequential.forward", label="Sequential.forward")
def _(nn, rng):
    width = int(rng.integers(2, 5))
    log = []
    layers = _trusted_layers(nn, rng, log, width)
    x = rng.normal(size=(int(rng.integers(3, 8)), width))
    out = nn.layers.Sequential(*layers).forward(x)
    order = list(log)
    log.clear()
    single = nn.layers.Sequential(layers[0]).forward(x)
    return {
        "layers run in order, first to last": order == list(range(len(layers))),
        "each layer runs exactly once": sorted(order) == list(range(len(layers))),
        "output of five layers": out,
        "output of a single layer": single,
    }
