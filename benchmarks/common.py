"""Shared helpers of the benchmark scripts: timing and a description of the machine."""
import os
import platform
import statistics
import time

import numpy as np


def median_seconds(function, repeats=20, warmup=3):
    """Median wall-clock seconds of ``function()`` over ``repeats`` runs, after ``warmup`` runs."""
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def blas_name():
    try:
        config = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        return f"{blas['name']} {blas.get('version', '')}".strip()
    except Exception:  # older numpy: no dict mode
        return "unknown BLAS"


def machine_summary():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"numpy {np.__version__} ({blas_name()})")


def try_import_torch():
    """PyTorch if the optional `bench` extra is installed, else None (with a note printed)."""
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed: `make bench` installs the optional `bench` extra.")
        return None
    return torch
