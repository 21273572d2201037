"""Where a submission's grading time goes, stage by stage, in the process grading it.

The stages add their wall-clock seconds here (``add``); ``autograder.grading`` takes them for each
submission and keeps them on its result (``StudentResult.timings``, never saved), and
``benchmarks/bench_grading.py`` prints their shares of the total.
"""
import time

STAGES = ("kernel start and stop", "cell execution", "judge", "nbgrader's other steps",
          "reading scores", "feedback")

_seconds = {}


def add(stage, seconds):
    _seconds[stage] = _seconds.get(stage, 0.0) + seconds


class Stage:
    """``with Stage("judge"):`` adds the block's wall-clock seconds to ``"judge"``."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc_info):
        add(self.name, time.perf_counter() - self.started)


def take():
    """The seconds added since the last ``take``, by stage; starts afresh."""
    taken = dict(_seconds)
    _seconds.clear()
    return taken
