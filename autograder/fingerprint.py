"""What a grade was computed from, as one digest: ``autograder regrade UNIT`` grades again only the
submissions whose digest changed (a resubmission, a fixed test, a new autograder) or that had a
problem, and keeps the others' results.

The digest covers the submission (every file under ``submitted/<student>/<unit>/``, names and
contents) and everything grading reads besides: the unit's source notebook (its tests), the
reference ``nnlib``, the autograder's own code (probes, judge, nbgrader stages, sandbox) and the
run's settings (cell time-out, sandbox on or off). Late penalties and a grader's scores are not in
it: they are applied after grading (``autograder.adjustments``) and need no regrade.
"""
import hashlib
from pathlib import Path


PACKAGE = Path(__file__).resolve().parent


def files_below(folder, pattern="*"):
    """``(relative name, path)`` of every file of ``folder`` matching ``pattern``, any depth, in
    order: what grading reads of a folder (no caches, no checkpoints, no symbolic link followed)."""
    folder = Path(folder)
    for path in sorted(folder.rglob(pattern)):
        if path.is_symlink() or not path.is_file() or "__pycache__" in path.parts \
                or ".ipynb_checkpoints" in path.parts:
            continue
        yield path.relative_to(folder).as_posix(), path


def _add_folder(digest, folder, pattern="*"):
    """Every file ``files_below`` lists, by relative name and content."""
    for name, path in files_below(folder, pattern):
        digest.update(name.encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())


def grading_inputs(unit, root, cell_timeout, sandboxed):
    """The digest of everything but the submission that grading ``unit`` reads."""
    digest = hashlib.sha256(f"{unit}\0{cell_timeout}\0{sandboxed}\0".encode())
    digest.update(hashlib.sha256((Path(root) / "solutions" / unit / f"{unit}.ipynb").read_bytes())
                  .digest())
    _add_folder(digest, Path(root) / "nnlib", "*.py")
    _add_folder(digest, PACKAGE, "*.py")
    return digest.hexdigest()


def of_autograder():
    """The digest of the autograder's own code (a grading worker must run the same)."""
    digest = hashlib.sha256()
    _add_folder(digest, PACKAGE, "*.py")
    return digest.hexdigest()


def of_submission(inputs, work_dir, unit, student):
    """The digest of ``student``'s submission of ``unit`` graded with ``inputs`` (``grading_inputs``)."""
    digest = hashlib.sha256(inputs.encode())
    _add_folder(digest, Path(work_dir) / "submitted" / student / unit)
    return digest.hexdigest()
