"""A simulated class for unit 02 (threshold units, gates, XOR), graded by real nbgrader.

The reference scores full marks and the untouched release zero. Each plausible mistake loses the
points of its own test and of no other (step, forward, each gate and XOR are graded apart: a wrong
OR gate does not cost the XOR network), with a message naming what is wrong. Correct alternatives
keep full marks: gates are graded by what they compute, so other weights (scaled by 10, or a
different XOR decomposition) are as good as the reference's.
"""
from grading_harness import SimulatedClass

UNIT = "02_xor"
MAX_SCORE = 7

TESTS = ["test_step", "test_threshold_layer_forward", "test_and_gate", "test_or_gate",
         "test_nand_gate", "test_xor_network"]

# name: (region rewrites, the one test that must lose points, phrases its message must contain)
MISTAKES = {
    "step_strict_at_zero": (
        [("logic", "step", "return np.where(z > 0, 1.0, 0.0)")],
        "test_step", ["step(z)['z = 0']: expected 1, got 0"]),
    "forward_forgets_the_bias": (
        [("logic", "ThresholdLayer.forward", "return step(X @ self.W)")],
        "test_threshold_layer_forward", ["scores X @ W + b given to step", "differs from the right answer"]),
    "forward_squeezes_one_unit_to_shape_n": (
        [("logic", "ThresholdLayer.forward", "return np.squeeze(step(X @ self.W + self.b))")],
        "test_threshold_layer_forward", ["2 inputs, 1 unit", "expected shape (", ", 1), got ("]),
    "or_gate_with_the_and_bias": (
        [("logic", "or_gate_weights", "return np.array([[1.0], [1.0]]), np.array([-1.5])")],
        "test_or_gate", ["or_gate_weights()['output at x = (0, 1)']: expected 1, got 0"]),
    "and_line_through_the_corner": (
        [("logic", "and_gate_weights", "return np.array([[1.0], [1.0]]), np.array([-2.0])")],
        "test_and_gate", ["near the corner (1, 1)']: expected 1, got 0"]),
    "nand_weights_as_a_flat_vector": (
        [("logic", "nand_gate_weights", "return np.array([-1.0, -1.0]), np.array([1.5])")],
        "test_nand_gate", ["W is a numpy array of shape (2, 1)"]),
    "xor_hidden_layer_or_and_instead_of_or_nand": (
        [("logic", "xor_network", """
            W_or, b_or = or_gate_weights()
            W_and, b_and = and_gate_weights()
            hidden = ThresholdLayer(np.hstack([W_or, W_and]), np.concatenate([b_or, b_and]))
            output = ThresholdLayer(*and_gate_weights())
            return [hidden, output]
        """)],
        "test_xor_network", ["xor_network()['output at x = (0, 1)']: expected 1, got 0"]),
}

ALTERNATIVES = {
    "other_weights_loops_and_another_xor": [
        ("logic", "step", "return np.heaviside(z, 1.0)"),
        ("logic", "ThresholdLayer.forward", """
            out = np.zeros((X.shape[0], self.W.shape[1]))
            for n in range(X.shape[0]):
                for j in range(self.W.shape[1]):
                    score = self.b[j]
                    for d in range(self.W.shape[0]):
                        score += X[n, d] * self.W[d, j]
                    out[n, j] = step(score)
            return out
        """),
        ("logic", "and_gate_weights", "return np.array([[10.0], [10.0]]), np.array([-15.0])"),
        ("logic", "or_gate_weights", "return np.array([[2.0], [2.0]]), np.array([-1.0])"),
        ("logic", "nand_gate_weights", "return -3.0 * np.ones((2, 1)), np.array([4.5])"),
        ("logic", "xor_network", """
            # h1 = x1 AND NOT x2, h2 = x2 AND NOT x1; XOR = h1 OR h2
            hidden = ThresholdLayer(np.array([[1.0, -1.0], [-1.0, 1.0]]), np.array([-0.5, -0.5]))
            return [hidden, ThresholdLayer(*or_gate_weights())]
        """),
    ],
}


class TestUnit02(SimulatedClass):
    unit, tests, max_score = UNIT, TESTS, MAX_SCORE
    mistakes, alternatives = MISTAKES, ALTERNATIVES
