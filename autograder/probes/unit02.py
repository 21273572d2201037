"""Probes of unit 02: the step function, a layer of threshold units, logic-gate weights, XOR.

A gate has many right answers (any weights implementing it, e.g. the reference's scaled by 10), so
the gate and XOR probes never compare weights: they compare BEHAVIOUR, the outputs of the student's
weights run through a trusted threshold unit written out below (not the student's ``step`` or
``forward``, and not the reference nnlib, which the judge's child cannot read). Behaviour is checked
on the four corners of {0, 1}^2 and on inputs up to ``RADIUS`` away from them in each coordinate:
a unit whose line passes through a corner (``x1 + x2 >= 2`` for AND) gets the corners right but
flips on a slightly noisy input. For a linear threshold, the outputs on the four vertices of the box
around a corner decide the whole box, so those vertices are always among the probed points.

Each function is graded on its own: ``forward`` runs with a trusted ``step`` in place of the
student's, and ``xor_network`` with trusted gate functions in place of the student's.
"""
import contextlib

import numpy as np

from . import probe

RADIUS = 0.1  # how far (in each coordinate) a noisy input may be from its corner
_CORNERS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
_BOX = np.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]]) * RADIUS


def _trusted_step(z):
    z = np.asarray(z, dtype=np.float64)
    return np.where(z >= 0, 1.0, 0.0)


def _trusted_units(X, W, b):
    """Outputs of threshold units with weights ``W`` (D, M) and biases ``b`` (M,): shape (N, M)."""
    return _trusted_step(np.asarray(X, dtype=np.float64) @ np.asarray(W, dtype=np.float64)
                         + np.asarray(b, dtype=np.float64))


@contextlib.contextmanager
def _replaced(module, **functions):
    """Temporarily replace attributes of ``module`` (a student's or the reference nnlib.logic)."""
    saved = {name: getattr(module, name) for name in functions}
    try:
        for name, function in functions.items():
            setattr(module, name, function)
        yield
    finally:
        for name, function in saved.items():
            setattr(module, name, function)


def _fmt(value):
    return f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def _point_labels(X):
    labels = []
    for x in X:
        corner = np.round(x)
        label = f"output at x = ({_fmt(x[0])}, {_fmt(x[1])})"
        if not np.array_equal(x, corner):
            label += f", near the corner ({_fmt(corner[0])}, {_fmt(corner[1])})"
        labels.append(label)
    return labels


def _near_corners(rng):
    """The corners, the vertices of the boxes of half-width RADIUS around them, and random points
    inside those boxes (in a random order after the exact corners)."""
    vertices = (_CORNERS[:, None, :] + _BOX[None, :, :]).reshape(-1, 2)
    inside = np.repeat(_CORNERS, 2, axis=0) + rng.uniform(-RADIUS, RADIUS, (8, 2))
    return np.concatenate([_CORNERS, rng.permutation(np.concatenate([vertices, inside]))])


def _behaviour(checks, X, run):
    """``checks`` (what the return value must look like), then the output at every point of ``X``
    computed by ``run(X)`` if every check holds (NaN otherwise: the first False is what the student
    reads, as the comparison stops there)."""
    outputs = run(X) if all(checks.values()) else np.full(len(X), np.nan)
    return {**checks, **{label: float(y) for label, y in zip(_point_labels(X), outputs)}}


def _is_array(value, shape):
    return type(value) is np.ndarray and value.shape == shape and value.dtype.kind in "biuf"


def _gate_behaviour(weights, rng):
    """What must hold for a gate function: its return value's form, then its outputs."""
    X = _near_corners(rng)  # drawn first, so both runs see the same points whatever happens next
    result = weights()
    pair = isinstance(result, (tuple, list)) and len(result) == 2
    W, b = result if pair else (None, None)
    checks = {"returns a pair (W, b)": pair,
              "W is a numpy array of shape (2, 1)": _is_array(W, (2, 1)),
              "b is a numpy array of shape (1,)": _is_array(b, (1,))}
    return _behaviour(checks, X, lambda X: _trusted_units(X, W, b)[:, 0])


def _zeros_and_ones(label, out):
    """``out`` as whole numbers (a wrong value reads "3 of 12 entries differ"), and its dtype apart."""
    if type(out) is not np.ndarray or out.dtype.kind not in "biuf":
        return {label: out}
    return {label: np.nan_to_num(out, nan=-1.0).astype(np.int64),
            f"{label}: dtype": np.empty(0, dtype=out.dtype)}


@probe("nnlib.logic.step", label="step(z)")
def _(nn, rng):
    z = np.concatenate([rng.normal(0.0, 3.0, 16), [0.0, -0.0, 1e-300, -1e-300, 1e-9, -1e-9,
                                                  1e300, -1e300]])
    shape = [(4, 6), (2, 3, 4), (24,)][int(rng.integers(3))]
    z = rng.permutation(z).reshape(shape)
    whole = rng.integers(-2, 3, int(rng.integers(3, 8)))
    zero = nn.logic.step(0.0)  # a 0-d array; a numpy scalar is fine too
    return {"z = 0": float(np.asarray(zero)) if np.size(zero) == 1 else zero,
            **_zeros_and_ones(f"z of shape {shape}, with 0, -0 and tiny values", nn.logic.step(z)),
            **_zeros_and_ones("z given as integers", nn.logic.step(whole))}


def _integer_layer(nn, rng, d, m):
    """A layer with small whole weights and biases (every bias nonzero: forgetting it shows)."""
    W = rng.integers(-2, 3, (d, m)).astype(np.float64)
    W[rng.integers(d, size=m), np.arange(m)] = rng.choice([-1.0, 1.0], m)  # a +-1 in every column
    b = rng.choice([-2.0, -1.0, 1.0, 2.0], m)
    return nn.logic.ThresholdLayer(W, b), W, b


def _on_the_thresholds(rng, W, b):
    """One whole-numbered input per unit whose score ``x @ W[:, j] + b[j]`` is exactly 0."""
    rows = []
    for j in range(W.shape[1]):
        x = rng.integers(-2, 3, W.shape[0]).astype(np.float64)
        k = int(np.flatnonzero(np.abs(W[:, j]) == 1.0)[0])
        x[k] = 0.0
        x[k] = -(x @ W[:, j] + b[j]) / W[k, j]
        rows.append(x)
    return np.array(rows)


@probe("nnlib.logic.ThresholdLayer.forward", label="ThresholdLayer.forward(X)")
def _(nn, rng):
    d, m = int(rng.integers(2, 5)), int(rng.integers(2, 5))
    layer, W, b = _integer_layer(nn, rng, d, m)
    X = rng.permutation(np.concatenate([rng.integers(-1, 3, (int(rng.integers(3, 7)), d)),
                                        _on_the_thresholds(rng, W, b),
                                        rng.normal(0.0, 1.5, (3, d))]))
    single, W1, b1 = _integer_layer(nn, rng, 2, 1)
    X1 = rng.permutation(np.concatenate([_CORNERS, _on_the_thresholds(rng, W1, b1),
                                         rng.uniform(-1.0, 2.0, (2, 2))]))
    # Graded apart from step: the layer runs on a trusted step.
    with _replaced(nn.logic, step=_trusted_step):
        many = layer.forward(X)
        one = single.forward(X1)
    return {**_zeros_and_ones(f"{d} inputs, {m} units, {len(X)} samples", many),
            **_zeros_and_ones(f"2 inputs, 1 unit, {len(X1)} samples", one)}


@probe("nnlib.logic.and_gate_weights", label="and_gate_weights()")
def _(nn, rng):
    return _gate_behaviour(nn.logic.and_gate_weights, rng)


@probe("nnlib.logic.or_gate_weights", label="or_gate_weights()")
def _(nn, rng):
    return _gate_behaviour(nn.logic.or_gate_weights, rng)


@probe("nnlib.logic.nand_gate_weights", label="nand_gate_weights()")
def _(nn, rng):
    return _gate_behaviour(nn.logic.nand_gate_weights, rng)


def _trusted_gates():
    return {"and_gate_weights": lambda: (np.array([[1.0], [1.0]]), np.array([-1.5])),
            "or_gate_weights": lambda: (np.array([[1.0], [1.0]]), np.array([-0.5])),
            "nand_gate_weights": lambda: (np.array([[-1.0], [-1.0]]), np.array([1.5]))}


@probe("nnlib.logic.xor_network", label="xor_network()")
def _(nn, rng):
    X = _near_corners(rng)
    # Graded apart from the gates: xor_network runs with trusted gate weights.
    with _replaced(nn.logic, **_trusted_gates()):
        layers = nn.logic.xor_network()
    two = isinstance(layers, (list, tuple)) and len(layers) == 2
    typed = two and all(isinstance(layer, nn.logic.ThresholdLayer) for layer in layers)
    hidden, output = layers if typed else (None, None)
    checks = {"returns a list of 2 layers [hidden, output]": two,
              "both layers are ThresholdLayer objects": typed,
              "the hidden layer takes the 2 inputs": typed and hidden.W.shape[0] == 2,
              "the output layer is one unit reading every hidden unit":
                  typed and output.W.shape == (hidden.W.shape[1], 1)}
    # Run on the layers' own weights with a trusted step: ThresholdLayer.forward is graded apart.
    return _behaviour(checks, X, lambda X: _trusted_units(_trusted_units(X, hidden.W, hidden.b),
                                                          output.W, output.b)[:, 0])
