"""Which course folder the ``autograder`` works on: the instructor's, never where it is installed.

As for nbgrader (whose ``CourseDirectory.root`` is the working folder), the course is a folder of
the instructor's: it holds ``nbgrader_config.py``, the nbgrader sources with their hidden tests
(``solutions/``) and the reference library (``nnlib/``, deliberately not an installed package), and
everything grading writes (``submitted/``, ``autograded/``, ``feedback/``, ``grades/``, the
gradebook). ``find`` chooses it, in this order:

1. ``autograder --course DIR`` (the ``course`` argument);
2. the environment variable ``NNCOURSE_DIR``;
3. the working folder, or the nearest folder above it holding ``nbgrader_config.py``.

The course's ``nbgrader_config.py`` asks ``find`` too (from its own folder), so ``nbgrader``'s
commands and the formgrader use the same course and gradebook as ``autograder``. The command line
exports its choice as ``NNCOURSE_DIR`` for the rest of its run, so every default below it (and any
process it starts) agrees. Library functions take the folders as ``root``/``work_dir`` parameters;
``None`` means ``find()``.
"""
import os
from pathlib import Path

ENVIRONMENT_VARIABLE = "NNCOURSE_DIR"
CONFIG_FILE = "nbgrader_config.py"
# What makes a folder this course's, beyond nbgrader's config: the sources and the reference.
COURSE_FILES = (CONFIG_FILE, "solutions", "nnlib/__init__.py")
HOW_TO_POINT = (f"run autograder in your course folder (or below it), or name it with "
                f"`autograder --course DIR ...` or the environment variable {ENVIRONMENT_VARIABLE}=DIR")


class CourseNotFound(RuntimeError):
    """No course folder here; the message says where it looked and how to name one."""


def missing_files(folder):
    """The course files ``folder`` lacks (``[]`` for a course folder)."""
    return [name for name in COURSE_FILES if not (Path(folder) / name).exists()]


def _checked(folder, named_by):
    folder = Path(folder).expanduser().resolve()
    if not folder.is_dir():
        raise CourseNotFound(f"{named_by} names {folder}, which is not a folder; {HOW_TO_POINT}")
    missing = missing_files(folder)
    if missing:
        raise CourseNotFound(f"{named_by} names {folder}, which is not a course folder: it lacks "
                             f"{', '.join(missing)}; {HOW_TO_POINT}")
    return folder


def find(course=None, start=None):
    """The course folder (absolute): ``course`` if given, else ``$NNCOURSE_DIR``, else the nearest
    folder holding ``nbgrader_config.py`` from ``start`` (default: the working folder) upward.

    Raises ``CourseNotFound`` saying where it looked, when that folder lacks the course's files
    (the nearest ``nbgrader_config.py`` is nbgrader's, so no further folder is tried).
    """
    if course is not None:
        return _checked(course, "--course")
    if os.environ.get(ENVIRONMENT_VARIABLE):
        return _checked(os.environ[ENVIRONMENT_VARIABLE], ENVIRONMENT_VARIABLE)
    start = Path(start if start is not None else os.getcwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_FILE).is_file():
            return _checked(folder, f"the nearest {CONFIG_FILE} (from {start} upward)")
    raise CourseNotFound(f"no course folder found: no {CONFIG_FILE} in {start} or any folder above "
                         f"it, and {ENVIRONMENT_VARIABLE} is not set; {HOW_TO_POINT}")


def course_root(folder=None):
    """``folder`` as an absolute path, or the course ``find()`` chooses: every ``root`` and
    ``work_dir`` default of the library."""
    return Path(folder).resolve() if folder is not None else find()


def reference_dir(folder=None):
    """The reference ``nnlib`` folder ``folder``, or the chosen course's ``nnlib/``."""
    return Path(folder).resolve() if folder is not None else find() / "nnlib"
