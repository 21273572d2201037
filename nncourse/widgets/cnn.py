"""Unit 08 widget: the filters of a convolutional layer and the feature maps they make of a digit.

One digit, one filter, four panels: the digit; the filter, each weight written in its cell; the
**feature map**, the filter slid over the digit (cross-correlation, as ``Conv2d`` computes it); and
what the next layer sees after a ReLU and a 2x2 max-pool. Below, all filters side by side and the
feature maps of the digit for each of them, the chosen one framed. A slider picks the image (a
sample's index), a dropdown the filter::

    from nncourse.widgets.cnn import FeatureMapExplorer
    FeatureMapExplorer(images, labels).widget()                 # hand-made filters (lecture)
    FeatureMapExplorer(images, labels, model=model).widget()   # a trained CNN's first layer

Two sources of filters:

* ``filters=`` (default: ``HAND_MADE_FILTERS``, edge detectors, blur, sharpen...): an array of
  shape ``(F, kh, kw)``, applied to the one-channel image with plain numpy, zero padding keeping the
  size; then ReLU and a 2x2 max-pool, in plain numpy as well. This runs on every edition of nnlib
  (the lecture of unit 08 shows it before ``Conv2d`` is written).
* ``model=``: a trained network whose first layer is a ``Conv2d`` (or that layer alone). The filters
  are its weights ``W[:, 0]`` and the feature maps come from the model's own layers: its first layer,
  then the following ones up to and including the first ``MaxPool2d``. So at the end of exercise 08
  it runs on the student's ``Conv2d``.

``update(index=..., filter=...)`` recomputes and redraws without any display, which is what tests
and the benchmark call; the figure becomes PNG bytes in ``self.png``.
"""
import numpy as np
import PIL.ImageDraw
from matplotlib.colors import ListedColormap
from matplotlib.patches import Rectangle
from numpy.lib.stride_tricks import sliding_window_view

from .. import resolve_nnlib
from .base import Choice, LiveFigure, Slider, canvas_image, pixel_fonts, png_bytes

__all__ = ["HAND_MADE_FILTERS", "FeatureMapExplorer", "benchmark_case"]

# Each filter is used as Conv2d uses it: out[i, j] = sum_uv w[u, v] x[i + u - 1, j + v - 1].
HAND_MADE_FILTERS = {
    # light on the right of dark: the left edge of a stroke is positive, its right edge negative
    "vertical edges": np.array([[-1.0, 0.0, 1.0],
                                [-2.0, 0.0, 2.0],
                                [-1.0, 0.0, 1.0]]),
    # light below dark: the top edge of a stroke is positive, its bottom edge negative
    "horizontal edges": np.array([[-1.0, -2.0, -1.0],
                                  [0.0, 0.0, 0.0],
                                  [1.0, 2.0, 1.0]]),
    "diagonal strokes ↘": np.array([[2.0, -1.0, -1.0],
                                    [-1.0, 2.0, -1.0],
                                    [-1.0, -1.0, 2.0]]),
    "diagonal strokes ↗": np.array([[-1.0, -1.0, 2.0],
                                    [-1.0, 2.0, -1.0],
                                    [2.0, -1.0, -1.0]]),
    "blur": np.full((3, 3), 1.0 / 9.0),
    "sharpen": np.array([[0.0, -1.0, 0.0],
                         [-1.0, 5.0, -1.0],
                         [0.0, -1.0, 0.0]]),
    "outline": np.array([[-1.0, -1.0, -1.0],
                         [-1.0, 8.0, -1.0],
                         [-1.0, -1.0, -1.0]]),
    "identity": np.array([[0.0, 0.0, 0.0],
                          [0.0, 1.0, 0.0],
                          [0.0, 0.0, 0.0]]),
}

MAX_FILTERS = 16    # filters (and feature maps) shown in the strips below the panels
_GAP = 1            # NaN pixels between tiles
_NUMBERS = 25       # write the weights into the filter panel if it has at most this many


def correlate_same(image, kernels):
    """Every kernel slid over one image, zero padding keeping the size: shape ``(F, h, w)``.

    ``out[f, i, j] = sum_uv kernels[f, u, v] * padded[i + u, j + v]``, where ``padded`` has
    ``kh // 2`` zero rows above (``(kh - 1) // 2`` below) and likewise for columns. Plain numpy for
    one single-channel image (the widget's own arithmetic, not ``Conv2d``'s).
    """
    image = np.asarray(image, dtype=np.float64)
    kernels = np.asarray(kernels, dtype=np.float64)
    kh, kw = kernels.shape[-2:]
    padded = np.pad(image, ((kh // 2, (kh - 1) // 2), (kw // 2, (kw - 1) // 2)))
    windows = sliding_window_view(padded, (kh, kw))          # (h, w, kh, kw), a view
    return np.einsum("ijuv,fuv->fij", windows, kernels)


def relu_pool(maps):
    """ReLU, then the maximum of every 2x2 block (a last odd row or column is dropped)."""
    maps = np.maximum(np.asarray(maps, dtype=np.float64), 0.0)
    F, h, w = maps.shape
    blocks = maps[:, :h // 2 * 2, :w // 2 * 2].reshape(F, h // 2, 2, w // 2, 2)
    return blocks.max(axis=(2, 4))


def _columns(n):
    """Tiles per row of a strip of ``n`` tiles (at most 4)."""
    return min(n, 4)


def _strip(tiles, columns, rows=None):
    """Tiles of shape ``(n, h, w)`` in a grid with NaN between them, and each tile's top-left."""
    n, h, w = tiles.shape
    rows = rows or max(1, int(np.ceil(n / columns)))
    image = np.full((rows * (h + _GAP) - _GAP, columns * (w + _GAP) - _GAP), np.nan)
    origins = [((k // columns) * (h + _GAP), (k % columns) * (w + _GAP)) for k in range(n)]
    for tile, (r, c) in zip(tiles, origins):
        image[r:r + h, c:c + w] = tile
    return image, origins


def _scaled(tiles):
    """Each tile divided by its own largest ``|value|`` (all-zero tiles stay 0)."""
    scale = np.abs(tiles).max(axis=(1, 2), keepdims=True)
    return tiles / np.where(scale > 0, scale, 1.0)


def _diverging():
    """Blue (negative) - white (0) - red (positive), with white for NaN."""
    t = np.linspace(-1.0, 1.0, 256)[:, None]
    blue, white, red = np.array([0.13, 0.4, 0.67, 1]), np.ones(4), np.array([0.7, 0.09, 0.17, 1])
    colours = np.where(t < 0, white + (blue - white) * -t, white + (red - white) * t)
    return ListedColormap(colours).with_extremes(bad="white")


def _first_conv(model):
    """The layers of ``model`` (a ``Sequential``, a list of layers or one layer) and the first one's
    weights, which must have the shape ``(F, 1, kh, kw)`` of a one-channel convolution."""
    layers = list(getattr(model, "layers", model if isinstance(model, (list, tuple)) else [model]))
    W = getattr(layers[0], "params", {}).get("W") if layers else None
    if W is None or np.ndim(W) != 4 or np.shape(W)[1] != 1:
        raise ValueError("FeatureMapExplorer: the model's first layer must be a Conv2d with one "
                         f"input channel (weights of shape (F, 1, kh, kw)), got {layers[:1]}")
    return layers, np.asarray(W, dtype=np.float64)


class FeatureMapExplorer(LiveFigure):
    """Feature maps of one digit for one filter, and of all filters, redrawn on every change.

    Parameters
    ----------
    images : ndarray of shape (N, 1, h, w) or (N, h, w)
        One-channel images, e.g. ``resolve_nnlib().data.load_digits(images=True)[0]``.
    labels : ndarray of shape (N,), optional
        Shown in the digit's title.
    model : Sequential or Conv2d, optional
        A network whose first layer is a one-channel ``Conv2d``: its filters and its own layers
        are used (see the module docstring).
    filters : ndarray of shape (F, kh, kw) or (F, 1, kh, kw), optional
        Used when no ``model`` is given; default ``HAND_MADE_FILTERS``.
    names : list of str, optional
        A name per filter (the dropdown's entries); default "filter 0", "filter 1", ...
    index, filter : int, default=0
        The digit and the filter shown first.
    dpi : int, default=72
        Resolution of the rendered image.
    """

    def __init__(self, images, labels=None, *, model=None, filters=None, names=None, index=0,
                 filter=0, dpi=72):
        images = np.asarray(images, dtype=np.float64)
        if images.ndim == 4 and images.shape[1] == 1:
            images = images[:, 0]
        if images.ndim != 3 or len(images) == 0:
            raise ValueError("FeatureMapExplorer: expected images of shape (N, 1, h, w) or "
                             f"(N, h, w), got {images.shape}")
        self.images = images
        self.labels = None if labels is None else np.asarray(labels)
        self.model = model
        if model is not None:
            self._layers, W = _first_conv(model)
            self.filters = W[:, 0]
            self.source = "the model's first Conv2d"
        else:
            if filters is None:
                filters = np.array(list(HAND_MADE_FILTERS.values()))
                names = list(HAND_MADE_FILTERS) if names is None else names
            filters = np.asarray(filters, dtype=np.float64)
            if filters.ndim == 4 and filters.shape[1] == 1:
                filters = filters[:, 0]
            if filters.ndim != 3:
                raise ValueError("FeatureMapExplorer: expected filters of shape (F, kh, kw), "
                                 f"got {filters.shape}")
            self.filters = filters
            self.source = "hand-made filters, plain numpy"
        self.names = list(names) if names is not None else [f"filter {f}" for f in
                                                            range(len(self.filters))]
        if len(self.names) != len(self.filters):
            raise ValueError(f"FeatureMapExplorer: {len(self.names)} names for "
                             f"{len(self.filters)} filters")
        self.dpi = dpi
        self.values = {"index": 0, "filter": 0}
        self._cache = {}
        self.result = {}
        self._set(index=index, filter=filter)
        maps, pooled = self.feature_maps(self.values["index"])
        self._build_figure(maps.shape[1:], pooled.shape[1:])
        self.update()

    # ------------------------------------------------------------------ state
    def feature_maps(self, index):
        """``(maps, pooled)`` of image ``index``: shapes ``(F, H', W')`` and ``(F, H'', W'')``.

        ``maps`` are the filters' outputs (with the layer's bias, for a model), ``pooled`` what the
        next layer sees after the ReLU and max-pool.
        """
        index = int(index)
        if index not in self._cache:
            image = self.images[index]
            if self.model is None:
                maps = correlate_same(image, self.filters)
                pooled = relu_pool(maps)
            else:
                out = self._layers[0].forward(image[None, None])
                maps = np.array(out[0], dtype=np.float64)
                pooled = maps
                for layer in self._layers[1:]:
                    out = layer.forward(out)
                    if np.ndim(out) != 4:
                        break
                    pooled = np.array(out[0], dtype=np.float64)
                    if type(layer).__name__ == "MaxPool2d":
                        break
            self._cache[index] = (maps, pooled)
        return self._cache[index]

    def _set(self, **values):
        unknown = set(values) - {"index", "filter"}
        if unknown:
            raise ValueError(f"FeatureMapExplorer.update: unknown controls {sorted(unknown)}; "
                             "the controls are ['filter', 'index']")
        limits = {"index": len(self.images) - 1, "filter": len(self.filters) - 1}
        for name, value in values.items():
            if value is not None:
                self.values[name] = int(min(max(int(value), 0), limits[name]))

    # ---------------------------------------------------------------- drawing
    def _build_figure(self, map_shape, pooled_shape):
        self._new_figure((10.0, 6.0))
        # Fixed axes: a layout engine would re-solve the layout at every redraw.
        grid = self.fig.add_gridspec(2, 4, left=0.02, right=0.98, bottom=0.03, top=0.9,
                                     hspace=0.18, wspace=0.12, height_ratios=[1.0, 1.0])
        panels = [self.fig.add_subplot(grid[0, k]) for k in range(4)]
        strips = [self.fig.add_subplot(grid[1, :2]), self.fig.add_subplot(grid[1, 2:])]
        for ax in panels + strips:
            ax.set_xticks([])
            ax.set_yticks([])
        self.axes = dict(zip(["digit", "filter", "map", "pooled", "filters", "maps"],
                             panels + strips))
        signed = _diverging()
        a = {}
        h, w = self.images.shape[1:]
        a["digit"] = panels[0].imshow(np.zeros((h, w)), cmap="gray_r", vmin=0.0,
                                      vmax=max(1.0, float(self.images.max())),
                                      interpolation="nearest")
        a["filter"] = panels[1].imshow(np.zeros(self.filters.shape[1:]), cmap=signed,
                                       vmin=-1.0, vmax=1.0, interpolation="nearest")
        a["map"] = panels[2].imshow(np.zeros(map_shape), cmap=signed, vmin=-1.0, vmax=1.0,
                                    interpolation="nearest")
        a["pooled"] = panels[3].imshow(np.zeros(pooled_shape), cmap="Reds", vmin=0.0, vmax=1.0,
                                       interpolation="nearest")
        shown = min(len(self.filters), MAX_FILTERS)
        columns = _columns(shown)
        rows = int(np.ceil(shown / columns))
        filter_strip, self._filter_origins = _strip(np.zeros((shown,) + self.filters.shape[1:]),
                                                    columns, rows)
        map_strip, self._map_origins = _strip(np.zeros((shown,) + tuple(map_shape)), columns, rows)
        a["filters"] = strips[0].imshow(filter_strip, cmap=signed, vmin=-1.0, vmax=1.0,
                                        interpolation="nearest")
        a["maps"] = strips[1].imshow(map_strip, cmap=signed, vmin=-1.0, vmax=1.0,
                                     interpolation="nearest")
        for name, shape in (("filters", self.filters.shape[1:]), ("maps", map_shape)):
            a[f"{name} frame"] = self.axes[name].add_patch(Rectangle(
                (-0.5, -0.5), shape[1], shape[0], fill=False, edgecolor="black", linewidth=2.5))
        self.artists = a
        self._shown = shown
        # Texts that change (titles, the weights in the filter panel) are written onto the
        # finished image with PIL at fixed pixel positions: matplotlib would lay out each one anew.
        self._fonts = pixel_fonts((9, 11), self.dpi)
        width, height = self.canvas.get_width_height()
        for ax in self.fig.axes:
            ax.apply_aspect()   # where the equal-aspect images really sit, before any draw

        def pixel(ax, x, y, transform=None):
            px, py = (transform or ax.transData).transform((x, y))
            return float(px), float(height - py)

        kh, kw = self.filters.shape[1:]
        self._cell_pixels = [[pixel(panels[1], v, u) for v in range(kw)] for u in range(kh)]
        self._title_pixels = {name: pixel(ax, 0.5, 1.0, ax.transAxes)
                              for name, ax in self.axes.items()}
        self.texts = []
        self._animate()

    def _moving(self):
        a = self.artists
        return [a["digit"], a["filter"], a["map"], a["pooled"], a["filters"], a["maps"],
                a["filters frame"], a["maps frame"]]

    def update(self, **values):
        """Set ``index`` (which image: a sample's index) and/or ``filter``, both clamped to their
        ranges, and redraw.

        Returns ``{"index", "filter", "name", "label", "feature_map" (H', W'), "pooled" (H'', W'')}``;
        the rendered figure is in ``self.png``.
        """
        self._set(**values)
        index, f = self.values["index"], self.values["filter"]
        maps, pooled = self.feature_maps(index)
        kernel = self.filters[f]
        a = self.artists
        a["digit"].set_data(self.images[index])
        kernel_scale = float(np.abs(kernel).max()) or 1.0
        a["filter"].set_data(kernel / kernel_scale)
        map_scale = float(np.abs(maps[f]).max()) or 1.0
        a["map"].set_data(maps[f] / map_scale)
        a["pooled"].set_data(pooled[f] / map_scale)
        shown = self._shown
        a["filters"].set_data(_strip(_scaled(self.filters[:shown]), _columns(shown))[0])
        a["maps"].set_data(_strip(_scaled(maps[:shown]), _columns(shown))[0])
        for name, origins in (("filters frame", self._filter_origins),
                              ("maps frame", self._map_origins)):
            visible = f < shown
            a[name].set_visible(visible)
            if visible:
                row, column = origins[f]
                a[name].set_xy((column - 0.5, row - 0.5))

        label = "" if self.labels is None else f": a {self.labels[index]}"
        self.titles = {
            "digit": f"image {index}{label}",  # the sample's index, then the digit it shows
            "filter": f"{self.names[f]}"[:40],
            "map": f"feature map (max |value| {map_scale:.2f})",
            "pooled": "after ReLU and max-pool",
            "filters": f"{len(self.filters)} filters ({self.source})",
            "maps": f"their feature maps of image {index}",
        }
        texts = [(*self._title_pixels[name], text, "black", 11, "md")
                 for name, text in self.titles.items()]
        kh, kw = kernel.shape
        if kh * kw <= _NUMBERS:
            for u in range(kh):
                for v in range(kw):
                    value = kernel[u, v] / kernel_scale
                    texts.append((*self._cell_pixels[u][v], f"{kernel[u, v]:.2g}",
                                  "white" if abs(value) > 0.6 else "black", 9, "mm"))
        self.texts = texts
        self._render()
        self.result = {"index": index, "filter": f, "name": self.names[f],
                       "label": None if self.labels is None else self.labels[index],
                       "feature_map": maps[f].copy(), "pooled": pooled[f].copy()}
        return dict(self.result)

    def _encode(self):
        image = canvas_image(self.canvas)
        draw = PIL.ImageDraw.Draw(image)
        for x, y, text, colour, size, anchor in self.texts:
            draw.text((x, y - (4 if anchor == "md" else 0)), text, fill=colour,
                      font=self._fonts[size], anchor=anchor)
        return png_bytes(image)

    # --------------------------------------------------------------- controls
    def control_specs(self):
        return {"index": Slider(0, len(self.images) - 1, 1, "image", integer=True),
                "filter": Choice(tuple((name, f) for f, name in enumerate(self.names)), "filter",
                                 dropdown=True, width="420px")}

    def _on_control(self, name, value, controls):
        self.update(**{name: int(value)})

    def _layout(self, controls, image, readout, buttons):
        import ipywidgets as widgets

        return [widgets.HBox([controls["index"], controls["filter"]]), image]


def benchmark_case():
    """A widget on the 8x8 digits with the hand-made filters, and the control values to cycle."""
    images, labels = resolve_nnlib().data.load_digits(images=True)
    widget = FeatureMapExplorer(images[:200], labels[:200])
    values = [{"index": k} for k in range(0, 200, 20)]
    values += [{"filter": f} for f in range(len(HAND_MADE_FILTERS))]
    return widget, values
