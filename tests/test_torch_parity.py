"""nnlib against PyTorch itself, in float64, where the API promises PyTorch's arithmetic.

Convolution, max pooling, the RNN and the LSTM are compared with PyTorch in test_conv.py and test_rnn.py; this
file covers the optimizers, gradient clipping, BatchNorm1d, Linear, the losses, softmax and the
activations. Both sides compute in float64, so they agree to rounding: 1e-12 (relative and
absolute) leaves room only for a different order of the same floating-point operations.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch is optional: pip install -e '.[bench]'")

from nnlib import optim  # noqa: E402
from nnlib.functional import log_softmax, softmax  # noqa: E402
from nnlib.layers import Linear, ReLU, Sigmoid, Tanh  # noqa: E402
from nnlib.losses import BCELoss, CrossEntropyLoss, MSELoss  # noqa: E402
from nnlib.regularization import BatchNorm1d  # noqa: E402

TOL = dict(rtol=1e-12, atol=1e-12)


def tensor(array, requires_grad=False):
    return torch.tensor(np.asarray(array, dtype=np.float64), dtype=torch.float64,
                        requires_grad=requires_grad)


def numpy(t):
    return t.detach().numpy()


# --- optimizers --------------------------------------------------------------------------------

OPTIMIZER_CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, weight_decay=0.01)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.01)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, weight_decay=0.01)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.9), weight_decay=0.1)),
]


@pytest.mark.parametrize("name, hyperparameters", OPTIMIZER_CASES,
                         ids=[f"{name}-{'-'.join(map(str, kw))}" for name, kw in OPTIMIZER_CASES])
def test_optimizer_steps_match_torch(name, hyperparameters):
    rng = np.random.default_rng(0)
    shapes = [(3, 4), (5,)]
    initial = [rng.standard_normal(shape) for shape in shapes]
    # Gradients of mixed sign and size, a new one at every step.
    gradients = [[rng.standard_normal(shape) * 3.0 ** step for shape in shapes]
                 for step in range(5)]

    params = [value.copy() for value in initial]
    grads = [np.zeros_like(value) for value in initial]
    ours = getattr(optim, name)(list(zip(params, grads)), **hyperparameters)
    torch_params = [tensor(value, requires_grad=True) for value in initial]
    theirs = getattr(torch.optim, name)(torch_params, **hyperparameters)

    for step_gradients in gradients:
        for grad, torch_param, gradient in zip(grads, torch_params, step_gradients):
            grad[...] = gradient
            torch_param.grad = tensor(gradient)
        ours.step()
        theirs.step()
        for param, torch_param in zip(params, torch_params):
            np.testing.assert_allclose(param, numpy(torch_param), **TOL)


@pytest.mark.parametrize("max_norm", [1.0, 100.0])  # clipped, and left alone
def test_clip_grad_norm_matches_torch(max_norm):
    rng = np.random.default_rng(1)
    gradients = [rng.standard_normal(5) * 2.0, rng.standard_normal((2, 3))]
    pairs = [(np.zeros_like(gradient), gradient.copy()) for gradient in gradients]
    total = optim.clip_grad_norm(pairs, max_norm)

    torch_params = [torch.zeros(gradient.shape, dtype=torch.float64, requires_grad=True)
                    for gradient in gradients]
    for torch_param, gradient in zip(torch_params, gradients):
        torch_param.grad = tensor(gradient)
    torch_total = torch.nn.utils.clip_grad_norm_(torch_params, max_norm)

    assert total == pytest.approx(float(torch_total), rel=1e-12)
    for (_, grad), torch_param in zip(pairs, torch_params):
        np.testing.assert_allclose(grad, numpy(torch_param.grad), **TOL)


# --- BatchNorm1d -------------------------------------------------------------------------------

def test_batchnorm_training_running_statistics_and_eval_match_torch():
    rng = np.random.default_rng(2)
    ours = BatchNorm1d(4, momentum=0.2)
    theirs = torch.nn.BatchNorm1d(4, momentum=0.2, dtype=torch.float64)
    gamma, beta = rng.uniform(0.5, 2.0, 4), rng.standard_normal(4)
    ours.params["gamma"], ours.params["beta"] = gamma, beta
    with torch.no_grad():
        theirs.weight.copy_(tensor(gamma))
        theirs.bias.copy_(tensor(beta))

    for step in range(3):  # a different batch (and size) each step: 7, 8, 9 rows
        x = rng.standard_normal((7 + step, 4)) * [1.0, 5.0, 0.1, 2.0] + [0.0, 3.0, -1.0, 10.0]
        np.testing.assert_allclose(ours.forward(x), numpy(theirs(tensor(x))), **TOL)
    np.testing.assert_allclose(ours.running_mean, numpy(theirs.running_mean), **TOL)
    np.testing.assert_allclose(ours.running_var, numpy(theirs.running_var), **TOL)

    ours.eval()
    theirs.eval()
    x = rng.standard_normal((5, 4))
    np.testing.assert_allclose(ours.forward(x), numpy(theirs(tensor(x))), **TOL)


def test_batchnorm_backward_matches_autograd():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 3)) * 4.0 + 1.0
    grad_out = rng.standard_normal((6, 3))
    gamma, beta = rng.uniform(0.5, 2.0, 3), rng.standard_normal(3)
    ours = BatchNorm1d(3)
    ours.params["gamma"], ours.params["beta"] = gamma, beta
    ours.forward(x)
    dx = ours.backward(grad_out)

    x_t = tensor(x, requires_grad=True)
    gamma_t, beta_t = tensor(gamma, requires_grad=True), tensor(beta, requires_grad=True)
    y_t = torch.nn.functional.batch_norm(x_t, None, None, gamma_t, beta_t, training=True, eps=1e-5)
    y_t.backward(tensor(grad_out))

    np.testing.assert_allclose(dx, numpy(x_t.grad), **TOL)
    np.testing.assert_allclose(ours.grads["gamma"], numpy(gamma_t.grad), **TOL)
    np.testing.assert_allclose(ours.grads["beta"], numpy(beta_t.grad), **TOL)


# --- Linear ------------------------------------------------------------------------------------

def test_linear_forward_and_backward_match_torch():
    rng = np.random.default_rng(4)
    layer = Linear(5, 3, rng=0)
    x = rng.standard_normal((4, 5))
    grad_out = rng.standard_normal((4, 3))
    y = layer.forward(x)
    dx = layer.backward(grad_out)

    reference = torch.nn.Linear(5, 3, dtype=torch.float64)
    with torch.no_grad():  # nnlib's W is (in, out): the transpose of torch's weight
        reference.weight.copy_(tensor(layer.params["W"].T))
        reference.bias.copy_(tensor(layer.params["b"]))
    x_t = tensor(x, requires_grad=True)
    y_t = reference(x_t)
    y_t.backward(tensor(grad_out))

    np.testing.assert_allclose(y, numpy(y_t), **TOL)
    np.testing.assert_allclose(dx, numpy(x_t.grad), **TOL)
    np.testing.assert_allclose(layer.grads["W"], numpy(reference.weight.grad).T, **TOL)
    np.testing.assert_allclose(layer.grads["b"], numpy(reference.bias.grad), **TOL)


# --- losses ------------------------------------------------------------------------------------

def loss_and_gradient_of_torch(loss, pred, target):
    pred_t = tensor(pred, requires_grad=True)
    value = loss(pred_t, target)
    value.backward()
    return float(value.detach()), numpy(pred_t.grad)


def assert_loss_matches(ours, theirs, pred, target, torch_target):
    value = ours.forward(pred, target)
    grad = ours.backward()
    torch_value, torch_grad = loss_and_gradient_of_torch(theirs, pred, torch_target)
    assert value == pytest.approx(torch_value, rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(grad, torch_grad, **TOL)


@pytest.mark.parametrize("shape", [(7,), (4, 3)])
def test_mse_loss_matches_torch(shape):
    rng = np.random.default_rng(5)
    pred, target = rng.standard_normal(shape), rng.standard_normal(shape)
    assert_loss_matches(MSELoss(), torch.nn.MSELoss(), pred, target, tensor(target))


@pytest.mark.parametrize("shape", [(6,), (6, 1)])
def test_bce_loss_matches_torch_including_probabilities_zero_and_one(shape):
    # 0 and 1 with either target: torch clamps each log at -100 and the gradient's denominator
    # p (1 - p) at 1e-12, so the loss and its (huge) gradient stay finite; nnlib must agree.
    pred = np.array([0.0, 1.0, 0.0, 1.0, 0.3, 0.999]).reshape(shape)
    target = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.25]).reshape(shape)
    clamped = pred * (1.0 - pred) < 1e-12
    # Where p (1 - p) is clamped, torch divides by its 1e-12 rounded to float32, 1e-12 * (1 - 4e-9),
    # nnlib by the float64 1e-12: the huge gradients there (+-1.7e11) agree to 4e-9 only.
    ours, theirs = BCELoss(), torch.nn.BCELoss()
    value = ours.forward(pred, target)
    grad = ours.backward()
    torch_value, torch_grad = loss_and_gradient_of_torch(theirs, pred, tensor(target))
    assert value == pytest.approx(torch_value, rel=1e-12)
    np.testing.assert_allclose(grad[~clamped], torch_grad[~clamped], **TOL)
    np.testing.assert_allclose(grad[clamped], torch_grad[clamped], rtol=1e-8)
    assert np.all(grad[clamped & (pred == target)] == 0)


@pytest.mark.parametrize("scale", [1.0, 1000.0])  # ordinary logits, and ones that overflow exp
def test_cross_entropy_matches_torch(scale):
    rng = np.random.default_rng(6)
    logits = rng.standard_normal((5, 4)) * scale
    labels = np.array([0, 3, 1, 1, 2])
    assert_loss_matches(CrossEntropyLoss(), torch.nn.CrossEntropyLoss(), logits, labels,
                        torch.tensor(labels))


# --- softmax and the activations ---------------------------------------------------------------

def test_softmax_and_log_softmax_match_torch_at_large_logits():
    logits = np.array([[1000.0, -1000.0, 0.0], [1000.0, 999.0, 998.0], [-1000.0, -999.0, -1000.0]])
    for axis in (0, 1):
        np.testing.assert_allclose(softmax(logits, axis=axis),
                                   numpy(torch.softmax(tensor(logits), dim=axis)), **TOL)
        np.testing.assert_allclose(log_softmax(logits, axis=axis),
                                   numpy(torch.log_softmax(tensor(logits), dim=axis)), **TOL)


@pytest.mark.parametrize("ours, theirs", [(Sigmoid, torch.sigmoid), (Tanh, torch.tanh),
                                          (ReLU, torch.relu)], ids=["Sigmoid", "Tanh", "ReLU"])
def test_activations_match_torch(ours, theirs):
    rng = np.random.default_rng(7)
    # Ordinary values, exact zeros (ReLU's kink: torch's gradient there is 0) and large |x|.
    x = np.concatenate([rng.standard_normal(12), [0.0, -0.0, 40.0, -40.0, 800.0, -800.0]])
    x = x.reshape(3, 6)
    grad_out = rng.standard_normal(x.shape)
    layer = ours()
    y = layer.forward(x)
    dx = layer.backward(grad_out)

    x_t = tensor(x, requires_grad=True)
    y_t = theirs(x_t)
    y_t.backward(tensor(grad_out))
    np.testing.assert_allclose(y, numpy(y_t), **TOL)
    np.testing.assert_allclose(dx, numpy(x_t.grad), **TOL)
