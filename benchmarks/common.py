"""Shared helpers of the benchmark scripts: interleaved timing and a description of the machine."""
import os
import platform
import statistics
import time

import numpy as np


def interleaved_median_seconds(steps, repeats=15, warmup=3, settle=0.0):
    """Median over timed rounds of the mean wall-clock seconds per call of each step.

    ``steps`` maps a name to ``(step, calls_per_round, before_round)``: each round calls ``step()``
    ``calls_per_round`` times; ``before_round`` (or None) runs untimed before each of that step's
    rounds, e.g. to set a thread count. One warm-up round of ``warmup`` calls per step comes first,
    not recorded. The rounds of the different steps are interleaved, so that a change in the
    machine's load (other processes, frequency scaling) affects all of them alike and their ratios
    stay meaningful.

    ``settle`` seconds of sleep precede every round. Idle worker threads of a BLAS or OpenMP pool
    busy-wait for a while (OpenBLAS about 0.1 s) after their library's last call; without the
    pause they compete for the cores with the next step's threads, and a PyTorch round that follows
    a numpy round can take twice as long as on its own. 0.2 s is enough for both.

    Returns
    -------
    dict
        Name -> median seconds per call.
    """
    rounds = {name: [] for name in steps}
    for repeat in range(repeats + 1):
        for name, (step, calls, before_round) in steps.items():
            if settle:
                time.sleep(settle)
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
    return {name: statistics.median(times) for name, times in rounds.items()}


def blas_name():
    """BLAS name and version from numpy's build configuration."""
    try:
        config = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        return f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # older numpy (no dict mode), or a build that does not report it
        return "unknown BLAS"


def blas_threads():
    """Threads of numpy's BLAS as threadpoolctl sees them, or None if it cannot tell."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    pools = [pool for pool in threadpool_info() if pool.get("user_api") == "blas"]
    return pools[0]["num_threads"] if pools else None


def machine_summary():
    """One line: CPU model, cores, Python, numpy and its BLAS (with its threads if known)."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    threads = blas_threads()
    blas = blas_name() + (f", {threads} threads" if threads else "")
    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"numpy {np.__version__} ({blas})")


def try_import_torch():
    """PyTorch if the optional `bench` extra is installed, else None (with a note printed)."""
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed: `make bench` installs the optional `bench` extra.")
        return None
    return torch
