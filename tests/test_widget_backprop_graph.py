"""Unit 05 widget: the graph f = (x y + max(y, z)) w, its values and its backward pass step by step."""
import subprocess
import sys

import numpy as np
import pytest

from nncourse.widgets.backprop_graph import (BACKWARD_ORDER, INPUTS, STEPS, BackpropGraph,
                                          benchmark_case, evaluate)

# The defaults x = -2, y = 3, z = 1, w = 2, worked by hand:
# a = x y = -6, m = max(3, 1) = 3, s = a + m = -3, f = s w = -6.
VALUES = {"x": -2.0, "y": 3.0, "z": 1.0, "w": 2.0, "a": -6.0, "m": 3.0, "s": -3.0, "f": -6.0}
# df/ds = w = 2, df/dw = s = -3; the add gate copies 2 to a and m; the max gate routes 2 to y
# (3 > 1), 0 to z; the multiply gate a = x y gives x: y * 2 = 6 and y: x * 2 = -4, so y gets
# 2 + (-4) = -2 from its two paths.
GRADS = {"f": 1.0, "s": 2.0, "w": -3.0, "a": 2.0, "m": 2.0, "y": -2.0, "z": 0.0, "x": 6.0}


def centred(graph, h=1e-6):
    values = graph.values
    result = {}
    for name in INPUTS:
        up, down = dict(values), dict(values)
        up[name] += h
        down[name] -= h
        result[name] = (evaluate(**up)["f"] - evaluate(**down)["f"]) / (2 * h)
    return result


def test_forward_values_by_hand():
    state = BackpropGraph().update()
    assert state["values"] == pytest.approx(VALUES, abs=1e-12)
    assert state["grads"] == {} and state["step"] == 0


def test_the_last_step_gives_every_gradient_by_hand():
    state = BackpropGraph(step=STEPS - 1).state
    assert state["grads"] == pytest.approx(GRADS, abs=1e-12)
    assert state["complete"] == set(GRADS)
    assert state["flows"][("y", "a")] == pytest.approx(-4.0)
    assert state["flows"][("y", "m")] == pytest.approx(2.0)
    assert "-4.00 + 2.00 = -2.00" in state["message"]
    assert "(they agree)" in state["message"]


def test_the_backward_pass_runs_one_gate_per_step():
    graph = BackpropGraph()
    assert graph.update(step=1)["grads"] == {"f": 1.0}
    state = graph.update(step=2)                          # the multiply gate f = s w
    assert state["grads"] == pytest.approx({"f": 1.0, "s": 2.0, "w": -3.0})
    state = graph.update(step=3)                          # the add gate copies its gradient
    assert state["grads"]["a"] == state["grads"]["m"] == 2.0
    state = graph.update(step=4)                          # the max gate: y won, z gets nothing
    assert state["grads"]["y"] == 2.0 and state["grads"]["z"] == 0.0
    assert "y" not in state["complete"], "y still waits for the contribution through a"
    assert "routes 2.00 to the larger input y" in state["message"]
    assert graph.artists["grads"]["y"].get_text() == "2.00 so far"
    assert graph.artists["grads"]["x"].get_text() == "", "x is not reached yet"
    assert graph.artists["flows"][("y", "m")].get_text() == "← 2.00"      # the edges of this step
    assert graph.artists["flows"][("s", "f")].get_text() == ""
    state = graph.update(step=5)
    assert state["grads"]["y"] == -2.0 and "y" in state["complete"]
    assert graph.artists["grads"]["y"].get_text() == "-2.00"
    assert len(BACKWARD_ORDER) == STEPS - 2


@pytest.mark.parametrize("seed", range(5))
def test_gradients_match_centred_differences(seed):
    rng = np.random.default_rng(seed)
    x, y, z, w = rng.uniform(-4, 4, 4)
    graph = BackpropGraph(x=x, y=y, z=z, w=w, step=STEPS - 1)
    numeric = centred(graph)
    for name in INPUTS:
        assert graph.state["grads"][name] == pytest.approx(numeric[name], abs=1e-6)
    assert graph.numerical_gradient() == pytest.approx(numeric, abs=1e-6)


def test_the_max_gate_routes_to_the_larger_input_and_splits_a_tie():
    graph = BackpropGraph(step=STEPS - 1)
    state = graph.update(z=3.5)                           # now z > y = 3: z gets df/dm = 2
    assert state["grads"]["z"] == 2.0 and state["flows"][("y", "m")] == 0.0
    assert state["grads"]["y"] == pytest.approx(-4.0)     # only the path through a is left
    state = graph.update(z=3.0)                           # a tie: half each, as centred differences
    assert state["flows"][("y", "m")] == state["flows"][("z", "m")] == 1.0
    assert state["grads"]["z"] == pytest.approx(centred(graph)["z"], abs=1e-6)
    assert "has a tie" in graph.update(step=4)["message"]


def test_update_moves_the_drawn_artists():
    graph = BackpropGraph()
    artists = graph.artists
    png_before = graph.png
    assert artists["values"]["f"].get_text() == "-6.00"
    assert all(text.get_text() == "" for text in artists["grads"].values())
    graph.update(step=2)
    active = artists["edges"][("s", "f")]
    assert active.get_linewidth() == 3.0 and artists["edges"][("x", "a")].get_linewidth() == 1.5
    assert artists["flows"][("w", "f")].get_text() == "← -3.00"
    assert artists["flows"][("x", "a")].get_text() == ""
    assert artists["step"].get_text() == "step 2 of 5: backward through f"
    png_step = graph.png
    graph.update(x=1.0)                                   # a slider: new values everywhere
    assert artists["values"]["a"].get_text() == "3.00"    # x y = 1 * 3
    assert artists["values"]["f"].get_text() == "12.00"   # (3 + 3) * 2
    assert artists["grads"]["w"].get_text() == "6.00"
    assert len({png_before, png_step, graph.png}) == 3 and graph.png.startswith(b"\x89PNG")
    assert graph._repr_png_() == graph.png


def test_controls_and_their_ranges():
    graph = BackpropGraph()
    box = graph.widget()
    sliders = box.controls
    assert set(sliders) == set(graph.CONTROLS) == {"x", "y", "z", "w", "step"}
    assert (sliders["step"].min, sliders["step"].max, sliders["step"].step) == (0, STEPS - 1, 1)
    for name in INPUTS:
        assert sliders[name].min <= -3 and sliders[name].max >= 3
        assert sliders[name].value == graph.values[name]


def test_sliders_and_buttons_redraw_the_image():
    graph = BackpropGraph()
    box = graph.widget()
    before = box.image.value
    box.buttons["next"].click()
    assert graph.step == 1 and box.controls["step"].value == 1
    assert box.image.value == graph.png != before
    box.controls["step"].value = STEPS - 1
    box.buttons["next"].click()                            # already at the last step: stays
    assert graph.step == STEPS - 1
    box.buttons["back"].click()
    assert graph.step == STEPS - 2
    assert "backward step 4: the max gate" in box.readout.value
    box.controls["y"].value = -1.5
    assert graph.values["y"] == -1.5 and box.image.value == graph.png
    assert "-1.50" in box.readout.value


def test_bad_controls_are_refused():
    graph = BackpropGraph()
    with pytest.raises(ValueError, match="unknown controls"):
        graph.update(v=1.0)
    with pytest.raises(ValueError, match="step must be in 0..5"):
        graph.update(step=STEPS)


def test_benchmark_case_moves_every_control():
    widget, cases = benchmark_case()
    assert len(cases) >= 10 and all(set(case) <= set(widget.CONTROLS) for case in cases)
    assert set().union(*cases) == set(widget.CONTROLS)
    for case in cases:
        widget.update(**case)
        assert widget.png.startswith(b"\x89PNG")


def test_the_widget_runs_on_the_edition_of_unit_05(tmp_path):
    """The lecture shows it before the students have written unit 05: it may not need that code."""
    from autograder.editions import write_edition

    write_edition("05_backprop", tmp_path)
    code = ("from nncourse.widgets.backprop_graph import BackpropGraph\n"
            "g = BackpropGraph(step=5)\n"
            "print(g.state['grads']['y'], bytes(g.widget().image.value)[:4])\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, env={"MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("-2.0 b'\\x89PNG'")
