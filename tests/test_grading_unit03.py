"""A simulated class for unit 03 (Linear, activations, Sequential), graded by real nbgrader.

The reference scores full marks and the untouched release zero. Each plausible mistake loses the
points of its own test, with a phrase of the right message in the feedback. To keep grading short,
a student makes several mistakes, each in a different function: since the probes isolate the
functions (Linear.forward runs with fixed weights, Sequential with trusted layers), every other test
of that student must keep its points. Correct alternatives keep full marks; no submitted file changes.
"""
from grading_harness import SimulatedClass

UNIT = "03_forward_pass"
TESTS = ["test_linear_reset_parameters", "test_linear_forward", "test_sigmoid_forward",
         "test_tanh_forward", "test_relu_forward", "test_sequential_forward"]
MAX_SCORE = 9

INIT = """
    bound = {bound}
    self._add_parameter("W", {draw}.uniform(-bound, bound, size={shape}))
    self._add_parameter("b", {draw}.uniform(-bound, bound, size=self.out_features))
"""


def init(bound="1.0 / np.sqrt(self.in_features)", draw="self.rng",
         shape="(self.in_features, self.out_features)"):
    return ("layers", "Linear.reset_parameters", INIT.format(bound=bound, draw=draw, shape=shape))


# student: {mistake: (region rewrite, the test that must lose points, a phrase of its message)}
MISTAKES = {
    "shapes_and_order": {
        # the slides' column convention W x, applied to a batch of rows
        "weights_times_input": (("layers", "Linear.forward", 'return self.params["W"] @ x + self.params["b"]'),
                                "test_linear_forward", "Linear.forward raised ValueError"),
        "layers_in_reverse": (("layers", "Sequential.forward", """
            for layer in reversed(self.layers):
                x = layer.forward(x)
            return x
        """), "test_sequential_forward", "layers run in order"),
        "bound_one_over_fan_in": (init(bound="1.0 / self.in_features"), "test_linear_reset_parameters",
                                  "largest entry of W divided by 1/sqrt(in_features)"),
        "relu_as_abs": (("layers", "ReLU.forward", "return np.abs(x)"), "test_relu_forward",
                        "ReLU(x) = 0 for x"),
    },
    "forgotten_pieces": {
        "no_bias": (("layers", "Linear.forward", 'return x @ self.params["W"]'), "test_linear_forward",
                    "is the bias added?"),
        "relu_max_with_one": (("layers", "ReLU.forward", "return np.maximum(x, 1)"), "test_relu_forward",
                              "ReLU(x) = 0 for x"),
        # sigma(x) = (1 + tanh(x / 2)) / 2: without the 1/2 inside, the slope at 0 doubles
        "sigmoid_via_tanh_unscaled": (("layers", "Sigmoid.forward", "return 0.5 * (1.0 + np.tanh(x))"),
                                      "test_sigmoid_forward", "slope at 0 is 1/4"),
        "global_random_state": (init(draw="np.random"), "test_linear_reset_parameters",
                                "the same rng seed gives the same W and b"),
    },
    "more_slips": {
        # tanh(x) = 2 sigma(2x) - 1: without the 2 inside, it is tanh(x / 2)
        "tanh_via_sigmoid_unscaled": (("layers", "Tanh.forward", "return 2.0 * sigmoid(x) - 1.0"),
                                      "test_tanh_forward", "slope at 0 is 1"),
        "weights_stored_transposed": (init(shape="(self.out_features, self.in_features)"),
                                      "test_linear_reset_parameters", "W.shape"),
    },
}

ALTERNATIVES = {
    # one student, every function written differently (and Linear.forward with loops)
    "other_correct_forms": [
        ("layers", "ReLU.forward", "return x * (x > 0)"),
        ("layers", "Sigmoid.forward", "return 0.5 * (1.0 + np.tanh(0.5 * x))"),
        ("layers", "Tanh.forward", "return 2.0 * sigmoid(2.0 * x) - 1.0"),
        ("layers", "Linear.forward", """
            W, b = self.params["W"], self.params["b"]
            out = np.zeros((x.shape[0], W.shape[1]))
            for n in range(x.shape[0]):
                for k in range(W.shape[1]):
                    out[n, k] = b[k] + sum(x[n, i] * W[i, k] for i in range(W.shape[0]))
            return out
        """),
        ("layers", "Sequential.forward", """
            import functools
            return functools.reduce(lambda out, layer: layer(out), self.layers, x)
        """),
        # the bias drawn first, each from a uniform [0, 1) draw scaled by hand
        ("layers", "Linear.reset_parameters", """
            scale = 1.0 / np.sqrt(self.in_features)
            b = scale * (2.0 * self.rng.random(self.out_features) - 1.0)
            W = scale * (2.0 * self.rng.random((self.in_features, self.out_features)) - 1.0)
            self._add_parameter("W", W)
            self._add_parameter("b", b)
        """),
    ],
}


class TestUnit03(SimulatedClass):
    unit, tests, max_score = UNIT, TESTS, MAX_SCORE
    mistakes, alternatives = MISTAKES, ALTERNATIVES
