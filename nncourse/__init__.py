"""Course tools around nnlib: the live widgets of the lectures and the plotting helpers.

Students never edit these, so they live here once, installed with the environment, instead of
in every unit's copy of nnlib. nnlib itself is not installed (each notebook imports the copy
beside it), so a tool is handed the nnlib it works on (``Playground(nn=nnlib)``); without one it
takes the nnlib the notebook has imported, looked up when the tool is made, never when this
package is imported. At the end of exercise 05 the playground therefore trains on the student's
own code.
"""
import importlib


def resolve_nnlib(nn=None):
    """``nn`` if given, otherwise the ``nnlib`` the running notebook imports."""
    if nn is not None:
        return nn
    try:
        return importlib.import_module("nnlib")
    except ModuleNotFoundError as error:
        if error.name != "nnlib":
            raise
        message = ("no nnlib to work on: run the notebook's first cell (it puts this unit's nnlib "
                   "on the path), or pass your nnlib explicitly, e.g. Playground(nn=nnlib)")
        raise ModuleNotFoundError(message, name="nnlib") from None
