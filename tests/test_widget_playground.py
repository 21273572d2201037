"""The playground: it learns, reproduces a run from its config, explains a student's broken layer,
keeps the notebook responsive while it plays, and its penalty gradients are right."""
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from nnlib.gradcheck import numerical_gradient, rel_error
from nnlib.layers import Linear
from nncourse.widgets.playground import (DATASETS, Playground, benchmark_case,
                                      make_playground_data)

REPO = Path(__file__).resolve().parents[1]


def weights(playground):
    return [param.copy() for param, _ in playground.model.parameters()]


@pytest.mark.parametrize("dataset", DATASETS)
def test_data_sets_fill_the_square_with_two_balanced_classes(dataset):
    X, y = make_playground_data(dataset, 400, noise=0.1, seed=3)
    assert X.shape == (400, 2) and y.shape == (400,)
    assert set(np.unique(y)) == {0, 1} and 0.4 <= y.mean() <= 0.6
    assert np.all(np.abs(X) < 2.0 + 0.5)


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
    assert mosaic.shape[1] == 4 * (18 + 4)  # inputs, two hidden layers, output


@pytest.mark.parametrize("settings, phrase", [
    ({"dataset": "moons"}, "dataset must be one of circle, xor, gaussian, spiral"),
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


def test_a_diverging_run_stops_with_advice():
    playground = Playground(dataset="spiral", hidden=[8, 8, 8], activation="relu", learning_rate=10.0)
    summary = playground.step(300)
    assert "learning rate is too large" in summary["problem"] or summary["train_loss"] > 0.5
    if summary["problem"]:
        playground.play()
        assert not playground.playing  # nothing to play until Reset


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
    box.controls["neurons"].value = 6
    box.controls["layers"].value = 2
    assert playground.settings["hidden"] == (6, 6)
    assert box.image.value != image_before
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
