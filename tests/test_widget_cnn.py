"""Unit 08 widget: filters and feature maps of a digit, by hand-made filters or a model's Conv2d."""
import subprocess
import sys

import numpy as np
import pytest

from nnlib.conv import Conv2d, MaxPool2d
from nnlib.layers import Flatten, Linear, ReLU, Sequential
from nncourse.widgets.cnn import (HAND_MADE_FILTERS, FeatureMapExplorer, benchmark_case,
                               correlate_same, relu_pool)

STEP = np.zeros((8, 8))
STEP[:, 4:] = 1.0          # dark on the left, light on the right


def test_vertical_edges_of_a_step_by_hand():
    maps = correlate_same(STEP, HAND_MADE_FILTERS["vertical edges"][None])
    assert maps.shape == (1, 8, 8)
    # Inside, out[i, j] = (1 + 2 + 1) (x[j + 1] - x[j - 1]): 4 on both sides of the step, -4 at
    # the right border (the zero padding is dark); the top and bottom rows miss a 1 of [1, 2, 1].
    column = np.array([3.0, 4, 4, 4, 4, 4, 4, 3])
    expected = np.zeros((8, 8))
    expected[:, 3] = expected[:, 4] = column
    expected[:, 7] = -column
    np.testing.assert_allclose(maps[0], expected, atol=1e-12)


def test_correlation_is_not_flipped_and_identity_keeps_the_image():
    image = np.zeros((5, 6))
    image[2, 3] = 1.0
    kernel = np.arange(1.0, 10.0).reshape(3, 3)
    out = correlate_same(image, np.stack([kernel, HAND_MADE_FILTERS["identity"]]))
    # out[i, j] = sum_uv k[u, v] image[i + u - 1, j + v - 1]: the single 1 is read by k[u, v] at
    # (i, j) = (3 - u, 4 - v), so the kernel appears flipped around that pixel.
    np.testing.assert_allclose(out[0, 1:4, 2:5], kernel[::-1, ::-1])
    assert out[0].sum() == pytest.approx(45.0)
    np.testing.assert_allclose(out[1], image)


def test_relu_pool_by_hand():
    maps = np.array([[[1.0, -2.0, 0.5, 0.0, 9.0],
                      [3.0, 0.0, -1.0, -4.0, 9.0],
                      [-1.0, -1.0, 2.0, 2.5, 9.0]]])
    # the last row and column fit no 2x2 block; negative blocks become 0
    np.testing.assert_allclose(relu_pool(maps), [[[3.0, 0.5]]])
    np.testing.assert_allclose(relu_pool(-np.ones((2, 4, 4))), np.zeros((2, 2, 2)))


def digits(n=12):
    """Stand-ins for the 8x8 digits (loading scikit-learn's takes seconds): strokes and noise."""
    rng = np.random.default_rng(n)
    images = rng.uniform(0.0, 0.3, (n, 1, 8, 8))
    images[np.arange(n), 0, rng.integers(1, 7, n), :] = 1.0      # a horizontal stroke each
    images[np.arange(n), 0, :, rng.integers(1, 7, n)] = 1.0      # and a vertical one
    return images, rng.integers(0, 10, n)


def test_update_computes_the_chosen_map_and_moves_the_artists():
    images, labels = digits()
    widget = FeatureMapExplorer(images, labels)
    assert widget.names == list(HAND_MADE_FILTERS)
    a = widget.artists
    png, frame = widget.png, a["maps frame"].get_xy()
    digit_before = np.array(a["digit"].get_array()).copy()

    result = widget.update(index=7, filter=4)              # "blur"
    assert result["name"] == "blur" and result["label"] == labels[7]
    blur = correlate_same(images[7, 0], np.full((1, 3, 3), 1 / 9))[0]
    np.testing.assert_allclose(result["feature_map"], blur)
    np.testing.assert_allclose(result["pooled"], relu_pool(blur[None])[0])
    np.testing.assert_allclose(np.array(a["digit"].get_array()), images[7, 0])
    assert not np.allclose(np.array(a["digit"].get_array()), digit_before)
    # the frame moves to tile 4 of the strip of maps: second row, first column (4 per row)
    assert a["maps frame"].get_xy() != frame
    assert a["maps frame"].get_xy() == (-0.5, 9 - 0.5)
    assert a["filters frame"].get_xy() == (-0.5, 4 - 0.5)
    np.testing.assert_allclose(np.array(a["map"].get_array()), blur / np.abs(blur).max())
    assert widget.titles["digit"] == f"image 7: a {labels[7]}"  # a sample index, then its digit
    assert widget.png != png and widget.png.startswith(b"\x89PNG")


def test_controls_are_clamped_and_unknown_ones_refused():
    images, labels = digits(5)
    widget = FeatureMapExplorer(images, labels)
    assert widget.update(index=99, filter=-3)["index"] == 4
    assert widget.values == {"index": 4, "filter": 0}
    with pytest.raises(ValueError, match="unknown controls"):
        widget.update(epoch=1)


def test_filters_passed_by_the_caller():
    images, _ = digits(3)
    filters = np.random.default_rng(0).normal(size=(3, 1, 2, 2))
    widget = FeatureMapExplorer(images, filters=filters, names=["a", "b", "c"], filter=2)
    result = widget.update(index=1)
    assert result["name"] == "c" and result["label"] is None
    np.testing.assert_allclose(result["feature_map"], correlate_same(images[1, 0], filters[2])[0])
    with pytest.raises(ValueError, match="2 names for 3 filters"):
        FeatureMapExplorer(images, filters=filters, names=["a", "b"])


def test_a_model_s_first_conv_and_what_its_next_layers_make_of_it():
    images, labels = digits()
    model = Sequential(Conv2d(1, 5, 3, padding=1, rng=0), ReLU(), MaxPool2d(2), Flatten(),
                       Linear(80, 10, rng=1))
    model.layers[0].params["b"] = np.zeros(5)
    widget = FeatureMapExplorer(images, labels, model=model, index=2, filter=3)
    np.testing.assert_allclose(widget.filters, model.layers[0].params["W"][:, 0])
    assert widget.names[3] == "filter 3"
    maps = correlate_same(images[2, 0], widget.filters)     # padding 1: the same arithmetic
    np.testing.assert_allclose(widget.result["feature_map"], maps[3], atol=1e-12)
    np.testing.assert_allclose(widget.result["pooled"], relu_pool(maps)[3], atol=1e-12)
    with pytest.raises(ValueError, match="first layer must be a Conv2d"):
        FeatureMapExplorer(images, model=Sequential(Flatten(), Linear(64, 10, rng=0)))


def test_the_widget_s_controls_redraw_the_image():
    images, labels = digits()
    widget = FeatureMapExplorer(images, labels)
    box = widget.widget()
    slider, dropdown = box.controls["index"], box.controls["filter"]
    assert (slider.min, slider.max) == (0, len(images) - 1)
    assert [label for label, _ in dropdown.options] == list(HAND_MADE_FILTERS)
    before = box.image.value
    slider.value = 3
    assert widget.values["index"] == 3 and box.image.value == widget.png != before
    before = box.image.value
    dropdown.value = 1
    assert widget.values["filter"] == 1 and box.image.value == widget.png != before


def test_benchmark_case_moves_both_controls():
    widget, cases = benchmark_case()
    assert len(cases) >= 10 and all(set(case) <= {"index", "filter"} for case in cases)
    assert {name for case in cases for name in case} == {"index", "filter"}


def test_the_lecture_s_widget_runs_on_the_edition_of_unit_08(tmp_path):
    """Lecture 08 shows hand-made filters before Conv2d is written: they may not need it."""
    from autograder.editions import write_edition

    write_edition("08_cnn", tmp_path)
    code = ("import numpy as np\n"
            "from nncourse.widgets.cnn import FeatureMapExplorer\n"
            "from nnlib.conv import Conv2d\n"
            "images = np.random.default_rng(0).uniform(size=(4, 1, 8, 8))\n"
            "w = FeatureMapExplorer(images)\n"
            "print(w.update(index=2, filter=1)['name'], bytes(w.widget().image.value)[:4])\n"
            "try:\n"
            "    FeatureMapExplorer(images, model=Conv2d(1, 2, 3, padding=1, rng=0))\n"
            "except NotImplementedError as error:\n"
            "    print('stub:', error)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, env={"MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "horizontal edges b'\\x89PNG'"
    assert lines[1].startswith("stub: ") and "08_cnn" in lines[1]
