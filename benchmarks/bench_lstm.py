"""Speed of an LSTM's forward + backward through time: nnlib against PyTorch on the CPU.

One ``LSTM(32 -> 64)`` layer reads a batch of 64 sequences of 50 steps and backpropagates a
gradient at every step (to the input, to both initial states and to every parameter). nnlib runs
in float64, PyTorch's ``torch.nn.LSTM`` in float32 with the same weights (the comparison the
target is set against), and also in float64, like for like.

Run from the repository root::

    .venv/bin/python -m pip install -e '.[bench]'   # PyTorch CPU, optional
    .venv/bin/python benchmarks/bench_lstm.py

Each figure is the median over ``--repeats`` rounds (after a warm-up) of the mean time of one
forward + backward within a round; the rounds of both libraries are interleaved so that the
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
from nnlib.rnn import LSTM  # noqa: E402

BATCH, STEPS, INPUTS, HIDDEN = 64, 50, 32, 64


def make_nnlib_step(layer, x, h0, c0, grad_out):
    def step():
        h = layer.forward(x, h0, c0)
        return h, (layer.backward(grad_out), layer.dh0, layer.dc0)

    return step


def make_torch_step(torch, layer, x, h0, c0, grad_out, dtype):
    ref = torch.nn.LSTM(INPUTS, HIDDEN, batch_first=True).to(dtype)
    with torch.no_grad():  # same weights as nnlib (nnlib's are the transposes)
        ref.weight_ih_l0.copy_(torch.from_numpy(layer.params["Wx"].T.copy()))
        ref.weight_hh_l0.copy_(torch.from_numpy(layer.params["Wh"].T.copy()))
        ref.bias_ih_l0.copy_(torch.from_numpy(layer.params["b"]))
        ref.bias_hh_l0.zero_()
    x_t = torch.tensor(x, dtype=dtype, requires_grad=True)
    h0_t = torch.tensor(h0[None], dtype=dtype, requires_grad=True)
    c0_t = torch.tensor(c0[None], dtype=dtype, requires_grad=True)
    grad_t = torch.tensor(grad_out, dtype=dtype)
    inputs = (x_t, h0_t, c0_t, *ref.parameters())

    def step():
        h, _ = ref(x_t, (h0_t, c0_t))
        # autograd.grad returns the gradients without accumulating into .grad, like nnlib.
        return h, torch.autograd.grad(h, inputs, grad_t)

    return step


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=15, help="timed rounds (median taken)")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    layer = LSTM(INPUTS, HIDDEN, rng=1)
    x = rng.standard_normal((BATCH, STEPS, INPUTS))
    h0, c0 = rng.standard_normal((2, BATCH, HIDDEN))
    grad_out = rng.standard_normal((BATCH, STEPS, HIDDEN))
    nnlib_step = make_nnlib_step(layer, x, h0, c0, grad_out)
    h, _ = nnlib_step()

    numpy_threads = blas_threads()
    print("machine:", machine_summary())
    print(f"LSTM({INPUTS} -> {HIDDEN}), forward + backward through time, batch of {BATCH} "
          f"sequences of {STEPS} steps; median of {args.repeats} rounds\n")

    torch = try_import_torch()
    steps = {"nnlib": (nnlib_step, 5, None)}
    if torch is not None:
        torch_step = make_torch_step(torch, layer, x, h0, c0, grad_out, torch.float32)
        h_torch, _ = torch_step()
        assert np.allclose(h_torch.detach().numpy(), h, atol=1e-5)
        torch64_step = make_torch_step(torch, layer, x, h0, c0, grad_out, torch.float64)
        h_torch64, _ = torch64_step()
        assert np.allclose(h_torch64.detach().numpy(), h, atol=1e-12)
        default_threads = torch.get_num_threads()
        thread_counts = [default_threads] + sorted({numpy_threads or default_threads, 1}
                                                   - {default_threads})
        for threads in thread_counts:
            steps[f"torch-{threads}"] = (torch_step, 5,
                                         lambda threads=threads: torch.set_num_threads(threads))
        steps["torch64"] = (torch64_step, 5, lambda: torch.set_num_threads(default_threads))
    times = interleaved_median_seconds(steps, args.repeats, warmup=2)

    rows = [("nnlib", "float64", "-", times["nnlib"])]
    torch_default = None
    if torch is not None:
        torch.set_num_threads(default_threads)
        torch_default = times[f"torch-{default_threads}"]
        for threads in thread_counts:
            label = f"torch {torch.__version__}" + (" (default threads)"
                                                     if threads == default_threads else "")
            rows.append((label, "float32", str(threads), times[f"torch-{threads}"]))
        rows.append((f"torch {torch.__version__}", "float64", str(default_threads),
                     times["torch64"]))
    print(f"{'version':<36} {'dtype':<8} {'threads':>7} {'ms':>9} {'/ torch':>8}")
    for name, dtype, threads, seconds in rows:
        ratio = f"{seconds / torch_default:8.2f}" if torch_default else f"{'-':>8}"
        print(f"{name:<36} {dtype:<8} {threads:>7} {seconds * 1e3:9.3f} {ratio}")
    if torch_default:
        print(f"\nnnlib / torch (default threads) = {times['nnlib'] / torch_default:.2f}"
              "  (target <= 1.5)")


if __name__ == "__main__":
    main()
