r"""Unit 07 widget: training and validation curves, and where early stopping ends training.

``TrainingCurves`` trains a small multi-layer perceptron on the 8x8 digits and draws the training
and validation loss and accuracy after every epoch, with the epoch at which early stopping with a
given patience ends training. The training set is small (200 images, a fifth of them with a random
label), so the network first learns the digits and then memorises the noise: the validation loss
falls, then rises again. It uses only code released before unit 07 (``Linear``, ``ReLU``,
``Sequential``, ``CrossEntropyLoss`` and plain ``SGD``); each epoch is one full-batch gradient step,
and weight decay is added to the gradients by hand. The curves of each weight decay are computed
once; moving the patience slider only redraws.
::

    from nncourse.widgets.training_curves import TrainingCurves
    TrainingCurves().widget()     # in a notebook

Like every widget, it keeps its state apart from its drawing (``nncourse.widgets.base``):
``update(**values)`` recomputes and redraws without any display; the figure is PNG bytes in ``png``.
"""
import contextlib
import numbers

import numpy as np

from .. import resolve_nnlib
from .base import Choice, LiveFigure, Slider

__all__ = ["TrainingCurves", "early_stopping_epochs"]


def _one_blas_thread():
    """Run numpy's BLAS on one thread: for these small matrices threads cost more than they give
    (badly so on a busy machine). A no-op where threadpoolctl is missing."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def early_stopping_epochs(val_loss, patience):
    """Where early stopping with ``patience`` ends a run with these validation losses.

    An epoch improves on the best loss so far if its loss is strictly lower; training stops after
    the epoch that makes ``patience`` epochs in a row without improvement.

    Parameters
    ----------
    val_loss : array_like of shape (E,)
        Validation loss after epochs 1, ..., E.
    patience : int

    Returns
    -------
    stop : int or None
        The last epoch trained (counted from 1), or None if training runs all E epochs.
    best : int
        The epoch with the lowest loss up to ``stop`` (or E).
    """
    val_loss = np.asarray(val_loss, dtype=np.float64)
    epochs = np.arange(1, len(val_loss) + 1)
    best_before = np.concatenate([[np.inf], np.minimum.accumulate(val_loss)[:-1]])
    improved = val_loss < best_before
    last_improvement = np.maximum.accumulate(np.where(improved, epochs, 0))
    waited = epochs - last_improvement
    stops = np.flatnonzero(waited >= patience)
    stop = int(epochs[stops[0]]) if stops.size else None
    best = int(last_improvement[(stop or len(val_loss)) - 1])
    return stop, best


class TrainingCurves(LiveFigure):
    """Training and validation curves of a small MLP on the digits, and where early stopping ends.

    Parameters
    ----------
    patience : int, default=10
        Early-stopping patience, in epochs.
    weight_decay : float, default=0.0
        L2 penalty :math:`\\lambda` (one of ``WEIGHT_DECAYS``): :math:`\\lambda W` is added to each
        weight matrix's gradient.
    epochs : int, default=250
    n_train : int, default=200
        Training images; the validation set has 400 others.
    label_noise : float, default=0.2
        Share of the training images given a random label (uniform over the 10 digits).
    hidden : int, default=128
    lr : float, default=0.5
    seed : int, default=0
    nn : module, optional
        The nnlib to train with; default: the one the notebook imports.
    dpi : int, default=72

    Attributes
    ----------
    history : dict of ndarray of shape (epochs,)
        ``train_loss``, ``val_loss``, ``train_acc``, ``val_acc`` of the current weight decay.
    stop_epoch, best_epoch : int or None, int
        See ``early_stopping_epochs``.
    """

    WEIGHT_DECAYS = (0.0, 0.001, 0.01)
    CONTROLS = {"patience": Slider(1, 100, 1, "patience", integer=True, label_width="100px"),
                "weight_decay": Choice(WEIGHT_DECAYS, "weight decay λ", dropdown=True,
                                       label_width="100px")}

    def __init__(self, patience=10, weight_decay=0.0, *, epochs=250, n_train=200, label_noise=0.2,
                 hidden=128, lr=0.5, seed=0, nn=None, dpi=72):
        self.nn = resolve_nnlib(nn)
        X, y = self.nn.data.load_digits()
        rng = np.random.default_rng(seed)
        order = rng.permutation(len(X))
        train, val = order[:n_train], order[n_train:n_train + 400]
        self.X_train, self.y_train = X[train], y[train].copy()
        noisy = rng.random(n_train) < label_noise
        self.y_train[noisy] = rng.integers(0, 10, int(noisy.sum()))
        self.noisy = noisy
        self.X_val, self.y_val = X[val], y[val]
        self.epochs, self.hidden, self.lr, self.seed = int(epochs), int(hidden), float(lr), seed
        self.dpi = dpi
        self.values = {}
        self._runs = {}
        self._build_figure()
        self.update(patience=patience, weight_decay=weight_decay)

    def run(self, weight_decay):
        """Train from the same initial weights with ``weight_decay``; the per-epoch history (cached)."""
        if weight_decay in self._runs:
            return self._runs[weight_decay]
        layers = self.nn.layers
        model = layers.Sequential(layers.Linear(64, self.hidden, rng=self.seed + 1), layers.ReLU(),
                                  layers.Linear(self.hidden, 10, rng=self.seed + 2))
        linears = [layer for layer in model.layers if isinstance(layer, layers.Linear)]
        loss = self.nn.losses.CrossEntropyLoss()
        optimizer = self.nn.optim.SGD(model.parameters(), lr=self.lr)  # plain SGD: released with unit 05
        history = {key: np.zeros(self.epochs) for key in ("train_loss", "val_loss", "train_acc",
                                                          "val_acc")}
        with _one_blas_thread():
            for epoch in range(self.epochs):
                scores = model.forward(self.X_train)
                history["train_loss"][epoch] = loss.forward(scores, self.y_train)
                history["train_acc"][epoch] = np.mean(scores.argmax(axis=1) == self.y_train)
                model.backward(loss.backward())
                for layer in linears:  # the gradient of (lambda / 2) |W|^2 is lambda W
                    layer.grads["W"] += weight_decay * layer.params["W"]
                optimizer.step()
                scores = model.forward(self.X_val)
                history["val_loss"][epoch] = loss.forward(scores, self.y_val)
                history["val_acc"][epoch] = np.mean(scores.argmax(axis=1) == self.y_val)
        self._runs[weight_decay] = history
        return history

    def update(self, **values):
        """Set ``patience`` and/or ``weight_decay``, and redraw.

        Returns
        -------
        dict
            ``stop_epoch`` (None: no early stop), ``best_epoch``, and the validation accuracy at the
            best epoch, at the stop and after the last epoch.
        """
        unknown = set(values) - set(self.CONTROLS)
        if unknown:
            raise ValueError(f"TrainingCurves.update: unknown controls {sorted(unknown)}; the "
                             f"controls are {sorted(self.CONTROLS)}")
        if "patience" in values:
            patience = values["patience"]
            if isinstance(patience, bool) or not isinstance(patience, numbers.Integral) \
                    or patience < 1:
                raise ValueError(f"TrainingCurves: patience must be a positive integer, got "
                                 f"{patience!r}")
            values["patience"] = int(patience)
        if "weight_decay" in values:
            if values["weight_decay"] not in self.WEIGHT_DECAYS:
                raise ValueError(f"TrainingCurves: weight_decay must be one of {self.WEIGHT_DECAYS}, "
                                 f"got {values['weight_decay']!r}")
            values["weight_decay"] = float(values["weight_decay"])
        self.values.update(values)
        self.history = self.run(self.values["weight_decay"])
        self.stop_epoch, self.best_epoch = early_stopping_epochs(self.history["val_loss"],
                                                                 self.values["patience"])
        self._draw()
        return self.summary()

    def summary(self):
        acc = self.history["val_acc"]
        last = self.stop_epoch or self.epochs
        return {"stop_epoch": self.stop_epoch, "best_epoch": self.best_epoch,
                "val_acc_at_best": float(acc[self.best_epoch - 1]),
                "val_acc_at_stop": float(acc[last - 1]), "val_acc_at_end": float(acc[-1])}

    def _build_figure(self):
        self._new_figure((11.0, 4.0))
        self.fig.subplots_adjust(left=0.06, right=0.985, bottom=0.13, top=0.84, wspace=0.18)
        self.ax_loss, self.ax_acc = self.fig.subplots(1, 2)
        epochs = np.arange(1, self.epochs + 1)
        a = {}
        for ax, kind, top in ((self.ax_loss, "loss", 2.5), (self.ax_acc, "acc", 1.02)):
            a[f"train_{kind}"], = ax.plot(epochs, np.zeros(self.epochs), color="C0",
                                          label="training")
            a[f"val_{kind}"], = ax.plot(epochs, np.zeros(self.epochs), color="C1",
                                        label="validation")
            a[f"stop_{kind}"] = ax.axvline(1, color="0.3", linestyle="--", linewidth=1.2,
                                           label="early stop")
            a[f"after_{kind}"] = ax.axvspan(1, self.epochs, color="0.85", alpha=0.5, linewidth=0)
            a[f"best_{kind}"], = ax.plot([], [], "*", color="C1", markersize=13,
                                         markeredgecolor="black", label="best epoch")
            ax.set(xlim=(0, self.epochs + 1), ylim=(0, top), xlabel="epoch")
            ax.legend(loc="upper right" if kind == "loss" else "lower right", fontsize=9)
        self.ax_loss.set(ylabel="cross-entropy", title="loss after each epoch")
        self.ax_acc.set(ylabel="accuracy", title="accuracy after each epoch")
        a["title"] = self.fig.suptitle("", fontsize=11, y=0.985)
        self.artists = a
        self._animate()

    def _moving(self):
        a = self.artists
        return [a[f"{part}_{kind}"] for kind in ("loss", "acc")
                for part in ("after", "train", "val", "stop", "best")] + [a["title"]]

    def _draw(self):
        a, h = self.artists, self.history
        for kind in ("loss", "acc"):
            a[f"train_{kind}"].set_ydata(h[f"train_{kind}"])
            a[f"val_{kind}"].set_ydata(h[f"val_{kind}"])
            stop = self.stop_epoch or self.epochs
            a[f"stop_{kind}"].set_xdata([stop, stop])
            a[f"stop_{kind}"].set_visible(self.stop_epoch is not None)
            a[f"after_{kind}"].set_x(stop)
            a[f"after_{kind}"].set_width(self.epochs + 1 - stop)
            a[f"after_{kind}"].set_visible(self.stop_epoch is not None)
            a[f"best_{kind}"].set_data([self.best_epoch], [h[f"val_{kind}"][self.best_epoch - 1]])
        s = self.summary()
        patience, decay = self.values["patience"], self.values["weight_decay"]
        if self.stop_epoch is None:
            told = f"patience {patience}: no early stop in {self.epochs} epochs"
        else:
            told = f"patience {patience}: stops after epoch {self.stop_epoch}"
        a["title"].set_text(f"weight decay {decay:g}, {told} (best epoch {self.best_epoch}); "
                            f"validation accuracy {s['val_acc_at_best']:.1%} at the best epoch, "
                            f"{s['val_acc_at_end']:.1%} after all {self.epochs}")
        self._render()

    def _layout(self, controls, image, readout, buttons):
        import ipywidgets as widgets

        return [widgets.HBox(list(controls.values())), image]
