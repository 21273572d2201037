r"""Unit 04 widget: gradient descent on one logistic unit's loss surface, with a learning-rate slider.

A logistic unit :math:`o = \sigma(w x + b)` on a 1-D data set has two parameters, so its mean
cross-entropy :math:`L(w, b)` is a surface that fits on a contour plot. The widget runs a fixed
number of gradient-descent steps :math:`(w, b) \leftarrow (w, b) - \eta\,\nabla L` from a fixed start
and draws the path on that surface, the loss after each step, and the unit's curve over the data.
Sliding the learning rate :math:`\eta` shows the three regimes: too small (the path crawls), about
right (it reaches the minimum), too large (it overshoots and the loss goes up).

Without a model the gradient is taken by centred differences of the surface itself, so the widget
runs on an edition of ``nnlib`` whose unit-04 functions are still stubs (the lecture). Given a
``LogisticRegression(1)`` (the student's, at the end of exercise 04), the path and the loss curve
come from that model's ``loss_and_gradients``: a wrong gradient shows as a path that does not go
downhill. The contour is always the widget's own loss.

``update(lr=...)`` recomputes the path and redraws the figure by changing its artists' data; the
controls (``widget()``) only call ``update``, so tests and benchmarks call it directly. The figure is
a plain ``matplotlib.figure.Figure`` (no pyplot window, no ipympl): after each redraw its pixels are
PNG bytes in ``self.png``.
"""
import numbers

import numpy as np

from .base import LiveFigure, LogSlider

__all__ = ["LearningRateExplorer", "make_1d_data", "benchmark_case"]

_BLUE, _RED = "#1f77b4", "#d62728"
_REGIME_COLORS = {"small": "#b8860b", "right": "#2a8a2a", "zigzag": "#2a8a2a", "large": _RED,
                  "broken": _RED}


def make_1d_data(n_samples=50, seed=0):
    """Two overlapping classes on a line: class 0 around -0.5, class 1 around 1.5 (both sd 2).

    Parameters
    ----------
    n_samples : int, default=50
        Number of points, half of each class.
    seed : int, default=0

    Returns
    -------
    x : ndarray of shape (n_samples,), float64
    t : ndarray of shape (n_samples,), float64
        Labels 0.0 and 1.0.
    """
    rng = np.random.default_rng(seed)
    half = n_samples // 2
    x = np.concatenate([rng.normal(-0.5, 2.0, half), rng.normal(1.5, 2.0, n_samples - half)])
    t = np.concatenate([np.zeros(half), np.ones(n_samples - half)])
    return x, t


def _surface(x, t, w, b):
    """Mean cross-entropy at parameters ``w``, ``b`` (arrays of one shape S): an array of shape S.

    For labels 0/1 with signs ``s = 2t - 1``, the cross-entropy of one point is the softplus of
    minus its margin, ``log(1 + exp(-s z))``; ``np.logaddexp(0, .)`` computes it without overflow.
    """
    w, b = np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64)
    margins = (2.0 * t - 1.0) * (w[..., None] * x + b[..., None])
    return np.logaddexp(0.0, -margins).mean(axis=-1)


def _first(value):
    """The first entry of a number or array, as a float (a loss of shape (1,) still draws)."""
    return float(np.ravel(np.asarray(value, dtype=np.float64))[0])


class LearningRateExplorer(LiveFigure):
    """Gradient descent on ``L(w, b)`` of one logistic unit, drawn for a chosen learning rate.

    Parameters
    ----------
    model : LogisticRegression with 1 feature, optional
        When given, each step uses ``model.loss_and_gradients(X, t)`` at the current ``(w, b)``
        (the model's parameters are restored afterwards). Otherwise the gradient is a centred
        difference of the widget's own loss.
    lr : float, default=1.0
        Initial learning rate.
    steps : int, default=30
        Gradient steps per path.
    start : pair of float, default=(-1.5, 3.0)
        Starting ``(w, b)``.
    n_samples, seed : int
        The data set, see ``make_1d_data``.

    Attributes
    ----------
    x, t : ndarray of shape (N,)
        The data.
    minimum : ndarray of shape (2,)
        The ``(w, b)`` minimising the loss; ``min_loss`` its loss.
    points : ndarray of shape (steps + 1, 2)
        The current path, start included.
    losses : ndarray of shape (steps + 1,)
        The loss at each point of the path.
    regime : str
        ``"small"``, ``"right"``, ``"zigzag"``, ``"large"`` or ``"broken"`` (a non-finite value).
    fig : matplotlib Figure
        Three panels: the data with the unit's curve, the loss surface with the path, the loss curve.
    """

    W_RANGE = (-3.0, 6.0)
    B_RANGE = (-4.0, 4.0)
    LR_RANGE = (0.01, 30.0)
    CONTROLS = {"lr": LogSlider(*LR_RANGE, 0.05, "learning rate", label_width="initial",
                                readout_format=".3g", width="420px")}
    PRESETS = (("too small", 0.03), ("about right", 1.0), ("too large", 20.0))
    dpi = 80

    def __init__(self, model=None, *, lr=1.0, steps=30, start=(-1.5, 3.0), n_samples=50, seed=0):
        if model is not None and getattr(model, "n_features", 1) != 1:
            raise ValueError(f"LearningRateExplorer: the model must have 1 input feature, got "
                             f"{model!r}; use LogisticRegression(1)")
        if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 1:
            raise ValueError(f"LearningRateExplorer: steps must be a positive integer, got {steps!r}")
        self.model = model
        self.steps = int(steps)
        self.start = np.array(start, dtype=np.float64).reshape(2)
        self.x, self.t = make_1d_data(n_samples, seed)
        self.X = self.x[:, None]
        self.minimum = self._minimise()
        self.min_loss = float(_surface(self.x, self.t, *self.minimum))
        self.lr = None
        self._build_figure()
        self.update(lr=lr)

    # --- computation ------------------------------------------------------------------------------

    def loss(self, w, b):
        """The widget's own mean cross-entropy at ``(w, b)`` (numbers or arrays of one shape)."""
        return _surface(self.x, self.t, w, b)

    def _numerical_step(self, params, h=1e-6):
        """Loss and centred-difference gradient ``[dL/dw, dL/db]`` at ``params``."""
        w, b = params
        shifted = _surface(self.x, self.t, np.array([w + h, w - h, w, w, w]),
                           np.array([b, b, b + h, b - h, b]))
        return shifted[4], np.array([shifted[0] - shifted[1], shifted[2] - shifted[3]]) / (2 * h)

    def _model_step(self, params):
        """Loss and gradient ``[dL/dw, dL/db]`` at ``params`` from ``model.loss_and_gradients``."""
        model = self.model
        saved_w, saved_b = np.array(model.w, dtype=np.float64, copy=True), model.b
        try:
            model.w[...] = params[0]  # in place, as fit does
            model.b = float(params[1])
            loss, dw, db = model.loss_and_gradients(self.X, self.t)
        finally:
            model.w[...], model.b = saved_w, saved_b
        return _first(loss), np.array([_first(dw), _first(db)])

    def _minimise(self):
        """Newton's method on the convex loss, from the best point of a coarse grid."""
        w, b = np.meshgrid(np.linspace(*self.W_RANGE, 31), np.linspace(*self.B_RANGE, 31))
        values = self.loss(w, b)
        best = np.unravel_index(np.argmin(values), values.shape)
        params = np.array([w[best], b[best]])
        h = 1e-4
        for _ in range(30):
            _, grad = self._numerical_step(params)
            hessian = np.column_stack([
                (self._numerical_step(params + h * e)[1] - self._numerical_step(params - h * e)[1])
                / (2 * h) for e in np.eye(2)])
            step = np.linalg.solve(0.5 * (hessian + hessian.T), grad)
            params = params - step
            if np.max(np.abs(step)) < 1e-12:
                break
        return params

    def path(self, lr):
        """Run ``steps`` gradient steps from ``start``.

        Returns
        -------
        points : ndarray of shape (S + 1, 2)
            ``(w, b)`` before each step and after the last; shorter if a value became non-finite.
        losses : ndarray of shape (S + 1,)
            The loss at each point.
        """
        step_of = self._numerical_step if self.model is None else self._model_step
        params = self.start.copy()
        points, losses = [params.copy()], []
        with np.errstate(all="ignore"):
            for _ in range(self.steps):
                loss, grad = step_of(params)
                losses.append(float(loss))
                if not (np.isfinite(loss) and np.all(np.isfinite(grad))):
                    return np.array(points), np.array(losses)
                params = params - lr * grad
                points.append(params.copy())
            losses.append(step_of(params)[0])
        return np.array(points), np.array(losses)

    def classify(self, points, losses):
        """Name the regime of a path and describe it in a sentence.

        Converged: the last three points lie within 3% of the start's distance from the minimum and
        the last step is shorter than 1% of it (a path bouncing across the minimum is not
        converged). Otherwise the learning rate is too large if the loss went up on some step, too
        small if it never did.
        """
        points = np.asarray(points, dtype=np.float64)
        losses = np.asarray(losses, dtype=np.float64)
        if losses.size < self.steps + 1 or not np.all(np.isfinite(losses)):
            return "broken", "the loss or the gradient became inf or nan: the path stops there"
        scale = max(float(np.linalg.norm(points[0] - self.minimum)), 1e-12)
        last_distances = np.linalg.norm(points[-3:] - self.minimum, axis=1) / scale
        last_step = np.linalg.norm(points[-1] - points[-2]) / scale
        went_up = bool(np.any(np.diff(losses) > 1e-9 * np.maximum(1.0, np.abs(losses[1:]))))
        if last_distances.max() <= 0.03 and last_step <= 0.01:
            if went_up:
                return "zigzag", "large but converging: the path overshoots, then settles"
            return "right", f"about right: the minimum is reached within {self.steps} steps"
        if went_up:
            return "large", "too large: the steps overshoot the valley and the loss goes up"
        share = 100 * (1 - last_distances[-1])
        return "small", (f"too small: after {self.steps} steps the path is only {share:.0f}% of "
                         "the way to the minimum")

    # --- drawing ----------------------------------------------------------------------------------

    def _build_figure(self):
        self._new_figure((12.5, 3.9), layout="constrained")
        self.ax_data, self.ax_surface, self.ax_loss = self.fig.subplots(
            1, 3, gridspec_kw={"width_ratios": [1.0, 1.15, 1.0]})

        ax = self.ax_data
        colors = np.where(self.t > 0.5, _RED, _BLUE)
        jitter = np.random.default_rng(1).uniform(-0.03, 0.03, self.t.size)
        ax.scatter(self.x, self.t + jitter, c=colors, s=14, alpha=0.8, zorder=3)
        self._grid_x = np.linspace(self.x.min() - 1.0, self.x.max() + 1.0, 200)
        best_w, best_b = self.minimum
        ax.plot(self._grid_x, 1 / (1 + np.exp(-(best_w * self._grid_x + best_b))), ":", color="0.4",
                label="best unit")
        (self.curve_line,) = ax.plot(self._grid_x, np.full_like(self._grid_x, 0.5), color="k",
                                     label="after the last step")
        ax.set(xlabel="input $x$", ylabel=r"$o = \sigma(wx + b)$", ylim=(-0.1, 1.1),
               title="the data and the unit")
        ax.legend(loc="center left", fontsize="small")

        ax = self.ax_surface
        w_grid, b_grid = np.meshgrid(np.linspace(*self.W_RANGE, 120), np.linspace(*self.B_RANGE, 120))
        values = self.loss(w_grid, b_grid)
        levels = self.min_loss + np.geomspace(0.01, values.max() - self.min_loss, 14)
        ax.contour(w_grid, b_grid, values, levels=levels, cmap="viridis", linewidths=0.8)
        ax.plot(*self.minimum, "*", color="k", markersize=12, label="minimum")
        ax.plot(*self.start, "s", color="0.3", markersize=6, label="start")
        (self.path_line,) = ax.plot([], [], "o-", color=_RED, markersize=3, linewidth=1.2,
                                    label="gradient descent")
        ax.set(xlim=self.W_RANGE, ylim=self.B_RANGE, xlabel="weight $w$", ylabel="bias $b$")
        ax.legend(loc="lower left", fontsize="small")
        self.surface_title = ax.set_title("")

        ax = self.ax_loss
        ax.axhline(self.min_loss, linestyle="--", color="0.5", linewidth=1, label="minimum")
        (self.loss_line,) = ax.plot([], [], "o-", color=_RED, markersize=3, linewidth=1.2)
        ax.set(xlim=(-0.5, self.steps + 0.5), xlabel="step", ylabel="cross-entropy $L(w, b)$",
               title="loss after each step")
        ax.legend(loc="upper right", fontsize="small")
        self.regime_text = self.fig.suptitle("regime", fontsize=12)
        self._animate()
        self._loss_top, self._loss_bottom = None, 0.0

    def _moving(self):
        # The text of the two titles and the three lines.
        return [self.curve_line, self.path_line, self.loss_line, self.surface_title,
                self.regime_text]

    def _draw_background(self):
        super()._draw_background()
        self.fig.set_layout_engine("none")  # keep the layout found on the first draw

    def update(self, lr=None):
        """Recompute the path for learning rate ``lr`` and redraw the figure (``self.png``).

        Returns
        -------
        self
        """
        if lr is not None:
            if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not lr > 0:
                raise ValueError(f"LearningRateExplorer: lr must be a positive number, got {lr!r}")
            self.lr = float(lr)
        self.points, self.losses = self.path(self.lr)
        self.regime, message = self.classify(self.points, self.losses)

        self.path_line.set_data(self.points[:, 0], self.points[:, 1])
        self.loss_line.set_data(np.arange(self.losses.size), self.losses)
        w_last, b_last = self.points[-1]
        with np.errstate(over="ignore"):
            self.curve_line.set_ydata(1 / (1 + np.exp(-(w_last * self._grid_x + b_last))))
        outside = np.any((self.points[:, 0] < self.W_RANGE[0]) | (self.points[:, 0] > self.W_RANGE[1])
                         | (self.points[:, 1] < self.B_RANGE[0]) | (self.points[:, 1] > self.B_RANGE[1]))
        self.surface_title.set_text(f"learning rate {self.lr:.3g}, {self.steps} steps"
                                    + (" (the path leaves the plot)" if outside else ""))
        self.regime_text.set_text(message)
        self.regime_text.set_color(_REGIME_COLORS[self.regime])
        if self._set_loss_limits():
            self._background = None  # the loss axis changed: draw the background again
        self._render()
        return self

    def _set_loss_limits(self):
        """Fit the loss axis to the curve; True if its limits changed (the background is stale).

        The top is a whole number (or a half below 1) kept while the curve fits and uses more than
        a third of it, so most updates keep the axis and only redraw the lines.
        """
        finite = self.losses[np.isfinite(self.losses)]
        highest = float(finite.max()) if finite.size else 1.0
        lowest = min(float(finite.min()) if finite.size else 0.0, 0.0)
        top = self._loss_top
        if top is None or highest > top or highest < top / 3 or lowest < self._loss_bottom:
            top = np.ceil(1.1 * highest) if highest > 1 else 0.5 * np.ceil(2.2 * max(highest, 0.1))
            bottom = lowest - 0.05 * (top - lowest) if lowest < 0 else 0.0
            self._loss_top, self._loss_bottom = top, bottom
            self.ax_loss.set_ylim(bottom, top)
            return True
        return False

    # --- controls ---------------------------------------------------------------------------------

    def control_value(self, name):
        return self.lr

    def _layout(self, controls, image, readout, buttons):
        """The learning-rate slider and three presets setting it, then the figure."""
        import ipywidgets as widgets

        slider = controls["lr"]
        for label, value in self.PRESETS:
            button = widgets.Button(description=f"{label} ({value:g})",
                                    layout=widgets.Layout(width="150px"))
            button.on_click(lambda _, value=value: setattr(slider, "value", value))
            buttons[label] = button
        return [widgets.HBox([slider, *buttons.values()]), image]


def benchmark_case():
    """An explorer with its widget built, and slider values to cycle through (every regime)."""
    explorer = LearningRateExplorer()
    explorer.widget()
    return explorer, [{"lr": value} for value in (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 7.0, 20.0, 30.0)]
