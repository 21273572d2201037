"""Where the nbgrader step running a stage writes: the converter that owns the stage knows."""
from pathlib import Path


def converter_of(preprocessor):
    """The nbgrader converter (``GenerateAssignment``, ``GenerateFeedback``, ...) running
    ``preprocessor``: nbconvert makes each stage a child of the exporter, itself the converter's."""
    owner = preprocessor.parent
    while owner is not None and not hasattr(owner, "coursedir"):
        owner = owner.parent
    if owner is None:
        raise RuntimeError(f"{type(preprocessor).__name__} runs only inside an nbgrader step")
    return owner


def destination_folder(preprocessor, resources):
    """The folder the running step writes this notebook's assignment to (``exercises/<unit>/``,
    ``feedback/<student>/<unit>/``)."""
    ids = resources["nbgrader"]
    return Path(converter_of(preprocessor)._format_dest(ids["assignment"], ids["student"]))
