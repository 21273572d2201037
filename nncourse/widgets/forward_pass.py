"""Unit 03 widget: how many hidden units does a network need to draw a 1-D function?

A network with one hidden layer, ``y(x) = v0 + sum_j v_j f(a_j (x - c_j))``, fits noisy samples
of a target curve. Its first layer is *random* (slopes ``a_j`` and centres ``c_j`` drawn once per
``draw``); only the output layer is fitted, by least squares (``numpy.linalg.lstsq``), since
training the first layer needs backpropagation (unit 05). A slider sets the number of hidden units
``H``: the left panel shows the fit, the target and each hidden unit's contribution ``v_j h_j(x)``;
the right panel the errors for every ``H`` from 1 to 100, with the current one marked::

    from nncourse.widgets.forward_pass import HiddenUnitsWidget
    HiddenUnitsWidget().widget()         # in a notebook

``update(n_hidden=..., activation=..., target=..., noise=..., draw=...)`` refits and redraws
without any display, which is what tests and the benchmark call.
"""
import numpy as np
from matplotlib.collections import LineCollection

from .. import resolve_nnlib
from .base import Choice, LiveFigure, Slider

X_RANGE = (-3.0, 3.0)
Y_LIMITS = (-2.2, 2.2)
MAX_HIDDEN = 100
SLOPE_SCALE = 2.0  # the slopes a_j are drawn from N(0, SLOPE_SCALE^2)
ERROR_LIMITS = (1e-5, 1e3)

TARGETS = {
    "sine": lambda x: np.sin(2.0 * x),
    "kink": lambda x: np.abs(x) - 1.0,
    "step": lambda x: np.where(x >= 0.0, 1.0, -1.0),
    "chirp": lambda x: np.sin(x ** 2),
}
ACTIVATIONS = ("tanh", "sigmoid", "ReLU")  # sigmoid is nnlib's (unit 01), the others numpy's


def random_first_layer(n_hidden, draw=0):
    """Slopes and centres of ``n_hidden`` random hidden units, as a weight row and a bias.

    Unit ``j`` computes ``f(a_j (x - c_j)) = f(x W[0, j] + b[j])`` with ``a_j ~ N(0, 2^2)`` and
    ``c_j ~ U(-3, 3)``: its steepest part (or a ReLU's kink) sits at ``c_j``, inside the data. The
    first ``k`` units of a draw are the same for every ``n_hidden >= k``.

    Returns
    -------
    W : ndarray of shape (1, n_hidden)
    b : ndarray of shape (n_hidden,)
    """
    rng = np.random.default_rng([3, int(draw)])
    slopes = SLOPE_SCALE * rng.standard_normal(MAX_HIDDEN)[:n_hidden]
    centres = rng.uniform(*X_RANGE, MAX_HIDDEN)[:n_hidden]
    return slopes[None, :], -slopes * centres


def activation_function(name, nn=None):
    """The activation called ``name`` (one of ``ACTIVATIONS``); sigmoid from the nnlib ``nn``."""
    if name == "sigmoid":
        return resolve_nnlib(nn).functional.sigmoid
    return {"tanh": np.tanh, "ReLU": lambda z: z * (z > 0.0)}[name]


def hidden_features(x, W, b, activation, nn=None):
    """Hidden activations ``f(x W + b)`` of the inputs ``x`` (shape ``(N,)``), shape ``(N, H)``."""
    return activation_function(activation, nn)(np.asarray(x, dtype=np.float64)[:, None] * W + b)


def fit_output_layer(features, y):
    """Least-squares output weights ``v`` (shape ``(H,)``) and bias ``v0``: ``features @ v + v0 ~ y``.

    ``lstsq`` returns the solution of smallest norm when several fit equally well (``H + 1 > N``).
    """
    design = np.hstack([features, np.ones((features.shape[0], 1))])
    solution = np.linalg.lstsq(design, y, rcond=None)[0]
    return solution[:-1], float(solution[-1])


class HiddenUnitsWidget(LiveFigure):
    """Random features versus more units: a one-hidden-layer fit of a 1-D function.

    Parameters
    ----------
    n_hidden : int, default=6
        Hidden units ``H`` (1 to 100).
    activation : {"tanh", "sigmoid", "ReLU"}, default="tanh"
    target : {"sine", "kink", "step", "chirp"}, default="sine"
        The curve to fit: ``sin 2x``, ``|x| - 1``, the sign of ``x``, ``sin x^2``.
    noise : float, default=0.1
        Standard deviation of the Gaussian noise added to the samples.
    draw : int, default=0
        Which random first layer (the same ``draw`` always gives the same units).
    n_points : int, default=40
        Samples, evenly spaced over [-3, 3].
    seed : int, default=0
        Seeds the noise pattern (fixed while the controls move; ``noise`` only scales it).
    nn : module, optional
        The nnlib whose sigmoid to use; default: the one the notebook imports.
    dpi : int, default=72
        Resolution of the rendered image.
    """

    CONTROLS = {
        "n_hidden": Slider(1, MAX_HIDDEN, 1, "hidden units", integer=True),
        "activation": Choice(ACTIVATIONS, "activation"),
        "target": Choice(tuple(TARGETS), "target"),
        "noise": Slider(0.0, 0.5, 0.01, "noise"),
        "draw": Slider(0, 20, 1, "random draw", integer=True),
    }

    def __init__(self, n_hidden=6, activation="tanh", target="sine", noise=0.1, draw=0,
                 n_points=40, seed=0, nn=None, dpi=72):
        self.nn = resolve_nnlib(nn)
        self.values = {}
        self._set(n_hidden=n_hidden, activation=activation, target=target, noise=noise, draw=draw)
        self.n_points, self.dpi = int(n_points), dpi
        self.x = np.linspace(*X_RANGE, self.n_points)
        self.grid = np.linspace(*X_RANGE, 301)
        self._unit_noise = np.random.default_rng(seed).standard_normal(self.n_points)
        self._curves = {}  # (activation, target, noise, draw) -> errors for H = 1 .. MAX_HIDDEN
        self._build_figure()
        self.update()

    # ------------------------------------------------------------------ state
    def _set(self, **values):
        unknown = set(values) - set(self.CONTROLS)
        if unknown:
            raise ValueError(f"HiddenUnitsWidget.update: unknown controls {sorted(unknown)}; "
                             f"the controls are {sorted(self.CONTROLS)}")
        for name, value in values.items():
            spec = self.CONTROLS[name]
            if isinstance(spec, Choice):
                if value not in spec.options:
                    raise ValueError(f"HiddenUnitsWidget: {name} must be one of "
                                     f"{list(spec.options)}, got {value!r}")
                self.values[name] = value
            elif spec.integer:
                if not spec.low <= int(value) <= spec.high:
                    raise ValueError(f"HiddenUnitsWidget: {name} must be in [{spec.low}, "
                                     f"{spec.high}], got {value!r}")
                self.values[name] = int(value)
            else:
                self.values[name] = float(value)

    @property
    def y(self):
        """The noisy samples at ``self.x``, shape ``(n_points,)``."""
        return TARGETS[self.values["target"]](self.x) + self.values["noise"] * self._unit_noise

    def n_parameters(self, n_hidden=None):
        """Parameters of the 1-H-1 network: H weights and H biases in, H weights and 1 bias out."""
        n_hidden = self.values["n_hidden"] if n_hidden is None else n_hidden
        return 3 * n_hidden + 1

    def fit(self, n_hidden=None):
        """Fit the output layer for ``n_hidden`` units; returns ``(W, b, v, v0)`` of the network."""
        n_hidden = self.values["n_hidden"] if n_hidden is None else int(n_hidden)
        W, b = random_first_layer(n_hidden, self.values["draw"])
        features = hidden_features(self.x, W, b, self.values["activation"], self.nn)
        v, v0 = fit_output_layer(features, self.y)
        return W, b, v, v0

    def predict(self, x, network):
        """The network's output at the inputs ``x`` (shape ``(N,)``), ``network = (W, b, v, v0)``."""
        W, b, v, v0 = network
        return hidden_features(x, W, b, self.values["activation"], self.nn) @ v + v0

    def error_curves(self):
        """Mean squared errors for H = 1 .. 100 on the samples and against the true curve.

        Returns ``(train, curve)``, two arrays of shape ``(MAX_HIDDEN,)``; cached per setting.
        """
        key = tuple(self.values[name] for name in ("activation", "target", "noise", "draw"))
        if key not in self._curves:
            activation, y = self.values["activation"], self.y
            truth = TARGETS[self.values["target"]](self.grid)
            W, b = random_first_layer(MAX_HIDDEN, self.values["draw"])
            on_x = hidden_features(self.x, W, b, activation, self.nn)
            on_grid = hidden_features(self.grid, W, b, activation, self.nn)
            train, curve = np.empty(MAX_HIDDEN), np.empty(MAX_HIDDEN)
            for h in range(1, MAX_HIDDEN + 1):
                v, v0 = fit_output_layer(on_x[:, :h], y)
                train[h - 1] = np.mean((on_x[:, :h] @ v + v0 - y) ** 2)
                curve[h - 1] = np.mean((on_grid[:, :h] @ v + v0 - truth) ** 2)
            self._curves[key] = (train, curve)
        return self._curves[key]

    # ---------------------------------------------------------------- drawing
    def _build_figure(self):
        self._new_figure((10.0, 4.2))
        # Fixed margins: a layout engine would re-solve the layout at every redraw.
        self.fig.subplots_adjust(left=0.06, right=0.98, bottom=0.25, top=0.9, wspace=0.25)
        fit_ax, error_ax = self.fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.4, 1.0]})
        fit_ax.set(xlim=X_RANGE, ylim=Y_LIMITS, xlabel="$x$", ylabel="$y$")
        error_ax.set(xlim=(1, MAX_HIDDEN), ylim=ERROR_LIMITS, yscale="log", xlabel="hidden units $H$",
                     ylabel="mean squared error", title="errors for every $H$ (this draw)")
        error_ax.axvline(self.n_points - 1, color="0.6", linestyle=":", linewidth=1)
        error_ax.text(self.n_points, 2 * ERROR_LIMITS[0], "$H + 1 = N$", color="0.4", fontsize=9)
        self.axes = {"fit": fit_ax, "errors": error_ax}
        self.artists = {
            "units": fit_ax.add_collection(LineCollection([], colors="tab:green", linewidths=0.8,
                                                          alpha=0.35, label="$v_j h_j(x)$")),
            "truth": fit_ax.plot([], [], color="0.35", linestyle="--", linewidth=1.5,
                                 label="target")[0],
            "samples": fit_ax.scatter([], [], s=18, color="black", zorder=3, label="samples"),
            "fit": fit_ax.plot([], [], color="tab:red", linewidth=2.2, label="network")[0],
            "title": fit_ax.text(0.5, 1.03, "", transform=fit_ax.transAxes, ha="center", fontsize=11),
            "train": error_ax.plot([], [], color="black", label="on the samples")[0],
            "curve": error_ax.plot([], [], color="tab:red", label="against the target")[0],
            "marker": error_ax.axvline(1, color="tab:blue", linewidth=1.5),
        }
        self.fig.legend(handles=[self.artists[name] for name in ("samples", "truth", "fit", "units")],
                        loc="lower left", bbox_to_anchor=(0.06, 0.0), ncol=4, fontsize=9, frameon=False)
        error_ax.legend(loc="upper right", fontsize=8)
        self._animate()

    def _moving(self):
        return list(self.artists.values())

    def update(self, **values):
        """Set any of the controls, refit and redraw the figure (``self.png``).

        Returns ``{"train_mse", "curve_mse", "n_parameters"}`` of the current network.
        """
        self._set(**values)
        network = self.fit()
        W, b, v, v0 = network
        y, truth = self.y, TARGETS[self.values["target"]](self.grid)
        prediction = self.predict(self.grid, network)
        contributions = hidden_features(self.grid, W, b, self.values["activation"], self.nn) * v
        self.result = {"train_mse": float(np.mean((self.predict(self.x, network) - y) ** 2)),
                       "curve_mse": float(np.mean((prediction - truth) ** 2)),
                       "n_parameters": self.n_parameters()}
        train, curve = self.error_curves()
        hidden = np.arange(1, MAX_HIDDEN + 1)

        art = self.artists
        art["truth"].set_data(self.grid, truth)
        art["samples"].set_offsets(np.column_stack([self.x, y]))
        art["fit"].set_data(self.grid, prediction)
        art["units"].set_segments([np.column_stack([self.grid, column]) for column in contributions.T])
        art["train"].set_data(hidden, np.clip(train, *ERROR_LIMITS))
        art["curve"].set_data(hidden, np.clip(curve, *ERROR_LIMITS))
        art["marker"].set_xdata([self.values["n_hidden"]] * 2)
        h = self.values["n_hidden"]
        art["title"].set_text(f"{h} {self.values['activation']} unit{'s' if h > 1 else ''}, "
                              f"{self.result['n_parameters']} parameters: "
                              f"error against the target {self.result['curve_mse']:.3g}")
        self._render()
        return dict(self.result)

    # --------------------------------------------------------------- controls
    def _layout(self, controls, image, readout, buttons):
        import ipywidgets as widgets

        return [widgets.HBox([controls["n_hidden"], controls["noise"], controls["draw"]]),
                widgets.HBox([controls["activation"]]), widgets.HBox([controls["target"]]),
                readout, image]

    def _readout(self):
        result = self.result
        return (f"<b>H = {self.values['n_hidden']}</b> hidden units &nbsp;·&nbsp; "
                f"{result['n_parameters']} parameters (3H + 1) &nbsp;·&nbsp; "
                f"error on the samples {result['train_mse']:.3g} &nbsp;·&nbsp; "
                f"against the target {result['curve_mse']:.3g}")


def benchmark_case():
    """A widget and the control values the benchmark cycles through (slider moves)."""
    widget = HiddenUnitsWidget()
    values = [{"n_hidden": int(h)} for h in (1, 2, 4, 8, 12, 20, 30, 45, 60, 80, 100, 6)]
    values += [{"activation": "ReLU"}, {"target": "step"}, {"noise": 0.3}, {"draw": 3},
               {"activation": "tanh", "target": "sine", "noise": 0.1, "draw": 0}]
    return widget, values
