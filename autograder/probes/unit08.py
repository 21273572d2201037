"""Probes of unit 08: the naive convolution, im2col and col2im, ``Conv2d`` and ``MaxPool2d``.

The probes use non-square images and kernels, random strides and paddings (passed as ints and as
pairs), and the awkward cases: a kernel covering the whole padded input (one output), a stride
larger than the kernel (inputs no window reads, whose gradient is 0), rows and columns no window
reaches, windows that overlap, all-negative windows and ties in max pooling.

Each function is graded on its own, so one mistake costs one test:

* ``conv2d_backward_naive`` takes ``x`` and ``W`` as arguments: no forward is involved. Its first
  case puts ``dout = 1`` at a single output, stride 1 and no padding, so a kernel flipped in ``dx``
  shows there; stride comes next, padding after, so the first wrong entry names the culprit.
* ``Conv2d.forward`` runs with ``im2col`` replaced by a stand-in that returns columns drawn here at
  random (no window of anything): what is judged is what ``forward`` does with the columns and that
  it asks ``im2col`` for them with the layer's settings. ``Conv2d.backward`` runs with the same
  stand-in and with ``col2im`` replaced by one that records the column gradient it is given and
  returns a random array: a wrong ``im2col`` or ``col2im`` costs only its own test. (The exercise
  asks ``Conv2d`` to go through ``im2col`` and ``col2im``; a call made image by image is accepted.)
* ``col2im`` is judged on the trusted side as well (``evaluate``): the reference's ``im2col``
  checks that ``col2im`` is its adjoint, ``sum(x * col2im(c)) = sum(im2col(x) * c)``, which holds
  exactly when the columns are read in the order ``im2col`` writes them.
* ``MaxPool2d.backward`` runs after the student's ``forward`` (the switches are cached there). Its
  first case plants one maximum in every window at a known place, so which inputs must receive a
  gradient is known without computing any maximum here.

Results hold numbers, booleans and arrays only. A boolean names one property, so a wrong answer
reads "...['the gradient of each window goes to its maximum only ...']: expected True, got False";
values come after the properties.
"""
import numpy as np

from . import probe


def _copy(value):
    """A snapshot of what a student's function returned or stored (arrays copied)."""
    return np.array(value, copy=True) if isinstance(value, np.ndarray) else value


def _pair(value):
    """``3 -> (3, 3)``, ``(3, 2) -> (3, 2)``; anything else is returned as it is (never raises)."""
    if isinstance(value, (int, np.integer)):
        return (int(value), int(value))
    try:
        return tuple(int(v) for v in value)
    except (TypeError, ValueError):
        return value


def _out(size, kernel, stride, padding):
    return (size + 2 * padding - kernel) // stride + 1


def _as_given(rng, pair):
    """A stride or padding pair passed as an int when both are equal, half of the time."""
    if pair[0] == pair[1] and rng.random() < 0.5:
        return int(pair[0])
    return pair


def _geometry(rng, max_stride=3, max_padding=2):
    """Random non-square kernel, stride, padding and image size with at least 2 x 2 outputs."""
    kernel = (int(rng.integers(2, 4)), int(rng.integers(1, 4)))
    if kernel[0] == kernel[1]:
        kernel = (kernel[0], kernel[1] - 1)
    stride = (int(rng.integers(1, max_stride + 1)), int(rng.integers(1, max_stride + 1)))
    padding = (int(rng.integers(0, max_padding + 1)), int(rng.integers(0, max_padding + 1)))
    size = tuple(int(rng.integers(k + s, k + 3 * s + 2)) for k, s in zip(kernel, stride))
    if size[0] == size[1]:
        size = (size[0] + 1, size[1])
    return kernel, stride, padding, size


# ----------------------------------------------------------------------------------------------
# conv2d_forward_naive

@probe("nnlib.conv.conv2d_forward_naive", label="conv2d_forward_naive(x, W, b, stride, padding)")
def _(nn, rng):
    forward = nn.conv.conv2d_forward_naive
    # One image, one channel, one filter: the definition itself (a flipped kernel fails here).
    h, w = int(rng.integers(4, 7)), int(rng.integers(4, 7))
    x1, W1, b1 = rng.normal(size=(1, 1, h, w)), rng.normal(size=(1, 1, 3, 2)), rng.normal(size=1)
    one = forward(x1, W1, b1)
    # A batch with channels and filters, random stride and padding.
    kernel, stride, padding, (H, W) = _geometry(rng)
    N, C, F = int(rng.integers(2, 4)), int(rng.integers(2, 4)), int(rng.integers(2, 5))
    x, Wt, b = rng.normal(size=(N, C, H, W)), rng.normal(size=(F, C) + kernel), rng.normal(size=F)
    general = forward(x, Wt, b, _as_given(rng, stride), _as_given(rng, padding))
    zeros = forward(np.zeros((N, C, H, W)), Wt, b, stride, padding)
    # A kernel as large as the padded input: a single output per image and filter.
    whole = rng.normal(size=(F, C, H + 2, W + 2))
    single = forward(x, whole, b, 1, 1)
    # A stride larger than the kernel: some inputs are never read.
    gaps = forward(x, Wt[:, :, :2, :1], b, (3, 2), 0)
    return {
        "output of shape (N, F, H_out, W_out), H_out = (H + 2 padding - kh) // stride + 1":
            isinstance(general, np.ndarray) and general.shape == (
                N, F, _out(H, kernel[0], stride[0], padding[0]), _out(W, kernel[1], stride[1],
                                                                       padding[1])),
        f"one image, one channel, stride 1, no padding ({h}x{w} image, 3x2 kernel): "
        "out[i, j] = b + sum_uv W[u, v] x[i + u, j + v] (cross-correlation: W not flipped)": one,
        "zero input gives the bias b[f] at every output of filter f": zeros,
        f"batch of {N}, {C} channels, {F} filters, kernel {kernel}, stride {stride}, "
        f"padding {padding}": general,
        "kernel as large as the padded input (one output per image and filter)": single,
        "stride (3, 2) with a 2x1 kernel (some inputs are never read)": gaps,
    }


# ----------------------------------------------------------------------------------------------
# conv2d_backward_naive

@probe("nnlib.conv.conv2d_backward_naive", label="conv2d_backward_naive(dout, x, W, stride, padding)")
def _(nn, rng):
    backward = nn.conv.conv2d_backward_naive
    N, C, F = int(rng.integers(2, 4)), int(rng.integers(2, 4)), int(rng.integers(2, 4))
    kernel = (3, 2)
    H, W = int(rng.integers(5, 8)), int(rng.integers(5, 8))
    x, Wt = rng.normal(size=(N, C, H, W)), rng.normal(size=(F, C) + kernel)

    # Case 1: dout = 1 at a single output (n, f, i, j); stride 1, no padding.
    H1, W1 = H - kernel[0] + 1, W - kernel[1] + 1
    one_hot = np.zeros((N, F, H1, W1))
    n, f, i, j = (int(rng.integers(N)), int(rng.integers(F)), int(rng.integers(1, H1)),
                  int(rng.integers(1, W1)))
    one_hot[n, f, i, j] = 1.0
    dx1, dW1, db1 = [_copy(value) for value in backward(one_hot, x, Wt)]

    # Case 2: stride > 1, no padding.
    stride = (2, 3)
    dout2 = rng.normal(size=(N, F, _out(H, kernel[0], 2, 0), _out(W, kernel[1], 3, 0)))
    dx2, dW2, db2 = [_copy(value) for value in backward(dout2, x, Wt, stride, 0)]

    # Case 3: padding, stride 1.
    padding = (1, 2)
    dout3 = rng.normal(size=(N, F, _out(H, kernel[0], 1, 1), _out(W, kernel[1], 1, 2)))
    dx3, dW3, db3 = [_copy(value) for value in backward(dout3, x, Wt, 1, padding)]

    # Case 4: everything random, a kernel of its own.
    kernel4, stride4, padding4, (H4, W4) = _geometry(rng)
    x4, W4t = rng.normal(size=(N, C, H4, W4)), rng.normal(size=(F, C) + kernel4)
    dout4 = rng.normal(size=(N, F, _out(H4, kernel4[0], stride4[0], padding4[0]),
                             _out(W4, kernel4[1], stride4[1], padding4[1])))
    dx4, dW4, db4 = [_copy(value) for value in backward(dout4, x4, W4t, _as_given(rng, stride4),
                                                        _as_given(rng, padding4))]
    return {
        f"dx for dout = 1 at the single output (n={n}, f={f}, i={i}, j={j}), stride 1, no padding: "
        f"W[{f}] itself (not flipped) on that output's window of x[{n}]": dx1,
        "dW for that single output: the window of x under it": dW1,
        "db for that single output": db1,
        "dx with stride (2, 3), no padding: window (i, j) starts at row 2 i, column 3 j": dx2,
        "dW with stride (2, 3)": dW2,
        "dx with padding (1, 2), stride 1: drop the 1 padded row and the 2 padded columns on "
        "each side (top and bottom, left and right)": dx3,
        "dW with padding (1, 2)": dW3,
        "db = dout summed over the batch and every output position": db3,
        f"dx, kernel {kernel4}, stride {stride4}, padding {padding4}": dx4,
        f"dW, kernel {kernel4}, stride {stride4}, padding {padding4}": dW4,
        f"db, kernel {kernel4}, stride {stride4}, padding {padding4}": db4,
    }


# ----------------------------------------------------------------------------------------------
# im2col and col2im

@probe("nnlib.conv.im2col", label="im2col(x, kernel_h, kernel_w, stride, padding)")
def _(nn, rng):
    im2col = nn.conv.im2col
    h, w = int(rng.integers(3, 6)), int(rng.integers(4, 7))
    x1 = rng.normal(size=(1, 1, h, w))
    one = im2col(x1, 2, 3)
    kernel, stride, padding, (H, W) = _geometry(rng)
    N, C = int(rng.integers(2, 4)), int(rng.integers(2, 4))
    x = rng.normal(size=(N, C, H, W))
    cols = im2col(x, kernel[0], kernel[1], _as_given(rng, stride), _as_given(rng, padding))
    L = _out(H, kernel[0], stride[0], padding[0]) * _out(W, kernel[1], stride[1], padding[1])
    return {
        "columns of shape (N, C * kh * kw, H_out * W_out)":
            isinstance(cols, np.ndarray) and cols.shape == (N, C * kernel[0] * kernel[1], L),
        f"one channel, {h}x{w} image, 2x3 kernel: row u * kw + v, column i * W_out + j holds "
        "x[i + u, j + v]": one,
        f"batch of {N}, {C} channels, kernel {kernel}, stride {stride}, padding {padding}: "
        "row (c * kh + u) * kw + v, column i * W_out + j holds x_pad[n, c, i s_h + u, j s_w + v]":
            cols,
        "kernel as large as the padded input (a single column)": im2col(x, H + 2, W, 1, (1, 0)),
        "stride (3, 2) with a 2x1 kernel (windows with gaps between them)": im2col(x, 2, 1, (3, 2)),
    }


def _col2im_cases(rng):
    """(x_shape, kernel, stride, padding) for col2im: overlapping windows, padding, gaps."""
    N, C = int(rng.integers(2, 4)), int(rng.integers(2, 4))
    kernel, stride, padding, size = _geometry(rng)
    return [((N, 1, int(rng.integers(4, 7)), int(rng.integers(4, 7))), (3, 2), (1, 1), (0, 0)),
            ((N, C) + size, kernel, stride, padding),
            ((N, C, 6, 5), (2, 3), (1, 1), (1, 1)),
            ((N, C, 7, 5), (2, 1), (3, 2), (0, 0))]


_COL2IM_LABELS = ["one channel, 3x2 kernel, stride 1 (overlapping windows: add, do not assign)",
                  "channels, kernel {kernel}, stride {stride}, padding {padding}",
                  "2x3 kernel, stride 1, padding 1 (the padded border is dropped)",
                  "2x1 kernel, stride (3, 2) (inputs no window covers get 0)"]


def _col2im_judged(result, reference, rng):
    """Trusted side: is ``col2im`` the adjoint of the reference's ``im2col``? Then its values."""
    judged, values = {}, {}
    adjoint = True
    for index, label in enumerate(_COL2IM_LABELS):
        case = result.get(f"case {index}", {})
        try:
            shape = tuple(int(v) for v in case["x_shape"])
            kernel, stride, padding = (tuple(int(v) for v in case[key])
                                       for key in ("kernel", "stride", "padding"))
            cols, dx = np.asarray(case["cols"], dtype=np.float64), case["dx"]
            probe_x = rng.normal(size=shape)
            unrolled = reference.conv.im2col(probe_x, kernel[0], kernel[1], stride, padding)
            ok = (type(dx) is np.ndarray and dx.shape == shape and dx.dtype.kind == "f"
                  and bool(np.all(np.isfinite(dx)))
                  and bool(np.isclose(np.sum(probe_x * dx), np.sum(unrolled * cols),
                                      rtol=1e-9, atol=1e-9)))
            label = label.format(kernel=kernel, stride=stride, padding=padding)
        except (KeyError, TypeError, ValueError):
            ok, dx = False, case.get("dx") if isinstance(case, dict) else None
            label = label.format(kernel="?", stride="?", padding="?")
        adjoint = adjoint and ok
        values[f"col2im(cols), {label}"] = dx
    judged["col2im reads the columns in the order im2col writes them: sum(x * col2im(c)) = "
           "sum(im2col(x) * c) for every x and c (row (c * kh + u) * kw + v, column "
           "i * W_out + j), adding where windows overlap"] = adjoint
    judged.update(values)
    return judged


@probe("nnlib.conv.col2im", label="col2im(cols, x_shape, kernel_h, kernel_w, stride, padding)",
       evaluate=_col2im_judged)
def _(nn, rng):
    result = {}
    for index, (shape, kernel, stride, padding) in enumerate(_col2im_cases(rng)):
        L = _out(shape[2], kernel[0], stride[0], padding[0]) * _out(shape[3], kernel[1], stride[1],
                                                                    padding[1])
        cols = rng.normal(size=(shape[0], shape[1] * kernel[0] * kernel[1], L))
        dx = nn.conv.col2im(cols.copy(), shape, kernel[0], kernel[1], _as_given(rng, stride),
                            _as_given(rng, padding))
        result[f"case {index}"] = {"x_shape": np.array(shape), "kernel": np.array(kernel),
                                   "stride": np.array(stride), "padding": np.array(padding),
                                   "cols": cols, "dx": _copy(dx)}
    return result


# ----------------------------------------------------------------------------------------------
# Conv2d: forward and backward with stand-ins for im2col and col2im

class _StandIns:
    """Stand-ins for ``im2col`` and ``col2im`` while a ``Conv2d`` of known settings is judged.

    ``im2col`` answers the batch ``x`` (or any run of its images) with columns drawn at random,
    ``col2im`` records the column gradient it gets and answers with a random array: neither
    computes anything from its input, so neither is an im2col or a col2im. Each call is checked
    against the layer's kernel size, stride and padding.
    """

    def __init__(self, rng, x, kernel, stride, padding):
        N, C, H, W = x.shape
        self.x, self.kernel, self.stride, self.padding = x, kernel, stride, padding
        L = _out(H, kernel[0], stride[0], padding[0]) * _out(W, kernel[1], stride[1], padding[1])
        self.columns = rng.normal(size=(N, C * kernel[0] * kernel[1], L))
        self.image_grads = rng.normal(size=x.shape)
        self.im2col_calls, self.col2im_calls, self.received = [], [], []
        self._next_image = 0

    def _settings_ok(self, kernel_h, kernel_w, stride, padding):
        return ((_pair(kernel_h)[0], _pair(kernel_w)[0]) == self.kernel
                and _pair(stride) == self.stride and _pair(padding) == self.padding)

    def _images(self, x):
        """The run ``a:b`` of the batch that ``x`` is, or None."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 4 or x.shape[1:] != self.x.shape[1:]:
            return None
        for start in range(len(self.x) - len(x) + 1):
            if np.array_equal(x, self.x[start:start + len(x)]):
                return slice(start, start + len(x))
        return None

    def im2col(self, x, kernel_h, kernel_w, stride=1, padding=0):
        images = self._images(x)
        self.im2col_calls.append(images is not None
                                 and self._settings_ok(kernel_h, kernel_w, stride, padding))
        if images is None:
            return np.full((np.shape(x)[0],) + self.columns.shape[1:], np.nan)
        return self.columns[images].copy()

    def col2im(self, cols, x_shape, kernel_h, kernel_w, stride=1, padding=0):
        shape = tuple(int(v) for v in x_shape)
        count = shape[0] if len(shape) == 4 else 0
        start = self._next_image
        ok = (len(shape) == 4 and shape[1:] == self.x.shape[1:]
              and start + count <= len(self.x) and count > 0
              and self._settings_ok(kernel_h, kernel_w, stride, padding))
        self.col2im_calls.append(ok)
        self.received.append(np.array(cols, dtype=np.float64, copy=True))
        self._next_image = start + count
        if not ok:
            return np.full(shape, np.nan)
        return self.image_grads[start:start + count].copy()

    def start_backward(self):
        self._next_image = 0
        self.col2im_calls, self.received = [], []

    def installed(self, conv):
        return _Installed(conv, {"im2col": self.im2col, "col2im": self.col2im})


class _Installed:
    """Within the block, the given names of ``conv`` (a student's or the reference nnlib.conv)."""

    def __init__(self, module, functions):
        self.module, self.functions, self.saved = module, functions, {}

    def __enter__(self):
        self.saved = {name: getattr(self.module, name) for name in self.functions}
        for name, function in self.functions.items():
            setattr(self.module, name, function)

    def __exit__(self, *exc):
        for name, function in self.saved.items():
            setattr(self.module, name, function)
        return False


def _conv_layer(nn, rng, N, C, F):
    """A Conv2d of the student's class with random settings, weights and input; its stand-ins."""
    kernel, stride, padding, (H, W) = _geometry(rng, max_stride=2, max_padding=1)
    layer = nn.conv.Conv2d(C, F, kernel, stride=_as_given(rng, stride),
                           padding=_as_given(rng, padding), rng=int(rng.integers(2 ** 31)))
    layer.params["W"] = rng.normal(size=(F, C) + kernel)
    layer.params["b"] = rng.normal(size=F)
    x = rng.normal(size=(N, C, H, W))
    out_shape = (N, F, _out(H, kernel[0], stride[0], padding[0]),
                 _out(W, kernel[1], stride[1], padding[1]))
    return layer, x, _StandIns(rng, x, kernel, stride, padding), out_shape


_CALLS_IM2COL = ("forward calls im2col on x (the batch, or image by image) with the layer's "
                 "kernel size, stride and padding, and uses the columns it returns")


@probe("nnlib.conv.Conv2d.forward", label="Conv2d.forward")
def _(nn, rng):
    result = {}
    for case, (N, C, F) in enumerate([(int(rng.integers(2, 4)), int(rng.integers(2, 4)),
                                       int(rng.integers(2, 5))), (1, 1, 3)]):
        layer, x, stand_ins, out_shape = _conv_layer(nn, rng, N, C, F)
        with stand_ins.installed(nn.conv):
            out = _copy(layer.forward(x))
        calls = stand_ins.im2col_calls
        prefix = "" if case == 0 else "batch of one image, one channel: "
        result[prefix + _CALLS_IM2COL] = bool(calls) and all(calls)
        result[prefix + f"output of shape (N, out_channels, H_out, W_out) = {out_shape}"] = (
            isinstance(out, np.ndarray) and out.shape == out_shape)
        result[prefix + f"output for the columns im2col returned: out[n, f, i, j] = "
               f"W[f].ravel() @ cols[n, :, i * W_out + j] + b[f], {N} images, {C} channels, "
               f"{F} filters, kernel {layer.kernel_size}, stride {layer.stride}, "
               f"padding {layer.padding}"] = out
    return result


@probe("nnlib.conv.Conv2d.backward", label="Conv2d.backward")
def _(nn, rng):
    N, C, F = int(rng.integers(2, 4)), int(rng.integers(2, 4)), int(rng.integers(2, 5))
    layer, x, stand_ins, out_shape = _conv_layer(nn, rng, N, C, F)
    W_before, b_before = layer.params["W"].copy(), layer.params["b"].copy()
    dout = rng.normal(size=out_shape)
    with stand_ins.installed(nn.conv):
        layer.forward(x)
        stand_ins.start_backward()
        dx = _copy(layer.backward(dout))
        calls, received = list(stand_ins.col2im_calls), list(stand_ins.received)
        dW, db = _copy(layer.grads.get("W")), _copy(layer.grads.get("b"))
        layer.forward(x)
        stand_ins.start_backward()
        layer.backward(dout)
        dW_again, db_again = _copy(layer.grads.get("W")), _copy(layer.grads.get("b"))
    shapes = {tuple(np.shape(cols)[1:]) for cols in received}
    handed = (np.concatenate(received) if received and len(shapes) == 1 and received[0].ndim == 3
              else (received[0] if received else None))
    overwritten = (isinstance(dW, np.ndarray) and isinstance(db, np.ndarray)
                   and np.array_equal(dW, dW_again) and np.array_equal(db, db_again))
    kernel = layer.kernel_size
    return {
        "backward calls col2im with the columns' gradient, x's shape and the layer's kernel "
        "size, stride and padding": bool(calls) and all(calls),
        "backward returns dL/dx as col2im returns it": isinstance(dx, np.ndarray)
            and dx.shape == x.shape and np.array_equal(dx, stand_ins.image_grads),
        "backward leaves W and b unchanged": np.array_equal(layer.params["W"], W_before)
            and np.array_equal(layer.params["b"], b_before),
        f"grads['b'] = dL/db, of shape ({F},): dout summed over the batch and every output "
        "position": db,
        f"grads['W'] = dL/dW, of shape {(F, C) + kernel}: the sum over the images n of "
        "dout[n] @ cols[n].T, reshaped": dW,
        "the columns' gradient handed to col2im: W.reshape(F, -1).T @ dout[n] for every image n, "
        "shape (N, C * kh * kw, H_out * W_out)": handed,
        "a second backward on the same batch stores the same grads (overwrite them, do not add "
        "to them)": overwritten,
    }


# ----------------------------------------------------------------------------------------------
# MaxPool2d

def _pool(nn, kernel, stride=None):
    return nn.conv.MaxPool2d(kernel) if stride is None else nn.conv.MaxPool2d(kernel, stride)


@probe("nnlib.conv.MaxPool2d.forward", label="MaxPool2d.forward")
def _(nn, rng):
    N, C = int(rng.integers(2, 4)), int(rng.integers(2, 4))
    negative = rng.normal(size=(N, C, 6, 8)) - 10.0
    overlap = rng.normal(size=(N, C, 8, 7))
    gaps = rng.normal(size=(N, C, 8, 9))
    ties = rng.integers(0, 3, size=(N, C, 6, 6)).astype(np.float64)
    first = _copy(_pool(nn, 2).forward(negative))
    return {
        "output of shape (N, C, H_out, W_out), H_out = (H - kh) // stride + 1":
            isinstance(first, np.ndarray) and first.shape == (N, C, 3, 4),
        "kernel 2 (stride = kernel), every value negative (start from the window's first value "
        "or -inf, not from 0)": first,
        "kernel (3, 2), stride (2, 1) (overlapping windows; the last row is in no window)":
            _pool(nn, (3, 2), (2, 1)).forward(overlap),
        "kernel 2, stride 3 (gaps between the windows)": _pool(nn, 2, 3).forward(gaps),
        "kernel 3, stride 1, whole numbers with ties": _pool(nn, 3, 1).forward(ties),
    }


def _planted(rng, N, C, k, rows, columns):
    """Images whose k x k windows (stride k) each hold one planted maximum at a random place.

    Values elsewhere lie in [-1, 1) and every maximum in [1.5, 2.5); the rows and columns no window
    reaches hold 5.0, larger than any maximum. Returns the images, a mask of the maxima and their
    indices ``(n, c, row, column)``, each of shape ``(N, C, rows, columns)`` (window ``(i, j)``'s).
    """
    x = np.full((N, C, rows * k + 1, columns * k + 1), 5.0)
    x[:, :, :rows * k, :columns * k] = rng.uniform(-1.0, 1.0, (N, C, rows * k, columns * k))
    mask = np.zeros(x.shape, dtype=bool)
    u = rng.integers(0, k, (N, C, rows, columns))
    v = rng.integers(0, k, (N, C, rows, columns))
    n, c, i, j = np.indices((N, C, rows, columns))
    where = (n, c, i * k + u, j * k + v)
    mask[where] = True
    x[where] = rng.uniform(1.5, 2.5, (N, C, rows, columns))
    return x, mask, where


@probe("nnlib.conv.MaxPool2d.backward", label="MaxPool2d.backward")
def _(nn, rng):
    N, C = int(rng.integers(2, 4)), int(rng.integers(2, 4))
    k = int(rng.integers(2, 4))
    rows, columns = int(rng.integers(2, 4)), int(rng.integers(3, 5))
    x, mask, where = _planted(rng, N, C, k, rows, columns)
    dout = rng.normal(size=(N, C, rows, columns))
    dout[np.abs(dout) < 0.1] = 0.5                      # no gradient of (almost) zero
    layer = _pool(nn, k)
    layer.forward(x)
    dx = _copy(layer.backward(dout))
    shaped = isinstance(dx, np.ndarray) and dx.shape == x.shape
    # Overlapping windows: x[.., 2, 2] is the maximum of the four windows that share it.
    shared = rng.normal(size=(N, C, 7, 7))
    shared[:, :, 2, 2] = 10.0
    overlapping = _pool(nn, 3, 2)
    overlapping.forward(shared)
    ties = rng.integers(0, 2, size=(N, C, 4, 6)).astype(np.float64)
    tied = _pool(nn, 2)
    tied.forward(ties)
    rect = rng.normal(size=(N, C, 7, 9))
    rectangular = _pool(nn, (2, 3), (1, 2))
    rectangular.forward(rect)
    return {
        "dx has the shape of x": shaped,
        "the gradient of each window goes to its maximum only (the switch): every other input "
        "of the window gets 0": shaped and bool(np.array_equal(dx != 0, mask)),
        "at the switch, dx is the gradient of the window's output": shaped
            and bool(np.array_equal(dx[where], dout)),
        f"dx, kernel {k}, {rows * k + 1}x{columns * k + 1} images (the last row and column are "
        "in no window)": dx,
        "dx, kernel 3, stride 2 (overlapping windows: an input that is the maximum of several "
        "windows gets the sum of their gradients)":
            _copy(overlapping.backward(rng.normal(size=(N, C, 3, 3)))),
        "dx, kernel 2, with ties (whole numbers, as after a ReLU): the first maximum in row-major "
        "order gets the gradient, as in PyTorch": _copy(tied.backward(rng.normal(size=(N, C, 2, 3)))),
        "dx, kernel (2, 3), stride (1, 2)": _copy(rectangular.backward(rng.normal(size=(N, C, 6, 4)))),
    }
