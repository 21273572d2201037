"""Probes of unit 06: softmax and log-softmax, the softmax cross-entropy loss, accuracy.

Every softmax probe includes logits of size 1000 (where ``np.exp`` overflows) and rows far apart
from each other (where one maximum for the whole array leaves a row of zeros), and calls the
functions along other axes than the last. The student's calls run with numpy's overflow, division
by zero and invalid value raised (``probes.stable``): an implementation that overflows fails with
what happened and what to do, even where its values come out right. Properties come first in each
result, named after what they check, so a wrong answer reads "softmax(z)['each column sums to 1
with axis=0']: expected True, got False" before any value is compared.

``CrossEntropyLoss`` is graded apart from the student's ``softmax`` and ``log_softmax``: while its
probes run, both names (in ``nnlib.losses`` and ``nnlib.functional``) are replaced by lookup tables
that know the answer only for the probe's own logits. The probe builds those logits backwards from
chosen probabilities, ``z = log(w) + c`` with positive weights ``w`` and a shift ``c`` per row (up
to ±1000), so that the softmax of a row is ``w / sum(w)`` by construction; a lookup returns that for
a row of the probe's logits (or the row plus a constant, as after subtracting its maximum) and NaN
for anything else. A loss that computes everything itself is judged on the same logits, so a correct
one passes either way, and the tables are no softmax anyone could call on their own data. One row's
right class lies 800 below the others, where the softmax underflows to 0: a loss that takes
``log(softmax(z))`` instead of ``log_softmax(z)`` divides by zero there.
"""
import contextlib

import numpy as np

from . import probe, stable

_SOFTMAX_ADVICE = ("subtract each row's maximum before exp (it cancels in the ratio), so that every "
                   "exponent is at most 0")
_LOG_SOFTMAX_ADVICE = ("log(softmax(z)) underflows to log(0): use log-sum-exp, z - max - "
                       "log(sum(exp(z - max))), with each row's maximum")
_LOSS_ADVICE = ("compute the log-probabilities by log-sum-exp (log_softmax), never exp of the raw "
                "logits or the log of a probability that may be 0")

_NAMES = ("softmax", "log_softmax")


def _rows_apart(rng, k):
    """Rows with the awkward logits: ±1000, a gap of 2000 inside a row, equal entries."""
    return np.array([
        np.full(k, 1000.0) + rng.normal(0.0, 2.0, k),            # every exp(z) overflows
        np.full(k, -1000.0) + rng.normal(0.0, 2.0, k),           # every exp(z) underflows to 0
        np.concatenate([[1000.0], rng.normal(0.0, 3.0, k - 2), [-1000.0]]),  # 2000 apart
        np.full(k, 1000.0),                                      # uniform, at 1000
        np.concatenate([[0.0], np.full(k - 1, -800.0)]),         # probabilities of e^-800
    ])


def _logits(rng, n_random, k):
    """Shape (n_random + 5, k): normal rows and the awkward ones, in a random order."""
    return rng.permutation(np.concatenate([rng.normal(0.0, 3.0, (n_random, k)),
                                           _rows_apart(rng, k)]))


def _sums_to_one(p, axis):
    return (isinstance(p, np.ndarray) and bool(np.all(np.isfinite(p)))
            and bool(np.allclose(np.sum(p, axis=axis), 1.0, rtol=0, atol=1e-9)))


def _finite(value):
    return isinstance(value, np.ndarray) and bool(np.all(np.isfinite(value)))


def _finite_number(value):
    try:
        return bool(np.size(value) == 1 and np.isfinite(float(np.ravel(value)[0])))
    except (TypeError, ValueError):
        return False


def _shape_of(value):
    return [int(size) for size in np.shape(value)]


@probe("nnlib.functional.softmax", label="softmax(z)")
def _(nn, rng):
    k = int(rng.integers(4, 8))
    z = _logits(rng, int(rng.integers(4, 9)), k)
    columns = _logits(rng, 3, k).T                   # one example per column: axis=0
    cube = rng.normal(0.0, 3.0, (2, 3, k))
    cube[0, 1] += 1000.0
    middle = rng.normal(0.0, 3.0, (2, k, 3))          # softmax over the middle axis
    middle[1, :, 2] -= 1000.0
    with stable("softmax(z) with logits of ±1000", _SOFTMAX_ADVICE):
        p = nn.functional.softmax(z)
        by_columns = nn.functional.softmax(columns, axis=0)
        vector = nn.functional.softmax(z[0])
        by_cube = nn.functional.softmax(cube)
        by_middle = nn.functional.softmax(middle, axis=1)
    return {
        "output has the shape of z": _shape_of(p),
        "no nan or inf for logits of ±1000 (subtract each row's maximum before exp)": _finite(p),
        "each row sums to 1 (normalise along the last axis by default)": _sums_to_one(p, -1),
        "each column sums to 1 with axis=0": _sums_to_one(by_columns, 0),
        f"softmax of logits of shape {z.shape}, some of ±1000": p,
        f"softmax(z, axis=0) of shape {columns.shape}": by_columns,
        f"softmax of a 1-D vector of {k} logits": vector,
        "softmax of shape (2, 3, K), last axis": by_cube,
        "softmax(z, axis=1) of shape (2, K, 3)": by_middle,
    }


@probe("nnlib.functional.log_softmax", label="log_softmax(z)")
def _(nn, rng):
    k = int(rng.integers(4, 8))
    z = _logits(rng, int(rng.integers(4, 9)), k)
    columns = _logits(rng, 3, k).T
    middle = rng.normal(0.0, 3.0, (2, k, 3))
    middle[0, :, 1] += 1000.0
    middle[1, 0, 0] -= 900.0
    with stable("log_softmax(z) with logits of ±1000", _LOG_SOFTMAX_ADVICE):
        log_p = nn.functional.log_softmax(z)
        by_columns = nn.functional.log_softmax(columns, axis=0)
        vector = nn.functional.log_softmax(z[-1])
        by_middle = nn.functional.log_softmax(middle, axis=1)
    return {
        "output has the shape of z": _shape_of(log_p),
        "no -inf, nan or inf for logits of ±1000 (log(softmax(z)) underflows: use log-sum-exp)":
            _finite(log_p),
        "exp of each row sums to 1 (normalise along the last axis by default)":
            _finite(log_p) and _sums_to_one(np.exp(log_p), -1),
        "exp of each column sums to 1 with axis=0": _finite(by_columns)
            and _sums_to_one(np.exp(by_columns), 0),
        f"log_softmax of logits of shape {z.shape}, some of ±1000": log_p,
        f"log_softmax(z, axis=0) of shape {columns.shape}": by_columns,
        f"log_softmax of a 1-D vector of {k} logits": vector,
        "log_softmax(z, axis=1) of shape (2, K, 3)": by_middle,
    }


# ----------------------------------------------------------------------------------------------
# CrossEntropyLoss, graded apart from softmax and log_softmax (see the module docstring)

def _classification_batch(rng):
    """Logits (N, K) made from probabilities ``w / sum(w)``, labels (N,), and the log-probabilities.

    The last row's right class scores 800 below the others: its probability, about e^-800, is 0
    in floating point, so only a loss computed by log-sum-exp gives it its loss of about 800
    (``-log(softmax(z))`` takes log(0)).
    """
    n, k = int(rng.integers(5, 12)), int(rng.integers(3, 8))
    weights = rng.uniform(0.02, 1.0, (n, k))
    shift = rng.normal(0.0, 3.0, n)
    shift[rng.choice(n, 3, replace=False)] = [1000.0, -1000.0, 700.0]
    logits = np.log(weights) + shift[:, None]
    log_probabilities = np.log(weights / weights.sum(axis=1, keepdims=True))
    labels = rng.integers(0, k, n)
    labels[0] = int(np.argmin(log_probabilities[0]))   # one confident mistake
    far = rng.normal(0.0, 1.0, k)
    far_label = int(rng.integers(k))
    far[far_label] -= 800.0
    top = far.max()
    far_log_probabilities = far - top - np.log(np.sum(np.exp(far - top)))
    return (np.vstack([logits, far]), np.append(labels, far_label).astype(np.int64),
            np.vstack([log_probabilities, far_log_probabilities]))


def _lookup(logits, table):
    """A function of ``(x, axis=-1)`` that maps each row of ``logits`` (plus any constant) to the
    same row of ``table``, along ``axis``; NaN for rows it does not know."""
    known = np.asarray(logits, dtype=np.float64)
    tolerance = 1e-9 * np.maximum(1.0, np.abs(known).max(axis=1))

    def stand_in(x, axis=-1):
        with np.errstate(all="ignore"):  # the table's arithmetic, not the student's
            return _look_up(x, axis)

    def _look_up(x, axis):
        x = np.asarray(x, dtype=np.float64)
        moved = np.moveaxis(x, axis, -1)
        rows = moved.reshape(-1, moved.shape[-1]) if moved.size else moved.reshape(0, 0)
        out = np.full(rows.shape, np.nan)
        if rows.shape[-1] == known.shape[1]:
            for i, row in enumerate(rows):
                difference = row[None, :] - known
                match = np.ptp(difference, axis=1) <= tolerance
                if match.any():
                    out[i] = table[int(np.argmax(match))]
        return np.moveaxis(out.reshape(moved.shape), -1, axis)

    return stand_in


@contextlib.contextmanager
def _softmax_tables(nn, logits, log_probabilities):
    """Within the block, ``softmax`` and ``log_softmax`` of ``nn.losses`` and ``nn.functional`` are
    lookup tables for ``logits`` only."""
    with np.errstate(under="ignore"):
        probabilities = np.exp(log_probabilities)
    tables = {"softmax": _lookup(logits, probabilities),
              "log_softmax": _lookup(logits, log_probabilities)}
    modules = [nn.functional, nn.losses]
    saved = [(module, name, getattr(module, name)) for module in modules for name in _NAMES
             if hasattr(module, name)]
    try:
        for module, name, _ in saved:
            setattr(module, name, tables[name])
        yield
    finally:
        for module, name, original in saved:
            setattr(module, name, original)


@probe("nnlib.losses.CrossEntropyLoss.forward", label="CrossEntropyLoss()(logits, labels)")
def _(nn, rng):
    logits, labels, log_probabilities = _classification_batch(rng)
    equal = np.zeros((4, logits.shape[1]))
    equal[1] += 1000.0
    with _softmax_tables(nn, np.concatenate([logits, equal]), np.concatenate(
            [log_probabilities, np.full(equal.shape, -np.log(equal.shape[1]))])):
        with stable("CrossEntropyLoss with logits shifted by ±1000", _LOSS_ADVICE):
            value = nn.losses.CrossEntropyLoss().forward(logits, labels)
            uniform = nn.losses.CrossEntropyLoss()(equal, labels[:4])
    return {"the loss is a finite number for logits shifted by ±1000, and for a right class "
            "800 below the others (use log-sum-exp)":
                _finite_number(value),
            f"loss of logits of shape {logits.shape}, some rows shifted by ±1000, the last "
            "one's right class 800 below the others": value,
            f"loss of equal logits (log K, K = {equal.shape[1]})": uniform}


@probe("nnlib.losses.CrossEntropyLoss.backward", label="CrossEntropyLoss.backward()")
def _(nn, rng):
    logits, labels, log_probabilities = _classification_batch(rng)
    with _softmax_tables(nn, logits, log_probabilities):
        loss = nn.losses.CrossEntropyLoss()
        loss.forward(logits, labels)  # judged by its own probe: only backward must be stable here
        with stable("CrossEntropyLoss.backward with logits shifted by ±1000",
                    "compute the softmax with each row's maximum subtracted before exp"):
            grad = loss.backward()
    rows = np.sum(grad, axis=1) if isinstance(grad, np.ndarray) and grad.ndim == 2 else None
    return {
        "dL/dz has the shape of the logits (N, K)": _shape_of(grad),
        "each row of dL/dz sums to 0, as (p - onehot(t)) / N does": rows is not None
            and bool(np.all(np.abs(rows) <= 1e-9)),
        f"dL/dz for logits of shape {logits.shape}, some rows shifted by ±1000": grad,
    }


# ----------------------------------------------------------------------------------------------
# accuracy

@probe("nnlib.metrics.accuracy", label="accuracy(pred, target)")
def _(nn, rng):
    accuracy = nn.metrics.accuracy
    n, k = int(rng.integers(10, 20)), int(rng.integers(3, 8))
    scores = rng.normal(0.0, 3.0, (n, k))
    labels = rng.integers(0, k, n)
    hits = rng.random(n) < 0.6
    labels[hits] = np.argmax(scores[hits], axis=1)           # about 60 % right
    weights = rng.uniform(0.0, 1.0, (n, k))                  # rows summing to 1, their own arg-max
    probabilities = weights / weights.sum(axis=1, keepdims=True)
    prob_labels = rng.integers(0, k, n)
    prob_labels[hits] = np.argmax(probabilities[hits], axis=1)

    p1 = rng.uniform(0.0, 1.0, n)
    p1[:3] = [0.5, 0.49, 0.51]                               # 0.5 counts as class 1
    binary = (rng.random(n) < 0.5).astype(np.int64)
    binary[:3] = [1, 1, 0]
    sequence = rng.normal(0.0, 1.0, (3, 4, k))
    sequence_targets = np.argmax(sequence, axis=-1)
    sequence_targets[0, :2] = (sequence_targets[0, :2] + 1) % k
    predicted = labels.copy()
    predicted[: n // 3] = (predicted[: n // 3] + 1) % k
    return {
        f"scores (logits) of shape ({n}, {k}) against labels ({n},)": accuracy(scores, labels),
        f"probabilities of shape ({n}, {k}) against labels ({n},)":
            accuracy(probabilities, prob_labels),
        f"probabilities of class 1, shape ({n},), against 0/1 labels (class 1 where p >= 0.5)":
            accuracy(p1, binary),
        f"probabilities of class 1, shape ({n}, 1), against 0/1 labels":
            accuracy(p1[:, None], binary),
        f"predicted labels ({n},) against labels ({n},)": accuracy(predicted, labels),
        f"sequence scores (3, 4, {k}) against labels (3, 4)": accuracy(sequence, sequence_targets),
    }
