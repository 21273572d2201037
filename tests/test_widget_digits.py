"""Unit 06 widget: confusion matrix, misclassified digits and first-layer weights while training."""
import subprocess
import sys

import numpy as np
import pytest

from nncourse.widgets.digits import PER_PAGE, DigitsExplorer, mosaic

N_TEST = 20
Y_TEST = np.arange(N_TEST) % 10                     # two test digits of every class
X_TEST = np.random.default_rng(0).uniform(size=(N_TEST, 64))
WEIGHTS = np.column_stack([np.linspace(-2.0, 2.0, 64), np.full(64, 0.5), np.arange(64.0)])


class Scripted:
    """A stand-in classifier: ``forward`` scores the classes in ``self.predictions`` highest."""

    def __init__(self, predictions, W=WEIGHTS):
        self.predictions = np.array(predictions)
        self.W = np.array(W, dtype=np.float64)

    def forward(self, X):
        scores = np.zeros((len(X), 10))
        scores[np.arange(len(X)), self.predictions] = 2.0
        return scores

    def parameters(self):
        return [(np.zeros(5), np.zeros(5)), (self.W, np.zeros_like(self.W))]


def three_mistakes():
    predictions = Y_TEST.copy()
    predictions[[3, 7, 12]] = [5, 1, 8]               # a 3 read as 5, a 7 as 1, a 2 as 8
    return predictions


def image(artist):
    return np.ma.filled(np.ma.masked_invalid(np.asarray(artist.get_array(), dtype=float)), np.nan)


def test_mosaic_lays_tiles_out_by_hand():
    tiles = np.arange(12.0).reshape(3, 2, 2)
    picture, origins = mosaic(tiles, columns=2, gap=1, top=1)
    # two rows of (1 label row + 2 pixel rows), one gap row between them; two columns of 2 + 1 gap
    assert picture.shape == (2 * (2 + 1 + 1) - 1, 2 * (2 + 1) - 1) == (7, 5)
    np.testing.assert_array_equal(origins, [[1, 0], [1, 3], [5, 0]])
    np.testing.assert_array_equal(picture[1:3, 0:2], tiles[0])
    np.testing.assert_array_equal(picture[1:3, 3:5], tiles[1])
    np.testing.assert_array_equal(picture[5:7, 0:2], tiles[2])
    assert np.isnan(picture[0]).all() and np.isnan(picture[:, 2]).all()
    assert np.isnan(picture[5:, 3:]).all()
    assert np.sum(~np.isnan(picture)) == 12


def test_a_snapshot_holds_predictions_accuracy_confusion_and_mistakes():
    explorer = DigitsExplorer(Scripted(three_mistakes()), X_TEST, Y_TEST)
    snapshot = explorer.snapshots[0]
    assert snapshot["epoch"] == 0 and snapshot["loss"] is None
    np.testing.assert_array_equal(snapshot["predicted"], three_mistakes())
    assert snapshot["accuracy"] == 17 / 20
    np.testing.assert_array_equal(snapshot["misclassified"], [3, 7, 12])
    cm = snapshot["confusion"]
    expected = 2 * np.eye(10, dtype=int)
    expected[3, 3] = expected[7, 7] = expected[2, 2] = 1
    expected[3, 5] = expected[7, 1] = expected[2, 8] = 1
    np.testing.assert_array_equal(cm, expected)
    np.testing.assert_array_equal(snapshot["weights"], WEIGHTS)   # the parameter with 64 rows


def test_update_draws_the_chosen_epoch():
    model = Scripted(Y_TEST)                          # epoch 0: all right
    explorer = DigitsExplorer(model, X_TEST, Y_TEST)
    model.predictions = three_mistakes()
    model.W = -2.0 * WEIGHTS
    explorer.record(loss=0.7)                         # epoch 1: three mistakes, other weights
    artists = explorer.artists

    result = explorer.update(epoch=1)
    assert result["epoch"] == 1 and result["accuracy"] == 0.85 and result["n_misclassified"] == 3
    np.testing.assert_array_equal(result["shown"], [3, 7, 12])
    # The confusion matrix is shaded by the fraction of each row: one of the two 3s became a 5.
    shade = image(artists["confusion"])
    assert shade[3, 5] == 0.5 and shade[3, 3] == 0.5 and shade[0, 0] == 1.0 and shade[0, 1] == 0.0
    # The mistakes' pixels, each below its "true → predicted" label.
    picture = image(artists["misclassified"])
    _, origins = mosaic(np.zeros((PER_PAGE, 8, 8)), top=3)
    for tile, n in enumerate([3, 7, 12]):
        r, c = origins[tile]
        np.testing.assert_array_equal(picture[r:r + 8, c:c + 8], X_TEST[n].reshape(8, 8))
    assert np.isnan(picture[origins[3][0]:origins[3][0] + 8, origins[3][1]:origins[3][1] + 8]).all()
    texts = [label[2] for label in explorer.labels]
    assert {"3 → 5", "7 → 1", "2 → 8"} <= set(texts)
    assert "2" in texts and "1" in texts              # counts written in the cells
    # Each unit's weights, scaled by its own largest |w|: column 0 runs from -1 to 1 (negated).
    weights = image(artists["weights"])
    units, _ = mosaic(np.stack([-WEIGHTS[:, j].reshape(8, 8) / np.abs(WEIGHTS[:, j]).max()
                                for j in range(3)]), rows=4)
    np.testing.assert_allclose(weights[:8, :], units[:8, :weights.shape[1]], equal_nan=True)
    assert weights[0, 0] == 1.0 and weights[7, 7] == -1.0
    assert explorer.titles["accuracy"] == "test accuracy 85.0% at epoch 1"
    assert explorer.titles["weights"] == "first-layer weights, units 0-2 of 3"
    assert list(artists["marker"].get_xdata()) == [1, 1]

    before = explorer.png
    back = explorer.update(epoch=0)
    assert back["n_misclassified"] == 0 and back["shown"].size == 0
    assert np.isnan(image(artists["misclassified"])).all()
    assert image(artists["weights"])[0, 0] == -1.0
    assert list(artists["marker"].get_xdata()) == [0, 0]
    assert explorer.png != before and explorer.png.startswith(b"\x89PNG")


def test_pages_of_mistakes_and_clamped_controls():
    everything_wrong = (Y_TEST + 1) % 10
    explorer = DigitsExplorer(Scripted(everything_wrong), X_TEST, Y_TEST)
    first = explorer.update(page=0)
    assert first["n_pages"] == 2 and len(first["shown"]) == PER_PAGE
    second = explorer.update(page=1)
    np.testing.assert_array_equal(second["shown"], [16, 17, 18, 19])
    assert explorer.titles["misclassified"] == "misclassified (true → predicted): 17-20 of 20"
    assert explorer.update(page=7)["page"] == 1       # clamped to the last page
    assert explorer.update(epoch=5)["epoch"] == 0     # only epoch 0 is recorded
    assert explorer.update(page=-3)["page"] == 0


def test_train_records_every_epoch_and_draws_the_curves():
    model = Scripted(Y_TEST)
    calls = []

    def train_epoch():
        calls.append(1)
        model.predictions = np.where(np.arange(N_TEST) < 10 - len(calls), (Y_TEST + 1) % 10, Y_TEST)
        return 1.0 / len(calls)

    model.predictions = (Y_TEST + 1) % 10
    explorer = DigitsExplorer(model, X_TEST, Y_TEST, train_epoch=train_epoch)
    result = explorer.train(3)
    assert len(calls) == 3 and len(explorer.snapshots) == 4 and result["epoch"] == 3
    assert [s["loss"] for s in explorer.snapshots] == [None, 1.0, 0.5, 1 / 3]
    # After epoch e the first 10 - e test digits are still wrong.
    assert [s["accuracy"] for s in explorer.snapshots] == [0.0, 0.55, 0.6, 0.65]
    xs, accuracies = explorer.artists["accuracy"].get_data()
    np.testing.assert_array_equal(xs, [0, 1, 2, 3])
    np.testing.assert_allclose(accuracies, [0.0, 0.55, 0.6, 0.65])
    np.testing.assert_array_equal(explorer.artists["loss"].get_data()[0], [1, 2, 3])
    assert explorer.axes["accuracy"].get_xlim()[1] >= 3


def test_the_controls_redraw_and_the_button_trains():
    model = Scripted((Y_TEST + 1) % 10)
    explorer = DigitsExplorer(model, X_TEST, Y_TEST, train_epoch=lambda: 0.5)
    box = explorer.widget(more=2)
    assert set(box.controls) == {"epoch", "page"} and box.controls["epoch"].max == 0
    assert box.controls["page"].max == 1                # 20 mistakes: two pages
    before = box.image.value
    box.controls["page"].value = 1
    assert explorer.values["page"] == 1 and box.image.value == explorer.png != before
    assert "20 of 20 test digits misclassified" in box.readout.value

    model.predictions = Y_TEST
    box.buttons["train"].click()
    assert len(explorer.snapshots) == 3 and box.controls["epoch"].max == 2
    assert box.controls["epoch"].value == 2 and explorer.values["epoch"] == 2
    assert box.controls["page"].max == 0 and explorer.result["accuracy"] == 1.0
    assert "epoch 2" in box.readout.value

    quiet = DigitsExplorer(model, X_TEST, Y_TEST).widget()
    assert "train" not in quiet.buttons               # nothing to train with


def test_bad_input_and_unknown_controls_are_refused():
    with pytest.raises(ValueError, match="unknown controls"):
        DigitsExplorer(Scripted(Y_TEST), X_TEST, Y_TEST).update(lr=0.1)
    with pytest.raises(ValueError, match="must be an int"):
        DigitsExplorer(Scripted(Y_TEST), X_TEST, Y_TEST).update(epoch=1.5)
    with pytest.raises(ValueError, match=r"\(N, 64\)"):
        DigitsExplorer(Scripted(Y_TEST), X_TEST[:, :10], Y_TEST)
    with pytest.raises(ValueError, match="integer labels"):
        DigitsExplorer(Scripted(Y_TEST), X_TEST, Y_TEST.astype(float))
    with pytest.raises(ValueError, match="no train_epoch"):
        DigitsExplorer(Scripted(Y_TEST), X_TEST, Y_TEST).train(1)

    class Flat(Scripted):
        def parameters(self):
            return [(np.zeros((3, 3)), np.zeros((3, 3)))]

    with pytest.raises(ValueError, match="no weight matrix of shape"):
        DigitsExplorer(Flat(Y_TEST), X_TEST, Y_TEST)
    explorer = DigitsExplorer(Flat(Y_TEST), X_TEST, Y_TEST, weights=lambda model: WEIGHTS[:, :1])
    assert explorer.snapshots[0]["weights"].shape == (64, 1)


def test_the_widget_runs_on_the_edition_of_unit_06(tmp_path):
    """The lecture shows it while softmax and cross-entropy are stubs: it may not need them."""
    from autograder.editions import write_edition

    write_edition("06_softmax", tmp_path)
    code = ("import numpy as np\n"
            "from nnlib.layers import Linear, ReLU, Sequential\n"
            "from nncourse.widgets.digits import DigitsExplorer, _squared_error_epochs\n"
            "rng = np.random.default_rng(0)\n"
            "X, y = rng.uniform(size=(60, 64)), np.arange(60) % 10\n"
            "model = Sequential(Linear(64, 8, rng=0), ReLU(), Linear(8, 10, rng=1))\n"
            "w = DigitsExplorer(model, X, y, train_epoch=_squared_error_epochs(model, X, y))\n"
            "result = w.train(2)\n"
            "print(result['epoch'], len(w.snapshots), bytes(w.widget().image.value)[:4])\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, env={"MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("2 3 b'\\x89PNG'")
