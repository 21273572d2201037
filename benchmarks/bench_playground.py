"""The playground's latencies (targets: slider change <= 150 ms median; frame <= 100 ms; a slider
moved while it plays answers within 2 s at worst).

- slider change: ``update(**values)`` for the moves of ``benchmark_case()`` (a new network, data set
  or activation, and the learning rate and penalty) until the new PNG exists;
- animation frame: what Play does between two pictures, ``step(10)``: 10 training steps on 500
  points (250 for training) with two hidden layers of 8, the losses on both sets and the redraw;
- slider while playing: the learning rate moved while the background thread trains.

Run: `.venv/bin/python benchmarks/bench_playground.py`; it exits with status 1 if a target is missed.
"""
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import machine_summary  # noqa: E402
from nncourse.widgets.playground import STEPS_PER_FRAME, Playground, benchmark_case  # noqa: E402

ROUNDS = 5


def timed(action, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return times


MISSED = []  # the targets missed, for the exit status


def report(name, times, target, worst=False):
    """Print the median and 90th percentile; the target bounds the median (or, ``worst``, the max)."""
    ordered = sorted(times)
    median, p90 = statistics.median(times), ordered[int(0.9 * (len(ordered) - 1))]
    judged = max(times) if worst else median
    if judged > target:
        MISSED.append(name)
    print(f"{name:<34}{median * 1e3:9.1f}{p90 * 1e3:9.1f}   target {'max' if worst else 'median'} "
          f"<= {target * 1e3:.0f} ms: {'ok' if judged <= target else 'SLOW'}")
    return median


def main():
    print("machine:", machine_summary())
    print(f"{'':<34}{'median':>9}{'p90':>9}   (ms)")
    playground, moves = benchmark_case()
    slider = []
    for _ in range(ROUNDS):
        for values in moves:
            slider += timed(lambda: playground.update(**values), 1)
    report("slider change -> new picture", slider, 0.150)

    frames = []
    for dataset in ("circle", "xor", "gaussian", "spiral"):
        playground = Playground(dataset=dataset, hidden=[8, 8], n_samples=500, learning_rate=0.1)
        frames += timed(lambda: playground.step(STEPS_PER_FRAME), 40)
    median = report(f"frame ({STEPS_PER_FRAME} steps + losses + redraw)", frames, 0.100)
    print(f"  -> {1 / median:.0f} frames per second at the median")
    training = Playground(hidden=[8, 8])
    step_only = timed(lambda: [training._train_step() for _ in range(STEPS_PER_FRAME)], 40)
    print(f"  of which {STEPS_PER_FRAME} training steps alone: {statistics.median(step_only) * 1e3:.1f} ms")

    playing = Playground(hidden=[8, 8], learning_rate=0.1)
    playing.play()
    try:
        time.sleep(0.5)
        answered = []
        for lr in (0.3, 0.1) * 5:
            answered += timed(lambda: playing.update(learning_rate=lr), 1)
            time.sleep(0.1)
    finally:
        playing.pause()
    report("slider change while playing", answered, 2.0, worst=True)
    if MISSED:
        sys.exit(f"missed: {', '.join(MISSED)}")


if __name__ == "__main__":
    main()
