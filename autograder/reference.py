"""The trusted reference nnlib, loaded under a private name so it never shadows a student's copy."""
import importlib.util
import sys
from pathlib import Path

from .course_folder import reference_dir as _reference_dir

REFERENCE_NAME = "_autograder_reference_nnlib"


def reference_nnlib(reference_dir=None):
    """The course's complete nnlib as a package called ``_autograder_reference_nnlib``.

    Hidden tests compare a student's functions with these. Importing it as ``nnlib`` would let it
    stand in for a student's missing one, which grading must never do. ``reference_dir`` is the
    reference to load (the judge passes its course's ``nnlib/``); without it, the one loaded last,
    else the chosen course's (``autograder.course_folder``).
    """
    loaded = sys.modules.get(REFERENCE_NAME)
    wanted = Path(reference_dir).resolve() if reference_dir is not None else None
    if loaded is not None and wanted in (None, Path(loaded.__path__[0])):
        return loaded
    folder = wanted or _reference_dir()
    # Another course's reference: forget the old one whole, submodules included.
    for name in [name for name in sys.modules
                 if name == REFERENCE_NAME or name.startswith(REFERENCE_NAME + ".")]:
        del sys.modules[name]
    spec = importlib.util.spec_from_file_location(
        REFERENCE_NAME, folder / "__init__.py", submodule_search_locations=[str(folder)])
    package = importlib.util.module_from_spec(spec)
    sys.modules[REFERENCE_NAME] = package
    try:
        spec.loader.exec_module(package)
    except BaseException:
        del sys.modules[REFERENCE_NAME]
        raise
    return package
