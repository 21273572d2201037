"""Speed of a small convolutional block: naive loops vs im2col in nnlib, and PyTorch on the CPU.

The block is ``Conv2d(1 -> 8, 3x3) -> ReLU -> MaxPool2d(2)``, forward and backward (the gradients of
the input and of the parameters), on a batch of 64 handwritten digits (scikit-learn's bundled 8x8
``load_digits``, pixels / 16). nnlib runs in float64, PyTorch in float32.

Run from the repository root::

    .venv/bin/python -m pip install -e '.[bench]'   # PyTorch CPU, optional
    .venv/bin/python benchmarks/bench_conv.py

Each figure is the median over ``--repeats`` rounds (after a warm-up) of the mean time of one
forward + backward within a round; the rounds of all versions are interleaved so that the
machine's load affects them alike.
"""
import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # nnlib is not installed

from benchmarks.common import (  # noqa: E402
    blas_threads, interleaved_median_seconds, machine_summary, try_import_torch,
)
from nnlib.conv import Conv2d, MaxPool2d, conv2d_backward_naive, conv2d_forward_naive  # noqa: E402
from nnlib.layers import ReLU  # noqa: E402

BATCH = 64


def load_batch():
    from sklearn.datasets import load_digits

    images = load_digits().images[:BATCH] / 16.0
    return images.reshape(BATCH, 1, 8, 8).astype(np.float64)


# --- the block in nnlib ---------------------------------------------------------------------------

def make_nnlib_steps(x, conv, pool, grad_out):
    """Two closures doing forward + backward: one with the naive conv, one with ``Conv2d``."""
    W, b = conv.params["W"], conv.params["b"]
    relu = ReLU()

    def naive():
        z = conv2d_forward_naive(x, W, b)
        y = pool.forward(relu.forward(z))
        dz = relu.backward(pool.backward(grad_out))
        return y, conv2d_backward_naive(dz, x, W)

    def im2col():
        y = pool.forward(relu.forward(conv.forward(x)))
        dx = conv.backward(relu.backward(pool.backward(grad_out)))
        return y, (dx, conv.grads["W"], conv.grads["b"])

    return naive, im2col


# --- the same block in PyTorch --------------------------------------------------------------------

def make_torch_step(torch, x, conv, grad_out):
    torch_conv = torch.nn.Conv2d(1, 8, 3)
    with torch.no_grad():  # same weights as nnlib, in float32
        torch_conv.weight.copy_(torch.from_numpy(conv.params["W"]))
        torch_conv.bias.copy_(torch.from_numpy(conv.params["b"]))
    pool = torch.nn.MaxPool2d(2)
    x_t = torch.tensor(x, dtype=torch.float32, requires_grad=True)
    grad_t = torch.tensor(grad_out, dtype=torch.float32)
    weights = (x_t, torch_conv.weight, torch_conv.bias)

    def step():
        y = pool(torch.relu(torch_conv(x_t)))
        # autograd.grad returns dx, dW, db without accumulating into .grad, like nnlib's backward.
        return y, torch.autograd.grad(y, weights, grad_t)

    return step


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=15, help="timed rounds (median taken)")
    args = parser.parse_args(argv)

    x = load_batch()
    conv = Conv2d(1, 8, 3, rng=0)
    pool = MaxPool2d(2)
    grad_out = np.random.default_rng(1).standard_normal((BATCH, 8, 3, 3))
    naive, im2col = make_nnlib_steps(x, conv, pool, grad_out)

    # Same numbers from both nnlib versions before timing them.
    (y_naive, grads_naive), (y_fast, grads_fast) = naive(), im2col()
    assert np.allclose(y_naive, y_fast, atol=1e-12)
    assert all(np.allclose(a, b, atol=1e-10) for a, b in zip(grads_naive, grads_fast))

    numpy_threads = blas_threads()
    print("machine:", machine_summary())
    print(f"block: Conv2d(1 -> 8, 3x3) -> ReLU -> MaxPool2d(2), forward + backward, "
          f"batch of {BATCH} 8x8 digits; median of {args.repeats} rounds\n")

    torch = try_import_torch()

    steps = {"naive": (naive, 3, None), "im2col": (im2col, 50, None)}
    if torch is not None:
        torch_step = make_torch_step(torch, x, conv, grad_out)
        y_torch, _ = torch_step()
        assert np.allclose(y_torch.detach().numpy(), y_fast, atol=1e-5)
        default_threads = torch.get_num_threads()
        # Default threads, numpy's BLAS thread count (like for like; numpy's elementwise work is
        # single-threaded anyway) and one thread.
        thread_counts = [default_threads] + sorted({numpy_threads or default_threads, 1}
                                                   - {default_threads})
        for threads in thread_counts:
            steps[f"torch-{threads}"] = (torch_step, 50,
                                         lambda threads=threads: torch.set_num_threads(threads))
    # No settle pause (unlike bench_mlp): rounds here are short, and after a pause every one of them
    # started measurably slower, which distorted the figures more than the threads' overlap does.
    times = interleaved_median_seconds(steps, args.repeats, warmup=5)
    rows = [("nnlib naive loops", "float64", "-", times["naive"]),
            ("nnlib im2col", "float64", "-", times["im2col"])]

    torch_default = None
    if torch is not None:
        torch.set_num_threads(default_threads)
        torch_default = times[f"torch-{default_threads}"]
        for threads in thread_counts:
            label = f"torch {torch.__version__}" + (" (default threads)"
                                                     if threads == default_threads else "")
            rows.append((label, "float32", str(threads), times[f"torch-{threads}"]))
        if (numpy_threads or default_threads) == default_threads:
            print(f"note: numpy's BLAS uses {numpy_threads or '?'} threads, the same as torch's "
                  f"default ({default_threads}),\nso the default row is also the like-for-like "
                  "one.\n")

    print(f"{'version':<36} {'dtype':<8} {'threads':>7} {'ms':>9} {'/ torch':>8}")
    for name, dtype, threads, seconds in rows:
        ratio = f"{seconds / torch_default:8.2f}" if torch_default else f"{'-':>8}"
        print(f"{name:<36} {dtype:<8} {threads:>7} {seconds * 1e3:9.3f} {ratio}")
    if torch_default:
        im2col_seconds = rows[1][3]
        print(f"\nim2col / torch (default threads) = {im2col_seconds / torch_default:.2f}"
              f"  (target <= 1.5); naive / im2col = {rows[0][3] / im2col_seconds:.0f}x")


if __name__ == "__main__":
    main()
