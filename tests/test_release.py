"""The student copy (`autograder release --student-copy DIR --through 05`): what students receive
without a hub holds the lectures and editions up to the unit, a README and an environment, and
nothing of the reference.

Choices that keep this file's time small (about 25 s, most of it in the two slow tests):
- The copy's lectures are byte-identical to the repository's lectures and its editions to
  ``write_edition``, which ``test_lectures.py`` executes lecture by lecture (10 s each); here one
  lecture is executed in the copy's own layout, which is what the identity cannot show.
- "Its own two commands work in a fresh folder": a real ``make setup`` in the copy (venv creation,
  ``pip install -e .`` of the copy, nbgrader's instructor extensions switched off), with the venv
  (made here, without its own pip) seeing the project's installed packages, pip included, through a
  ``.pth`` file and pip told
  ``--no-deps`` (downloading JupyterLab for every test run would take minutes
  and need the network); ``make lab`` is checked as a dry run (``make -n``: it would start a
  server), and so is ``make validate`` (nbgrader's own command, 10 s a notebook); ``make
  submission`` runs for real.
"""
import ast
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from autograder.cli import main as cli_main
from autograder.course import UNIT_IDS, get_unit
from autograder.editions import edition_sources
from autograder.release import (LeakError, leaks, lecture_units, solution_bodies,
                                write_student_copy)

REPO = Path(__file__).resolve().parents[1]
THROUGH = "05_backprop"
LATER = UNIT_IDS[UNIT_IDS.index(THROUGH):]
RELEASED = UNIT_IDS[:UNIT_IDS.index(THROUGH) + 1]


@pytest.fixture(scope="module")
def copy(tmp_path_factory):
    destination = tmp_path_factory.mktemp("release") / "course"
    assert cli_main(["release", "--student-copy", str(destination), "--through", "05"]) == 0
    return destination


def files_of(folder):
    return sorted(path for path in folder.rglob("*") if path.is_file())


def code_lines(text):
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def texts_of(path):
    if path.suffix == ".ipynb":
        return ["".join(cell["source"]) for cell in json.loads(path.read_text())["cells"]]
    return [path.read_text()]


def holds_body(text, body):
    lines, wanted = code_lines(text), code_lines(body)
    return any(lines[i:i + len(wanted)] == wanted for i in range(len(lines) - len(wanted) + 1))


def test_no_solution_of_the_unit_or_later_in_any_file(copy):
    bodies = solution_bodies(set(LATER))
    assert set(bodies) == {name for unit in LATER for name in get_unit(unit).graded}
    found = [(path.relative_to(copy).as_posix(), name) for path in files_of(copy)
             for text in texts_of(path) for name, body in bodies.items() if holds_body(text, body)]
    assert found == []
    assert not [path for path in files_of(copy) if "HIDDEN TESTS" in path.read_text()]


def test_no_copy_through_any_unit_holds_a_later_solution(copy, tmp_path):
    # Cheaper than a copy per unit: what every copy shares (the tools, the widgets, the README) holds
    # no solution of any unit, and lecture and notebook k none of unit k or later (an edition is
    # stubbed from k by construction). A docstring quoting a unit 03 solution in regions.py was
    # caught this way.
    shared = tmp_path / "shared"
    for name in ("student_tools", "nncourse", "README.md", "Makefile", "pyproject.toml"):
        source = copy / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, shared / name)
    assert leaks(shared, UNIT_IDS) == []
    for lecture, unit in lecture_units().items():
        (tmp_path / unit).mkdir()
        shutil.copy(lecture, tmp_path / unit)
        shutil.copy(REPO / "exercises" / unit / f"{unit}.ipynb", tmp_path / unit)
        assert leaks(tmp_path / unit, UNIT_IDS[UNIT_IDS.index(unit):]) == []


def test_a_leaked_solution_is_found_and_the_release_refuses(copy, tmp_path, monkeypatch):
    # The search above can fail: a copy holding one body of unit 05 is caught by it and by the
    # release's own guard, which then writes nothing.
    leaked = tmp_path / "leaked"
    shutil.copytree(copy, leaked)
    body = solution_bodies({THROUGH})["nnlib.layers.Linear.backward"]
    notes = leaked / "lectures" / "notes.py"
    notes.write_text("def f(self, grad_out):\n" + body)
    assert holds_body(notes.read_text(), body)
    assert ("lectures/notes.py", "the solution of nnlib.layers.Linear.backward") in leaks(leaked, LATER)

    import autograder.release as release
    real = release.write_edition
    monkeypatch.setattr(release, "write_edition",
                        lambda unit, folder, reference: real("06_softmax" if unit == THROUGH else unit,
                                                             folder, reference))
    with pytest.raises(LeakError, match="Linear.backward"):
        write_student_copy(tmp_path / "refused", "05")
    assert not (tmp_path / "refused").exists()


def test_nothing_of_the_instructors_side(copy):
    top = sorted(path.name for path in copy.iterdir())
    assert top == [".course", ".gitignore", "Makefile", "README.md", "environment.yml", "exercises",
                   "lectures", "nncourse", "pyproject.toml", "student_tools"]
    relative = [path.relative_to(copy) for path in files_of(copy)]
    # nnlib only as each exercise's edition; no solutions/, no autograder, no grading config.
    assert all(path.parts[0] == "exercises" and path.parts[2] == "nnlib"
               for path in relative if "nnlib" in path.parts)
    assert not [path for path in relative if {"solutions", "autograder", "tests"} & set(path.parts)
                or path.name in ("nbgrader_config.py", "reference.py", "hidden_tests.py")]
    assert sorted(path.name for path in (copy / "exercises").iterdir()) == list(RELEASED)
    # The copy's own tools import the standard library and each other only: no reference in reach.
    for path in (copy / "student_tools").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                assert node.module.split(".")[0] in sys.stdlib_module_names, (path.name, node.module)
            elif isinstance(node, ast.Import):
                assert all(alias.name.split(".")[0] in sys.stdlib_module_names for alias in node.names)
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    found = subprocess.run([sys.executable, "-c", "import nnlib"], cwd=copy, env=env,
                           capture_output=True, text=True)
    assert "No module named 'nnlib'" in found.stderr
    pyproject = tomllib.loads((copy / "pyproject.toml").read_text())
    assert pyproject["tool"]["setuptools"]["packages"] == ["nncourse", "nncourse.widgets",
                                                           "student_tools"]
    assert "project.scripts" not in pyproject and "scripts" not in pyproject["project"]
    names = [spec.split(">")[0].split("<")[0] for spec in pyproject["project"]["dependencies"]]
    assert "nbgrader" in names and not {"pytest", "pytest-xdist", "playwright"} & set(names)


def test_editions_and_lectures_are_the_released_ones(copy):
    for unit in RELEASED:
        edition = {path.relative_to(copy / "exercises" / unit).as_posix(): path.read_text()
                   for path in (copy / "exercises" / unit / "nnlib").rglob("*.py")}
        assert edition == edition_sources(unit)
        assert ((copy / "exercises" / unit / f"{unit}.ipynb").read_bytes()
                == (REPO / "exercises" / unit / f"{unit}.ipynb").read_bytes())
    lectures = {path.name: unit for path, unit in lecture_units().items() if unit in RELEASED}
    assert sorted(lectures.values()) == list(RELEASED)  # one lecture per released unit
    assert sorted(path.name for path in (copy / "lectures").iterdir()) == sorted(lectures)
    for name in lectures:
        assert (copy / "lectures" / name).read_bytes() == (REPO / "lectures" / name).read_bytes()
    readme = (copy / "README.md").read_text()
    for words in ("make setup", "make lab", "make validate UNIT=05", "nbgrader validate",
                  "make submission UNIT=05", "make carry-forward UNIT=05"):
        assert words in readme


@pytest.mark.slow
def test_a_lecture_runs_in_the_copy_on_its_edition(copy):
    lecture = copy / "lectures" / next(path.name for path, unit in lecture_units().items()
                                       if unit == THROUGH)
    notebook = nbformat.read(lecture, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(lecture.parent)}}).execute()
    errors = [output for cell in notebook.cells if cell.cell_type == "code"
              for output in cell.outputs if output.output_type == "error"]
    assert errors == []


@pytest.mark.slow
def test_the_copys_own_commands_work_in_a_fresh_folder(copy, tmp_path):
    fresh = tmp_path / "fresh"
    shutil.copytree(copy, fresh)
    base_python = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base_python, "-m", "venv", "--without-pip", str(fresh / ".venv")], check=True)
    site = subprocess.run([str(fresh / ".venv" / "bin" / "python"), "-c",
                           "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "course-packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # ... and the server extensions nbgrader's installation enables (its data files, in the prefix).
    enabled = Path(sys.prefix, "etc", "jupyter", "jupyter_server_config.d", "nbgrader.json")
    (fresh / ".venv" / "etc" / "jupyter" / "jupyter_server_config.d").mkdir(parents=True)
    shutil.copy(enabled, fresh / ".venv" / "etc" / "jupyter" / "jupyter_server_config.d")
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONPATH", "VIRTUAL_ENV", "JUPYTER_CONFIG_DIR", "JUPYTER_PATH")}
    env["PATH"] = os.pathsep.join(part for part in env["PATH"].split(os.pathsep)
                                  if not part.startswith(str(REPO)))
    setup = subprocess.run(["make", "setup", "PIP_FLAGS=--no-deps"], cwd=fresh,
                           env=env, capture_output=True, text=True, timeout=300)
    assert setup.returncode == 0, setup.stdout + setup.stderr
    assert not list(fresh.glob("*.egg-info")) and not (fresh / "build").exists()
    assert sorted(path.name for path in fresh.iterdir()) == sorted(
        [path.name for path in copy.iterdir()] + [".venv"])
    # nbgrader's instructor tools are off in the copy's environment; the student's are not.
    etc = fresh / ".venv" / "etc" / "jupyter"
    lab = json.loads((etc / "labconfig" / "page_config.json").read_text())["disabledExtensions"]
    assert {name for name, off in lab.items() if off} == {
        "@jupyter/nbgrader:create-assignment", "@jupyter/nbgrader:formgrader",
        "@jupyter/nbgrader:course-list"}
    server = {}
    for path in sorted((etc / "jupyter_server_config.d").glob("*.json")):  # in Jupyter's order
        server.update(json.loads(path.read_text())["ServerApp"]["jpserver_extensions"])
    assert server == {"nbgrader.server_extensions.formgrader": False,
                      "nbgrader.server_extensions.course_list": False,
                      "nbgrader.server_extensions.assignment_list": True,
                      "nbgrader.server_extensions.validate_assignment": True}
    dry = subprocess.run(["make", "-n", "lab"], cwd=fresh, env=env, capture_output=True, text=True)
    assert dry.returncode == 0 and ".venv/bin/python -m jupyterlab" in dry.stdout
    dry = subprocess.run(["make", "-n", "validate", "UNIT=05"], cwd=fresh, env=env,
                         capture_output=True, text=True)
    assert "-m nbgrader validate exercises/05*/05*.ipynb" in dry.stdout
    assert list(fresh.glob("exercises/05*/05*.ipynb")) == [fresh / "exercises" / THROUGH /
                                                          f"{THROUGH}.ipynb"]
    submission = subprocess.run(["make", "submission", "UNIT=02"], cwd=fresh, env=env,
                                capture_output=True, text=True)
    assert submission.returncode == 0, submission.stderr
    assert (fresh / "02_xor-submission.zip").is_file()
