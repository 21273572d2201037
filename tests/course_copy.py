"""Course folders elsewhere than the repository, as an instructor has them.

``linked_course`` makes a minimal course folder that reads this repository's sources through
symbolic links (fast: for tests of what the command line chooses and writes); ``copied_course``
copies the tracked files an instructor's course folder holds (for a test of a copied course).
"""
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# What a course folder holds: nbgrader's config, the sources with the hidden tests, the reference,
# the released exercises and the deadlines. The tools (autograder, nncourse) are installed.
COURSE_PARTS = ("nbgrader_config.py", "deadlines.toml", "solutions", "nnlib", "exercises")


def linked_course(folder):
    """``folder`` as a course folder: this course's ``nbgrader_config.py``, with ``solutions/`` and
    ``nnlib/`` linked to the repository's. Returns it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "nbgrader_config.py", folder)
    for part in ("solutions", "nnlib"):
        (folder / part).symlink_to(REPO / part, target_is_directory=True)
    return folder


def copied_course(folder):
    """The tracked files of ``COURSE_PARTS`` copied into ``folder``. Returns it."""
    folder = Path(folder)
    tracked = subprocess.run(["git", "ls-files", "-z", "--", *COURSE_PARTS], cwd=REPO,
                             capture_output=True, check=True).stdout.decode().split("\0")
    for relative in filter(None, tracked):
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / relative, folder / relative)
    return folder
