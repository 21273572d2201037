"""Unit 06 widget: a digit classifier while it trains, seen through its mistakes and its weights.

Three views of one network at one epoch of training, on the test set of the 8x8 digits:

* the **confusion matrix**: row ``i``, column ``j`` counts the test digits of class ``i`` predicted
  as ``j`` (shaded by the fraction of row ``i``); everything off the diagonal is a mistake;
* the **misclassified digits**, a page of 16 at a time, each labelled ``true → predicted``;
* the **first layer's weights as images**: column ``j`` of the first weight matrix ``W`` (shape
  ``(64, H)``) is the 8x8 pattern hidden unit ``j`` responds to (red: positive weight, blue:
  negative), each scaled by its own largest ``|w|``;

and the test accuracy (and the training loss, when the trainer reports it) over the epochs recorded
so far, with the epoch shown marked. A slider moves through the recorded epochs, another pages
through the mistakes, and a button trains a few more epochs::

    from nncourse.widgets.digits import DigitsExplorer
    explorer = DigitsExplorer(model, X_test, y_test, train_epoch=one_epoch)
    explorer.train(10)             # calls one_epoch() ten times, recording after each
    explorer.widget()              # in a notebook

The widget trains nothing itself: ``train_epoch`` is the caller's function (the lecture's plain
numpy softmax, or the student's own ``CrossEntropyLoss`` at the end of exercise 06). It reads only
``model.forward(X_test)``, whose arg-max is the predicted class (the softmax does not change which
score is largest), and the model's first weight matrix. So it runs on any edition of nnlib.
``update(epoch=..., page=...)`` redraws without any display, which is what tests and the benchmark
call; the figure is a plain ``matplotlib.figure.Figure`` whose pixels become a PNG (``self.png``).
"""
import numbers

import numpy as np
import PIL.ImageDraw
from matplotlib.colors import ListedColormap

from .. import resolve_nnlib
from .base import LiveFigure, Slider, canvas_image, pixel_fonts, png_bytes

__all__ = ["DigitsExplorer", "mosaic", "benchmark_case"]

PER_PAGE = 16       # misclassified digits shown at once (a 4 x 4 mosaic)
MAX_UNITS = 16      # first-layer units shown as images
_COLUMNS = 4
_GAP = 1            # pixels between tiles of a mosaic
_LABEL_ROOM = 3     # extra pixels above each misclassified digit for its label


def mosaic(tiles, columns=_COLUMNS, gap=_GAP, top=0, rows=None):
    """Tiles of shape (n, h, w) laid out in a grid, NaN between and around them.

    Parameters
    ----------
    tiles : ndarray of shape (n, h, w)
    columns : int, default=4
    gap : int, default=1
        NaN pixels between neighbouring tiles.
    top : int, default=0
        Extra NaN rows above each row of tiles (room for a label).
    rows : int, optional
        Number of tile rows (default: as many as ``n`` needs); missing tiles stay NaN.

    Returns
    -------
    image : ndarray of shape (rows * (h + gap + top) - gap, columns * (w + gap) - gap)
    origins : ndarray of shape (n, 2)
        Row and column of the top-left pixel of each tile in ``image``.
    """
    tiles = np.asarray(tiles, dtype=np.float64)
    n, h, w = tiles.shape
    rows = int(np.ceil(n / columns)) if rows is None else rows
    image = np.full((rows * (h + gap + top) - gap, columns * (w + gap) - gap), np.nan)
    origins = np.array([[(i // columns) * (h + gap + top) + top, (i % columns) * (w + gap)]
                        for i in range(n)], dtype=np.intp).reshape(n, 2)
    for tile, (r, c) in zip(tiles, origins):
        image[r:r + h, c:c + w] = tile
    return image, origins


def _first_weights(model, n_pixels):
    """The first parameter of ``model`` with one row per pixel: its first layer's ``W``."""
    for param, _ in model.parameters():
        if param.ndim == 2 and param.shape[0] == n_pixels:
            return param
    raise ValueError(f"DigitsExplorer: the model has no weight matrix of shape ({n_pixels}, H); "
                     "pass weights=lambda model: ... returning its first layer's W")


class DigitsExplorer(LiveFigure):
    """Record a classifier of 8x8 digits epoch by epoch and draw what it gets wrong.

    Parameters
    ----------
    model : object with ``forward(X) -> scores``
        ``scores`` of shape (N, K), logits or probabilities; the predicted class is their arg-max.
    X_test : ndarray of shape (N, 64)
        Test images, pixels in [0, 1].
    y_test : ndarray of int, shape (N,)
        Their labels, ``0 .. K-1``.
    train_epoch : callable, optional
        ``train_epoch() -> loss or None``: trains ``model`` for one epoch (the caller's code).
        Needed by ``train`` and the widget's button.
    weights : callable, optional
        ``weights(model) -> ndarray of shape (64, H)``, the first layer's weights. By default the
        first parameter of ``model.parameters()`` with 64 rows.
    n_classes : int, default=10
    record : bool, default=True
        Record the untrained model as epoch 0.
    nn : module, optional
        The nnlib whose ``metrics.confusion_matrix`` counts the mistakes; default: the one the
        notebook imports.
    dpi : int, default=72
    """

    CONTROL_NAMES = ("epoch", "page")  # their ranges grow with the recorded epochs: see control_specs

    def __init__(self, model, X_test, y_test, train_epoch=None, *, weights=None, n_classes=10,
                 record=True, nn=None, dpi=72):
        self.nn = resolve_nnlib(nn)
        X_test = np.asarray(X_test, dtype=np.float64)
        y_test = np.asarray(y_test)
        if X_test.ndim != 2 or X_test.shape[1] != 64:
            raise ValueError(f"DigitsExplorer: expected X_test of shape (N, 64) (8x8 digits), got "
                             f"{X_test.shape}")
        if y_test.shape != (len(X_test),) or y_test.dtype.kind not in "iu":
            raise ValueError(f"DigitsExplorer: expected integer labels of shape ({len(X_test)},), "
                             f"got {y_test.shape} of dtype {y_test.dtype}")
        self.model, self.X_test, self.y_test = model, X_test, y_test.astype(np.intp)
        self.train_epoch, self.n_classes, self.dpi = train_epoch, int(n_classes), dpi
        self._weights = weights or (lambda m: _first_weights(m, X_test.shape[1]))
        self.snapshots = []   # one dict per recorded epoch
        self.values = {"epoch": 0, "page": 0}
        self.result = {}
        self._build_figure()
        if record:
            self.record()

    # ------------------------------------------------------------------ state
    def record(self, loss=None):
        """Store the model as it is now, as the next epoch; ``loss`` is its training loss, if known.

        Returns the snapshot: ``{"epoch", "loss", "predicted" (N,), "accuracy", "confusion" (K, K),
        "misclassified" (indices into the test set, in order), "weights" (64, H)}``.
        """
        scores = np.asarray(self.model.forward(self.X_test), dtype=np.float64)
        if scores.shape != (len(self.X_test), self.n_classes):
            raise ValueError(f"DigitsExplorer: model.forward(X_test) should give scores of shape "
                             f"({len(self.X_test)}, {self.n_classes}), got {scores.shape}")
        predicted = np.argmax(scores, axis=1)
        wrong = np.flatnonzero(predicted != self.y_test)
        snapshot = {"epoch": len(self.snapshots),
                    "loss": None if loss is None else float(loss),
                    "predicted": predicted,
                    "accuracy": float(np.mean(predicted == self.y_test)),
                    "confusion": self.nn.metrics.confusion_matrix(self.y_test, predicted, self.n_classes),
                    "misclassified": wrong,
                    "weights": np.array(self._weights(self.model), dtype=np.float64)}
        self.snapshots.append(snapshot)
        self._background = None   # the curves' axes change
        return snapshot

    def train(self, epochs=1):
        """Call ``train_epoch()`` ``epochs`` times, recording after each; show the last epoch."""
        if self.train_epoch is None:
            raise ValueError("DigitsExplorer.train: no train_epoch function was given")
        for _ in range(int(epochs)):
            self.record(loss=self.train_epoch())
        return self.update(epoch=len(self.snapshots) - 1)

    def n_pages(self, epoch=None):
        """Pages of misclassified digits at ``epoch`` (at least 1)."""
        snapshot = self.snapshots[self.values["epoch"] if epoch is None else epoch]
        return max(1, int(np.ceil(len(snapshot["misclassified"]) / PER_PAGE)))

    def _set(self, **values):
        unknown = set(values) - set(self.CONTROL_NAMES)
        if unknown:
            raise ValueError(f"DigitsExplorer.update: unknown controls {sorted(unknown)}; the "
                             f"controls are {list(self.CONTROL_NAMES)}")
        for name, value in values.items():
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise ValueError(f"DigitsExplorer.update: {name} must be an int, got {value!r}")
        if not self.snapshots:
            raise ValueError("DigitsExplorer: nothing recorded yet; call record() first")
        epoch = int(values.get("epoch", self.values["epoch"]))
        self.values["epoch"] = min(max(epoch, 0), len(self.snapshots) - 1)
        page = int(values.get("page", self.values["page"]))
        self.values["page"] = min(max(page, 0), self.n_pages() - 1)

    # ---------------------------------------------------------------- drawing
    def _build_figure(self):
        self._new_figure((13.0, 4.1))
        # Fixed margins and axes: a layout engine would re-solve the layout at every redraw.
        self.fig.subplots_adjust(left=0.04, right=0.96, bottom=0.14, top=0.86, wspace=0.3)
        cm_ax, wrong_ax, weights_ax, curve_ax = self.fig.subplots(
            1, 4, gridspec_kw={"width_ratios": [1.0, 0.95, 0.95, 1.15]})
        k = self.n_classes
        cm_ax.set(xticks=range(k), yticks=range(k), xlabel="predicted", ylabel="true",
                  xlim=(-0.5, k - 0.5), ylim=(k - 0.5, -0.5))
        cm_ax.tick_params(labelsize=8, length=0)
        for ax in (wrong_ax, weights_ax):
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_frame_on(False)
        curve_ax.set(xlabel="epoch", ylabel="test accuracy", ylim=(0.0, 1.02))
        curve_ax.grid(alpha=0.3)
        loss_ax = curve_ax.twinx()
        loss_ax.set_ylabel("training loss", color="tab:red")
        loss_ax.tick_params(axis="y", colors="tab:red", labelsize=8)
        curve_ax.tick_params(labelsize=8)
        self.axes = {"confusion": cm_ax, "misclassified": wrong_ax, "weights": weights_ax,
                     "accuracy": curve_ax, "loss": loss_ax}

        a = {}
        a["confusion"] = cm_ax.imshow(np.zeros((k, k)), cmap="Blues", vmin=0.0, vmax=1.0,
                                      interpolation="nearest")
        ink = ListedColormap(np.linspace([1, 1, 1, 1], [0.05, 0.05, 0.05, 1], 256)).with_extremes(
            bad="#f3f3f3")
        empty, self._wrong_origins = mosaic(np.zeros((PER_PAGE, 8, 8)), top=_LABEL_ROOM)
        a["misclassified"] = wrong_ax.imshow(empty, cmap=ink, vmin=0.0, vmax=1.0,
                                             interpolation="nearest")
        signed = ListedColormap(_diverging()).with_extremes(bad="white")
        a["weights"] = weights_ax.imshow(mosaic(np.zeros((MAX_UNITS, 8, 8)))[0], cmap=signed,
                                         vmin=-1.0, vmax=1.0, interpolation="nearest")
        a["accuracy"], = curve_ax.plot([], [], "o-", color="tab:blue", markersize=3,
                                       label="test accuracy")
        a["loss"], = loss_ax.plot([], [], "s--", color="tab:red", markersize=2.5,
                                  label="training loss")
        a["marker"] = curve_ax.axvline(0, color="0.2", linewidth=1.2)
        self.artists = a
        # The texts that change (titles, counts, "7 → 1") are written onto the finished image with
        # PIL, at the pixel positions of their places (the axes never move): matplotlib would lay
        # out and render each one at every redraw, a millisecond or more apiece. ``self.labels``
        # lists them as ``(x, y, text, colour, font size)``, x and y in pixels from the top left.
        self._fonts = pixel_fonts((8, 10), self.dpi)
        width, height = self.canvas.get_width_height()
        for ax in self.fig.axes:
            ax.apply_aspect()   # where the equal-aspect images really sit, before any draw

        def pixel(ax, x, y, transform=None):
            px, py = (transform or ax.transData).transform((x, y))
            return float(px), float(height - py)

        self._count_pixels = [[pixel(cm_ax, j, i) for j in range(k)] for i in range(k)]
        self._label_pixels = [pixel(wrong_ax, c + 3.5, r - 2.0) for r, c in self._wrong_origins]
        tops = {name: pixel(ax, 0.5, 1.0, ax.transAxes) for name, ax in
                (("confusion", cm_ax), ("misclassified", wrong_ax), ("weights", weights_ax),
                 ("accuracy", curve_ax))}
        line = min(y for _, y in tops.values()) - 8.0   # one baseline above the highest panel
        self._title_pixels = {name: (x, line) for name, (x, _) in tops.items()}
        self.labels = []
        # The curves' axes are part of the background, drawn again when they change.
        self._animate()

    def _moving(self):
        a = self.artists
        return [a["confusion"], a["misclassified"], a["weights"],
                a["accuracy"], a["loss"], a["marker"]]

    def _draw_curves(self):
        """The curves over all recorded epochs, and axis limits that hold them."""
        a, axes = self.artists, self.axes
        epochs = np.arange(len(self.snapshots))
        a["accuracy"].set_data(epochs, [s["accuracy"] for s in self.snapshots])
        losses = [(s["epoch"], s["loss"]) for s in self.snapshots if s["loss"] is not None]
        a["loss"].set_data([e for e, _ in losses], [value for _, value in losses])
        axes["accuracy"].set_xlim(-0.3, max(1, len(epochs) - 1) + 0.3)
        if losses:
            top = max(value for _, value in losses if np.isfinite(value)) if any(
                np.isfinite(value) for _, value in losses) else 1.0
            axes["loss"].set_ylim(0.0, 1.05 * top if top > 0 else 1.0)

    def update(self, **values):
        """Set ``epoch`` (index of a recorded epoch) and/or ``page`` (of misclassified digits),
        both clamped to their ranges, and redraw (``self.png``).

        Returns ``{"epoch", "accuracy", "confusion" (K, K), "n_misclassified", "shown" (test-set
        indices of the misclassified digits on this page), "page", "n_pages"}``.
        """
        self._set(**values)
        snapshot = self.snapshots[self.values["epoch"]]
        a = self.artists
        if self._background is None:
            self._draw_curves()

        cm = snapshot["confusion"]
        totals = np.maximum(cm.sum(axis=1, keepdims=True), 1)
        fractions = cm / totals
        a["confusion"].set_data(fractions)
        labels = []
        for i, j in zip(*np.nonzero(cm)):
            color = "white" if fractions[i, j] > 0.55 else ("#b22222" if i != j else "#333333")
            labels.append((*self._count_pixels[i][j], str(int(cm[i, j])), color, 8))

        wrong = snapshot["misclassified"]
        page = self.values["page"]
        shown = wrong[page * PER_PAGE:(page + 1) * PER_PAGE]
        tiles = np.full((PER_PAGE, 8, 8), np.nan)
        tiles[:len(shown)] = self.X_test[shown].reshape(-1, 8, 8)
        a["misclassified"].set_data(mosaic(tiles, top=_LABEL_ROOM)[0])
        for n, position in zip(shown, self._label_pixels):
            labels.append((*position, f"{self.y_test[n]} → {snapshot['predicted'][n]}", "#b22222",
                           8))

        W = snapshot["weights"]
        units = W[:, :MAX_UNITS].T.reshape(-1, 8, 8)
        scale = np.abs(units).max(axis=(1, 2), keepdims=True)
        tiles = np.full((MAX_UNITS, 8, 8), np.nan)
        tiles[:len(units)] = units / np.where(scale > 0, scale, 1.0)
        a["weights"].set_data(mosaic(tiles)[0])

        epoch = self.values["epoch"]
        a["marker"].set_xdata([epoch, epoch])
        n_wrong = len(wrong)
        first = page * PER_PAGE + 1 if n_wrong else 0
        self.titles = {
            "confusion": f"confusion matrix, epoch {epoch}",
            "misclassified": f"misclassified (true → predicted): {first}-"
                             f"{page * PER_PAGE + len(shown)} of {n_wrong}",
            "weights": f"first-layer weights, units 0-{len(units) - 1} of {W.shape[1]}",
            "accuracy": f"test accuracy {snapshot['accuracy']:.1%} at epoch {epoch}"}
        labels += [(*self._title_pixels[name], text, "black", 10)
                   for name, text in self.titles.items()]
        self.labels = labels
        self._render()
        self.result = {"epoch": epoch, "accuracy": snapshot["accuracy"], "confusion": cm.copy(),
                       "n_misclassified": n_wrong, "shown": shown.copy(), "page": page,
                       "n_pages": self.n_pages()}
        return dict(self.result)

    def _encode(self):
        image = canvas_image(self.canvas)
        draw = PIL.ImageDraw.Draw(image)
        for x, y, text, color, size in self.labels:
            draw.text((x, y), text, fill=color, font=self._fonts[size],
                      anchor="md" if size == 10 else "mm")
        return png_bytes(image)

    # --------------------------------------------------------------- controls
    def control_specs(self):
        return {"epoch": Slider(0, len(self.snapshots) - 1, 1, "epoch", integer=True),
                "page": Slider(0, self.n_pages() - 1, 1, "mistakes page", integer=True,
                               label_width="100px")}

    def _after_update(self, box):
        box.controls["page"].max = self.n_pages() - 1
        super()._after_update(box)

    def widget(self, more=5):
        """Sliders (epoch, page of mistakes), a "train ``more`` epochs" button if a ``train_epoch``
        was given, and the live figure, as an ``ipywidgets.VBox``."""
        import ipywidgets as widgets

        if not self.result:
            self.update(epoch=len(self.snapshots) - 1)
        box = super().widget()
        if self.train_epoch is None:
            return box
        button = widgets.Button(description=f"train {more} more epochs",
                                layout=widgets.Layout(width="180px"))
        epoch = box.controls["epoch"]

        def clicked(_):
            button.disabled = True
            try:
                self.train(more)
                epoch.max = len(self.snapshots) - 1
                epoch.value = len(self.snapshots) - 1   # redraws through the observer
                self._after_update(box)
            finally:
                button.disabled = False

        button.on_click(clicked)
        controls_row = box.children[0]
        controls_row.children = (*controls_row.children, button)
        box.buttons["train"] = button
        return box

    def _readout(self):
        r = self.result
        return (f"<b>epoch {r['epoch']}</b> of {len(self.snapshots) - 1} recorded &nbsp;·&nbsp; "
                f"test accuracy {r['accuracy']:.1%} &nbsp;·&nbsp; {r['n_misclassified']} of "
                f"{len(self.y_test)} test digits misclassified")


def _diverging():
    """Blue (negative) - white (0) - red (positive), 256 RGBA colours."""
    t = np.linspace(-1.0, 1.0, 256)[:, None]
    blue, white, red = np.array([0.13, 0.4, 0.67, 1]), np.ones(4), np.array([0.7, 0.09, 0.17, 1])
    return np.where(t < 0, white + (blue - white) * -t, white + (red - white) * t)


def _squared_error_epochs(model, X, y, lr=0.5, batch_size=32, seed=0, nn=None):
    """A ``train_epoch`` for the benchmark: mean squared error on one-hot targets, plain SGD.

    It needs only released code of units 03-05 (no softmax), so it runs on every edition.
    """
    nn = resolve_nnlib(nn)
    rng = np.random.default_rng(seed)
    targets = np.eye(10)[y]
    loss, optimizer = nn.losses.MSELoss(), nn.optim.SGD(model.parameters(), lr=lr)

    def one_epoch():
        order = rng.permutation(len(X))
        total = 0.0
        for start in range(0, len(X), batch_size):
            batch = order[start:start + batch_size]
            total += loss.forward(model.forward(X[batch]), targets[batch]) * len(batch)
            model.backward(loss.backward())
            optimizer.step()
        return total / len(X)

    return one_epoch


def benchmark_case():
    """A widget with 8 recorded epochs and the control values the benchmark cycles through."""
    nn = resolve_nnlib()
    X, y = nn.data.load_digits()
    X_train, X_test, y_train, y_test = nn.data.train_test_split(X, y, test_size=0.25, seed=0)
    layers = nn.layers
    model = layers.Sequential(layers.Linear(64, 32, rng=0), layers.ReLU(), layers.Linear(32, 10, rng=1))
    explorer = DigitsExplorer(model, X_test, y_test,
                              train_epoch=_squared_error_epochs(model, X_train, y_train))
    explorer.train(8)
    values = [{"epoch": e} for e in (0, 1, 2, 3, 4, 5, 6, 7, 8, 4)]
    values += [{"page": p} for p in (1, 2, 0)] + [{"epoch": 1, "page": 3}, {"epoch": 8, "page": 0}]
    return explorer, values
