"""A simulated class for unit 01 (sigmoid and perceptron), graded by real nbgrader.

The reference scores full marks and the untouched release zero; each plausible mistake loses the
points of its own test (only that one: the probes isolate predict, update and fit from each other)
with a phrase of the right message in the feedback; correct alternatives keep full marks; no
submitted file changes. A sigmoid that overflows loses its points even though its values are right
(a stable sigmoid is the point of its section), and a strict inequality is told that a score of
exactly 0 is the case in question.
"""
from grading_harness import SimulatedClass

UNIT = "01_linear_limits"
TESTS = ["test_sigmoid", "test_predict", "test_update", "test_fit"]
MAX_SCORE = 6

STABLE_UPDATE = """
    prediction = 1 if x @ self.w + self.b >= 0 else 0
    error = target - prediction
    if error == 0:
        return False
    {step}
    return True
"""

# name: (region rewrites, the test that must lose points, phrase(s) its feedback must contain)
MISTAKES = {
    # exp(x) / (1 + exp(x)) everywhere: exp overflows once x > 709, and inf / inf is nan.
    "sigmoid_nan_for_large_x": (
        [("functional", "sigmoid", "return np.exp(x) / (1.0 + np.exp(x))")],
        "test_sigmoid", "floating-point overflow"),
    # The textbook formula: exp(1000) overflows to inf, and 1 / (1 + inf) is the right value 0, so
    # every value is right; the overflow on the way fails it all the same, saying what to do.
    "sigmoid_overflows": (
        [("functional", "sigmoid", "return 1.0 / (1.0 + np.exp(-x))")],
        "test_sigmoid", ["floating-point overflow", "every exponent is at most 0"]),
    # A score of exactly 0 must predict class 1; the message says that this is the case in question.
    "strict_inequalities": {
        "predict_strict_inequality": (
            [("perceptron", "Perceptron.predict", "return (X @ self.w + self.b > 0).astype(np.int64)")],
            "test_predict", ["entries differ", "a score of exactly 0 predicts class 1"]),
        "update_strict_inequality": (
            [("perceptron", "Perceptron.update", STABLE_UPDATE.replace(">= 0", "> 0").format(
                step="self.w += self.lr * error * x\n    self.b += self.lr * error"))],
            "test_update", ["score is exactly 0", "a score of 0 predicts class 1"]),
    },
    "update_ignores_learning_rate": (
        [("perceptron", "Perceptron.update", STABLE_UPDATE.format(
            step="self.w += error * x\n    self.b += error"))],
        "test_update", "b after each update"),
    # Hebb-like: moves the weights towards every sample's class, right or wrong.
    "update_on_every_sample": (
        [("perceptron", "Perceptron.update", """
            sign = 1.0 if target == 1 else -1.0
            self.w += self.lr * sign * x
            self.b += self.lr * sign
            return True
        """)],
        "test_update", "after each update"),
    "fit_never_stops_early": (
        [("perceptron", "Perceptron.fit", """
            mistakes_per_epoch = []
            for _ in range(max_epochs):
                mistakes_per_epoch.append(sum(self.update(X[i], y[i]) for i in range(len(X))))
            return mistakes_per_epoch
        """)],
        "test_fit", ("mistakes per epoch on separable data", "expected a list of")),
    # Stops on a clean epoch without recording its 0.
    "fit_drops_the_clean_epoch": (
        [("perceptron", "Perceptron.fit", """
            mistakes_per_epoch = []
            for _ in range(max_epochs):
                order = self.rng.permutation(len(X)) if shuffle else range(len(X))
                mistakes = sum(self.update(X[i], y[i]) for i in order)
                if mistakes == 0:
                    break
                mistakes_per_epoch.append(mistakes)
            return mistakes_per_epoch
        """)],
        "test_fit", ("mistakes per epoch on separable data", "expected a list of")),
}

ALTERNATIVES = {
    "loops_and_other_formulas": [
        # never exponentiates a positive number: exp(-|x|) serves both halves
        ("functional", "sigmoid", """
            e = np.exp(-np.abs(x))
            return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
        """),
        ("perceptron", "Perceptron.predict", """
            labels = np.zeros(len(X), dtype=np.int64)
            for i in range(len(X)):
                if np.dot(X[i], self.w) + self.b >= 0:
                    labels[i] = 1
            return labels
        """),
        # reuses predict on a batch of one, and writes the two cases out
        ("perceptron", "Perceptron.update", """
            prediction = self.predict(x[None, :])[0]
            if prediction == target:
                return False
            if target == 1:
                self.w = self.w + self.lr * x
                self.b = self.b + self.lr
            else:
                self.w = self.w - self.lr * x
                self.b = self.b - self.lr
            return True
        """),
        ("perceptron", "Perceptron.fit", """
            history = []
            while len(history) < max_epochs:
                order = self.rng.permutation(len(X)) if shuffle else np.arange(len(X))
                count = 0
                for i in order:
                    if self.update(X[i], y[i]):
                        count += 1
                history.append(count)
                if count == 0:
                    return history
            return history
        """),
    ],
}


class TestUnit01(SimulatedClass):
    unit, tests, max_score = UNIT, TESTS, MAX_SCORE
    mistakes, alternatives = MISTAKES, ALTERNATIVES
