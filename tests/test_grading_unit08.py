"""A simulated class for unit 08 (convolution, im2col/col2im, Conv2d, MaxPool2d), graded by real nbgrader.

The reference scores full marks and the untouched release zero. Each plausible mistake loses the
points of its own test, with a phrase of the right message in the feedback. To keep grading short,
a student makes several mistakes, each in a different function: the probes isolate the functions
(``Conv2d`` runs on stand-ins for ``im2col`` and ``col2im``, ``col2im`` is judged against the
reference's ``im2col`` on the trusted side) and so do the visible tests (``Conv2d.backward`` checks
``dx`` only once ``col2im`` passes its own identity), so every other test of that student keeps its
points. The correct alternative writes every function differently (other loop orders, einsum,
windows as explicit slices, ``Conv2d`` image by image, max pooling by ``argmax``); no submitted file
changes.
"""
from grading_harness import SimulatedClass

UNIT = "08_cnn"
MAX_SCORE = 15
TESTS = ["test_conv2d_forward_naive", "test_conv2d_backward_naive", "test_im2col", "test_col2im",
         "test_conv2d_forward", "test_conv2d_backward", "test_maxpool_forward",
         "test_maxpool_backward"]

# student: {mistake: (region rewrite, the test that must lose points, a phrase of its message)}
MISTAKES = {
    "slips_in_the_flip_the_order_and_the_switch": {
        # dx as a 'full convolution' of dout with W, slid as a correlation: the kernel not flipped
        "naive_backward_kernel_not_flipped": (("conv", "conv2d_backward_naive", """
            N, C, H, W_in = x.shape
            F, _, kh, kw = W.shape
            (sh, sw), (ph, pw) = stride, padding
            _, _, H_out, W_out = dout.shape
            x_pad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
            dW = np.zeros_like(W)
            for f in range(F):
                for i in range(H_out):
                    for j in range(W_out):
                        window = x_pad[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw]
                        dW[f] += np.sum(dout[:, f, i, j][:, None, None, None] * window, axis=0)
            db = dout.sum(axis=(0, 2, 3))
            # dx is the full convolution of dout with W: spread dout by the stride, pad it by
            # k - 1 on each side, and slide the kernel over it
            spread = np.zeros((N, F, (H_out - 1) * sh + 1, (W_out - 1) * sw + 1))
            spread[:, :, ::sh, ::sw] = dout
            spread = np.pad(spread, ((0, 0), (0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1)))
            dx_pad = np.zeros_like(x_pad)
            for r in range(spread.shape[2] - kh + 1):
                for s in range(spread.shape[3] - kw + 1):
                    window = spread[:, :, r:r + kh, s:s + kw]
                    dx_pad[:, :, r, s] = np.einsum("nfuv,fcuv->nc", window, W)
            return dx_pad[:, :, ph:ph + H, pw:pw + W_in], dW, db
        """), "test_conv2d_backward_naive", "itself (not flipped) on that output's window"),
        # im2col writes the rows in (c, u, v) order; this col2im reads them in (u, v, c) order
        "col2im_reads_the_columns_in_another_order": (("conv", "col2im", """
            N, C, H, W = x_shape
            kh, kw = kernel
            (sh, sw), (ph, pw) = stride, padding
            H_out = (H + 2 * ph - kh) // sh + 1
            W_out = (W + 2 * pw - kw) // sw + 1
            cols = cols.reshape(N, kh, kw, C, H_out, W_out)
            dx_pad = np.zeros((N, C, H + 2 * ph, W + 2 * pw))
            for u in range(kh):
                for v in range(kw):
                    dx_pad[:, :, u:u + sh * H_out:sh, v:v + sw * W_out:sw] += cols[:, u, v]
            return dx_pad[:, :, ph:ph + H, pw:pw + W]
        """), "test_col2im", "col2im reads the columns in the order im2col writes them"),
        # every input of a window gets the window's gradient, not only its maximum
        "maxpool_gradient_to_the_whole_window": (("conv", "MaxPool2d.backward", """
            (kh, kw), (sh, sw) = self.kernel_size, self.stride
            _, _, H_out, W_out = grad_out.shape
            dx = np.zeros(x_shape)
            for u in range(kh):
                for v in range(kw):
                    dx[:, :, u:u + sh * H_out:sh, v:v + sw * W_out:sw] += grad_out
            return dx
        """), "test_maxpool_backward", "goes to its maximum only (the switch)"),
    },
    "slips_in_the_stride_the_sums_and_the_overlaps": {
        # the windows start at (i, j) instead of (i * sh, j * sw)
        "naive_backward_ignores_the_stride": (("conv", "conv2d_backward_naive", """
            N, C, H, W_in = x.shape
            F, _, kh, kw = W.shape
            (ph, pw) = padding
            _, _, H_out, W_out = dout.shape
            x_pad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
            dx_pad = np.zeros_like(x_pad)
            dW = np.zeros_like(W)
            for f in range(F):
                for i in range(H_out):
                    for j in range(W_out):
                        rows, cols = slice(i, i + kh), slice(j, j + kw)
                        grad = dout[:, f, i, j][:, None, None, None]
                        dW[f] += np.sum(grad * x_pad[:, :, rows, cols], axis=0)
                        dx_pad[:, :, rows, cols] += grad * W[f]
            db = dout.sum(axis=(0, 2, 3))
            return dx_pad[:, :, ph:ph + H, pw:pw + W_in], dW, db
        """), "test_conv2d_backward_naive", "dx with stride (2, 3), no padding"),
        # db averaged over the images instead of summed
        "conv_layer_bias_gradient_averaged_over_the_batch": (("conv", "Conv2d.backward", """
            cols = self._cols
            kh, kw = self.kernel_size
            dout = grad_out.reshape(N, self.out_channels, -1)
            weights = self.params["W"].reshape(self.out_channels, -1)
            self.grads["b"] = dout.sum(axis=2).mean(axis=0)
            dweights = (dout @ cols.transpose(0, 2, 1)).sum(axis=0)
            self.grads["W"] = dweights.reshape(self.params["W"].shape)
            return col2im(weights.T @ dout, x_shape, kh, kw, self.stride, self.padding)
        """), "test_conv2d_backward", "grads['b'] = dL/db"),
        # = instead of +=: where windows overlap, one window's gradient overwrites another's
        "maxpool_overlapping_windows_assigned_not_added": (("conv", "MaxPool2d.backward", """
            (kh, kw), (sh, sw) = self.kernel_size, self.stride
            _, _, H_out, W_out = grad_out.shape
            dx = np.zeros(x_shape)
            for u in range(kh):
                for v in range(kw):
                    at_switch = self._switches == u * kw + v
                    dx[:, :, u:u + sh * H_out:sh, v:v + sw * W_out:sw] = grad_out * at_switch
            return dx
        """), "test_maxpool_backward", "overlapping windows: an input that is the maximum of several"),
    },
    "slip_in_the_padding": {
        # the padding dropped at the end only: dx shifted by (ph, pw)
        "naive_backward_crops_the_padding_on_one_side": (("conv", "conv2d_backward_naive", """
            N, C, H, W_in = x.shape
            F, _, kh, kw = W.shape
            (sh, sw), (ph, pw) = stride, padding
            _, _, H_out, W_out = dout.shape
            x_pad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
            dx_pad = np.zeros_like(x_pad)
            dW = np.zeros_like(W)
            for f in range(F):
                for i in range(H_out):
                    for j in range(W_out):
                        rows = slice(i * sh, i * sh + kh)
                        cols = slice(j * sw, j * sw + kw)
                        grad = dout[:, f, i, j][:, None, None, None]
                        dW[f] += np.sum(grad * x_pad[:, :, rows, cols], axis=0)
                        dx_pad[:, :, rows, cols] += grad * W[f]
            db = dout.sum(axis=(0, 2, 3))
            return dx_pad[:, :, :H, :W_in], dW, db      # the padding dropped at the end only
        """), "test_conv2d_backward_naive", "dx with padding (1, 2), stride 1"),
    },
}

ALTERNATIVES = {
    "other_loop_orders_einsum_and_explicit_windows": [
        # images outermost, filters innermost, every window an explicit slice
        ("conv", "conv2d_forward_naive", """
            N, C, H, W_in = x.shape
            F, _, kh, kw = W.shape
            (sh, sw), (ph, pw) = stride, padding
            H_out = (H + 2 * ph - kh) // sh + 1
            W_out = (W_in + 2 * pw - kw) // sw + 1
            x_pad = np.zeros((N, C, H + 2 * ph, W_in + 2 * pw))
            x_pad[:, :, ph:ph + H, pw:pw + W_in] = x
            out = np.zeros((N, F, H_out, W_out))
            for n in range(N):
                for i in range(H_out):
                    for j in range(W_out):
                        window = x_pad[n, :, i * sh:i * sh + kh, j * sw:j * sw + kw]
                        for f in range(F):
                            out[n, f, i, j] = np.sum(window * W[f]) + b[f]
            return out
        """),
        # dW by kernel position; dx as a full convolution with the flipped kernel
        ("conv", "conv2d_backward_naive", """
            N, C, H, W_in = x.shape
            F, _, kh, kw = W.shape
            (sh, sw), (ph, pw) = stride, padding
            _, _, H_out, W_out = dout.shape
            x_pad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
            dW = np.zeros_like(W)
            for u in range(kh):
                for v in range(kw):
                    patch = x_pad[:, :, u:u + sh * H_out:sh, v:v + sw * W_out:sw]
                    dW[:, :, u, v] = np.einsum("nfij,ncij->fc", dout, patch)
            db = np.einsum("nfij->f", dout)
            # dx: the full convolution of dout with W (a correlation with the flipped kernel)
            spread = np.zeros((N, F, (H_out - 1) * sh + 1, (W_out - 1) * sw + 1))
            spread[:, :, ::sh, ::sw] = dout
            spread = np.pad(spread, ((0, 0), (0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1)))
            flipped = W[:, :, ::-1, ::-1]
            dx_pad = np.zeros_like(x_pad)
            for r in range(spread.shape[2] - kh + 1):
                for s in range(spread.shape[3] - kw + 1):
                    window = spread[:, :, r:r + kh, s:s + kw]
                    dx_pad[:, :, r, s] = np.einsum("nfuv,fcuv->nc", window, flipped)
            return dx_pad[:, :, ph:ph + H, pw:pw + W_in], dW, db
        """),
        # one strided slice per kernel position (u, v), into a (N, C, kh, kw, H_out, W_out) array
        ("conv", "im2col", """
            N, C, H, W = x.shape
            kh, kw = kernel
            (sh, sw), (ph, pw) = stride, padding
            H_out = (H + 2 * ph - kh) // sh + 1
            W_out = (W + 2 * pw - kw) // sw + 1
            x_pad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
            cols = np.empty((N, C, kh, kw, H_out, W_out))
            for u in range(kh):
                for v in range(kw):
                    cols[:, :, u, v] = x_pad[:, :, u:u + sh * H_out:sh, v:v + sw * W_out:sw]
            return cols.reshape(N, C * kh * kw, H_out * W_out)
        """),
        # one window at a time
        ("conv", "col2im", """
            N, C, H, W = x_shape
            kh, kw = kernel
            (sh, sw), (ph, pw) = stride, padding
            H_out = (H + 2 * ph - kh) // sh + 1
            W_out = (W + 2 * pw - kw) // sw + 1
            dx_pad = np.zeros((N, C, H + 2 * ph, W + 2 * pw))
            for i in range(H_out):
                for j in range(W_out):
                    window = cols[:, :, i * W_out + j].reshape(N, C, kh, kw)
                    dx_pad[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw] += window
            return dx_pad[:, :, ph:ph + H, pw:pw + W]
        """),
        # image by image, with einsum; the input is kept instead of the columns
        ("conv", "Conv2d.forward", """
            N, _, H, W = x.shape
            (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
            H_out = (H + 2 * ph - kh) // sh + 1
            W_out = (W + 2 * pw - kw) // sw + 1
            self._x = x
            weights = self.params["W"].reshape(self.out_channels, -1)
            out = np.empty((N, self.out_channels, H_out * W_out))
            for n in range(N):
                cols = im2col(x[n:n + 1], kh, kw, self.stride, self.padding)[0]
                out[n] = np.einsum("fk,kl->fl", weights, cols) + self.params["b"][:, None]
            return out.reshape(N, self.out_channels, H_out, W_out)
        """),
        # the columns made again from the kept input
        ("conv", "Conv2d.backward", """
            kh, kw = self.kernel_size
            cols = im2col(self._x, kh, kw, self.stride, self.padding)
            dout = grad_out.reshape(N, self.out_channels, -1)
            weights = self.params["W"].reshape(self.out_channels, -1)
            self.grads["W"] = np.einsum("nfl,nkl->fk", dout, cols).reshape(self.params["W"].shape)
            self.grads["b"] = np.einsum("nfl->f", dout)
            dcols = np.einsum("fk,nfl->nkl", weights, dout)
            return col2im(dcols, x_shape, kh, kw, self.stride, self.padding)
        """),
        # max pooling window by window; the backward finds each switch again with argmax
        ("conv", "MaxPool2d.forward", """
            N, C, H, W = x.shape
            (kh, kw), (sh, sw) = self.kernel_size, self.stride
            H_out = (H - kh) // sh + 1
            W_out = (W - kw) // sw + 1
            self._x = x
            out = np.empty((N, C, H_out, W_out))
            for i in range(H_out):
                for j in range(W_out):
                    out[:, :, i, j] = x[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw].max(axis=(2, 3))
            return out
        """),
        ("conv", "MaxPool2d.backward", """
            N, C, H, W = x_shape
            (kh, kw), (sh, sw) = self.kernel_size, self.stride
            _, _, H_out, W_out = grad_out.shape
            dx = np.zeros(x_shape)
            for i in range(H_out):
                for j in range(W_out):
                    rows, cols = slice(i * sh, i * sh + kh), slice(j * sw, j * sw + kw)
                    window = self._x[:, :, rows, cols].reshape(N, C, -1)
                    first = window.argmax(axis=2)          # the first maximum, as in PyTorch
                    switch = (np.arange(kh * kw) == first[:, :, None]).reshape(N, C, kh, kw)
                    dx[:, :, rows, cols] += switch * grad_out[:, :, i, j][:, :, None, None]
            return dx
        """),
    ],
}


class TestUnit08(SimulatedClass):
    unit, tests, max_score = UNIT, TESTS, MAX_SCORE
    mistakes, alternatives = MISTAKES, ALTERNATIVES
    mistake_count = 7
