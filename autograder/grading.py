"""``autograder grade``: autograde every submission of a unit, then write feedback and a grade table.

Each submission is graded on its own, so a crash, a time-out or a corrupt notebook costs only that
student; at the end the report lists every submission that could not be graded. Submitted files are
only read: nbgrader works on copies in ``autograded/``.
"""
import csv
import json
import multiprocessing
import re
import shutil
import statistics
import warnings
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from tqdm.auto import tqdm

from . import sandbox
from .sandbox import UNSANDBOXED
from .course import get_unit
from .nbgrader_api import checked, make_api, quiet_nbgrader
from .reference import REPO
from .settings import CELL_TIMEOUT

class UnsandboxedGrading(UserWarning):
    """Student code was run without the sandbox (``--no-sandbox``)."""


STUDENT_ID = re.compile(r"^[A-Za-z0-9_.@-]+$")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class TestResult:
    name: str
    score: float
    max_score: float
    message: str = ""  # why points were lost, for the student


@dataclass
class StudentResult:
    student_id: str
    tests: list = field(default_factory=list)
    problems: list = field(default_factory=list)  # whole-submission problems (corrupt notebook, ...)

    @property
    def score(self):
        return sum(test.score for test in self.tests)

    @property
    def max_score(self):
        return sum(test.max_score for test in self.tests)


@dataclass
class GradeReport:
    unit: str
    students: list
    csv_path: Path
    isolation: str = ""  # how student code was isolated: the sandbox's version, or UNSANDBOXED

    @property
    def failures(self):
        return [(student.student_id, problem) for student in self.students
                for problem in student.problems]

    def summary(self):
        """Mean, distribution and the tests most students failed, as text."""
        warning = [f"WARNING: {self.isolation}"] if self.isolation == UNSANDBOXED else []
        if not self.students:
            return "\n".join(warning + [f"{self.unit}: no submissions found"])
        scores = [student.score for student in self.students]
        top = self.students[0].max_score or 1.0
        lines = [f"{self.unit}: {len(scores)} submissions, mean {statistics.mean(scores):.2f} / "
                 f"{top:g}, median {statistics.median(scores):.2f}"]
        bins = Counter(min(int(10 * score / top), 9) for score in scores)
        for decile in range(10):
            low = decile * 10
            lines.append(f"  {low:3d}-{low + 10 if decile < 9 else 100:3d}%  "
                         f"{'#' * bins[decile]} {bins[decile] or ''}".rstrip())
        failed = Counter(test.name for student in self.students for test in student.tests
                         if test.score < test.max_score)
        if failed:
            lines.append("tests most often failed:")
            lines += [f"  {name}: {count} of {len(scores)}" for name, count in failed.most_common(5)]
        if self.failures:
            lines.append("submissions with problems:")
            lines += [f"  {student}: {problem}" for student, problem in self.failures]
        lines.append(f"grade table: {self.csv_path}")
        return "\n".join(warning + lines + warning)


def grade_cell_ids(notebook_path):
    """The grade cells' ids and points, in notebook order."""
    notebook = json.loads(Path(notebook_path).read_text())
    return [(cell["metadata"]["nbgrader"]["grade_id"], float(cell["metadata"]["nbgrader"]["points"]))
            for cell in notebook["cells"]
            if cell.get("metadata", {}).get("nbgrader", {}).get("grade")]


def collect(unit, submissions_dir, work_dir):
    """Copy an LMS export (one folder per student) into ``work_dir/submitted/<student>/<unit>/``.

    A student's folder may hold the unit's files directly or in a sub-folder (the folder holding
    ``<unit>.ipynb``, or ``nnlib/`` when the notebook is missing). Returns ``{student: problem}`` for
    folders that could not be used.
    """
    problems = {}
    for folder in sorted(Path(submissions_dir).iterdir()):
        if not folder.is_dir():
            continue
        student = folder.name
        if not STUDENT_ID.match(student):
            problems[student] = ("folder name is not a usable student id (letters, digits, "
                                 "'_', '.', '@', '-')")
            continue
        notebooks = sorted(folder.rglob(f"{unit}.ipynb"))
        packages = sorted(path.parent for path in folder.rglob("nnlib/__init__.py"))
        content = notebooks[0].parent if notebooks else (packages[0].parent if packages else folder)
        target = Path(work_dir) / "submitted" / student / unit
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(content, target, symlinks=True)
    return problems


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
            score = float(grade.score or 0.0)
        except MissingEntry:
            pass
        message = messages.get(grade_id, "")
        if score < points and not message:
            message = failed_reason or "this test did not pass"
        tests.append(TestResult(grade_id, score, points, message))
    return tests


_WORKER_API = {}


def _grade_student(unit, student, root, work_dir, cell_timeout, cells, sandboxed):
    """Autograde one submission and read back its scores and messages (runs in a worker)."""
    key = (str(root), str(work_dir), cell_timeout, sandboxed)
    if key not in _WORKER_API:
        _WORKER_API[key] = make_api(root=root, work_dir=work_dir,
                                    release_dir=work_dir / ".autograder" / "release",
                                    cell_timeout=cell_timeout, sandboxed=sandboxed)
    api = _WORKER_API[key]
    with quiet_nbgrader():
        outcome = api.autograde(unit, student, force=True, create=True)
    result = StudentResult(student)
    failed_reason = "" if outcome.get("success") else _why_autograde_failed(
        (outcome.get("log") or "") + (outcome.get("error") or ""))
    if failed_reason:
        result.problems.append(failed_reason)
    messages = _messages(work_dir / "autograded" / student / unit / f"{unit}.ipynb",
                         cell_timeout or CELL_TIMEOUT)
    with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gradebook:
        result.tests = _scores(gradebook, unit, student, cells, messages, failed_reason)
    return result


def _previous_results(unit, work_dir):
    """Results of the last grading run (``grades/<unit>.json``), by student, or {}."""
    path = Path(work_dir) / "grades" / f"{unit}.json"
    if not path.is_file():
        return {}
    saved = json.loads(path.read_text())["students"]
    return {entry["student_id"]: StudentResult(entry["student_id"],
                                               [TestResult(**test) for test in entry["tests"]],
                                               entry["problems"]) for entry in saved}


def grade(unit, submissions=None, work_dir=REPO, root=REPO, progress=True, cell_timeout=None,
          feedback=True, jobs=1, students=None, sandboxed=True):
    """Autograde every submission of ``unit``; returns a ``GradeReport`` and writes the grade table.

    Parameters
    ----------
    unit : str
        Unit id, e.g. ``"04_single_layer_gradients"``.
    submissions : path, optional
        A folder of student folders (an LMS export). They are copied into
        ``work_dir/submitted/<student>/<unit>/``; without it, what is there already is graded.
    work_dir : path
        Holds ``submitted/``, ``autograded/``, ``feedback/``, ``grades/`` and the gradebook.
    cell_timeout : int, optional
        Seconds a cell may run (default: the course setting).
    feedback : bool
        Also write each student's feedback (``autograder feedback`` does it on its own).
    jobs : int
        Submissions graded at the same time, each in a worker process of its own.
    students : list of str, optional
        Grade only these (``autograder regrade``); the others keep their last results.
    sandboxed : bool
        Run every student's code in a sandbox of its own (``autograder.sandbox``). Raises
        ``SandboxUnavailable`` before grading anything if that cannot be done here; False
        (``--no-sandbox``) grades without isolation, and the report, CSV and JSON say so.
    """
    get_unit(unit)
    if sandboxed:
        sandbox.require()
        isolation = sandbox.version()
    else:
        isolation = UNSANDBOXED
        warnings.warn(isolation, UnsandboxedGrading, stacklevel=2)
    work_dir = Path(work_dir).resolve()
    problems = collect(unit, submissions, work_dir) if submissions else {}
    submitted = sorted(path.parent.name for path in (work_dir / "submitted").glob(f"*/{unit}")
                       if path.is_dir())
    if students is not None:
        unknown = sorted(set(students) - set(submitted))
        if unknown:
            raise ValueError(f"no submission of {unit} for {', '.join(unknown)} in "
                             f"{work_dir / 'submitted'}")
    todo = submitted if students is None else sorted(students)
    api = make_api(root=root, work_dir=work_dir, release_dir=work_dir / ".autograder" / "release",
                   cell_timeout=cell_timeout, sandboxed=sandboxed)
    with quiet_nbgrader():
        # Records the unit's test cells in this gradebook (and checks the source notebook).
        checked(api.generate_assignment(unit, force=True, create=True), f"prepare {unit}")
    cells = grade_cell_ids(Path(root) / "solutions" / unit / f"{unit}.ipynb")

    results = _previous_results(unit, work_dir) if students is not None else {}
    for student, problem in problems.items():
        results[student] = StudentResult(student, [TestResult(name, 0.0, points, problem)
                                                   for name, points in cells], [problem])
    arguments = (root, work_dir, cell_timeout, cells, sandboxed)
    bar = tqdm(total=len(todo), desc=f"grading {unit}", unit="submission", disable=not progress)
    if jobs <= 1:
        for student in todo:
            bar.set_postfix_str(student)
            results[student] = _grade_student(unit, student, *arguments)
            bar.update()
    else:
        context = multiprocessing.get_context("spawn")  # no kernels or sockets shared with workers
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            futures = {pool.submit(_grade_student, unit, student, *arguments): student
                       for student in todo}
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                bar.set_postfix_str(futures[future])
                bar.update()
    bar.close()
    ordered = [results[student] for student in sorted(results)]

    report = GradeReport(unit, ordered, write_csv(unit, ordered, cells, work_dir / "grades", isolation),
                         isolation)
    if feedback:
        from .feedback import write_feedback
        write_feedback(unit, report, work_dir=work_dir, root=root, api=api,
                       students=None if students is None else set(todo))
    else:
        from .feedback import save_report
        save_report(report, work_dir)
    return report


def write_csv(unit, results, cells, folder, isolation=""):
    """``grades/<unit>.csv``: student_id, unit, score, max_score, then one column per test cell;
    graded with ``--no-sandbox``, a last column ``isolation`` says so on every row."""
    unsandboxed = isolation == UNSANDBOXED
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{unit}.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student_id", "unit", "score", "max_score"] + [name for name, _ in cells]
                        + ["isolation"] * unsandboxed)
        for result in results:
            by_name = {test.name: test.score for test in result.tests}
            writer.writerow([result.student_id, unit, f"{result.score:g}", f"{result.max_score:g}"]
                            + [f"{by_name.get(name, 0.0):g}" for name, _ in cells]
                            + ["none (--no-sandbox)"] * unsandboxed)
    return path
