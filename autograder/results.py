"""Grade results and the files that keep them: ``grades/<unit>.json`` and every run's copy.

``autograder grade`` saves a ``GradeReport`` here; ``feedback`` and ``export`` load it back, and
``regrade`` merges the students it grades again into the saved report. Nothing else reads or
writes the file. Each finished run is also kept as ``grades/<unit>/<run>.json`` (``<run>`` its UTC
start time, e.g. ``2026-12-07T124012Z``) next to its CSV and log, so ``autograder history`` lists
the runs and ``autograder restore`` makes an earlier one the current one again. Every file is
replaced in one step (``files.write_atomically``). Its format::

    {"unit": "04_...", "isolation": "<sandbox version> | graded WITHOUT the sandbox ...",
     "students": [{"student_id": "alice", "problems": ["..."], "notes": ["..."],
                   "tests": [{"name": "test_...", "score": 1.0, "max_score": 2.0, "message": "...",
                              "auto_score": 0.0, "comment": "..."}],
                   "comments": {"cell": "..."}, "submitted_at": "2027-01-16T10:05:00+00:00",
                   "due_at": "2027-01-15T22:59:00+00:00", "extension": "", "seconds_late": 40260.0,
                   "late_penalty": 0.3}]}

``score`` of a test is its final score: the grader's (``auto_score`` then keeps the autograder's)
or the autograder's. What a grader sets in nbgrader's gradebook and the late penalty of
``deadlines.toml`` are applied by ``autograder.adjustments``, by every command that writes results.
"""
import csv
import io
import json
import re
import statistics
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .files import write_atomically
from .sandbox import UNSANDBOXED


@dataclass
class TestResult:
    __test__ = False  # a result, not a pytest test class

    name: str
    score: float
    max_score: float
    message: str = ""  # why the autograder took points, for the student
    auto_score: float = None  # the autograder's score when a grader set ``score`` by hand
    comment: str = ""  # the grader's comment on this test

    @property
    def overridden(self):
        return self.auto_score is not None

    @property
    def feedback(self):
        """What the student reads about this test."""
        if self.overridden:
            parts = [f"{OVERRIDDEN}: {self.score:g} / {self.max_score:g} (the autograder gave "
                     f"{self.auto_score:g})"]
            if self.message:
                parts.append(f"the autograder's message: {self.message}")
        else:
            parts = ["passed" if self.score >= self.max_score else self.message or "did not pass"]
        if self.comment:
            parts.insert(1, f"grader's comment: {self.comment}")
        return "; ".join(parts)


OVERRIDDEN = "score set by the grader"


@dataclass
class StudentResult:
    student_id: str
    tests: list = field(default_factory=list)
    problems: list = field(default_factory=list)  # whole-submission problems (corrupt notebook, ...)
    notes: list = field(default_factory=list)  # for the instructor only (a renamed notebook, ...)
    comments: dict = field(default_factory=dict)  # the grader's comments on cells that are not tests
    submitted_at: str = ""  # ISO time in UTC; "" when not known
    due_at: str = ""  # with the student's extension; "" when the unit has no due date
    extension: str = ""  # e.g. "2 days, 0:00:00"; "" for none
    seconds_late: float = 0.0
    late_penalty: float = 0.0  # points taken from the tests' sum (``deadlines.LatePolicy``)
    graded_from: str = ""  # what the grade was computed from (``fingerprint.of_submission``)

    @property
    def points(self):
        """The sum of the tests' scores, before any late penalty."""
        return sum(test.score for test in self.tests)

    @property
    def score(self):
        return max(self.points - self.late_penalty, 0.0)

    @property
    def max_score(self):
        return sum(test.max_score for test in self.tests)

    @property
    def ungradable(self):
        """True when the submission could not be graded at all (a corrupt or missing notebook):
        every test lost its points to a whole-submission problem, not to its own check."""
        return bool(self.problems) and all(test.score == 0 and test.message in self.problems
                                           for test in self.tests)


@dataclass
class GradeReport:
    unit: str
    students: list
    csv_path: Path
    isolation: str = ""  # how student code was isolated: the sandbox's version, or UNSANDBOXED
    unchanged: list = field(default_factory=list)  # not graded again by this run (not saved)

    @property
    def failures(self):
        """``(student_id, problem)`` for every submission that could not be fully graded."""
        return [(student.student_id, problem) for student in self.students
                for problem in student.problems]

    def summary(self):
        """Mean, distribution and the tests most students failed, as text. Submissions that could
        not be graded at all are counted apart: they are in none of the statistics."""
        warning = [f"WARNING: {self.isolation}"] if self.isolation == UNSANDBOXED else []
        if not self.students:
            return "\n".join(warning + [f"{self.unit}: no submissions found"])
        graded = [student for student in self.students if not student.ungradable]
        ungradable = len(self.students) - len(graded)
        apart = f" ({ungradable} could not be graded, not counted below)" if ungradable else ""
        lines = [f"{self.unit}: {len(self.students)} submissions{apart}"]
        if graded:
            scores = [student.score for student in graded]
            top = graded[0].max_score or 1.0
            lines.append(f"mean {statistics.mean(scores):.2f} / {top:g}, "
                         f"median {statistics.median(scores):.2f} of {len(scores)} graded")
            bins = Counter(min(int(10 * score / top), 9) for score in scores)
            for decile in range(10):
                low = decile * 10
                lines.append(f"  {low:3d}-{low + 10 if decile < 9 else 100:3d}%  "
                             f"{'#' * bins[decile]} {bins[decile] or ''}".rstrip())
            failed = Counter(test.name for student in graded for test in student.tests
                             if test.score < test.max_score)
            if failed:
                lines.append("tests most often failed:")
                lines += [f"  {name}: {count} of {len(scores)}"
                          for name, count in failed.most_common(5)]
        late = [student for student in self.students if student.seconds_late > 0]
        if late:
            lines.append(f"late: {len(late)} submission(s), "
                         f"{sum(student.late_penalty for student in late):g} points of penalty in all "
                         "(deadlines.toml)")
        overridden = sum(test.overridden for student in self.students for test in student.tests)
        if overridden:
            lines.append(f"scores set by a grader in the gradebook: {overridden}")
        if self.failures:
            lines.append("submissions with problems:")
            lines += [f"  {student}: {problem}" for student, problem in self.failures]
        notes = [(student.student_id, note) for student in self.students for note in student.notes]
        if notes:
            lines.append("notes (nothing lost):")
            lines += [f"  {student}: {note}" for student, note in notes]
        lines.append(f"grade table: {self.csv_path}")
        return "\n".join(warning + lines + warning)


def results_path(unit, work_dir):
    return Path(work_dir) / "grades" / f"{unit}.json"


def runs_folder(unit, work_dir):
    """``grades/<unit>/``: one ``<run>.json``, ``.csv`` and ``.log`` per run."""
    return Path(work_dir) / "grades" / unit


def new_run(unit, work_dir):
    """A name for a run starting now: its UTC time, made unique among the unit's runs."""
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H%M%SZ")
    folder, run, count = runs_folder(unit, work_dir), stamp, 1
    while any(folder.glob(f"{run}.*")):
        count += 1
        run = f"{stamp}-{count}"
    return run


def _run_path(unit, work_dir, run):
    """``grades/<unit>/<run>.json``; a name that is not a run's (``../x``) names no file."""
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{6}Z(-[0-9]+)?", run):
        return runs_folder(unit, work_dir) / "not-a-run"
    return runs_folder(unit, work_dir) / f"{run}.json"


def dumps(report):
    return json.dumps({"unit": report.unit, "isolation": report.isolation,
                       "students": [asdict(student) for student in report.students]}, indent=1)


def grade_table(report):
    """The CSV of ``grades/<unit>.csv``: student_id, unit, score (after any late penalty),
    max_score, then one column per test; when the unit has a due date, ``submitted_at`` and
    ``late_penalty``; graded with ``--no-sandbox``, a last column ``isolation`` on every row."""
    names = [test.name for test in report.students[0].tests] if report.students else []
    deadline = any(student.due_at for student in report.students)
    unsandboxed = report.isolation == UNSANDBOXED
    table = io.StringIO(newline="")
    writer = csv.writer(table)
    writer.writerow(["student_id", "unit", "score", "max_score"] + names
                    + ["submitted_at", "late_penalty"] * deadline + ["isolation"] * unsandboxed)
    for student in report.students:
        by_name = {test.name: test.score for test in student.tests}
        writer.writerow([student.student_id, report.unit, f"{student.score:g}",
                         f"{student.max_score:g}"] + [f"{by_name.get(name, 0.0):g}" for name in names]
                        + [student.submitted_at, f"{student.late_penalty:g}"] * deadline
                        + ["none (--no-sandbox)"] * unsandboxed)
    return table.getvalue()


def save(report, work_dir, run=None):
    """Write ``report`` to ``grades/<unit>.json`` and its table to ``grades/<unit>.csv`` (and, for
    a run, first to its own copies ``grades/<unit>/<run>.json`` and ``.csv``); returns the JSON's
    path. The JSON is written last: it is what the next command reads."""
    content, table = dumps(report), grade_table(report)
    if run is not None:
        write_atomically(runs_folder(report.unit, work_dir) / f"{run}.csv", table)
        write_atomically(runs_folder(report.unit, work_dir) / f"{run}.json", content)
    write_atomically(results_path(report.unit, work_dir).with_suffix(".csv"), table)
    return write_atomically(results_path(report.unit, work_dir), content)


def load(unit, work_dir, run=None):
    """The report saved by the last grading run of ``unit`` (or by ``run``); ``FileNotFoundError``
    saying what to run when there is none."""
    path = results_path(unit, work_dir) if run is None else _run_path(unit, work_dir, run)
    if not path.is_file():
        if run is not None:
            raise FileNotFoundError(f"no run {run} of {unit}: `autograder history {unit}` lists them")
        raise FileNotFoundError(f"no grades for {unit} yet: run `autograder grade {unit}` first")
    saved = json.loads(path.read_text())
    students = [StudentResult(**{**entry, "tests": [TestResult(**test) for test in entry["tests"]]})
                for entry in saved["students"]]
    return GradeReport(saved["unit"], students, path.with_suffix(".csv"), saved.get("isolation", ""))


@dataclass
class Run:
    """One finished grading run of a unit, as ``autograder history`` lists it."""
    name: str
    students: int
    mean: float
    max_score: float
    current: bool  # its results are today's grades/<unit>.json


def history(unit, work_dir):
    """The unit's finished runs, oldest first (a stopped run saved nothing and is not among them)."""
    current_path = results_path(unit, work_dir)
    current = current_path.read_bytes() if current_path.is_file() else None
    found = []
    for path in sorted(runs_folder(unit, work_dir).glob("*.json"), key=_run_order):
        report = load(unit, work_dir, run=path.stem)
        scores = [student.score for student in report.students]
        found.append(Run(path.stem, len(scores), statistics.mean(scores) if scores else 0.0,
                         max((student.max_score for student in report.students), default=0.0),
                         path.read_bytes() == current))
    return found


def _run_order(path):
    """Runs in the order they started: ``<time>``, then ``<time>-2``, ``<time>-3``, ..."""
    stamp, _, count = path.stem.partition("Z-")
    return stamp.rstrip("Z"), int(count or 1)


def restore(unit, run, work_dir):
    """Make ``run``'s results the current ones again: ``grades/<unit>.json`` and ``.csv`` become
    byte copies of its own (each replaced in one step); returns the paths written."""
    folder = runs_folder(unit, work_dir)
    saved = _run_path(unit, work_dir, run)
    if not saved.is_file():
        raise FileNotFoundError(f"no run {run} of {unit}: `autograder history {unit}` lists them")
    written = []
    table = folder / f"{run}.csv"
    if table.is_file():
        written.append(write_atomically(results_path(unit, work_dir).with_suffix(".csv"),
                                        table.read_bytes()))
    written.append(write_atomically(results_path(unit, work_dir), saved.read_bytes()))
    return written


def merge(previous, regraded):
    """The students of ``previous`` with those of ``regraded`` put in their place, by student id,
    in student order (``autograder regrade``)."""
    by_id = {student.student_id: student for student in previous}
    by_id.update((student.student_id, student) for student in regraded)
    return [by_id[student_id] for student_id in sorted(by_id)]
