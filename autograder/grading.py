"""``autograder grade``: autograde every submission of a unit, then write feedback and a grade table.

Each submission is graded on its own, in a worker process, so a crash, a time-out or a corrupt
notebook costs only that student; at the end the report lists every submission that could not be
graded. Submitted files are only read: nbgrader works on copies in ``autograded/``.

Nothing is lost: the grade table and results are written only when every submission is graded,
each file in one step, and each run is kept in ``grades/<unit>/<run>.*`` (``autograder history``).
Ctrl-C or SIGTERM stops the run within seconds and records nothing (``autograder.stopping``); the
next run grades every submission again, so no result of a stopped run can outlive a changed
submission or setting. Third-party warnings go to the run's log, ``grades/<unit>/<run>.log``.
"""
import contextlib
import json
import logging
import multiprocessing
import re
import shutil
import signal
import tempfile
import time
import uuid
import warnings
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from tqdm.auto import tqdm

from . import fingerprint
from . import grading_task
from . import results
from . import sandbox
from .adjustments import adjust
from .deadlines import load as load_deadlines
from .feedback import PagesAhead, render_feedback
from . import stopping
from .course import get_unit
from .intake import take_in
from .nbgrader_api import checked, make_api, quiet_nbgrader
from .course_folder import course_root
from .results import GradeReport, StudentResult, TestResult
from .sandbox import UNSANDBOXED
from .settings import CELL_TIMEOUT, course_config


class UnsandboxedGrading(UserWarning):
    """Student code was run without the sandbox (``--no-sandbox``)."""


class SchedulerUnavailable(RuntimeError):
    """``--scheduler`` names no Dask cluster this process can use; nothing was graded."""


class NoSubmissions(FileNotFoundError):
    """No submission of the unit was found; nothing was graded or changed. The message says where
    the run looked."""


# Recorded for a student whose worker process was killed twice (by the OS, out of memory...).
WORKER_KILLED = ("not graded: the process grading this submission was killed (twice), not by "
                 "the student's code; grade it again with `autograder regrade`")


ANSI = re.compile(r"\x1b\[[0-9;]*m")


def grade_cell_ids(notebook_path):
    """The grade cells' ids and points, in notebook order."""
    notebook = json.loads(Path(notebook_path).read_text())
    return [(cell["metadata"]["nbgrader"]["grade_id"], float(cell["metadata"]["nbgrader"]["points"]))
            for cell in notebook["cells"]
            if cell.get("metadata", {}).get("nbgrader", {}).get("grade")]


TIMED_OUT = ("CellTimeoutError", "KeyboardInterrupt")


def _messages(autograded_notebook, cell_timeout):
    """``{grade_id: message}`` from the error or stderr output of each grade cell."""
    try:
        notebook = json.loads(Path(autograded_notebook).read_text())
    except (OSError, ValueError):
        return {}
    messages = {}
    for cell in notebook["cells"]:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if not grade_id or cell["cell_type"] != "code":
            continue
        for output in cell.get("outputs", []):
            if output["output_type"] == "error" and output["ename"] in TIMED_OUT:
                messages[grade_id] = (f"did not finish within {cell_timeout} s and was stopped: look "
                                      "for an infinite loop (a while loop whose condition never "
                                      "changes) or a far too slow computation")
                break
            if output["output_type"] == "error":
                messages[grade_id] = ANSI.sub("", f"{output['ename']}: {output['evalue']}").strip()
                break
            if output["output_type"] == "stream" and output["name"] == "stderr":
                text = "".join(output["text"]) if isinstance(output["text"], list) else output["text"]
                messages[grade_id] = "wrote to stderr (a test cell must not): " + text.strip()[:300]
                break
    return messages


def _why_autograde_failed(log):
    """A short reason from nbgrader's log of a failed autograde."""
    if "NotJSONError" in log or "JSONDecodeError" in log or "Notebook does not appear to be JSON" in log:
        return "the notebook file is corrupt (not valid JSON): it could not be graded"
    if "No notebooks found" in log:
        return "no notebook was submitted"
    lines = [line for line in ANSI.sub("", log).splitlines() if line.strip()]
    return "could not be autograded: " + (lines[-1].strip()[:300] if lines else "unknown error")


def _scores(gradebook, unit, student, cells, messages, failed_reason):
    tests = []
    for grade_id, points in cells:
        score = 0.0
        try:
            grade = gradebook.find_grade(grade_id, unit, unit, student)
            # The autograder's own score: a grader's is applied on top (autograder.adjustments).
            score = float(grade.auto_score or 0.0)
        except MissingEntry:
            pass
        message = messages.get(grade_id, "")
        if score < points and not message:
            message = failed_reason or "this test did not pass"
        tests.append(TestResult(grade_id, score, points, message))
    return tests


def read_result(outcome, gradebook, work_dir, unit, student, cell_timeout, root):
    """The ``StudentResult`` of nbgrader's ``outcome`` of autograding ``student``: the scores
    ``gradebook`` holds, with the message of each test that lost points (from the autograded
    notebook in ``work_dir``)."""
    result = StudentResult(student)
    failed_reason = "" if outcome.get("success") else _why_autograde_failed(
        (outcome.get("log") or "") + (outcome.get("error") or ""))
    if failed_reason:
        result.problems.append(failed_reason)
    messages = _messages(Path(work_dir) / "autograded" / student / unit / f"{unit}.ipynb",
                         cell_timeout or CELL_TIMEOUT)
    cells = grade_cell_ids(Path(root) / "solutions" / unit / f"{unit}.ipynb")
    result.tests = _scores(gradebook, unit, student, cells, messages, failed_reason)
    return result


def grade(unit, submissions=None, work_dir=None, root=None, progress=True, cell_timeout=None,
          feedback=True, jobs=1, students=None, sandboxed=True, id_mapping=None,
          all_submitted=False, times=None, class_report=True, changed_only=False, scheduler=None):
    """Autograde every submission of ``unit``; returns a ``GradeReport`` and writes the grade table.

    Parameters
    ----------
    unit : str
        Unit id, e.g. ``"04_single_layer_gradients"``.
    submissions : path, optional
        A folder of student folders (an LMS export). They are copied into
        ``work_dir/submitted/<student>/<unit>/`` and only they are graded (the others keep their
        last results); without it, what is there already is graded. Both paths follow the rules
        of ``autograder.intake``.
    work_dir : path
        Holds ``submitted/``, ``autograded/``, ``feedback/``, ``grades/`` and the gradebook.
    cell_timeout : int, optional
        Seconds a cell may run (default: the course setting).
    feedback : bool
        Also write each student's feedback (``autograder feedback`` does it on its own).
    jobs : int
        Submissions graded at the same time, each in a worker process of its own.
    scheduler : str or dask ``LocalCluster``, optional
        Grade on the workers of this Dask cluster (``tcp://host:8786``) instead of ``jobs`` local
        processes. A worker needs the course's environment, nothing else: each task carries a
        submission's files in and its results out, and only this process writes the gradebook,
        ``autograded/`` and the grade tables.
    students : list of str, optional
        Grade only these (``autograder regrade``); the others keep their last results.
    sandboxed : bool
        Run every student's code in a sandbox of its own (``autograder.sandbox``). Raises
        ``SandboxUnavailable`` before grading anything if that cannot be done here; False
        (``--no-sandbox``) grades without isolation, and the report, CSV and JSON say so.
    id_mapping : path or dict, optional
        The student id of each LMS folder: ``{lms_name: student_id}`` or a CSV of those two
        columns (``--ids``).
    all_submitted : bool
        With ``submissions``, also grade again what ``submitted/`` already holds (``--all``).
    times : path or dict, optional
        When each student handed in: ``{lms_name or student_id: datetime}`` or a CSV
        ``student,submitted_at`` (``--times``), recorded as nbgrader's ``timestamp.txt``.
    class_report : bool
        End by writing ``reports/<unit>.html`` (``autograder.report``), printing where.
    changed_only : bool
        Grade again only what changed since it was graded (``autograder.fingerprint``) or had a
        problem; the others keep their results and are listed in ``report.unchanged``. When
        nothing changed, nothing is written and the last results are returned.

    Raises ``NoSubmissions`` (changing nothing) when there is nothing to grade,
    ``deadlines.DeadlinesError`` before grading anything when ``deadlines.toml`` cannot be used, and
    ``stopping.GradingStopped`` on SIGINT or SIGTERM, having recorded nothing of this run; its
    message says what was kept.
    """
    get_unit(unit)
    if sandboxed:
        sandbox.require()
        isolation = sandbox.version()
    else:
        isolation = UNSANDBOXED
        warnings.warn(isolation, UnsandboxedGrading, stacklevel=2)
    work_dir, root = course_root(work_dir), course_root(root)
    with stopping.stop_on_signals(), contextlib.ExitStack() as cluster:
        client = cluster.enter_context(connect(scheduler)) if scheduler is not None else None
        try:
            report = _grade(unit, submissions, work_dir, root, progress, cell_timeout, feedback, jobs,
                            students, sandboxed, isolation, id_mapping, all_submitted, times,
                            changed_only, client)
        except stopping.GradingStopped as stop:
            if stop.recorded:
                raise
            raise stopping.GradingStopped(stop.signum, _what_was_kept(unit, work_dir, stop)) from None
    if class_report:
        from .report import after_grading  # reports/<unit>.html; never fails grading (one line)
        after_grading(report, work_dir, announce=progress, root=root)
    return report


def _grade(unit, submissions, work_dir, root, progress, cell_timeout, feedback, jobs, students,
           sandboxed, isolation, id_mapping, all_submitted, times, changed_only, client):
    # One intake for both paths: student ids, the notebook by its metadata, nesting, empty ones.
    deadlines = load_deadlines(work_dir)  # a mistake in deadlines.toml stops the run here
    intake = take_in(unit, work_dir, root, submissions=submissions, mapping=id_mapping,
                     also_submitted=all_submitted, times=times)
    problems = {**intake.unidentified, **intake.problems}
    submitted = intake.students
    if not submitted and not problems:
        where = f"{work_dir / 'submitted'}/<student>/{unit}/"
        raise NoSubmissions(f"no submissions of {unit} found: looked in "
                            + (f"{Path(submissions).resolve()} (copied into {where})" if submissions
                               else where) + "; nothing was graded or changed")
    if students is not None:
        unknown = sorted(set(students) - set(submitted) - set(problems))
        if unknown:
            raise ValueError(f"no submission of {unit} for {', '.join(unknown)} in "
                             f"{work_dir / 'submitted'}")
        problems = {student: problems[student] for student in students if student in problems}
    todo = submitted if students is None else sorted(set(students) & set(submitted))
    inputs = fingerprint.grading_inputs(unit, root, cell_timeout, sandboxed)
    graded_from = {student: fingerprint.of_submission(inputs, work_dir, unit, student)
                   for student in todo}
    unchanged = []
    if changed_only:
        previous = {student.student_id: student for student in _previous_students(unit, work_dir)}
        unchanged = [student for student in todo if student in previous
                     and previous[student].graded_from == graded_from[student]
                     and not previous[student].problems]
        todo = [student for student in todo if student not in unchanged]
        problems = {student: problem for student, problem in problems.items()
                    if student not in previous or previous[student].problems != [problem]}
        if not todo and not problems:
            report = results.load(unit, work_dir)
            report.unchanged = unchanged
            return report
    # --submissions grades what it brings; the others keep their last results (as regrade does).
    partial = students is not None or bool(submissions and not all_submitted) or changed_only
    run = results.new_run(unit, work_dir)
    log_path = results.runs_folder(unit, work_dir) / f"{run}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with _warnings_to(log_path), contextlib.ExitStack() as rendering:
        api = stopping.Checked(make_api(root=root, work_dir=work_dir,
                                        release_dir=work_dir / ".autograder" / "release",
                                        cell_timeout=cell_timeout, sandboxed=sandboxed))
        if todo:  # a unit nobody handed in stays out of the gradebook (its points out of the totals)
            with quiet_nbgrader():
                # Records the unit's test cells in this gradebook (and checks the source notebook).
                checked(api.generate_assignment(unit, force=True, create=True), f"prepare {unit}")
        cells = grade_cell_ids(Path(root) / "solutions" / unit / f"{unit}.ipynb")

        graded = {}
        for student, problem in problems.items():
            graded[student] = StudentResult(student, [TestResult(name, 0.0, points, problem)
                                                       for name, points in cells], [problem])
        bar = tqdm(total=len(todo), desc=f"grading {unit}", unit="submission", disable=not progress)
        # The workers' temporary files, removed here even when a worker is killed or the run stopped.
        scratch = Path(tempfile.mkdtemp(prefix="autograder-run-"))
        # Each graded notebook's page is rendered as soon as its grades are in (while the others
        # are graded); the pages reach feedback/ once the run's results are saved.
        ahead = (rendering.enter_context(PagesAhead(unit, work_dir, root, log_path))
                 if feedback and todo else None)
        try:
            if todo:
                kit = grading_task.make_kit(unit, root, scratch / "kit", cell_timeout, sandboxed)

                def record(result):  # in this process only: the gradebook has one writer
                    grading_task.record(result, unit, work_dir, api)
                    graded[result.result.student_id] = result.result
                    if ahead is not None:
                        ahead.render(result.result.student_id)

                if client:
                    killed = _grade_on_cluster(unit, todo, kit, work_dir, graded_from, bar, record,
                                               client)
                else:
                    killed = _grade_in_workers(unit, todo, kit, work_dir, graded_from, bar, record,
                                               jobs, log_path, scratch)
                for student in killed:
                    graded[student] = StudentResult(student, [TestResult(name, 0.0, points,
                                                                         WORKER_KILLED)
                                                              for name, points in cells],
                                                    [WORKER_KILLED])
        finally:
            bar.close()
            shutil.rmtree(scratch, ignore_errors=True)
        for student, notes in intake.notes.items():  # for the instructor; no points lost
            if student in graded:
                graded[student].notes.extend(notes)
        for student, digest in graded_from.items():
            if student in graded:
                graded[student].graded_from = digest
        ordered = results.merge(_previous_students(unit, work_dir) if partial else [],
                                graded.values())
        report = GradeReport(unit, ordered, work_dir / "grades" / f"{unit}.csv", isolation,
                             unchanged)
        # What graders set in the formgrader, and the late penalty, on top of the autograder's.
        adjust(report, work_dir, deadlines=deadlines)
        try:
            # The run is finished: its results are published together (a signal waits for them).
            with stopping.deferred():
                results.save(report, work_dir, run=run)
                _forget_earlier_grading(unit, work_dir,
                                        [student for student in intake.problems if student in problems])
            if feedback:
                # A page that cannot be rendered becomes a problem of its student
                # (report.failures), saved in grades/<unit>.json by render_feedback; the run's own
                # copy follows it.
                started = time.perf_counter()
                render_feedback(report, work_dir=work_dir, root=root, api=api,
                                students=set(graded) if partial else None, ahead=ahead)
                # for the benchmark: the pages rendered during grading count too
                report.feedback_seconds = time.perf_counter() - started + (
                    ahead.seconds if ahead is not None else 0.0)
                with stopping.deferred():
                    results.save(report, work_dir, run=run)
        except stopping.GradingStopped as stop:
            raise stopping.GradingStopped(
                stop.signum, f"stopped by {stop.signal_name} after this run's results were saved "
                f"({report.csv_path} and .json, run {run}); some feedback pages may be missing: "
                f"`autograder feedback {unit}` writes them", recorded=True) from None
    return report


def _forget_earlier_grading(unit, work_dir, students):
    """Remove what an earlier run left of ``students``, whose submission now could not be taken
    in (an empty resubmission): their graded copy, its feedback page and their submission in the
    gradebook, so that neither the formgrader nor a page shows the old grade. The earlier run's
    results stay in ``grades/<unit>/`` (``autograder history``)."""
    if not students:
        return
    for student in students:
        shutil.rmtree(work_dir / "autograded" / student / unit, ignore_errors=True)
        (work_dir / "feedback" / student / unit / f"{unit}.html").unlink(missing_ok=True)
    if not (work_dir / "gradebook.db").is_file():
        return
    directory = course_config(work_dir=work_dir).CourseDirectory
    with Gradebook(directory.db_url, directory.course_id) as gradebook:
        for student in students:
            try:
                gradebook.remove_submission(unit, student)
            except MissingEntry:
                pass


def _grade_in_workers(unit, todo, kit, work_dir, graded_from, bar, record, jobs, log_path,
                      scratch):
    """Grade ``todo`` with ``jobs`` local worker processes, ``record``-ing each result as it comes;
    returns the students whose grading was killed twice.

    When the OS kills a worker, the pool breaks and every submission it had not returned fails with
    ``BrokenProcessPool``: the run says whose grading was killed, and grades those submissions
    again in a fresh pool; a submission whose grading is killed a second time is returned (and
    recorded with ``WORKER_KILLED``). Finished results are kept.
    """
    attempts, killed_twice = {}, []
    context = multiprocessing.get_context("spawn")  # no kernels or sockets shared with workers
    started = context.SimpleQueue()
    while todo:
        broken = []
        pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context,
                                   initializer=stopping.prepare_worker,
                                   initargs=(str(log_path), started, str(scratch)))
        try:
            futures = {pool.submit(grading_task.grade_submission, kit, grading_task.read_submission(
                           work_dir, unit, student, graded_from[student])): student
                       for student in todo}
            workers = list(pool._processes.values())  # all started by now (one per submit)
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    student = futures[future]
                    try:
                        record(future.result())
                    except BrokenProcessPool:
                        broken.append(student)
                        continue
                    # A signal raised inside a finalizer (SQLAlchemy's, while recording) is
                    # swallowed by Python: it takes effect here.
                    stopping.raise_if_stopped()
                    bar.set_postfix_str(student)
                    bar.update()
        except BaseException:
            workers = list((pool._processes or {}).values())  # before shutdown forgets them
            pool.shutdown(wait=False, cancel_futures=True)
            stopping.end_workers(workers)
            raise
        pool.shutdown(wait=True)
        if broken:
            grading = {}
            while not started.empty():
                pid, student = started.get()
                grading[pid] = student
            # The pool ends its other workers with SIGTERM (they exit 128 + 15), not the killed.
            killed = sorted(grading[worker.pid] for worker in workers if worker.pid in grading
                            and worker.exitcode not in (None, 128 + signal.SIGTERM,
                                                        -signal.SIGTERM)
                            and grading[worker.pid] in broken)
            bar.write(f"{unit}: the process grading {' and '.join(killed) or 'a submission'} was "
                      f"killed (not by student code); grading again: {', '.join(sorted(broken))}")
        todo = []
        for student in broken:
            attempts[student] = attempts.get(student, 0) + 1
            if attempts[student] < 2:
                todo.append(student)
            else:
                killed_twice.append(student)
                bar.update()
    return killed_twice


def connect(scheduler, seconds=30):
    """A Dask ``Client`` of the cluster at ``scheduler`` (an address such as ``tcp://host:8786``,
    or a ``LocalCluster``) once it has a worker; ``SchedulerUnavailable`` saying what to start
    otherwise."""
    try:
        from distributed import Client
    except ImportError as error:
        raise SchedulerUnavailable("--scheduler needs Dask distributed: pip install distributed"
                                   ) from error
    start = f"`dask worker {scheduler} --nthreads 1` on each grading machine"
    try:
        client = Client(scheduler, set_as_default=False, timeout=seconds)
    except (OSError, TimeoutError, ValueError) as error:
        raise SchedulerUnavailable(f"could not reach a Dask scheduler at {scheduler} ({error}); "
                                   f"start one with `dask scheduler`, then {start}") from None
    try:
        client.wait_for_workers(1, timeout=seconds)
    except TimeoutError:
        client.close()
        raise SchedulerUnavailable(f"the Dask scheduler at {scheduler} has no worker (waited "
                                   f"{seconds} s): start them with {start}") from None
    return client


def _grade_on_cluster(unit, todo, kit, work_dir, graded_from, bar, record, client):
    """Grade ``todo`` on the workers of a Dask cluster (``client``), ``record``-ing each result
    as it comes; returns the students whose task the cluster gave up on (its worker died more
    than the scheduler's ``allowed-failures`` times).

    Each task carries one submission in and its ``Graded`` out; the kit is sent once to every
    worker. A worker that dies mid-task has its task run again elsewhere by Dask's scheduler.
    """
    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    given_up = []
    shared_kit = client.scatter(kit, broadcast=True)
    run = uuid.uuid4().hex[:8]
    futures = {client.submit(grading_task.grade_submission, shared_kit,
                             grading_task.read_submission(work_dir, unit, student,
                                                          graded_from[student]),
                             key=f"grade-{unit}-{student}-{run}", pure=False): student
               for student in todo}
    try:
        for future in as_completed(futures, loop=client.loop):  # not the default client's
            student = futures[future]
            try:
                record(future.result())
            except KilledWorker:
                given_up.append(student)
            stopping.raise_if_stopped()  # as in _grade_in_workers
            bar.set_postfix_str(student)
            bar.update()
    except BaseException:
        # Queued tasks are dropped; a task already running on a worker runs to its end (Dask
        # cannot interrupt one), and its result is not recorded.
        client.cancel(list(futures))
        raise
    return given_up


@contextlib.contextmanager
def _warnings_to(log_path):
    """Python warnings of the grading process (SQLAlchemy's, jupyter_client's) go to the run's
    log, not the instructor's terminal; the workers' output goes there too
    (``stopping.prepare_worker``)."""
    handler = logging.FileHandler(log_path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s"))
    logger = logging.getLogger("py.warnings")
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    logging.captureWarnings(True)
    try:
        yield
    finally:
        logging.captureWarnings(False)
        logger.removeHandler(handler)
        logger.propagate = propagate
        handler.close()


def _what_was_kept(unit, work_dir, stop):
    """The one line a run stopped before its results were saved ends with."""
    latest = results.results_path(unit, work_dir)
    kept = (f"{latest} and {latest.with_suffix('.csv').name} are unchanged" if latest.is_file()
            else "there were no earlier results")
    return (f"stopped by {stop.signal_name}: nothing of this run was recorded; {kept}. Run the same "
            "command again to grade every submission.")


def _previous_students(unit, work_dir):
    """The students of the last grading run (``regrade`` keeps all but the one it grades), or []."""
    try:
        return results.load(unit, work_dir).students
    except FileNotFoundError:
        return []
