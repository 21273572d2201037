"""Stopping a grading run cleanly: Ctrl-C or SIGTERM, and the processes a run leaves behind.

The grading process itself never runs nbgrader while a signal may arrive unattended: nbgrader
catches every exception (``KeyboardInterrupt`` included) and reports it as the submission's failure,
which would record "could not be autograded: KeyboardInterrupt" against a student. So submissions
are graded in worker processes that ignore Ctrl-C, and the grading process, on SIGINT or SIGTERM:

1. raises ``GradingStopped`` (a ``BaseException``, like ``KeyboardInterrupt``) where it waits;
2. cancels the queued submissions and ends each worker and everything it started (``end_workers``:
   kernels and judged children run in sessions of their own, in bubblewrap sandboxes that die with
   their PID namespace, so each one's process group is killed by PID);
3. records nothing of the stopped run: the results of the last finished run stay as they were.

While the results of a finished run are written (``deferred``), a signal waits until they all are.
"""
import contextlib
import os
import select
import signal
import tempfile
import threading
import time
from pathlib import Path

from . import sandbox

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class GradingStopped(BaseException):
    """The run was stopped by a signal; nothing of it was recorded. ``str()`` says what was kept."""

    def __init__(self, signum, message="", recorded=False):
        super().__init__(message or f"stopped by {signal.Signals(signum).name}")
        self.signum = signum
        self.recorded = recorded  # the run's results were saved before the signal took effect

    @property
    def signal_name(self):
        return signal.Signals(self.signum).name

    @property
    def exit_status(self):
        """The shell's convention: 128 + the signal's number (130 for Ctrl-C)."""
        return 128 + self.signum


_state = {"received": None, "deferring": False}


def _on_signal(signum, frame):
    _state["received"] = signum
    if not _state["deferring"]:
        raise GradingStopped(signum)


@contextlib.contextmanager
def stop_on_signals():
    """SIGINT and SIGTERM raise ``GradingStopped`` in the main thread for the ``with`` block
    (elsewhere than in the main thread signals cannot be handled, and nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, _on_signal) for signum in SIGNALS}
    _state["received"] = None
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def raise_if_stopped():
    """Raise ``GradingStopped`` if a signal came (nbgrader may have swallowed the first raise)."""
    if _state["received"] is not None:
        raise GradingStopped(_state["received"])


@contextlib.contextmanager
def deferred():
    """A signal arriving in the block takes effect at its end, so result files are all written."""
    _state["deferring"] = True
    try:
        yield
    finally:
        _state["deferring"] = False
    raise_if_stopped()


class Checked:
    """An nbgrader API whose calls raise ``GradingStopped`` when a signal came during them."""

    def __init__(self, api):
        self._api = api

    def __getattr__(self, name):
        attribute = getattr(self._api, name)
        if not callable(attribute):
            return attribute

        def call(*args, **kwargs):
            raise_if_stopped()
            result = attribute(*args, **kwargs)
            raise_if_stopped()
            return result
        return call


def descendants(pid):
    """Host PIDs of every process below ``pid``, parents before children."""
    parents = sandbox.children_by_parent()
    found, queue = [], [pid]
    while queue:
        children = parents.get(queue.pop(0), [])
        found += children
        queue += children
    return found


def kill_processes(pids):
    """SIGKILL each of ``pids`` and, when it leads a process group of its own, that group."""
    own_group = os.getpgrp()
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            group = os.getpgid(pid)
            if group == pid and group != own_group:
                os.killpg(group, signal.SIGKILL)
            else:
                os.kill(pid, signal.SIGKILL)


def wait_until_gone(pids, seconds=1.0):
    """Wait, at most ``seconds`` in all, until each of ``pids`` has exited: a process killed a
    moment ago may still be releasing its memory, and until then it is still running."""
    deadline = time.monotonic() + seconds
    for pid in pids:
        try:
            exited = os.pidfd_open(pid)  # any process, not only a child: readable once it exits
        except OSError:  # already gone
            continue
        try:
            poller = select.poll()
            poller.register(exited, select.POLLIN)
            poller.poll(max(deadline - time.monotonic(), 0.0) * 1000)
        finally:
            os.close(exited)


def _end_this_worker(signum, frame):
    """A worker's SIGTERM: end everything it started, remove its cgroups, exit at once (a normal
    exit could be caught by nbgrader and go on grading)."""
    kill_processes(descendants(os.getpid()))
    sandbox.remove_all_process_groups()
    os._exit(128 + signum)


_started = {"queue": None}  # in a worker: where it says which submission it starts


def prepare_worker(log_path=None, started=None, scratch=None):
    """A grading worker's initializer: Ctrl-C is the grading process's to handle, SIGTERM ends the
    worker and its processes, and what it prints (third-party warnings, logs) goes to ``log_path``.
    ``started`` is a queue on which ``starting`` tells the grading process who is graded where.
    Temporary files (the kernels' connection files, the judge's folders) go to ``scratch``, which
    the grading process removes however the worker ends."""
    _started["queue"] = started
    if scratch is not None:
        os.environ["TMPDIR"] = tempfile.tempdir = scratch
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _end_this_worker)
    if log_path is not None:
        log = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)


def starting(student):
    """In a worker: tell the grading process that this worker grades ``student`` now."""
    if _started["queue"] is not None:
        _started["queue"].put((os.getpid(), student))


def _cgroups_of(pids):
    """The autograder's cgroups (``sandbox.create_process_group``) that hold any of ``pids``."""
    groups = set()
    for pid in pids:
        try:
            lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
        except OSError:
            continue
        for line in lines:
            path = line.split(":", 2)[-1]
            if "/autograder-" in path:
                for root in (Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/pids")):
                    if (root / path.lstrip("/")).is_dir():
                        groups.add(root / path.lstrip("/"))
    return groups


def end_workers(processes):
    """End the worker ``processes`` (``multiprocessing.Process``) and everything they started, at
    once: SIGKILL to the process group of each process below them (kernels, judged children: each
    a bubblewrap sandbox in a session of its own, whose PID namespace dies with it), then to the
    workers; then their cgroups are removed. A worker's own clean-up could take seconds (a kernel
    shutting down); nothing of theirs is kept anyway."""
    below = [pid for process in processes for pid in descendants(process.pid)]
    groups = _cgroups_of(below)
    kill_processes(below)
    kill_processes([process.pid for process in processes])
    for process in processes:
        process.join(1.0)
    wait_until_gone(below)  # no longer the workers' children: nobody here waits for them
    for group in groups:
        sandbox.remove_process_group(group)
