"""Editions of nnlib: what a student receives with unit k.

Regions of units before k keep the reference code (those solutions have been released); regions of
unit k and later become stubs raising ``NotImplementedError`` that name the function and the
exercise. Everything outside regions (docstrings, validation, infrastructure) is kept as it is, under
a first line saying whose copy it is. An edition holds only the library: the course tools students
never edit (widgets, plotting) are the installed ``nncourse`` package, not part of ``nnlib/``.
"""
from pathlib import Path

from .course import UNIT_IDS, get_unit
from .course_folder import reference_dir as _reference_dir
from .regions import stub_source


def units_to_stub(unit_id):
    """The units whose regions are stubs in the edition of ``unit_id``: it and every later one."""
    get_unit(unit_id)
    return set(UNIT_IDS[UNIT_IDS.index(unit_id):])


def edition_files(reference_dir=None):
    """Relative paths (``nnlib/layers.py``, ...) of every file an edition holds, sorted."""
    reference_dir = _reference_dir(reference_dir)
    reference_dir = Path(reference_dir)
    return sorted(f"nnlib/{path.relative_to(reference_dir).as_posix()}"
                  for path in reference_dir.rglob("*.py"))


def edition_header(unit_id):
    """The comment line every file of the edition of ``unit_id`` starts with."""
    return (f"# Student copy of nnlib for exercise {unit_id}; the reference is nnlib/ in the course "
            "repository.\n")


def edition_sources(unit_id, reference_dir=None):
    """``{relative path: source text}`` of the edition of ``unit_id``."""
    reference_dir = _reference_dir(reference_dir)
    reference_dir = Path(reference_dir)
    stubbed_units = units_to_stub(unit_id)
    header = edition_header(unit_id)
    sources = {}
    for relative in edition_files(reference_dir):
        path = reference_dir / Path(relative).relative_to("nnlib")
        sources[relative] = header + stub_source(path.read_text(), stubbed_units, str(path))
    return sources


def write_edition(unit_id, destination, reference_dir=None):
    """Write the edition of ``unit_id`` as ``destination/nnlib/``; returns the paths written."""
    reference_dir = _reference_dir(reference_dir)
    destination = Path(destination)
    written = []
    for relative, source in edition_sources(unit_id, reference_dir).items():
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source)
        written.append(target)
    return written
