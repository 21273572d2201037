"""One training epoch of an MLP 64-128-64-10 (batch 64) on the digits: nnlib vs PyTorch CPU.

Prints the nnlib epoch time, PyTorch's (float32, same batches, same process), their ratio, and the
time of the epoch's matrix products alone: the floor no implementation of the same arithmetic can go
under. Each figure is the median over 10 rounds of the mean time of an epoch within a round (4
epochs); the rounds of the versions are interleaved so that the machine's load affects them alike,
with a pause before each round so that numpy's and PyTorch's idle threads do not compete (see
``interleaved_median_seconds``). Run: `make bench` (installs PyTorch), or
`.venv/bin/python benchmarks/bench_mlp.py`.
"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import (  # noqa: E402
    interleaved_median_seconds, machine_summary, try_import_torch,
)
from nnlib.data import load_digits  # noqa: E402
from nnlib.layers import Linear, ReLU, Sequential  # noqa: E402
from nnlib.losses import CrossEntropyLoss  # noqa: E402
from nnlib.optim import SGD  # noqa: E402

SIZES = (64, 128, 64, 10)
BATCH = 64
LR = 0.05
EPOCHS_PER_ROUND = 4


def batches(seed=0):
    X, y = load_digits()
    order = np.random.default_rng(seed).permutation(len(X))
    return [(X[order[i:i + BATCH]], y[order[i:i + BATCH]]) for i in range(0, len(X), BATCH)]


def nnlib_epoch(data):
    layers = []
    for index, (d_in, d_out) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        layers += [Linear(d_in, d_out, rng=index), ReLU()]
    model = Sequential(*layers[:-1])
    loss = CrossEntropyLoss()
    optimizer = SGD(model.parameters(), lr=LR)

    def epoch():
        for X, y in data:
            loss.forward(model.forward(X), y)
            model.backward(loss.backward())
            optimizer.step()
    return epoch


def matmul_floor(data):
    """Only the products an MLP epoch cannot avoid: 3 forward, 3 weight gradients, 2 input gradients."""
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal((a, b)) for a, b in zip(SIZES[:-1], SIZES[1:])]

    def epoch():
        for X, _ in data:
            activations = [X]
            for W in weights:
                activations.append(activations[-1] @ W)
            grad = activations[-1]
            for layer in reversed(range(len(weights))):
                activations[layer].T @ grad  # weight gradient
                if layer:
                    grad = grad @ weights[layer].T  # input gradient
    return epoch


def torch_epoch(torch, data):
    torch.manual_seed(0)
    layers = []
    for d_in, d_out in zip(SIZES[:-1], SIZES[1:]):
        layers += [torch.nn.Linear(d_in, d_out), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    loss = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    tensors = [(torch.tensor(X, dtype=torch.float32), torch.tensor(y)) for X, y in data]

    def epoch():
        for X, y in tensors:
            optimizer.zero_grad()
            loss(model(X), y).backward()
            optimizer.step()
    return epoch


def main():
    data = batches()
    print(f"MLP {'-'.join(map(str, SIZES))}, batch {BATCH}, {len(data)} batches per epoch "
          f"({sum(len(y) for _, y in data)} digits), SGD")
    print("machine:", machine_summary())
    steps = {"nnlib": (nnlib_epoch(data), EPOCHS_PER_ROUND, None),
             "floor": (matmul_floor(data), EPOCHS_PER_ROUND, None)}
    torch = try_import_torch()
    if torch is not None:
        steps["torch"] = (torch_epoch(torch, data), EPOCHS_PER_ROUND, None)
    times = interleaved_median_seconds(steps, repeats=10, warmup=3, settle=0.2)
    ours, floor = times["nnlib"], times["floor"]
    print(f"  nnlib (float64)          {ours * 1e3:8.2f} ms per epoch")
    print(f"  matrix products alone    {floor * 1e3:8.2f} ms   nnlib / floor = {ours / floor:.2f}")
    if torch is not None:
        theirs = times["torch"]
        print(f"  PyTorch {torch.__version__} (float32, {torch.get_num_threads()} threads) "
              f"{theirs * 1e3:8.2f} ms per epoch")
        print(f"  nnlib / PyTorch = {ours / theirs:.2f}   (target <= 0.75)")


if __name__ == "__main__":
    main()
