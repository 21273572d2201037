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
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # nnlib is not installed

from nnlib.conv import Conv2d, MaxPool2d, conv2d_backward_naive, conv2d_forward_naive  # noqa: E402

BATCH = 64


def load_batch():
    from sklearn.datasets import load_digits

    images = load_digits().images[:BATCH] / 16.0
    return images.reshape(BATCH, 1, 8, 8).astype(np.float64)


def time_per_call(steps, repeats, warmup=5):
    """Median over rounds of the mean seconds per call of each step.

    ``steps`` maps a name to ``(step, calls_per_round, before_round)``; ``before_round`` (or None)
    runs untimed before each of that step's rounds. The rounds of the different steps are
    interleaved, so that a change in the machine's load (other processes, frequency scaling)
    affects all of them alike and their ratios stay meaningful.
    """
    rounds = {name: [] for name in steps}
    for repeat in range(repeats + 1):
        for name, (step, calls, before_round) in steps.items():
            if before_round is not None:
                before_round()
            if repeat == 0:  # warm-up round, not recorded
                for _ in range(warmup):
                    step()
                continue
            start = time.perf_counter()
            for _ in range(calls):
                step()
            rounds[name].append((time.perf_counter() - start) / calls)
    return {name: float(np.median(times)) for name, times in rounds.items()}


def blas_description():
    """BLAS name and version from numpy's build configuration, and its threads if visible."""
    name = "unknown"
    try:
        config = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        name = f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # older numpy, or a build that does not report it
        pass
    threads = None
    try:
        from threadpoolctl import threadpool_info

        blas_pools = [pool for pool in threadpool_info() if pool.get("user_api") == "blas"]
        if blas_pools:
            threads = blas_pools[0]["num_threads"]
    except ImportError:
        pass
    return name, threads


# --- the block in nnlib ---------------------------------------------------------------------------

def relu_forward(x):
    return np.maximum(x, 0.0)


def relu_backward(x, grad_out):
    return grad_out * (x > 0)


def make_nnlib_steps(x, conv, pool, grad_out):
    """Two closures doing forward + backward: one with the naive conv, one with ``Conv2d``."""
    W, b = conv.params["W"], conv.params["b"]

    def naive():
        z = conv2d_forward_naive(x, W, b)
        y = pool.forward(relu_forward(z))
        dz = relu_backward(z, pool.backward(grad_out))
        return y, conv2d_backward_naive(dz, x, W)

    def im2col():
        z = conv.forward(x)
        y = pool.forward(relu_forward(z))
        dz = relu_backward(z, pool.backward(grad_out))
        dx = conv.backward(dz)
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

    blas_name, blas_threads = blas_description()
    print("machine:", platform.platform(), "|", platform.machine(), "|", f"{os.cpu_count()} CPUs")
    print(f"python {platform.python_version()}, numpy {np.__version__}, BLAS: {blas_name}"
          + (f" ({blas_threads} threads)" if blas_threads else ""))
    print(f"block: Conv2d(1 -> 8, 3x3) -> ReLU -> MaxPool2d(2), forward + backward, "
          f"batch of {BATCH} 8x8 digits; median of {args.repeats} rounds\n")

    try:
        import torch
    except ImportError:
        torch = None
        print("(PyTorch not installed: `pip install -e '.[bench]'` for the comparison)\n")

    steps = {"naive": (naive, 3, None), "im2col": (im2col, 50, None)}
    if torch is not None:
        torch_step = make_torch_step(torch, x, conv, grad_out)
        y_torch, _ = torch_step()
        assert np.allclose(y_torch.detach().numpy(), y_fast, atol=1e-5)
        default_threads = torch.get_num_threads()
        # Default threads, numpy's BLAS thread count (like for like; numpy's elementwise work is
        # single-threaded anyway) and one thread.
        thread_counts = [default_threads] + sorted({blas_threads or default_threads, 1}
                                                   - {default_threads})
        for threads in thread_counts:
            steps[f"torch-{threads}"] = (torch_step, 50,
                                         lambda threads=threads: torch.set_num_threads(threads))
    times = time_per_call(steps, args.repeats)
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
        if (blas_threads or default_threads) == default_threads:
            print(f"note: numpy's BLAS uses {blas_threads or '?'} threads, the same as torch's "
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
