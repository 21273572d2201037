r"""Unit 07 widget: an optimizer race on a 2-D loss surface.

``OptimizerRace`` starts four optimizers from the same point of a loss surface with two
parameters and draws their paths over its contour lines, with the loss after every step:

* **SGD**, :math:`\theta \leftarrow \theta - \eta\, g`;
* **momentum**, :math:`b \leftarrow \mu b + g` (:math:`b = g` at the first step),
  :math:`\theta \leftarrow \theta - \eta\, b`;
* **RMSprop**, :math:`v \leftarrow \alpha v + (1 - \alpha) g^2`,
  :math:`\theta \leftarrow \theta - \eta\, g / (\sqrt{v} + \epsilon)`;
* **Adam**, running averages :math:`m` of :math:`g` and :math:`v` of :math:`g^2`, both divided by
  :math:`1 - \beta^t` (their start at zero), :math:`\theta \leftarrow \theta - \eta\,
  \hat m / (\sqrt{\hat v} + \epsilon)`,

with ``torch.optim``'s defaults (:math:`\alpha = 0.99`, :math:`\beta = (0.9, 0.999)`,
:math:`\epsilon = 10^{-8}`). Two surfaces: a **ravine**, the quadratic
:math:`\tfrac12(0.1\,x^2 + 10\,y^2)` whose curvatures differ a hundredfold, and **Rosenbrock**'s
banana-shaped valley :math:`(1 - x)^2 + 100\,(y - x^2)^2`. One learning-rate slider serves SGD and
momentum, another RMSprop and Adam (their steps are about :math:`\eta` per coordinate whatever the
size of the gradient, so the two kinds need rates of different sizes)::

    from nncourse.widgets.optimizer_race import OptimizerRace
    OptimizerRace(surface="rosenbrock").widget()     # in a notebook

The update rules above are written out here in plain numpy, so the race runs on an edition of
``nnlib`` whose optimizers are still stubs (the lecture of unit 07). ``OptimizerRace(source="nnlib")``
runs the same race with this ``nnlib``'s ``SGD``, ``RMSprop`` and ``Adam`` on the two-parameter
array instead (the student's own, at the end of exercise 07): with correct optimizers both sources
draw the same paths; an optimizer that is not written yet is named in the figure instead.

Like every widget, it keeps its state apart from its drawing (``nncourse.widgets.base``):
``update(**values)`` recomputes and redraws without any display; the figure is PNG bytes in ``png``.
"""
import numbers

import numpy as np
from matplotlib.ticker import LogFormatter, NullFormatter

from .. import resolve_nnlib
from .base import Choice, LiveFigure, LogSlider, Slider

__all__ = ["OptimizerRace", "SURFACES", "benchmark_case"]

OPTIMIZERS = ("SGD", "momentum", "RMSprop", "Adam")
COLORS = {"SGD": "#d62728", "momentum": "#ff7f0e", "RMSprop": "#2ca02c", "Adam": "#1f77b4"}
ALPHA, BETAS, EPS = 0.99, (0.9, 0.999), 1e-8   # torch.optim's defaults (RMSprop, Adam)
FAR = 1e4  # a path that gets this far from the origin has diverged: it stops there


# ----------------------------------------------------------------------------------------------
# Loss surfaces

class Surface:
    """A loss of two parameters, with the view and the settings the race starts with.

    Attributes
    ----------
    name, title : str
    start, minimum : ndarray of shape (2,)
    xlim, ylim : pair of float
        The part of the plane drawn.
    defaults : dict
        ``lr``, ``adaptive_lr``, ``momentum`` and ``steps`` that make a telling race here.
    """

    def __init__(self, name, title, loss, gradient, start, minimum, xlim, ylim, defaults):
        self.name, self.title = name, title
        self._loss, self._gradient = loss, gradient
        self.start = np.array(start, dtype=np.float64)
        self.minimum = np.array(minimum, dtype=np.float64)
        self.xlim, self.ylim = xlim, ylim
        self.defaults = defaults

    def loss(self, x, y):
        """The loss at ``(x, y)``: numbers or arrays of one shape."""
        with np.errstate(over="ignore", invalid="ignore"):
            return self._loss(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))

    def gradient(self, theta):
        """``[dL/dx, dL/dy]`` at ``theta`` (shape (2,)), a new array of shape (2,)."""
        with np.errstate(over="ignore", invalid="ignore"):
            return self._gradient(float(theta[0]), float(theta[1]))


RAVINE_CURVATURES = (0.1, 10.0)


def _ravine_loss(x, y):
    a, b = RAVINE_CURVATURES
    return 0.5 * (a * x ** 2 + b * y ** 2)


def _ravine_gradient(x, y):
    a, b = RAVINE_CURVATURES
    return np.array([a * x, b * y])


def _rosenbrock_loss(x, y):
    return (1.0 - x) ** 2 + 100.0 * (y - x ** 2) ** 2


def _rosenbrock_gradient(x, y):
    return np.array([-2.0 * (1.0 - x) - 400.0 * x * (y - x ** 2), 200.0 * (y - x ** 2)])


SURFACES = {
    "ravine": Surface("ravine", "ravine (0.1 x² + 10 y²) / 2", _ravine_loss,
                      _ravine_gradient, start=(-4.5, 1.5), minimum=(0.0, 0.0), xlim=(-5.0, 5.0),
                      ylim=(-2.0, 2.0),
                      defaults={"lr": 0.15, "adaptive_lr": 0.1, "momentum": 0.8, "steps": 100}),
    "rosenbrock": Surface("rosenbrock", "Rosenbrock (1 − x)² + 100 (y − x²)²",
                          _rosenbrock_loss, _rosenbrock_gradient, start=(-1.2, 1.0),
                          minimum=(1.0, 1.0), xlim=(-2.0, 2.0), ylim=(-1.0, 3.0),
                          defaults={"lr": 0.001, "adaptive_lr": 0.1, "momentum": 0.9,
                                    "steps": 300}),
}


# ----------------------------------------------------------------------------------------------
# The update rules, in plain numpy: each returns a function ``step(g, t) -> change`` with its own
# running state, so that theta_t = theta_{t-1} - change.

def sgd_rule(lr):
    """Gradient descent: the change is :math:`\\eta g`."""
    def step(g, t):
        return lr * g
    return step


def momentum_rule(lr, momentum):
    """Heavy ball, as torch writes it: :math:`b_1 = g_1`, :math:`b_t = \\mu b_{t-1} + g_t`;
    the change is :math:`\\eta b_t`."""
    state = {}

    def step(g, t):
        state["b"] = g.copy() if t == 1 else momentum * state["b"] + g
        return lr * state["b"]
    return step


def rmsprop_rule(lr, alpha=ALPHA, eps=EPS):
    """:math:`v_t = \\alpha v_{t-1} + (1 - \\alpha) g_t^2` from :math:`v_0 = 0`; the change is
    :math:`\\eta g_t / (\\sqrt{v_t} + \\epsilon)`."""
    state = {"v": 0.0}

    def step(g, t):
        state["v"] = alpha * state["v"] + (1 - alpha) * g * g
        return lr * g / (np.sqrt(state["v"]) + eps)
    return step


def adam_rule(lr, betas=BETAS, eps=EPS):
    """Both running averages from 0, each divided by :math:`1 - \\beta^t`; the change is
    :math:`\\eta \\hat m_t / (\\sqrt{\\hat v_t} + \\epsilon)`."""
    beta1, beta2 = betas
    state = {"m": 0.0, "v": 0.0}

    def step(g, t):
        state["m"] = beta1 * state["m"] + (1 - beta1) * g
        state["v"] = beta2 * state["v"] + (1 - beta2) * g * g
        m_hat = state["m"] / (1 - beta1 ** t)
        v_hat = state["v"] / (1 - beta2 ** t)
        return lr * m_hat / (np.sqrt(v_hat) + eps)
    return step


class Path:
    """Where one optimizer went: ``points`` (k + 1, 2) from the start, ``losses`` (k + 1,), and why
    it stopped early (``diverged``, or ``problem``: an error message) if it did."""

    def __init__(self, points, losses, diverged=False, problem=""):
        self.points, self.losses = points, losses
        self.diverged, self.problem = diverged, problem

    @property
    def steps(self):
        return len(self.points) - 1


def _far(theta):
    return not np.all(np.isfinite(theta)) or float(np.max(np.abs(theta))) > FAR


def descend(surface, step, steps):
    """Run ``steps`` updates ``theta -= step(g, t)`` from ``surface.start``; a ``Path``."""
    theta = surface.start.copy()
    points = [theta]
    diverged = False
    with np.errstate(all="ignore"):
        for t in range(1, steps + 1):
            theta = theta - step(surface.gradient(theta), t)
            points.append(theta)
            if _far(theta):
                diverged = True
                break
    points = np.array(points)
    return Path(points, surface.loss(points[:, 0], points[:, 1]), diverged)


def descend_with_nnlib(surface, make_optimizer, steps):
    """The same with an ``nnlib.optim`` optimizer: ``make_optimizer([(param, grad)])`` is stepped on
    the parameter array after the widget writes the surface's gradient into ``grad``."""
    param, grad = surface.start.copy(), np.zeros(2)
    points, diverged, problem = [param.copy()], False, ""
    try:
        optimizer = make_optimizer([(param, grad)])
        with np.errstate(all="ignore"):
            for _ in range(steps):
                grad[...] = surface.gradient(param)
                optimizer.step()
                points.append(param.copy())
                if _far(param):
                    diverged = True
                    break
    except NotImplementedError as error:
        problem = f"not implemented yet: {error}"
    except Exception as error:  # a student's optimizer may fail in any way: say how, keep drawing
        problem = f"failed: {type(error).__name__}: {error}"
    points = np.array(points)
    return Path(points, surface.loss(points[:, 0], points[:, 1]), diverged, problem)


# ----------------------------------------------------------------------------------------------
# The race

class OptimizerRace(LiveFigure):
    """SGD, momentum, RMSprop and Adam from one start on one surface, drawn together.

    Parameters
    ----------
    surface : {"ravine", "rosenbrock"}, default="ravine"
    lr : float, optional
        Learning rate of SGD and momentum (default: the surface's).
    adaptive_lr : float, optional
        Learning rate of RMSprop and Adam (default: the surface's).
    momentum : float, optional
        :math:`\\mu` of the momentum optimizer, in [0, 1) (default 0.9).
    steps : int, optional
        Updates per optimizer (default: the surface's, 100 or 300).
    source : {"numpy", "nnlib"}, default="numpy"
        Where the update rules come from: this module's plain numpy, or ``nnlib.optim``.
    nn : module, optional
        The nnlib of ``source="nnlib"``; default: the one the notebook imports.
    dpi : int, default=72

    Attributes
    ----------
    paths : dict of Path
        One per optimizer, in the order of ``OPTIMIZERS``.
    values : dict
        The current controls.
    png : bytes
        The figure as drawn last.
    """

    CONTROLS = {
        "lr": LogSlider(1e-4, 1.0, 0.05, "η SGD, momentum", label_width="120px", width="330px"),
        "adaptive_lr": LogSlider(1e-3, 1.0, 0.05, "η RMSprop, Adam", label_width="120px",
                                 width="330px"),
        "momentum": Slider(0.0, 0.99, 0.01, "momentum μ", label_width="120px", width="330px"),
        "steps": Slider(10, 500, 10, "steps", integer=True, label_width="120px", width="330px"),
        "surface": Choice(tuple(SURFACES), "surface", dropdown=True, label_width="120px",
                          width="330px"),
    }

    def __init__(self, surface="ravine", *, lr=None, adaptive_lr=None, momentum=None, steps=None,
                 source="numpy", nn=None, dpi=72):
        if source not in ("numpy", "nnlib"):
            raise ValueError(f"OptimizerRace: source must be 'numpy' or 'nnlib', got {source!r}")
        self.source = source
        self.nn = resolve_nnlib(nn) if source == "nnlib" else None
        self.dpi = dpi
        self.values = {}
        self.paths = {}
        self._cache = {}
        self._drawn_view = None
        self._build_figure()
        chosen = {"lr": lr, "adaptive_lr": adaptive_lr, "momentum": momentum, "steps": steps}
        self.update(surface=surface, **{name: value for name, value in chosen.items()
                                        if value is not None})

    # --- state -----------------------------------------------------------------------------------

    @property
    def surface(self):
        return SURFACES[self.values["surface"]]

    def _checked(self, values):
        unknown = set(values) - set(self.CONTROLS)
        if unknown:
            raise ValueError(f"OptimizerRace.update: unknown controls {sorted(unknown)}; the controls "
                             f"are {sorted(self.CONTROLS)}")
        checked = {}
        for name, value in values.items():
            if name == "surface":
                if value not in SURFACES:
                    raise ValueError(f"OptimizerRace: surface must be one of {sorted(SURFACES)}, "
                                     f"got {value!r}")
                checked[name] = value
                continue
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise ValueError(f"OptimizerRace: {name} must be a number, got {value!r}")
            if name == "steps":
                if value != int(value) or not 1 <= value <= 5000:
                    raise ValueError(f"OptimizerRace: steps must be a whole number from 1 to 5000, "
                                     f"got {value!r}")
                checked[name] = int(value)
            elif name == "momentum":
                if not 0.0 <= value < 1.0:
                    raise ValueError(f"OptimizerRace: momentum must be in [0, 1), got {value!r}")
                checked[name] = float(value)
            else:
                if not (np.isfinite(value) and value > 0):
                    raise ValueError(f"OptimizerRace: {name} must be a positive number, got {value!r}")
                checked[name] = float(value)
        return checked

    def _rules(self):
        """``{optimizer: (cache key, function making its Path)}`` for the current values."""
        v, surface, steps = self.values, self.surface, self.values["steps"]
        lr, adaptive, mu = v["lr"], v["adaptive_lr"], v["momentum"]
        if self.source == "numpy":
            made = {"SGD": lambda: descend(surface, sgd_rule(lr), steps),
                    "momentum": lambda: descend(surface, momentum_rule(lr, mu), steps),
                    "RMSprop": lambda: descend(surface, rmsprop_rule(adaptive), steps),
                    "Adam": lambda: descend(surface, adam_rule(adaptive), steps)}
        else:
            optim = self.nn.optim  # the student's own in exercise 07

            made = {"SGD": lambda: descend_with_nnlib(surface, lambda p: optim.SGD(p, lr=lr), steps),
                    "momentum": lambda: descend_with_nnlib(
                        surface, lambda p: optim.SGD(p, lr=lr, momentum=mu), steps),
                    "RMSprop": lambda: descend_with_nnlib(
                        surface, lambda p: optim.RMSprop(p, lr=adaptive), steps),
                    "Adam": lambda: descend_with_nnlib(
                        surface, lambda p: optim.Adam(p, lr=adaptive), steps)}
        keys = {"SGD": (lr,), "momentum": (lr, mu), "RMSprop": (adaptive,), "Adam": (adaptive,)}
        return {name: ((surface.name, steps, name) + keys[name], made[name]) for name in OPTIMIZERS}

    def update(self, **values):
        """Set any of the controls (``lr``, ``adaptive_lr``, ``momentum``, ``steps``, ``surface``),
        recompute the paths that changed and redraw.

        Choosing another surface without giving the other controls sets them to that surface's
        defaults.

        Returns
        -------
        dict
            ``{optimizer: {"final_loss", "steps", "diverged", "problem"}}``; the figure is in
            ``self.png``.
        """
        values = self._checked(values)
        if "surface" in values and values["surface"] != self.values.get("surface"):
            values = {**SURFACES[values["surface"]].defaults, **values}
        self.values.update(values)
        for name, (key, make) in self._rules().items():
            if key not in self._cache:
                if len(self._cache) > 64:
                    self._cache.clear()
                self._cache[key] = make()
            self.paths[name] = self._cache[key]
        self._draw()
        return self.summary()

    def summary(self):
        """``{optimizer: {"final_loss", "steps", "diverged", "problem"}}`` of the current paths."""
        return {name: {"final_loss": float(path.losses[-1]), "steps": path.steps,
                       "diverged": path.diverged, "problem": path.problem}
                for name, path in self.paths.items()}

    def describe(self, name):
        """One line about optimizer ``name``'s path, as printed in the figure."""
        path = self.paths[name]
        if path.problem:
            return f"{name}: {path.problem}"[:90]
        if path.diverged:
            return f"{name}: diverged at step {path.steps}"
        return f"{name} {path.losses[-1]:.1e}"

    # --- drawing ---------------------------------------------------------------------------------

    def _build_figure(self):
        self._new_figure((11.0, 4.4))
        # Fixed margins: a layout engine would re-solve the layout at every redraw.
        self.fig.subplots_adjust(left=0.06, right=0.985, bottom=0.12, top=0.86, wspace=0.22)
        self.ax_surface, self.ax_loss = self.fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.25, 1]})
        self.ax_loss.set(xlabel="step t", ylabel="loss", yscale="log")
        # plain tick labels (1e-04): mathtext ones (10^-4) take long to lay out on every full redraw
        self.ax_loss.yaxis.set_major_formatter(LogFormatter(labelOnlyBase=True))
        self.ax_loss.yaxis.set_minor_formatter(NullFormatter())
        a = {"paths": {}, "ends": {}, "curves": {}, "texts": {}}
        for k, name in enumerate(OPTIMIZERS):
            color = COLORS[name]
            a["paths"][name], = self.ax_surface.plot([], [], "-", color=color, linewidth=1.6,
                                                     marker="o", markersize=2.0, label=name)
            a["ends"][name], = self.ax_surface.plot([], [], "o", color=color, markersize=7,
                                                    markeredgecolor="black")
            a["curves"][name], = self.ax_loss.plot([], [], "-", color=color, linewidth=1.6, label=name)
            a["texts"][name] = self.ax_loss.text(0.98, 0.97 - 0.075 * k, "", color=color, ha="right",
                                                 va="top", fontsize=9, transform=self.ax_loss.transAxes,
                                                 bbox={"facecolor": "white", "alpha": 0.8,
                                                       "edgecolor": "none", "pad": 1})
        a["title"] = self.fig.suptitle("", fontsize=11, y=0.985)
        self.artists = a
        self._contours = []
        self._markers = []
        self.ax_surface.legend(loc="lower right", fontsize=9, framealpha=0.9)
        self._animate()

    def _moving(self):
        a = self.artists
        return [*a["paths"].values(), *a["ends"].values(), *a["curves"].values(),
                *a["texts"].values(), a["title"]]

    def _draw_static(self):
        """The contour lines, start and minimum of the surface, and the loss axes' limits."""
        surface, ax = self.surface, self.ax_surface
        for artist in self._contours + self._markers:
            artist.remove()
        x, y = np.meshgrid(np.linspace(*surface.xlim, 160), np.linspace(*surface.ylim, 130))
        z = surface.loss(x, y)
        top = float(z.max())
        levels = np.geomspace(max(float(z.min()), 1e-3 * top, 1e-4), top, 18)
        self._contours = [ax.contourf(x, y, z, levels=levels, cmap="Greys", alpha=0.25,
                                      extend="both"),
                          ax.contour(x, y, z, levels=levels, colors="0.45", linewidths=0.6)]
        self._markers = [*ax.plot(*surface.start, "s", color="black", markersize=7, zorder=5),
                         *ax.plot(*surface.minimum, "*", color="gold", markersize=16,
                                  markeredgecolor="black", zorder=5)]
        ax.set(xlim=surface.xlim, ylim=surface.ylim, xlabel="x", ylabel="y", title=surface.title)
        start_loss = float(surface.loss(*surface.start))
        self.ax_loss.set(xlim=(0, self.values["steps"]), ylim=(1e-8, 30 * start_loss),
                         title=f"loss after each step (final loss at {self.values['steps']})")

    def _draw(self):
        a = self.artists
        for name, path in self.paths.items():
            shown = path.points
            a["paths"][name].set_data(shown[:, 0], shown[:, 1])
            a["ends"][name].set_data(shown[-1:, 0], shown[-1:, 1])
            a["curves"][name].set_data(np.arange(len(path.losses)), path.losses)
            a["texts"][name].set_text(self.describe(name))
        v = self.values
        source = "" if self.source == "numpy" else ", nnlib.optim"
        a["title"].set_text(f"SGD, momentum: η = {v['lr']:.2g}, μ = {v['momentum']:.2g};  "
                            f"RMSprop, Adam: η = {v['adaptive_lr']:.2g}{source}")
        view = (v["surface"], v["steps"])
        if view != self._drawn_view:  # new contours and loss axes: a new background
            self._draw_static()
            self._drawn_view = view
            self._background = None
        self._render()

    # --- controls --------------------------------------------------------------------------------

    def _layout(self, controls, image, readout, buttons):
        import ipywidgets as widgets

        return [widgets.HBox([widgets.VBox([controls["lr"], controls["momentum"]]),
                              widgets.VBox([controls["adaptive_lr"], controls["steps"]]),
                              controls["surface"]]),
                image]

    def _after_update(self, box):
        # A new surface brings its own settings: show them on the sliders.
        for name in ("lr", "adaptive_lr", "momentum", "steps"):
            box.controls[name].value = self.values[name]
        super()._after_update(box)


    # --- controls --------------------------------------------------------------------------------

def benchmark_case():
    """The race on the ravine, and slider moves of both learning rates, the momentum and the steps."""
    race = OptimizerRace()
    moves = [{"lr": lr} for lr in (0.05, 0.1, 0.19, 0.21, 0.15)]
    moves += [{"momentum": mu} for mu in (0.0, 0.5, 0.8, 0.95, 0.9)]
    moves += [{"adaptive_lr": lr} for lr in (0.01, 0.03, 0.3, 0.1)]
    moves += [{"steps": 200}, {"steps": 100}]
    return race, moves
