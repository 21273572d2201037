"""The student copy's own commands (``python -m student_tools``, run by its Makefile).

``carry-forward UNIT`` brings the student's earlier code into a unit's ``nnlib`` (``carry_forward``);
``submission UNIT`` zips what a student hands in: the unit's notebook and its ``nnlib/``. The
student copy holds this file as ``student_tools/__main__.py`` next to ``carry_forward.py`` and
``regions.py`` (``autograder release --student-copy``); it imports nothing else of the autograder.
"""
import argparse
import sys
import zipfile
from pathlib import Path

from .carry_forward import carry_forward, resolve_unit


def write_submission(root, unit):
    """``root/<unit>-submission.zip`` holding ``<unit>/<unit>.ipynb`` and ``<unit>/nnlib/**.py``."""
    root = Path(root)
    unit = resolve_unit(root, unit)
    folder = root / "exercises" / unit
    notebook = folder / f"{unit}.ipynb"
    if not notebook.is_file():
        raise FileNotFoundError(f"{notebook.relative_to(root)} is missing: the grader needs it, "
                                "under this name")
    files = [notebook] + sorted(path for path in (folder / "nnlib").rglob("*.py")
                                if "__pycache__" not in path.parts)
    target = root / f"{unit}-submission.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, path.relative_to(folder.parent).as_posix())
    return target, len(files)


def main(argv=None, root="."):
    parser = argparse.ArgumentParser(prog="python -m student_tools")
    commands = parser.add_subparsers(dest="command", required=True)
    carry = commands.add_parser("carry-forward", help="bring your own code of earlier units into "
                                "the edition of UNIT (checked first; backed up; run twice, "
                                "nothing changes)")
    carry.add_argument("unit", metavar="UNIT", help="05 or 05_backprop")
    submit = commands.add_parser("submission", help="zip the notebook and nnlib/ of UNIT")
    submit.add_argument("unit", metavar="UNIT")
    args = parser.parse_args(argv)
    try:
        if args.command == "carry-forward":
            print(carry_forward(root, args.unit).summary())
        else:
            target, count = write_submission(root, args.unit)
            print(f"wrote {target.name} ({count} files): hand this file in")
    except (FileNotFoundError, ValueError) as error:
        print(f"{args.command}: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
