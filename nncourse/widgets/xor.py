"""Unit 02 widget: the input space and the hidden-unit space of a two-layer XOR network, side by side.

Two hidden units read the input ``x = (x1, x2)``; by default the first is an OR unit and the second
a NAND unit. The output unit is an AND of the two hidden units. Left, the input plane: the two
hidden units' lines, the network's output as a shade, the four XOR corners and the input point.
Right, the same things seen by the output unit: every input is replaced by its hidden
representation ``h = (h1, h2)``. The grid lines of the input plane are drawn on both sides, so one
sees how the hidden layer folds the plane: (0, 1) and (1, 0) land on the same point, and one line,
the output unit's, separates the classes there::

    from nncourse.widgets.xor import XorWidget
    XorWidget().widget()        # in a notebook

The units are smooth, ``h = sigmoid(sharpness * (w . x + b))``: the larger ``sharpness``, the
closer they come to threshold units (a step at 0); at about 50 they are one for every practical
purpose. ``update(x1=..., x2=..., ...)`` recomputes and redraws without any display, which is what
tests and the benchmark call.
"""
import numpy as np
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.patches import Polygon

from .. import resolve_nnlib
from .base import LiveFigure, Slider

LIMITS = (-0.5, 1.5)           # the input plane shown
HIDDEN_LIMITS = (-0.12, 1.12)  # the hidden square (sigmoid outputs lie in [0, 1])
CORNERS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_LABELS = np.array([0, 1, 1, 0])
OUTPUT_W, OUTPUT_B = np.array([1.0, 1.0]), -1.5  # the output unit: AND of h1 and h2
_FAR = 10.0
_CLASS_COLORS = ("#1f77b4", "#d62728")
_UNIT_COLORS = ("#2ca02c", "#9467bd")
_GRID = np.linspace(LIMITS[0], LIMITS[1], 9)      # the input grid lines drawn in both spaces
_ALONG = np.linspace(LIMITS[0], LIMITS[1], 121)   # points along each grid line
_SHADE = 64                                       # resolution of the shaded output
_SHADE_COLORS = LinearSegmentedColormap.from_list("xor_output", ["#c6dbef", "#ffffff", "#f9c0c0"])


class XorWidget(LiveFigure):
    """A 2-2-1 network: hidden ``h_j = sigmoid(k (w_j . x + b_j))``, output ``sigmoid(k (h1 + h2 - 1.5))``.

    Hidden unit ``j`` has weights ``w_j = sqrt(2) (cos angle_j, sin angle_j)`` and bias ``b_j``; the
    defaults (angles 45° and -135°, biases -0.5 and 1.5) give ``w_1 = (1, 1)``, an OR unit, and
    ``w_2 = (-1, -1)``, a NAND unit.

    Parameters
    ----------
    x1, x2 : float, default=0.3, 0.8
        The input point.
    sharpness : float, default=20
        ``k``, the slope of every unit at its threshold.
    angle1, bias1, angle2, bias2 : float
        The hidden units' directions (degrees) and biases.
    nn : module, optional
        The nnlib whose sigmoid the units use; default: the one the notebook imports.
    dpi : int, default=72
        Resolution of the rendered image.
    """

    CONTROLS = {
        "x1": Slider(LIMITS[0], LIMITS[1], 0.01, "input x₁", label_width="90px"),
        "x2": Slider(LIMITS[0], LIMITS[1], 0.01, "input x₂", label_width="90px"),
        "sharpness": Slider(0.5, 60.0, 0.5, "sharpness k", label_width="90px"),
        "angle1": Slider(-180.0, 180.0, 5.0, "h₁ angle (°)", label_width="90px"),
        "bias1": Slider(-3.0, 3.0, 0.05, "h₁ bias", label_width="90px"),
        "angle2": Slider(-180.0, 180.0, 5.0, "h₂ angle (°)", label_width="90px"),
        "bias2": Slider(-3.0, 3.0, 0.05, "h₂ bias", label_width="90px"),
    }

    def __init__(self, x1=0.3, x2=0.8, sharpness=20.0, angle1=45.0, bias1=-0.5, angle2=-135.0,
                 bias2=1.5, nn=None, dpi=72):
        self.nn = resolve_nnlib(nn)
        self.dpi = dpi
        self.values = {"x1": float(x1), "x2": float(x2), "sharpness": float(sharpness),
                       "angle1": float(angle1), "bias1": float(bias1), "angle2": float(angle2),
                       "bias2": float(bias2)}
        self.correct = 0
        grid1, grid2 = np.meshgrid(np.linspace(*LIMITS, _SHADE), np.linspace(*LIMITS, _SHADE))
        self._shade_points = np.column_stack([grid1.ravel(), grid2.ravel()])
        # Each grid line of the input plane as an array of points (vertical lines, then horizontal).
        self._grid_lines = [np.column_stack([np.full_like(_ALONG, c), _ALONG]) for c in _GRID] + \
                           [np.column_stack([_ALONG, np.full_like(_ALONG, c)]) for c in _GRID]
        self._build_figure()
        self.update()

    # ------------------------------------------------------------------ state
    def hidden_weights(self):
        """``(W, b)``: ``W`` of shape ``(2, 2)`` (column ``j`` is ``w_j``) and ``b`` of shape ``(2,)``."""
        angles = np.deg2rad([self.values["angle1"], self.values["angle2"]])
        W = np.sqrt(2.0) * np.array([np.cos(angles), np.sin(angles)])
        return W, np.array([self.values["bias1"], self.values["bias2"]])

    def hidden(self, X):
        """Hidden representation ``h`` of the rows of ``X`` (shape ``(N, 2)``): shape ``(N, 2)``."""
        W, b = self.hidden_weights()
        z = self.values["sharpness"] * (np.asarray(X, dtype=np.float64) @ W + b)
        return self.nn.functional.sigmoid(z)

    def output_from_hidden(self, H):
        """The output unit on hidden representations ``H`` (shape ``(N, 2)``): shape ``(N,)``."""
        z = self.values["sharpness"] * (np.asarray(H, dtype=np.float64) @ OUTPUT_W + OUTPUT_B)
        return self.nn.functional.sigmoid(z)

    def output(self, X):
        """The network's output for the rows of ``X`` (shape ``(N, 2)``): shape ``(N,)``, in (0, 1)."""
        return self.output_from_hidden(self.hidden(X))

    def point(self):
        """The input point ``(x1, x2)``, shape ``(2,)``."""
        return np.array([self.values["x1"], self.values["x2"]])

    def unit_line(self, j):
        """Two far-apart points of hidden unit ``j``'s line ``w_j . x + b_j = 0``, shape ``(2, 2)``."""
        W, b = self.hidden_weights()
        w = W[:, j]
        foot = -b[j] * w / (w @ w)
        along = np.array([-w[1], w[0]]) / np.linalg.norm(w)
        return np.array([foot - _FAR * along, foot + _FAR * along])

    # ---------------------------------------------------------------- drawing
    def _build_figure(self):
        self._new_figure((9.6, 4.7))
        # Fixed margins: a layout engine would re-solve the layout at every redraw.
        self.fig.subplots_adjust(left=0.06, right=0.99, bottom=0.19, top=0.92, wspace=0.2)
        left, right = self.fig.subplots(1, 2)
        left.set(xlim=LIMITS, ylim=LIMITS, aspect="equal", xlabel="$x_1$", ylabel="$x_2$",
                 title="input space: the network's output")
        right.set(xlim=HIDDEN_LIMITS, ylim=HIDDEN_LIMITS, aspect="equal",
                  xlabel="$h_1$ (OR unit by default)", ylabel="$h_2$ (NAND unit by default)",
                  title="hidden space: what the output unit sees")
        self.axes = {"input": left, "hidden": right}
        a = {}
        a["shade"] = left.imshow(np.zeros((_SHADE, _SHADE)), extent=(*LIMITS, *LIMITS),
                                 origin="lower", cmap=_SHADE_COLORS, vmin=0.0, vmax=1.0,
                                 interpolation="bilinear")
        for ax, name in ((left, "input"), (right, "hidden")):
            a[f"{name} grid"] = [ax.plot([], [], color="0.55", linewidth=0.6, alpha=0.6)[0]
                                 for _ in self._grid_lines]
        a["unit lines"] = [left.plot([], [], color=color, linewidth=2.2, label=f"$h_{j + 1}$'s line")[0]
                           for j, color in enumerate(_UNIT_COLORS)]
        a["input corners"] = [left.scatter(*CORNERS[XOR_LABELS == k].T, s=90, color=color,
                                           edgecolors="black", zorder=4, label=f"XOR = {k}")
                              for k, color in enumerate(_CLASS_COLORS)]
        a["hidden corners"] = right.scatter(np.zeros(4), np.zeros(4), s=90,
                                            color=[_CLASS_COLORS[k] for k in XOR_LABELS],
                                            edgecolors="black", zorder=4)
        # The output unit's line h1 + h2 = 1.5 and its class-1 side (fixed).
        ends = np.array([[1.5 + _FAR, -_FAR], [-_FAR, 1.5 + _FAR]])
        right.add_patch(Polygon(np.array([ends[0], ends[1], [_FAR, _FAR]]), closed=True,
                                facecolor=_CLASS_COLORS[1], alpha=0.12, edgecolor="none"))
        output_line, = right.plot(*ends.T, color="black", linewidth=2, label="output unit's line")
        a["input point"], = left.plot([], [], marker="*", markersize=17, color="gold",
                                      markeredgecolor="black", linestyle="none", zorder=5,
                                      label="the input x")
        a["hidden point"], = right.plot([], [], marker="*", markersize=17, color="gold",
                                        markeredgecolor="black", linestyle="none", zorder=5)
        box = {"facecolor": "white", "alpha": 0.85, "edgecolor": "0.7"}
        a["input text"] = left.text(0.03, 0.03, "", transform=left.transAxes, fontsize=10,
                                    zorder=6, bbox=box)
        a["hidden text"] = right.text(0.03, 0.03, "", transform=right.transAxes, fontsize=10,
                                      zorder=6, bbox=box)
        self.artists = a
        handles = [*left.get_legend_handles_labels()[0], output_line]
        self.fig.legend(handles=handles, loc="lower center", ncol=6, fontsize=9, frameon=False)
        # A redraw draws, in this order, the artists that move and those that must stay above them.
        self._animate()
        for line, points in zip(a["input grid"], self._grid_lines):  # the input grid never moves
            line.set_data(points[:, 0], points[:, 1])

    def _moving(self):
        a = self.artists
        return [a["shade"], *a["input grid"], *a["hidden grid"], *a["unit lines"],
                *a["input corners"], a["hidden corners"], a["input point"], a["hidden point"],
                a["input text"], a["hidden text"]]

    def update(self, **values):
        """Set any of the controls (``x1``, ``x2``, ``sharpness``, ``angle1``, ``bias1``, ``angle2``,
        ``bias2``), recompute and redraw the figure.

        Returns ``{"hidden": h of the input point (shape (2,)), "output": its output,
        "correct": corners where the network is right about XOR}``; the rendered figure is in
        ``self.png``.
        """
        unknown = set(values) - set(self.CONTROLS)
        if unknown:
            raise ValueError(f"XorWidget.update: unknown controls {sorted(unknown)}; "
                             f"the controls are {sorted(self.CONTROLS)}")
        self.values.update({name: float(value) for name, value in values.items()})
        a = self.artists
        a["shade"].set_data(self.output(self._shade_points).reshape(_SHADE, _SHADE))
        for line, points in zip(a["hidden grid"], self._grid_lines):
            H = self.hidden(points)
            line.set_data(H[:, 0], H[:, 1])
        for j, line in enumerate(a["unit lines"]):
            ends = self.unit_line(j)
            line.set_data(ends[:, 0], ends[:, 1])
        hidden_corners = self.hidden(CORNERS)
        a["hidden corners"].set_offsets(hidden_corners)
        self.correct = int(np.sum((self.output_from_hidden(hidden_corners) >= 0.5) == XOR_LABELS))
        x = self.point()
        h = self.hidden(x[None, :])[0]
        y = float(self.output_from_hidden(h[None, :])[0])
        a["input point"].set_data([x[0]], [x[1]])
        a["hidden point"].set_data([h[0]], [h[1]])
        a["input text"].set_text(f"x = ({x[0]:.2f}, {x[1]:.2f})   XOR right on "
                                 f"{self.correct} of 4 corners")
        a["hidden text"].set_text(f"h = ({h[0]:.2f}, {h[1]:.2f})   output {y:.2f}")
        self._render()
        return {"hidden": h, "output": y, "correct": self.correct}

    # --------------------------------------------------------------- controls
    def _layout(self, controls, image, readout, buttons):
        import ipywidgets as widgets

        point = widgets.VBox([controls["x1"], controls["x2"], controls["sharpness"]])
        unit1 = widgets.VBox([controls["angle1"], controls["bias1"]])
        unit2 = widgets.VBox([controls["angle2"], controls["bias2"]])
        return [widgets.HBox([point, unit1, unit2]), image]


def benchmark_case():
    """A widget and the control values the benchmark cycles through (slider moves)."""
    widget = XorWidget()
    path = np.linspace(-0.4, 1.4, 10)
    values = [{"x1": a, "x2": 1.0 - a} for a in path]
    values += [{"sharpness": 2.0}, {"sharpness": 40.0}, {"bias1": -1.0}, {"angle2": -100.0},
               {"bias2": 1.0}, {"angle1": 30.0}]
    return widget, values
