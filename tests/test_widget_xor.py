"""Unit 02 widget: input space and hidden space of the XOR network, its controls, speed and edition."""
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nncourse.widgets.xor import CORNERS, XorWidget, benchmark_case

REPO = Path(__file__).resolve().parents[1]


def sig(z):
    return 1.0 / (1.0 + math.exp(-z))


# corner -> (OR, NAND) -> XOR: the hidden representation of the default (sharp) network
FOLDED = {(0.0, 0.0): ((0.0, 1.0), 0.0), (0.0, 1.0): ((1.0, 1.0), 1.0),
          (1.0, 0.0): ((1.0, 1.0), 1.0), (1.0, 1.0): ((1.0, 0.0), 0.0)}


@pytest.mark.parametrize("corner", sorted(FOLDED))
def test_the_default_network_computes_xor_through_or_and_nand(corner):
    widget = XorWidget(sharpness=50.0)
    result = widget.update(x1=corner[0], x2=corner[1])
    hidden, xor = FOLDED[corner]
    np.testing.assert_allclose(result["hidden"], hidden, atol=1e-6)
    assert abs(result["output"] - xor) < 1e-6
    assert result["correct"] == widget.correct == 4


def test_hidden_units_and_output_by_hand():
    widget = XorWidget(sharpness=2.0)
    result = widget.update(x1=0.25, x2=0.5)
    # w1 = (1, 1), b1 = -0.5: score 0.25; w2 = (-1, -1), b2 = 1.5: score 0.75; slope 2
    h1, h2 = sig(2 * 0.25), sig(2 * 0.75)
    np.testing.assert_allclose(result["hidden"], [h1, h2], rtol=1e-12)
    assert result["output"] == pytest.approx(sig(2 * (h1 + h2 - 1.5)), rel=1e-12)


def test_update_moves_the_drawn_artists():
    widget = XorWidget(sharpness=50.0)
    artists = widget.artists
    png_before = widget.png
    shade_before = np.array(artists["shade"].get_array()).copy()
    hidden_grid_before = np.array(artists["hidden grid"][0].get_data()).copy()

    result = widget.update(x1=0.9, x2=0.1, angle1=0.0, bias1=-0.5, sharpness=5.0)
    assert artists["input point"].get_data() == ([0.9], [0.1])
    np.testing.assert_allclose(np.ravel(artists["hidden point"].get_data()), result["hidden"])
    # angle 0: w1 = (sqrt 2, 0), so h1's line is x1 = 0.5 / sqrt 2
    line = np.array(artists["unit lines"][0].get_data())
    np.testing.assert_allclose(line[0], [0.5 / math.sqrt(2)] * 2, atol=1e-12)
    np.testing.assert_allclose(artists["hidden corners"].get_offsets(), widget.hidden(CORNERS))
    np.testing.assert_allclose(artists["hidden corners"].get_offsets()[1],  # the corner (0, 1)
                               [sig(5 * -0.5), sig(5 * 0.5)], rtol=1e-12)
    assert not np.allclose(np.array(artists["shade"].get_array()), shade_before)
    assert not np.allclose(np.array(artists["hidden grid"][0].get_data()), hidden_grid_before)
    assert artists["hidden text"].get_text().startswith(
        f"h = ({result['hidden'][0]:.2f}, {result['hidden'][1]:.2f})")
    assert widget.png != png_before and widget.png.startswith(b"\x89PNG")


def test_the_shade_is_the_network_output_on_the_input_plane():
    widget = XorWidget(sharpness=50.0)
    shade = np.array(widget.artists["shade"].get_array())
    extent = widget.artists["shade"].get_extent()
    # Row 0 is the bottom (origin="lower"): the corner (-0.5, -0.5) is class 0, the middle class 1.
    assert extent == [-0.5, 1.5, -0.5, 1.5]
    assert shade[0, 0] < 0.01 and shade[-1, -1] < 0.01
    assert shade[len(shade) // 2, len(shade) // 2] > 0.99


def test_moving_a_hidden_unit_breaks_xor_and_the_count_says_so():
    widget = XorWidget(sharpness=50.0)
    assert widget.correct == 4
    widget.update(bias1=-1.5)  # the OR unit becomes an AND unit: (0, 1) and (1, 0) now go wrong
    assert widget.correct == 2
    assert "XOR right on 2 of 4 corners" in widget.artists["input text"].get_text()


def test_controls_and_their_ranges():
    widget = XorWidget()
    box = widget.widget()
    sliders = box.controls
    assert set(sliders) == set(widget.CONTROLS) == {"x1", "x2", "sharpness", "angle1", "bias1",
                                                    "angle2", "bias2"}
    for name in ("x1", "x2"):  # the point can visit every corner and beyond
        assert sliders[name].min <= -0.25 and sliders[name].max >= 1.25
    assert sliders["sharpness"].min <= 1 and sliders["sharpness"].max >= 30
    for name in ("angle1", "angle2"):
        assert sliders[name].min <= -180 and sliders[name].max >= 180
    for name in ("bias1", "bias2"):  # room for the thresholds of AND, OR and NAND
        assert sliders[name].min <= -2 and sliders[name].max >= 2
    for name, slider in sliders.items():
        assert slider.min <= widget.values[name] <= slider.max


def test_moving_a_slider_redraws_the_image():
    widget = XorWidget()
    box = widget.widget()
    before = box.image.value
    box.controls["x1"].value = 1.2
    assert widget.values["x1"] == 1.2
    assert widget.artists["input point"].get_data()[0] == [1.2]
    assert box.image.value == widget.png != before


def test_unknown_control_is_refused():
    with pytest.raises(ValueError, match="unknown controls"):
        XorWidget().update(x3=1.0)


def test_benchmark_case_moves_only_known_controls():
    # Its latency is measured, with the 150 ms target, by benchmarks/bench_widgets.py.
    widget, cases = benchmark_case()
    assert len(cases) >= 10 and all(set(case) <= set(widget.CONTROLS) for case in cases)
    png = widget.png
    widget.update(**cases[0])
    assert widget.png != png


def test_the_widget_runs_on_the_edition_of_unit_02(tmp_path):
    """The lecture shows it before the students have written unit 02: it may not need that code."""
    from autograder.editions import write_edition

    write_edition("02_xor", tmp_path)
    code = ("from nncourse.widgets.xor import XorWidget\n"
            "w = XorWidget()\n"
            "print(w.update(x1=1.0, x2=0.0)['correct'], bytes(w.widget().image.value)[:4])\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, env={"MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("4 b'\\x89PNG'")
