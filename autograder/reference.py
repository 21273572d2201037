"""The trusted reference nnlib, loaded under a private name so it never shadows a student's copy."""
import importlib.util
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REFERENCE_DIR = REPO / "nnlib"
REFERENCE_NAME = "_autograder_reference_nnlib"


def use_reference_directory(directory):
    """From now on, in this process, the reference is the nnlib in ``directory`` (a grading
    worker's copy of the course, ``autograder.grading_task``)."""
    global REFERENCE_DIR
    directory = Path(directory).resolve()
    if directory != REFERENCE_DIR:
        REFERENCE_DIR = directory
        for name in [name for name in sys.modules
                     if name == REFERENCE_NAME or name.startswith(REFERENCE_NAME + ".")]:
            del sys.modules[name]


def reference_nnlib():
    """The repository's complete nnlib as a package called ``_autograder_reference_nnlib``.

    Hidden tests compare a student's functions with these. Importing it as ``nnlib`` would let it
    stand in for a student's missing copy, which grading must never do.
    """
    if REFERENCE_NAME in sys.modules:
        return sys.modules[REFERENCE_NAME]
    spec = importlib.util.spec_from_file_location(
        REFERENCE_NAME, REFERENCE_DIR / "__init__.py", submodule_search_locations=[str(REFERENCE_DIR)])
    package = importlib.util.module_from_spec(spec)
    sys.modules[REFERENCE_NAME] = package
    try:
        spec.loader.exec_module(package)
    except BaseException:
        del sys.modules[REFERENCE_NAME]
        raise
    return package
