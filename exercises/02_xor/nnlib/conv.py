# Student copy of nnlib for exercise 02_xor; the reference is nnlib/ in the course repository.
r"""Convolution and max pooling on image batches of shape ``(N, C, H, W)``.

Two ways to compute the same convolution:

* ``conv2d_forward_naive`` / ``conv2d_backward_naive`` loop over filters and output positions: slow,
  but a direct transcription of the definition;
* ``Conv2d`` unrolls every receptive field into a column with ``im2col`` and does one matrix
  product; its backward scatters the column gradients back with ``col2im``.

Both compute a cross-correlation (the kernel is not flipped) with zero padding, exactly like
``torch.nn.Conv2d``. For an input of height :math:`H`, kernel height :math:`k_h`, padding
:math:`p_h` and stride :math:`s_h` the output height is

.. math:: H_{out} = \left\lfloor \frac{H + 2 p_h - k_h}{s_h} \right\rfloor + 1,

and likewise for the width.
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._checks import (as_float_array, as_generator, check_grad_out, check_int, check_shape, is_int,
                      owner_name)
from .module import Module


# --------------------------------------------------------------------------------------------------
# Validation helpers (infrastructure: students never write these)
# --------------------------------------------------------------------------------------------------

def _pair(value, name, owner, minimum):
    """``3 -> (3, 3)``, ``(3, 2) -> (3, 2)``; ``ValueError`` unless both are integers >= minimum."""
    pair = (value, value) if is_int(value) else value
    if (not isinstance(pair, (tuple, list)) or len(pair) != 2
            or not all(is_int(v) and v >= minimum for v in pair)):
        kind = "positive integer" if minimum == 1 else "non-negative integer"
        raise ValueError(f"{owner}: {name} must be a {kind} or a pair of them, got {value!r}")
    return int(pair[0]), int(pair[1])


def _check_window_fits(x_shape, kernel, padding, owner):
    """Raise ``ValueError`` if the kernel is larger than the (padded) input: no output position."""
    padded = (x_shape[2] + 2 * padding[0], x_shape[3] + 2 * padding[1])
    if kernel[0] > padded[0] or kernel[1] > padded[1]:
        raise ValueError(
            f"{owner_name(owner)}: kernel {tuple(kernel)} is larger than the padded input {padded} "
            f"(input of shape {tuple(x_shape)}, padding {tuple(padding)})"
        )


def output_size(size, kernel, stride=1, padding=0):
    """Output length along one axis: ``(size + 2 * padding - kernel) // stride + 1``."""
    return (size + 2 * padding - kernel) // stride + 1


def _check_conv_args(x, W, stride, padding, owner, b=None):
    """Shared checks of the naive functions; returns ``x, W, b, stride, padding`` normalised."""
    x = as_float_array(x, owner)
    W = as_float_array(W, owner, "weight")
    stride = _pair(stride, "stride", owner, 1)
    padding = _pair(padding, "padding", owner, 0)
    if W.ndim != 4:
        raise ValueError(f"{owner}: expected weight of shape (F, C, kh, kw), got {W.shape}")
    check_shape(x, (None, W.shape[1], "H", "W"), owner)
    if b is not None:
        b = as_float_array(b, owner, "bias")
        if b.shape != (W.shape[0],):
            raise ValueError(f"{owner}: expected bias of shape ({W.shape[0]},), got {b.shape}")
    _check_window_fits(x.shape, W.shape[2:], padding, owner)
    return x, W, b, stride, padding


# --------------------------------------------------------------------------------------------------
# The naive convolution: loops, straight from the definition
# --------------------------------------------------------------------------------------------------

def conv2d_forward_naive(x, W, b, stride=1, padding=0):
    r"""Cross-correlation of a batch with ``F`` filters, with explicit loops.

    .. math:: out[n, f, i, j] = b[f] + \sum_{c, u, v} W[f, c, u, v]\,
              x_{pad}[n, c, i s_h + u, j s_w + v]

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W)
    W : ndarray of shape (F, C, kh, kw)
    b : ndarray of shape (F,)
    stride : int or (int, int), default=1
    padding : int or (int, int), default=0
        Zeros added on each side of the height and width.

    Returns
    -------
    out : ndarray of shape (N, F, H_out, W_out)
        ``H_out = (H + 2 * padding_h - kh) // stride_h + 1``, and likewise ``W_out``.
    """
    x, W, b, stride, padding = _check_conv_args(x, W, stride, padding, "conv2d_forward_naive", b)
    # BEGIN SOLUTION 08_cnn
    raise NotImplementedError('conv2d_forward_naive: implement this in exercise 08_cnn')
    # END SOLUTION


def conv2d_backward_naive(dout, x, W, stride=1, padding=0):
    """Gradients of ``conv2d_forward_naive`` with respect to ``x``, ``W`` and ``b``, with loops.

    Each output ``out[n, f, i, j]`` came from one window of ``x_pad`` and the filter ``W[f]``, so
    its gradient flows back to exactly those: ``dW[f] += dout * window`` and
    ``dx_pad[window] += dout * W[f]``.

    Parameters
    ----------
    dout : ndarray of shape (N, F, H_out, W_out)
        Upstream gradient dL/dout.
    x : ndarray of shape (N, C, H, W)
        The input of the forward pass.
    W : ndarray of shape (F, C, kh, kw)
    stride, padding : int or (int, int)
        As in the forward pass.

    Returns
    -------
    dx : ndarray of shape (N, C, H, W)
    dW : ndarray of shape (F, C, kh, kw)
    db : ndarray of shape (F,)
    """
    owner = "conv2d_backward_naive"
    x, W, _, stride, padding = _check_conv_args(x, W, stride, padding, owner)
    expected = (x.shape[0], W.shape[0],
                output_size(x.shape[2], W.shape[2], stride[0], padding[0]),
                output_size(x.shape[3], W.shape[3], stride[1], padding[1]))
    dout = check_grad_out(dout, expected, owner)
    # BEGIN SOLUTION 08_cnn
    raise NotImplementedError('conv2d_backward_naive: implement this in exercise 08_cnn')
    # END SOLUTION


# --------------------------------------------------------------------------------------------------
# im2col / col2im: the convolution as one matrix product
# --------------------------------------------------------------------------------------------------

def im2col(x, kernel_h, kernel_w, stride=1, padding=0):
    """Unroll every receptive field of ``x`` into a column, as ``torch.nn.functional.unfold`` does.

    Column ``l = i * W_out + j`` of image ``n`` holds the window under output position ``(i, j)``,
    flattened in ``(c, u, v)`` order::

        cols[n, (c * kernel_h + u) * kernel_w + v, i * W_out + j]
            = x_pad[n, c, i * stride_h + u, j * stride_w + v]

    so that a convolution is ``W.reshape(F, -1) @ cols``, of shape ``(N, F, H_out * W_out)``.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W)
    kernel_h, kernel_w : int
    stride : int or (int, int), default=1
    padding : int or (int, int), default=0

    Returns
    -------
    cols : ndarray of shape (N, C * kernel_h * kernel_w, H_out * W_out)
        ``H_out = (H + 2 * padding_h - kernel_h) // stride_h + 1``, and likewise ``W_out``.
    """
    owner = "im2col"
    x = as_float_array(x, owner)
    kernel = _pair((kernel_h, kernel_w), "kernel size", owner, 1)
    stride = _pair(stride, "stride", owner, 1)
    padding = _pair(padding, "padding", owner, 0)
    check_shape(x, (None, "C", "H", "W"), owner)
    _check_window_fits(x.shape, kernel, padding, owner)
    # BEGIN SOLUTION 08_cnn
    raise NotImplementedError('im2col: implement this in exercise 08_cnn')
    # END SOLUTION


def col2im(cols, x_shape, kernel_h, kernel_w, stride=1, padding=0):
    """Scatter columns back onto an image, adding where windows overlap (the adjoint of ``im2col``).

    This is the backward of ``im2col``: an input pixel that sat in several windows receives the sum
    of their column gradients. Padding positions are dropped.

    Parameters
    ----------
    cols : ndarray of shape (N, C * kernel_h * kernel_w, H_out * W_out)
        Laid out as ``im2col`` returns.
    x_shape : tuple (N, C, H, W)
        Shape of the image ``im2col`` was applied to.
    kernel_h, kernel_w : int
    stride : int or (int, int), default=1
    padding : int or (int, int), default=0

    Returns
    -------
    dx : ndarray of shape (N, C, H, W)
    """
    owner = "col2im"
    cols = as_float_array(cols, owner, "columns")
    kernel = _pair((kernel_h, kernel_w), "kernel size", owner, 1)
    stride = _pair(stride, "stride", owner, 1)
    padding = _pair(padding, "padding", owner, 0)
    x_shape = tuple(int(size) for size in x_shape)
    if len(x_shape) != 4:
        raise ValueError(f"{owner}: expected x_shape (N, C, H, W), got {x_shape}")
    _check_window_fits(x_shape, kernel, padding, owner)
    expected = (x_shape[0], x_shape[1] * kernel[0] * kernel[1],
                output_size(x_shape[2], kernel[0], stride[0], padding[0])
                * output_size(x_shape[3], kernel[1], stride[1], padding[1]))
    if cols.shape != expected:
        raise ValueError(f"{owner}: expected columns of shape {expected} for an image of shape "
                         f"{x_shape}, got {cols.shape}")
    # BEGIN SOLUTION 08_cnn
    raise NotImplementedError('col2im: implement this in exercise 08_cnn')
    # END SOLUTION


# --------------------------------------------------------------------------------------------------
# Layers
# --------------------------------------------------------------------------------------------------

class Conv2d(Module):
    """2-D convolution layer (cross-correlation with zero padding), like ``torch.nn.Conv2d``.

    ``out[n, f] = b[f] + sum_c W[f, c] * x_pad[n, c]`` (``*``: cross-correlation with the stride).
    Output size: ``H_out = (H + 2 * padding_h - kh) // stride_h + 1``, likewise ``W_out``.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or (int, int)
        ``(kh, kw)``.
    stride : int or (int, int), default=1
    padding : int or (int, int), default=0
        Zeros added on each side of the height and width.
    rng : None, int or numpy.random.Generator, default=None
        Source of the initial weights: ``W`` of shape ``(out_channels, in_channels, kh, kw)`` and
        ``b`` of shape ``(out_channels,)`` are drawn from ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``,
        ``fan_in = in_channels * kh * kw`` (PyTorch's default).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, rng=None):
        super().__init__()
        self.in_channels = check_int(in_channels, "in_channels", "Conv2d")
        self.out_channels = check_int(out_channels, "out_channels", "Conv2d")
        self.kernel_size = _pair(kernel_size, "kernel_size", "Conv2d", 1)
        self.stride = _pair(stride, "stride", "Conv2d", 1)
        self.padding = _pair(padding, "padding", "Conv2d", 0)
        rng = as_generator(rng)
        fan_in = self.in_channels * self.kernel_size[0] * self.kernel_size[1]
        bound = 1.0 / np.sqrt(fan_in)
        shape = (self.out_channels, self.in_channels) + self.kernel_size
        self._add_parameter("W", rng.uniform(-bound, bound, size=shape))
        self._add_parameter("b", rng.uniform(-bound, bound, size=self.out_channels))
        self._x_shape = None
        self._cols = None

    def forward(self, x):
        """Convolve a batch of images.

        Parameters
        ----------
        x : ndarray of shape (N, in_channels, H, W)

        Returns
        -------
        ndarray of shape (N, out_channels, H_out, W_out)
            ``H_out = (H + 2 * padding_h - kh) // stride_h + 1``, likewise ``W_out``.
        """
        x = as_float_array(x, self)
        check_shape(x, (None, self.in_channels, "H", "W"), self)
        _check_window_fits(x.shape, self.kernel_size, self.padding, self)
        self._x_shape = x.shape
        # BEGIN SOLUTION 08_cnn
        raise NotImplementedError('Conv2d.forward: implement this in exercise 08_cnn')
        # END SOLUTION

    def backward(self, grad_out):
        """Gradients with respect to the input, ``W`` and ``b``.

        Parameters
        ----------
        grad_out : ndarray of shape (N, out_channels, H_out, W_out)
            dL/dy.

        Returns
        -------
        ndarray of shape (N, in_channels, H, W)
            dL/dx. Also sets ``grads["W"]`` (out_channels, in_channels, kh, kw) and ``grads["b"]``
            (out_channels,), summed over the batch.
        """
        x_shape = self._cached("_x_shape")
        N, _, H, W = x_shape
        expected = (N, self.out_channels,
                    output_size(H, self.kernel_size[0], self.stride[0], self.padding[0]),
                    output_size(W, self.kernel_size[1], self.stride[1], self.padding[1]))
        grad_out = check_grad_out(grad_out, expected, self)
        # BEGIN SOLUTION 08_cnn
        raise NotImplementedError('Conv2d.backward: implement this in exercise 08_cnn')
        # END SOLUTION

    def __repr__(self):
        return (f"Conv2d({self.in_channels} -> {self.out_channels}, "
                f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding})")


class MaxPool2d(Module):
    """Max pooling over ``kernel_size`` windows, like ``torch.nn.MaxPool2d`` (no padding).

    Output size: ``H_out = (H - kh) // stride_h + 1``, likewise ``W_out`` (rows or columns that no
    full window covers are dropped, as in PyTorch). Backward routes each window's gradient to the
    position of its maximum (the "switch"); for ties, the first maximum in row-major order, as in
    PyTorch.

    Parameters
    ----------
    kernel_size : int or (int, int)
    stride : int or (int, int), default=None
        Defaults to ``kernel_size`` (non-overlapping windows).
    """

    def __init__(self, kernel_size, stride=None):
        super().__init__()
        self.kernel_size = _pair(kernel_size, "kernel_size", "MaxPool2d", 1)
        if stride is None:
            stride = kernel_size
        self.stride = _pair(stride, "stride", "MaxPool2d", 1)
        self._x_shape = None
        self._switches = None

    def forward(self, x):
        """Maximum of every window.

        Parameters
        ----------
        x : ndarray of shape (N, C, H, W)

        Returns
        -------
        ndarray of shape (N, C, H_out, W_out)
            ``H_out = (H - kh) // stride_h + 1``, likewise ``W_out``.
        """
        x = as_float_array(x, self)
        check_shape(x, (None, "C", "H", "W"), self)
        _check_window_fits(x.shape, self.kernel_size, (0, 0), self)
        self._x_shape = x.shape
        # BEGIN SOLUTION 08_cnn
        raise NotImplementedError('MaxPool2d.forward: implement this in exercise 08_cnn')
        # END SOLUTION

    def backward(self, grad_out):
        """Route each output's gradient to the input position its maximum came from.

        Parameters
        ----------
        grad_out : ndarray of shape (N, C, H_out, W_out)

        Returns
        -------
        ndarray of shape (N, C, H, W)
            Zero except at the switches; where windows overlap, a position that was the maximum of
            several windows receives the sum of their gradients.
        """
        x_shape = self._cached("_x_shape")
        N, C, H, W = x_shape
        expected = (N, C, output_size(H, self.kernel_size[0], self.stride[0]),
                    output_size(W, self.kernel_size[1], self.stride[1]))
        grad_out = check_grad_out(grad_out, expected, self)
        # BEGIN SOLUTION 08_cnn
        raise NotImplementedError('MaxPool2d.backward: implement this in exercise 08_cnn')
        # END SOLUTION

    def __repr__(self):
        return f"MaxPool2d(kernel_size={self.kernel_size}, stride={self.stride})"
