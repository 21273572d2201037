"""The playground: it learns (two classes or a surface), on the input features chosen, with a width
per hidden layer; it reproduces a run from its config, explains a student's broken layer, stops a
diverging run with a message, draws its weights as edges, enlarges a neuron, keeps the notebook
responsive while it plays, and its penalty gradients are right."""
import io
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import PIL.Image
import pytest

from nnlib.gradcheck import numerical_gradient, rel_error
from nnlib.layers import Linear
from nnlib.losses import MSELoss
from nncourse.widgets.playground import (CLASSIFICATION, FEATURES, REGRESSION, Playground,
                                         benchmark_case, feature_matrix, make_playground_data,
                                         regression_target)

REPO = Path(__file__).resolve().parents[1]


def weights(playground):
    return [param.copy() for param, _ in playground.model.parameters()]


@pytest.mark.parametrize("dataset", CLASSIFICATION)
def test_data_sets_fill_the_square_with_two_balanced_classes(dataset):
    X, y = make_playground_data(dataset, 400, noise=0.1, seed=3)
    assert X.shape == (400, 2) and y.shape == (400,)
    assert set(np.unique(y)) == {0, 1} and 0.4 <= y.mean() <= 0.6
    assert np.all(np.abs(X) < 2.0 + 0.5)


@pytest.mark.parametrize("dataset", REGRESSION)
def test_regression_data_sets_are_a_surface_in_minus_one_to_one(dataset):
    X, y = make_playground_data(dataset, 400, noise=0.0, seed=3)
    assert X.shape == (400, 2) and y.shape == (400,) and y.dtype == np.float64
    assert np.all(np.abs(y) <= 1.0) and y.min() < -0.4 and y.max() > 0.4  # both signs, spread
    np.testing.assert_allclose(y, regression_target(dataset, X))
    assert np.all(np.abs(X) < 2.0)


@pytest.mark.parametrize("dataset", REGRESSION)
def test_a_surface_is_fitted_with_a_linear_output_and_squared_error(dataset):
    playground = Playground(dataset=dataset, noise=0.0, hidden=[8, 8], learning_rate=0.03, seed=2)
    assert isinstance(playground.loss, MSELoss)
    assert type(playground.model.layers[-1]).__name__ == "Linear"  # no Sigmoid: values in [-1, 1]
    start = playground.summary()["train_loss"]
    end = playground.step(3000)
    assert end["problem"] == ""
    assert end["train_loss"] < start / 4 and end["test_loss"] < start / 3
    # It explains most of the surface's variance on the test points, and has its bumps' signs.
    assert end["test_loss"] < 0.3 * np.var(playground.y_test)
    ticks = np.linspace(-1.6, 1.6, 9)
    grid = np.column_stack([g.ravel() for g in np.meshgrid(ticks, ticks)])
    target = regression_target(dataset, grid)
    clear = np.abs(target) > 0.4  # where the surface is clearly up or down
    fitted = playground.model.forward(grid[clear])[:, 0]
    assert clear.sum() >= 10 and np.mean(np.sign(fitted) == np.sign(target[clear])) >= 0.9
    # The output over the plane is drawn from -1 (orange) to 1 (blue), the points by their value.
    assert playground.artists["boundary"].get_clim() == (-1, 1)
    assert playground.artists["train values"].get_visible()
    assert not playground.artists["train points 0"].get_visible()
    assert "mean squared error" in playground.axes["curves"].get_ylabel()


def test_input_features_are_what_the_first_layer_sees():
    playground = Playground(dataset="circle", noise=0.0, hidden=[], features=["x1^2", "x2^2"],
                            learning_rate=0.3, seed=1)
    assert playground.model.layers[0].params["W"].shape == (2, 1)
    X = playground.X_train
    np.testing.assert_allclose(playground.F_train, X ** 2)
    # x1^2 and x2^2 make the circle separable by one logistic unit; x1 and x2 do not.
    assert playground.step(2000)["train_loss"] < 0.2
    linear = Playground(dataset="circle", noise=0.0, hidden=[], learning_rate=0.3, seed=1)
    assert linear.step(2000)["train_loss"] > 0.6
    every = Playground(hidden=[3], features=list(FEATURES)[::-1])
    assert every.config["features"] == list(FEATURES)  # kept in the order of the figure
    assert every.model.layers[0].params["W"].shape == (7, 3)
    x = np.array([[0.5, -2.0]])
    np.testing.assert_allclose(feature_matrix(every.settings["features"], x),
                               [[0.5, -2.0, 0.25, 4.0, -1.0, np.sin(0.5), np.sin(-2.0)]])
    assert every.step(20)["problem"] == ""


def test_each_hidden_layer_has_its_own_width():
    playground = Playground(hidden=[6, 2, 5], features=["x1", "x2", "x1*x2"])
    shapes = [p.shape for p, _ in playground.model.parameters()]
    assert shapes == [(3, 6), (6,), (6, 2), (2,), (2, 5), (5,), (5, 1), (1,)]
    assert playground.step(10)["problem"] == ""
    # The network's picture: a column per layer, as tall as the widest (6 neurons).
    assert playground.artists["neurons"].get_array().shape == (6 * (18 + 4) - 4, 5 * (18 + 26) - 26)
    # One edge per weight: 3*6 + 6*2 + 2*5 + 5*1.
    assert len(playground.artists["edges"].get_segments()) == 18 + 12 + 10 + 5


def test_the_network_diagram_draws_each_weight_by_its_sign_and_size():
    playground = Playground(dataset="xor", hidden=[4, 3], learning_rate=0.3, seed=5)
    edges = playground.artists["edges"]
    weights = np.concatenate([playground.model.layers[i].params["W"].ravel() for i in (0, 2, 4)])
    colors, widths = np.array(edges.get_colors()), np.array(edges.get_linewidths())
    assert len(colors) == len(weights) == 2 * 4 + 4 * 3 + 3 * 1
    blue, orange = colors[:, 2] > colors[:, 0], colors[:, 0] > colors[:, 2]
    np.testing.assert_array_equal(blue, weights > 0)
    np.testing.assert_array_equal(orange, weights < 0)
    assert np.all(np.diff(widths[np.argsort(np.abs(weights))]) >= 0)  # thicker for larger weights
    playground.step(300)
    after = edges.get_colors()
    assert np.abs(after - colors).max() > 0.1, "the edges' colours did not follow the training"
    assert not np.array_equal(np.array(edges.get_linewidths()), widths)


def test_a_neuron_is_enlarged_in_place_of_the_output():
    playground = Playground(dataset="xor", hidden=[4, 3], learning_rate=0.3, seed=5)
    playground.step(200)
    output = playground.artists["boundary"].get_array().copy()
    names = [name for name, _ in playground.neurons()]
    assert names[:2] == ["input x\u2081", "input x\u2082"] and names[-1] == "output"
    assert "layer 2, neuron 3" in names
    playground.enlarge(1, 2)
    picture = playground.artists["boundary"].get_array()
    # The third neuron of the first hidden layer over the plane, scaled to [-1, 1].
    grid = playground._grid
    expected = np.tanh(grid @ playground.model.layers[0].params["W"][:, 2]
                       + playground.model.layers[0].params["b"][2])
    np.testing.assert_allclose(picture.ravel(), expected / np.abs(expected).max(), atol=1e-12)
    assert playground.artists["chosen"].get_visible()
    assert playground.axes["plane"].get_title() == "layer 1, neuron 3, enlarged"
    playground.enlarge(0, 1)  # an input: x2 itself
    np.testing.assert_allclose(playground.artists["boundary"].get_array().ravel(), grid[:, 1] / 2.0)
    playground.enlarge()
    np.testing.assert_allclose(playground.artists["boundary"].get_array(), output)
    assert not playground.artists["chosen"].get_visible()
    with pytest.raises(ValueError, match="no neuron 4 in layer 1"):
        playground.enlarge(1, 4)
    playground.enlarge(2, 0)
    playground.update(hidden=[2])  # that neuron is gone: the output again
    assert playground.enlarged is None


def test_circle_is_learned_and_its_boundary_is_the_circle():
    playground = Playground(dataset="circle", noise=0.0, hidden=[6, 4], learning_rate=0.3, seed=1)
    start = playground.summary()
    assert start["step"] == 0 and start["train_loss"] == pytest.approx(np.log(2), abs=0.1)
    end = playground.step(1500)
    assert end["problem"] == ""
    assert end["train_loss"] < 0.1 and end["test_loss"] < 0.15
    # The drawn boundary: blue (1) inside the inner circle, orange (0) on the outer ring.
    out = playground.model.forward(np.array([[0.0, 0.0], [1.6, 0.0], [0.0, -1.6], [0.3, 0.3]]))
    np.testing.assert_array_equal(out[:, 0] > 0.5, [True, False, False, True])
    boundary = playground.artists["boundary"].get_array()
    assert boundary[30, 30] > 0.5 and boundary[30, 0] < 0.5 and boundary[0, 30] < 0.5


def test_the_config_reproduces_a_run_step_for_step():
    first = Playground(dataset="xor", noise=0.2, hidden=[5], activation="relu", batch_size=7,
                       learning_rate=0.1, regularization="L2", regularization_rate=0.003,
                       optimizer="momentum", seed=11)
    first.step(40)
    config = first.config
    assert config["hidden"] == [5] and config["optimizer"] == "momentum"
    again = Playground(**config)
    again.step(40)
    for a, b in zip(weights(first), weights(again)):
        np.testing.assert_array_equal(a, b)
    assert first.summary() == again.summary()
    assert eval(repr(config)) == config  # printable and pasteable


def test_settings_that_change_the_network_restart_it_and_others_keep_training():
    playground = Playground(hidden=[4])
    playground.step(30)
    playground.update(learning_rate=0.1, batch_size=5, regularization="L1", regularization_rate=0.01)
    assert playground.steps == 30 and playground.optimizer.lr == 0.1
    playground.update(hidden=[3, 3])
    assert playground.steps == 0 and len(playground.history["step"]) == 1
    assert [p.shape for p, _ in playground.model.parameters()] == [(2, 3), (3,), (3, 3), (3,), (3, 1), (1,)]
    mosaic = playground.artists["neurons"].get_array()
    assert mosaic.shape[1] == 4 * (18 + 26) - 26  # inputs, two hidden layers, output


@pytest.mark.parametrize("settings, phrase", [
    ({"dataset": "moons"}, "dataset must be one of circle, xor, gaussian, spiral, plane, multigauss"),
    ({"features": []}, "features must be a non-empty list of x1, x2, x1^2"),
    ({"features": ["x3"]}, "features must be a non-empty list"),
    ({"hidden": [9]}, "hidden must be a list of at most 6 layer sizes from 1 to 8"),
    ({"noise": 2.0}, "noise must be a number from 0 to 0.5"),
    ({"batch_size": 0}, "batch_size must be a whole number >= 1"),
    ({"speed": 3}, "unknown settings ['speed']"),
])
def test_bad_settings_say_what_is_allowed(settings, phrase):
    with pytest.raises(ValueError) as error:
        Playground(**settings)
    assert phrase in str(error.value)


@pytest.mark.parametrize("kind", ["L1", "L2"])
def test_penalty_gradient_matches_centred_differences(kind):
    """The gradient the playground adds is that of rate * sum|W| (L1) or rate/2 * sum W^2 (L2)."""
    rate = 0.3
    playground = Playground(hidden=[3], regularization=kind, regularization_rate=rate, seed=4)
    layer = playground.model.layers[0]
    W = layer.params["W"]
    W[...] += 0.05 * np.sign(W)  # keep |W| away from the kink of L1 at 0
    layer.grads["W"][...] = 0.0
    playground._add_penalty_gradient()

    def penalty(values):
        return rate * np.abs(values).sum() if kind == "L1" else rate / 2 * np.sum(values ** 2)

    numeric = numerical_gradient(penalty, W)
    assert rel_error(layer.grads["W"], numeric) < 1e-7


def wait_for(condition, seconds=60):
    """Poll ``condition`` until it holds; False if it never does (a hang, not a slow machine)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_playing_trains_in_the_background_and_takes_slider_moves():
    # How fast a slider answers while it plays is measured by benchmarks/bench_playground.py.
    playground = Playground(hidden=[8, 8], learning_rate=0.1)
    before = playground.summary()["train_loss"]
    playground.play()
    try:
        assert wait_for(lambda: playground.steps >= 30), "no three frames trained in the background"
        for lr in (0.3, 0.1, 0.3):  # a slider moved while it plays
            playground.update(learning_rate=lr)
            assert playground.optimizer.lr == lr
        moved_at = playground.steps
        assert wait_for(lambda: playground.steps >= moved_at + 30), "training stopped after a move"
        assert playground.playing
    finally:
        playground.pause()
    assert not playground.playing and not playground._thread.is_alive()
    steps = playground.steps
    assert playground.summary()["train_loss"] < before
    time.sleep(0.2)
    assert playground.steps == steps  # paused means paused


@pytest.mark.parametrize("dataset, activation, why", [
    ("spiral", "tanh", "the training loss has stayed above"),  # confidently wrong, weights finite
    ("plane", "relu", "the weights became inf or nan"),
    ("multigauss", "tanh", "the weights grew past 10000"),
])
def test_a_diverging_run_stops_with_a_message(dataset, activation, why):
    playground = Playground(dataset=dataset, hidden=[8, 8, 8], activation=activation,
                            learning_rate=10.0)
    for _ in range(30):  # as Play trains: frames of 10 steps
        summary = playground.step(10)
        if summary["problem"]:
            break
    assert summary["problem"].startswith(f"Training diverged: {why}")
    assert "learning rate is too large" in summary["problem"] and "press Reset" in summary["problem"]
    stopped_at = summary["step"]
    assert stopped_at < 300 and playground.history["step"][-1] <= stopped_at
    assert np.all(np.isfinite(playground.history["train"]))  # the curves keep the last good state
    playground.play()
    assert not playground.playing  # nothing to play until Reset
    assert playground.step(10)["step"] == stopped_at
    pytest.importorskip("ipywidgets")
    box = playground.widget()
    assert "playground-problem" in box.readout.value and "Training diverged" in box.readout.value
    playground.update(learning_rate=0.03)
    box.buttons["reset"].click()
    assert playground.problem == "" and playground.step(50)["problem"] == ""


@pytest.mark.parametrize("settings", [
    {"dataset": "circle", "hidden": [4], "learning_rate": 1.0},
    {"dataset": "xor", "hidden": [8, 8], "learning_rate": 1.0, "optimizer": "Adam"},  # a spike to 2.2
    {"dataset": "plane", "hidden": [8, 8], "learning_rate": 1.0, "optimizer": "Adam", "activation": "relu"},
])
def test_a_sound_run_is_not_stopped(settings, monkeypatch):
    # Large learning rates that networks take: the loss may spike, but comes back down.
    playground = Playground(**settings)
    monkeypatch.setattr(playground, "_draw", lambda: None)  # the pictures are not in question here
    for _ in range(60):
        assert playground.step(10)["problem"] == ""
    assert playground.summary()["train_loss"] < 0.7


def run_on_edition(unit, code, tmp_path, *arguments):
    """Run ``code`` with the nnlib edition of ``unit`` (its own and later functions are stubs)."""
    from autograder.editions import write_edition

    write_edition(unit, tmp_path / unit)
    script = "import sys\nsys.path.insert(0, '.')\n" + textwrap.dedent(code)
    return subprocess.run([sys.executable, "-c", script, *arguments], cwd=tmp_path / unit,
                          capture_output=True, text=True, timeout=120,
                          env={"MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin"})


def test_a_students_missing_backward_is_named_instead_of_a_traceback(tmp_path):
    result = run_on_edition("05_backprop", """
        from nncourse.widgets.playground import Playground
        playground = Playground()
        summary = playground.step(5)
        print(summary["step"], "|", summary["problem"])
        playground.update(optimizer="Adam")
        print(playground.step(1)["problem"])
    """, tmp_path)
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.splitlines()
    assert first.startswith("0 |")
    assert "not implemented yet" in first and "backward" in first and "nnlib/" in first
    assert "Traceback" not in result.stdout + result.stderr
    assert "not implemented yet" in second


def test_the_playground_trains_on_the_nnlib_it_is_handed(tmp_path):
    # Handed the unit-05 edition (its backward passes are stubs) while the complete nnlib is the
    # one imported, it uses the edition; without nn= it takes the imported one.
    result = run_on_edition("05_backprop", """
        import importlib.util, sys
        sys.path.insert(0, sys.argv[1])  # the complete nnlib is the one imported
        import nnlib
        spec = importlib.util.spec_from_file_location(
            "edition", "nnlib/__init__.py", submodule_search_locations=["nnlib"])
        edition = importlib.util.module_from_spec(spec)
        sys.modules["edition"] = edition
        spec.loader.exec_module(edition)
        from nncourse.widgets.playground import Playground
        print(Playground(nn=edition).step(5)["problem"] != "", Playground().step(5)["problem"] == "")
    """, tmp_path, str(REPO))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]


def test_a_wrong_shape_from_a_students_layer_is_explained(tmp_path, monkeypatch):
    # The student's Linear.backward returns dx transposed.
    original = Linear.backward
    monkeypatch.setattr(Linear, "backward", lambda self, grad_out: original(self, grad_out).T)
    playground = Playground(hidden=[4, 3])
    summary = playground.step(3)
    assert summary["step"] == 0
    assert "the backward pass failed" in summary["problem"]
    assert "expected" in summary["problem"] and "shape" in summary["problem"]


def test_the_widget_drives_the_playground():
    pytest.importorskip("ipywidgets")
    playground = Playground(hidden=[4])
    box = playground.widget()
    image_before = box.image.value
    box.controls["width 1"].value = 6
    box.controls["layers"].value = 2  # the new layer's box held the last width there was
    assert playground.settings["hidden"] == (6, 4)
    assert box.image.value != image_before
    box.controls["width 2"].value = 3  # each layer its own width
    assert playground.settings["hidden"] == (6, 3)
    shown = [box.controls[f"width {k}"].layout.display != "none" for k in range(1, 7)]
    assert shown == [True, True, False, False, False, False]
    box.controls["feature x1^2"].value = True
    assert playground.settings["features"] == ("x1", "x2", "x1^2")
    box.controls["feature x1"].value = box.controls["feature x2"].value = False
    assert playground.settings["features"] == ("x1^2",)
    box.controls["feature x1^2"].value = False  # the last one stays: the network must see something
    assert playground.settings["features"] == ("x1^2",) and box.controls["feature x1^2"].value
    box.controls["feature x1"].value = box.controls["feature x2"].value = True
    box.controls["feature x1^2"].value = False
    assert dict(box.enlarge.options)["layer 2, neuron 3"] == (2, 2)
    box.enlarge.value = (2, 2)
    assert playground.enlarged == (2, 2)
    box.controls["width 2"].value = 2  # that neuron is gone: the choice goes back to the output
    assert playground.enlarged is None and box.enlarge.label == "output"
    box.controls["dataset"].value = "plane"
    assert playground.regression and "mean squared error" in box.readout.value
    box.controls["dataset"].value = "circle"
    box.controls["width 2"].value = 6
    box.buttons["step"].click()
    assert playground.steps == 1 and "step 1" in box.readout.value
    box.controls["learning_rate"].value = 0.3
    assert playground.optimizer.lr == 0.3
    box.buttons["play"].click()
    try:
        assert playground.playing and box.buttons["play"].description == "Pause"
        time.sleep(0.5)
    finally:
        box.buttons["play"].click()
    assert not playground.playing and playground.steps > 1
    assert "playground-loss" in box.readout.value and "'hidden': [6, 6]" in box.config.value


def test_benchmark_case_redraws_and_every_restart_draws_a_new_network():
    playground, moves = benchmark_case()
    for values in moves:
        before = playground.png
        playground.update(**values)
        assert playground.png is not before and playground.png.startswith(b"\x89PNG")
        if {"hidden", "dataset", "noise", "activation"} & set(values):
            assert playground.steps == 0 and playground.png != before


def test_a_click_on_a_neuron_enlarges_it_and_a_second_click_shows_the_output_again():
    pytest.importorskip("ipyevents")
    playground = Playground(hidden=[8, 5])
    box = playground.widget()
    click = lambda x, y: box.clicks._handle_mouse_msg(  # noqa: E731 - as the browser sends it
        None, {"event": "click", "type": "click", "dataX": x, "dataY": y}, [])
    click(*playground.neuron_pixel(2, 4))
    assert playground.enlarged == (2, 4) and box.enlarge.label == "layer 2, neuron 5"
    assert playground.axes["plane"].get_title() == "layer 2, neuron 5, enlarged"
    click(*playground.neuron_pixel(0, 1))
    assert playground.enlarged == (0, 1) and box.enlarge.label == "input x\u2082"
    x, y = playground.neuron_pixel(0, 1)
    click(x + 40, y)  # between two layers: nothing
    assert playground.enlarged == (0, 1)
    click(x, y)  # the enlarged one again: back to the output
    assert playground.enlarged is None and box.enlarge.label == "output"
    click(*playground.neuron_pixel(3, 0))  # the output itself: the output
    assert playground.enlarged is None
    # The centre of a picture is where the figure draws it: not the white around the pictures.
    picture = np.asarray(PIL.Image.open(io.BytesIO(playground.png)).convert("RGB"), dtype=float)
    x, y = playground.neuron_pixel(1, 3)
    assert picture[round(y), round(x)].min() < 235


@pytest.mark.parametrize("settings", [{}, {"dataset": "plane", "features": list(FEATURES)},
                                      {"hidden": [8] * 6}])
def test_no_two_texts_of_the_figure_overlap(settings):
    # Tick labels, axis labels, titles and the features' names, also with a neuron enlarged (the
    # longest title) and the loss axis grown by a diverging run.
    playground = Playground(**settings)
    playground.enlarge(len(playground.settings["hidden"]), 0)
    playground.history["train"][-1] = 37.0  # the loss axis grows to 64
    playground._draw()
    renderer = playground.canvas.get_renderer()
    texts = [text for ax in playground.fig.axes
             for text in [*(ax.get_xticklabels() + ax.get_yticklabels() if ax.axison else []),
                          ax.title, ax.xaxis.label, ax.yaxis.label, *ax.texts]
             if text.get_visible() and text.get_text()]
    boxes = [text.get_window_extent(renderer) for text in texts]
    assert len(texts) > 20
    figure = playground.fig.bbox
    for i, box in enumerate(boxes):
        assert figure.x0 - 1 <= box.x0 and box.x1 <= figure.x1 + 1, f"{texts[i]} leaves the figure"
        for j in range(i):
            assert not box.overlaps(boxes[j]), f"{texts[i]} overlaps {texts[j]}"
