"""Unit 07 widgets: the optimizer race and the train/validation curves, their controls and edition."""
import math
import subprocess
import sys

import numpy as np
import pytest

from nnlib.train import EarlyStopping
from nncourse.widgets.optimizer_race import (SURFACES, OptimizerRace, adam_rule, benchmark_case,
                                             descend, descend_with_nnlib, momentum_rule,
                                             rmsprop_rule, sgd_rule)
from nncourse.widgets.training_curves import TrainingCurves, early_stopping_epochs

START = np.array([-4.5, 1.5])        # the ravine's start; its loss is (0.1 x^2 + 10 y^2) / 2
GRADIENT = np.array([0.1 * -4.5, 10 * 1.5])


@pytest.fixture(scope="module")
def curves():
    return TrainingCurves()


def test_the_first_steps_by_hand():
    race = OptimizerRace(lr=0.15, adaptive_lr=0.1, momentum=0.8, steps=5)
    paths = race.paths
    assert race.surface.loss(*START) == pytest.approx(0.5 * (0.1 * 20.25 + 10 * 2.25))
    np.testing.assert_allclose(paths["SGD"].points[0], START)
    np.testing.assert_allclose(paths["SGD"].points[1], START - 0.15 * GRADIENT, rtol=1e-12)
    # momentum: the buffer starts at the first gradient, then b = 0.8 b + g
    first = START - 0.15 * GRADIENT
    np.testing.assert_allclose(paths["momentum"].points[1], first, rtol=1e-12)
    buffer = 0.8 * GRADIENT + np.array([0.1 * first[0], 10 * first[1]])
    np.testing.assert_allclose(paths["momentum"].points[2], first - 0.15 * buffer, rtol=1e-12)
    # RMSprop's first step: lr g / sqrt(0.01 g^2) = 10 lr sign(g); Adam's: lr sign(g)
    np.testing.assert_allclose(paths["RMSprop"].points[1], START - 1.0 * np.sign(GRADIENT), rtol=1e-6)
    np.testing.assert_allclose(paths["Adam"].points[1], START - 0.1 * np.sign(GRADIENT), rtol=1e-6)
    for name, path in paths.items():
        assert path.points.shape == (6, 2) and path.losses.shape == (6,), name
        np.testing.assert_allclose(path.losses, race.surface.loss(*path.points.T))
    assert race.summary()["SGD"] == {"final_loss": paths["SGD"].losses[-1], "steps": 5,
                                     "diverged": False, "problem": ""}


@pytest.mark.parametrize("surface", sorted(SURFACES))
def test_nnlib_optimizers_draw_the_same_paths_as_the_widgets_rules(surface):
    """In the repository nnlib is the reference: its optimizers and the widget's numpy agree."""
    from nnlib import optim

    surface = SURFACES[surface]
    pairs = [(sgd_rule(0.002), lambda p: optim.SGD(p, lr=0.002)),
             (momentum_rule(0.002, 0.9), lambda p: optim.SGD(p, lr=0.002, momentum=0.9)),
             (rmsprop_rule(0.05), lambda p: optim.RMSprop(p, lr=0.05)),
             (adam_rule(0.05), lambda p: optim.Adam(p, lr=0.05))]
    for rule, make in pairs:
        own, nnlib = descend(surface, rule, 80), descend_with_nnlib(surface, make, 80)
        assert nnlib.problem == "" and not own.diverged
        np.testing.assert_allclose(nnlib.points, own.points, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(nnlib.losses, own.losses, rtol=1e-12, atol=1e-15)


def test_a_failing_optimizer_is_named_and_the_path_stops():
    def broken(pairs):
        raise NotImplementedError("Adam.step: implement this in exercise 07_optimizers")

    path = descend_with_nnlib(SURFACES["ravine"], broken, 10)
    assert path.problem == "not implemented yet: Adam.step: implement this in exercise 07_optimizers"
    assert path.points.shape == (1, 2) and path.steps == 0


def test_too_large_a_rate_diverges_and_says_so():
    race = OptimizerRace(lr=0.25, steps=100)          # across the valley: |1 - 0.25 * 10| = 1.5
    path = race.paths["SGD"]
    assert path.diverged and path.steps < 100
    assert np.abs(path.points[-1]).max() > 1e4 and np.abs(path.points[-2]).max() <= 1e4
    assert race.artists["texts"]["SGD"].get_text() == f"SGD: diverged at step {path.steps}"


def test_update_moves_the_drawn_artists():
    race = OptimizerRace()
    result = race.summary()
    # on the ravine plain SGD crawls; momentum and the adaptive methods get much further
    assert result["SGD"]["final_loss"] > 1e-2
    assert max(result[name]["final_loss"] for name in ("momentum", "RMSprop", "Adam")) < 1e-3
    a = race.artists
    png = race.png
    sgd_before = np.array(a["paths"]["SGD"].get_data()).copy()
    adam_before = np.array(a["paths"]["Adam"].get_data()).copy()
    race.update(lr=0.05)
    assert not np.allclose(np.array(a["paths"]["SGD"].get_data()), sgd_before)
    np.testing.assert_array_equal(np.array(a["paths"]["Adam"].get_data()), adam_before)
    np.testing.assert_allclose(np.ravel(a["ends"]["SGD"].get_data()), race.paths["SGD"].points[-1])
    np.testing.assert_allclose(a["curves"]["momentum"].get_ydata(), race.paths["momentum"].losses)
    assert a["texts"]["SGD"].get_text() == f"SGD {race.paths['SGD'].losses[-1]:.1e}"
    assert "η = 0.05" in a["title"].get_text()
    assert race.png != png and race.png.startswith(b"\x89PNG")


def test_controls_and_another_surface_with_its_own_settings():
    race = OptimizerRace()
    box = race.widget()
    controls = box.controls
    assert set(controls) == set(race.CONTROLS)
    assert controls["lr"].min <= math.log10(1e-3) and controls["lr"].max >= 0  # log sliders
    assert controls["momentum"].min == 0 and 0.95 <= controls["momentum"].max < 1
    assert set(controls["surface"].options) == set(SURFACES)
    before = box.image.value
    controls["momentum"].value = 0.5
    assert race.values["momentum"] == 0.5 and box.image.value == race.png != before
    controls["surface"].value = "rosenbrock"       # the sliders show the new surface's settings
    assert race.values == {"surface": "rosenbrock", **SURFACES["rosenbrock"].defaults}
    assert controls["lr"].value == pytest.approx(0.001) and controls["steps"].value == 300
    assert controls["momentum"].value == 0.9 and race.paths["SGD"].steps == 300
    assert race.ax_surface.get_xlim() == SURFACES["rosenbrock"].xlim
    assert race.ax_loss.get_xlim() == (0.0, 300.0)
    for path in race.paths.values():
        np.testing.assert_array_equal(path.points[0], [-1.2, 1.0])
    # momentum reaches the banana's far end; plain SGD with the same rate is still near its start
    assert race.summary()["momentum"]["final_loss"] < 0.05 < race.summary()["SGD"]["final_loss"]


@pytest.fixture(scope="module")
def race():
    return OptimizerRace(steps=10)


@pytest.mark.parametrize("values, message", [
    ({"beta": 0.9}, "unknown controls"), ({"surface": "bowl"}, "surface must be one of"),
    ({"momentum": 1.0}, r"momentum must be in \[0, 1\)"), ({"lr": 0.0}, "positive number"),
    ({"steps": 2.5}, "whole number"), ({"lr": True}, "must be a number"),
])
def test_bad_controls_are_refused(race, values, message):
    with pytest.raises(ValueError, match=message):
        race.update(**values)
    assert race.values["steps"] == 10 and race.values["surface"] == "ravine"


def test_benchmark_case_moves_only_known_controls():
    race, moves = benchmark_case()
    assert len(moves) >= 10 and all(set(move) <= set(race.CONTROLS) for move in moves)


# ----------------------------------------------------------------------------------------------
# TrainingCurves

def test_early_stopping_epochs_by_hand():
    losses = [5.0, 4.0, 4.5, 3.0, 3.2, 3.1, 3.3, 3.4]    # improvements at epochs 1, 2 and 4
    assert early_stopping_epochs(losses, 2) == (6, 4)
    assert early_stopping_epochs(losses, 3) == (7, 4)
    assert early_stopping_epochs(losses, 5) == (None, 4)
    assert early_stopping_epochs([1.0, 1.0, 1.0], 2) == (3, 1)   # an equal loss is no improvement


def test_early_stopping_epochs_agree_with_early_stopping():
    rng = np.random.default_rng(0)
    for _ in range(50):
        losses = np.round(rng.uniform(0, 1, 30), 1)
        patience = int(rng.integers(1, 6))
        stopper, stop = EarlyStopping(patience), None
        for epoch, loss in enumerate(losses, start=1):
            if stopper.should_stop(float(loss)):
                stop = epoch
                break
        assert early_stopping_epochs(losses, patience) == (stop, stopper.best_epoch)


def test_the_curves_show_overfitting(curves):
    h = curves.history
    assert set(h) == {"train_loss", "val_loss", "train_acc", "val_acc"}
    assert all(values.shape == (curves.epochs,) for values in h.values())
    assert abs(h["train_loss"][0] - math.log(10)) < 0.2       # small random weights: uniform guess
    assert h["train_loss"][-1] < 0.5 * h["train_loss"][0]
    best = int(np.argmin(h["val_loss"]))
    assert 20 < best < curves.epochs - 50 and h["val_loss"][-1] > 1.1 * h["val_loss"][best]
    assert h["val_acc"][best] > 0.75 and curves.noisy.mean() == pytest.approx(0.2, abs=0.06)


def test_patience_moves_the_stop_line_and_weight_decay_the_curves(curves):
    result = curves.update(patience=2)
    stop, best = early_stopping_epochs(curves.history["val_loss"], 2)
    assert (result["stop_epoch"], result["best_epoch"]) == (stop, best)
    assert curves.artists["stop_loss"].get_xdata()[0] == stop
    assert result["val_acc_at_stop"] == curves.history["val_acc"][stop - 1]
    png = curves.png
    later = curves.update(patience=30)
    assert later["stop_epoch"] > stop and curves.artists["stop_loss"].get_xdata()[0] == later["stop_epoch"]
    assert f"patience 30: stops after epoch {later['stop_epoch']}" in curves.artists["title"].get_text()
    assert curves.png != png
    plain = curves.history["val_loss"].copy()
    curves.update(weight_decay=0.01)
    decayed = curves.history["val_loss"]
    assert not np.allclose(decayed, plain)
    np.testing.assert_allclose(curves.artists["val_loss"].get_ydata(), decayed)
    assert decayed[-1] < plain[-1]                   # the penalty holds the overfitting back
    assert curves.run(0.0)["val_loss"] is curves._runs[0.0]["val_loss"]   # computed once


def test_curves_controls(curves):
    box = curves.widget()
    box.controls["patience"].value = 7
    assert curves.values["patience"] == 7 and box.image.value == curves.png
    with pytest.raises(ValueError, match="weight_decay must be one of"):
        curves.update(weight_decay=0.5)
    with pytest.raises(ValueError, match="patience must be a positive integer"):
        curves.update(patience=0)


def test_the_widgets_run_on_the_edition_of_unit_07(tmp_path):
    """The lecture shows them before the students have written unit 07: they may not need it."""
    from autograder.editions import write_edition

    write_edition("07_optimizers", tmp_path)
    code = ("from nncourse.widgets.optimizer_race import OptimizerRace\n"
            "from nncourse.widgets.training_curves import TrainingCurves\n"
            "race = OptimizerRace()\n"
            "mine = OptimizerRace(source='nnlib')\n"
            "print(race.summary()['Adam']['problem'] == '', mine.summary()['SGD']['problem'] == '')\n"
            "print(mine.summary()['Adam']['problem'])\n"
            "print(mine.artists['texts']['momentum'].get_text())\n"
            "import numpy as np, nnlib.data\n"
            "fake = np.random.default_rng(0)  # the edition is what is tested: skip sklearn's import\n"
            "nnlib.data.load_digits = lambda: (fake.random((700, 64)), fake.integers(0, 10, 700))\n"
            "curves = TrainingCurves(epochs=30)\n"
            "print(curves.update(patience=3)['best_epoch'] >= 1, bytes(curves.widget().image.value)[:4])\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                          env={"MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "True True"                   # the widget's rules; plain SGD is released
    assert lines[1].startswith("not implemented yet: Adam.step: implement this in exercise 07")
    assert lines[2].startswith("momentum: not implemented yet: SGD.momentum_direction")
    assert lines[3] == "True b'\\x89PNG'"
