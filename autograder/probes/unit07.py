"""Probes of unit 07: optimizers, initialisation, dropout, batch norm, mini-batches, early stopping.

Each function is graded on its own, so one mistake costs one test:

* An optimizer is built on a few parameter arrays of the probe. Before every step the probe writes
  fresh gradients into the gradient arrays, in place, as a backward pass does, and records the
  change of the parameters in each step and the optimizer's state at the end (under torch's key
  names). The gradients hold awkward entries: a row about a million times smaller than the rest
  (where adding epsilon inside the square root instead of after it shows), one entry a thousand
  times larger, and an exact zero in the first step. ``SGD.momentum_direction`` is reached through
  the released ``SGD.step``.
* Random functions have many right answers (``glorot_uniform``, ``he_normal``, the masks of
  ``Dropout.forward``, the shuffled order of ``iterate_minibatches``). The judged process returns
  the raw numbers; ``evaluate`` (trusted side only) turns them into what must hold: shapes, bounds,
  mean and variance within a tolerance many standard errors wide, the share of dropped units,
  rescaling, reproducibility from the generator passed in. What is deterministic (the batches
  without shuffling) is compared value for value.
* ``Dropout.backward`` and ``BatchNorm1d.backward`` read what forward cached. The probe sets those
  caches itself (``mask``; ``x_hat``, ``inv_std`` and the mode) after running the student's
  forward, so a wrong forward does not cost the backward test. The cached values are made from
  the probe's own random batch inside ``_normalised_batch``, which takes no data from outside: it is
  no normalisation anyone could call on their own batch.

Results list the properties first, named after what they check, so a wrong answer reads
"...['dx sums to 0 over the batch in every feature ...']: expected True, got False" before any
value is compared.
"""
import itertools

import numpy as np

from . import probe


def _copy(value):
    """A snapshot of what a student's function returned or stored (arrays copied, others as they are)."""
    return np.array(value, copy=True) if isinstance(value, np.ndarray) else value


def _array(value):
    """``value`` if it is a plain float or int ndarray, else None (an evaluate never raises on it)."""
    if type(value) is np.ndarray and value.dtype.kind in "biuf":
        return value
    return None


# ----------------------------------------------------------------------------------------------
# Optimizers: several steps on the probe's arrays with fresh gradients each step.

def _parameters(rng):
    """Two parameter arrays of random shapes and their gradient arrays (zeros for now)."""
    shapes = [(int(rng.integers(2, 5)), int(rng.integers(2, 5))), (int(rng.integers(3, 7)),)]
    return [rng.normal(size=shape) for shape in shapes], [np.zeros(shape) for shape in shapes]


def _write_gradients(rng, grads, step):
    """Fresh gradients, written in place: row 0 of the matrix about 1e-6 (tiny), one entry about
    1e3, and at the first step an exact zero."""
    for grad in grads:
        grad[...] = rng.normal(size=grad.shape)
    grads[0][0] *= 1e-6
    grads[1][0] *= 1e3
    if step == 1:
        grads[1][-1] = 0.0


def _run_steps(rng, optimizer, params, grads, steps, context, state_keys=(), first=""):
    """``steps`` steps with fresh gradients; what must match, labelled with ``context`` (and the
    first step's change with ``first``, what it should be)."""
    result = {}
    moved, untouched = False, True
    for step in range(1, steps + 1):
        _write_gradients(rng, grads, step)
        before = [param.copy() for param in params]
        written = [grad.copy() for grad in grads]
        optimizer.step()
        untouched = untouched and all(np.array_equal(g, w) for g, w in zip(grads, written))
        change = np.concatenate([(param - old).ravel() for param, old in zip(params, before)])
        moved = moved or bool(np.any(change != 0))
        what = f" ({first})" if first and step == 1 else ""
        result[f"{context}: change of the parameters in step {step}{what}"] = change
    result = {f"{context}: step changes the parameter arrays in place": moved,
              f"{context}: step leaves the gradient arrays unchanged": untouched, **result}
    for i in range(len(params)):
        state = optimizer.state[i] if i in optimizer.state else {}
        for key in state_keys:
            result[f"{context}: state[{i}][{key!r}] after step {steps}"] = _copy(state.get(key))
    return result


@probe("nnlib.optim.SGD.momentum_direction", label="SGD.momentum_direction")
def _(nn, rng):
    lr = float(rng.uniform(0.05, 0.3))
    mu = float(rng.uniform(0.5, 0.95))
    decay = float(rng.uniform(0.05, 0.3))
    result = {}
    cases = [(0.0, decay, 2, "-lr * (grad + weight_decay * param), towards 0"),
             (mu, 0.0, 4, "-lr * grad: the buffer starts at the first gradient"),
             (mu, decay, 3, "")]
    for momentum, weight_decay, steps, first in cases:
        params, grads = _parameters(rng)
        optimizer = nn.optim.SGD(list(zip(params, grads)), lr=lr, momentum=momentum,
                                 weight_decay=weight_decay)
        keys = ("momentum_buffer",) if momentum else ()
        context = f"SGD(lr={lr:.3g}, momentum={momentum:.3g}, weight_decay={weight_decay:.3g})"
        result.update(_run_steps(rng, optimizer, params, grads, steps, context, keys, first))
    return result


@probe("nnlib.optim.Adagrad.step", label="Adagrad.step")
def _(nn, rng):
    lr = float(rng.uniform(0.05, 0.5))
    decay = float(rng.uniform(0.05, 0.3))
    params, grads = _parameters(rng)
    result = _run_steps(rng, nn.optim.Adagrad(list(zip(params, grads)), lr=lr), params, grads, 4,
                        f"lr={lr:.3g}", ("sum",))
    params, grads = _parameters(rng)
    result.update(_run_steps(rng, nn.optim.Adagrad(list(zip(params, grads)), lr=lr,
                                                   weight_decay=decay),
                             params, grads, 3, f"lr={lr:.3g}, weight_decay={decay:.3g}", ("sum",)))
    return result


@probe("nnlib.optim.RMSprop.step", label="RMSprop.step")
def _(nn, rng):
    lr = float(rng.uniform(0.005, 0.05))
    alpha = float(rng.uniform(0.8, 0.99))
    decay = float(rng.uniform(0.05, 0.3))
    params, grads = _parameters(rng)
    result = _run_steps(rng, nn.optim.RMSprop(list(zip(params, grads)), lr=lr, alpha=alpha),
                        params, grads, 4, f"lr={lr:.3g}, alpha={alpha:.3g}", ("square_avg",))
    params, grads = _parameters(rng)
    result.update(_run_steps(rng, nn.optim.RMSprop(list(zip(params, grads)), lr=lr,
                                                   weight_decay=decay),
                             params, grads, 3, f"lr={lr:.3g}, weight_decay={decay:.3g}",
                             ("square_avg",)))
    return result


@probe("nnlib.optim.Adam.step", label="Adam.step")
def _(nn, rng):
    lr = float(rng.uniform(0.001, 0.05))
    betas = (float(rng.uniform(0.8, 0.95)), float(rng.uniform(0.95, 0.999)))
    decay = float(rng.uniform(0.05, 0.3))
    params, grads = _parameters(rng)
    result = _run_steps(rng, nn.optim.Adam(list(zip(params, grads)), lr=lr, betas=betas), params,
                        grads, 5, f"lr={lr:.3g}, betas=({betas[0]:.3g}, {betas[1]:.4g})",
                        ("exp_avg", "exp_avg_sq"),
                        "about lr per entry, whatever the gradient's size, thanks to the bias "
                        "corrections")
    params, grads = _parameters(rng)
    result.update(_run_steps(rng, nn.optim.Adam(list(zip(params, grads)), lr=lr,
                                                weight_decay=decay),
                             params, grads, 3, f"lr={lr:.3g}, weight_decay={decay:.3g}",
                             ("exp_avg", "exp_avg_sq")))
    return result


# ----------------------------------------------------------------------------------------------
# Initialisation: judged by the distribution of the weights (evaluate, trusted side).

def _draws(nn, rng, name):
    """Weights for a tall and a wide layer, and the same draw again from an equal generator."""
    function = getattr(nn.init, name)
    fan_in, fan_out = int(rng.integers(40, 90)), int(rng.integers(200, 300))
    seed = int(rng.integers(2 ** 31))
    generator = np.random.default_rng(seed)
    first = _copy(function(fan_in, fan_out, generator))
    second = _copy(function(fan_in, fan_out, generator))
    again = _copy(function(fan_in, fan_out, np.random.default_rng(seed)))
    wide = _copy(function(fan_out, fan_in, np.random.default_rng(seed + 1)))
    return {"fan_in": fan_in, "fan_out": fan_out, "W": first, "next W from the same generator": second,
            "W from an equal generator": again, "W with fan_in and fan_out swapped": wide}


def _statistics(W, variance, bound=None, normal=False):
    """What must hold for a weight matrix drawn with this ``variance`` (and ``bound`` or normal)."""
    checks = {}
    values = W.ravel()
    n = values.size
    with np.errstate(all="ignore"):  # a NaN anywhere makes a check False, not a warning
        checks["mean about 0"] = bool(abs(values.mean()) <= 6 * np.sqrt(variance / n))
        checks[f"variance {variance:.4g} (within 10%)"] = bool(abs(values.var() / variance - 1) <= 0.1)
        if bound is not None:
            largest = float(np.max(np.abs(values)))
            checks[f"every entry within ±{bound:.4g}"] = largest <= bound * (1 + 1e-12)
            checks["the largest |entry| is close to the bound (a uniform distribution)"] = \
                largest >= 0.98 * bound
        if normal:
            beyond = float(np.mean(np.abs(values) > 2 * np.sqrt(variance)))
            checks["about 4.6% of the entries lie beyond 2 standard deviations (a normal "
                   "distribution)"] = 0.032 <= beyond <= 0.059
    return checks


def _init_properties(result, reference, rng, name):
    fan_in, fan_out = int(result["fan_in"]), int(result["fan_out"])
    if name == "glorot_uniform":
        variance = 2.0 / (fan_in + fan_out)
        bound, normal = np.sqrt(6.0 / (fan_in + fan_out)), False
        wide_variance = variance
    else:
        variance, bound, normal = 2.0 / fan_in, None, True
        wide_variance = 2.0 / fan_out
    W, second = _array(result["W"]), _array(result["next W from the same generator"])
    again, wide = _array(result["W from an equal generator"]), _array(
        result["W with fan_in and fan_out swapped"])
    shaped = W is not None and W.shape == (fan_in, fan_out)
    checks = {f"returns a numpy array of shape (fan_in, fan_out) = ({fan_in}, {fan_out})": shaped,
              "of dtype float64": shaped and W.dtype == np.float64}
    # Every check is always present (False where it cannot hold), so the comparison with the
    # reference's checks reads the first one that fails.
    if not shaped:
        W = np.full((fan_in, fan_out), np.nan)
    for key, value in _statistics(W.astype(np.float64), variance, bound, normal).items():
        checks[f"{name}({fan_in}, {fan_out}): {key}"] = value
    wide_ok = wide is not None and wide.shape == (fan_out, fan_in)
    checks[f"{name}({fan_out}, {fan_in}) has shape ({fan_out}, {fan_in})"] = wide_ok
    if not wide_ok:
        wide = np.full((fan_out, fan_in), np.nan)
    for key, value in _statistics(wide.astype(np.float64), wide_variance).items():
        checks[f"{name}({fan_out}, {fan_in}): {key}"] = value
    checks["the weights are drawn from rng: an equal generator gives equal weights"] = \
        shaped and again is not None and again.shape == W.shape and bool(np.array_equal(again, W))
    checks["a second call with the same generator gives new weights"] = \
        shaped and second is not None and second.shape == W.shape and not bool(
            np.array_equal(second, W))
    return checks


@probe("nnlib.init.glorot_uniform", label="glorot_uniform",
       evaluate=lambda result, reference, rng: _init_properties(result, reference, rng,
                                                                "glorot_uniform"))
def _(nn, rng):
    return _draws(nn, rng, "glorot_uniform")


@probe("nnlib.init.he_normal", label="he_normal",
       evaluate=lambda result, reference, rng: _init_properties(result, reference, rng, "he_normal"))
def _(nn, rng):
    return _draws(nn, rng, "he_normal")


# ----------------------------------------------------------------------------------------------
# Dropout

def _dropout_p(rng):
    """A dropping probability at least 0.1 away from 1/2 (so p and 1 - p are told apart)."""
    return float(rng.choice([rng.uniform(0.15, 0.4), rng.uniform(0.6, 0.8)]))


def _away_from_zero(rng, shape):
    """Inputs never equal to 0, so a dropped unit is told from a kept one."""
    return rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


@probe("nnlib.regularization.Dropout.forward", label="Dropout.forward",
       evaluate=lambda result, reference, rng: _dropout_properties(result))
def _(nn, rng):
    p = _dropout_p(rng)
    x = _away_from_zero(rng, (100, 120))
    seed = int(rng.integers(2 ** 31))
    Dropout = nn.regularization.Dropout
    layer = Dropout(p, rng=np.random.default_rng(seed))
    out = _copy(layer.forward(x))
    mask = _copy(layer.mask)
    out_next = _copy(layer.forward(x))
    twin = Dropout(p, rng=np.random.default_rng(seed))
    out_twin = _copy(twin.forward(x))
    layer.eval()
    out_eval = _copy(layer.forward(x))
    mask_eval = _copy(layer.mask)
    small = _away_from_zero(rng, (4, 5))
    cube = _away_from_zero(rng, (2, 3, 4))
    return {"p": p, "x": x, "out": out, "mask": mask, "out of a second forward": out_next,
            "out of a layer with an equal generator": out_twin, "out in eval mode": out_eval,
            "mask in eval mode": mask_eval, "small x": small,
            "out with p = 0": _copy(Dropout(0.0, rng=seed).forward(small)),
            "out with p = 1": _copy(Dropout(1.0, rng=seed).forward(small)),
            "x of shape (2, 3, 4)": cube, "out for x of shape (2, 3, 4)":
                _copy(Dropout(p, rng=seed).forward(cube))}


def _dropout_properties(result):
    p, x = float(result["p"]), result["x"]
    out, mask = _array(result["out"]), _array(result["mask"])
    shaped = out is not None and out.shape == x.shape
    kept = shaped & (out != 0) if shaped else None
    checks = {"forward returns an array of the shape of x, (100, 120)": shaped}
    checks["every output is 0 (dropped) or x / (1 - p) (kept, and scaled up: inverted dropout)"] = \
        shaped and bool(np.all((out == 0) | np.isclose(out, x / (1 - p), rtol=1e-12, atol=0)))
    share = float(1 - kept.mean()) if shaped else -1.0
    checks[f"the share of dropped units is about p = {p:.3f} (within 0.03; p is the probability "
           "of dropping, not of keeping)"] = abs(share - p) <= 0.03
    checks["self.mask holds the mask used, scaled: out = x * mask"] = \
        shaped and mask is not None and mask.shape == x.shape and bool(
            np.allclose(x * mask, out, rtol=1e-12, atol=0))
    following = _array(result["out of a second forward"])
    checks["a second forward drops other units (a new mask each time)"] = \
        shaped and following is not None and following.shape == x.shape and bool(
            np.any((following == 0) != (out == 0)))
    twin = _array(result["out of a layer with an equal generator"])
    checks["the mask is drawn from self.rng: a layer with an equal generator drops the same units"] = \
        shaped and twin is not None and twin.shape == x.shape and bool(np.array_equal(twin, out))
    out_eval, mask_eval = _array(result["out in eval mode"]), _array(result["mask in eval mode"])
    checks["in eval mode forward returns x unchanged"] = \
        out_eval is not None and out_eval.shape == x.shape and bool(np.array_equal(out_eval, x))
    checks["in eval mode self.mask is all ones"] = \
        mask_eval is not None and mask_eval.shape == x.shape and bool(np.all(mask_eval == 1))
    small = result["small x"]
    zero, one = _array(result["out with p = 0"]), _array(result["out with p = 1"])
    checks["p = 0 keeps every unit: out = x"] = \
        zero is not None and zero.shape == small.shape and bool(np.array_equal(zero, small))
    checks["p = 1 drops every unit: out is all zeros (no nan from 1 / (1 - p))"] = \
        one is not None and one.shape == small.shape and bool(np.all(one == 0))
    cube, out_cube = result["x of shape (2, 3, 4)"], _array(result["out for x of shape (2, 3, 4)"])
    checks["works on x of shape (2, 3, 4): out of that shape, each entry 0 or x / (1 - p)"] = \
        out_cube is not None and out_cube.shape == cube.shape and bool(
            np.all((out_cube == 0) | np.isclose(out_cube, cube / (1 - p), rtol=1e-12, atol=0)))
    return checks


@probe("nnlib.regularization.Dropout.backward", label="Dropout.backward")
def _(nn, rng):
    p = _dropout_p(rng)
    layer = nn.regularization.Dropout(p, rng=int(rng.integers(2 ** 31)))
    shape = (int(rng.integers(3, 8)), int(rng.integers(3, 8)))
    mask = (rng.random(shape) >= p) / (1 - p)   # the mask a forward pass would have stored
    layer.mask = mask.copy()
    grad_out = rng.normal(size=shape)
    dx = _copy(layer.backward(grad_out))
    dx_again = _copy(layer.backward(grad_out))
    layer.mask = np.ones(shape)                 # what forward stores in eval mode
    dx_eval = _copy(layer.backward(grad_out))
    cube_mask = (rng.random((2, 3, 4)) >= p) / (1 - p)
    layer.mask = cube_mask
    cube_dx = _copy(layer.backward(rng.normal(size=(2, 3, 4))))
    return {
        "backward returns an array of the shape of dy": isinstance(dx, np.ndarray) and dx.shape == shape,
        "backward uses the stored mask (a second call gives the same dx)":
            isinstance(dx, np.ndarray) and isinstance(dx_again, np.ndarray)
            and dx.shape == dx_again.shape and bool(np.array_equal(dx, dx_again)),
        f"dx = dy * mask for a stored mask of 0 and 1 / (1 - p) = {1 / (1 - p):.4g}": dx,
        "dx after a forward in eval mode (mask all ones)": dx_eval,
        "dx for inputs of shape (2, 3, 4)": cube_dx,
    }


# ----------------------------------------------------------------------------------------------
# Batch norm

def _awkward_batch(rng, n, d):
    """A batch whose features have very different scales and offsets, one of them constant."""
    x = rng.normal(rng.normal(0.0, 20.0, d), rng.uniform(0.1, 10.0, d), (n, d))
    x[:, int(rng.integers(d))] = rng.normal()
    return x


def _batchnorm_layer(nn, rng, d):
    momentum = float(rng.uniform(0.05, 0.5))
    layer = nn.regularization.BatchNorm1d(d, momentum=momentum)
    layer.params["gamma"] = rng.uniform(0.5, 2.0, d) * rng.choice([-1.0, 1.0], d)
    layer.params["beta"] = rng.normal(size=d)
    return layer, momentum


@probe("nnlib.regularization.BatchNorm1d.forward", label="BatchNorm1d.forward")
def _(nn, rng):
    n, d = int(rng.integers(5, 12)), int(rng.integers(3, 7))
    layer, momentum = _batchnorm_layer(nn, rng, d)
    first, second = _awkward_batch(rng, n, d), _awkward_batch(rng, n + 3, d)
    y_first = _copy(layer.forward(first))
    x_hat, inv_std = _copy(layer.x_hat), _copy(layer.inv_std)
    mean_first, var_first = _copy(layer.running_mean), _copy(layer.running_var)
    y_second = _copy(layer.forward(second))
    mean_second, var_second = _copy(layer.running_mean), _copy(layer.running_var)
    y_pair = _copy(layer.forward(_awkward_batch(rng, 2, d)))
    layer.eval()
    test = _awkward_batch(rng, 4, d)
    y_eval = _copy(layer.forward(test))
    return {
        f"y for a batch of shape ({n}, {d}), features of very different scales, one constant": y_first,
        "self.x_hat after that forward, shape (N, D)": x_hat,
        "self.inv_std after that forward, 1 / sqrt(var + eps), shape (D,)": inv_std,
        f"running_mean after one batch (momentum={momentum:.3g})": mean_first,
        "running_var after one batch (the unbiased variance, N / (N - 1) times the batch's)": var_first,
        f"y for a second batch of shape ({n + 3}, {d})": y_second,
        "running_mean after two batches": mean_second,
        "running_var after two batches": var_second,
        "y for a batch of 2 examples": y_pair,
        "y in eval mode (normalised with the running statistics, which stay unchanged)": y_eval,
        "running_mean after a forward in eval mode": _copy(layer.running_mean),
        "running_var after a forward in eval mode": _copy(layer.running_var),
    }


def _normalised_batch(rng, n, d, eps):
    """A random batch of the probe, with what a forward pass in training mode caches for it:
    ``(x, x_hat, inv_std)``. (It draws its own batch: it normalises nothing it is given.)"""
    x = _awkward_batch(rng, n, d)
    inv_std = 1.0 / np.sqrt(x.var(axis=0) + eps)
    return x, (x - x.mean(axis=0)) * inv_std, inv_std


@probe("nnlib.regularization.BatchNorm1d.backward", label="BatchNorm1d.backward")
def _(nn, rng):
    n, d = int(rng.integers(5, 12)), int(rng.integers(3, 7))
    layer, _ = _batchnorm_layer(nn, rng, d)
    x, x_hat, inv_std = _normalised_batch(rng, n, d, layer.eps)
    running_mean, running_var = rng.normal(size=d), rng.uniform(0.5, 2.0, d)

    def cached_forward(training, x_hat, inv_std):
        # The student's forward runs (it may cache more than this), then the caches are set here,
        # so that a mistake in forward does not cost this test.
        layer.train(training)
        layer.running_mean, layer.running_var = running_mean.copy(), running_var.copy()
        try:
            layer.forward(x)
        except Exception:
            pass
        layer.x_hat, layer.inv_std = x_hat.copy(), inv_std.copy()
        layer.used_batch_statistics = training

    grad_out = rng.normal(size=(n, d))
    cached_forward(True, x_hat, inv_std)
    dx = _copy(layer.backward(grad_out))
    grads = {key: _copy(layer.grads[key]) for key in ("gamma", "beta")}
    eval_inv_std = 1.0 / np.sqrt(running_var + layer.eps)
    cached_forward(False, (x - running_mean) * eval_inv_std, eval_inv_std)
    dx_eval = _copy(layer.backward(grad_out))
    fine = isinstance(dx, np.ndarray) and dx.shape == (n, d)
    return {
        "backward returns an array of the shape of x": fine,
        "dx sums to 0 over the batch in every feature (the batch mean is subtracted in forward, "
        "so shifting a whole feature changes nothing)":
            fine and bool(np.allclose(dx.sum(axis=0), 0.0, rtol=0,
                                      atol=1e-9 * max(1.0, float(np.abs(dx).max())) * n)),
        f"dx in training mode, batch of shape ({n}, {d}) with a constant feature": dx,
        "grads['gamma'] = sum over the batch of dy * x_hat": grads["gamma"],
        "grads['beta'] = sum over the batch of dy": grads["beta"],
        "dx in eval mode (the running statistics are constants)": dx_eval,
    }


# ----------------------------------------------------------------------------------------------
# Mini-batches

def _batches(nn, X, y, batch_size, shuffle, rng):
    """The X and y batches of one pass (at most 1000 batches, in case the generator never ends)."""
    pairs = list(itertools.islice(nn.data.iterate_minibatches(X, y, batch_size, shuffle=shuffle,
                                                              rng=rng), 1000))
    return [_copy(pair[0]) for pair in pairs], [_copy(pair[1]) for pair in pairs]


def _numbered(n):
    """Samples that say who they are: X row i is (i, -2i), y_i = i."""
    index = np.arange(n)
    return np.column_stack([index, -2.0 * index]), index


@probe("nnlib.data.iterate_minibatches", label="iterate_minibatches",
       evaluate=lambda result, reference, rng: _minibatch_properties(result))
def _(nn, rng):
    batch_size = int(rng.integers(4, 11))
    n = batch_size * int(rng.integers(3, 7)) + int(rng.integers(1, batch_size))  # a partial batch
    X, y = _numbered(n)
    seed = int(rng.integers(2 ** 31))
    result = {"n": n, "batch_size": batch_size}
    result["X in order"], result["y in order"] = _batches(nn, X, y, batch_size, False, None)
    generator = np.random.default_rng(seed)
    result["X shuffled"], result["y shuffled"] = _batches(nn, X, y, batch_size, True, generator)
    result["y of a second pass with the same generator"] = \
        _batches(nn, X, y, batch_size, True, generator)[1]
    result["y shuffled by an equal generator"] = \
        _batches(nn, X, y, batch_size, True, np.random.default_rng(seed))[1]
    exact = batch_size * int(rng.integers(2, 5))
    result["exact n"] = exact
    result["y in order, n a multiple of batch_size"] = _batches(nn, *_numbered(exact), batch_size,
                                                                False, None)[1]
    small = int(rng.integers(2, batch_size))
    result["small n"] = small
    result["y in order, batch_size larger than n"] = _batches(nn, *_numbered(small), batch_size,
                                                              False, None)[1]
    return result


def _sizes(batches):
    return [int(len(batch)) if _array(batch) is not None else -1 for batch in batches]


def _every_sample_once(batches, n):
    if any(_array(batch) is None or batch.ndim != 1 for batch in batches) or not batches:
        return False
    seen = np.concatenate(batches)
    return bool(len(seen) == n and np.array_equal(np.sort(seen), np.arange(n)))


def _minibatch_properties(result):
    n, size = int(result["n"]), int(result["batch_size"])
    y_order, X_order = list(result["y in order"]), list(result["X in order"])
    y_shuffled, X_shuffled = list(result["y shuffled"]), list(result["X shuffled"])
    second = list(result["y of a second pass with the same generator"])
    equal = list(result["y shuffled by an equal generator"])
    expected_batches = -(-n // size)
    checks = {
        f"number of batches for n={n}, batch_size={size} (the last one holds the {n % size} left "
        f"over)": len(y_order),
        "sizes of the batches without shuffling": np.array(_sizes(y_order)),
        "without shuffling: the y batches, in order": y_order,
        "without shuffling: the X batches, in order": X_order,
        "with shuffling: the sizes of the batches": np.array(_sizes(y_shuffled)),
        "with shuffling: every sample appears exactly once": _every_sample_once(y_shuffled, n),
        "with shuffling: X and y rows stay paired": len(X_shuffled) == len(y_shuffled) == expected_batches
            and all(_array(Xb) is not None and _array(yb) is not None and Xb.ndim == 2
                    and Xb.shape[0] == yb.shape[0] and np.array_equal(Xb[:, 0], yb)
                    for Xb, yb in zip(X_shuffled, y_shuffled)),
        "with shuffling: the order is not 0, 1, 2, ...": _every_sample_once(y_shuffled, n)
            and not np.array_equal(np.concatenate(y_shuffled), np.arange(n)),
        "the order comes from rng: an equal generator gives the same batches":
            _every_sample_once(equal, n) and len(equal) == len(y_shuffled)
            and all(np.array_equal(a, b) for a, b in zip(equal, y_shuffled)),
        "a second pass with the same generator visits the samples in a new order":
            _every_sample_once(second, n) and _every_sample_once(y_shuffled, n)
            and not np.array_equal(np.concatenate(second), np.concatenate(y_shuffled)),
        f"n={int(result['exact n'])}, a multiple of batch_size={size}: the batches (no empty one at "
        "the end)": list(result["y in order, n a multiple of batch_size"]),
        f"n={int(result['small n'])} smaller than batch_size={size}: one batch of every sample":
            list(result["y in order, batch_size larger than n"]),
    }
    return checks


# ----------------------------------------------------------------------------------------------
# Early stopping

def _loss_sequence(rng, patience, min_delta):
    """Validation losses (in thousandths) that test the counter: a run of patience - 1 epochs
    without improvement and then an improvement (no stop), a loss equal to the best and, with
    min_delta, improvements smaller than it (neither counts), then a run long enough to stop."""
    delta = int(round(1000 * min_delta))
    best = int(rng.integers(800, 1200))
    losses = [best]

    def improve():
        nonlocal best
        best -= delta + int(rng.integers(30, 120))
        losses.append(best)

    def no_improvement(count):
        for _ in range(count):
            kind = int(rng.integers(3))
            if kind == 0:
                losses.append(best)                       # equal: not lower
            elif kind == 1 and delta:
                losses.append(best - delta // 2)          # lower, but by less than min_delta
            else:
                losses.append(best + int(rng.integers(1, 80)))

    improve()
    no_improvement(patience - 1)
    improve()
    no_improvement(patience + 2)
    improve()
    no_improvement(2)
    return [value / 1000 for value in losses]


@probe("nnlib.train.EarlyStopping.should_stop", label="EarlyStopping.should_stop")
def _(nn, rng):
    result = {}
    for patience, min_delta in ((int(rng.integers(2, 5)), 0.0), (1, 0.0),
                                (int(rng.integers(2, 4)), 0.05)):
        losses = _loss_sequence(rng, patience, min_delta)
        stopper = nn.train.EarlyStopping(patience, min_delta=min_delta)
        decisions, counters, best_losses, best_epochs = [], [], [], []
        for loss in losses:
            decisions.append(stopper.should_stop(loss))
            counters.append(stopper.counter)
            best_losses.append(stopper.best_loss)
            best_epochs.append(stopper.best_epoch)
        context = f"patience={patience}, min_delta={min_delta:g}, losses {losses}"
        result[f"should_stop(loss) after each loss, {context}"] = decisions
        result[f"counter after each call, {context}"] = counters
        result[f"best_loss after each call, {context}"] = best_losses
        result[f"best_epoch after each call, {context}"] = best_epochs
    return result
