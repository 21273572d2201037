r"""Unit 09 widget: how far back in time the gradient of an RNN and of an LSTM reaches, and clipping.

A fixed tanh RNN with ``H = 24`` hidden units reads a fixed random sequence,
:math:`h_t = \tanh(x_t W_x + h_{t-1} W_h + b)` from :math:`h_0 = 0`, and a loss reads its last
state only, :math:`L_T = u \cdot h_T` (``u`` a fixed unit vector). The recurrent matrix is
``W_h = radius * G``, where ``G`` is a random Gaussian matrix scaled to spectral radius 1, so the
slider sets the spectral radius of ``W_h`` (its largest ``|eigenvalue|``). Beside it, a fixed LSTM
(``RecurrentLSTM``, PyTorch's initialisation) reads the same kind of sequence; a second slider sets
the bias of its forget gate, so :math:`f_t \approx \sigma(b_f)`. Three panels:

* left, **the RNN's gradient per time step**: :math:`\lVert \partial L_T / \partial h_k \rVert` for every
  step ``k = 0 .. T``, on a log scale: how much the loss at step ``T`` hears from the state at step
  ``k``. It shrinks geometrically going back in time when the radius is below about 1 (vanishing)
  and grows when it is well above (exploding);
* middle, **the LSTM's gradient per time step**, the same :math:`\lVert \partial L_T / \partial
  h_k \rVert` for the same ``T``: along the cell state each step back multiplies it by
  :math:`f_t`, so it fades like :math:`\sigma(b_f)^{T - k}` at worst, slowly for a forget gate
  near 1;
* right, **the whole gradient as the sequence grows**, for both networks: the joint norm of
  :math:`\partial L_T / \partial (W_x, W_h, b)` for every length ``T = 1 .. 100``, the number that
  ``clip_grad_norm`` measures and caps.

A few radii (``REFERENCE_RADII``) are always drawn, faint, for comparison. With clipping on, the
gradient that reaches the update is multiplied by
:math:`c = \min\big(1, \text{threshold} / (\lVert g \rVert + 10^{-6})\big)` (the rule of
``torch.nn.utils.clip_grad_norm_``): the dashed lines show the clipped gradient. The same ``c``
multiplies every step, so clipping keeps the shape of the left curve: it tames an exploding
gradient, it does nothing for a vanishing one::

    from nncourse.widgets.rnn_gradients import RnnGradients
    RnnGradients(radius=1.5, forget_bias=3.0).widget()        # in a notebook

**How the gradients are computed.** With plain numpy, *forward* in time (so the widget needs
nothing from exercise 09 and shows no solution of it). Alongside each state the widget carries
its derivatives with respect to every earlier state and to every parameter, by the chain rule
through one step: with :math:`J_t = \partial h_t / \partial h_{t-1}` (an ``H x H`` matrix),
:math:`\partial h_t / \partial h_k = J_t\, \partial h_{t-1} / \partial h_k` and
:math:`\partial h_k / \partial h_k = I`. This "forward mode" (real-time recurrent learning) gets
every length ``T`` in one pass, but its cost grows like ``H^4`` per step; backpropagation through
time, the exercise, gets the gradient of one loss far more cheaply by going backward. The LSTM is
treated the same way, its state being the pair :math:`s_t = (h_t, c_t)` and its one-step Jacobian
:math:`\partial s_t / \partial s_{t-1}` a ``2H x 2H`` matrix (it is kept small, ``H = 16``).
``tests/test_widget_rnn_gradients.py`` checks the numbers against centred differences.

``update(radius=..., forget_bias=..., length=..., clip=..., threshold=...)`` recomputes and redraws without any
display (``self.png`` holds the figure as PNG bytes), which is what tests and the benchmark call.
"""
import numpy as np

from .base import LiveFigure, LogSlider, Slider, Switch

__all__ = ["RecurrentLSTM", "RecurrentNet", "RnnGradients", "benchmark_case"]

MAX_LENGTH = 100                # the longest sequence (and the right panel's range of lengths)
REFERENCE_RADII = (0.5, 1.0, 2.0)
CLIP_EPS = 1e-6                 # torch's clip_grad_norm_ adds it to the norm
_REFERENCE_COLORS = ("#1f77b4", "#2ca02c", "#d62728")
_LSTM_COLOR = "#9467bd"
_STEP_LIMITS = (1e-15, 1e10)    # y range of the left panel
_TOTAL_LIMITS = (1e-1, 1e10)    # y range of the right panel
_CACHE_SIZE = 32


class RecurrentNet:
    """A tanh RNN with fixed random weights and one fixed input sequence, for any spectral radius.

    Parameters
    ----------
    hidden : int, default=24
        ``H``, the size of the state.
    inputs : int, default=4
        ``D``, features per time step.
    max_length : int, default=100
        ``T_max``, the length of the input sequence.
    input_scale : float, default=0.1
        Scale of ``W_x`` (entries ``N(0, input_scale^2 / D)``); small inputs keep the states away
        from saturation, where the recurrent matrix alone decides the fate of the gradient.
    seed : int, default=3

    Attributes
    ----------
    G : ndarray of shape (H, H)
        Gaussian, scaled to spectral radius 1: ``W_h = radius * G``.
    Wx : ndarray of shape (D, H)
    b : ndarray of shape (H,)
        Zeros.
    X : ndarray of shape (max_length, D)
        The sequence, ``X[t - 1]`` being :math:`x_t`.
    u : ndarray of shape (H,)
        The loss reads :math:`L_T = u \\cdot h_T`; ``|u| = 1``.
    """

    def __init__(self, hidden=24, inputs=4, max_length=MAX_LENGTH, input_scale=0.1, seed=3):
        rng = np.random.default_rng(seed)
        G = rng.normal(size=(hidden, hidden))
        self.G = G / np.max(np.abs(np.linalg.eigvals(G)))
        self.Wx = input_scale * rng.normal(size=(inputs, hidden)) / np.sqrt(inputs)
        self.b = np.zeros(hidden)
        self.X = rng.normal(size=(max_length, inputs))
        u = rng.normal(size=hidden)
        self.u = u / np.linalg.norm(u)

    @property
    def hidden(self):
        return self.G.shape[0]

    @property
    def max_length(self):
        return self.X.shape[0]

    def recurrent_matrix(self, radius):
        """``W_h = radius * G``, shape ``(H, H)``: its spectral radius is ``radius``."""
        return float(radius) * self.G

    def states(self, radius, length=None):
        """``h`` of shape ``(length + 1, H)``: ``h[0] = 0`` and ``h[t]`` the state after step ``t``."""
        length = self.max_length if length is None else int(length)
        Wh = self.recurrent_matrix(radius)
        h = np.zeros((length + 1, self.hidden))
        for t in range(1, length + 1):
            h[t] = np.tanh(self.X[t - 1] @ self.Wx + h[t - 1] @ Wh + self.b)
        return h

    def loss(self, radius, length):
        """:math:`L_T = u \\cdot h_T` for ``T = length``."""
        return float(self.u @ self.states(radius, length)[-1])

    def gradients(self, radius):
        """Every gradient the widget draws, for all lengths ``T = 0 .. max_length`` at once.

        Returns
        -------
        per_step : ndarray of shape (max_length + 1, max_length + 1)
            ``per_step[T, k]`` is :math:`\\lVert \\partial L_T / \\partial h_k \\rVert` for
            ``k <= T`` (``per_step[T, T] = |u| = 1``) and 0 for ``k > T``.
        total : ndarray of shape (max_length + 1,)
            ``total[T]`` is the joint norm of :math:`\\partial L_T / \\partial W_x`,
            :math:`\\partial L_T / \\partial W_h` and :math:`\\partial L_T / \\partial b`
            (``total[0] = 0``: no step, no parameter used).
        """
        H, T_max = self.hidden, self.max_length
        Wh = self.recurrent_matrix(radius)
        # One step reads z_t = [x_t, h_{t-1}, 1] through theta = [Wx; Wh; b], shape (D + H + 1, H):
        # a_t = z_t theta, h_t = tanh(a_t).
        theta = np.vstack([self.Wx, Wh, self.b[None, :]])
        Z = theta.shape[0]
        h = np.zeros(H)
        # dh_dstate[k] = dh_t / dh_k (H, H) for k < t; dh_dtheta[i, p, q] = dh_t,i / dtheta_pq.
        dh_dstate = np.zeros((T_max, H, H))
        dh_dtheta = np.zeros((H, Z * H))
        units = np.arange(H)
        per_step = np.zeros((T_max + 1, T_max + 1))
        total = np.zeros(T_max + 1)
        per_step[0, 0] = np.linalg.norm(self.u)
        for t in range(1, T_max + 1):
            z = np.concatenate([self.X[t - 1], h, [1.0]])
            h = np.tanh(z @ theta)
            slope = 1.0 - h ** 2                       # tanh'(a_t), unit 04
            J = slope[:, None] * Wh.T                  # J[i, j] = dh_t,i / dh_{t-1},j
            if t > 1:
                dh_dstate[:t - 1] = J @ dh_dstate[:t - 1]
            dh_dstate[t - 1] = J
            # h_t depends on theta directly (through a_t = z_t theta) and through h_{t-1}.
            dh_dtheta = Wh.T @ dh_dtheta
            dh_dtheta.reshape(H, Z, H)[units, :, units] += z
            dh_dtheta *= slope[:, None]
            # L_t = u . h_t: its gradients are u times the Jacobians.
            toward_states = np.einsum("i,kij->kj", self.u, dh_dstate[:t])
            per_step[t, :t] = np.linalg.norm(toward_states, axis=1)
            per_step[t, t] = np.linalg.norm(self.u)
            total[t] = np.linalg.norm(self.u @ dh_dtheta)
        return per_step, total


def _sigmoid(a):
    return 0.5 + 0.5 * np.tanh(0.5 * a)


class RecurrentLSTM:
    """An LSTM with fixed random weights and one fixed input sequence, for any forget-gate bias.

    Gates in PyTorch's order ``i, f, g, o``; ``W_h`` and the biases are drawn as ``torch.nn.LSTM``
    draws them, ``U(-1/sqrt(H), 1/sqrt(H))``, then the forget gate's biases are set to
    ``forget_bias``.

    Parameters
    ----------
    hidden : int, default=16
    inputs : int, default=4
    max_length : int, default=100
    input_scale : float, default=0.1
        Scale of ``W_x`` (entries ``N(0, input_scale^2 / D)``), as in ``RecurrentNet``.
    seed : int, default=3

    Attributes
    ----------
    Wx : ndarray of shape (D, 4H)
    Wh : ndarray of shape (H, 4H)
    b : ndarray of shape (4H,)
        Its forget block ``b[H:2H]`` is replaced by ``forget_bias`` in every computation.
    X : ndarray of shape (max_length, D)
    u : ndarray of shape (H,)
        The loss reads :math:`L_T = u \\cdot h_T`; ``|u| = 1``.
    """

    def __init__(self, hidden=16, inputs=4, max_length=MAX_LENGTH, input_scale=0.1, seed=3):
        rng = np.random.default_rng(seed)
        bound = 1.0 / np.sqrt(hidden)
        self.Wx = input_scale * rng.normal(size=(inputs, 4 * hidden)) / np.sqrt(inputs)
        self.Wh = rng.uniform(-bound, bound, size=(hidden, 4 * hidden))
        self.b = rng.uniform(-bound, bound, size=4 * hidden)
        self.X = rng.normal(size=(max_length, inputs))
        u = rng.normal(size=hidden)
        self.u = u / np.linalg.norm(u)

    @property
    def hidden(self):
        return self.Wh.shape[0]

    @property
    def max_length(self):
        return self.X.shape[0]

    def bias(self, forget_bias):
        """``b`` with its forget block set to ``forget_bias``."""
        b = self.b.copy()
        b[self.hidden:2 * self.hidden] = float(forget_bias)
        return b

    def _step(self, x, h, c, b):
        """One step: the new ``h``, ``c`` and the gates ``i, f, g, o``."""
        H = self.hidden
        a = x @ self.Wx + h @ self.Wh + b
        i, f, o = _sigmoid(a[:H]), _sigmoid(a[H:2 * H]), _sigmoid(a[3 * H:])
        g = np.tanh(a[2 * H:3 * H])
        c = f * c + i * g
        return o * np.tanh(c), c, (i, f, g, o)

    def states(self, forget_bias, length=None):
        """``(h, c)``, each of shape ``(length + 1, H)``, from ``h_0 = c_0 = 0``."""
        length = self.max_length if length is None else int(length)
        b = self.bias(forget_bias)
        h = np.zeros((length + 1, self.hidden))
        c = np.zeros((length + 1, self.hidden))
        for t in range(1, length + 1):
            h[t], c[t], _ = self._step(self.X[t - 1], h[t - 1], c[t - 1], b)
        return h, c

    def loss(self, forget_bias, length):
        """:math:`L_T = u \\cdot h_T` for ``T = length``."""
        return float(self.u @ self.states(forget_bias, length)[0][-1])

    def gradients(self, forget_bias):
        """As ``RecurrentNet.gradients``: ``per_step[T, k]`` is
        :math:`\\lVert \\partial L_T / \\partial h_k \\rVert` (``c_k`` held fixed), ``total[T]``
        the joint norm of :math:`\\partial L_T / \\partial (W_x, W_h, b)`."""
        H, T_max = self.hidden, self.max_length
        b = self.bias(forget_bias)
        theta = np.vstack([self.Wx, self.Wh, b[None, :]])  # a_t = z_t theta, z_t = [x_t, h_{t-1}, 1]
        Z = theta.shape[0]
        h, c = np.zeros(H), np.zeros(H)
        # ds_dh[k] = ds_t / dh_k, shape (2H, H), for k < t, the state s_t = (h_t, c_t) stacked;
        # ds_dtheta = ds_t / dtheta, shape (2H, Z, 4H).
        ds_dh = np.zeros((T_max, 2 * H, H))
        ds_dtheta = np.zeros((2 * H, Z, 4 * H))
        per_step = np.zeros((T_max + 1, T_max + 1))
        total = np.zeros(T_max + 1)
        per_step[0, 0] = np.linalg.norm(self.u)
        for t in range(1, T_max + 1):
            z = np.concatenate([self.X[t - 1], h, [1.0]])
            c_prev = c
            h, c, (i, f, g, o) = self._step(self.X[t - 1], h, c, b)
            tanh_c = np.tanh(c)
            # Local derivatives of c_t and h_t with respect to a_t, one column block per gate.
            dc_da = np.concatenate([g * i * (1 - i), c_prev * f * (1 - f), i * (1 - g ** 2),
                                    np.zeros(H)])
            dh_da = np.concatenate([np.tile(o * (1 - tanh_c ** 2), 3) * dc_da[:3 * H],
                                    tanh_c * o * (1 - o)])
            units = np.arange(H)
            ds_da = np.zeros((2 * H, 4 * H))          # rows h_t then c_t
            for gate in range(4):
                ds_da[units, gate * H + units] = dh_da[gate * H:(gate + 1) * H]
                ds_da[H + units, gate * H + units] = dc_da[gate * H:(gate + 1) * H]
            # J = ds_t / ds_{t-1}: through a_t (h_{t-1} only) and along the cell, c_t = f c_{t-1} + ...
            J = np.zeros((2 * H, 2 * H))
            J[:, :H] = ds_da @ self.Wh.T
            J[units, H + units] = o * (1 - tanh_c ** 2) * f
            J[H + units, H + units] = f
            if t > 1:
                ds_dh[:t - 1] = J @ ds_dh[:t - 1]
            ds_dh[t - 1] = J[:, :H]
            ds_dtheta = np.einsum("ij,jpq->ipq", J, ds_dtheta)
            ds_dtheta += ds_da[:, None, :] * z[None, :, None]
            toward_states = np.einsum("i,kij->kj", self.u, ds_dh[:t, :H])
            per_step[t, :t] = np.linalg.norm(toward_states, axis=1)
            per_step[t, t] = np.linalg.norm(self.u)
            total[t] = np.linalg.norm(np.einsum("i,ipq->pq", self.u, ds_dtheta[:H]))
        return per_step, total


def clip_coefficient(total_norm, threshold):
    """``min(1, threshold / (total_norm + 1e-6))``: what clipping multiplies every gradient by."""
    return min(1.0, float(threshold) / (float(total_norm) + CLIP_EPS))


class RnnGradients(LiveFigure):
    """The gradient of an RNN and of an LSTM per time step and as a whole: the RNN for a chosen
    spectral radius of ``W_h``, the LSTM for a chosen bias of its forget gate.

    Parameters
    ----------
    radius : float, default=1.5
        Spectral radius of the RNN's recurrent matrix ``W_h``.
    forget_bias : float, default=3
        Bias of the LSTM's forget gate, ``b_f``: the gate starts near ``sigmoid(b_f)``.
    length : int, default=60
        ``T``, the length of the sequence the loss is taken at (the left panel).
    clip : bool, default=False
        Whether the dashed, clipped gradient is drawn.
    threshold : float, default=10
        ``max_norm`` of the clipping.
    net : RecurrentNet, optional
        The network and its sequence (default: ``RecurrentNet()``).
    lstm : RecurrentLSTM, optional
        The LSTM and its sequence (default: ``RecurrentLSTM()``), of the same length.
    dpi : int, default=72
        Resolution of the rendered image.
    """

    CONTROLS = {
        "radius": Slider(0.2, 3.0, 0.05, "radius of W_h", label_width="110px"),
        "forget_bias": Slider(-2.0, 6.0, 0.25, "LSTM forget bias", label_width="110px"),
        "length": Slider(2, MAX_LENGTH, 1, "length T", integer=True, label_width="110px"),
        "clip": Switch("clip the gradient"),
        "threshold": LogSlider(0.1, 1000.0, 0.1, "threshold", label_width="110px",
                               readout_format=".3g"),
    }

    def __init__(self, radius=1.5, length=60, clip=False, threshold=10.0, net=None, dpi=72,
                 forget_bias=3.0, lstm=None):
        self.net = RecurrentNet() if net is None else net
        self.lstm = RecurrentLSTM(max_length=self.net.max_length) if lstm is None else lstm
        if self.lstm.max_length != self.net.max_length:
            raise ValueError(f"RnnGradients: the RNN reads {self.net.max_length} steps, the LSTM "
                             f"{self.lstm.max_length}; they must read sequences of the same length")
        self.dpi = dpi
        self.values = {}
        self._set(radius=radius, forget_bias=forget_bias, length=length, clip=clip,
                  threshold=threshold)
        self._cache = {}
        self._lstm_cache = {}
        self.state = {}
        self._build_figure()
        self.update()

    # ------------------------------------------------------------------ state
    def _set(self, **values):
        unknown = set(values) - set(self.CONTROLS)
        if unknown:
            raise ValueError(f"RnnGradients.update: unknown controls {sorted(unknown)}; "
                             f"the controls are {sorted(self.CONTROLS)}")
        for name, value in values.items():
            if name == "clip":
                value = bool(value)
            elif name == "length":
                value = int(round(float(value)))
                if not 1 <= value <= self.net.max_length:
                    raise ValueError(f"RnnGradients.update: length must be in 1 .. "
                                     f"{self.net.max_length}, got {value}")
            elif name == "forget_bias":
                value = float(value)
                if not np.isfinite(value):
                    raise ValueError(f"RnnGradients.update: forget_bias must be a finite number, "
                                     f"got {value}")
            else:
                value = float(value)
                if not value > 0:
                    raise ValueError(f"RnnGradients.update: {name} must be positive, got {value}")
            self.values[name] = value

    def gradients(self, radius):
        """``(per_step, total)`` of ``RecurrentNet.gradients`` for ``radius``, cached."""
        key = round(float(radius), 10)
        if key not in self._cache:
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = self.net.gradients(key)
        return self._cache[key]

    def lstm_gradients(self, forget_bias):
        """``(per_step, total)`` of ``RecurrentLSTM.gradients`` for ``forget_bias``, cached."""
        key = round(float(forget_bias), 10)
        if key not in self._lstm_cache:
            if len(self._lstm_cache) >= _CACHE_SIZE:
                self._lstm_cache.pop(next(iter(self._lstm_cache)))
            self._lstm_cache[key] = self.lstm.gradients(key)
        return self._lstm_cache[key]

    def compute(self):
        """The numbers drawn for the current controls (also returned by ``update``).

        Returns
        -------
        dict
            ``per_step`` (shape ``(T + 1,)``, :math:`\\lVert \\partial L_T / \\partial h_k
            \\rVert` for ``k = 0 .. T``), ``total`` (shape ``(T_max + 1,)``, the joint gradient
            norm for every length), ``norm`` (the joint norm at the current ``T``), ``coefficient``
            (the clipping factor ``c``, 1 when clipping is off), ``clipped_per_step`` and
            ``clipped_total`` (times ``c``, resp. capped at the threshold); the same for the LSTM
            under keys starting with ``lstm_`` (its own ``c``, from its own norm).
        """
        T = self.values["length"]
        state = {}
        for prefix, (per_step, total) in [("", self.gradients(self.values["radius"])),
                                          ("lstm_", self.lstm_gradients(self.values["forget_bias"]))]:
            norm = float(total[T])
            coefficient = (clip_coefficient(norm, self.values["threshold"]) if self.values["clip"]
                           else 1.0)
            capped = np.array([clip_coefficient(value, self.values["threshold"]) for value in total])
            state.update({
                f"{prefix}per_step": per_step[T, :T + 1].copy(), f"{prefix}total": total.copy(),
                f"{prefix}norm": norm, f"{prefix}coefficient": coefficient,
                f"{prefix}clipped_per_step": coefficient * per_step[T, :T + 1],
                f"{prefix}clipped_total": total * capped if self.values["clip"] else total.copy()})
        return state

    # ---------------------------------------------------------------- drawing
    def _build_figure(self):
        self._new_figure((13.5, 4.4))
        self.fig.subplots_adjust(left=0.055, right=0.99, bottom=0.23, top=0.9, wspace=0.25)
        left, middle, right = self.fig.subplots(1, 3)
        T_max = self.net.max_length
        left.set(xlim=(0, T_max), ylim=_STEP_LIMITS, yscale="log", xlabel="time step $k$",
                 ylabel=r"$\|\partial L_T / \partial h_k\|$",
                 title="RNN: gradient per time step (loss at $T$)")
        middle.set(xlim=(0, T_max), ylim=_STEP_LIMITS, yscale="log", xlabel="time step $k$",
                   title="LSTM: gradient per time step (loss at $T$)")
        right.set(xlim=(1, T_max), ylim=_TOTAL_LIMITS, yscale="log", xlabel="sequence length $T$",
                  ylabel=r"$\|\partial L_T / \partial (W_x, W_h, b)\|$",
                  title="whole gradient as the sequence grows")
        for ax in (left, middle, right):
            ax.grid(True, which="major", color="0.9", linewidth=0.6)
        self.axes = {"per step": left, "lstm per step": middle, "total": right}
        a = {}
        steps = np.arange(T_max + 1)
        for radius, color in zip(REFERENCE_RADII, _REFERENCE_COLORS):
            _, total = self.gradients(radius)
            right.plot(steps[1:], total[1:], color=color, linewidth=1.2, alpha=0.45,
                       label=f"radius {radius:g}")
        a["reference steps"] = [left.plot([], [], color=color, linewidth=1.2, alpha=0.45)[0]
                                for color in _REFERENCE_COLORS]
        a["step line"], = left.plot([], [], color="black", linewidth=2.2, label="radius (slider)")
        a["clipped step line"], = left.plot([], [], color="black", linewidth=1.8, linestyle="--",
                                            label="after clipping")
        a["lstm step line"], = middle.plot([], [], color=_LSTM_COLOR, linewidth=2.2,
                                           label="LSTM (forget bias slider)")
        a["lstm clipped step line"], = middle.plot([], [], color=_LSTM_COLOR, linewidth=1.8,
                                                   linestyle="--")
        a["total line"], = right.plot([], [], color="black", linewidth=2.2)
        a["clipped total line"], = right.plot([], [], color="black", linewidth=1.8, linestyle="--")
        a["lstm total line"], = right.plot([], [], color=_LSTM_COLOR, linewidth=2.2)
        a["lstm clipped total line"], = right.plot([], [], color=_LSTM_COLOR, linewidth=1.8,
                                                   linestyle="--")
        a["threshold line"] = right.axhline(1.0, color="#ff7f0e", linewidth=1.4, linestyle=":",
                                            label="threshold")
        a["length marker"] = right.axvline(1.0, color="0.4", linewidth=1.0)
        a["length point"], = right.plot([], [], marker="o", markersize=7, color="black",
                                        linestyle="none", zorder=5)
        a["lstm length point"], = right.plot([], [], marker="o", markersize=7, color=_LSTM_COLOR,
                                             linestyle="none", zorder=5)
        box = {"facecolor": "white", "alpha": 0.85, "edgecolor": "0.7"}
        a["step text"] = left.text(0.03, 0.04, "", transform=left.transAxes, fontsize=10, zorder=6,
                                   bbox=box)
        a["lstm step text"] = middle.text(0.03, 0.04, "", transform=middle.transAxes, fontsize=10,
                                          zorder=6, bbox=box)
        a["total text"] = right.text(0.03, 0.04, "", transform=right.transAxes, fontsize=10,
                                     zorder=6, bbox=box)
        self.artists = a
        handles = [*right.get_legend_handles_labels()[0][:len(REFERENCE_RADII)], a["step line"],
                   a["lstm step line"], a["clipped step line"], a["threshold line"]]
        self.fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=9,
                        frameon=False)
        # The reference curves of the right panel are part of the static background.
        self._animate()

    def _moving(self):
        a = self.artists
        return [*a["reference steps"], a["threshold line"], a["length marker"], a["step line"],
                a["clipped step line"], a["lstm step line"], a["lstm clipped step line"],
                a["total line"], a["clipped total line"], a["lstm total line"],
                a["lstm clipped total line"], a["length point"], a["lstm length point"],
                a["step text"], a["lstm step text"], a["total text"]]

    def update(self, **values):
        """Set any of the controls (``radius``, ``forget_bias``, ``length``, ``clip``,
        ``threshold``), recompute and redraw the figure.

        Returns the dictionary of ``compute()``; the rendered figure is in ``self.png``.
        """
        self._set(**values)
        state = self.compute()
        a = self.artists
        T, clip = self.values["length"], self.values["clip"]
        steps = np.arange(T + 1)
        for radius, line in zip(REFERENCE_RADII, a["reference steps"]):
            per_step, _ = self.gradients(radius)
            line.set_data(steps, per_step[T, :T + 1])
        a["step line"].set_data(steps, state["per_step"])
        lengths = np.arange(1, self.net.max_length + 1)
        a["total line"].set_data(lengths, state["total"][1:])
        a["lstm step line"].set_data(steps, state["lstm_per_step"])
        a["lstm total line"].set_data(lengths, state["lstm_total"][1:])
        for name in ("clipped step line", "clipped total line", "threshold line",
                     "lstm clipped step line", "lstm clipped total line"):
            a[name].set_visible(clip)
        a["clipped step line"].set_data(steps, state["clipped_per_step"])
        a["clipped total line"].set_data(lengths, state["clipped_total"][1:])
        a["lstm clipped step line"].set_data(steps, state["lstm_clipped_per_step"])
        a["lstm clipped total line"].set_data(lengths, state["lstm_clipped_total"][1:])
        a["threshold line"].set_ydata([self.values["threshold"]] * 2)
        a["length marker"].set_xdata([T, T])
        a["length point"].set_data([T], [state["norm"]])
        a["lstm length point"].set_data([T], [state["lstm_norm"]])
        forget = 1.0 / (1.0 + np.exp(-self.values["forget_bias"]))
        a["lstm step text"].set_text(f"forget bias {self.values['forget_bias']:.2f} "
                                     f"(sigmoid {forget:.2f}), T = {T}:  "
                                     f"|dL/dh_0| = {state['lstm_per_step'][0]:.1e}")
        first = state["per_step"][0]
        a["step text"].set_text(f"radius {self.values['radius']:.2f}, T = {T}:  "
                                f"|dL/dh_0| = {first:.1e}")
        text = f"|g| = {state['norm']:.3g} at T = {T}"
        if clip:
            text += f",  c = {state['coefficient']:.3g}  →  |c g| = {state['coefficient'] * state['norm']:.3g}"
        text += f"\nLSTM: |g| = {state['lstm_norm']:.3g}"
        if clip:
            text += f",  c = {state['lstm_coefficient']:.3g}"
        a["total text"].set_text(text)
        self.state = state
        self._render()
        return state

    # --------------------------------------------------------------- controls
    def _layout(self, controls, image, readout, buttons):
        import ipywidgets as widgets

        return [widgets.HBox([widgets.VBox([controls["radius"], controls["forget_bias"]]),
                              widgets.VBox([controls["length"], controls["clip"]]),
                              widgets.VBox([controls["threshold"]])]), image]


def benchmark_case():
    """A widget and the control values the benchmark cycles through (slider moves)."""
    widget = RnnGradients()
    values = [{"radius": radius} for radius in (0.6, 0.8, 0.95, 1.1, 1.3, 1.7, 2.2, 2.8)]
    values += [{"forget_bias": bias} for bias in (0.0, 1.0, 2.0, 4.0)]
    values += [{"length": length} for length in (10, 30, 70, 100)]
    values += [{"clip": True}, {"threshold": 1.0}, {"threshold": 100.0}, {"radius": 2.5},
               {"clip": False}]
    return widget, values
