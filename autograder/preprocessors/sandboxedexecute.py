"""Autograde stage: nbgrader's ``Execute``, with every kernel started in a sandbox of its own.

Listed in place of ``nbgrader.preprocessors.Execute`` (``autograder.settings``), so ``autograder
grade``, ``nbgrader autograde`` and the formgrader all execute submissions the same way; the
``Execute`` settings (time-out, interrupt) apply to it unchanged.
"""
import time

from nbgrader.preprocessors import Execute
from traitlets import Bool

from .. import timings


class SandboxedExecute(Execute):

    sandboxed = Bool(True, help="Run each submission's kernel in its own sandbox (bubblewrap); "
                                "False only with `autograder grade --no-sandbox`").tag(config=True)

    def __init__(self, *args, **kwargs):
        from autograder.grading_kernel import SandboxedKernelManager

        # nbgrader's Execute passes its own manager class as an argument, which config cannot override.
        kwargs["kernel_manager_class"] = SandboxedKernelManager
        super().__init__(*args, **kwargs)

    def create_kernel_manager(self):
        manager = super().create_kernel_manager()
        manager.sandboxed = self.sandboxed
        return manager

    def preprocess(self, nb, resources=None, km=None):
        # Times for the benchmark's breakdown: kernel start (and stop) apart from the cells.
        self._cell_marks = []
        started = time.perf_counter()
        try:
            return super().preprocess(nb, resources, km)
        finally:
            ended = time.perf_counter()
            marks = self._cell_marks or [ended]  # the first cell's start, the last cell's end
            first, last = marks[0], marks[-1]
            timings.add("kernel start and stop", (first - started) + (ended - last))
            timings.add("cell execution", last - first)

    def preprocess_cell(self, cell, resources, index):
        if not self._cell_marks:
            self._cell_marks.append(time.perf_counter())
        try:
            return super().preprocess_cell(cell, resources, index)
        finally:
            self._cell_marks[1:] = [time.perf_counter()]
