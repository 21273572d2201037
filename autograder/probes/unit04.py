"""Probes of unit 04: activation derivatives, MSE and BCE, numerical gradients, logistic regression."""
import numpy as np

from . import probe, stable


def _pre_activations(rng):
    """Normal values plus the awkward ones: exact 0 and very large magnitudes."""
    z = np.concatenate([rng.normal(0.0, 3.0, 40), [0.0, -1000.0, -30.0, 30.0, 1000.0]])
    return rng.permutation(z).reshape(5, 9)


@probe("nnlib.functional.sigmoid_derivative", label="sigmoid_derivative(z)")
def _(nn, rng):
    return nn.functional.sigmoid_derivative(_pre_activations(rng))


@probe("nnlib.functional.tanh_derivative", label="tanh_derivative(z)")
def _(nn, rng):
    return nn.functional.tanh_derivative(_pre_activations(rng))


@probe("nnlib.functional.relu_derivative", label="relu_derivative(z)")
def _(nn, rng):
    return nn.functional.relu_derivative(_pre_activations(rng))


def _regression_batch(rng):
    shape = (int(rng.integers(2, 9)), int(rng.integers(1, 5)))
    return rng.normal(size=shape), rng.normal(size=shape)


@probe("nnlib.losses.MSELoss.forward", label="MSELoss()(pred, target)")
def _(nn, rng):
    return nn.losses.MSELoss().forward(*_regression_batch(rng))


@probe("nnlib.losses.MSELoss.backward", label="MSELoss.backward()")
def _(nn, rng):
    loss = nn.losses.MSELoss()
    loss.forward(*_regression_batch(rng))
    return loss.backward()


def _binary_batch(rng):
    n = int(rng.integers(3, 12))
    return rng.uniform(0.02, 0.98, (n, 1)), rng.integers(0, 2, (n, 1)).astype(np.float64)


def _saturated_batch(rng):
    """Probabilities of exactly 0 and 1 (a saturated sigmoid) with both targets, among others."""
    probs, targets = _binary_batch(rng)
    probs = np.concatenate([[[0.0], [0.0], [1.0], [1.0]], probs])
    targets = np.concatenate([[[0.0], [1.0], [0.0], [1.0]], targets])
    order = rng.permutation(len(probs))
    return probs[order], targets[order]


@probe("nnlib.losses.BCELoss.forward", label="BCELoss()(probs, targets)")
def _(nn, rng):
    ordinary, saturated = _binary_batch(rng), _saturated_batch(rng)
    with stable("BCELoss with probabilities of exactly 0 and 1",
                "log(0) is -inf, and 0 * -inf is nan: clamp each log at -100, as the docstring "
                "says, without letting numpy report log(0) (np.errstate(divide=\"ignore\") "
                "around the logs, or raise the probability to exp(-100) first)"):
        ordinary_loss = nn.losses.BCELoss().forward(*ordinary)
        saturated_loss = nn.losses.BCELoss().forward(*saturated)
    return {"loss of probabilities in (0, 1)": ordinary_loss,
            "loss with probabilities of exactly 0 and 1 (each log clamped at -100)": saturated_loss}


@probe("nnlib.losses.BCELoss.backward", label="BCELoss.backward()")
def _(nn, rng):
    loss = nn.losses.BCELoss()
    loss.forward(*_binary_batch(rng))
    return loss.backward()


def _curvy(v):
    # Curved enough that a one-sided difference is visibly off, even at h = 1e-5.
    return float(np.sum(np.sin(3 * v) * v ** 2 + np.exp(0.5 * v)))


@probe("nnlib.gradcheck.numerical_gradient", label="numerical_gradient(f, x)")
def _(nn, rng):
    x = rng.normal(size=(3, 4))
    before = x.copy()
    default_step = nn.gradcheck.numerical_gradient(_curvy, x)
    restored = bool(np.array_equal(x, before))
    wide_step = nn.gradcheck.numerical_gradient(_curvy, x, h=1e-3)
    return {"gradient with h=1e-5": default_step, "gradient with h=1e-3": wide_step,
            "x restored afterwards": restored}


@probe("nnlib.gradcheck.rel_error", label="rel_error(a, b)")
def _(nn, rng):
    a = rng.normal(size=(4, 5))
    cases = [(a, a + rng.normal(scale=1e-3, size=a.shape)), (a, a), (a, 2 * a),
             (np.zeros(3), np.array([0.0, 1e-9, 1.0]))]
    return [nn.gradcheck.rel_error(x, y) for x, y in cases]


def _logistic_problem(nn, rng):
    n, d = int(rng.integers(5, 15)), int(rng.integers(2, 5))
    while d == n:
        d += 1
    model = nn.logistic.LogisticRegression(d)
    model.w[...] = rng.normal(size=d)
    model.b = float(rng.normal())
    X = rng.normal(scale=2.0, size=(n, d))
    t = rng.integers(0, 2, n).astype(np.float64)
    return model, X, t


@probe("nnlib.logistic.LogisticRegression.loss_and_gradients",
       label="LogisticRegression.loss_and_gradients")
def _(nn, rng):
    model, X, t = _logistic_problem(nn, rng)
    loss, dw, db = model.loss_and_gradients(X, t)
    # Weights 300 times larger: logits in the hundreds and thousands, where log(o) takes log(0)
    # and log(1 + exp(z)) overflows; the section asks for a loss computed from the logits.
    model.w[...] *= 300.0
    with stable("loss_and_gradients with logits of size 1000",
                "compute the loss from the logits z, as log(1 + exp(z)) - t z with "
                "np.logaddexp(0, z) for log(1 + exp(z)), never log(o) or exp of a large z"):
        large_loss, large_dw, large_db = model.loss_and_gradients(X, t)
    return {"loss": loss, "dw": dw, "db": db, "loss for logits of size 1000": large_loss,
            "dw for logits of size 1000": large_dw, "db for logits of size 1000": large_db}


def _quadratic_bowl(model, centre_w, centre_b):
    """A stand-in for loss_and_gradients: (w - c)^2 + (b - d)^2 and its gradient.

    It grades fit apart from the gradients (a wrong loss_and_gradients fails only its own test)
    and, unlike the reference, gives a judged process nothing to copy.
    """
    def loss_and_gradients(X, t):
        return (float(np.sum((model.w - centre_w) ** 2) + (model.b - centre_b) ** 2),
                2.0 * (model.w - centre_w), float(2.0 * (model.b - centre_b)))
    return loss_and_gradients


@probe("nnlib.logistic.LogisticRegression.fit", label="LogisticRegression.fit")
def _(nn, rng):
    model, X, t = _logistic_problem(nn, rng)
    model.loss_and_gradients = _quadratic_bowl(model, rng.normal(size=model.w.shape), float(rng.normal()))
    losses = model.fit(X, t, lr=0.3, epochs=12)
    return {"losses per epoch": list(losses), "w after fit": model.w, "b after fit": float(model.b)}
