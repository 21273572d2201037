"""Student materials: exercises/ is generated, current, and gives nothing away."""
import filecmp
import json
from pathlib import Path

import pytest

from autograder.build import build, units_with_assignments
from autograder.course import UNIT_IDS
from autograder.editions import units_to_stub
from autograder.regions import find_regions

REPO = Path(__file__).resolve().parents[1]
REFERENCE_DIR = REPO / "nnlib"
EXERCISES = REPO / "exercises"
UNITS = units_with_assignments(REPO)


def region_bodies(units):
    """The code lines of every reference region of ``units`` (what must never reach students)."""
    bodies = []
    for path in REFERENCE_DIR.rglob("*.py"):
        source = path.read_text()
        lines = source.splitlines()
        for region in find_regions(source, str(path)):
            if region.unit in units:
                body = [line.strip() for line in lines[region.begin:region.end - 1]]
                relative = path.relative_to(REFERENCE_DIR).as_posix()
                bodies.append((f"{relative}:{region.qualname}", [line for line in body
                                                                  if line and not line.startswith("#")]))
    return bodies


def student_files(unit):
    return [path for path in (EXERCISES / unit).rglob("*") if path.is_file()
            and "__pycache__" not in path.parts]


def test_every_unit_with_a_solution_notebook_is_released():
    assert UNITS, "no unit has a solutions notebook yet"
    for unit in UNITS:
        assert (EXERCISES / unit / f"{unit}.ipynb").is_file()
        assert (EXERCISES / unit / "nnlib" / "__init__.py").is_file()


def test_no_reference_nnlib_in_solutions():
    assert not list((REPO / "solutions").rglob("nnlib"))


@pytest.mark.parametrize("unit", UNITS)
def test_exercises_hold_no_hidden_tests_and_no_solution_code(unit):
    hidden = [path for path in student_files(unit)
              if "HIDDEN TESTS" in path.read_text(errors="replace") or "autograder" in
              path.read_text(errors="replace")]
    assert hidden == []
    package = EXERCISES / unit / "nnlib"
    edition = {path.relative_to(package).as_posix(): path.read_text() for path in package.rglob("*.py")}
    leaked = []
    for where, body in region_bodies(units_to_stub(unit)):
        text = edition[where.split(":")[0]]
        # A region's body counts as leaked when all of its lines appear in the student's file.
        if body and all(line in text for line in body):
            leaked.append(where)
    assert leaked == []


@pytest.mark.parametrize("unit", UNITS)
def test_an_edition_holds_only_the_library_and_says_whose_copy_it_is(unit):
    package = EXERCISES / unit / "nnlib"
    files = sorted(path.relative_to(package).as_posix() for path in package.rglob("*.py"))
    reference = sorted(path.relative_to(REFERENCE_DIR).as_posix() for path in REFERENCE_DIR.rglob("*.py"))
    assert files == reference
    assert not any(name.startswith(("widgets/", "plotting")) for name in files)  # course tools
    for name in files:
        first = (package / name).read_text().splitlines()[0]
        assert first.startswith("# Student copy of nnlib for exercise " + unit), name
        assert "nnlib/ in the course repository" in first, name


@pytest.mark.parametrize("unit", UNITS)
def test_earlier_units_solutions_are_released_in_the_edition(unit):
    released = set(UNIT_IDS[:UNIT_IDS.index(unit)])
    edition = "\n".join(path.read_text() for path in (EXERCISES / unit / "nnlib").rglob("*.py"))
    for where, body in region_bodies(released):
        assert all(line in edition for line in body), f"{where} should be released in {unit}"
    assert "implement this in exercise " + unit in edition


def test_exercises_are_up_to_date(tmp_path):
    build(UNITS, release_dir=tmp_path / "release", work_dir=tmp_path / "work")
    for unit in UNITS:
        fresh, committed = tmp_path / "release" / unit, EXERCISES / unit
        comparison = filecmp.dircmp(fresh, committed, ignore=["__pycache__", ".ipynb_checkpoints"])
        differing = []

        def walk(node, prefix=""):
            differing.extend(prefix + name for name in node.left_only + node.right_only)
            _, mismatch, errors = filecmp.cmpfiles(node.left, node.right, node.common_files,
                                                   shallow=False)
            differing.extend(prefix + name for name in mismatch + errors)
            for name, child in node.subdirs.items():
                walk(child, prefix + name + "/")

        walk(comparison)
        assert differing == [], f"exercises/{unit} is stale: run `autograder build {unit}`"


def test_a_build_never_replaces_work_git_has_not_committed(tmp_path):
    import subprocess

    from autograder.build import UnsavedWork, build_unit

    def git(*args):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=tmp_path,
                       check=True, capture_output=True)

    unit = UNITS[0]
    git("init", "-q")
    build_unit(unit, tmp_path / "exercises", work_dir=tmp_path / "work")
    git("add", "exercises")
    git("commit", "-qm", "release")
    answer = tmp_path / "exercises" / unit / "nnlib" / "functional.py"
    answer.write_text(answer.read_text() + "# my answer\n")
    with pytest.raises(UnsavedWork, match="functional.py"):
        build_unit(unit, tmp_path / "exercises", work_dir=tmp_path / "work")
    assert answer.read_text().endswith("# my answer\n")
    git("commit", "-qam", "my work")  # committed work is in git: a build may replace the folder
    build_unit(unit, tmp_path / "exercises", work_dir=tmp_path / "work")
    assert not answer.read_text().endswith("# my answer\n")


COURSE_NOTEBOOKS = sorted(path for folder in ("lectures", "solutions", "exercises")
                          for path in (REPO / folder).rglob("*.ipynb")
                          if ".ipynb_checkpoints" not in path.parts)


@pytest.mark.parametrize("notebook", COURSE_NOTEBOOKS, ids=lambda path: path.name)
def test_committed_notebooks_have_no_outputs(notebook):
    cells = json.loads(notebook.read_text())["cells"]
    assert all(not cell.get("outputs") and not cell.get("execution_count")
               for cell in cells if cell["cell_type"] == "code")


@pytest.mark.parametrize("notebook", sorted((REPO / "solutions").rglob("*.ipynb")), ids=lambda p: p.name)
def test_solution_notebooks_have_valid_nbgrader_metadata(notebook):
    import nbformat
    from nbgrader.nbgraderformat import MetadataValidator

    nb = nbformat.read(notebook, as_version=4)
    MetadataValidator().validate_nb(nb)  # raises on malformed nbgrader metadata
    ids = [cell.metadata.nbgrader.grade_id for cell in nb.cells if "nbgrader" in cell.metadata]
    assert len(ids) == len(set(ids)), "grade ids must be unique"
    tests = [cell for cell in nb.cells if cell.metadata.get("nbgrader", {}).get("grade")]
    assert tests and all(cell.metadata.nbgrader.locked for cell in tests), "test cells are locked"
