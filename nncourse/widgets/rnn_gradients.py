r"""Unit 09 widget: how far back in time the gradient of a recurrent network reaches, and clipping.

A fixed tanh RNN with ``H = 24`` hidden units reads a fixed random sequence,
:math:`h_t = \tanh(x_t W_x + h_{t-1} W_h + b)` from :math:`h_0 = 0`, and a loss reads its last
state only, :math:`L_T = u \cdot h_T` (``u`` a fixed unit vector). The recurrent matrix is
``W_h = radius * G``, where ``G`` is a random Gaussian matrix scaled to spectral radius 1, so the
slider sets the spectral radius of ``W_h`` (its largest ``|eigenvalue|``). Two panels:

* left, **the gradient per time step**: :math:`\lVert \partial L_T / \partial h_k \rVert` for every
  step ``k = 0 .. T``, on a log scale: how much the loss at step ``T`` hears from the state at step
  ``k``. It shrinks geometrically going back in time when the radius is below about 1 (vanishing)
  and grows when it is well above (exploding);
* right, **the whole gradient as the sequence grows**: the joint norm of
  :math:`\partial L_T / \partial (W_x, W_h, b)` for every length ``T = 1 .. 100``, the number that
  ``clip_grad_norm`` measures and caps.

A few radii (``REFERENCE_RADII``) are always drawn, faint, for comparison. With clipping on, the
gradient that reaches the update is multiplied by
:math:`c = \min\big(1, \text{threshold} / (\lVert g \rVert + 10^{-6})\big)` (the rule of
``torch.nn.utils.clip_grad_norm_``): the dashed lines show the clipped gradient. The same ``c``
multiplies every step, so clipping keeps the shape of the left curve: it tames an exploding
gradient, it does nothing for a vanishing one::

    from nncourse.widgets.rnn_gradients import RnnGradients
    RnnGradients(radius=1.5).widget()        # in a notebook

**How the gradients are computed.** With plain numpy, *forward* in time (so the widget needs
nothing from exercise 09 and shows no solution of it). Alongside each state the widget carries
its derivatives with respect to every earlier state and to every parameter, by the chain rule
through one step: with :math:`J_t = \partial h_t / \partial h_{t-1}` (an ``H x H`` matrix),
:math:`\partial h_t / \partial h_k = J_t\, \partial h_{t-1} / \partial h_k` and
:math:`\partial h_k / \partial h_k = I`. This "forward mode" (real-time recurrent learning) gets
every length ``T`` in one pass, but its cost grows like ``H^4`` per step; backpropagation through
time, the exercise, gets the gradient of one loss far more cheaply by going backward.
``tests/test_widget_rnn_gradients.py`` checks the numbers against centred differences.

``update(radius=..., length=..., clip=..., threshold=...)`` recomputes and redraws without any
display (``self.png`` holds the figure as PNG bytes), which is what tests and the benchmark call.
"""
import numpy as np

from .base import LiveFigure, LogSlider, Slider, Switch

__all__ = ["RecurrentNet", "RnnGradients", "benchmark_case"]

MAX_LENGTH = 100                # the longest sequence (and the right panel's range of lengths)
REFERENCE_RADII = (0.5, 1.0, 2.0)
CLIP_EPS = 1e-6                 # torch's clip_grad_norm_ adds it to the norm
_REFERENCE_COLORS = ("#1f77b4", "#2ca02c", "#d62728")
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
        H, D, T_max = self.hidden, self.X.shape[1], self.max_length
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


def clip_coefficient(total_norm, threshold):
    """``min(1, threshold / (total_norm + 1e-6))``: what clipping multiplies every gradient by."""
    return min(1.0, float(threshold) / (float(total_norm) + CLIP_EPS))


class RnnGradients(LiveFigure):
    """The gradient of an RNN per time step and as a whole, for a chosen spectral radius of ``W_h``.

    Parameters
    ----------
    radius : float, default=1.5
        Spectral radius of the recurrent matrix ``W_h``.
    length : int, default=60
        ``T``, the length of the sequence the loss is taken at (the left panel).
    clip : bool, default=False
        Whether the dashed, clipped gradient is drawn.
    threshold : float, default=10
        ``max_norm`` of the clipping.
    net : RecurrentNet, optional
        The network and its sequence (default: ``RecurrentNet()``).
    dpi : int, default=72
        Resolution of the rendered image.
    """

    CONTROLS = {
        "radius": Slider(0.2, 3.0, 0.05, "radius of W_h", label_width="110px"),
        "length": Slider(2, MAX_LENGTH, 1, "length T", integer=True, label_width="110px"),
        "clip": Switch("clip the gradient"),
        "threshold": LogSlider(0.1, 1000.0, 0.1, "threshold", label_width="110px",
                               readout_format=".3g"),
    }

    def __init__(self, radius=1.5, length=60, clip=False, threshold=10.0, net=None, dpi=72):
        self.net = RecurrentNet() if net is None else net
        self.dpi = dpi
        self.values = {}
        self._set(radius=radius, length=length, clip=clip, threshold=threshold)
        self._cache = {}
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

    def compute(self):
        """The numbers drawn for the current controls (also returned by ``update``).

        Returns
        -------
        dict
            ``per_step`` (shape ``(T + 1,)``, :math:`\\lVert \\partial L_T / \\partial h_k
            \\rVert` for ``k = 0 .. T``), ``total`` (shape ``(T_max + 1,)``, the joint gradient
            norm for every length), ``norm`` (the joint norm at the current ``T``), ``coefficient``
            (the clipping factor ``c``, 1 when clipping is off), ``clipped_per_step`` and
            ``clipped_total`` (times ``c``, resp. capped at the threshold).
        """
        T = self.values["length"]
        per_step, total = self.gradients(self.values["radius"])
        norm = float(total[T])
        coefficient = clip_coefficient(norm, self.values["threshold"]) if self.values["clip"] else 1.0
        capped = np.array([clip_coefficient(value, self.values["threshold"]) for value in total])
        return {"per_step": per_step[T, :T + 1].copy(), "total": total.copy(), "norm": norm,
                "coefficient": coefficient, "clipped_per_step": coefficient * per_step[T, :T + 1],
                "clipped_total": total * capped if self.values["clip"] else total.copy()}

    # ---------------------------------------------------------------- drawing
    def _build_figure(self):
        self._new_figure((10.5, 4.4))
        self.fig.subplots_adjust(left=0.07, right=0.99, bottom=0.23, top=0.9, wspace=0.22)
        left, right = self.fig.subplots(1, 2)
        T_max = self.net.max_length
        left.set(xlim=(0, T_max), ylim=_STEP_LIMITS, yscale="log", xlabel="time step $k$",
                 ylabel=r"$\|\partial L_T / \partial h_k\|$",
                 title="gradient per time step (loss at step $T$)")
        right.set(xlim=(1, T_max), ylim=_TOTAL_LIMITS, yscale="log", xlabel="sequence length $T$",
                  ylabel=r"$\|\partial L_T / \partial (W_x, W_h, b)\|$",
                  title="whole gradient as the sequence grows")
        for ax in (left, right):
            ax.grid(True, which="major", color="0.9", linewidth=0.6)
        self.axes = {"per step": left, "total": right}
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
        a["total line"], = right.plot([], [], color="black", linewidth=2.2)
        a["clipped total line"], = right.plot([], [], color="black", linewidth=1.8, linestyle="--")
        a["threshold line"] = right.axhline(1.0, color="#ff7f0e", linewidth=1.4, linestyle=":",
                                            label="threshold")
        a["length marker"] = right.axvline(1.0, color="0.4", linewidth=1.0)
        a["length point"], = right.plot([], [], marker="o", markersize=7, color="black",
                                        linestyle="none", zorder=5)
        box = {"facecolor": "white", "alpha": 0.85, "edgecolor": "0.7"}
        a["step text"] = left.text(0.03, 0.04, "", transform=left.transAxes, fontsize=10, zorder=6,
                                   bbox=box)
        a["total text"] = right.text(0.03, 0.04, "", transform=right.transAxes, fontsize=10,
                                     zorder=6, bbox=box)
        self.artists = a
        handles = [*right.get_legend_handles_labels()[0][:len(REFERENCE_RADII)], a["step line"],
                   a["clipped step line"], a["threshold line"]]
        self.fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=9,
                        frameon=False)
        # The reference curves of the right panel are part of the static background.
        self._animate()

    def _moving(self):
        a = self.artists
        return [*a["reference steps"], a["threshold line"], a["length marker"], a["step line"],
                a["clipped step line"], a["total line"], a["clipped total line"],
                a["length point"], a["step text"], a["total text"]]

    def update(self, **values):
        """Set any of the controls (``radius``, ``length``, ``clip``, ``threshold``), recompute and
        redraw the figure.

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
        for name in ("clipped step line", "clipped total line", "threshold line"):
            a[name].set_visible(clip)
        a["clipped step line"].set_data(steps, state["clipped_per_step"])
        a["clipped total line"].set_data(lengths, state["clipped_total"][1:])
        a["threshold line"].set_ydata([self.values["threshold"]] * 2)
        a["length marker"].set_xdata([T, T])
        a["length point"].set_data([T], [state["norm"]])
        first = state["per_step"][0]
        a["step text"].set_text(f"radius {self.values['radius']:.2f}, T = {T}:  "
                                f"|dL/dh_0| = {first:.1e}")
        text = f"|g| = {state['norm']:.3g} at T = {T}"
        if clip:
            text += f",  c = {state['coefficient']:.3g}  →  |c g| = {state['coefficient'] * state['norm']:.3g}"
        a["total text"].set_text(text)
        self.state = state
        self._render()
        return state

    # --------------------------------------------------------------- controls
    def _layout(self, controls, image, readout, buttons):
        import ipywidgets as widgets

        return [widgets.HBox([widgets.VBox([controls["radius"], controls["length"]]),
                              widgets.VBox([controls["clip"], controls["threshold"]])]), image]


def benchmark_case():
    """A widget and the control values the benchmark cycles through (slider moves)."""
    widget = RnnGradients()
    values = [{"radius": radius} for radius in (0.6, 0.8, 0.95, 1.1, 1.3, 1.7, 2.2, 2.8)]
    values += [{"length": length} for length in (10, 30, 70, 100)]
    values += [{"clip": True}, {"threshold": 1.0}, {"threshold": 100.0}, {"radius": 2.5},
               {"clip": False}]
    return widget, values
