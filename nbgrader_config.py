# nbgrader's configuration for this course; the settings themselves live in autograder/settings.py,
# shared with the `autograder` command, so that `nbgrader ...` and the formgrader agree with it.
from autograder.settings import configure

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)
configure(c)
