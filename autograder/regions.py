"""Solution regions in nnlib's source: find them, and replace them with stubs for an edition.

A region wraps the body of one graded function (or the graded part of it)::

    def forward(self, x):
        \"\"\"Docstring and input checks stay outside: students keep them.\"\"\"
        x = self._check_input(x)
        # BEGIN SOLUTION 03_forward_pass
        return ...  # the unit's code (no real solution here: this file goes into student copies)
        # END SOLUTION

In the edition of unit k, regions of units before k keep their code and the others become
``raise NotImplementedError("Linear.forward: implement this in exercise 03_forward_pass")``.
"""
import ast
import re
from dataclasses import dataclass
from pathlib import Path

BEGIN = re.compile(r"^(?P<indent>[ \t]*)# BEGIN SOLUTION(?P<rest>.*)$")
END = re.compile(r"^[ \t]*# END SOLUTION\s*$")
MARKER_LIKE = re.compile(r"(BEGIN|END)\s+SOLUTION")
UNIT_ID = re.compile(r"^\d\d_[a-z0-9_]+$")


class RegionError(ValueError):
    """A malformed solution region; the message names the file and line."""


@dataclass(frozen=True)
class Region:
    path: str        # file the region is in, as given to find_regions
    unit: str        # unit id named by the BEGIN marker
    begin: int       # 1-based line of the BEGIN marker
    end: int         # 1-based line of the END marker
    indent: str      # indentation of the markers (the stub uses it)
    qualname: str    # enclosing function, e.g. "Linear.forward"


def _function_spans(tree):
    """(first line, last line, qualname) of every function, innermost last."""
    spans = []

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = prefix + child.name
                spans.append((child.lineno, child.end_lineno, name))
                visit(child, name + ".<locals>.")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
            else:
                visit(child, prefix)

    visit(tree, "")
    return spans


def find_regions(source, path="<source>"):
    """Every solution region of ``source``, in order; ``RegionError`` if any is malformed.

    Checked: each BEGIN names one unit id, is closed by an END before the next BEGIN (no nesting),
    no END stands alone, and each region lies inside a function.
    """
    lines = source.splitlines()
    spans = _function_spans(ast.parse(source, filename=path))
    regions, open_begin = [], None
    for number, line in enumerate(lines, start=1):
        begin, end = BEGIN.match(line), END.match(line)
        if begin:
            if open_begin is not None:
                raise RegionError(f"{path}:{number}: BEGIN SOLUTION inside the region opened at "
                                  f"line {open_begin[0]} (regions never nest)")
            unit = begin.group("rest").strip()
            if not UNIT_ID.match(unit):
                raise RegionError(f"{path}:{number}: BEGIN SOLUTION must name one unit, like "
                                  f"'# BEGIN SOLUTION 05_backprop', got {line.strip()!r}")
            open_begin = (number, unit, begin.group("indent"))
        elif end:
            if open_begin is None:
                raise RegionError(f"{path}:{number}: END SOLUTION without a BEGIN SOLUTION")
            start, unit, indent = open_begin
            # A function's span ends at its last statement, so a closing marker after it is still inside.
            enclosing = [name for first, last, name in spans if first < start <= last]
            if not enclosing:
                raise RegionError(f"{path}:{start}: solution region outside any function")
            regions.append(Region(path, unit, start, number, indent, enclosing[-1]))
            open_begin = None
        elif MARKER_LIKE.search(line):
            raise RegionError(f"{path}:{number}: malformed region marker {line.strip()!r}")
    if open_begin is not None:
        raise RegionError(f"{path}:{open_begin[0]}: BEGIN SOLUTION is never closed")
    return regions


def stub_message(qualname, unit):
    return f"{qualname}: implement this in exercise {unit}"


def stub_source(source, stub_units, path="<source>"):
    """``source`` with the code of every region whose unit is in ``stub_units`` replaced by a stub.

    The markers stay, so the student sees where to write. Regions of other units keep their code.
    """
    lines = source.splitlines(keepends=True)
    for region in reversed(find_regions(source, path)):
        if region.unit not in stub_units:
            continue
        message = stub_message(region.qualname, region.unit)
        stub = f"{region.indent}raise NotImplementedError({message!r})\n"
        lines[region.begin:region.end - 1] = [stub]
    return "".join(lines)


def module_name(path, package_root):
    """``nnlib/layers.py`` -> ``nnlib.layers`` (relative to the folder holding the package)."""
    relative = Path(path).relative_to(package_root).with_suffix("")
    return ".".join(relative.parts)


def regions_of_package(package_dir):
    """All regions of every ``.py`` file of a package, keyed by qualified name."""
    package_dir = Path(package_dir)
    found = {}
    for path in sorted(package_dir.rglob("*.py")):
        module = module_name(path, package_dir.parent)
        for region in find_regions(path.read_text(), str(path)):
            name = f"{module}.{region.qualname}"
            if name in found:
                raise RegionError(f"{path}:{region.begin}: {name} has more than one solution region")
            found[name] = region
    return found
