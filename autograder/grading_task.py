"""One submission's grading as a task that needs no shared folder: files in, results out.

A worker, on this machine (``--jobs``) or on any machine of a Dask cluster (``--scheduler``), gets
two things and nothing else:

- the unit's ``GradingKit``, the same for every submission: the unit's source notebook and files,
  the reference ``nnlib`` and a gradebook holding only the unit (built once by the grading
  process); the worker unpacks it once into a private folder;
- a ``Submission``: one student's files as bytes.

It grades in a private copy of the course folders, with nbgrader as always (sandboxed kernel,
judge, hidden tests), and returns a ``Graded``: the result (scores, messages), the autograded
notebook and the few values nbgrader wrote to its gradebook. Only the process that called
``grade`` writes the course's gradebook, ``autograded/`` and the grade tables (``record``), so a
worker that dies mid-task costs a retry and never a half-written grade.
"""
import contextlib
import hashlib
import os
import secrets
import shutil
import socket
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from . import fingerprint, reference, sandbox, stopping, timings
from .nbgrader_api import checked, make_api, quiet_nbgrader


@dataclass(frozen=True)
class GradingKit:
    """What grading ``unit`` reads besides the submission, as ``{relative path: bytes}``."""
    unit: str
    files: dict = field(repr=False)
    cell_timeout: int = None
    sandboxed: bool = True
    autograder: str = ""  # the grading process's ``fingerprint.of_autograder()``

    @property
    def digest(self):
        found = hashlib.sha256(f"{self.unit}\0{self.cell_timeout}\0{self.sandboxed}\0".encode())
        for name in sorted(self.files):
            found.update(name.encode() + b"\0" + hashlib.sha256(self.files[name]).digest())
        return found.hexdigest()


@dataclass(frozen=True)
class Submission:
    student: str
    files: dict = field(repr=False)  # relative to submitted/<student>/<unit>/
    judge_seed: int = None  # the probes' seed (``judge_seed``)


@dataclass
class Graded:
    """A task's answer: ``result`` (a ``StudentResult``), the files of
    ``autograded/<student>/<unit>/`` and what nbgrader recorded in the gradebook."""
    result: object
    autograded: dict = field(repr=False)
    timestamp: object = None  # the submission's time, from its timestamp.txt
    grades: dict = field(default_factory=dict)  # {(notebook, grade_id): auto_score}
    comments: dict = field(default_factory=dict)  # {(notebook, cell_id): auto_comment}
    in_gradebook: bool = False  # False when nbgrader failed before recording the submission


def _files_below(folder, pattern="*"):
    """``{relative path: bytes}`` of the files ``fingerprint.files_below`` lists: the same files
    a submission's fingerprint covers, no symbolic link (it could point anywhere)."""
    return {name: path.read_bytes() for name, path in fingerprint.files_below(folder, pattern)}


def _write_files(folder, files):
    for name, content in files.items():
        path = Path(folder) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def make_kit(unit, root, scratch, cell_timeout=None, sandboxed=True):
    """The ``GradingKit`` of ``unit`` from the course at ``root``; its gradebook is generated in
    ``scratch`` (a fresh folder), with nbgrader's own ``generate_assignment``."""
    root, scratch = Path(root), Path(scratch)
    api = make_api(root=root, work_dir=scratch, release_dir=scratch / "release",
                   cell_timeout=cell_timeout, sandboxed=sandboxed)
    with quiet_nbgrader():
        checked(api.generate_assignment(unit, force=True, create=True), f"prepare {unit}")
    files = {f"solutions/{unit}/{name}": content
             for name, content in _files_below(root / "solutions" / unit).items()}
    files.update({f"nnlib/{name}": content
                  for name, content in _files_below(root / "nnlib", "*.py").items()})
    files["gradebook.db"] = (scratch / "gradebook.db").read_bytes()
    return GradingKit(unit, files, cell_timeout, sandboxed, fingerprint.of_autograder())


def read_submission(work_dir, unit, student, graded_from):
    """``student``'s submission of ``unit``, judged on the seed ``judge_seed(work_dir,
    graded_from)`` (``graded_from``: ``fingerprint.of_submission``)."""
    return Submission(student, _files_below(Path(work_dir) / "submitted" / student / unit),
                      judge_seed(work_dir, graded_from))


SECRET = Path(".autograder") / "judge-secret"


def judge_seed(work_dir, graded_from):
    """The seed the judge's probes use for the submission whose fingerprint is ``graded_from``.

    The same submission graded with the same tests gets the same seed, so its messages are the
    same wherever and however often it is graded; a student cannot know the seed in advance, since
    it also depends on a secret of the course (``.autograder/judge-secret``, made on first use;
    never inside the sandbox)."""
    path = Path(work_dir) / SECRET
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):  # another run made it first
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_hex(32))
    secret = path.read_text().strip()
    digest = hashlib.sha256(f"{secret}\0{graded_from}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 2  # the judge adds small offsets: stay < 2**63


# A worker grades one submission at a time (nbgrader, the timings and the reference are
# per process), even on a Dask worker started with several threads.
_one_at_a_time = threading.Lock()
_unpacked = {}  # kit digest -> folder, in this worker


class WorkerUnfit(RuntimeError):
    """This worker cannot grade as the grading process would; the message says why."""


def _unpack(kit, base):
    digest = kit.digest
    folder = _unpacked.get(digest)
    if folder is None or not folder.is_dir():
        # Checked once per kit: a worker must grade exactly as the grading process would.
        where = f"the grading worker on {socket.gethostname()} (pid {os.getpid()})"
        if kit.autograder != fingerprint.of_autograder():
            raise WorkerUnfit(f"{where} runs another version of the autograder than the process "
                              "that called grade: install the same course environment on it")
        if kit.sandboxed and sandbox.problem():
            raise WorkerUnfit(f"{where} cannot sandbox student code: {sandbox.problem()}")
        folder = Path(tempfile.mkdtemp(prefix=f"kit-{digest[:12]}-", dir=base))
        _write_files(folder, kit.files)
        _unpacked[digest] = folder
    return folder


def _worker_folder():
    """Where this worker keeps its files: a Dask worker's own folder (removed with the worker),
    else the temporary folder (the grading process gives its local workers one of the run's)."""
    try:
        from distributed import get_worker
        return get_worker().local_directory
    except (ImportError, ValueError):
        return tempfile.gettempdir()


def grade_submission(kit, submission):
    """Grade ``submission`` with ``kit`` in a private folder; a ``Graded``. Runs in a worker."""
    from .grading import read_result  # the grading module's readers (messages, scores)

    with _one_at_a_time:
        stopping.starting(submission.student)
        kit_folder = _unpack(kit, _worker_folder())
        reference.reference_nnlib(kit_folder / "nnlib")  # the hidden tests' and the judge's
        # Named for the worker's PID: which process grades whom can be seen in the folder.
        work_dir = Path(tempfile.mkdtemp(prefix=f"grading-{os.getpid()}-", dir=_worker_folder()))
        try:
            return _grade_in(work_dir, kit, kit_folder, submission, read_result)
        finally:
            shutil.rmtree(work_dir, ignore_errors=True)


def _grade_in(work_dir, kit, kit_folder, submission, read_result):
    unit, student = kit.unit, submission.student
    shutil.copyfile(kit_folder / "gradebook.db", work_dir / "gradebook.db")
    _write_files(work_dir / "submitted" / student / unit, submission.files)
    api = make_api(root=kit_folder, work_dir=work_dir, release_dir=work_dir / "release",
                   cell_timeout=kit.cell_timeout, sandboxed=kit.sandboxed,
                   judge_seed=submission.judge_seed)
    timings.take()  # from here on, this submission's
    started = time.perf_counter()
    with quiet_nbgrader():
        outcome = api.autograde(unit, student, force=True, create=True)
    spent = time.perf_counter() - started
    with timings.Stage("reading scores"), \
            Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gradebook:
        result = read_result(outcome, gradebook, work_dir, unit, student, kit.cell_timeout,
                             kit_folder)
        graded = Graded(result, _files_below(work_dir / "autograded" / student / unit))
        try:
            submitted = gradebook.find_submission(unit, student)
        except MissingEntry:  # nbgrader failed before it recorded the submission
            submitted = None
        if submitted is not None:
            graded.in_gradebook = True
            graded.timestamp = submitted.timestamp
            for notebook in submitted.notebooks:
                for grade in notebook.grades:
                    graded.grades[(notebook.name, grade.name)] = grade.auto_score
                for comment in notebook.comments:
                    graded.comments[(notebook.name, comment.name)] = comment.auto_comment
    stages = timings.take()
    stages["nbgrader's other steps"] = spent - sum(seconds for stage, seconds in stages.items()
                                                   if stage != "reading scores")
    result.timings = stages  # for the benchmark; an attribute, not a field: never saved
    return graded


def record(graded, unit, work_dir, api):
    """Write what a worker returned into the course at ``work_dir``: ``autograded/<student>/<unit>/``
    replaced whole, and the gradebook as nbgrader's autograde would have left it (its
    ``SaveAutoGrades`` rules: a score a grader set is kept, and flags the cell for review), then
    the due date, the extension and the late penalty by nbgrader's own stages on this gradebook.
    Runs in the process that called ``grade``, never in a worker."""
    from .preprocessors import ApplyDeadlines
    from nbgrader.preprocessors import AssignLatePenalties

    student = graded.result.student_id
    target = Path(work_dir) / "autograded" / student / unit
    shutil.rmtree(target, ignore_errors=True)
    _write_files(target, graded.autograded)
    if not graded.in_gradebook:
        return  # nbgrader recorded nothing (it failed before): neither do we
    db_url = api.coursedir.db_url
    with Gradebook(db_url, api.coursedir.course_id) as gradebook:
        gradebook.update_or_create_student(student)
        gradebook.update_or_create_submission(unit, student, timestamp=graded.timestamp)
        for (notebook, name), auto_score in graded.grades.items():
            grade = gradebook.find_grade(name, notebook, unit, student)
            grade.auto_score = auto_score
            grade.needs_manual_grade = grade.manual_score is not None or auto_score is None
        for (notebook, name), auto_comment in graded.comments.items():
            gradebook.find_comment(name, notebook, unit, student).auto_comment = auto_comment
        gradebook.db.commit()
        notebooks = sorted({notebook for notebook, _ in graded.grades})
    for notebook in notebooks:
        resources = {"nbgrader": {"assignment": unit, "student": student, "notebook": notebook,
                                  "db_url": db_url}}
        for stage in (ApplyDeadlines, AssignLatePenalties):
            stage(config=api.config).preprocess(nbformat.v4.new_notebook(), resources)

