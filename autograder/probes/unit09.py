"""Probes of unit 09: the recurrent layer's forward pass, backpropagation through time, clipping.

``RNN.forward`` and ``RNN.backward`` run on a layer of the student's class whose ``Wx``, ``Wh`` and
``b`` are set here (its initialisation plays no part). The backward pass can only be judged after a
forward pass, and the student's backward reads what the student's forward stored, so the backward
probe runs the student's forward first and says so in its first entry: a wrong forward reads
"forward(x, h0) gives the right states ...: fix RNN.forward first".

Properties come before values, each named after a mistake it catches: a backward that stops after
one step gives no gradient to the first input when the loss reads only the last state; one that
forgets the loss's own gradient at the earlier steps gives none when the loss reads only the first
state; a wrong tanh slope shows on a single step with ``W_h = 0``, a plain tanh layer.
``clip_grad_norm`` scales plain arrays; its properties (in place, one factor for all, the norm before
clipping returned) come before its values.

``LSTM.forward`` and ``LSTM.backward`` are probed the same way, with checks that name a gate or a
time step: one step from a nonzero ``c0`` shows a forgotten ``f * c_{t-1}``; each gate's slice of
``grads['b']`` on a single step shows that gate's derivative; a one-step sequence that gets no
gradient shows a loop over time stopping before the first step; and with ``W_h = 0`` only the cell
state carries the gradient back, so a backward that drops ``dL/dc_{t-1}`` gives the earlier inputs
nothing.

Results hold numbers, booleans and arrays only; nothing here computes a recurrent layer or a
clipping a student could call instead of writing their own.
"""
import numpy as np

from . import probe


def _copy(value):
    """A snapshot of what a student's function returned or stored (arrays copied, others as they are)."""
    return np.array(value, copy=True) if isinstance(value, np.ndarray) else value


def _shaped(value, shape):
    return isinstance(value, np.ndarray) and value.shape == tuple(shape)


def _sizes(rng):
    """Distinct sizes N, T, D, H (a transposed product then fails instead of passing by accident)."""
    return [int(size) for size in rng.choice(np.arange(2, 8), 4, replace=False)]


def _layer(nn, rng, D, H, recurrent_scale=1.2):
    """An RNN of the student's class with weights drawn here: ``Wx`` (D, H), ``Wh`` (H, H), ``b``."""
    layer = nn.rnn.RNN(D, H, rng=0)
    layer.params["Wx"] = rng.normal(0.0, 1.0 / np.sqrt(D), (D, H))
    layer.params["Wh"] = rng.normal(0.0, recurrent_scale / np.sqrt(H), (H, H))
    layer.params["b"] = rng.normal(0.0, 0.5, H)
    return layer


def _params(layer):
    return {name: np.array(layer.params[name], copy=True) for name in ("Wx", "Wh", "b")}


# ----------------------------------------------------------------------------------------------
# RNN.forward

@probe("nnlib.rnn.RNN.forward", label="RNN.forward")
def _(nn, rng):
    N, T, D, H = _sizes(rng)
    layer = _layer(nn, rng, D, H)
    before = _params(layer)
    x, h0 = rng.normal(size=(N, T, D)), rng.normal(0.0, 0.7, (N, H))
    x_before, h0_before = x.copy(), h0.copy()
    from_zero = _copy(layer.forward(x))
    with_h0 = _copy(layer.forward(x, h0))
    unchanged = (np.array_equal(x, x_before) and np.array_equal(h0, h0_before)
                 and all(np.array_equal(layer.params[name], value) for name, value in before.items()))
    one_step = _copy(layer.forward(rng.normal(size=(N, 1, D)), rng.normal(0.0, 0.7, (N, H))))
    single = _copy(layer.forward(rng.normal(size=(1, T, D))))
    saturated = _copy(layer.forward(rng.normal(0.0, 100.0, (N, T, D)), h0))
    return {
        f"forward(x) returns every hidden state, shape (N, T, H) = ({N}, {T}, {H})":
            _shaped(from_zero, (N, T, H)),
        "forward(x) with h0=None starts from h0 = 0": from_zero,
        "forward(x, h0) with a nonzero initial state h0": with_h0,
        "forward leaves x, h0 and the parameters unchanged": bool(unchanged),
        "a sequence of one step (T = 1)": one_step,
        "a batch of one sequence (N = 1)": single,
        "inputs of size 100 (the states saturate at ±1)": saturated,
    }


# ----------------------------------------------------------------------------------------------
# RNN.backward, after the student's forward

def _backward(layer, x, h0, grad_out):
    """What ``backward(grad_out)`` returns and stores after ``forward(x, h0)`` (copies)."""
    layer.forward(x, h0)
    dx = _copy(layer.backward(grad_out))
    grads = {name: _copy(layer.grads.get(name)) for name in ("Wx", "Wh", "b")}
    return dx, grads, _copy(getattr(layer, "dh0", None))


def _reaches_first_input(dx, shape):
    """True if ``dx`` has ``shape`` and some gradient at the first time step."""
    return _shaped(dx, shape) and bool(np.all(np.isfinite(dx))) and bool(np.any(dx[:, 0] != 0))


@probe("nnlib.rnn.RNN.backward", label="RNN.backward")
def _(nn, rng):
    N, T, D, H = _sizes(rng)
    layer = _layer(nn, rng, D, H)
    x, h0 = rng.normal(size=(N, T, D)), rng.normal(0.0, 0.7, (N, H))
    states = _copy(layer.forward(x, h0))

    # One step with W_h = 0: a plain tanh layer after an affine map.
    step = _layer(nn, rng, D, H)
    step.params["Wh"] = np.zeros((H, H))
    _, step_grads, _ = _backward(step, rng.normal(size=(N, 1, D)), rng.normal(size=(N, H)),
                                 rng.normal(size=(N, 1, H)))

    # The loss reads only the last state (as with LastTimeStep), then only the first.
    last_only = np.zeros((N, T, H))
    last_only[:, -1] = rng.normal(size=(N, H))
    dx_last, grads_last, dh0_last = _backward(layer, x, h0, last_only)
    first_only = np.zeros((N, T, H))
    first_only[:, 0] = rng.normal(size=(N, H))
    dx_first, _, _ = _backward(layer, x, h0, first_only)

    grad_out = rng.normal(size=(N, T, H))
    dx, grads, dh0 = _backward(layer, x, h0, grad_out)
    _, grads_again, _ = _backward(layer, x, h0, grad_out)
    overwritten = all(_shaped(grads[name], grads_again[name].shape) and
                      np.allclose(grads[name], grads_again[name], rtol=1e-9, atol=1e-12)
                      for name in grads if isinstance(grads_again[name], np.ndarray))

    return {
        "forward(x, h0) gives the right states (backward is graded after your forward: "
        "fix RNN.forward first)": states,
        f"backward returns dx of the shape of x, (N, T, D) = ({N}, {T}, {D})": _shaped(dx, x.shape),
        "grads['b'] for one step with W_h = 0, a plain tanh layer: dL/da = dL/dh * tanh'(a) with "
        "tanh'(a) = 1 - h^2, h = tanh(a) the stored state": step_grads["b"],
        "the gradient reaches the first input when the loss reads only the last state "
        "(dL/dh_t is carried back through time, dL/dh_{t-1} += dL/da_t W_h^T)":
            _reaches_first_input(dx_last, x.shape),
        "the first input gets a gradient when the loss reads only the first state (dL/dh_t adds "
        "the loss's own gradient grad_out[:, t] at every step to what comes back from step t + 1)":
            _reaches_first_input(dx_first, x.shape),
        "grads['b'] = dL/db, shape (H,), summed over the batch and over every time step": grads["b"],
        "grads['Wh'] = dL/dW_h, the sum over t of h_{t-1}^T dL/da_t (the state BEFORE step t)":
            grads["Wh"],
        "grads['Wx'] = dL/dW_x, the sum over t of x_t^T dL/da_t": grads["Wx"],
        f"dx = dL/dx, shape ({N}, {T}, {D})": dx,
        f"self.dh0 = dL/dh0, shape ({N}, {H})": dh0,
        "a second backward after the same forward stores the same grads (overwrite them, do not "
        "add to them)": bool(overwritten),
        "dx when the loss reads only the last state": dx_last,
        "grads['Wh'] when the loss reads only the last state": grads_last["Wh"],
        "self.dh0 when the loss reads only the last state": dh0_last,
    }


# ----------------------------------------------------------------------------------------------
# LSTM.forward and LSTM.backward

GATES = ("input gate i", "forget gate f", "candidate g", "output gate o")


def _lstm(nn, rng, D, H):
    """An LSTM of the student's class with weights drawn here: ``Wx`` (D, 4H), ``Wh`` (H, 4H), ``b``."""
    layer = nn.rnn.LSTM(D, H, rng=0)
    layer.params["Wx"] = rng.normal(0.0, 1.0 / np.sqrt(D), (D, 4 * H))
    layer.params["Wh"] = rng.normal(0.0, 1.0 / np.sqrt(H), (H, 4 * H))
    layer.params["b"] = rng.normal(0.0, 0.5, 4 * H)
    return layer


@probe("nnlib.rnn.LSTM.forward", label="LSTM.forward")
def _(nn, rng):
    N, T, D, H = _sizes(rng)
    layer = _lstm(nn, rng, D, H)
    before = _params(layer)
    x = rng.normal(size=(N, T, D))
    h0, c0 = rng.normal(0.0, 0.7, (N, H)), rng.normal(0.0, 1.0, (N, H))
    inputs_before = [x.copy(), h0.copy(), c0.copy()]
    step = rng.normal(size=(N, 1, D))
    from_zero_one_step = _copy(layer.forward(step))
    from_c0_one_step = _copy(layer.forward(step, np.zeros((N, H)), c0))
    from_zero = _copy(layer.forward(x))
    with_states = _copy(layer.forward(x, h0, c0))
    unchanged = (all(np.array_equal(a, b) for a, b in zip((x, h0, c0), inputs_before))
                 and all(np.array_equal(layer.params[name], value) for name, value in before.items()))
    single = _copy(layer.forward(rng.normal(size=(1, T, D))))
    saturated = _copy(layer.forward(rng.normal(0.0, 100.0, (N, T, D)), h0, c0))
    return {
        f"forward(x) returns every hidden state, shape (N, T, H) = ({N}, {T}, {H})":
            _shaped(from_zero, (N, T, H)),
        "one step from h0 = c0 = 0: h_1 = o * tanh(i * g), the gates in PyTorch's order i, f, g, o "
        "(columns 0:H, H:2H, 2H:3H, 3H:4H of x @ Wx + h @ Wh + b), sigmoid for i, f, o and tanh "
        "for g": from_zero_one_step,
        "one step from a nonzero c0: c_1 = f * c_0 + i * g (the term f * c_{t-1} keeps the previous "
        "cell state)": from_c0_one_step,
        "forward(x) with h0 = c0 = None starts from zero states": from_zero,
        "forward(x, h0, c0) with nonzero initial states": with_states,
        "forward leaves x, h0, c0 and the parameters unchanged": bool(unchanged),
        "a batch of one sequence (N = 1)": single,
        "inputs of size 100 (the gates saturate at 0 or 1)": saturated,
    }


def _lstm_backward(layer, x, h0, c0, grad_out):
    """What ``backward(grad_out)`` returns and stores after ``forward(x, h0, c0)`` (copies)."""
    layer.forward(x, h0, c0)
    dx = _copy(layer.backward(grad_out))
    grads = {name: _copy(layer.grads.get(name)) for name in ("Wx", "Wh", "b")}
    return dx, grads, _copy(getattr(layer, "dh0", None)), _copy(getattr(layer, "dc0", None))


def _gate_slice(grad, H, gate):
    """The columns of gate number ``gate`` in a gradient of shape (..., 4H), or what came back."""
    if isinstance(grad, np.ndarray) and grad.shape[-1:] == (4 * H,):
        return np.array(grad[..., gate * H:(gate + 1) * H], copy=True)
    return grad


@probe("nnlib.rnn.LSTM.backward", label="LSTM.backward")
def _(nn, rng):
    N, T, D, H = _sizes(rng)
    layer = _lstm(nn, rng, D, H)
    x = rng.normal(size=(N, T, D))
    h0, c0 = rng.normal(0.0, 0.7, (N, H)), rng.normal(0.0, 1.0, (N, H))
    states = _copy(layer.forward(x, h0, c0))

    # One step from nonzero states: every gate's own derivative shows in its slice of grads['b'].
    step_x, step_out = rng.normal(size=(N, 1, D)), rng.normal(size=(N, 1, H))
    step_dx, step_grads, _, step_dc0 = _lstm_backward(layer, step_x, h0, c0, step_out)

    # W_h = 0: only the cell state carries the gradient from the last step back to the first.
    cell_only = _lstm(nn, rng, D, H)
    cell_only.params["Wh"] = np.zeros((H, 4 * H))
    last_only = np.zeros((N, T, H))
    last_only[:, -1] = rng.normal(size=(N, H))
    dx_cell, _, _, _ = _lstm_backward(cell_only, x, h0, c0, last_only)

    dx_last, grads_last, dh0_last, dc0_last = _lstm_backward(layer, x, h0, c0, last_only)
    grad_out = rng.normal(size=(N, T, H))
    dx, grads, dh0, dc0 = _lstm_backward(layer, x, h0, c0, grad_out)
    _, grads_again, _, _ = _lstm_backward(layer, x, h0, c0, grad_out)
    overwritten = all(_shaped(grads[name], grads_again[name].shape) and
                      np.allclose(grads[name], grads_again[name], rtol=1e-9, atol=1e-12)
                      for name in grads if isinstance(grads_again[name], np.ndarray))

    result = {
        "forward(x, h0, c0) gives the right states (backward is graded after your forward: "
        "fix LSTM.forward first)": states,
        f"backward returns dx of the shape of x, (N, T, D) = ({N}, {T}, {D})": _shaped(dx, x.shape),
        "a sequence of one step (T = 1) gets a gradient at time step t = 1: the loop over time "
        "must run down to the first step": _shaped(step_dx, step_x.shape)
        and bool(np.all(np.isfinite(step_dx))) and bool(np.any(step_dx != 0)),
    }
    derivatives = ("dL/da_i = dL/dc_t * g * i (1 - i)", "dL/da_f = dL/dc_t * c_{t-1} * f (1 - f)",
                   "dL/da_g = dL/dc_t * i * (1 - g^2)", "dL/da_o = dL/dh_t * tanh(c_t) * o (1 - o)")
    for gate, (name, derivative) in enumerate(zip(GATES, derivatives)):
        result[f"one step: grads['b'][{gate}H:{gate + 1}H], the {name}: {derivative}, with "
               "dL/dc_t = dL/dh_t * o * (1 - tanh(c_t)^2) + what comes back from c_{t+1}"] = \
            _gate_slice(step_grads["b"], H, gate)
    result.update({
        "one step: self.dc0 = dL/dc_0 = dL/dc_1 * f_1 (the cell path back to c_{t-1})": step_dc0,
        "with W_h = 0 and the loss on the last state only, the gradient still reaches the first "
        "input through the cell state: dL/dc_{t-1} adds dL/dc_t * f_t at every step":
            _reaches_first_input(dx_cell, x.shape),
        "dx with W_h = 0 (only the cell state carries the gradient back in time)": dx_cell,
        "the gradient reaches the first input when the loss reads only the last state":
            _reaches_first_input(dx_last, x.shape),
        "grads['b'] = dL/db, shape (4H,), summed over the batch and over every time step":
            grads["b"],
        "grads['Wh'] = dL/dW_h, the sum over t of h_{t-1}^T dL/da_t (the state BEFORE step t)":
            grads["Wh"],
        "grads['Wx'] = dL/dW_x, the sum over t of x_t^T dL/da_t": grads["Wx"],
        f"dx = dL/dx, shape ({N}, {T}, {D})": dx,
        f"self.dh0 = dL/dh0, shape ({N}, {H})": dh0,
        f"self.dc0 = dL/dc0, shape ({N}, {H})": dc0,
        "a second backward after the same forward stores the same grads (overwrite them, do not "
        "add to them)": bool(overwritten),
        "dx when the loss reads only the last state": dx_last,
        "grads['Wh'] when the loss reads only the last state": grads_last["Wh"],
        "self.dh0 and self.dc0 when the loss reads only the last state": [dh0_last, dc0_last],
    })
    return result


# ----------------------------------------------------------------------------------------------
# clip_grad_norm

def _gradient_pairs(rng, scale):
    """Parameter and gradient arrays of three shapes; the gradients' joint norm is about ``scale``."""
    shapes = [(int(rng.integers(2, 5)), int(rng.integers(2, 5))), (int(rng.integers(2, 7)),),
              (2, 3, 2)]
    params = [rng.normal(size=shape) for shape in shapes]
    grads = [rng.normal(size=shape) * rng.uniform(0.2, 3.0) for shape in shapes]
    norm = np.sqrt(sum(np.sum(g * g) for g in grads))
    grads = [g * (scale / norm) for g in grads]
    return params, grads


def _returned(value):
    """A returned norm as a float, or what came back (compared as such: 'expected a number')."""
    if isinstance(value, (np.ndarray, np.generic)) and np.size(value) == 1:
        return float(np.ravel(value)[0])
    return value


@probe("nnlib.optim.clip_grad_norm", label="clip_grad_norm(params, max_norm)")
def _(nn, rng):
    clip = nn.optim.clip_grad_norm
    params, grads = _gradient_pairs(rng, float(rng.uniform(20.0, 60.0)))
    max_norm = float(rng.uniform(2.0, 10.0))
    params_before, grads_before = [p.copy() for p in params], [g.copy() for g in grads]
    returned = _returned(clip(list(zip(params, grads)), max_norm))
    changed = any(not np.array_equal(g, h) for g, h in zip(grads, grads_before))
    factors = np.concatenate([(g / h).ravel() for g, h in zip(grads, grads_before)])
    same_factor = bool(np.all(np.isfinite(factors)) and np.ptp(factors) <= 1e-9 * np.max(np.abs(factors)))
    after = float(np.sqrt(sum(np.sum(g * g) for g in grads)))

    small_params, small = _gradient_pairs(rng, float(rng.uniform(0.5, 1.5)))
    small_before = [g.copy() for g in small]
    small_returned = _returned(clip(list(zip(small_params, small)), 3.0))
    zero = [np.zeros((3, 2)), np.zeros(4)]
    zero_returned = _returned(clip([(np.ones((3, 2)), zero[0]), (np.ones(4), zero[1])], 1.0))
    one_params, one = _gradient_pairs(rng, 12.0)
    clip([(one_params[0], one[0])], 1.0)
    return {
        "the gradient arrays themselves are scaled, in place (optimizers hold those arrays)": changed,
        "every gradient is scaled by the same factor, so the direction of the whole gradient is "
        "kept (one joint norm over all the arrays, not one norm per array)": same_factor,
        "the parameters are left unchanged": all(np.array_equal(p, q) for p, q in
                                                 zip(params, params_before)),
        "returns the joint norm of all the gradients BEFORE clipping": returned,
        f"the joint norm of the gradients after clipping to max_norm = {max_norm:.4g}": after,
        "the clipped gradients": grads,
        "gradients with a joint norm below max_norm are left as they are":
            all(np.array_equal(g, h) for g, h in zip(small, small_before)),
        "the returned norm when no clipping is needed": small_returned,
        "all-zero gradients: returns 0 and leaves them at 0 (no division by zero)":
            zero_returned == 0 and all(not np.any(g) and np.all(np.isfinite(g)) for g in zero),
        "a single gradient array clipped to max_norm = 1": one[0],
    }
