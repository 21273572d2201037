"""The judge: decide each graded function outside the student's process.

nbgrader runs hidden tests in the student's kernel, where code in the student's nnlib can replace
``numpy.allclose``, the autograder's helpers or ``sys.exit``. The judge does not trust that kernel:

    parent (trusted, never imports student code)            child (untrusted)
    ------------------------------------------------        ---------------------------------
    fresh seeds, copy of nnlib/ in a scratch folder ----->  python -I -m autograder.judge_child
    limits: CPU, memory, file size, processes,              in its own sandbox (autograder.sandbox:
      wall clock; the sandbox: nothing of the               no reference, no course, no network);
      course visible but the package and the copy           imports numpy once, then per function
                                                            forks: imports the student's nnlib,
                                                    <-----  runs the probe, writes numbers (npz)
    np.load(allow_pickle=False), rebuild the result,
    compare with the reference on the same seed  ->  Verdict(passed, message)

A test cell scores only if its hidden test passed in the kernel AND the judge agrees
(``autograder.preprocessors.JudgeVerdicts``).
"""
import contextlib
import io
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import course_folder
from . import sandbox
from . import warm_kernel
from .hidden_tests import GradingError, compare
from .judge_child import flatten
from .probes import PROBES
from .reference import reference_nnlib


@dataclass(frozen=True)
class Limits:
    cpu_seconds: int = 20
    memory_bytes: int = 3 * 1024 ** 3
    file_bytes: int = 64 * 1024 ** 2
    processes: int = 32
    wall_seconds: float = 30.0


@dataclass(frozen=True)
class Verdict:
    name: str
    passed: bool
    message: str = ""


class _Leaf:
    """A value the child could not send as a number (an object, an ndarray subclass...)."""

    def __init__(self, description):
        self.judge_description = description  # read by hidden_tests._describe

    def __repr__(self):
        return self.judge_description


def _resource_limits(limits):
    """``{name of a resource limit: value}`` for the child: its CPU time, address space and file
    size, and no core dump."""
    return {"RLIMIT_CPU": limits.cpu_seconds, "RLIMIT_AS": limits.memory_bytes,
            "RLIMIT_FSIZE": limits.file_bytes, "RLIMIT_CORE": 0}


def _limit(limits, cgroup=None):
    def apply():
        if cgroup is not None:
            (cgroup / "cgroup.procs").write_text(str(os.getpid()))
        warm_kernel.apply_resource_limits(_resource_limits(limits))
    return apply


def _copy_submission(submission, destination):
    """Copy ``submission/nnlib`` (regular files only) into ``destination``, readable by the child."""
    source = Path(submission) / "nnlib"
    if not (source / "__init__.py").is_file():
        return "nnlib/ is missing from your submission"
    for path in source.rglob("*"):
        if path.is_symlink():
            return f"nnlib/{path.relative_to(source)} is a symbolic link: submit plain files"
    shutil.copytree(source, destination / "nnlib", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for path in [destination, *destination.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    return ""


# Where the submission's copy sits inside the judge's sandbox (a tmpfs of its own), warm or cold.
SANDBOX_FOLDER = warm_kernel.JUDGE_FOLDER
ENVIRONMENT = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"}


def _arguments(seeds, folder, sandboxed, limits):
    """``judge_child.main``'s arguments."""
    probes = [str(part) for name, seed in seeds.items() for part in (name, seed)]
    return [folder, str(limits.cpu_seconds), str(limits.wall_seconds)] + \
        ["--sandboxed"] * sandboxed + probes


def _start_child(seeds, scratch, sandboxed, limits, result_file, cgroup):
    """The child, writing to ``result_file``: forked from this process's kernel server when it
    runs one (a grading worker: ``autograder.warm_kernel``), else in a sandbox of its own, or
    (``--no-sandbox``) bare in ``scratch``."""
    server = warm_kernel.running() if sandboxed else None
    if server is not None:
        return server.start_judge(_arguments(seeds, SANDBOX_FOLDER, True, limits),
                                  sandbox.sandboxed_environment(ENVIRONMENT),
                                  _resource_limits(limits), scratch, result_file, cgroup)
    command = [sys.executable, "-I", "-m", "autograder.judge_child",
               *_arguments(seeds, SANDBOX_FOLDER if sandboxed else str(scratch), sandboxed, limits)]
    if sandboxed:
        command, environment = sandbox.wrap(command, copy_from=scratch, workdir=SANDBOX_FOLDER,
                                            environment=ENVIRONMENT), None
    else:
        environment = {**ENVIRONMENT, "PATH": "/usr/bin:/bin", "HOME": str(scratch),
                       "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.Popen(command, cwd=scratch, env=environment, stdin=subprocess.DEVNULL,
                            stdout=result_file, stderr=subprocess.DEVNULL,
                            preexec_fn=_limit(limits, cgroup), start_new_session=True)


def _records(output):
    """``{name: (outcome, cpu_seconds, wall_seconds, npz bytes)}`` from the child's output; a record
    cut short
    (the child was stopped while writing) is left out."""
    records, position = {}, 0
    while True:
        end = output.find(b"\n", position)
        if end < 0:
            return records
        try:
            name, outcome, cpu, wall, length = output[position:end].decode().split("\t")
            length, cpu, wall = int(length), float(cpu), float(wall)
        except ValueError:
            return records
        payload = output[end + 1:end + 1 + length]
        if len(payload) < length:
            return records
        records[name] = (outcome, cpu, wall, payload)
        position = end + 1 + length


def _rebuild(expected, path, kinds, arrays):
    """The child's value at ``path``, shaped like ``expected`` where the child's kinds agree."""
    if isinstance(expected, dict):
        return {key: _rebuild(item, f"{path}[{key!r}]", kinds, arrays) for key, item in expected.items()}
    if isinstance(expected, (list, tuple)):
        kind = kinds.get(path, "missing")
        if not kind.startswith(("list:", "tuple:")):
            return _Leaf(f"a {kind.split('@')[0]}")
        length = int(kind.split(":")[1])
        return [_rebuild(expected[index] if index < len(expected) else 0.0, f"{path}[{index}]",
                         kinds, arrays) for index in range(length)]
    kind = kinds.get(path, "missing")
    label, _, leaf = kind.partition("@")
    if not leaf:
        return _Leaf(f"a {label.replace('other:', '')}" if label != "missing" else "nothing")
    value = arrays[leaf]
    if label == "ndarray":
        return value
    if label == "number":
        return value[()].item()
    if label == "bool":
        return bool(value[()])
    return _Leaf(f"a {label.replace('subclass:', '')} (a subclass of numpy's ndarray)")


def _reference_result(name, seed):
    """The reference's raw result, after the same round trip as the child's (tuples become lists)."""
    expected = PROBES[name].run(reference_nnlib(), np.random.default_rng(seed))
    arrays, kinds = {}, {}
    flatten(expected, "", arrays, kinds)
    return _rebuild(expected, "", kinds, arrays)


def _did_not_finish(short, limits):
    """One message whichever limit struck first (the CPU time's, or on a busy machine the wall
    clock's), so a hanging function reads the same however loaded the grading machine was."""
    return (f"{short} did not finish within {limits.wall_seconds:g} s ({limits.cpu_seconds:g} s of "
            "CPU time) and was stopped: look for an infinite loop (a while loop whose condition "
            "never changes) or a far too slow computation")


def _why_it_stopped(short, returncode, cpu_seconds, wall_seconds, limits):
    """The student's message for a judged process that did not exit cleanly after ``cpu_seconds``
    of CPU time and ``wall_seconds`` of wall clock."""
    signum = -returncode if returncode < 0 else 0
    # The CPU limit ends a process with SIGXCPU or SIGKILL; it cannot strike before that much time
    # (on the wall clock: the CPU time the system reports back can fall short of what it limits).
    if signum in (signal.SIGXCPU, signal.SIGKILL) and wall_seconds >= limits.cpu_seconds - 0.5:
        return _did_not_finish(short, limits)
    cause = {signal.SIGKILL: "was killed", signal.SIGSEGV: "crashed"}.get(
        signum, f"exited with status {returncode}")
    return (f"{short} {cause} after {cpu_seconds:.1f} s of CPU time (limits: {limits.cpu_seconds} s of CPU, "
            f"{limits.memory_bytes // 1024 ** 2} MB of memory)")


def judge_function(name, submission, seed=None, limits=Limits(), sandboxed=True):
    """The judge's verdict on one graded function ``name`` of the submission folder ``submission``."""
    return judge([name], submission, seed, limits, sandboxed)[name]


def judge(names, submission, seed=None, limits=Limits(), sandboxed=True, reference_dir=None):
    """Verdicts ``{name: Verdict}`` on the graded functions ``names`` of the submission folder
    ``submission``, the function at index ``i`` on the seed ``seed + i``, compared with the
    reference ``nnlib`` in ``reference_dir`` (default: the chosen course's).

    One child process, in a sandbox of its own (``autograder.sandbox``; in a grading worker forked
    from its warm kernel server, ``autograder.warm_kernel``) unless ``sandboxed`` is False, imports
    numpy and the probes once and forks a process per function, each with the limits of
    ``limits`` (``judge_child``); so a function that crashes, hangs or exhausts its memory fails
    alone.
    """
    seed = secrets.randbits(63) if seed is None else seed
    if sandboxed:
        sandbox.require()
    reference_nnlib(course_folder.reference_dir(reference_dir))  # what every comparison below uses
    seeds = {name: seed + index for index, name in enumerate(names)}
    with tempfile.TemporaryDirectory(prefix="judge-") as scratch, \
            tempfile.TemporaryDirectory(prefix="judge-result-") as private:
        scratch, private = Path(scratch), Path(private)
        problem = _copy_submission(submission, scratch)
        if problem:
            return {name: Verdict(name, False, problem) for name in names}
        result_path = private / "result"
        with open(result_path, "wb") as result_file, sandbox.process_group(limits.processes) as cgroup:
            child = _start_child(seeds, scratch, sandboxed, limits, result_file, cgroup)
            try:  # each function has its own wall clock in the child; this is the backstop
                child.wait(timeout=limits.wall_seconds * len(names) + STARTUP_SECONDS)
            except subprocess.TimeoutExpired:
                pass
            finally:
                if isinstance(child, warm_kernel.WarmProcess):
                    child.kill()  # PID 1 of its namespace: all it started with it
                else:
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.killpg(child.pid, signal.SIGKILL)  # the sandbox's PID namespace with it
                child.wait()
        records = _records(result_path.read_bytes())
    return {name: _verdict(name, seeds[name], records.get(name), limits) for name in names}


# Seconds the judge's child may take, beyond its functions' own limits, to start and import numpy.
STARTUP_SECONDS = 20.0


def _verdict(name, seed, record, limits):
    """The verdict on ``name`` from its record (``_records``), or None if it has none."""
    probe = PROBES[name]
    short = name.split(".", 2)[-1]
    if record is None:
        return Verdict(name, False, f"{short} could not be judged: the judged process stopped before "
                                    f"reaching it (limits: {limits.cpu_seconds} s of CPU, "
                                    f"{limits.memory_bytes // 1024 ** 2} MB of memory)")
    outcome, cpu_seconds, wall_seconds, payload = record
    if outcome == "no-process":
        return Verdict(name, False, f"{short} could not be judged: the processes started by another "
                                    "of your functions took every process allowed")
    if outcome == "timeout":
        return Verdict(name, False, _did_not_finish(short, limits))
    kind, _, number = outcome.partition(":")
    if outcome != "exit:0":
        returncode = -int(number) if kind == "signal" else int(number)
        return Verdict(name, False, _why_it_stopped(short, returncode, cpu_seconds, wall_seconds,
                                                    limits))
    try:
        with np.load(io.BytesIO(payload), allow_pickle=False) as data:
            status = str(data["__status__"])
            kinds = dict(line.split("\t", 1) for line in data["__kinds__"].tolist())
            arrays = {key: data[key] for key in data.files if key.startswith("leaf")}
    except Exception:
        return Verdict(name, False, f"{short}: the judged process returned no readable result "
                                    "(did your code write to its output or exit early?)")
    if status != "ok":
        if status.startswith("NotImplementedError"):
            return Verdict(name, False, f"{short} is not implemented yet")
        if status.startswith("FloatingPointError: "):  # the probe's words already name the call
            return Verdict(name, False, status.split(": ", 1)[1])
        return Verdict(name, False, f"{short} raised {status}")
    reference_raw = _reference_result(name, seed)
    got = _rebuild(reference_raw, "", kinds, arrays)
    try:
        reference_view = probe.judged(reference_raw, reference_nnlib(), seed)
        got = probe.judged(got, reference_nnlib(), seed)
        compare(probe.label or short, got, reference_view, rtol=probe.rtol, atol=probe.atol)
    except GradingError as error:
        return Verdict(name, False, str(error))
    except Exception as error:  # a result of a form the probe's evaluate or compare cannot read
        return Verdict(name, False, f"{short} returned something that could not be judged "
                                    f"({type(error).__name__}: {error})")
    return Verdict(name, True)
