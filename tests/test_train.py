"""Tests of nnlib.train: EarlyStopping, fit and History."""
import matplotlib

matplotlib.use("Agg")  # before pyplot is imported anywhere: no windows in tests

import math  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from nnlib import data, train  # noqa: E402
from nnlib.layers import Linear, ReLU, Sequential, Sigmoid  # noqa: E402
from nnlib.losses import BCELoss, CrossEntropyLoss, MSELoss  # noqa: E402
from nnlib.module import Module  # noqa: E402
from nnlib.optim import SGD, Adam  # noqa: E402
from nnlib.train import EarlyStopping, History, fit  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def mlp(sizes, seed=0):
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers += [Linear(n_in, n_out, rng=seed + i), ReLU()]
    return Sequential(*layers[:-1])


# ----------------------------------------------------------------------------------------------
# EarlyStopping
# ----------------------------------------------------------------------------------------------

def test_early_stopping_by_hand():
    stopper = EarlyStopping(patience=2)
    losses = [1.0, 0.8, 0.9, 0.85, 0.7, 0.7, 0.71]
    expected = [False, False, False, True, False, False, True]
    best = [(1.0, 1), (0.8, 2), (0.8, 2), (0.8, 2), (0.7, 5), (0.7, 5), (0.7, 5)]
    counters = [0, 0, 1, 2, 0, 1, 2]
    for loss, stop, (best_loss, best_epoch), counter in zip(losses, expected, best, counters):
        assert stopper.should_stop(loss) is stop
        assert stopper.best_loss == best_loss
        assert stopper.best_epoch == best_epoch
        assert stopper.counter == counter


def test_early_stopping_min_delta():
    stopper = EarlyStopping(patience=2, min_delta=0.1)
    # improvements must beat the best by MORE than 0.1
    losses = [1.0, 0.95, 0.85, 0.84, 0.7, 0.65, 0.62]
    expected = [False, False, False, False, False, False, True]
    for loss, stop in zip(losses, expected):
        assert stopper.should_stop(loss) is stop, loss
    assert stopper.best_loss == 0.7 and stopper.best_epoch == 5


def test_early_stopping_min_delta_exact_difference_is_no_improvement():
    stopper = EarlyStopping(patience=1, min_delta=0.5)
    assert stopper.should_stop(2.0) is False
    assert stopper.should_stop(1.5) is True  # exactly min_delta lower: not "more than"


def test_early_stopping_equal_loss_is_no_improvement():
    stopper = EarlyStopping(patience=1)
    assert stopper.should_stop(1.0) is False
    assert stopper.should_stop(1.0) is True
    assert stopper.best_epoch == 1


def test_early_stopping_first_call_always_improves():
    stopper = EarlyStopping(patience=1)
    assert stopper.best_loss == math.inf and stopper.best_epoch is None
    assert stopper.should_stop(1e9) is False
    assert stopper.best_loss == 1e9 and stopper.best_epoch == 1 and stopper.counter == 0


def test_early_stopping_patience_three_steadily_worse():
    stopper = EarlyStopping(patience=3)
    results = [stopper.should_stop(loss) for loss in [0.5, 0.6, 0.7, 0.8, 0.9]]
    assert results == [False, False, False, True, True]


@pytest.mark.parametrize("kwargs", [{"patience": 0}, {"patience": -1}, {"patience": 1.5},
                                    {"patience": 2, "min_delta": -0.1}])
def test_early_stopping_rejects_bad_settings(kwargs):
    with pytest.raises(ValueError, match="EarlyStopping"):
        EarlyStopping(**kwargs)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "0.3", None])
def test_early_stopping_rejects_non_finite_loss(bad):
    with pytest.raises(ValueError, match="finite"):
        EarlyStopping(patience=2).should_stop(bad)


# ----------------------------------------------------------------------------------------------
# fit
# ----------------------------------------------------------------------------------------------

@pytest.fixture
def blobs():
    X, y = data.make_blobs(300, centers=3, noise=1.0, seed=0)
    return data.train_test_split(X, y, 0.3, seed=0, stratify=True)


def test_fit_learns_separable_blobs(blobs):
    X_train, X_val, y_train, y_val = blobs
    model = mlp([2, 16, 3])
    history = fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), X_train, y_train,
                  epochs=30, batch_size=16, X_val=X_val, y_val=y_val, progress=False, rng=0)
    assert isinstance(history, History)
    assert history.epochs == list(range(1, 31))
    for curve in (history.train_loss, history.val_loss, history.train_acc, history.val_acc):
        assert len(curve) == 30 and all(isinstance(value, float) for value in curve)
    assert history.train_acc[-1] > 0.95 and history.val_acc[-1] > 0.95
    assert history.train_loss[-1] < 0.5 * history.train_loss[0]
    assert not history.stopped_early
    assert history.best_epoch == 1 + int(np.argmin(history.val_loss))
    assert model.training  # left in train mode


def test_fit_without_validation(blobs):
    X_train, _, y_train, _ = blobs
    model = mlp([2, 8, 3])
    history = fit(model, CrossEntropyLoss(), Adam(model.parameters(), lr=0.01), X_train, y_train,
                  epochs=3, batch_size=32, progress=False, rng=0)
    assert len(history.train_loss) == len(history.train_acc) == 3
    assert history.val_loss == [] and history.val_acc == [] and history.best_epoch is None


def test_fit_train_loss_is_the_mean_over_samples():
    # With lr=0 the parameters never move, so the epoch's loss, averaged over batches of 4, 4 and 2
    # weighted by their size, is the loss of the whole set in one batch.
    X, y = data.make_blobs(10, centers=3, seed=1)
    model = mlp([2, 5, 3])
    loss = CrossEntropyLoss()
    history = fit(model, loss, SGD(model.parameters(), lr=0.0), X, y, epochs=2, batch_size=4,
                  progress=False, rng=0)
    full_batch_scores = model.forward(X)
    assert history.train_loss[0] == pytest.approx(loss.forward(full_batch_scores, y), rel=1e-12)
    assert history.train_loss[1] == pytest.approx(history.train_loss[0], rel=1e-12)
    expected_acc = np.mean(full_batch_scores.argmax(axis=1) == y)
    assert history.train_acc[0] == pytest.approx(expected_acc)


class CountingSGD(SGD):
    def __init__(self, params, lr):
        super().__init__(params, lr)
        self.steps = 0

    def step(self):
        self.steps += 1
        super().step()


@pytest.mark.parametrize("n_samples, batch_size, steps_per_epoch", [(10, 4, 3), (10, 10, 1),
                                                                   (10, 64, 1), (9, 1, 9)])
def test_fit_takes_one_step_per_minibatch(n_samples, batch_size, steps_per_epoch):
    X, y = data.make_blobs(n_samples, seed=0)
    model = mlp([2, 4, 2])
    optimizer = CountingSGD(model.parameters(), lr=0.01)
    fit(model, CrossEntropyLoss(), optimizer, X, y, epochs=3, batch_size=batch_size,
        progress=False, rng=0)
    assert optimizer.steps == 3 * steps_per_epoch


class ModeSpy(Module):
    """Wraps a model and records the training flag and batch size of every forward call."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.calls = []

    def forward(self, x):
        self.calls.append((self.training, len(x)))
        return self.inner.forward(x)

    def backward(self, grad_out):
        assert self.training, "backward called in eval mode"
        return self.inner.backward(grad_out)

    def parameters(self):
        return self.inner.parameters()

    def train(self, mode=True):
        self.inner.train(mode)
        return super().train(mode)


def test_fit_trains_in_train_mode_and_validates_in_eval_mode():
    X, y = data.make_blobs(20, seed=0)
    X_val, y_val = data.make_blobs(7, seed=1)
    spy = ModeSpy(mlp([2, 4, 2]))
    spy.eval()
    fit(spy, CrossEntropyLoss(), SGD(spy.parameters(), lr=0.1), X, y, epochs=2, batch_size=8,
        X_val=X_val, y_val=y_val, progress=False, rng=0)
    # per epoch: three training batches (8, 8, 4) in train mode, then the validation set in eval mode
    assert spy.calls == [(True, 8), (True, 8), (True, 4), (False, 7)] * 2
    assert spy.training and spy.inner.training


def test_fit_is_reproducible_with_rng():
    X, y = data.make_moons(60, noise=0.2, seed=0)
    histories = []
    for _ in range(2):
        model = mlp([2, 8, 2], seed=3)
        histories.append(fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), X, y,
                             epochs=4, batch_size=8, progress=False, rng=7))
    assert histories[0].train_loss == histories[1].train_loss
    model = mlp([2, 8, 2], seed=3)
    other = fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), X, y, epochs=4,
                batch_size=8, progress=False, rng=8)
    assert other.train_loss != histories[0].train_loss  # another shuffling order


def test_fit_early_stopping_on_a_plateau():
    # lr=0: the validation loss is the same every epoch, so it never improves after epoch 1
    X, y = data.make_blobs(40, seed=0)
    model = mlp([2, 4, 2])
    history = fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.0), X, y, epochs=50,
                  batch_size=10, X_val=X, y_val=y, patience=3, progress=False, rng=0)
    assert history.stopped_early
    assert history.epochs == [1, 2, 3, 4]
    assert history.best_epoch == 1
    assert len(history.val_loss) == len(history.train_loss) == 4


def test_fit_early_stopping_when_overfitting():
    # 20 noisy training points, a large network: the training loss keeps falling while the
    # validation loss rises, and early stopping ends the run long before 500 epochs.
    X, y = data.make_blobs(20, noise=2.0, radius=1.0, seed=3)
    X_val, y_val = data.make_blobs(500, noise=2.0, radius=1.0, seed=103)
    model = mlp([2, 64, 64, 2], seed=3)
    history = fit(model, CrossEntropyLoss(), Adam(model.parameters(), lr=0.01), X, y, epochs=500,
                  batch_size=20, X_val=X_val, y_val=y_val, patience=20, progress=False, rng=0)
    assert history.stopped_early
    assert len(history.epochs) == history.best_epoch + 20 < 500
    best = history.best_epoch - 1
    assert history.train_loss[-1] < history.train_loss[best]
    assert history.val_loss[-1] > history.val_loss[best]


def test_fit_no_early_stop_while_improving(blobs):
    X_train, X_val, y_train, y_val = blobs
    model = mlp([2, 16, 3])
    history = fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.05), X_train, y_train,
                  epochs=5, batch_size=32, X_val=X_val, y_val=y_val, patience=2, progress=False,
                  rng=0)
    assert not history.stopped_early and len(history) == 5


def test_fit_regression_records_no_accuracy():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    y = X @ np.array([[1.0], [-2.0], [0.5]]) + 0.3
    model = Linear(3, 1, rng=0)
    history = fit(model, MSELoss(), SGD(model.parameters(), lr=0.1), X, y, epochs=40,
                  batch_size=10, X_val=X, y_val=y, progress=False, rng=0)
    assert history.train_acc == [] and history.val_acc == []
    assert history.val_loss[-1] < 1e-3
    axes = history.plot()
    assert len(axes) == 1 and len(axes[0].get_lines()) == 2


def test_fit_binary_classification_with_bce():
    X, y = data.make_circles(200, noise=0.05, seed=0)
    targets = y[:, None].astype(np.float64)
    model = Sequential(Linear(2, 16, rng=0), ReLU(), Linear(16, 1, rng=1), Sigmoid())
    history = fit(model, BCELoss(), Adam(model.parameters(), lr=0.02), X, targets, epochs=60,
                  batch_size=32, X_val=X, y_val=targets, progress=False, rng=0)
    assert len(history.train_acc) == len(history.val_acc) == 60
    assert all(0.0 <= acc <= 1.0 for acc in history.train_acc + history.val_acc)
    assert history.val_acc[-1] > 0.95


def test_fit_classification_by_attribute():
    class MyCrossEntropy(CrossEntropyLoss):  # a name fit does not know
        classification = True

    class PlainCrossEntropy(CrossEntropyLoss):
        classification = False

    X, y = data.make_blobs(20, seed=0)
    for loss, n_acc in ((MyCrossEntropy(), 2), (PlainCrossEntropy(), 0)):
        model = Linear(2, 2, rng=0)
        history = fit(model, loss, SGD(model.parameters(), lr=0.1), X, y, epochs=2, batch_size=5,
                      progress=False, rng=0)
        assert len(history.train_acc) == n_acc


def test_fit_diverging_raises():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(32, 2)) * 10
    y = rng.normal(size=(32, 1))
    model = Linear(2, 1, rng=0)
    with np.errstate(all="ignore"), pytest.raises(FloatingPointError,
                                                  match=r"diverged at epoch \d+.*learning rate"):
        fit(model, MSELoss(), SGD(model.parameters(), lr=10.0), X, y, epochs=200, batch_size=8,
            progress=False, rng=0)
    assert model.training


def test_fit_progress_bar_shows_losses(capsys):
    X, y = data.make_blobs(20, seed=0)
    model = mlp([2, 4, 2])
    fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), X, y, epochs=2, batch_size=5,
        X_val=X, y_val=y, progress=True, rng=0)
    err = capsys.readouterr().err
    assert "2/2" in err and "loss=" in err and "val_loss=" in err
    fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), X, y, epochs=2, batch_size=5,
        progress=False, rng=0)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("change, match", [
    ({"y": np.zeros(9, dtype=int)}, r"\(10, 2\).*\(9,\)"),
    ({"epochs": 0}, "epochs"),
    ({"epochs": 2.0}, "epochs"),
    ({"batch_size": 0}, "batch_size"),
    ({"batch_size": None}, "batch_size"),
    ({"X_val": np.zeros((3, 2))}, "X_val and y_val"),
    ({"X_val": np.zeros((3, 2)), "y_val": np.zeros(2, dtype=int)}, r"\(3, 2\).*\(2,\)"),
    ({"patience": 2}, "validation"),
    ({"X": np.zeros((0, 2)), "y": np.zeros(0, dtype=int)}, "empty"),
])
def test_fit_rejects_bad_input(change, match):
    model = mlp([2, 3, 2])
    arguments = dict(model=model, loss=CrossEntropyLoss(), optimizer=SGD(model.parameters(), lr=0.1),
                     X=np.zeros((10, 2)), y=np.zeros(10, dtype=int), epochs=1, batch_size=4,
                     progress=False)
    arguments.update(change)
    with pytest.raises(ValueError, match=match):
        fit(**arguments)


def test_fit_surfaces_a_stub_instead_of_silently_training_differently(monkeypatch):
    # In the editions before unit 07, iterate_minibatches is a stub: fit must say so, not quietly
    # fall back to another way of training (nor warn on stderr, which fails an nbgrader cell).
    def stub(*args, **kwargs):
        raise NotImplementedError("iterate_minibatches: implement this in exercise 07_optimizers")

    monkeypatch.setattr(train, "iterate_minibatches", stub)
    X, y = data.make_blobs(30, seed=0)
    model = mlp([2, 4, 2])
    with pytest.raises(NotImplementedError, match="exercise 07_optimizers"):
        fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), X, y, epochs=3,
            batch_size=4, progress=False, rng=0)


# ----------------------------------------------------------------------------------------------
# History
# ----------------------------------------------------------------------------------------------

def filled_history(with_accuracy=True, stopped_early=False):
    history = History()
    history.epochs = [1, 2, 3, 4]
    history.train_loss = [1.0, 0.6, 0.4, 0.3]
    history.val_loss = [1.1, 0.7, 0.65, 0.7]
    if with_accuracy:
        history.train_acc = [0.5, 0.7, 0.8, 0.9]
        history.val_acc = [0.5, 0.65, 0.7, 0.7]
    history.stopped_early = stopped_early
    return history


def test_history_best_epoch():
    assert filled_history().best_epoch == 3
    assert History().best_epoch is None
    assert "4 epochs" in repr(filled_history())


def test_history_plot_draws_loss_and_accuracy():
    axes = filled_history(stopped_early=True).plot()
    assert len(axes) == 2
    loss_ax, acc_ax = axes
    loss_lines = loss_ax.get_lines()
    assert len(loss_lines) == 3  # train, validation and the best-epoch marker
    np.testing.assert_array_equal(loss_lines[0].get_ydata(), [1.0, 0.6, 0.4, 0.3])
    np.testing.assert_array_equal(loss_lines[1].get_ydata(), [1.1, 0.7, 0.65, 0.7])
    np.testing.assert_array_equal(loss_lines[2].get_xdata(), [3, 3])
    assert len(acc_ax.get_lines()) == 2
    assert loss_ax.figure is acc_ax.figure and loss_ax is not acc_ax
    assert loss_ax.get_legend() is not None


def test_history_plot_into_given_axes():
    _, ax = plt.subplots()
    axes = filled_history().plot(ax=ax)
    assert axes[0] is ax and len(axes) == 2 and axes[1] is not ax  # accuracy on a twin axis
    assert len(ax.get_lines()) == 2 and len(axes[1].get_lines()) == 2
    _, pair = plt.subplots(1, 2)
    axes = filled_history().plot(ax=pair)
    assert axes[0] is pair[0] and axes[1] is pair[1]
    _, ax = plt.subplots()
    axes = filled_history(with_accuracy=False).plot(ax=ax)
    assert axes == [ax]


def test_history_plot_of_fit(blobs):
    X_train, X_val, y_train, y_val = blobs
    model = mlp([2, 8, 3])
    history = fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), X_train, y_train,
                  epochs=3, batch_size=32, X_val=X_val, y_val=y_val, progress=False, rng=0)
    loss_ax, acc_ax = history.plot()
    assert len(loss_ax.get_lines()) == 2 and len(acc_ax.get_lines()) == 2
    np.testing.assert_array_equal(acc_ax.get_lines()[1].get_ydata(), history.val_acc)
