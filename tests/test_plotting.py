"""Tests of nncourse.plotting: every helper draws something on small inputs and returns what it drew on."""
import matplotlib

matplotlib.use("Agg")  # before pyplot is imported anywhere: no windows in tests

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from nncourse import plotting  # noqa: E402
from nnlib.data import make_blobs, make_moons  # noqa: E402
from nnlib.metrics import confusion_matrix  # noqa: E402
from nnlib.train import History  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture
def moons():
    return make_moons(40, noise=0.1, seed=0)


def test_plot_dataset_one_scatter_per_class(moons):
    X, y = moons
    ax = plotting.plot_dataset(X, y)
    assert isinstance(ax, Axes)
    assert len(ax.collections) == 2
    np.testing.assert_allclose(ax.collections[0].get_offsets(), X[y == 0])
    assert ax.get_legend() is not None


def test_plot_dataset_into_given_axes_without_labels(moons):
    X, _ = moons
    _, ax = plt.subplots()
    assert plotting.plot_dataset(X, ax=ax) is ax
    assert len(ax.collections) == 1 and len(ax.collections[0].get_offsets()) == 40


def test_a_few_points_are_drawn_large_and_many_small():
    # The four corners of AND and XOR in exercise 01's boundary plots are dots to see, not specks.
    corners = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    ax = plotting.plot_decision_boundary(lambda P: (P.sum(axis=1) > 1.5).astype(int), corners,
                                         np.array([0, 0, 0, 1]), resolution=20)
    points = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert sum(len(c.get_offsets()) for c in points) == 4
    assert all(np.all(c.get_sizes() >= 100) for c in points)
    X = np.zeros((500, 2))
    assert plotting.plot_dataset(X).collections[0].get_sizes()[0] == 20
    assert plotting.plot_dataset(X[:4], s=5).collections[0].get_sizes()[0] == 5


def test_plot_dataset_rejects_bad_shapes():
    with pytest.raises(ValueError, match=r"\(N, 2\).*\(5, 3\)"):
        plotting.plot_dataset(np.zeros((5, 3)))
    with pytest.raises(ValueError, match="labels"):
        plotting.plot_dataset(np.zeros((5, 2)), np.zeros(4, dtype=int))


@pytest.mark.parametrize("kind", ["scores", "probabilities", "probability_column", "labels"])
def test_plot_decision_boundary_for_each_kind_of_output(moons, kind):
    X, y = moons

    def predict(points):
        margin = points[:, 0] + points[:, 1] - 0.5
        if kind == "scores":
            return np.column_stack([-margin, margin])
        probability = 1 / (1 + np.exp(-4 * margin))
        if kind == "probabilities":
            return probability
        if kind == "probability_column":
            return probability[:, None]
        return (margin > 0).astype(int)

    _, ax = plt.subplots()
    assert plotting.plot_decision_boundary(predict, X, y, ax=ax, resolution=30) is ax
    # a filled contour for the regions, then one scatter per class on top
    assert len(ax.collections) >= 3
    assert ax.get_xlim() == pytest.approx((X[:, 0].min() - 0.5, X[:, 0].max() + 0.5))
    if kind.startswith("probabilit"):
        assert len(ax.collections) == 4  # the shading, the 0.5 contour line, two scatters


def test_plot_decision_boundary_calls_predict_on_the_grid(moons):
    X, y = moons
    seen = []

    def predict(points):
        seen.append(points.copy())
        return np.zeros((len(points), 3))

    ax = plotting.plot_decision_boundary(predict, X, y, resolution=17, padding=1.0)
    assert isinstance(ax, Axes)
    assert len(seen) == 1 and seen[0].shape == (17 * 17, 2)
    assert seen[0][:, 0].min() == pytest.approx(X[:, 0].min() - 1.0)
    assert seen[0][:, 1].max() == pytest.approx(X[:, 1].max() + 1.0)


def test_plot_decision_boundary_multiclass():
    X, y = make_blobs(30, centers=4, seed=0)
    centres = np.array([X[y == k].mean(axis=0) for k in range(4)])

    def predict(points):
        return -np.linalg.norm(points[:, None] - centres[None], axis=-1)  # nearest centre

    ax = plotting.plot_decision_boundary(predict, X, y, resolution=25)
    assert len(ax.collections) == 1 + 4


def test_plot_decision_boundary_rejects_wrong_output(moons):
    X, y = moons
    with pytest.raises(ValueError, match="rows"):
        plotting.plot_decision_boundary(lambda points: np.zeros(3), X, y, resolution=10)
    with pytest.raises(ValueError, match="raw scores"):
        plotting.plot_decision_boundary(lambda points: points[:, 0] * 3.3, X, y, resolution=10)


def test_plot_history_delegates_to_history_plot():
    history = History()
    history.epochs = [1, 2, 3]
    history.train_loss = [1.0, 0.5, 0.4]
    history.val_loss = [1.2, 0.8, 0.9]
    axes = plotting.plot_history(history)
    assert len(axes) == 1 and len(axes[0].get_lines()) == 2


@pytest.mark.parametrize("shape", [(12, 64), (12, 8, 8), (12, 1, 8, 8)])
def test_show_images_accepts_flat_and_square_images(shape):
    images = np.random.default_rng(0).uniform(size=shape)
    fig = plotting.show_images(images, ncols=5)
    assert isinstance(fig, Figure)
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert len(shown) == 12 and len(fig.axes) == 15  # 3 rows of 5, the last 3 cells hidden
    assert all(len(ax.images) == 1 and ax.images[0].get_array().shape == (8, 8) for ax in shown)
    np.testing.assert_allclose(shown[3].images[0].get_array(), images[3].reshape(8, 8))


def test_show_images_titles_mark_wrong_predictions():
    images = np.zeros((3, 16))
    fig = plotting.show_images(images, labels=[1, 2, 3], predictions=[1, 5, 3])
    titles = [ax.title for ax in fig.axes]
    assert [t.get_text() for t in titles] == ["1", "5 (2)", "3"]
    assert titles[1].get_color() == "red" and titles[0].get_color() == "green"
    fig = plotting.show_images(images, labels=[7, 8, 9])
    assert [ax.get_title() for ax in fig.axes] == ["7", "8", "9"]


def test_show_images_rejects_bad_input():
    with pytest.raises(ValueError, match="shape"):
        plotting.show_images(np.zeros((2, 10)))
    with pytest.raises(ValueError, match="labels"):
        plotting.show_images(np.zeros((2, 4)), labels=[1])
    fig = plotting.show_images(np.zeros((2, 10)), shape=(2, 5))
    assert fig.axes[0].images[0].get_array().shape == (2, 5)


def test_plot_confusion_matrix_draws_every_count():
    cm = confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2])
    ax = plotting.plot_confusion_matrix(cm)
    assert isinstance(ax, Axes) and len(ax.images) == 1
    texts = [text.get_text() for text in ax.texts]
    assert len(texts) == 9
    assert texts[0] == "1" and texts[8] == "2"  # cm[0, 0] and cm[2, 2]
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    _, ax = plt.subplots()
    assert plotting.plot_confusion_matrix(cm, ax=ax, normalize=True, class_names="abc") is ax
    assert ax.texts[0].get_text() == "0.50"


def test_plot_confusion_matrix_rejects_non_square():
    with pytest.raises(ValueError, match="square"):
        plotting.plot_confusion_matrix(np.zeros((2, 3)))


def test_show_weights_as_images_one_image_per_unit():
    W = np.random.default_rng(0).normal(size=(64, 6))
    fig = plotting.show_weights_as_images(W, ncols=4)
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert len(shown) == 6
    np.testing.assert_allclose(shown[2].images[0].get_array(), W[:, 2].reshape(8, 8))
    low, high = shown[2].images[0].get_clim()
    assert low == -high  # symmetric colour scale: 0 is white
    with pytest.raises(ValueError, match=r"\(64, n_units\)"):
        plotting.show_weights_as_images(np.zeros((6, 64)))


def test_plot_loss_surface_with_paths():
    def f(points):
        return points[:, 0] ** 2 + 10 * points[:, 1] ** 2

    path = np.array([[1.5, 1.0], [1.0, 0.2], [0.5, 0.05], [0.0, 0.0]])
    ax = plotting.plot_loss_surface(f, ax=None, resolution=20, paths={"SGD": path}, log=True)
    assert isinstance(ax, Axes)
    assert len(ax.collections) >= 1
    np.testing.assert_array_equal(ax.get_lines()[0].get_xydata(), path)
    with pytest.raises(ValueError, match="values"):
        plotting.plot_loss_surface(lambda points: np.zeros(3), resolution=10)


def test_no_function_calls_show(monkeypatch, moons):
    def fail():
        raise AssertionError("plt.show called")

    monkeypatch.setattr(plt, "show", fail)
    X, y = moons
    plotting.plot_dataset(X, y)
    plotting.plot_decision_boundary(lambda points: points[:, :1] > 0, X, y, resolution=10)
    plotting.show_images(np.zeros((2, 4)))
    plotting.plot_confusion_matrix(np.eye(2))
    plotting.show_weights_as_images(np.ones((4, 2)), shape=(2, 2))
