# nbgrader's configuration for this course; the settings themselves live in autograder/settings.py,
# shared with the `autograder` command, so that `nbgrader ...` and the formgrader agree with it.
# The course is the folder of this file (or the one NNCOURSE_DIR names), chosen by the same rule as
# `autograder` (autograder/course_folder.py): a copy of the course uses its own gradebook.
from pathlib import Path

from autograder.course_folder import find
from autograder.settings import configure

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)
configure(c, root=find(start=Path(__file__).resolve().parent))
