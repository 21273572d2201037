r"""Recurrent layers, unrolled in time, with backpropagation through time.

``RNN`` is the vanilla recurrence

.. math:: h_t = \tanh(x_t W_x + h_{t-1} W_h + b), \qquad t = 1, \dots, T,

the same weights at every step; ``LSTM`` adds a cell state that gates keep or overwrite. Sequences
are batch-first: ``x`` has shape ``(N, T, D)``.
"""
import numpy as np

from ._checks import as_float_array, as_generator, check_grad_out, check_int, check_shape
from .module import Module


class RNN(Module):
    r"""Single-layer Elman RNN with tanh, like ``torch.nn.RNN(D, H, batch_first=True)``.

    .. math:: h_t = \tanh(x_t W_x + h_{t-1} W_h + b)

    ``Wx`` and ``Wh`` are the transposes of PyTorch's ``weight_ih_l0`` and ``weight_hh_l0`` (rows
    multiply from the left, as in ``Linear``), and ``b`` plays the part of ``bias_ih + bias_hh``.

    Parameters
    ----------
    input_size : int
        ``D``, features per time step.
    hidden_size : int
        ``H``, size of the hidden state.
    rng : None, int or numpy.random.Generator, default=None
        Source of the initial weights: ``Wx (D, H)``, ``Wh (H, H)`` and ``b (H,)`` are drawn from
        ``U(-1/sqrt(H), 1/sqrt(H))``, PyTorch's default.

    Attributes
    ----------
    dh0 : ndarray of shape (N, H) or None
        Gradient with respect to the initial state ``h0``, set by ``backward``.
    """

    def __init__(self, input_size, hidden_size, rng=None):
        super().__init__()
        self.input_size = check_int(input_size, "input_size", "RNN")
        self.hidden_size = check_int(hidden_size, "hidden_size", "RNN")
        rng = as_generator(rng)
        bound = 1.0 / np.sqrt(self.hidden_size)
        D, H = self.input_size, self.hidden_size
        self._add_parameter("Wx", rng.uniform(-bound, bound, size=(D, H)))
        self._add_parameter("Wh", rng.uniform(-bound, bound, size=(H, H)))
        self._add_parameter("b", rng.uniform(-bound, bound, size=H))
        self._x = None
        self._h0 = None
        self._h = None
        self.dh0 = None

    def forward(self, x, h0=None):
        """Run the recurrence over a batch of sequences.

        Parameters
        ----------
        x : ndarray of shape (N, T, input_size)
        h0 : ndarray of shape (N, hidden_size), default=None
            Initial hidden state; zeros if ``None``.

        Returns
        -------
        h : ndarray of shape (N, T, hidden_size)
            Every hidden state, ``h[:, t]`` being :math:`h_t` (the last one is ``h[:, -1]``).
        """
        x = as_float_array(x, self)
        check_shape(x, (None, "T", self.input_size), self)
        N, T, _ = x.shape
        if T == 0:
            raise ValueError(f"{self!r}: expected at least one time step, got input of shape "
                             f"{x.shape}")
        if h0 is None:
            h0 = np.zeros((N, self.hidden_size))
        h0 = as_float_array(h0, self, "initial state h0")
        if h0.shape != (N, self.hidden_size):
            raise ValueError(f"{self!r}: expected h0 of shape (N, H) = {(N, self.hidden_size)} "
                             f"for an input of shape {x.shape}, got {h0.shape}")
        self._x, self._h0 = x, h0
        # BEGIN SOLUTION 09_rnn
        Wx, Wh, b = self.params["Wx"], self.params["Wh"], self.params["b"]
        # The input part of every step at once; only h_{t-1} @ Wh has to wait for the previous step.
        input_part = x @ Wx + b  # (N, T, H)
        h = np.empty((N, T, self.hidden_size))
        h_prev = h0
        for t in range(T):
            h_prev = np.tanh(input_part[:, t] + h_prev @ Wh)
            h[:, t] = h_prev
        self._h = h
        return h
        # END SOLUTION

    def backward(self, grad_out):
        """Backpropagation through time.

        Parameters
        ----------
        grad_out : ndarray of shape (N, T, hidden_size)
            dL/dh_t for every step (the loss may read every hidden state, or only the last: then the
            other steps are 0).

        Returns
        -------
        dx : ndarray of shape (N, T, input_size)
            dL/dx. Also sets ``grads["Wx"]`` (D, H), ``grads["Wh"]`` (H, H), ``grads["b"]`` (H,),
            summed over the batch and the time steps, and ``self.dh0`` (N, H), dL/dh0.
        """
        x, h0 = self._cached("_x", "_h0")
        N, T, _ = x.shape
        grad_out = check_grad_out(grad_out, (N, T, self.hidden_size), self)
        # BEGIN SOLUTION 09_rnn
        Wx, Wh = self.params["Wx"], self.params["Wh"]
        h = self._h
        h_prev = np.concatenate([h0[:, None], h[:, :-1]], axis=1)  # h_{t-1} for every t
        # da[:, t] = dL/da_t with a_t = x_t Wx + h_{t-1} Wh + b the pre-activation of step t.
        da = np.empty_like(h)
        dh_next = np.zeros((N, self.hidden_size))  # what h_t receives from step t + 1
        for t in reversed(range(T)):
            dh = grad_out[:, t] + dh_next  # h_t feeds the loss directly and the next step
            da[:, t] = dh * (1.0 - h[:, t] ** 2)  # tanh'(a) = 1 - tanh(a)^2
            dh_next = da[:, t] @ Wh.T
        self.dh0 = dh_next
        # The weights are shared by every step: sum the per-step gradients over batch and time.
        self.grads["Wx"] = x.reshape(N * T, -1).T @ da.reshape(N * T, -1)
        self.grads["Wh"] = h_prev.reshape(N * T, -1).T @ da.reshape(N * T, -1)
        self.grads["b"] = da.sum(axis=(0, 1))
        return da @ Wx.T
        # END SOLUTION

    def __repr__(self):
        return f"RNN({self.input_size} -> {self.hidden_size})"


class LSTM(Module):
    r"""Single-layer LSTM, like ``torch.nn.LSTM(D, H, batch_first=True)``.

    .. math::

        a_t &= x_t W_x + h_{t-1} W_h + b = [a^i_t, a^f_t, a^g_t, a^o_t] \\
        i_t = \sigma(a^i_t), \quad f_t &= \sigma(a^f_t), \quad g_t = \tanh(a^g_t),
        \quad o_t = \sigma(a^o_t) \\
        c_t = f_t \odot c_{t-1} + i_t \odot g_t, &\qquad h_t = o_t \odot \tanh(c_t)

    The four gates sit side by side in the columns of ``Wx``, ``Wh`` and ``b``, in PyTorch's order:
    input ``i`` (columns ``0:H``), forget ``f`` (``H:2H``), candidate ``g`` (``2H:3H``), output
    ``o`` (``3H:4H``). ``Wx`` and ``Wh`` are the transposes of PyTorch's ``weight_ih_l0`` and
    ``weight_hh_l0``, and ``b`` plays the part of ``bias_ih + bias_hh``.

    Parameters
    ----------
    input_size : int
        ``D``, features per time step.
    hidden_size : int
        ``H``, size of the hidden state and of the cell state.
    rng : None, int or numpy.random.Generator, default=None
        Source of the initial weights: ``Wx (D, 4H)``, ``Wh (H, 4H)`` and ``b (4H,)`` are drawn from
        ``U(-1/sqrt(H), 1/sqrt(H))``, PyTorch's default.

    Attributes
    ----------
    dh0, dc0 : ndarray of shape (N, H) or None
        Gradients with respect to the initial hidden state ``h0`` and cell state ``c0``, set by
        ``backward``.
    """

    def __init__(self, input_size, hidden_size, rng=None):
        super().__init__()
        self.input_size = check_int(input_size, "input_size", "LSTM")
        self.hidden_size = check_int(hidden_size, "hidden_size", "LSTM")
        rng = as_generator(rng)
        bound = 1.0 / np.sqrt(self.hidden_size)
        D, H = self.input_size, self.hidden_size
        self._add_parameter("Wx", rng.uniform(-bound, bound, size=(D, 4 * H)))
        self._add_parameter("Wh", rng.uniform(-bound, bound, size=(H, 4 * H)))
        self._add_parameter("b", rng.uniform(-bound, bound, size=4 * H))
        self._x = None
        self._h0 = None
        self._c0 = None
        self._h = None
        self.dh0 = None
        self.dc0 = None

    def _initial_state(self, state, name, x):
        N = x.shape[0]
        if state is None:
            return np.zeros((N, self.hidden_size))
        state = as_float_array(state, self, f"initial state {name}")
        if state.shape != (N, self.hidden_size):
            raise ValueError(f"{self!r}: expected {name} of shape (N, H) = {(N, self.hidden_size)} "
                             f"for an input of shape {x.shape}, got {state.shape}")
        return state

    def forward(self, x, h0=None, c0=None):
        """Run the LSTM over a batch of sequences.

        Parameters
        ----------
        x : ndarray of shape (N, T, input_size)
        h0, c0 : ndarray of shape (N, hidden_size), default=None
            Initial hidden and cell states; zeros if ``None``.

        Returns
        -------
        h : ndarray of shape (N, T, hidden_size)
            Every hidden state, ``h[:, t]`` being :math:`h_t` (the last one is ``h[:, -1]``). The
            cell states stay inside the layer, with the gates: backward needs both.
        """
        x = as_float_array(x, self)
        check_shape(x, (None, "T", self.input_size), self)
        N, T, _ = x.shape
        if T == 0:
            raise ValueError(f"{self!r}: expected at least one time step, got input of shape "
                             f"{x.shape}")
        h0 = self._initial_state(h0, "h0", x)
        c0 = self._initial_state(c0, "c0", x)
        self._x, self._h0, self._c0 = x, h0, c0
        # BEGIN SOLUTION 09_rnn
        Wx, Wh, b = self.params["Wx"], self.params["Wh"], self.params["b"]
        H = self.hidden_size
        # Time-major inside the layer: step t is then one contiguous (N, .) block.
        input_part = x.transpose(1, 0, 2) @ Wx + b  # (T, N, 4H): every step's input part at once
        # One tanh for all four gates: sigma(a) = (1 + tanh(a / 2)) / 2 for i, f, o (stable for
        # any a), tanh(a) itself for g. Scale, tanh, then map to (0, 1) where a sigmoid is due.
        scale = np.repeat([0.5, 0.5, 1.0, 0.5], H)
        offset = np.repeat([0.5, 0.5, 0.0, 0.5], H)
        gates = np.empty((T, N, 4 * H))  # i, f, g, o after their nonlinearities
        c = np.empty((T, N, H))
        tanh_c = np.empty((T, N, H))
        h = np.empty((T, N, H))
        h_prev, c_prev = h0, c0
        for t in range(T):
            a = h_prev @ Wh
            a += input_part[t]
            z = np.tanh(a * scale, out=gates[t])
            z *= scale
            z += offset  # 0.5 + 0.5 tanh(a / 2) for i, f, o; tanh(a) for g
            i, f, g, o = np.split(z, 4, axis=1)
            c_prev = c[t] = f * c_prev + i * g
            h_prev = h[t] = o * np.tanh(c_prev, out=tanh_c[t])
        self._tanh_c = tanh_c
        self._gates, self._c, self._h = gates, c, h
        return np.ascontiguousarray(h.transpose(1, 0, 2))
        # END SOLUTION

    def backward(self, grad_out):
        r"""Backpropagation through time, along the hidden states and the cell states.

        Parameters
        ----------
        grad_out : ndarray of shape (N, T, hidden_size)
            dL/dh_t for every step (zeros at the steps the loss does not read).

        Returns
        -------
        dx : ndarray of shape (N, T, input_size)
            dL/dx. Also sets ``grads["Wx"]`` (D, 4H), ``grads["Wh"]`` (H, 4H), ``grads["b"]``
            (4H,), summed over the batch and the time steps, and ``self.dh0``, ``self.dc0`` (N, H).
        """
        x, h0, c0 = self._cached("_x", "_h0", "_c0")
        N, T, _ = x.shape
        grad_out = check_grad_out(grad_out, (N, T, self.hidden_size), self)
        # BEGIN SOLUTION 09_rnn
        Wx, Wh = self.params["Wx"], self.params["Wh"]
        H = self.hidden_size
        gates, c, h = self._gates, self._c, self._h  # time-major: (T, N, .)
        c_prev = np.concatenate([c0[None], c[:-1]])  # c_{t-1} for every t
        h_prev = np.concatenate([h0[None], h[:-1]])  # h_{t-1} for every t
        i, f, g, o = np.split(gates, 4, axis=2)
        tanh_c = self._tanh_c
        # What does not depend on the gradient, for every step at once: each gate's derivative
        # is dL/dc_t (dL/dh_t for o) times one of these.
        di = g * i * (1.0 - i)  # input gate: dL/da_i = dL/dc_t * g * sigma'(a_i)
        df = c_prev * f * (1.0 - f)  # forget gate: dL/da_f = dL/dc_t * c_{t-1} * sigma'(a_f)
        dg = i * (1.0 - g ** 2)  # candidate: dL/da_g = dL/dc_t * i * tanh'(a_g)
        do = tanh_c * o * (1.0 - o)  # output gate: dL/da_o = dL/dh_t * tanh(c_t) * sigma'(a_o)
        dc_from_h = o * (1.0 - tanh_c ** 2)  # dh_t/dc_t
        grad_out = grad_out.transpose(1, 0, 2)
        da = np.empty((T, N, 4 * H))  # dL/da_t, the four gates' pre-activations side by side
        dh_next = np.zeros((N, H))  # what h_t receives from step t + 1
        dc_next = np.zeros((N, H))  # what c_t receives from c_{t+1} = f_{t+1} c_t + ...
        for t in reversed(range(T)):
            dh = grad_out[t] + dh_next
            dc = dc_next + dh * dc_from_h[t]  # two paths into c_t: c_{t+1} and h_t
            da[t, :, :H] = dc * di[t]
            da[t, :, H:2 * H] = dc * df[t]
            da[t, :, 2 * H:3 * H] = dc * dg[t]
            da[t, :, 3 * H:] = dh * do[t]
            dc_next = dc * f[t]  # the cell path: multiplied by the forget gate, nothing else
            dh_next = da[t] @ Wh.T
        self.dh0, self.dc0 = dh_next, dc_next
        # The weights are shared by every step: sum the per-step gradients over batch and time.
        da_rows = da.reshape(T * N, -1)
        self.grads["Wx"] = x.transpose(1, 0, 2).reshape(T * N, -1).T @ da_rows
        self.grads["Wh"] = h_prev.reshape(T * N, -1).T @ da_rows
        self.grads["b"] = da_rows.sum(axis=0)
        return np.ascontiguousarray((da @ Wx.T).transpose(1, 0, 2))
        # END SOLUTION

    def __repr__(self):
        return f"LSTM({self.input_size} -> {self.hidden_size})"


class LastTimeStep(Module):
    """Keep only the last time step, ``(N, T, H) -> (N, H)``: to classify a whole sequence.

    Backward puts the gradient at step ``T`` and zeros at every earlier step (the RNN's backward then
    carries it back through time).
    """

    _shape = None

    def forward(self, x):
        x = as_float_array(x, self)
        check_shape(x, (None, "T", "H"), self)
        self._shape = x.shape
        return x[:, -1, :]

    def backward(self, grad_out):
        shape = self._cached("_shape")
        grad_out = check_grad_out(grad_out, (shape[0], shape[2]), self)
        grad_in = np.zeros(shape)
        grad_in[:, -1, :] = grad_out
        return grad_in
