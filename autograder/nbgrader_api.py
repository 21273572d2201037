"""Calling nbgrader through its Python API (about 2 s faster per call than its command line)."""
import contextlib
import functools
import logging
import os
import sys
import warnings
from pathlib import Path

from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory

from .settings import course_config


# nbgrader's gradebook links each new submission to its student and assignment before adding it
# to the session, which SQLAlchemy 2 warns about (three warnings for every submission graded, in
# the run's log); nbgrader adds it right after, and the grades are read back whole.
warnings.filterwarnings("ignore", message=r"Object of type <Submitted\w*> not in session",
                        module=r"nbgrader\.")


class NbGraderFailed(RuntimeError):
    """nbgrader reported a failure; the message holds its log."""


def ready_for_new_gradebooks():
    """Make a new gradebook quick to create, in this process and the ones it starts.

    nbgrader stamps a new gradebook with its schema's revision, which it asks of the ``alembic``
    command (``nbgrader.api.get_alembic_version``): a fresh interpreter importing nbgrader, about
    3 s of CPU for every gradebook a run creates. The revision is a fact of the installed nbgrader,
    read here once, in this process, from the same migration scripts with alembic's own API
    (``tests/test_nbgrader_api.py`` checks it is what the command answers). The command stays
    reachable on PATH for nbgrader's other migrations, even when this interpreter was started by
    its full path, without activating its environment.
    """
    import nbgrader.api

    nbgrader.api.get_alembic_version = schema_revision
    tools = str(Path(sys.executable).parent)
    if tools not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = tools + os.pathsep + os.environ.get("PATH", "")


@functools.lru_cache(maxsize=None)
def schema_revision():
    """The revision of the installed nbgrader's gradebook schema (its migrations' head)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR

    config = Config()
    config.set_main_option("script_location", ALEMBIC_DIR)
    return ScriptDirectory.from_config(config).get_current_head()


def make_api(root=None, work_dir=None, release_dir=None, cell_timeout=None, sandboxed=True,
             judge_seed=None):
    """An ``NbGraderAPI`` for the course, its working folders in ``work_dir`` (default: the root)."""
    ready_for_new_gradebooks()
    if work_dir is not None:
        Path(work_dir).mkdir(parents=True, exist_ok=True)
    kwargs = {key: value for key, value in
              dict(root=root, work_dir=work_dir, cell_timeout=cell_timeout).items() if value}
    config = course_config(sandboxed=sandboxed, **kwargs)
    if release_dir is not None:
        config.CourseDirectory.release_directory = str(Path(release_dir).resolve())
    if judge_seed is not None:
        config.JudgeVerdicts.seed = judge_seed
    config.NbGraderAPI.log_level = logging.ERROR
    coursedir = CourseDirectory(config=config)
    return NbGraderAPI(coursedir=coursedir, config=config)


def checked(result, what):
    """Raise ``NbGraderFailed`` unless an ``NbGraderAPI`` call succeeded."""
    if not result.get("success"):
        raise NbGraderFailed(f"nbgrader could not {what}:\n{result.get('error') or result.get('log')}")
    return result


@contextlib.contextmanager
def quiet_nbgrader():
    """Around every nbgrader call: keep its INFO log (every file it copies) off the terminal, and
    restore the working directory, which nbgrader changes to the course root."""
    logger = logging.getLogger("traitlets")
    level, cwd = logger.level, os.getcwd()
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
        os.chdir(cwd)
