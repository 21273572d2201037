"""Threshold units as logic gates and the two-layer XOR network, checked exhaustively on {0, 1}^2."""
import numpy as np
import pytest

from nnlib.logic import (ThresholdLayer, and_gate_weights, nand_gate_weights, or_gate_weights,
                         run_network, step, xor_network)

BITS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
TRUTH_TABLES = {
    "and": (and_gate_weights, [0, 0, 0, 1]),
    "or": (or_gate_weights, [0, 1, 1, 1]),
    "nand": (nand_gate_weights, [1, 1, 1, 0]),
}


def test_step():
    z = np.array([-2.0, -1e-12, 0.0, 1e-12, 3.0])
    out = step(z)
    np.testing.assert_array_equal(out, [0.0, 0.0, 1.0, 1.0, 1.0])
    assert out.dtype == np.float64
    assert step(np.zeros((2, 3))).shape == (2, 3)
    assert step(0.0) == 1.0


@pytest.mark.parametrize("gate", sorted(TRUTH_TABLES))
def test_gate_truth_table(gate):
    weights, table = TRUTH_TABLES[gate]
    W, b = weights()
    assert np.shape(W) == (2, 1) and np.shape(b) == (1,)
    out = ThresholdLayer(W, b)(BITS)
    assert out.shape == (4, 1)
    np.testing.assert_array_equal(out[:, 0], table)
    # a margin: the decision does not hinge on a score of exactly 0
    scores = BITS @ np.asarray(W, dtype=float) + b
    assert np.min(np.abs(scores)) > 0.1


def test_xor_network():
    layers = xor_network()
    assert len(layers) == 2
    hidden, output = layers
    assert isinstance(hidden, ThresholdLayer) and isinstance(output, ThresholdLayer)
    assert hidden.W.shape == (2, 2) and output.W.shape == (2, 1)
    out = run_network(layers, BITS)
    assert out.shape == (4, 1)
    np.testing.assert_array_equal(out[:, 0], [0, 1, 1, 0])
    # the hidden layer is OR and NAND side by side
    np.testing.assert_array_equal(hidden(BITS), [[0, 1], [1, 1], [1, 1], [1, 0]])


def test_xor_network_with_integer_and_repeated_inputs():
    X = np.array([[1, 1], [1, 0], [1, 0], [0, 0], [0, 1]])
    np.testing.assert_array_equal(run_network(xor_network(), X)[:, 0], [0, 1, 1, 0, 1])


def test_threshold_layer_forward_by_hand():
    layer = ThresholdLayer([[1.0, -1.0, 0.0], [2.0, 0.5, 0.0]], [-1.0, 0.0, -0.1])
    X = np.array([[0.5, 0.25], [0.0, 0.0]])
    # scores: [0, -0.375, -0.1] and [-1, 0, -0.1]
    np.testing.assert_array_equal(layer.forward(X), [[1, 0, 0], [0, 1, 0]])
    assert repr(layer) == "ThresholdLayer(2 -> 3)"


def test_threshold_layer_shape_validation():
    layer = ThresholdLayer(np.ones((2, 1)), np.zeros(1))
    assert repr(layer) == "ThresholdLayer(2 -> 1)"
    with pytest.raises(ValueError, match=r"ThresholdLayer\(2 -> 1\).*\(N, 2\).*\(4, 3\)"):
        layer(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"\(N, 2\).*\(2,\)"):
        layer(np.zeros(2))
    with pytest.raises(ValueError, match=r"\(2,\).*\(1,\)"):
        ThresholdLayer(np.ones((2, 2)), np.zeros(1))
    with pytest.raises(ValueError, match=r"\(D, M\)"):
        ThresholdLayer(np.ones(2), np.zeros(1))
