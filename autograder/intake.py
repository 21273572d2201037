"""Intake: what students handed in becomes ``submitted/<student>/<unit>/``, one rule for both paths.

``autograder grade UNIT --submissions DIR`` copies an LMS export (one folder per student) and plain
``autograder grade UNIT`` takes what ``submitted/`` holds; both go through ``take_in``:

- the student id is the folder's name, or what the mapping file (CSV ``lms_name,student_id``) gives
  it, and must satisfy ``STUDENT_ID_RULE``;
- the notebook is recognised by its nbgrader metadata (the grade ids of the unit's source
  notebook), not its name: a renamed copy such as ``<unit> (1).ipynb`` is graded as
  ``<unit>.ipynb``, with a note to the instructor;
- the folder holding the notebook (or ``nnlib/``) is taken however deep the LMS nested it;
- an empty or unreadable submission gets a message a student can read (no exception, no path);
- when each student handed in (``--times``, a CSV ``student,submitted_at``) is recorded as nbgrader's
  ``timestamp.txt``, which the late policy reads (``autograder.deadlines``).

The LMS export is only read. In ``submitted/`` (copies made by the grader, or put there by the
instructor) a submission that has to be unwrapped or renamed is first moved aside, whole, to
``submitted/<student>/.<unit>.as-submitted/`` (``-2``, ``-3``, ... when taken), so no file is lost.

``import_roster`` puts the class list (``student_id,first_name,last_name,email``) into nbgrader's
gradebook, so the formgrader shows names.
"""
import json
import re
import shutil
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from .deadlines import load as load_deadlines, read_times, write_timestamp
from .files import csv_rows

# Letters of any alphabet (accents included), digits and ``_ . @ -``, in words separated by single
# spaces; not starting with a dot. Folder names are compared in NFC, the form most systems write.
STUDENT_ID = re.compile(r"(?!\.)[\w.@-]+( [\w.@-]+)*")
STUDENT_ID_RULE = ("letters (accents included), digits, '_', '.', '@', '-' and single spaces "
                   "between words, not starting with '.'")
# Folders an LMS or an operating system adds to an export, never a student's.
NOT_STUDENTS = {"__MACOSX"}

EMPTY = "your submission is empty: no file was handed in"
NO_NOTEBOOK = ("no notebook of this unit was found in your submission: hand in the notebook you "
               "downloaded for this unit, with its nnlib folder")
UNREADABLE_NOTEBOOK = ("the notebook you handed in could not be read (it is not a valid notebook "
                       "file, maybe damaged or only partly uploaded): hand it in again")
UNREADABLE = "your submission could not be read (a file or folder in it cannot be opened)"


@dataclass
class Intake:
    """What ``take_in`` found.

    students : the ids whose ``submitted/<student>/<unit>/`` is ready to autograde, sorted
    problems : ``{student: message}``, submissions that cannot be graded (they score zero); the
        message is for the student
    notes : ``{student: [note, ...]}``, what was done to a graded submission, for the instructor
    unidentified : ``{folder name: message}``, folders no student id could be given to
    """
    students: list = field(default_factory=list)
    problems: dict = field(default_factory=dict)
    notes: dict = field(default_factory=dict)
    unidentified: dict = field(default_factory=dict)


def is_student_id(name):
    return bool(STUDENT_ID.fullmatch(name))  # all of it: "$" would let a final newline through


def read_mapping(path):
    """``{lms_name: student_id}`` from a CSV with the columns ``lms_name,student_id``.

    Raises ``ValueError`` naming the line of a bad row (missing column, unusable id, name twice).
    """
    mapping = {}
    for where, row in csv_rows(path, ("lms_name", "student_id")):
        lms_name, student_id = row["lms_name"], row["student_id"]
        if not lms_name:
            raise ValueError(f"{where}: no lms_name")
        if not is_student_id(student_id):
            raise ValueError(f"{where}: {student_id!r} is not a usable student id "
                             f"({STUDENT_ID_RULE})")
        if lms_name in mapping:
            raise ValueError(f"{where}: {lms_name!r} is mapped twice")
        mapping[lms_name] = student_id
    return mapping


def student_id_of(folder_name, mapping=None):
    """``(student_id, None)`` for a folder, or ``(None, why)`` when it cannot be one."""
    name = unicodedata.normalize("NFC", folder_name)
    if mapping and name in mapping:
        return mapping[name], None
    if is_student_id(name):
        return name, None
    return None, (f"folder name {folder_name!r} is not a usable student id ({STUDENT_ID_RULE}); "
                  "map it to one with --ids MAPPING.csv (columns lms_name,student_id)")


def source_ids(unit, root):
    """The grade ids of every nbgrader cell of the unit's source notebook."""
    return _nbgrader_ids(Path(root) / "solutions" / unit / f"{unit}.ipynb")


def _nbgrader_ids(notebook_path):
    """The ``grade_id`` of every cell with nbgrader metadata; ``ValueError`` if unreadable."""
    try:
        notebook = json.loads(Path(notebook_path).read_text(encoding="utf-8"))
        return {cell["metadata"]["nbgrader"]["grade_id"] for cell in notebook["cells"]
                if "grade_id" in cell.get("metadata", {}).get("nbgrader", {})}
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"not a readable notebook: {notebook_path}") from error


def _files(folder, pattern):
    """``folder``'s files matching ``pattern``, any depth, no checkpoints; shallowest first."""
    # A symlink is never read: it could point at the reference or another student's work.
    found = [path for path in Path(folder).rglob(pattern)
             if ".ipynb_checkpoints" not in path.parts and not path.is_symlink() and path.is_file()]
    return sorted(found, key=lambda path: (len(path.parts), str(path)))


def find_notebook(folder, unit, ids):
    """The unit's notebook in ``folder`` (any depth, any name), by its nbgrader metadata.

    Returns ``(path, problem)``: a path, or None and a message for the student. A notebook belongs
    to the unit when it shares more of its grade ids with the source (``ids``) than it has others;
    one named ``<unit>.ipynb`` is preferred, then the shallowest. Failing that, a notebook named
    ``<unit>.ipynb`` is taken as it is (its test cells deleted, or the file corrupt).
    """
    notebooks = _files(folder, "*.ipynb")
    matching, unreadable = [], []
    for path in notebooks:
        try:
            found = _nbgrader_ids(path)
        except ValueError:
            unreadable.append(path)
            continue
        if len(found & ids) > len(found - ids):
            matching.append(path)
    matching.sort(key=lambda path: path.name != f"{unit}.ipynb")  # stable: depth order kept
    if matching:
        return matching[0], None
    exact = [path for path in notebooks if path.name == f"{unit}.ipynb"]
    if exact:
        # Its test cells deleted, or corrupt: nbgrader restores the tests, or reports the
        # corrupt file itself (zero, with the reason).
        return exact[0], None
    if unreadable:
        return None, UNREADABLE_NOTEBOOK
    if not any(path.is_file() for path in Path(folder).rglob("*")):
        return None, EMPTY
    return None, NO_NOTEBOOK


def locate(folder, unit, ids):
    """``(content, notebook, problem)``: the folder to grade (the notebook's, however deep),
    its notebook, or a problem for the student."""
    try:
        notebook, problem = find_notebook(folder, unit, ids)
    except OSError:
        return None, None, UNREADABLE
    if notebook is None:
        return None, None, problem
    return notebook.parent, notebook, None


def _notes(folder, notebook, unit, ids):
    """Notes for the instructor on the notebook taken from ``folder``: renamed, or one of
    several copies of the unit's notebook."""
    notes = []
    if notebook.name != f"{unit}.ipynb":
        notes.append(f"note: the notebook was handed in as {notebook.name!r} and graded as "
                     f"{unit}.ipynb (no points lost)")
    for other in _files(folder, "*.ipynb"):
        if other != notebook and other.name != notebook.name:
            try:
                found = _nbgrader_ids(other)
            except ValueError:
                continue
            if len(found & ids) > len(found - ids):
                notes.append(f"note: {other.name!r}, another copy of this unit's notebook, was "
                             f"handed in too; {notebook.name!r} was graded")
    return notes


def _copy_in(content, notebook, target, unit):
    """Copy the folder ``content`` into ``target``, the notebook under the unit's name."""
    shutil.copytree(content, target, symlinks=True)
    if notebook.name != f"{unit}.ipynb":
        placed = target / notebook.relative_to(content)
        if (target / f"{unit}.ipynb").exists():  # an unreadable copy under the right name
            (target / f"{unit}.ipynb").unlink()
        placed.rename(target / f"{unit}.ipynb")


def _record_time(folder, target, student, times):
    """Write ``target/timestamp.txt`` when ``times`` (``{lms_name or student_id: datetime}``)
    knows when ``student`` (handed in as ``folder``) submitted."""
    moment = (times or {}).get(folder, (times or {}).get(student))
    if moment is not None:
        write_timestamp(target, moment)


def collect(unit, submissions_dir, work_dir, root, mapping=None, times=None):
    """Copy an LMS export (one folder per student, only read) into
    ``work_dir/submitted/<student>/<unit>/``; returns an ``Intake``."""
    intake = Intake()
    ids = source_ids(unit, root)
    sources = {}
    for folder in sorted(Path(submissions_dir).iterdir()):
        if not folder.is_dir() or folder.name.startswith(".") or folder.name in NOT_STUDENTS:
            continue
        student, why = student_id_of(folder.name, mapping)
        if student is None:
            intake.unidentified[folder.name] = why
            continue
        if student in sources:
            intake.unidentified[folder.name] = (f"{student} already handed in as "
                                                f"{sources[student]!r}; this folder was left out")
            continue
        sources[student] = folder.name
        content, notebook, problem = locate(folder, unit, ids)
        target = Path(work_dir) / "submitted" / student / unit
        if target.exists():
            shutil.rmtree(target)
        if problem:
            intake.problems[student] = problem
            continue
        try:
            _copy_in(content, notebook, target, unit)
        except OSError:  # shutil.Error among them: some of its files could not be copied
            shutil.rmtree(target, ignore_errors=True)
            intake.problems[student] = UNREADABLE
            continue
        intake.students.append(student)
        _record_time(folder.name, target, student, times)
        notes = _notes(folder, notebook, unit, ids)
        if notes:
            intake.notes[student] = notes
    intake.students.sort()
    return intake


def _free_name(path):
    """``path``, or ``path-2``, ``path-3``, ...: the first that does not exist (nothing replaced)."""
    candidate, number = path, 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.name}-{number}")
    return candidate


def prepare_submitted(unit, work_dir, root, mapping=None, times=None):
    """Apply the intake's rules to what ``work_dir/submitted/*/<unit>/`` already holds: mapped
    folder names renamed to ids, nested folders unwrapped, renamed notebooks named back (the
    original moved aside whole, see the module docstring); returns an ``Intake``."""
    intake = Intake()
    ids = source_ids(unit, root)
    submitted = Path(work_dir) / "submitted"
    for folder in sorted(submitted.glob(f"*/{unit}")):
        if not folder.is_dir() or folder.parent.name.startswith("."):
            continue
        handed_in_as = folder.parent.name
        student, why = student_id_of(handed_in_as, mapping)
        if student is None:
            intake.unidentified[folder.parent.name] = why
            continue
        if student != folder.parent.name:
            target = submitted / student / unit
            if target.exists():
                intake.unidentified[folder.parent.name] = (f"{student} already has a submission "
                                                           "in submitted/; this one was left out")
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            folder.rename(target)
            folder = target
        content, notebook, problem = locate(folder, unit, ids)
        if problem:
            intake.problems[student] = problem
            continue
        notes = _notes(folder, notebook, unit, ids)
        if content != folder or notebook.name != f"{unit}.ipynb":
            aside = _free_name(folder.parent / f".{unit}.as-submitted")
            folder.rename(aside)
            try:
                _copy_in(aside / content.relative_to(folder),
                         aside / notebook.relative_to(folder), folder, unit)
            except OSError:  # what was handed in stays, whole, in ``aside``
                shutil.rmtree(folder, ignore_errors=True)
                intake.problems[student] = UNREADABLE
                continue
        intake.students.append(student)
        _record_time(handed_in_as, folder, student, times)
        if notes:
            intake.notes[student] = notes
    intake.students.sort()
    return intake


def take_in(unit, work_dir, root, submissions=None, mapping=None, also_submitted=False, times=None):
    """The one intake: collect ``submissions`` (an LMS export) if given, else prepare what
    ``submitted/`` holds; with ``also_submitted``, both (the export wins for a student in both).
    ``mapping`` is ``{lms_name: student_id}``, a path to such a CSV (``read_mapping``), or None;
    ``times`` is ``{lms_name or student_id: datetime}`` or a path to a CSV ``student,submitted_at``
    (``deadlines.read_times``): each time found is recorded as nbgrader's ``timestamp.txt``."""
    ids = read_mapping(mapping) if isinstance(mapping, (str, Path)) else mapping
    if isinstance(times, (str, Path)):
        times = read_times(times, load_deadlines(work_dir).zone)
    if not submissions:
        return prepare_submitted(unit, work_dir, root, ids, times)
    brought = collect(unit, submissions, work_dir, root, ids, times)
    if not also_submitted:
        return brought
    held = prepare_submitted(unit, work_dir, root, ids, times)
    problems = {student: problem for student, problem in held.problems.items()
                if student not in brought.students}
    problems.update(brought.problems)
    students = (set(held.students) - set(brought.problems)) | set(brought.students)
    return Intake(sorted(students), problems, {**held.notes, **brought.notes},
                  {**held.unidentified, **brought.unidentified})


ROSTER_COLUMNS = ("student_id", "first_name", "last_name", "email")


def read_roster(path):
    """The rows of a roster CSV (``student_id,first_name,last_name,email``) as dicts; ``ValueError``
    naming the line of a row whose id is unusable or repeated."""
    rows, seen = [], set()
    for where, entry in csv_rows(path, ROSTER_COLUMNS):
        if not is_student_id(entry["student_id"]):
            raise ValueError(f"{where}: {entry['student_id']!r} is not a usable student id "
                             f"({STUDENT_ID_RULE})")
        if entry["student_id"] in seen:
            raise ValueError(f"{where}: {entry['student_id']} is listed twice")
        seen.add(entry["student_id"])
        rows.append(entry)
    return rows


def import_roster(path, work_dir):
    """Create or update every student of the roster CSV in the gradebook of ``work_dir``; returns
    the number of students. The whole file is checked before anything is written."""
    from nbgrader.api import Gradebook

    from .nbgrader_api import ready_for_new_gradebooks
    from .settings import course_config

    rows = read_roster(path)
    ready_for_new_gradebooks()
    directory = course_config(work_dir=work_dir).CourseDirectory
    with Gradebook(directory.db_url, directory.course_id) as gradebook:
        for row in rows:
            gradebook.update_or_create_student(
                row["student_id"], first_name=row["first_name"] or None,
                last_name=row["last_name"] or None, email=row["email"] or None)
    return len(rows)
