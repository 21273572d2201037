"""Unit 01 widget: one straight line over AND and XOR data, with the errors counted live.

Two sliders rotate and shift the line; the side its normal arrow points to is class 1 (shaded).
The same line is drawn over both data sets, and each panel counts the points on the wrong side.
Some line gets AND right; on XOR every line leaves about a quarter of the points (one corner)
wrong, or more::

    from nncourse.widgets.linear_limits import LinearLimitsWidget
    LinearLimitsWidget().widget()        # in a notebook

``update(angle=..., shift=..., noise=...)`` recomputes and redraws without any display, which is
what tests and the benchmark call.
"""
import numpy as np
from matplotlib.patches import FancyArrow, Polygon

from .. import resolve_nnlib
from .base import LiveFigure, Slider

CENTER = np.array([0.5, 0.5])  # the line turns around the middle of the unit square
LIMITS = (-0.6, 1.6)
_FAR = 10.0  # far beyond the axes: the ends of the drawn line and of the shaded half-plane
_CLASS_COLORS = ("#1f77b4", "#d62728")


class LinearLimitsWidget(LiveFigure):
    """A line ``n . (x - c) = shift`` with unit normal ``n = (cos angle, sin angle)`` over AND and XOR.

    Points with ``n . (x - c) - shift >= 0`` are predicted as class 1, where ``c = (0.5, 0.5)``.

    Parameters
    ----------
    n_samples : int, default=40
        Points per data set (a quarter at each corner of the unit square).
    noise : float, default=0.1
        Standard deviation of the Gaussian blur around the corners.
    seed : int, default=0
        Seeds the blur, so the same noise level always gives the same points.
    angle : float, default=45
        Direction of the normal in degrees (0 points along x1, 90 along x2).
    shift : float, default=0.5
        Signed distance of the line from ``c`` along the normal.
    nn : module, optional
        The nnlib whose data sets to draw; default: the one the notebook imports.
    dpi : int, default=72
        Resolution of the rendered image.
    """

    CONTROLS = {
        "angle": Slider(-180.0, 180.0, 1.0, "angle (°)"),
        "shift": Slider(-1.2, 1.2, 0.01, "shift"),
        "noise": Slider(0.0, 0.3, 0.01, "noise"),
    }

    def __init__(self, n_samples=40, noise=0.1, seed=0, angle=45.0, shift=0.5, nn=None, dpi=72):
        self.nn = resolve_nnlib(nn)
        self.n_samples, self.seed, self.dpi = int(n_samples), seed, dpi
        self.values = {"angle": float(angle), "shift": float(shift), "noise": float(noise)}
        self.data = {}
        self.errors = {}
        self._make_data()
        self._build_figure()
        self.update()

    # ------------------------------------------------------------------ state
    def _make_data(self):
        noise = self.values["noise"]
        data = self.nn.data
        self.data = {"AND": data.make_and(self.n_samples, noise=noise, seed=self.seed),
                     "XOR": data.make_xor(self.n_samples, noise=noise, seed=self.seed)}

    def normal(self):
        """The unit normal ``(cos angle, sin angle)`` of the line, shape ``(2,)``."""
        angle = np.deg2rad(self.values["angle"])
        return np.array([np.cos(angle), np.sin(angle)])

    def side(self, X):
        """``n . (x - c) - shift`` for the rows of ``X`` (shape ``(N, 2)``): >= 0 means class 1."""
        return (np.asarray(X, dtype=np.float64) - CENTER) @ self.normal() - self.values["shift"]

    def wrong(self, name):
        """Boolean mask of the points of data set ``name`` on the wrong side of the line."""
        X, y = self.data[name]
        return (self.side(X) >= 0) != (y == 1)

    def line_points(self):
        """Two far-apart points of the line, shape ``(2, 2)``."""
        n = self.normal()
        along = np.array([-n[1], n[0]])
        foot = CENTER + self.values["shift"] * n
        return np.array([foot - _FAR * along, foot + _FAR * along])

    # ---------------------------------------------------------------- drawing
    def _build_figure(self):
        self._new_figure((8.4, 4.4))
        # Fixed margins: a layout engine would re-solve the layout at every redraw.
        self.fig.subplots_adjust(left=0.07, right=0.99, bottom=0.2, top=0.92, wspace=0.18)
        self.axes, self.artists = {}, {}
        titles = {"AND": "AND: are both inputs 1?", "XOR": "XOR: do the inputs differ?"}
        for ax, name in zip(self.fig.subplots(1, 2), self.data):
            ax.set(xlim=LIMITS, ylim=LIMITS, aspect="equal", xlabel="$x_1$", ylabel="$x_2$",
                   title=titles[name])
            shade = ax.add_patch(Polygon(np.zeros((4, 2)), closed=True, facecolor=_CLASS_COLORS[1],
                                         alpha=0.12, edgecolor="none"))
            classes = [ax.scatter([], [], s=28, color=color, label=f"class {k}", zorder=3)
                       for k, color in enumerate(_CLASS_COLORS)]
            wrong = ax.scatter([], [], s=110, facecolors="none", edgecolors="black", linewidths=1.4,
                               label="on the wrong side", zorder=4)
            line, = ax.plot([], [], color="black", linewidth=2, label="the line (arrow: class 1 side)")
            arrow = ax.add_patch(FancyArrow(0.0, 0.0, 0.3, 0.0, width=0.015, head_width=0.07,
                                            head_length=0.07, length_includes_head=True,
                                            color="black", zorder=5))
            count = ax.text(0.03, 0.03, "", transform=ax.transAxes, fontsize=11, zorder=6,
                            bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "0.7"})
            self.axes[name] = ax
            self.artists[name] = {"shade": shade, "classes": classes, "wrong": wrong, "line": line,
                                  "arrow": arrow, "count": count}
        self._animate()
        self.fig.legend(handles=[*classes, wrong, line], loc="lower center", ncol=4, fontsize=9,
                        frameon=False)
        self._draw_points()

    def _moving(self):
        return [artist for a in self.artists.values()
                for artist in (a["shade"], *a["classes"], a["wrong"], a["line"], a["arrow"], a["count"])]

    def _draw_points(self):
        for name, (X, y) in self.data.items():
            for k, scatter in enumerate(self.artists[name]["classes"]):
                scatter.set_offsets(X[y == k])

    def update(self, **values):
        """Set any of ``angle``, ``shift``, ``noise``; recount the errors and redraw the figure.

        Returns the errors per data set, e.g. ``{"AND": 0, "XOR": 10}``; the rendered figure is
        in ``self.png``.
        """
        unknown = set(values) - set(self.CONTROLS)
        if unknown:
            raise ValueError(f"LinearLimitsWidget.update: unknown controls {sorted(unknown)}; "
                             f"the controls are {sorted(self.CONTROLS)}")
        noise_changed = "noise" in values and float(values["noise"]) != self.values["noise"]
        self.values.update({name: float(value) for name, value in values.items()})
        if noise_changed:
            self._make_data()
            self._draw_points()
        ends = self.line_points()
        n = self.normal()
        start = CENTER + self.values["shift"] * n
        for name, (X, y) in self.data.items():
            artists = self.artists[name]
            wrong = self.wrong(name)
            self.errors[name] = int(wrong.sum())
            artists["line"].set_data(ends[:, 0], ends[:, 1])
            artists["arrow"].set_data(x=start[0], y=start[1], dx=0.3 * n[0], dy=0.3 * n[1])
            artists["shade"].set_xy(np.array([ends[0], ends[1], ends[1] + _FAR * n, ends[0] + _FAR * n]))
            artists["wrong"].set_offsets(X[wrong].reshape(-1, 2))
            artists["count"].set_text(f"{self.errors[name]} of {len(y)} on the wrong side")
        self._render()
        return dict(self.errors)

    # --------------------------------------------------------------- controls
    def _readout(self):
        parts = [f"<b>{name}</b>: {count} of {len(self.data[name][1])} wrong"
                 for name, count in self.errors.items()]
        return " &nbsp;·&nbsp; ".join(parts)


def benchmark_case():
    """A widget and the control values the benchmark cycles through (slider moves)."""
    widget = LinearLimitsWidget()
    values = [{"angle": angle, "shift": shift}
              for angle, shift in zip(np.linspace(-180, 180, 12), np.linspace(-0.8, 0.8, 12))]
    values += [{"noise": 0.05}, {"noise": 0.2}]
    return widget, values
