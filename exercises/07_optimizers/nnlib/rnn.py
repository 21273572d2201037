# Student copy of nnlib for exercise 07_optimizers; the reference is nnlib/ in the course repository.
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
        raise NotImplementedError('RNN.forward: implement this in exercise 09_rnn')
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
        raise NotImplementedError('RNN.backward: implement this in exercise 09_rnn')
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
        raise NotImplementedError('LSTM.forward: implement this in exercise 09_rnn')
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
        raise NotImplementedError('LSTM.backward: implement this in exercise 09_rnn')
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
