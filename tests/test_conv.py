"""Tests of nnlib.conv: naive and im2col convolution, im2col/col2im, Conv2d and MaxPool2d."""
import numpy as np
import pytest

from nnlib.conv import (Conv2d, MaxPool2d, col2im, conv2d_backward_naive, conv2d_forward_naive,
                        im2col)
from nnlib.gradcheck import check_layer, numerical_gradient_array, rel_error

# (N, C, H, W, F, kernel, stride, padding): batch of 1, odd sizes, stride 2, padding 1,
# non-square kernels, several channels in and out, overlapping and non-overlapping windows.
CONFIGS = [
    (1, 1, 3, 3, 1, 2, 1, 0),
    (2, 3, 5, 4, 2, 3, 1, 1),
    (1, 2, 7, 5, 3, (3, 2), 2, 0),
    (3, 1, 6, 7, 2, (2, 3), (2, 1), (1, 2)),
    (2, 2, 5, 5, 4, 3, 2, 1),
    (1, 3, 4, 6, 2, (1, 2), (1, 3), (0, 1)),
]
CONFIG_IDS = [f"N{c[0]}-C{c[1]}-{c[2]}x{c[3]}-F{c[4]}-k{c[5]}-s{c[6]}-p{c[7]}" for c in CONFIGS]
SEEDS = [0, 1, 2]
TOL = 1e-7
# A convolution is linear in x, W and b, so centred differences have no truncation error at any step
# and only round-off is left, about 1e-16 * |loss| / h. With the default h = 1e-5 that is ~1e-11,
# which already fails 1e-7 on a dx entry of 1e-5 (a corner pixel touched by one small weight); a
# larger step divides the round-off by 100 and keeps the strict tolerance.
LINEAR_STEP = 1e-3


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def _random_problem(config, seed):
    N, C, H, W, F, kernel, stride, padding = config
    rng = np.random.default_rng(seed)
    layer = Conv2d(C, F, kernel, stride, padding, rng=rng)
    x = rng.standard_normal((N, C, H, W))
    return layer, x, rng


def _expected_out_shape(config):
    N, C, H, W, F, kernel, stride, padding = config
    (kh, kw), (sh, sw), (ph, pw) = _pair(kernel), _pair(stride), _pair(padding)
    return (N, F, (H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1)


# --- hand-computed values -------------------------------------------------------------------------

X_TINY = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)  # [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
W_TINY = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 1, 2, 2)
B_TINY = np.array([1.0])


def _tiny_layer(stride=1, padding=0):
    layer = Conv2d(1, 1, 2, stride=stride, padding=padding, rng=0)
    layer.params["W"][...] = W_TINY
    layer.params["b"][...] = B_TINY
    return layer


@pytest.mark.parametrize("forward", ["naive", "im2col"])
def test_forward_matches_hand_computed_tiny_example(forward):
    # out[0, 0] = 1*1 + 2*2 + 3*4 + 4*5 + 1 = 38. A flipped kernel (true convolution) would give
    # 4*1 + 3*2 + 2*4 + 1*5 + 1 = 24, so this also tells cross-correlation from convolution.
    expected = np.array([[38.0, 48.0], [68.0, 78.0]]).reshape(1, 1, 2, 2)
    if forward == "naive":
        out = conv2d_forward_naive(X_TINY, W_TINY, B_TINY)
    else:
        out = _tiny_layer().forward(X_TINY)
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("forward", ["naive", "im2col"])
def test_forward_matches_hand_computed_padding_and_stride(forward):
    # Padded to 5x5, windows at rows/cols 0 and 2: [[0,0],[0,1]], [[0,0],[2,3]], [[0,4],[0,7]],
    # [[5,6],[8,9]] -> 4, 18, 36, 77 (+ bias 1).
    expected = np.array([[5.0, 19.0], [37.0, 78.0]]).reshape(1, 1, 2, 2)
    if forward == "naive":
        out = conv2d_forward_naive(X_TINY, W_TINY, B_TINY, stride=2, padding=1)
    else:
        out = _tiny_layer(stride=2, padding=1).forward(X_TINY)
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("backward", ["naive", "im2col"])
def test_backward_matches_hand_computed_tiny_example(backward):
    dout = np.ones((1, 1, 2, 2))
    # dW[u, v] = sum of the 2x2 block of x starting at (u, v); dx counts the kernel entries that
    # touched each pixel; db = number of outputs.
    expected_dx = np.array([[1.0, 3.0, 2.0], [4.0, 10.0, 6.0], [3.0, 7.0, 4.0]]).reshape(1, 1, 3, 3)
    expected_dW = np.array([[12.0, 16.0], [24.0, 28.0]]).reshape(1, 1, 2, 2)
    if backward == "naive":
        dx, dW, db = conv2d_backward_naive(dout, X_TINY, W_TINY)
    else:
        layer = _tiny_layer()
        layer.forward(X_TINY)
        dx = layer.backward(dout)
        dW, db = layer.grads["W"], layer.grads["b"]
    np.testing.assert_allclose(dx, expected_dx, rtol=0, atol=1e-12)
    np.testing.assert_allclose(dW, expected_dW, rtol=0, atol=1e-12)
    np.testing.assert_allclose(db, [4.0], rtol=0, atol=1e-12)


# --- shapes ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("config", CONFIGS, ids=CONFIG_IDS)
def test_output_shape_follows_the_formula(config):
    layer, x, _ = _random_problem(config, 0)
    assert layer.forward(x).shape == _expected_out_shape(config)
    N, C, H, W, F, kernel, stride, padding = config
    out = conv2d_forward_naive(x, layer.params["W"], layer.params["b"], stride, padding)
    assert out.shape == _expected_out_shape(config)


# --- naive and im2col agree -----------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("config", CONFIGS, ids=CONFIG_IDS)
def test_naive_and_im2col_agree(config, seed):
    layer, x, rng = _random_problem(config, seed)
    stride, padding = config[6], config[7]
    W, b = layer.params["W"], layer.params["b"]
    out = layer.forward(x)
    np.testing.assert_allclose(conv2d_forward_naive(x, W, b, stride, padding), out,
                               rtol=0, atol=1e-10)
    dout = rng.standard_normal(out.shape)
    dx = layer.backward(dout)
    dx_naive, dW_naive, db_naive = conv2d_backward_naive(dout, x, W, stride, padding)
    np.testing.assert_allclose(dx_naive, dx, rtol=0, atol=1e-10)
    np.testing.assert_allclose(dW_naive, layer.grads["W"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(db_naive, layer.grads["b"], rtol=0, atol=1e-10)


# --- gradient checks ------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("config", CONFIGS, ids=CONFIG_IDS)
def test_conv2d_gradient_check(config, seed):
    layer, x, _ = _random_problem(config, seed)
    report = check_layer(layer, x, seed=seed, tol=TOL, h=LINEAR_STEP)
    assert report, str(report)
    assert set(layer.grads) == {"W", "b"}


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("config", CONFIGS[:4], ids=CONFIG_IDS[:4])
def test_naive_gradient_check(config, seed):
    layer, x, rng = _random_problem(config, seed)
    stride, padding = config[6], config[7]
    W, b = layer.params["W"].copy(), layer.params["b"].copy()
    dout = rng.standard_normal(_expected_out_shape(config))
    dx, dW, db = conv2d_backward_naive(dout, x, W, stride, padding)

    def forward(_):
        return conv2d_forward_naive(x, W, b, stride, padding)

    assert rel_error(dx, numerical_gradient_array(forward, x, dout, LINEAR_STEP)) <= TOL
    assert rel_error(dW, numerical_gradient_array(forward, W, dout, LINEAR_STEP)) <= TOL
    assert rel_error(db, numerical_gradient_array(forward, b, dout, LINEAR_STEP)) <= TOL


def test_conv2d_grads_are_overwritten_in_place_not_accumulated():
    layer, x, rng = _random_problem(CONFIGS[1], 0)
    grad_W, grad_b = layer.grads["W"], layer.grads["b"]
    dout = rng.standard_normal(layer.forward(x).shape)
    layer.backward(dout)
    first = grad_W.copy(), grad_b.copy()
    layer.forward(x)
    layer.backward(dout)
    # Same arrays (optimizers hold them), same values (not doubled).
    assert layer.grads["W"] is grad_W and layer.grads["b"] is grad_b
    np.testing.assert_array_equal(grad_W, first[0])
    np.testing.assert_array_equal(grad_b, first[1])


# --- im2col / col2im ------------------------------------------------------------------------------

@pytest.mark.parametrize("config", CONFIGS, ids=CONFIG_IDS)
def test_im2col_layout(config):
    N, C, H, W, _, kernel, stride, padding = config
    (kh, kw), (sh, sw), (ph, pw) = _pair(kernel), _pair(stride), _pair(padding)
    x = np.random.default_rng(0).standard_normal((N, C, H, W))
    cols = im2col(x, kh, kw, stride, padding)
    _, _, H_out, W_out = _expected_out_shape(config)
    assert cols.shape == (N, C * kh * kw, H_out * W_out)
    x_pad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    for n, c, u, v, i, j in np.ndindex(N, C, kh, kw, H_out, W_out):
        assert cols[n, (c * kh + u) * kw + v, i * W_out + j] == x_pad[n, c, i * sh + u, j * sw + v]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("config", CONFIGS + [(2, 2, 7, 7, 1, 3, 2, 1), (1, 1, 6, 6, 1, 4, 1, 2)],
                         ids=CONFIG_IDS + ["overlap-s2-p1", "overlap-k4-p2"])
def test_col2im_is_the_adjoint_of_im2col(config, seed):
    # <col2im(c), x> == <c, im2col(x)> for all x and c: col2im is the exact backward of im2col.
    N, C, H, W, _, kernel, stride, padding = config
    kh, kw = _pair(kernel)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, C, H, W))
    cols_shape = im2col(x, kh, kw, stride, padding).shape
    cols = rng.standard_normal(cols_shape)
    back = col2im(cols, x.shape, kh, kw, stride, padding)
    assert back.shape == x.shape
    lhs = np.sum(back * x)
    rhs = np.sum(cols * im2col(x, kh, kw, stride, padding))
    assert abs(lhs - rhs) <= 1e-10 * max(1.0, abs(lhs))


def test_col2im_adds_overlapping_contributions():
    # 3x3 image, 2x2 kernel, stride 1: the centre pixel is in all 4 windows, corners in one.
    cols = np.ones((1, 4, 4))
    back = col2im(cols, (1, 1, 3, 3), 2, 2)
    np.testing.assert_array_equal(back[0, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])


# --- Conv2d construction --------------------------------------------------------------------------

def test_conv2d_init_shapes_bounds_and_seed():
    layer = Conv2d(3, 5, (3, 2), rng=0)
    assert layer.params["W"].shape == (5, 3, 3, 2) and layer.params["b"].shape == (5,)
    assert layer.params["W"].dtype == np.float64
    bound = 1 / np.sqrt(3 * 3 * 2)
    assert np.all(np.abs(layer.params["W"]) <= bound) and np.all(np.abs(layer.params["b"]) <= bound)
    assert np.abs(layer.params["W"]).max() > 0.5 * bound  # uses the range, not a smaller one
    np.testing.assert_array_equal(layer.params["W"], Conv2d(3, 5, (3, 2), rng=0).params["W"])
    assert layer.kernel_size == (3, 2) and layer.stride == (1, 1) and layer.padding == (0, 0)


# --- MaxPool2d ------------------------------------------------------------------------------------

POOLS = [(2, None), (3, 2), ((2, 3), (1, 2)), (2, 1), (3, None)]
POOL_IDS = ["k2", "k3-s2-overlap", "k2x3-s1x2", "k2-s1-overlap", "k3"]


def _distinct_input(shape, seed):
    # A shuffled grid of values 0.01 apart: no ties, and a 1e-5 perturbation never moves a maximum.
    rng = np.random.default_rng(seed)
    return rng.permutation(np.arange(np.prod(shape)) * 0.01).reshape(shape)


def _pool_brute_force(x, kernel, stride):
    """Forward and the expected dx for an all-ones upstream gradient, with plain loops."""
    (kh, kw), (sh, sw) = _pair(kernel), _pair(stride if stride is not None else kernel)
    N, C, H, W = x.shape
    H_out, W_out = (H - kh) // sh + 1, (W - kw) // sw + 1
    out = np.empty((N, C, H_out, W_out))
    switches = []
    for n, c, i, j in np.ndindex(N, C, H_out, W_out):
        window = x[n, c, i * sh:i * sh + kh, j * sw:j * sw + kw]
        u, v = np.unravel_index(np.argmax(window), window.shape)  # first maximum
        out[n, c, i, j] = window[u, v]
        switches.append((n, c, i, j, i * sh + u, j * sw + v))
    return out, switches


@pytest.mark.parametrize("pool", POOLS, ids=POOL_IDS)
def test_maxpool_forward_matches_loops(pool):
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 8))
    out, _ = _pool_brute_force(x, *pool)
    np.testing.assert_array_equal(MaxPool2d(*pool).forward(x), out)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("shape", [(1, 1, 4, 4), (2, 3, 7, 5), (3, 2, 6, 9)])
@pytest.mark.parametrize("pool", POOLS, ids=POOL_IDS)
def test_maxpool_gradient_check(pool, shape, seed):
    layer = MaxPool2d(*pool)
    report = check_layer(layer, _distinct_input(shape, seed), seed=seed, tol=TOL)
    assert report, str(report)


@pytest.mark.parametrize("pool", POOLS, ids=POOL_IDS)
def test_maxpool_routes_each_gradient_to_its_argmax_only(pool):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 7, 8))
    layer = MaxPool2d(*pool)
    out = layer.forward(x)
    dout = rng.uniform(1.0, 2.0, size=out.shape)
    dx = layer.backward(dout)
    _, switches = _pool_brute_force(x, *pool)
    expected = np.zeros_like(x)
    for n, c, i, j, r, s in switches:
        expected[n, c, r, s] += dout[n, c, i, j]  # overlapping windows may share a maximum
    np.testing.assert_allclose(dx, expected, rtol=1e-15, atol=0)
    assert np.count_nonzero(dx) == np.count_nonzero(expected)  # everything else exactly 0
    assert np.isclose(dx.sum(), dout.sum())  # each gradient goes somewhere, once


def test_maxpool_ties_go_to_the_first_maximum_like_pytorch():
    x = np.ones((1, 1, 4, 4))
    x[0, 0, 2:, 2:] = [[0.0, 5.0], [5.0, 5.0]]
    layer = MaxPool2d(2)
    layer.forward(x)
    dx = layer.backward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]))
    expected = np.zeros((4, 4))
    expected[0, 0], expected[0, 2], expected[2, 0], expected[2, 3] = 1.0, 2.0, 3.0, 4.0
    np.testing.assert_array_equal(dx[0, 0], expected)


def test_maxpool_overlapping_windows_add_at_a_shared_maximum():
    # Kernel 3, stride 2 on 5x5: the centre (2, 2) is in all four windows and is their maximum.
    x = np.zeros((1, 1, 5, 5))
    x[0, 0, 2, 2] = 1.0
    layer = MaxPool2d(3, stride=2)
    np.testing.assert_array_equal(layer.forward(x), np.ones((1, 1, 2, 2)))
    dx = layer.backward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]))
    expected = np.zeros((1, 1, 5, 5))
    expected[0, 0, 2, 2] = 10.0
    np.testing.assert_array_equal(dx, expected)


def test_maxpool_drops_rows_and_columns_no_window_covers():
    x = np.arange(35.0).reshape(1, 1, 5, 7)
    out = MaxPool2d(2).forward(x)
    assert out.shape == (1, 1, 2, 3)
    np.testing.assert_array_equal(out[0, 0], [[8, 10, 12], [22, 24, 26]])


def test_maxpool_default_stride_is_kernel_size():
    assert MaxPool2d(3).stride == (3, 3)
    assert MaxPool2d((2, 3), stride=1).stride == (1, 1)


# --- errors ---------------------------------------------------------------------------------------

def test_conv2d_rejects_wrong_input_shapes():
    layer = Conv2d(3, 4, 3)
    with pytest.raises(ValueError, match=r"Conv2d\(3 -> 4.*\(N, 3, H, W\).*\(2, 3, 5\)"):
        layer.forward(np.zeros((2, 3, 5)))
    with pytest.raises(ValueError, match=r"Conv2d\(3 -> 4.*\(N, 3, H, W\).*\(2, 2, 5, 5\)"):
        layer.forward(np.zeros((2, 2, 5, 5)))
    with pytest.raises(ValueError, match=r"Conv2d\(3 -> 4.*kernel \(3, 3\).*padded input \(2, 5\)"):
        layer.forward(np.zeros((1, 3, 2, 5)))
    with pytest.raises(ValueError, match="dtype"):
        layer.forward(np.zeros((1, 3, 5, 5), dtype=complex))


def test_conv2d_padding_makes_a_small_input_fit():
    assert Conv2d(1, 1, 3, padding=1).forward(np.zeros((1, 1, 1, 1))).shape == (1, 1, 1, 1)


def test_conv2d_backward_checks():
    layer = Conv2d(1, 2, 3, rng=0)
    with pytest.raises(RuntimeError, match="forward before backward"):
        layer.backward(np.zeros((1, 2, 3, 3)))
    layer.forward(np.zeros((1, 1, 5, 5)))
    with pytest.raises(ValueError, match=r"Conv2d.*\(1, 2, 3, 3\).*\(1, 2, 3, 4\)"):
        layer.backward(np.zeros((1, 2, 3, 4)))


@pytest.mark.parametrize("kwargs", [
    dict(in_channels=0, out_channels=2, kernel_size=3),
    dict(in_channels=1, out_channels=2.5, kernel_size=3),
    dict(in_channels=1, out_channels=2, kernel_size=0),
    dict(in_channels=1, out_channels=2, kernel_size=(1, 2, 3)),
    dict(in_channels=1, out_channels=2, kernel_size=3, stride=0),
    dict(in_channels=1, out_channels=2, kernel_size=3, padding=-1),
])
def test_conv2d_rejects_bad_hyperparameters(kwargs):
    with pytest.raises(ValueError, match="Conv2d"):
        Conv2d(**kwargs)


def test_maxpool_errors():
    layer = MaxPool2d(3)
    with pytest.raises(ValueError, match=r"MaxPool2d.*kernel \(3, 3\).*\(2, 4\)"):
        layer.forward(np.zeros((1, 1, 2, 4)))
    with pytest.raises(ValueError, match=r"MaxPool2d.*\(N, C, H, W\).*\(4, 4\)"):
        layer.forward(np.zeros((4, 4)))
    with pytest.raises(RuntimeError, match="forward before backward"):
        MaxPool2d(2).backward(np.zeros((1, 1, 2, 2)))
    layer.forward(np.zeros((1, 1, 6, 6)))
    with pytest.raises(ValueError, match=r"MaxPool2d.*\(1, 1, 2, 2\).*\(1, 1, 3, 3\)"):
        layer.backward(np.zeros((1, 1, 3, 3)))
    with pytest.raises(ValueError, match="MaxPool2d"):
        MaxPool2d(2, stride=0)


def test_function_errors():
    x, W, b = np.zeros((1, 2, 5, 5)), np.zeros((3, 2, 3, 3)), np.zeros(3)
    with pytest.raises(ValueError, match=r"conv2d_forward_naive.*\(N, 2, H, W\).*\(1, 1, 5, 5\)"):
        conv2d_forward_naive(np.zeros((1, 1, 5, 5)), W, b)
    with pytest.raises(ValueError, match=r"conv2d_forward_naive.*bias.*\(3,\).*\(2,\)"):
        conv2d_forward_naive(x, W, np.zeros(2))
    with pytest.raises(ValueError, match=r"conv2d_forward_naive.*kernel \(3, 3\).*\(2, 2\)"):
        conv2d_forward_naive(np.zeros((1, 2, 2, 2)), W, b)
    with pytest.raises(ValueError, match=r"conv2d_backward_naive.*\(1, 3, 3, 3\).*\(1, 3, 2, 2\)"):
        conv2d_backward_naive(np.zeros((1, 3, 2, 2)), x, W)
    with pytest.raises(ValueError, match=r"im2col.*kernel \(6, 1\).*\(5, 5\)"):
        im2col(x, 6, 1)
    with pytest.raises(ValueError, match=r"col2im.*\(1, 18, 9\).*\(1, 18, 8\)"):
        col2im(np.zeros((1, 18, 8)), x.shape, 3, 3)


# --- against PyTorch, when it is installed (`pip install -e '.[bench]'`) --------------------------

@pytest.mark.parametrize("config", CONFIGS, ids=CONFIG_IDS)
def test_conv2d_matches_pytorch(config):
    torch = pytest.importorskip("torch")
    layer, x, rng = _random_problem(config, 0)
    stride, padding = config[6], config[7]
    out = layer.forward(x)
    dout = rng.standard_normal(out.shape)
    dx = layer.backward(dout)
    x_t = torch.tensor(x, requires_grad=True)
    W_t = torch.tensor(layer.params["W"], requires_grad=True)
    b_t = torch.tensor(layer.params["b"], requires_grad=True)
    out_t = torch.nn.functional.conv2d(x_t, W_t, b_t, stride=stride, padding=padding)
    out_t.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(dx, x_t.grad.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(layer.grads["W"], W_t.grad.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(layer.grads["b"], b_t.grad.numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("pool", POOLS, ids=POOL_IDS)
def test_maxpool_matches_pytorch_including_ties(pool):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.integers(0, 3, size=(2, 3, 7, 8)).astype(np.float64)  # many ties
    layer = MaxPool2d(*pool)
    out = layer.forward(x)
    dout = rng.standard_normal(out.shape)
    x_t = torch.tensor(x, requires_grad=True)
    out_t = torch.nn.functional.max_pool2d(x_t, *pool)
    out_t.backward(torch.tensor(dout))
    np.testing.assert_array_equal(out, out_t.detach().numpy())
    np.testing.assert_allclose(layer.backward(dout), x_t.grad.numpy(), rtol=0, atol=1e-12)
