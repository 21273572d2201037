"""Grade results and the one file that keeps them, ``grades/<unit>.json``.

``autograder grade`` saves a ``GradeReport`` here; ``feedback`` and ``export`` load it back, and
``regrade`` merges the students it grades again into the saved report. Nothing else reads or
writes the file. Its format::

    {"unit": "04_...", "isolation": "<sandbox version> | graded WITHOUT the sandbox ...",
     "students": [{"student_id": "alice", "problems": ["..."],
                   "tests": [{"name": "test_...", "score": 1.0, "max_score": 2.0, "message": "..."}]}]}
"""
import json
import statistics
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .sandbox import UNSANDBOXED


@dataclass
class TestResult:
    __test__ = False  # a result, not a pytest test class

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
        """``(student_id, problem)`` for every submission that could not be fully graded."""
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


def results_path(unit, work_dir):
    return Path(work_dir) / "grades" / f"{unit}.json"


def save(report, work_dir):
    """Write ``report`` to ``grades/<unit>.json``; returns the path."""
    path = results_path(report.unit, work_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"unit": report.unit, "isolation": report.isolation,
                                "students": [asdict(student) for student in report.students]},
                               indent=1))
    return path


def load(unit, work_dir):
    """The report saved by the last grading run of ``unit``; ``FileNotFoundError`` saying what to
    run when there is none."""
    path = results_path(unit, work_dir)
    if not path.is_file():
        raise FileNotFoundError(f"no grades for {unit} yet: run `autograder grade {unit}` first")
    saved = json.loads(path.read_text())
    students = [StudentResult(entry["student_id"], [TestResult(**test) for test in entry["tests"]],
                              list(entry["problems"])) for entry in saved["students"]]
    return GradeReport(saved["unit"], students, path.with_suffix(".csv"), saved.get("isolation", ""))


def merge(previous, regraded):
    """The students of ``previous`` with those of ``regraded`` put in their place, by student id,
    in student order (``autograder regrade``)."""
    by_id = {student.student_id: student for student in previous}
    by_id.update((student.student_id, student) for student in regraded)
    return [by_id[student_id] for student_id in sorted(by_id)]
