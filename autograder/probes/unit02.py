"""Probes of unit 02: the step function, a layer of threshold units, logic-gate weights, XOR.

A gate has many right answers (any weights implementing it, e.g. the reference's scaled by 10), so
the gate and XOR probes never compare weights: they compare BEHAVIOUR. The judged process only
returns the weights; ``evaluate`` (trusted side only) runs them through the reference's threshold
units on the four corners of {0, 1}^2 and on inputs up to ``RADIUS`` away from them in each
coordinate: a unit whose line passes through a corner (``x1 + x2 >= 2`` for AND) gets the corners
right but flips on a slightly noisy input. For a linear threshold, the outputs on the four vertices
of the box around a corner decide the whole box, so those vertices are always among the probed points.

Each function is graded on its own, with stand-ins that are no solution a judged process could
call: ``forward`` runs with a ``step`` that passes its argument through, so what is compared is the
scores ``X @ W + b`` it hands to ``step``; ``xor_network`` runs with gate functions returning marker
weights, which ``evaluate`` replaces by the reference's gates before judging the network.
"""
import contextlib

import numpy as np

from . import probe

RADIUS = 0.1  # how far (in each coordinate) a noisy input may be from its corner
_CORNERS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
_BOX = np.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]]) * RADIUS


def _passed_through(z):
    """Stands in for ``step`` while ``forward`` is judged: returns the scores it was given."""
    return np.array(z, dtype=np.float64, copy=True)


def _reference_units(reference, X, W, b):
    """Outputs of the reference's threshold units with weights ``W`` (D, M), biases ``b``: (N, M)."""
    return reference.logic.ThresholdLayer(W, b).forward(X)


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


def _is_pair(value):
    return isinstance(value, (tuple, list)) and len(value) == 2


def _gate_behaviour(result, reference, rng):
    """What must hold for a gate function's return value: its form, then its outputs."""
    returned = result["returned"]
    pair = _is_pair(returned)
    W, b = returned if pair else (None, None)
    checks = {"returns a pair (W, b)": pair,
              "W is a numpy array of shape (2, 1)": _is_array(W, (2, 1)),
              "b is a numpy array of shape (1,)": _is_array(b, (1,))}
    return _behaviour(checks, _near_corners(rng), lambda X: _reference_units(reference, X, W, b)[:, 0])


def _zeros_and_ones(label, out):
    """``out`` as whole numbers (a wrong value reads "3 of 12 entries differ"), and its dtype apart."""
    if type(out) is not np.ndarray or out.dtype.kind not in "biuf":
        return {label: out}
    # Anything but 0 or 1 is wrong: clipped first, so that inf or 1e300 cast cleanly.
    return {label: np.clip(np.nan_to_num(out, nan=-1.0), -2, 2).astype(np.int64),
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
    # Graded apart from step: with step passing its argument through, forward returns its scores.
    with _replaced(nn.logic, step=_passed_through):
        many = layer.forward(X)
        one = single.forward(X1)
    return {f"scores X @ W + b given to step: {d} inputs, {m} units, {len(X)} samples": many,
            f"scores X @ W + b given to step: 2 inputs, 1 unit, {len(X1)} samples": one}


@probe("nnlib.logic.and_gate_weights", label="and_gate_weights()", evaluate=_gate_behaviour)
def _(nn, rng):
    return {"returned": nn.logic.and_gate_weights()}


@probe("nnlib.logic.or_gate_weights", label="or_gate_weights()", evaluate=_gate_behaviour)
def _(nn, rng):
    return {"returned": nn.logic.or_gate_weights()}


@probe("nnlib.logic.nand_gate_weights", label="nand_gate_weights()", evaluate=_gate_behaviour)
def _(nn, rng):
    return {"returned": nn.logic.nand_gate_weights()}


# Marker weights (w1, w2, b) the gate stand-ins return while xor_network is judged: no gate at all,
# just numbers no one would write, so evaluate can tell which gate a column came from.
_MARKERS = {"and_gate_weights": (1013.0, 1021.0, 1031.0),
            "or_gate_weights": (2017.0, 2027.0, 2039.0),
            "nand_gate_weights": (3019.0, 3023.0, 3037.0)}


def _marker_gates():
    return {name: (lambda w1=w1, w2=w2, b=b: (np.array([[w1], [w2]]), np.array([b])))
            for name, (w1, w2, b) in _MARKERS.items()}


def _unmarked(reference, W, b):
    """``W``, ``b`` with every column that is a gate's marker replaced by the reference's gate."""
    W, b = np.array(W, dtype=np.float64), np.array(b, dtype=np.float64)
    if W.ndim != 2 or W.shape[0] != 2 or b.shape != (W.shape[1],):
        return W, b
    for name, marker in _MARKERS.items():
        gate_W, gate_b = getattr(reference.logic, name)()
        for j in range(W.shape[1]):
            if (W[0, j], W[1, j], b[j]) == marker:
                W[:, j], b[j] = gate_W[:, 0], gate_b[0]
    return W, b


def _xor_behaviour(result, reference, rng):
    layers = result["layers"]
    two = _is_pair(layers) and all(_is_pair(layer) for layer in layers)
    typed = two and result["both layers are ThresholdLayer objects"] is True and all(
        type(array) is np.ndarray and array.dtype.kind in "biuf" and array.ndim == dims
        for layer in layers for array, dims in zip(layer, (2, 1)))
    (hidden_W, hidden_b), (output_W, output_b) = layers if typed else ((None, None), (None, None))
    checks = {"returns a list of 2 layers [hidden, output]": two,
              "both layers are ThresholdLayer objects": typed,
              "the hidden layer takes the 2 inputs": typed and hidden_W.shape[0] == 2
                  and hidden_b.shape == (hidden_W.shape[1],),
              "the output layer is one unit reading every hidden unit":
                  typed and output_W.shape == (hidden_W.shape[1], 1) and output_b.shape == (1,)}
    if all(checks.values()):
        hidden_W, hidden_b = _unmarked(reference, hidden_W, hidden_b)
        if output_W.shape[0] == 2:
            output_W, output_b = _unmarked(reference, output_W, output_b)

    def run(X):
        hidden = _reference_units(reference, X, hidden_W, hidden_b)
        return _reference_units(reference, hidden, output_W, output_b)[:, 0]
    return _behaviour(checks, _near_corners(rng), run)


@probe("nnlib.logic.xor_network", label="xor_network()", evaluate=_xor_behaviour)
def _(nn, rng):
    # Graded apart from the gates: xor_network runs with marker gates (see _unmarked).
    with _replaced(nn.logic, **_marker_gates()):
        layers = nn.logic.xor_network()
    two = isinstance(layers, (list, tuple)) and len(layers) == 2
    typed = two and all(isinstance(layer, nn.logic.ThresholdLayer) for layer in layers)
    return {"both layers are ThresholdLayer objects": typed,
            "layers": [[layer.W, layer.b] for layer in layers] if typed else layers}
