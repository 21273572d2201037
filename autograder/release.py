"""``autograder release --student-copy DIR --through UNIT``: what students receive without a hub.

The repository is the instructor's: it holds the reference ``nnlib/``, ``solutions/`` and the
autograder. A student copy is built from it and holds only

- ``lectures/``: each lecture of units up to ``--through`` that runs on its unit's edition
  (it imports ``nnlib`` from ``../exercises/<unit>``); a lecture on the reference is left out;
- ``exercises/<unit>/``: the released notebook (``exercises/`` of the repository, hidden tests
  already removed) and the unit's ``nnlib`` edition, written afresh (``editions.write_edition``);
- ``nncourse/``, the course's widgets, installed by the copy's ``make setup``;
- ``student_tools/`` (``carry_forward.py``, ``regions.py``, ``student_tools.py`` as its
  ``__main__``) and ``.course/<unit>.json``, what carrying one's own code forward needs;
- a README, a Makefile (``make setup``, ``make lab``; validate, carry-forward, submission), a
  ``pyproject.toml`` and an ``environment.yml`` without the instructor's tools (no autograder, no
  pytest), and a ``.gitignore``.

Before it returns, ``leaks`` searches every file written for the body of any solution region of
``--through`` or a later unit and for the hidden-test markers; a copy that holds one is removed and
the release fails.
"""
import json
import re
import shutil
import tomllib
from pathlib import Path

from .carry_forward import body_hash, region_bodies
from .course import UNIT_IDS, get_unit
from .editions import edition_sources, write_edition
from .course_folder import course_root, reference_dir as _reference_dir

TEMPLATES = Path(__file__).with_name("student_copy")
# What only the instructor needs: left out of the copy's dependencies.
INSTRUCTOR_ONLY = {"pytest", "pytest-xdist", "playwright"}
STUDENT_TOOLS = {"carry_forward.py": "carry_forward.py", "regions.py": "regions.py",
                 "student_tools.py": "__main__.py"}
HIDDEN_MARKERS = ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "autograder.hidden_tests")
_GRADED_NAME = re.compile(r"""grade\(\s*["'](nnlib\.[A-Za-z0-9_.]+)["']""")
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")


class LeakError(RuntimeError):
    """A student copy would hold a solution that is not released, or a hidden test."""


def resolve_through(value):
    """``"05"`` or ``"05_backprop"`` -> ``"05_backprop"``."""
    matches = [unit for unit in UNIT_IDS if unit == value or unit.split("_", 1)[0] == value]
    if len(matches) != 1:
        raise ValueError(f"unknown unit {value!r}; the units are: {', '.join(UNIT_IDS)}")
    return matches[0]


def _code_cells(notebook_path):
    return [cell for cell in json.loads(Path(notebook_path).read_text())["cells"]
            if cell["cell_type"] == "code"]


def _source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def lecture_units(root=None):
    """``{lecture path: unit}`` of every lecture that runs on a unit's edition (it puts
    ``../exercises/<unit>`` on its path); lectures on the reference (``..``) are not listed."""
    root = course_root(root)
    found = {}
    for path in sorted((Path(root) / "lectures").glob("*.ipynb")):
        code = "\n".join(_source(cell) for cell in _code_cells(path))
        units = [unit for unit in UNIT_IDS if f"../exercises/{unit}" in code]
        if len(units) == 1:
            found[path] = units[0]
    return found


def visible_checks(unit, root=None):
    """The test cells of the released notebook of ``unit`` (what a student sees), each with the
    graded functions its hidden part grades (read from ``solutions/``): a list of dicts."""
    root = course_root(root)
    root = Path(root)
    graded = {}
    for cell in _code_cells(root / "solutions" / unit / f"{unit}.ipynb"):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and meta.get("grade_id"):
            graded[meta["grade_id"]] = _GRADED_NAME.findall(_source(cell))
    checks = []
    for cell in _code_cells(root / "exercises" / unit / f"{unit}.ipynb"):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution") and meta.get("grade_id") in graded:
            checks.append({"grade_id": meta["grade_id"], "functions": graded[meta["grade_id"]],
                           "source": _source(cell)})
    return checks


def manifest(unit, root=None, reference_dir=None):
    """What ``carry_forward`` needs about ``unit``: the hash of every released body of its edition
    (regions of earlier units) and its visible checks. Holds no unreleased code."""
    root = course_root(root)
    reference_dir = _reference_dir(reference_dir) if reference_dir is not None else root / "nnlib"
    stubbed_from = UNIT_IDS.index(unit)
    released = {}
    for relative, source in edition_sources(unit, reference_dir).items():
        module = relative.removesuffix(".py").replace("/", ".")
        for name, (region, body) in region_bodies(source, relative, module).items():
            if UNIT_IDS.index(region.unit) < stubbed_from:
                released[name] = body_hash(body)
    return {"unit": unit, "released": released, "checks": visible_checks(unit, root)}


def manifests(units, root=None):
    root = course_root(root)
    return {unit: manifest(unit, root) for unit in units}


def _student_pyproject(root):
    project = tomllib.loads((Path(root) / "pyproject.toml").read_text())["project"]
    dependencies = [spec for spec in project["dependencies"]
                    if re.match(r"[A-Za-z0-9_.\-]+", spec).group(0).lower() not in INSTRUCTOR_ONLY]
    packages = sorted(".".join(path.parent.relative_to(root).parts)
                      for path in (Path(root) / "nncourse").rglob("__init__.py")
                      if "__pycache__" not in path.parts) + ["student_tools"]
    return dependencies, packages, project.get("requires-python", ">=3.10")


def _write_environment_files(root, destination):
    dependencies, packages, python = _student_pyproject(root)
    quoted = lambda items: ",\n".join(f'    "{item}"' for item in items)  # noqa: E731
    (destination / "pyproject.toml").write_text(
        "# The student copy's environment (built by `autograder release --student-copy`).\n"
        '[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n\n'
        '[project]\nname = "nn-from-scratch-student"\nversion = "0.1.0"\n'
        f'requires-python = "{python}"\ndependencies = [\n{quoted(dependencies)},\n]\n\n'
        "[tool.setuptools]\n# The course's widgets and the copy's own tools; your nnlib stays in "
        f"each exercise's folder.\npackages = [\n{quoted(packages)},\n]\n")
    (destination / "environment.yml").write_text(
        "# For conda users: `conda env create -f environment.yml && conda activate nn-course`, then\n"
        "# `pip install --no-deps -e .` for the course's widgets, and switch off nbgrader's instructor\n"
        "# tools as the Makefile's setup rule does. Same dependencies as pyproject.toml.\n"
        "name: nn-course\nchannels:\n  - conda-forge\ndependencies:\n  - python=3.11\n  - pip\n"
        + "".join(f"  - {spec}\n" for spec in dependencies))


def _units_table(units, lectures):
    rows = ["| unit | lecture | exercise |", "| --- | --- | --- |"]
    for unit in units:
        lecture = next((f"`lectures/{path.name}`" for path, owner in lectures.items()
                        if owner == unit), "–")
        rows.append(f"| {unit[:2]} {get_unit(unit).title} | {lecture} | `exercises/{unit}/` |")
    return "\n".join(rows)


def solution_bodies(units, reference_dir=None):
    """``{qualified name: body}`` of every reference region of ``units``."""
    reference_dir = _reference_dir(reference_dir)
    found = {}
    for path in sorted(Path(reference_dir).rglob("*.py")):
        module = "nnlib." + path.relative_to(reference_dir).with_suffix("").as_posix().replace("/", ".")
        module = module.removesuffix(".__init__")
        for name, (region, body) in region_bodies(path.read_text(), str(path), module).items():
            if region.unit in units:
                found[name] = body
    return found


def _significant(text):
    """The lines of ``text`` that carry code: stripped, without blanks and comments."""
    return [line.strip() for line in text.splitlines()
            if line.strip() and not line.strip().startswith("#")]


def _file_texts(path):
    """The texts to search in one file: a notebook's cells one by one, any other file whole."""
    if path.suffix == ".ipynb":
        try:
            return [_source(cell) for cell in json.loads(path.read_text())["cells"]]
        except (ValueError, KeyError):
            return [path.read_text(errors="replace")]
    try:
        return [path.read_text()]
    except UnicodeDecodeError:
        return []


def leaks(folder, units, reference_dir=None):
    """``[(file, what)]``: each file under ``folder`` holding the body of a solution region of
    ``units`` (its code lines in order, however indented) or a hidden-test marker."""
    reference_dir = _reference_dir(reference_dir)
    bodies = {name: _significant(body) for name, body in solution_bodies(units, reference_dir).items()}
    bodies = {name: lines for name, lines in bodies.items() if lines}
    found = []
    for path in sorted(Path(folder).rglob("*")):
        if not path.is_file() or ".venv" in path.relative_to(folder).parts:
            continue
        relative = path.relative_to(folder).as_posix()
        for text in _file_texts(path):
            for marker in HIDDEN_MARKERS:
                if marker in text:
                    found.append((relative, marker))
            lines = _significant(text)
            joined = "\n".join(lines)
            for name, body in bodies.items():
                needle = "\n".join(body)
                if needle in joined and _contains_lines(lines, body):
                    found.append((relative, f"the solution of {name}"))
    return sorted(set(found))


def _contains_lines(lines, body):
    size = len(body)
    return any(lines[start:start + size] == body for start in range(len(lines) - size + 1))


def write_student_copy(destination, through, root=None):
    """Write the student copy of units up to ``through`` into ``destination`` (new or empty).

    Returns ``{"units": [...], "lectures": [...], "left_out": [...], "files": count}``.
    """
    root = course_root(root)
    root, destination = Path(root), Path(destination)
    through = resolve_through(through)
    if destination.exists() and any(destination.iterdir()):
        raise FileExistsError(f"{destination} is not empty: a student copy is written into a new "
                              "folder")
    units = [unit for unit in UNIT_IDS[:UNIT_IDS.index(through) + 1]
             if (root / "exercises" / unit / f"{unit}.ipynb").is_file()]
    all_lectures = lecture_units(root)
    lectures = {path: unit for path, unit in all_lectures.items() if unit in units}
    left_out = [path.name for path in sorted((root / "lectures").glob("*.ipynb"))
                if path not in all_lectures]
    destination.mkdir(parents=True, exist_ok=True)
    try:
        (destination / "lectures").mkdir()
        for path in lectures:
            shutil.copy2(path, destination / "lectures" / path.name)
        for unit in units:
            folder = destination / "exercises" / unit
            folder.mkdir(parents=True)
            shutil.copy2(root / "exercises" / unit / f"{unit}.ipynb", folder / f"{unit}.ipynb")
            write_edition(unit, folder, root / "nnlib")
        shutil.copytree(root / "nncourse", destination / "nncourse", ignore=_IGNORE)
        tools = destination / "student_tools"
        tools.mkdir()
        (tools / "__init__.py").write_text('"""The student copy\'s own commands: python -m '
                                           'student_tools --help."""\n')
        for source, target in STUDENT_TOOLS.items():
            shutil.copy2(Path(__file__).with_name(source), tools / target)
        course = destination / ".course"
        course.mkdir()
        for unit, data in manifests(units, root).items():
            (course / f"{unit}.json").write_text(json.dumps(data, indent=1) + "\n")
        _write_environment_files(root, destination)
        shutil.copy2(TEMPLATES / "Makefile", destination / "Makefile")
        shutil.copy2(TEMPLATES / "gitignore", destination / ".gitignore")
        readme = (TEMPLATES / "README.md").read_text()
        (destination / "README.md").write_text(
            readme.replace("{first}", units[0][:2]).replace("{last}", units[-1][:2])
            .replace("{units}", _units_table(units, lectures)))
        found = leaks(destination, UNIT_IDS[UNIT_IDS.index(through):], root / "nnlib")
        if found:
            raise LeakError("the student copy would hold what students must not see: "
                            + "; ".join(f"{path}: {what}" for path, what in found[:10]))
    except BaseException:
        shutil.rmtree(destination, ignore_errors=True)
        raise
    files = [path for path in destination.rglob("*") if path.is_file()]
    return {"units": units, "lectures": [path.name for path in lectures], "left_out": left_out,
            "files": len(files), "bytes": sum(path.stat().st_size for path in files)}
