"""``autograder check``, the course's self-check: every unit's reference scores full marks and its release scores zero.

For each unit with an assignment, in a temporary folder: release it, then grade two submissions
with real nbgrader, the release notebook with the reference ``nnlib`` (must score full marks on
every test cell) and the untouched release (its stubs must score zero on every test cell).
"""
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .build import build_unit, units_with_assignments
from .grading import grade
from .course_folder import course_root, reference_dir as _reference_dir


@dataclass
class UnitCheck:
    unit: str
    errors: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.errors


def make_reference_submission(release_folder, destination, reference_dir=None):
    """The release of a unit with the complete reference nnlib in place of the edition."""
    reference_dir = _reference_dir(reference_dir)
    shutil.copytree(release_folder, destination)
    shutil.rmtree(destination / "nnlib")
    shutil.copytree(reference_dir, destination / "nnlib",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return destination


def check_unit(unit, root=None, progress=False, cell_timeout=None):
    root = course_root(root)
    result = UnitCheck(unit)
    with tempfile.TemporaryDirectory(prefix="autograder-check-") as scratch:
        scratch = Path(scratch)
        release = build_unit(unit, scratch / "release", work_dir=scratch / "work", root=root)
        submissions = scratch / "submissions"
        make_reference_submission(release, submissions / "reference" / unit, root / "nnlib")
        shutil.copytree(release, submissions / "untouched_release" / unit)
        report = grade(unit, submissions=submissions, work_dir=scratch / "work", root=root,
                       progress=progress, cell_timeout=cell_timeout, feedback=False,
                       jobs=min(2, os.cpu_count() or 1), class_report=False)
    by_student = {student.student_id: student for student in report.students}
    for test in by_student["reference"].tests:
        if test.score < test.max_score:
            result.errors.append(f"reference scores {test.score:g}/{test.max_score:g} on "
                                 f"{test.name}: {test.message}")
    for test in by_student["untouched_release"].tests:
        if test.score > 0:
            result.errors.append(f"the untouched release scores {test.score:g} on {test.name}: a "
                                 "stub passes its test")
    for student in report.students:
        result.errors += [f"{student.student_id}: {problem}" for problem in student.problems]
    return result


def check(units=None, root=None, progress=True, cell_timeout=None):
    """Check ``units`` (default: every unit with an assignment); returns a list of ``UnitCheck``."""
    root = course_root(root)
    units = list(units) if units else units_with_assignments(root)
    return [check_unit(unit, root=root, progress=progress, cell_timeout=cell_timeout) for unit in units]
