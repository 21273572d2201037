"""Every lecture runs top to bottom on the nnlib edition released with its unit, and shows figures.

A student opening lecture k has only the edition of unit k (design: lectures use released code,
plain numpy or numerical differences, never an unreleased solution). So each lecture is executed
in a temporary course holding just ``lectures/<unit>_lecture.ipynb`` and ``exercises/<unit>/nnlib``;
a lecture imports nnlib from ``../exercises/<unit>`` (its first code cell puts it on the path). The
``_lecture`` suffix tells a lecture's tab from its exercise's (``exercises/<unit>/<unit>.ipynb``,
nbgrader's assignment and notebook id, which keeps the plain name).
"""
import json
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from autograder.course import UNIT_IDS
from autograder.editions import write_edition

REPO = Path(__file__).resolve().parents[1]
SUFFIX = "_lecture"
LECTURES = sorted(path for path in (REPO / "lectures").glob("*.ipynb") if path.stem[:2].isdigit())


def unit_of(lecture):
    unit = lecture.stem.removesuffix(SUFFIX)
    assert lecture.stem.endswith(SUFFIX) and unit in UNIT_IDS, (
        f"lecture {lecture.name} is not named <unit>{SUFFIX}.ipynb after a unit of the course plan")
    return unit


@pytest.mark.slow
@pytest.mark.parametrize("lecture", LECTURES, ids=lambda path: path.stem)
def test_lecture_runs_on_its_units_edition_and_draws_figures(lecture, tmp_path):
    unit = unit_of(lecture)
    (tmp_path / "lectures").mkdir()
    shutil.copy(lecture, tmp_path / "lectures" / lecture.name)
    write_edition(unit, tmp_path / "exercises" / unit)
    notebook = nbformat.read(tmp_path / "lectures" / lecture.name, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path / "lectures")}}).execute()
    outputs = [output for cell in notebook.cells if cell.cell_type == "code"
               for output in cell.outputs]
    errors = [output for output in outputs if output.output_type == "error"]
    assert errors == []
    figures = [output for output in outputs if "image/png" in output.get("data", {})]
    assert figures, f"{lecture.name} draws no figure"


def test_every_unit_has_a_lecture_whose_name_differs_from_its_exercise():
    assert [unit_of(lecture) for lecture in LECTURES] == list(UNIT_IDS)
    exercises = {path.name for path in (REPO / "exercises").rglob("*.ipynb")}
    assert exercises and not exercises & {lecture.name for lecture in LECTURES}


@pytest.mark.parametrize("lecture", LECTURES, ids=lambda path: path.stem)
def test_lecture_imports_nnlib_from_its_units_edition(lecture):
    unit = unit_of(lecture)
    code = "\n".join("".join(cell["source"]) for cell in json.loads(lecture.read_text())["cells"]
                     if cell["cell_type"] == "code")
    assert f"../exercises/{unit}" in code
