"""The judge's child process: run the probes on a student's nnlib, print the numbers, nothing else.

Started by ``autograder.judge`` (see ``main`` for its command line), in the submission's sandbox.
It imports numpy and the probes once, then forks one process per graded function, which imports the
student's code, runs its probe under its own CPU and wall-clock limits and sends back its numbers;
a crash, a hang or a trick of one function costs only that function. Whatever comes back is only
data, which the judge reads with ``allow_pickle=False`` and compares with the reference itself.
"""
import io
import os
import signal
import sys
import time


def flatten(value, path, arrays, kinds):
    """Store ``value`` as arrays under key paths; ``kinds`` records what each leaf was."""
    import numpy as np

    if isinstance(value, dict):
        for key, item in value.items():
            flatten(item, f"{path}[{key!r}]", arrays, kinds)
    elif isinstance(value, (list, tuple)):
        kinds[path] = f"{type(value).__name__}:{len(value)}"
        for index, item in enumerate(value):
            flatten(item, f"{path}[{index}]", arrays, kinds)
    else:
        if isinstance(value, np.ndarray):
            kinds[path] = "ndarray" if type(value) is np.ndarray else f"subclass:{type(value).__name__}"
            value = np.array(value, copy=True).view(np.ndarray)
        elif isinstance(value, (bool, np.bool_)):
            kinds[path] = "bool"
        elif isinstance(value, (int, float, np.integer, np.floating)):
            kinds[path] = "number"
        else:
            kinds[path] = f"other:{type(value).__name__}"
            return
        array = np.asarray(value)
        if array.dtype.kind not in "biuf":
            kinds[path] = f"other:{array.dtype}"
            return
        arrays[f"leaf{len(arrays)}"] = array
        kinds[path] += f"@leaf{len(arrays) - 1}"


def _run_probe(name, seed, folder, result_fd):
    """In a forked process: import the student's nnlib, run the probe, write the numbers (npz)
    to ``result_fd``, exit. Never returns."""
    arrays, kinds = {}, {}
    try:
        import numpy as np

        from autograder.probes import PROBES

        import nnlib

        origin = os.path.dirname(os.path.abspath(nnlib.__file__))
        if origin != os.path.join(os.path.abspath(folder), "nnlib"):
            raise ImportError(f"nnlib was loaded from {origin}, not from the submission")
        result = PROBES[name].run(nnlib, np.random.default_rng(seed))
        flatten(result, "", arrays, kinds)
        status = "ok"
    except BaseException as error:  # the student's exception is a verdict, not a crash
        status = f"{type(error).__name__}: {error}"[:2000]
    try:
        import numpy as np

        buffer = io.BytesIO()
        np.savez(buffer, __status__=np.array(status), __kinds__=np.array(
            [f"{path}\t{kind}" for path, kind in kinds.items()]), **arrays)
        _send(result_fd, buffer.getvalue())
    finally:
        os._exit(0)


def _collect(child, pipe, wall_seconds):
    """``(outcome, payload, cpu_seconds)`` of a forked probe: its npz bytes as it exited
    (``"exit:0"``, ``"signal:9"``), or ``"timeout"`` after ``wall_seconds``. Waits for the
    process, not for the pipe: something the probe started may hold the pipe open."""
    import select

    chunks, deadline = [], time.monotonic() + wall_seconds
    exited = os.pidfd_open(child)
    poller = select.poll()
    poller.register(pipe, select.POLLIN)
    poller.register(exited, select.POLLIN)
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                os.kill(child, signal.SIGKILL)
                _, _, usage = os.wait4(child, 0)
                return "timeout", b"", usage.ru_utime + usage.ru_stime
            ready = {fd for fd, _ in poller.poll(remaining * 1000)}
            if pipe in ready:
                chunk = os.read(pipe, 1 << 20)
                if chunk:
                    chunks.append(chunk)
                else:
                    poller.unregister(pipe)
            if exited in ready:
                break
    finally:
        os.close(exited)
    os.set_blocking(pipe, False)
    while True:  # what it wrote before exiting
        try:
            chunk = os.read(pipe, 1 << 20)
        except BlockingIOError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    _, status, usage = os.wait4(child, 0)
    outcome = f"signal:{os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else \
        f"exit:{os.WEXITSTATUS(status)}"
    return outcome, b"".join(chunks), usage.ru_utime + usage.ru_stime


def main():
    """``python -I -m autograder.judge_child FOLDER CPU WALL [--sandboxed] NAME SEED [NAME SEED ...]``:
    each probe runs in a process of its own, forked from this one once numpy and the probes are
    imported (the student's code is imported only in the forks); for each, one line
    ``NAME\tOUTCOME\tCPU\tWALL\tLENGTH`` (seconds of CPU and of wall clock it took) then LENGTH
    bytes of its npz go to standard output."""
    folder, cpu_seconds, wall_seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    rest = sys.argv[4:]
    sandboxed = rest[:1] == ["--sandboxed"]
    pairs = rest[1:] if sandboxed else rest
    # Keep the real stdout for the results; whatever the student's code prints goes to stderr.
    result_fd = os.dup(1)
    os.dup2(2, 1)
    sys.path.insert(0, folder)
    import resource

    import numpy  # noqa: F401 (imported once, here, for every fork)

    import autograder.probes  # noqa: F401

    for name, seed in zip(pairs[::2], pairs[1::2]):
        read_end, write_end = os.pipe()
        child = _fork()
        if child is None:  # the process limit is still taken by what an earlier probe started
            os.close(read_end)
            os.close(write_end)
            _send(result_fd, f"{name}\tno-process\t0\t0\n".encode())
            continue
        if child == 0:
            os.close(read_end)
            os.setpgid(0, 0)
            resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
            _run_probe(name, int(seed), folder, write_end)
        os.close(write_end)
        started = time.monotonic()
        outcome, payload, cpu = _collect(child, read_end, wall_seconds)
        wall = time.monotonic() - started
        os.close(read_end)
        # Nothing a probe started may outlive it into the next one's run.
        for target in ([-child] + ([-1] if sandboxed else [])):
            try:
                os.kill(target, signal.SIGKILL)
            except OSError:
                pass
        _send(result_fd, f"{name}\t{outcome}\t{cpu:.3f}\t{wall:.3f}\t{len(payload)}\n".encode()
              + payload)
    os._exit(0)


def _fork(seconds=2.0):
    """``os.fork()``, retried while the sandbox's process limit is reached (processes killed a
    moment ago may not be gone yet); None if it stays reached."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return os.fork()
        except BlockingIOError:
            if time.monotonic() > deadline:
                return None
            time.sleep(0.01)


def _send(fd, data):
    data = memoryview(data)
    while data:
        data = data[os.write(fd, data):]


if __name__ == "__main__":
    main()
