"""Unit 03 widget: random features fitted by least squares, its drawing, controls and speed."""

import numpy as np
import pytest

from nncourse.widgets.forward_pass import (MAX_HIDDEN, HiddenUnitsWidget, benchmark_case,
                                        fit_output_layer, hidden_features, random_first_layer)


def test_random_first_layer_is_reproducible_and_nested():
    W, b = random_first_layer(10, draw=4)
    assert W.shape == (1, 10) and b.shape == (10,)
    W_again, b_again = random_first_layer(10, draw=4)
    np.testing.assert_array_equal(W, W_again)
    np.testing.assert_array_equal(b, b_again)
    W5, b5 = random_first_layer(5, draw=4)  # more units keep the first ones
    np.testing.assert_array_equal(W5, W[:, :5])
    np.testing.assert_array_equal(b5, b[:5])
    assert not np.array_equal(random_first_layer(10, draw=5)[0], W)
    # Each unit's centre -b/W lies inside the data range.
    assert np.all(np.abs(-b / W[0]) <= 3.0)


def test_hidden_features_by_hand():
    W, b = np.array([[1.0, -2.0]]), np.array([0.5, 1.0])
    x = np.array([-1.0, 0.0, 2.0])
    z = np.array([[-0.5, 3.0], [0.5, 1.0], [2.5, -3.0]])  # x W + b, one row per input
    np.testing.assert_allclose(hidden_features(x, W, b, "ReLU"), [[0, 3], [0.5, 1], [2.5, 0]])
    np.testing.assert_allclose(hidden_features(x, W, b, "tanh"), np.tanh(z))
    np.testing.assert_allclose(hidden_features(x, W, b, "sigmoid"), 1 / (1 + np.exp(-z)))


def test_output_layer_is_the_least_squares_solution():
    features = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 1.0]])
    y = features @ np.array([2.0, -1.0]) + 0.5      # exactly representable
    v, v0 = fit_output_layer(features, y)
    np.testing.assert_allclose(v, [2.0, -1.0], atol=1e-12)
    assert v0 == pytest.approx(0.5)


def test_update_refits_and_moves_the_drawn_artists():
    widget = HiddenUnitsWidget(n_hidden=2)
    fit_before = widget.artists["fit"].get_ydata().copy()
    png_before = widget.png
    result = widget.update(n_hidden=25)

    fit_after = np.asarray(widget.artists["fit"].get_ydata())
    assert not np.allclose(fit_before, fit_after)
    assert widget.png != png_before and widget.png.startswith(b"\x89PNG")
    # The red curve is the network: first layer of this draw, output layer by least squares.
    W, b = random_first_layer(25, draw=0)
    design = np.hstack([hidden_features(widget.x, W, b, "tanh"), np.ones((widget.n_points, 1))])
    solution = np.linalg.lstsq(design, widget.y, rcond=None)[0]
    grid = np.hstack([hidden_features(widget.grid, W, b, "tanh"), np.ones((len(widget.grid), 1))])
    np.testing.assert_allclose(fit_after, grid @ solution, atol=1e-8)
    # One green curve per hidden unit; with the output bias they add up to the red one.
    segments = widget.artists["units"].get_segments()
    assert len(segments) == 25
    np.testing.assert_allclose(sum(segment[:, 1] for segment in segments) + solution[-1], fit_after,
                               atol=1e-8)
    assert result["train_mse"] == pytest.approx(np.mean((design @ solution - widget.y) ** 2))
    assert result["n_parameters"] == W.size + b.size + (solution.size - 1) + 1 == 76
    assert widget.artists["marker"].get_xdata()[0] == 25
    assert widget.artists["title"].get_text().startswith("25 tanh units, 76 parameters")


def test_more_units_fit_the_samples_at_least_as_well():
    widget = HiddenUnitsWidget(noise=0.2)
    train, curve = widget.error_curves()
    assert train.shape == curve.shape == (MAX_HIDDEN,)
    # Nested features: least squares with more columns never fits the samples worse (while the
    # problem is well conditioned: near H + 1 = N, lstsq drops tiny singular values).
    assert np.all(np.diff(train[:30]) <= 1e-9)
    assert curve[19] < curve[0] / 10                # 20 units draw the sine far better than 1
    assert train[-1] < 1e-12                        # 100 units > 40 samples: every point is hit
    drawn = widget.artists["train"].get_ydata()
    np.testing.assert_allclose(drawn, np.clip(train, 1e-5, 1e3))


@pytest.mark.parametrize("change", [{"activation": "ReLU"}, {"target": "step"}, {"noise": 0.4},
                                    {"draw": 7}])
def test_every_control_changes_the_drawing(change):
    widget = HiddenUnitsWidget(n_hidden=10)
    fit_before = np.asarray(widget.artists["fit"].get_ydata()).copy()
    samples_before = widget.artists["samples"].get_offsets().copy()
    curve_before = np.asarray(widget.artists["curve"].get_ydata()).copy()
    widget.update(**change)
    assert not np.allclose(fit_before, widget.artists["fit"].get_ydata())
    assert not np.allclose(curve_before, widget.artists["curve"].get_ydata())
    samples_moved = not np.allclose(samples_before, widget.artists["samples"].get_offsets())
    assert samples_moved == (set(change) <= {"target", "noise"})


def test_controls_and_their_ranges():
    widget = HiddenUnitsWidget()
    box = widget.widget()
    controls = box.controls
    assert set(controls) == {"n_hidden", "activation", "target", "noise", "draw"}
    assert controls["n_hidden"].min == 1 and controls["n_hidden"].max >= 50
    assert set(controls["activation"].options) == {"tanh", "sigmoid", "ReLU"}
    assert len(controls["target"].options) >= 3
    assert controls["noise"].min == 0 and 0.2 <= controls["noise"].max <= 1
    assert controls["draw"].max >= 5
    for name, control in controls.items():
        assert control.value == widget.values[name]


def test_moving_a_slider_redraws_the_image_and_the_readout():
    widget = HiddenUnitsWidget(n_hidden=3)
    box = widget.widget()
    image_before, readout_before = box.image.value, box.readout.value
    assert "H = 3</b>" in readout_before and "10 parameters" in readout_before
    box.controls["n_hidden"].value = 30
    assert widget.values["n_hidden"] == 30
    assert box.image.value == widget.png != image_before
    assert "H = 30</b>" in box.readout.value and "91 parameters" in box.readout.value
    box.controls["activation"].value = "sigmoid"
    assert widget.values["activation"] == "sigmoid"


def test_bad_controls_are_refused():
    widget = HiddenUnitsWidget()
    with pytest.raises(ValueError, match="unknown controls"):
        widget.update(hidden=3)
    with pytest.raises(ValueError, match="activation must be one of"):
        widget.update(activation="softplus")
    with pytest.raises(ValueError, match="n_hidden must be in"):
        widget.update(n_hidden=0)


def test_benchmark_case_moves_only_known_controls():
    # Its latency is measured, with the 150 ms target, by benchmarks/bench_widgets.py.
    widget, cases = benchmark_case()
    assert len(cases) >= 10 and all(set(case) <= set(widget.CONTROLS) for case in cases)
    png = widget.png
    widget.update(**cases[0])
    assert widget.png != png