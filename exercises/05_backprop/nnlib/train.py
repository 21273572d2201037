# Student copy of nnlib for exercise 05_backprop; the reference is nnlib/ in the course repository.
"""The training loop: ``fit`` runs mini-batch training and returns a ``History`` of the epochs.

``fit`` works with anything that follows the nnlib contract: a model with ``forward``, ``backward``,
``train`` and ``eval``; a loss with ``forward(pred, target) -> float`` and ``backward() -> dpred``;
an optimizer built from ``model.parameters()`` with ``step()``. It only calls them, so a student's
own layers train with it as soon as their forward and backward passes work.
"""
import math
import numbers

import numpy as np
from tqdm.auto import tqdm

from ._checks import as_float_array, as_generator, check_int
from .data import iterate_minibatches
from .metrics import accuracy

__all__ = ["EarlyStopping", "History", "fit"]

# Losses whose predictions are class scores or probabilities, so accuracy means something. Matched by
# class name, so this module need not import nnlib.losses; a loss of another name can opt in with a
# ``classification = True`` attribute.
CLASSIFICATION_LOSSES = ("CrossEntropyLoss", "BCELoss")


class EarlyStopping:
    """Stop training once the validation loss has stopped improving.

    Call ``should_stop(val_loss)`` once per epoch. A loss improves on the best so far if it is lower
    by more than ``min_delta``; after ``patience`` calls in a row without improvement, ``should_stop``
    returns True.

    Parameters
    ----------
    patience : int
        Number of epochs without improvement to tolerate, at least 1.
    min_delta : float, default=0.0
        How much lower than ``best_loss`` a loss must be to count as an improvement, ``>= 0``.

    Attributes
    ----------
    best_loss : float
        Lowest validation loss seen (``inf`` before the first call).
    best_epoch : int or None
        The call (epoch, counted from 1) at which ``best_loss`` was seen.
    counter : int
        Calls since the last improvement.
    epoch : int
        Calls so far.

    Examples
    --------
    >>> stopper = EarlyStopping(patience=2)
    >>> [stopper.should_stop(loss) for loss in [1.0, 0.8, 0.9, 0.85, 0.7]]
    [False, False, False, True, False]
    """

    def __init__(self, patience, min_delta=0.0):
        self.patience = check_int(patience, "patience", "EarlyStopping")
        if isinstance(min_delta, bool) or not isinstance(min_delta, numbers.Real) or not min_delta >= 0:
            raise ValueError(f"EarlyStopping: min_delta must be a number >= 0, got {min_delta!r}")
        self.min_delta = float(min_delta)
        self.best_loss = math.inf
        self.best_epoch = None
        self.counter = 0
        self.epoch = 0

    def should_stop(self, val_loss):
        """Record this epoch's validation loss; True if training should stop now.

        Parameters
        ----------
        val_loss : float
            The validation loss of the epoch just finished.

        Returns
        -------
        bool
            True once the loss has not improved on ``best_loss`` by more than ``min_delta`` for
            ``patience`` consecutive calls. Updates ``best_loss``, ``best_epoch`` and ``counter``.
        """
        if isinstance(val_loss, bool) or not isinstance(val_loss, numbers.Real) \
                or not math.isfinite(val_loss):
            raise ValueError(f"{self!r}: val_loss must be a finite number, got {val_loss!r}")
        val_loss = float(val_loss)
        self.epoch += 1
        # BEGIN SOLUTION 07_optimizers
        raise NotImplementedError('EarlyStopping.should_stop: implement this in exercise 07_optimizers')
        # END SOLUTION

    def __repr__(self):
        return f"EarlyStopping(patience={self.patience}, min_delta={self.min_delta:g})"


class History:
    """What happened during ``fit``, one entry per epoch.

    Attributes
    ----------
    epochs : list of int
        Epoch numbers, counted from 1.
    train_loss : list of float
        Mean training loss of each epoch (over its mini-batches, weighted by their size, measured
        while training, so in train mode).
    val_loss : list of float
        Validation loss after each epoch (eval mode); empty without validation data.
    train_acc, val_acc : list of float
        Accuracy in ``[0, 1]``, the same way; empty when the loss is not a classification loss
        (``CrossEntropyLoss``, ``BCELoss``) or there is no validation data.
    stopped_early : bool
        True if early stopping ended training before the last epoch.
    """

    def __init__(self):
        self.epochs = []
        self.train_loss = []
        self.val_loss = []
        self.train_acc = []
        self.val_acc = []
        self.stopped_early = False

    @property
    def best_epoch(self):
        """Epoch (from 1) with the lowest validation loss, the first if tied; None without one."""
        if not self.val_loss:
            return None
        return self.epochs[int(np.argmin(self.val_loss))]

    def __len__(self):
        return len(self.epochs)

    def __repr__(self):
        parts = [f"{len(self.epochs)} epochs"]
        if self.train_loss:
            parts.append(f"train_loss={self.train_loss[-1]:.4g}")
        if self.val_loss:
            parts.append(f"val_loss={self.val_loss[-1]:.4g}")
        if self.val_acc:
            parts.append(f"val_acc={self.val_acc[-1]:.3f}")
        if self.stopped_early:
            parts.append(f"stopped early, best epoch {self.best_epoch}")
        return f"History({', '.join(parts)})"

    def plot(self, ax=None):
        """Draw the loss curves and, if recorded, the accuracy curves.

        Parameters
        ----------
        ax : matplotlib Axes, or a pair of Axes, optional
            Where to draw. ``None`` makes a new figure with one panel for the loss and, if accuracy
            was recorded, a second for the accuracy. One Axes gets the loss, with the accuracy (if
            any) dashed on a twin y-axis. A pair gets the loss and the accuracy.

        Returns
        -------
        list of matplotlib Axes
            The loss axes, then the accuracy axes if accuracy was drawn.
        """
        import matplotlib.pyplot as plt  # only when plotting

        has_acc = bool(self.train_acc or self.val_acc)
        twin = False
        if ax is None:
            n_panels = 2 if has_acc else 1
            _, axes = plt.subplots(1, n_panels, figsize=(5 * n_panels, 3.5), squeeze=False)
            loss_ax, acc_ax = axes[0, 0], (axes[0, 1] if has_acc else None)
        elif isinstance(ax, (list, tuple, np.ndarray)):
            if len(ax) != 2:
                raise ValueError(f"History.plot: ax must be one Axes or a pair, got {len(ax)}")
            loss_ax, acc_ax = ax[0], (ax[1] if has_acc else None)
        else:
            loss_ax, twin = ax, has_acc
            acc_ax = ax.twinx() if has_acc else None

        loss_ax.plot(self.epochs, self.train_loss, label="train loss", color="C0")
        if self.val_loss:
            loss_ax.plot(self.epochs, self.val_loss, label="validation loss", color="C1")
            if self.stopped_early:
                loss_ax.axvline(self.best_epoch, color="gray", linestyle=":", label="best epoch")
        loss_ax.set_xlabel("epoch")
        loss_ax.set_ylabel("loss")
        loss_ax.legend(loc="upper left" if twin else "best")
        drawn = [loss_ax]
        if acc_ax is not None:
            style = "--" if twin else "-"  # dashed, to tell them from the loss on shared axes
            if self.train_acc:
                acc_ax.plot(self.epochs, self.train_acc, style, label="train accuracy", color="C0")
            if self.val_acc:
                acc_ax.plot(self.epochs, self.val_acc, style, label="validation accuracy", color="C1")
            acc_ax.set_xlabel("epoch")
            acc_ax.set_ylabel("accuracy")
            acc_ax.set_ylim(0, 1.02)
            acc_ax.legend(loc="center right" if twin else "lower right")
            drawn.append(acc_ax)
        return drawn


def _is_classification(loss):
    flag = getattr(loss, "classification", None)
    if flag is not None:
        return bool(flag)
    return type(loss).__name__ in CLASSIFICATION_LOSSES


def _check_finite(value, epoch, what):
    if not math.isfinite(value):
        raise FloatingPointError(f"training diverged at epoch {epoch}: the {what} is {value}; "
                                 "lower the learning rate")


def _evaluate(model, loss, X, y, batch_size, classification):
    """Mean loss (and accuracy) over a whole data set, in batches to bound memory."""
    total_loss, total_correct = 0.0, 0.0
    for start in range(0, len(X), batch_size):
        X_batch, y_batch = X[start:start + batch_size], y[start:start + batch_size]
        pred = model.forward(X_batch)
        total_loss += float(loss.forward(pred, y_batch)) * len(X_batch)
        if classification:
            total_correct += accuracy(pred, y_batch) * len(X_batch)
    return total_loss / len(X), (total_correct / len(X) if classification else None)


def fit(model, loss, optimizer, X, y, epochs, batch_size, X_val=None, y_val=None, patience=None,
        progress=True, rng=None):
    """Train ``model`` with mini-batch gradient descent and record each epoch.

    Every epoch visits the training samples in a new random order, in mini-batches
    (``iterate_minibatches``); for each batch: ``pred = model.forward(X_batch)``,
    ``loss.forward(pred, y_batch)``, ``model.backward(loss.backward())``, ``optimizer.step()``.
    The model is in train mode while training and in eval mode while the validation set is
    evaluated after each epoch; it is left in train mode.

    Parameters
    ----------
    model : Module
        The network, e.g. a ``Sequential``.
    loss : loss object
        ``MSELoss``, ``BCELoss`` or ``CrossEntropyLoss`` (accuracy is recorded for the last two).
    optimizer : optimizer object
        Built from ``model.parameters()``, e.g. ``SGD(model.parameters(), lr=0.1)``.
    X : ndarray of shape (N, ...)
        Training inputs.
    y : ndarray of shape (N, ...)
        Training targets, in the form ``loss`` expects.
    epochs : int
        Maximum number of passes over the training data, at least 1.
    batch_size : int
        Samples per mini-batch, at least 1 (the last batch of an epoch may be smaller).
    X_val, y_val : ndarray, optional
        Validation data, evaluated after every epoch. Give both or neither.
    patience : int, optional
        Stop early once the validation loss has not improved for this many epochs
        (``EarlyStopping``); needs validation data. The parameters are not rolled back: the model
        keeps those of the last epoch, and ``History.best_epoch`` says which epoch was best.
    progress : bool, default=True
        Show a tqdm progress bar over epochs with the latest losses.
    rng : None, int or numpy.random.Generator, default=None
        Seeds the shuffling, for reproducible runs.

    Returns
    -------
    History
        Per-epoch losses and accuracies; ``history.plot()`` draws them.

    Raises
    ------
    ValueError
        If the inputs are inconsistent (lengths, ``epochs``, ``batch_size``, ``patience``).
    FloatingPointError
        If the loss becomes nan or infinite ("training diverged"): lower the learning rate.
    """
    owner = "fit"
    X = as_float_array(X, owner, "X")
    y = np.asarray(y)
    if X.ndim == 0 or y.ndim == 0 or len(X) != len(y):
        raise ValueError(f"{owner}: X and y must have the same number of samples, got X of shape "
                         f"{X.shape} and y of shape {y.shape}")
    if len(X) == 0:
        raise ValueError(f"{owner}: the training set is empty")
    epochs = check_int(epochs, "epochs", owner)
    batch_size = check_int(batch_size, "batch_size", owner)
    has_val = X_val is not None or y_val is not None
    if has_val:
        if X_val is None or y_val is None:
            raise ValueError(f"{owner}: give both X_val and y_val, or neither")
        X_val, y_val = as_float_array(X_val, owner, "X_val"), np.asarray(y_val)
        if X_val.ndim == 0 or y_val.ndim == 0 or len(X_val) != len(y_val) or len(X_val) == 0:
            raise ValueError(f"{owner}: X_val and y_val must have the same, non-zero number of "
                             f"samples, got shapes {X_val.shape} and {y_val.shape}")
    stopper = None
    if patience is not None:
        if not has_val:
            raise ValueError(f"{owner}: early stopping (patience={patience!r}) needs validation "
                             "data: pass X_val and y_val")
        stopper = EarlyStopping(patience)
    rng = as_generator(rng)
    classification = _is_classification(loss)

    history = History()
    bar = tqdm(range(1, epochs + 1), desc="training", unit="epoch", disable=not progress)
    try:
        for epoch in bar:
            model.train()
            total_loss, total_correct = 0.0, 0.0
            for X_batch, y_batch in iterate_minibatches(X, y, batch_size, shuffle=True, rng=rng):
                pred = model.forward(X_batch)
                batch_loss = float(loss.forward(pred, y_batch))
                _check_finite(batch_loss, epoch, "training loss")
                model.backward(loss.backward())
                optimizer.step()
                total_loss += batch_loss * len(X_batch)
                if classification:
                    total_correct += accuracy(pred, y_batch) * len(X_batch)
            history.epochs.append(epoch)
            history.train_loss.append(total_loss / len(X))
            if classification:
                history.train_acc.append(total_correct / len(X))
            postfix = {"loss": f"{history.train_loss[-1]:.4f}"}

            if has_val:
                model.eval()
                val_loss, val_acc = _evaluate(model, loss, X_val, y_val, max(batch_size, 1024),
                                              classification)
                model.train()
                _check_finite(val_loss, epoch, "validation loss")
                history.val_loss.append(val_loss)
                postfix["val_loss"] = f"{val_loss:.4f}"
                if classification:
                    history.val_acc.append(val_acc)
                    postfix["val_acc"] = f"{val_acc:.3f}"
            bar.set_postfix(postfix, refresh=False)

            if stopper is not None and stopper.should_stop(history.val_loss[-1]):
                history.stopped_early = epoch < epochs
                break
    finally:
        bar.close()
        model.train()
    return history
