"""Figures used across the course: data sets, decision boundaries, curves, digits and weights.

Every function draws into the axes (or figure) it is given, or a new one if none, and returns it; none
calls ``plt.show()``, so the functions work the same in notebooks, widgets and tests. They take
arrays and callables (``model.forward``), never nnlib itself, so any unit's nnlib can be drawn.
"""
import numbers

import numpy as np
import matplotlib.pyplot as plt
from matplotlib.colors import ListedColormap


__all__ = [
    "CLASS_COLORS", "plot_dataset", "plot_decision_boundary", "plot_history", "show_images",
    "plot_confusion_matrix", "show_weights_as_images", "plot_loss_surface",
]

# Class k is drawn in CLASS_COLORS[k % 10]: blue and red first, so binary problems match the
# blue-to-red colour map used for probabilities.
CLASS_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


def _as_float_array(x, owner, name):
    """``x`` as a float64 array; ``ValueError`` naming ``owner`` unless it is real numbers."""
    array = np.asarray(x)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{owner}: expected a real numeric {name}, got dtype {array.dtype}")
    return array.astype(np.float64, copy=False)


def _check_int(value, name, owner, minimum=1):
    """``value`` as an ``int``; ``ValueError`` naming ``owner`` unless an integer >= minimum."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{owner}: {name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _axes(ax):
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4))
    return ax


def _check_points(X, owner):
    X = _as_float_array(X, owner, "X")
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"{owner}: expected points of shape (N, 2), got {X.shape}")
    return X


def _class_colors(n_classes):
    return [CLASS_COLORS[k % len(CLASS_COLORS)] for k in range(n_classes)]


def marker_area(n_points):
    """The scatter marker area (points squared) for ``n_points`` points: 20 for hundreds, larger
    for a few (the four corners of AND and XOR are dots to see, not specks), at most 120."""
    return float(np.clip(3000.0 / max(n_points, 1), 20.0, 120.0))


def plot_dataset(X, y=None, ax=None, *, s=None, alpha=0.9):
    """Scatter plot of 2-D points, one colour per class.

    Parameters
    ----------
    X : ndarray of shape (N, 2)
        The points.
    y : ndarray of shape (N,), optional
        Integer class labels; without them all points get one colour.
    ax : matplotlib Axes, optional
        Where to draw; a new figure if None.
    s : float, optional
        Marker area in points squared; by default ``marker_area(len(X))``: 20 for a few hundred
        points, up to 120 for a handful.
    alpha : float, default=0.9
        Marker opacity.

    Returns
    -------
    matplotlib Axes
    """
    X = _check_points(X, "plot_dataset")
    ax = _axes(ax)
    s = marker_area(len(X)) if s is None else s
    if y is None:
        ax.scatter(X[:, 0], X[:, 1], s=s, alpha=alpha, color="0.3", edgecolors="white",
                   linewidths=0.5)
    else:
        y = np.asarray(y).reshape(-1).astype(np.intp)
        if len(y) != len(X):
            raise ValueError(f"plot_dataset: X has {len(X)} points but y has {len(y)} labels")
        colors = _class_colors(int(y.max()) + 1 if len(y) else 0)
        for k in np.unique(y):
            members = y == k
            ax.scatter(X[members, 0], X[members, 1], s=s, alpha=alpha, color=colors[k],
                       edgecolors="white", linewidths=0.5, label=f"class {k}")
        ax.legend(loc="best", fontsize="small")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    return ax


def plot_decision_boundary(predict, X, y=None, ax=None, resolution=200, padding=0.5):
    """Colour the plane by the class a model predicts, and draw the data on top.

    Parameters
    ----------
    predict : callable
        Maps points of shape ``(M, 2)`` to class scores ``(M, K)``, probabilities of class 1
        ``(M,)`` or ``(M, 1)``, or labels ``(M,)``; e.g. ``model.forward`` or
        ``lambda P: model.predict(P)``.
    X : ndarray of shape (N, 2)
        The data, which also sets the plotted range.
    y : ndarray of shape (N,), optional
        Its labels, for the colours of the points.
    ax : matplotlib Axes, optional
        Where to draw; a new figure if None.
    resolution : int, default=200
        Grid points along each axis (``resolution**2`` calls' worth of points, in one batch).
    padding : float, default=0.5
        Margin added around the data on every side.

    Returns
    -------
    matplotlib Axes
        Binary probabilities are shown as shades from blue (0) to red (1), with the 0.5 contour
        drawn as a black line; class scores and labels as flat regions in the class colours.
    """
    X = _check_points(X, "plot_decision_boundary")
    resolution = _check_int(resolution, "resolution", "plot_decision_boundary", minimum=2)
    ax = _axes(ax)
    x1 = np.linspace(X[:, 0].min() - padding, X[:, 0].max() + padding, resolution)
    x2 = np.linspace(X[:, 1].min() - padding, X[:, 1].max() + padding, resolution)
    grid1, grid2 = np.meshgrid(x1, x2)
    points = np.column_stack([grid1.ravel(), grid2.ravel()])
    out = np.asarray(predict(points))
    if len(out) != len(points):
        raise ValueError(f"plot_decision_boundary: predict returned {len(out)} rows for "
                         f"{len(points)} points (shape {out.shape})")
    out = out.reshape(len(points), -1)

    n_labels = 0 if y is None else int(np.max(y)) + 1
    if out.shape[1] >= 2:  # class scores: the arg-max is the predicted class
        labels = out.argmax(axis=1)
        probability = None
    elif out.dtype.kind == "f" and np.all((out >= 0) & (out <= 1)) and \
            np.any(out != np.round(out)):
        probability, labels = out[:, 0], None
    elif np.all(out == np.round(out)):
        labels, probability = out[:, 0].astype(np.intp), None
    else:
        raise ValueError("plot_decision_boundary: predict returned one column that is neither "
                         "probabilities in [0, 1] nor labels (raw scores?); apply a sigmoid first")

    if probability is not None:
        p = probability.reshape(grid1.shape)
        ax.contourf(grid1, grid2, p, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.45,
                    vmin=0, vmax=1)
        if p.min() < 0.5 < p.max():
            ax.contour(grid1, grid2, p, levels=[0.5], colors="black", linewidths=1.2)
    else:
        n_classes = max(int(labels.max()) + 1, n_labels, out.shape[1] if out.shape[1] >= 2 else 0)
        cmap = ListedColormap(_class_colors(n_classes))
        ax.contourf(grid1, grid2, labels.reshape(grid1.shape).astype(np.float64),
                    levels=np.arange(n_classes + 1) - 0.5, cmap=cmap, alpha=0.3)
    plot_dataset(X, y, ax=ax)
    ax.set_xlim(x1[0], x1[-1])
    ax.set_ylim(x2[0], x2[-1])
    return ax


def plot_history(history, ax=None):
    """Loss (and accuracy) curves of a ``History`` returned by ``fit``; same as ``history.plot(ax)``.

    Returns
    -------
    list of matplotlib Axes
        The loss axes, then the accuracy axes if accuracy was recorded.
    """
    return history.plot(ax=ax)


def _as_images(images, shape, owner):
    images = _as_float_array(images, owner, "images")
    if images.ndim == 4 and images.shape[1] == 1:  # (N, 1, H, W): one channel
        images = images[:, 0]
    if images.ndim == 2:  # flat vectors
        if shape is None:
            side = int(round(np.sqrt(images.shape[1])))
            if side * side != images.shape[1]:
                raise ValueError(f"{owner}: cannot guess the image shape of {images.shape[1]} "
                                 "pixels; pass shape=(H, W)")
            shape = (side, side)
        if int(np.prod(shape)) != images.shape[1]:
            raise ValueError(f"{owner}: shape {tuple(shape)} does not hold {images.shape[1]} pixels")
        images = images.reshape((len(images),) + tuple(shape))
    if images.ndim != 3:
        raise ValueError(f"{owner}: expected images of shape (N, H*W), (N, H, W) or (N, 1, H, W), "
                         f"got {images.shape}")
    return images


def _grid(n_items, ncols, fig, cell=1.1):
    ncols = max(1, min(ncols, n_items))
    nrows = int(np.ceil(n_items / ncols))
    if fig is None:
        fig = plt.figure(figsize=(cell * ncols, (cell + 0.25) * nrows))
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes[n_items:]:
        ax.set_visible(False)
    return fig, axes[:n_items]


def show_images(images, labels=None, predictions=None, ncols=10, *, shape=None, fig=None,
                cmap="gray_r"):
    """A grid of small images (digits), titled with their labels and predictions.

    Parameters
    ----------
    images : ndarray of shape (N, H*W), (N, H, W) or (N, 1, H, W)
        Flat images must be square unless ``shape`` is given (64 pixels -> 8x8).
    labels : array_like of shape (N,), optional
        True labels, shown as titles.
    predictions : array_like of shape (N,), optional
        Predicted labels; shown as ``"pred (true)"`` in red when wrong, green when right.
    ncols : int, default=10
        Images per row.
    shape : tuple of int, optional
        ``(H, W)`` of flat images.
    fig : matplotlib Figure, optional
        Figure to draw into (it should be empty); a new one if None.
    cmap : str, default="gray_r"
        Colour map: dark ink on white for digits.

    Returns
    -------
    matplotlib Figure
    """
    owner = "show_images"
    images = _as_images(images, shape, owner)
    for name, values in (("labels", labels), ("predictions", predictions)):
        if values is not None and len(values) != len(images):
            raise ValueError(f"{owner}: {len(images)} images but {len(values)} {name}")
    if len(images) == 0:
        raise ValueError(f"{owner}: no images to show")
    fig, axes = _grid(len(images), ncols, fig)
    for i, ax in enumerate(axes):
        ax.imshow(images[i], cmap=cmap, interpolation="nearest")
        if predictions is not None:
            right = labels is None or predictions[i] == labels[i]
            title = f"{predictions[i]}" if labels is None or right else \
                f"{predictions[i]} ({labels[i]})"
            ax.set_title(title, fontsize=9, color="green" if right else "red")
        elif labels is not None:
            ax.set_title(f"{labels[i]}", fontsize=9)
    return fig


def plot_confusion_matrix(cm, ax=None, *, class_names=None, normalize=False, cmap="Blues"):
    """Draw a confusion matrix as a heat map with the counts written in the cells.

    Parameters
    ----------
    cm : ndarray of shape (K, K)
        From ``nnlib.metrics.confusion_matrix``: rows true classes, columns predicted.
    ax : matplotlib Axes, optional
        Where to draw; a new figure if None.
    class_names : list of str, optional
        Tick labels; ``0 .. K - 1`` by default.
    normalize : bool, default=False
        Show each row as fractions of its true class (the diagonal is then per-class recall).
    cmap : str, default="Blues"

    Returns
    -------
    matplotlib Axes
    """
    cm = _as_float_array(cm, "plot_confusion_matrix", "cm")
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"plot_confusion_matrix: expected a square (K, K) matrix, got {cm.shape}")
    n_classes = len(cm)
    if normalize:
        cm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    ax = _axes(ax)
    ax.imshow(cm, cmap=cmap, vmin=0)
    names = [str(k) for k in range(n_classes)] if class_names is None else list(class_names)
    ax.set_xticks(range(n_classes), names)
    ax.set_yticks(range(n_classes), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    threshold = cm.max() / 2 if cm.size else 0
    for i in range(n_classes):
        for j in range(n_classes):
            text = f"{cm[i, j]:.2f}" if normalize else f"{int(cm[i, j])}"
            ax.text(j, i, text, ha="center", va="center", fontsize=8,
                    color="white" if cm[i, j] > threshold else "black")
    return ax


def show_weights_as_images(W, shape=(8, 8), ncols=8, *, fig=None, cmap="RdBu_r"):
    """Show each hidden unit's incoming weights as an image (what pattern does it respond to?).

    Parameters
    ----------
    W : ndarray of shape (H*W_img, n_units)
        First-layer weights in nnlib's layout (``Linear.params["W"]``, inputs along the rows), so
        column ``j`` holds unit ``j``'s weights, one per pixel.
    shape : tuple of int, default=(8, 8)
        Image shape of one column.
    ncols : int, default=8
        Images per row.
    fig : matplotlib Figure, optional
        Figure to draw into (it should be empty); a new one if None.
    cmap : str, default="RdBu_r"
        Diverging map, symmetric around 0 for each unit: red positive, blue negative weights.

    Returns
    -------
    matplotlib Figure
    """
    owner = "show_weights_as_images"
    W = _as_float_array(W, owner, "W")
    if W.ndim != 2 or W.shape[0] != int(np.prod(shape)):
        raise ValueError(f"{owner}: expected W of shape ({int(np.prod(shape))}, n_units) for "
                         f"{tuple(shape)} images, got {W.shape}")
    fig, axes = _grid(W.shape[1], ncols, fig)
    for j, ax in enumerate(axes):
        limit = max(np.abs(W[:, j]).max(), 1e-12)
        ax.imshow(W[:, j].reshape(shape), cmap=cmap, vmin=-limit, vmax=limit,
                  interpolation="nearest")
        ax.set_title(f"unit {j}", fontsize=8)
    return fig


def plot_loss_surface(f, xlim=(-2.0, 2.0), ylim=(-2.0, 2.0), ax=None, *, resolution=100,
                      levels=30, paths=None, log=False):
    """Contour plot of a function of two parameters, with optional optimizer trajectories.

    Parameters
    ----------
    f : callable
        Maps points of shape ``(M, 2)`` to values of shape ``(M,)``.
    xlim, ylim : pair of float
        Plotted range of the two parameters.
    ax : matplotlib Axes, optional
        Where to draw; a new figure if None.
    resolution : int, default=100
        Grid points along each axis.
    levels : int, default=30
        Number of contour levels.
    paths : dict of str to ndarray of shape (S, 2), optional
        Trajectories to draw on top, e.g. ``{"SGD": points, "Adam": points}``.
    log : bool, default=False
        Contour ``log(f - min f + 1e-12)`` instead, for surfaces with a narrow valley.

    Returns
    -------
    matplotlib Axes
    """
    ax = _axes(ax)
    x1 = np.linspace(*xlim, resolution)
    x2 = np.linspace(*ylim, resolution)
    grid1, grid2 = np.meshgrid(x1, x2)
    values = np.asarray(f(np.column_stack([grid1.ravel(), grid2.ravel()])), dtype=np.float64)
    if values.size != grid1.size:
        raise ValueError(f"plot_loss_surface: f returned {values.size} values for {grid1.size} "
                         "points; it must map (M, 2) to (M,)")
    values = values.reshape(grid1.shape)
    if log:
        values = np.log(values - values.min() + 1e-12)
    ax.contour(grid1, grid2, values, levels=levels, cmap="viridis", linewidths=0.8)
    for i, (name, path) in enumerate((paths or {}).items()):
        path = np.asarray(path, dtype=np.float64).reshape(-1, 2)
        ax.plot(path[:, 0], path[:, 1], "o-", markersize=2.5, linewidth=1.2,
                color=CLASS_COLORS[i % len(CLASS_COLORS)], label=name)
    if paths:
        ax.legend(loc="best", fontsize="small")
    ax.set_xlabel("$w_1$")
    ax.set_ylabel("$w_2$")
    return ax
