"""The unit-04 widget: gradient descent on one logistic unit's loss surface, per learning rate."""
import io
from pathlib import Path

import ipywidgets
import numpy as np
import pytest
from PIL import Image

from autograder.editions import units_to_stub
from autograder.regions import find_regions
from nnlib.logistic import LogisticRegression
from nncourse.widgets import gradients
from nncourse.widgets.gradients import LearningRateExplorer, benchmark_case

REPO = Path(__file__).resolve().parents[1]
REFERENCE_DIR = REPO / "nnlib"

UNIT = "04_single_layer_gradients"


@pytest.fixture(scope="module")
def explorer():
    return LearningRateExplorer()


def pixels(png):
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def centred_gradient(explorer, params, h=1e-6):
    w, b = params
    return np.array([explorer.loss(w + h, b) - explorer.loss(w - h, b),
                     explorer.loss(w, b + h) - explorer.loss(w, b - h)]) / (2 * h)


def test_update_redraws_the_path_the_loss_curve_and_the_unit(explorer):
    explorer.update(lr=0.03)
    slow = explorer.path_line.get_xydata().copy()
    slow_losses = np.array(explorer.loss_line.get_ydata(), dtype=float)
    slow_curve = np.array(explorer.curve_line.get_ydata(), dtype=float)
    slow_png = explorer.png
    explorer.update(lr=1.0)
    fast = explorer.path_line.get_xydata()
    assert slow.shape == fast.shape == (explorer.steps + 1, 2)
    assert np.allclose(slow[0], explorer.start) and np.allclose(fast[0], explorer.start)
    start_distance = np.linalg.norm(explorer.start - explorer.minimum)
    assert np.linalg.norm(fast[-1] - explorer.minimum) < 0.05 * start_distance
    assert np.linalg.norm(slow[-1] - explorer.minimum) > 0.5 * start_distance
    assert np.allclose(explorer.loss_line.get_ydata(), explorer.losses)
    assert not np.allclose(explorer.loss_line.get_ydata(), slow_losses)
    assert not np.allclose(explorer.curve_line.get_ydata(), slow_curve)
    assert explorer.surface_title.get_text().startswith("learning rate 1,")
    assert not np.array_equal(pixels(explorer.png), pixels(slow_png))


def test_each_point_is_one_gradient_step_from_the_last(explorer):
    lr = 0.7
    explorer.update(lr=lr)
    points = explorer.path_line.get_xydata()
    for k in (0, 1, 10, explorer.steps - 1):
        expected = points[k] - lr * centred_gradient(explorer, points[k])
        assert np.allclose(points[k + 1], expected, rtol=1e-6, atol=1e-8)
    assert np.allclose(explorer.losses, explorer.loss(points[:, 0], points[:, 1]))


def test_the_minimum_is_where_the_gradient_vanishes(explorer):
    assert np.allclose(centred_gradient(explorer, explorer.minimum), 0.0, atol=1e-7)
    assert explorer.min_loss == pytest.approx(float(explorer.loss(*explorer.minimum)))
    w, b = np.meshgrid(np.linspace(-3, 6, 91), np.linspace(-4, 4, 81))
    assert explorer.loss(w, b).min() >= explorer.min_loss - 1e-12


@pytest.mark.parametrize("lr, regime, phrase", [
    (0.03, "small", "too small"), (0.3, "small", "only 76% of the way to"), (1.0, "right", "about right"),
    (20.0, "large", "too large")])
def test_the_three_regimes_are_named(explorer, lr, regime, phrase):
    explorer.update(lr=lr)
    assert explorer.regime == regime
    assert phrase in explorer.regime_text.get_text()


def test_a_too_large_rate_makes_the_loss_go_up(explorer):
    explorer.update(lr=20.0)
    assert np.any(np.diff(explorer.losses) > 0.1)
    assert "leaves the plot" in explorer.surface_title.get_text()
    bottom, top = explorer.ax_loss.get_ylim()
    assert bottom <= explorer.losses.min() and explorer.losses.max() <= top


def test_fast_redraws_draw_the_same_picture_as_a_fresh_figure():
    explorer = LearningRateExplorer(lr=1.0)
    background = explorer._background
    for lr in (0.1, 3.0, 0.05):  # the loss axis is kept: only the changing artists are redrawn
        explorer.update(lr=lr)
    assert explorer._background is background
    fresh = LearningRateExplorer(lr=0.05)
    assert np.array_equal(pixels(explorer.png), pixels(fresh.png))


def test_the_widget_builds_without_a_display_and_its_controls_drive_update():
    explorer = LearningRateExplorer()
    box = explorer.widget()
    assert isinstance(box, ipywidgets.VBox)
    controls, image = box.children
    slider = next(child for child in controls.children if isinstance(child, ipywidgets.FloatLogSlider))
    assert "learning rate" in slider.description
    assert 10 ** slider.min <= 0.01 and 10 ** slider.max >= 20 and slider.value == explorer.lr
    assert isinstance(image, ipywidgets.Image) and bytes(image.value).startswith(b"\x89PNG")
    before = image.value
    slider.value = 20.0
    assert explorer.lr == pytest.approx(20.0) and explorer.regime == "large"
    assert bytes(image.value) != bytes(before)
    buttons = [child for child in controls.children if isinstance(child, ipywidgets.Button)]
    assert [button.description.split(" (")[0] for button in buttons] == [
        "too small", "about right", "too large"]
    buttons[0].click()
    assert slider.value == pytest.approx(0.03) and explorer.regime == "small"


def test_the_figure_shows_in_a_notebook_as_png(explorer):
    assert explorer._repr_png_().startswith(b"\x89PNG")


def test_a_students_model_drives_the_path():
    model = LogisticRegression(1)
    weights = model.w
    own, students = LearningRateExplorer(lr=1.0), LearningRateExplorer(model, lr=1.0)
    assert np.allclose(students.points, own.points, atol=1e-6)
    assert np.allclose(students.losses, own.losses, atol=1e-8)
    assert np.array_equal(model.w, [0.0]) and model.b == 0.0  # the model is left as it was
    assert model.w is weights


class ZeroWeightGradient(LogisticRegression):
    def loss_and_gradients(self, X, t):
        loss, dw, db = super().loss_and_gradients(X, t)
        return loss, 0 * dw, db


class NanLoss(LogisticRegression):
    def loss_and_gradients(self, X, t):
        return float("nan"), np.zeros(1), 0.0


class Stub(LogisticRegression):
    def loss_and_gradients(self, X, t):
        raise NotImplementedError("loss_and_gradients: implement this in exercise 04")


def test_a_wrong_gradient_shows_in_the_path():
    explorer = LearningRateExplorer(ZeroWeightGradient(1), lr=1.0)
    assert np.allclose(explorer.points[:, 0], explorer.start[0])
    assert explorer.regime != "right"


def test_a_nan_loss_stops_the_path_with_a_message():
    explorer = LearningRateExplorer(NanLoss(1))
    assert explorer.regime == "broken" and "nan" in explorer.regime_text.get_text()


def test_a_stub_raises_for_the_notebook_to_report():
    with pytest.raises(NotImplementedError, match="exercise 04"):
        LearningRateExplorer(Stub(1))


@pytest.mark.parametrize("kwargs", [{"model": LogisticRegression(2)}, {"steps": 0}, {"lr": -1.0}])
def test_bad_arguments_are_refused(kwargs):
    with pytest.raises(ValueError, match="LearningRateExplorer"):
        LearningRateExplorer(**kwargs)


def test_benchmark_case_moves_the_learning_rate_through_the_regimes():
    # Its latency is measured, with the 150 ms target, by benchmarks/bench_widgets.py.
    explorer, cases = benchmark_case()
    assert cases and all(set(case) == {"lr"} for case in cases)
    assert {LearningRateExplorer(lr=case["lr"]).regime for case in cases[::2]} >= {"small", "large"}


def test_the_widget_holds_no_code_of_a_graded_function():
    # The widget runs in the lecture of unit 04, whose students can read it: it must not give away
    # any code of unit 04 or later.
    widget_source = Path(gradients.__file__).read_text()
    found = []
    for path in REFERENCE_DIR.rglob("*.py"):
        lines = path.read_text().splitlines()
        for region in find_regions(path.read_text(), str(path)):
            if region.unit in units_to_stub(UNIT):
                for line in lines[region.begin:region.end - 1]:
                    code = line.split("  #")[0].strip()  # without a trailing comment
                    if len(code) >= 16 and not code.startswith("#") and code in widget_source:
                        found.append(f"{region.qualname}: {code}")
    assert found == []


def test_the_regimes_change_where_the_curvature_says(explorer):
    # Gradient descent can settle at a minimum only if lr < 2 / (largest eigenvalue of the Hessian).
    h = 1e-4
    hessian = np.column_stack([
        (centred_gradient(explorer, explorer.minimum + h * e)
         - centred_gradient(explorer, explorer.minimum - h * e)) / (2 * h) for e in np.eye(2)])
    limit = 2 / np.linalg.eigvalsh(0.5 * (hessian + hessian.T)).max()
    assert explorer.classify(*explorer.path(0.95 * limit))[0] in ("right", "zigzag")
    assert explorer.classify(*explorer.path(1.05 * limit))[0] == "large"
