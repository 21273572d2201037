"""A grading run stopped by Ctrl-C or SIGTERM, or losing a worker, loses nothing.

A class of five unit-01 submissions is graded once (the earlier results); then runs are started in
a subprocess, as the instructor's terminal would (a process group of their own), and stopped while
the second submission is being graded. Each must exit within 2 s, leave no process or temporary
file behind, record nothing, and leave the earlier results byte-identical; a later run gives the same grades as the
uninterrupted one. A worker killed by the OS costs no student their grade.
"""
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder import sandbox
from autograder.grading import grade
from autograder.stopping import descendants, wait_until_gone
from simulated_class import grade_class, make_submission

UNIT = "01_linear_limits"
pytestmark = [pytest.mark.slow, pytest.mark.sandbox]

STUDENTS = {
    "anna_reference": lambda release, folder: make_submission(release, folder),
    "ben_untouched": lambda release, folder: make_submission(release, folder, reference=False),
    "cleo_nan": lambda release, folder: make_submission(
        release, folder, regions=[("functional", "sigmoid", "return np.exp(x) / (1.0 + np.exp(x))")]),
    "dan_strict": lambda release, folder: make_submission(
        release, folder, regions=[("perceptron", "Perceptron.predict",
                                   "return (X @ self.w + self.b > 0).astype(np.int64)")]),
    "eve_reference": lambda release, folder: make_submission(release, folder),
}

# What `autograder grade` runs, pointed at a work folder; the same signal handling (in grade()).
DRIVER = """
import sys
from autograder import sandbox
from autograder.grading import grade
from autograder.stopping import GradingStopped
try:
    report = grade(sys.argv[1], work_dir=sys.argv[2], jobs=int(sys.argv[3]), cell_timeout=10,
                   progress=False)
except GradingStopped as stop:
    print(stop, file=sys.stderr)
    sys.exit(stop.exit_status)
print(report.summary())
"""


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """The class graded once, uninterrupted (two at a time)."""
    return grade_class(UNIT, tmp_path_factory.mktemp("stop"), STUDENTS, cell_timeout=10, jobs=2)


def table(report):
    return {s.student_id: [(t.name, t.score) for t in s.tests] for s in report.students}


def snapshot(work):
    """Every result file's bytes: grades (the runs' logs aside) and feedback summary pages."""
    files = [path for path in sorted((work / "grades").rglob("*")) if path.is_file()
             and path.suffix != ".log"]
    files += sorted((work / "feedback").glob(f"*/{UNIT}/summary.html"))
    return {path.relative_to(work).as_posix(): path.read_bytes() for path in files}


def processes_of(token, work):
    """PIDs (other than zombies) whose environment holds ``token`` or command line names ``work``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            environ = Path(f"/proc/{entry}/environ").read_bytes()
        except OSError:
            continue
        if state != "Z" and (token.encode() in environ or str(work).encode() in cmdline):
            found.append(int(entry))
    return found


def describe(pid):
    """A process as ``ps`` would show it: its PID, parent and command line."""
    try:
        parent = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:200]
    except OSError:
        return f"{pid} (gone)"
    return f"{pid} (parent {parent}): {command}"


def workers_grading(temporary):
    """``{student: worker PID}`` for the submissions workers are grading now: nbgrader's
    autograded copy in a worker's private folder (``grading-<pid>-*``, in the run's temporary
    folder; removed when done)."""
    while True:
        try:
            return {folder.name: int(folder.parents[1].name.split("-")[1])
                    for folder in Path(temporary).glob("*/grading-*/autograded/*")}
        except FileNotFoundError:  # a worker removed its folder while we looked: look again
            continue


def students_being_graded(temporary):
    return set(workers_grading(temporary))


def start_run(work, jobs, token, log, temporary, **variables):
    """The run, in a session of its own; its temporary files in ``temporary``."""
    temporary.mkdir()
    environment = {**os.environ, "AUTOGRADER_TEST_RUN": token, "TMPDIR": str(temporary),
                   **variables}
    return subprocess.Popen([sys.executable, "-c", DRIVER, UNIT, str(work), str(jobs)],
                            env=environment, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def wait_for_second_submission(run, temporary, seconds=120):
    seen, deadline = set(), time.monotonic() + seconds
    while time.monotonic() < deadline and run.poll() is None:
        seen |= students_being_graded(temporary)
        if len(seen) >= 2:
            return seen
        time.sleep(0.05)
    pytest.fail(f"the second submission was never graded (seen: {seen}, exit {run.poll()})")


@pytest.mark.parametrize("jobs, signum", [(1, signal.SIGINT), (2, signal.SIGINT), (2, signal.SIGTERM)])
def test_a_stopped_run_ends_at_once_and_records_nothing(graded_class, tmp_path, jobs, signum):
    work = graded_class["work"]
    before = snapshot(work)
    token = secrets.token_hex(8)
    with open(tmp_path / "output", "w") as log:
        run = start_run(work, jobs, token, log, temporary=tmp_path / "tmp")
        try:
            wait_for_second_submission(run, tmp_path / "tmp")
            os.killpg(run.pid, signum)  # as the terminal sends Ctrl-C to its foreground group
            sent = time.monotonic()
            run.wait(timeout=30)
            took = time.monotonic() - sent
        finally:
            if run.poll() is None:
                os.killpg(run.pid, signal.SIGKILL)
    # The run's last processes (multiprocessing's resource tracker) exit when they see it gone;
    # what is still running 2 s after the signal was left behind.
    wait_until_gone(processes_of(token, work), seconds=max(sent + 2.0 - time.monotonic(), 0.0))
    leftovers = processes_of(token, work)
    output = (tmp_path / "output").read_text()
    assert took < 2.0, output
    assert leftovers == [], output + "\nleft running: " + "; ".join(describe(pid) for pid in leftovers)
    assert list((tmp_path / "tmp").iterdir()) == [], output  # no kernel's or judge's folder left
    assert run.returncode == 128 + signum, output
    assert output.splitlines()[-1].startswith(f"stopped by {signal.Signals(signum).name}: nothing "
                                              "of this run was recorded;"), output
    assert f"grades/{UNIT}.json and {UNIT}.csv are unchanged" in output
    assert snapshot(work) == before
    assert "KeyboardInterrupt" not in (work / "grades" / f"{UNIT}.json").read_text()


def test_the_next_run_after_a_stop_gives_the_uninterrupted_grades(graded_class, tmp_path):
    work = graded_class["work"]
    with open(tmp_path / "output", "w") as log:
        run = start_run(work, 2, secrets.token_hex(8), log, temporary=tmp_path / "tmp")
        wait_for_second_submission(run, tmp_path / "tmp")
        os.killpg(run.pid, signal.SIGINT)
        assert run.wait(timeout=30) == 130
    report = grade(UNIT, work_dir=work, progress=False, cell_timeout=10, jobs=2)
    assert table(report) == table(graded_class["report"])
    assert all(not student.problems for student in report.students)
    runs = sorted(path.name for path in (work / "grades" / UNIT).glob("*.json"))
    assert len(runs) == 2  # the first run and this one: the stopped runs saved nothing


def has_a_kernel(worker):
    """Whether ``worker`` runs a grading kernel now: a process its kernel server forked."""
    def command(pid):
        try:
            return Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return b""

    parents = {child: parent for parent, kids in sandbox.children_by_parent().items()
               for child in kids}
    return any(b"autograder.warm_kernel" in command(pid)
               and b"autograder.warm_kernel" in command(parents.get(pid, 0))
               for pid in descendants(worker))


def wait_for_kernel(temporary, student, seconds=120):
    """The PID of the worker grading ``student`` once its kernel runs (the worker may still be
    preparing the submission, or judging it between two kernels)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        worker = workers_grading(temporary).get(student)
        if worker is not None and has_a_kernel(worker):
            return worker
        time.sleep(0.05)
    raise AssertionError(f"no kernel ran for {student} within {seconds} s")


def test_a_worker_killed_by_the_os_costs_no_student_their_grade(graded_class, tmp_path):
    work = graded_class["work"]
    runs_before = {path.stem for path in (work / "grades" / UNIT).glob("*.json")}
    # Something the grading workers print as they exit, as a third-party library might.
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "sitecustomize.py").write_text(WORKERS_SAY)
    with open(tmp_path / "output", "w") as log:
        run = start_run(work, 2, secrets.token_hex(8), log, temporary=tmp_path / "tmp",
                        PYTHONPATH=str(tmp_path / "site"))
        being_graded = wait_for_second_submission(run, tmp_path / "tmp")
        # The worker grading one of them, while its kernel runs.
        student = sorted(being_graded)[0]
        worker = wait_for_kernel(tmp_path / "tmp", student)
        os.kill(worker, signal.SIGKILL)  # as the OOM killer would
        assert run.wait(timeout=300) == 0, (tmp_path / "output").read_text()
    output = (tmp_path / "output").read_text()
    assert f"the process grading {student} was killed (not by student code)" in output
    from autograder import results
    assert table(results.load(UNIT, work)) == table(graded_class["report"])
    # Quiet, honest output: third-party output went to the runs' logs, not the terminal. nbgrader
    # warns (SAWarning) when it first records a student, so in the class's first run.
    (run_name,) = {path.stem for path in (work / "grades" / UNIT).glob("*.json")} - runs_before
    assert "SAWarning" not in output and "Warning" not in output, output
    assert "a grading worker's own output" not in output
    assert "a grading worker's own output" in \
        (work / "grades" / UNIT / f"{run_name}.log").read_text()
    assert "SAWarning" in (work / "grades" / UNIT / f"{min(runs_before)}.log").read_text()


WORKERS_SAY = """
import atexit, sys
if any("spawn_main" in part for part in sys.orig_argv):  # a worker process, not the run's own
    atexit.register(lambda: print("a grading worker's own output", file=sys.stderr, flush=True))
"""
