"""Slider change -> redrawn figure, for every live widget in nncourse.widgets (target: <= 150 ms median).

Each widget module offers ``benchmark_case() -> (widget, [control values, ...])``; this script calls
``widget.update(**values)`` for each and takes the time until the new PNG the notebook shows exists
(``widget.png``, bytes: every widget renders it in ``update``). Prints the median and the 90th
percentile, and exits with status 1 if a median misses the target (a wall-clock limit belongs here,
not in the tests, where a busy machine would make it flaky).
Run: `.venv/bin/python benchmarks/bench_widgets.py`.
"""
import importlib
import os
import pkgutil
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import nncourse.widgets  # noqa: E402
from benchmarks.common import machine_summary  # noqa: E402

ROUNDS = 5


def measure(module_name):
    module = importlib.import_module(f"nncourse.widgets.{module_name}")
    widget, moves = module.benchmark_case()
    times = []
    for _ in range(ROUNDS):
        for values in moves:
            start = time.perf_counter()
            widget.update(**values)
            image = widget.png
            times.append(time.perf_counter() - start)
            assert image, f"{module_name}: no rendered image after update"
    return times


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main():
    print("machine:", machine_summary())
    print(f"{'widget':<16}{'median ms':>11}{'p90 ms':>9}  (slider change -> new PNG; target <= 150 ms)")
    names = [info.name for info in pkgutil.iter_modules(nncourse.widgets.__path__)]
    slow = []
    for name in sorted(names):
        module = importlib.import_module(f"nncourse.widgets.{name}")
        if not hasattr(module, "benchmark_case"):
            continue
        times = measure(name)
        median = statistics.median(times)
        if median > 0.150:
            slow.append(name)
        print(f"{name:<16}{median * 1e3:11.1f}{percentile(times, 0.9) * 1e3:9.1f}"
              f"  {'ok' if median <= 0.150 else 'SLOW'}")
    if slow:
        sys.exit(f"slower than 150 ms at the median: {', '.join(slow)}")


if __name__ == "__main__":
    main()
