"""``autograder build``: regenerate ``exercises/<unit>/`` from ``solutions/<unit>/`` and ``nnlib/``.

A build replaces the folder it writes, so it refuses to touch one holding work not committed to git:
a student who runs it in their clone keeps their answers.
"""
import shutil
import subprocess
from pathlib import Path

from .course import UNIT_IDS
from .nbgrader_api import checked, make_api, quiet_nbgrader
from .course_folder import course_root


def units_with_assignments(root=None):
    """Units that have a source notebook in ``solutions/``, in course order."""
    root = course_root(root)
    return [unit for unit in UNIT_IDS if (Path(root) / "solutions" / unit / f"{unit}.ipynb").is_file()]


class UnsavedWork(RuntimeError):
    """The folder a build would replace holds changes git does not have; the message lists them."""


def unsaved_work(folder):
    """Files of ``folder`` that differ from git's last commit (edited, added or deleted); every file
    when ``folder`` is not in a git checkout, since then nothing says which are generated."""
    folder = Path(folder)
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all", "--", "."],
                            cwd=folder, capture_output=True, text=True)
    if status.returncode != 0:
        return sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*")
                      if path.is_file())
    return [line[3:] for line in status.stdout.splitlines()]


def build_unit(unit, release_dir, work_dir=None, root=None):
    """Release ``unit`` into ``release_dir/unit``: nbgrader's student notebook + the nnlib edition
    (both written by nbgrader's generate step, see ``settings.configure``).

    ``work_dir`` receives nbgrader's gradebook (default: the course root). Returns the folder.
    """
    root = course_root(root)
    root, release_dir = Path(root), Path(release_dir)
    source = root / "solutions" / unit
    stray = [path.name for path in source.iterdir() if path.name == "nnlib"]
    if stray:
        raise ValueError(f"solutions/{unit}/nnlib must not exist: nbgrader would copy it, and with it "
                         "the reference solutions, into the student version")
    target = release_dir / unit
    if target.exists():
        changed = unsaved_work(target)
        if changed:
            raise UnsavedWork(f"{target} holds work git has not committed ({', '.join(changed[:5])}"
                              f"{', ...' if len(changed) > 5 else ''}); building would replace it. "
                              "Commit or move it first.")
        shutil.rmtree(target)
    api = make_api(root=root, work_dir=work_dir, release_dir=release_dir)
    with quiet_nbgrader():
        checked(api.generate_assignment(unit, force=True, create=True), f"release {unit}")
    return target


def build(units=None, root=None, release_dir=None, work_dir=None):
    """Build every unit in ``units`` (default: all that have a solutions notebook)."""
    root = course_root(root)
    root = Path(root)
    release_dir = Path(release_dir) if release_dir else root / "exercises"
    units = list(units) if units else units_with_assignments(root)
    return [build_unit(unit, release_dir, work_dir=work_dir, root=root) for unit in units]
