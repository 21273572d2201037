"""Unit 09 widget: the gradient of an RNN and of an LSTM per time step and as the sequence grows,
with clipping."""
import subprocess
import sys

import numpy as np
import pytest

from nncourse.widgets.rnn_gradients import (REFERENCE_RADII, RecurrentLSTM, RecurrentNet,
                                         RnnGradients, benchmark_case, clip_coefficient)


@pytest.fixture(scope="module")
def widget():
    return RnnGradients(radius=1.3, length=40)


def centred_gradients(net, radius, T, k, h=1e-6):
    """dL_T/dh_k and dL_T/d(Wx, Wh, b) by centred differences of L_T = u . h_T."""
    Wh = net.recurrent_matrix(radius)
    states = net.states(radius, T)

    def from_state(state, Wx=net.Wx, Whh=Wh, b=net.b, start=k):
        for t in range(start + 1, T + 1):
            state = np.tanh(net.X[t - 1] @ Wx + state @ Whh + b)
        return float(net.u @ state)

    def derivative(f, array):
        grad = np.zeros_like(array)
        for index in np.ndindex(array.shape):
            original = array[index]
            array[index] = original + h
            up = f()
            array[index] = original - h
            down = f()
            array[index] = original
            grad[index] = (up - down) / (2 * h)
        return grad

    state = states[k].copy()
    toward_state = derivative(lambda: from_state(state), state)
    Wx, Whh, b = net.Wx.copy(), Wh.copy(), net.b.copy()
    params = [derivative(lambda: from_state(np.zeros(net.hidden), Wx, Whh, b, 0), p)
              for p in (Wx, Whh, b)]
    return toward_state, params


def test_gradients_by_hand_when_the_states_stay_at_zero():
    # With W_x = 0 and b = 0 every state is 0, so each step is linear: tanh'(0) = 1 and
    # dL_T/dh_k = u (W_h^T)^(T - k); the step-t pre-activation gradient is the same
    # d_t = u (W_h^T)^(T - t), so dL/dW_x = sum_t x_t^T d_t, dL/dW_h = sum_t h_{t-1}^T d_t = 0 and
    # dL/db = sum_t d_t.
    net = RecurrentNet(hidden=5, inputs=3, max_length=12, input_scale=0.0, seed=1)
    radius, T = 1.4, 9
    per_step, total = net.gradients(radius)
    Wh = net.recurrent_matrix(radius)
    d = {k: np.linalg.matrix_power(Wh, T - k) @ net.u for k in range(T + 1)}
    np.testing.assert_allclose(per_step[T, :T + 1], [np.linalg.norm(d[k]) for k in range(T + 1)],
                               rtol=1e-12)
    assert np.all(per_step[T, T + 1:] == 0)
    dWx = sum(np.outer(net.X[t - 1], d[t]) for t in range(1, T + 1))
    db = sum(d[t] for t in range(1, T + 1))
    assert total[T] == pytest.approx(np.sqrt(np.sum(dWx ** 2) + np.sum(db ** 2)), rel=1e-12)
    assert total[0] == 0.0 and per_step[0, 0] == pytest.approx(1.0)


@pytest.mark.parametrize("radius", [0.7, 1.8])
def test_gradients_agree_with_centred_differences(radius):
    net = RecurrentNet(hidden=6, inputs=2, max_length=14, input_scale=0.5, seed=2)
    per_step, total = net.gradients(radius)
    for T, k in [(14, 0), (14, 9), (6, 2), (3, 3)]:
        toward_state, params = centred_gradients(net, radius, T, k)
        assert per_step[T, k] == pytest.approx(np.linalg.norm(toward_state), rel=1e-7)
        assert total[T] == pytest.approx(np.sqrt(sum(np.sum(p ** 2) for p in params)), rel=1e-7)


def test_the_default_network_shows_vanishing_and_exploding_gradients():
    net = RecurrentNet()
    T = net.max_length
    small, _ = net.gradients(0.5)
    edge, _ = net.gradients(1.0)
    large, large_total = net.gradients(2.5)
    assert small[T, 0] < 1e-20 < 1e-5 < edge[T, 0] < 1.0 < 1e3 < large[T, 0]
    # Below radius 1 the gradient reaching step k shrinks (about) geometrically with T - k.
    assert np.all(np.diff(np.log(small[T, :T + 1])) > 0)
    assert large_total[T] > 1e3 * large_total[1]


def test_clipping_scales_every_step_by_the_same_factor(widget):
    state = widget.update(radius=2.0, length=80, clip=True, threshold=5.0)
    assert state["norm"] > 5.0
    c = 5.0 / (state["norm"] + 1e-6)
    assert state["coefficient"] == pytest.approx(c, rel=1e-12)
    np.testing.assert_allclose(state["clipped_per_step"], c * state["per_step"], rtol=1e-12)
    clipped, total = state["clipped_total"], state["total"]
    assert np.all(clipped <= 5.0 + 1e-9)
    np.testing.assert_array_equal(clipped[total < 5.0 - 1e-6], total[total < 5.0 - 1e-6])
    assert clip_coefficient(3.0, 5.0) == 1.0 and clip_coefficient(20.0, 5.0) < 0.25

    state = widget.update(clip=False)
    assert state["coefficient"] == 1.0
    np.testing.assert_array_equal(state["clipped_total"], state["total"])


def test_update_moves_the_drawn_artists(widget):
    artists = widget.artists
    widget.update(radius=0.8, length=30, clip=False)
    png_before = widget.png
    state = widget.update(radius=1.6, length=50, clip=True, threshold=2.0)
    x, y = artists["step line"].get_data()
    np.testing.assert_array_equal(x, np.arange(51))
    np.testing.assert_allclose(y, state["per_step"])
    np.testing.assert_allclose(artists["clipped step line"].get_data()[1], state["clipped_per_step"])
    assert artists["clipped step line"].get_visible() and artists["threshold line"].get_visible()
    assert list(artists["threshold line"].get_ydata()) == [2.0, 2.0]
    assert list(artists["length marker"].get_xdata()) == [50, 50]
    assert artists["length point"].get_data()[1][0] == pytest.approx(state["norm"])
    for radius, line in zip(REFERENCE_RADII, artists["reference steps"]):
        np.testing.assert_allclose(line.get_data()[1], widget.gradients(radius)[0][50, :51])
    assert f"|g| = {state['norm']:.3g} at T = 50" in artists["total text"].get_text()
    assert "c = " in artists["total text"].get_text()
    assert widget.png != png_before and widget.png.startswith(b"\x89PNG")
    widget.update(clip=False)
    assert not artists["clipped step line"].get_visible()
    assert "c = " not in artists["total text"].get_text()


def test_controls_and_their_ranges(widget):
    box = widget.widget()
    controls = box.controls
    assert set(controls) == set(widget.CONTROLS) == {"radius", "forget_bias", "length", "clip",
                                                     "threshold"}
    assert controls["forget_bias"].min <= 0.0 and controls["forget_bias"].max >= 3.0
    assert controls["radius"].min <= 0.5 and controls["radius"].max >= 2.5
    assert controls["length"].min <= 2 and controls["length"].max == widget.net.max_length
    assert controls["threshold"].min <= 0 and controls["threshold"].max >= 2  # log10 bounds
    for name in ("radius", "forget_bias", "length", "threshold"):
        assert controls[name].value == widget.values[name]


def test_moving_a_slider_redraws_the_image(widget):
    box = widget.widget()
    before = box.image.value
    box.controls["radius"].value = 0.6
    assert widget.values["radius"] == 0.6
    assert box.image.value == widget.png != before
    box.controls["clip"].value = True
    assert widget.values["clip"] is True and widget.artists["clipped step line"].get_visible()


def test_bad_controls_are_refused(widget):
    with pytest.raises(ValueError, match="unknown controls"):
        widget.update(spectral=1.0)
    with pytest.raises(ValueError, match="length must be in 1 .. 100"):
        widget.update(length=500)
    with pytest.raises(ValueError, match="threshold must be positive"):
        widget.update(threshold=0.0)
    with pytest.raises(ValueError, match="forget_bias must be a finite number"):
        widget.update(forget_bias=float("nan"))
    with pytest.raises(ValueError, match="same length"):
        RnnGradients(net=RecurrentNet(max_length=20), lstm=RecurrentLSTM(max_length=30))


def test_benchmark_case_moves_known_controls():
    widget, cases = benchmark_case()
    assert len(cases) >= 10 and all(set(case) <= set(widget.CONTROLS) for case in cases)


def test_the_widget_runs_on_the_edition_of_unit_09(tmp_path):
    """The lecture shows it while RNN.forward, RNN.backward and clip_grad_norm are still stubs."""
    from autograder.editions import write_edition

    write_edition("09_rnn", tmp_path)
    code = ("from nncourse.widgets.rnn_gradients import RnnGradients\n"
            "w = RnnGradients(length=20)\n"
            "state = w.update(radius=0.5, clip=True, threshold=1.0)\n"
            "print(state['per_step'][0] < 1e-4, bytes(w.widget().image.value)[:4])\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, env={"MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("True b'\\x89PNG'")


# --- the LSTM beside the RNN -----------------------------------------------------------------------

def lstm_centred_gradients(net, forget_bias, T, k, h=1e-6):
    """dL_T/dh_k (c_k held) and dL_T/d(Wx, Wh, b) of the LSTM by centred differences."""
    H = net.hidden

    def run(state, cell, Wx, Wh, b, start):
        for t in range(start + 1, T + 1):
            a = net.X[t - 1] @ Wx + state @ Wh + b
            i, f, o = (1 / (1 + np.exp(-a[j * H:(j + 1) * H])) for j in (0, 1, 3))
            cell = f * cell + i * np.tanh(a[2 * H:3 * H])
            state = o * np.tanh(cell)
        return float(net.u @ state)

    def derivative(f, array):
        grad = np.zeros_like(array)
        for index in np.ndindex(array.shape):
            original = array[index]
            array[index] = original + h
            up = f()
            array[index] = original - h
            down = f()
            array[index] = original
            grad[index] = (up - down) / (2 * h)
        return grad

    states, cells = net.states(forget_bias, T)
    Wx, Wh, b = net.Wx.copy(), net.Wh.copy(), net.bias(forget_bias)
    state = states[k].copy()
    toward_state = derivative(lambda: run(state, cells[k], Wx, Wh, b, k), state)
    zeros = np.zeros(H)
    params = [derivative(lambda: run(zeros, zeros, Wx, Wh, b, 0), p) for p in (Wx, Wh, b)]
    return toward_state, params


@pytest.mark.parametrize("forget_bias", [0.0, 2.5])
def test_lstm_gradients_agree_with_centred_differences(forget_bias):
    net = RecurrentLSTM(hidden=4, inputs=2, max_length=12, input_scale=0.5, seed=2)
    per_step, total = net.gradients(forget_bias)
    for T, k in [(12, 0), (12, 7), (5, 2), (3, 3)]:
        toward_state, params = lstm_centred_gradients(net, forget_bias, T, k)
        assert per_step[T, k] == pytest.approx(np.linalg.norm(toward_state), rel=1e-6)
        assert total[T] == pytest.approx(np.sqrt(sum(np.sum(p ** 2) for p in params)), rel=1e-6)
    assert np.all(per_step[np.triu_indices(13, 1)] == 0) and total[0] == 0.0


def test_an_open_forget_gate_carries_the_gradient_far_back():
    net, T = RecurrentLSTM(), 100
    closed, _ = net.gradients(0.0)
    opened, _ = net.gradients(3.0)
    rnn, _ = RecurrentNet().gradients(1.0)
    # f ~ 0.5 halves the gradient along the cell at every step; f ~ 0.95 keeps most of it.
    assert closed[T, 0] < 1e-15 < 1e-2 < opened[T, 0]
    assert opened[T, 0] > 100 * rnn[T, 0]  # the RNN at the edge, spectral radius 1


def test_the_lstm_panel_follows_its_slider_and_the_clipping(widget):
    artists = widget.artists
    state = widget.update(radius=1.0, forget_bias=3.0, length=70, clip=True, threshold=0.5)
    x, y = artists["lstm step line"].get_data()
    np.testing.assert_array_equal(x, np.arange(71))
    np.testing.assert_allclose(y, widget.lstm_gradients(3.0)[0][70, :71])
    assert state["lstm_norm"] == pytest.approx(widget.lstm_gradients(3.0)[1][70])
    c = clip_coefficient(state["lstm_norm"], 0.5)
    assert state["lstm_coefficient"] == pytest.approx(c) and c < 1.0
    np.testing.assert_allclose(artists["lstm clipped step line"].get_data()[1],
                               c * state["lstm_per_step"])
    assert np.all(state["lstm_clipped_total"] <= 0.5 + 1e-9)
    assert artists["lstm clipped step line"].get_visible()
    assert "forget bias 3.00" in artists["lstm step text"].get_text()
    assert "LSTM: |g|" in artists["total text"].get_text()
    before = widget.png
    state = widget.update(forget_bias=0.0, clip=False)
    assert state["lstm_per_step"][0] < 1e-6 * widget.lstm_gradients(3.0)[0][70, 0]
    assert not artists["lstm clipped step line"].get_visible() and widget.png != before
