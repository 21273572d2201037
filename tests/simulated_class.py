"""Build a simulated class: submissions made by editing the reference, one scenario each.

A scenario starts from the release of a unit (its notebook and nnlib edition), fills nnlib with the
reference or keeps the stubs, then rewrites single solution regions (a plausible mistake, or a
correct alternative) and/or the notebook (deleted tests, a ``sys.exit`` cell, a corrupt file).
"""
import json
import shutil
import textwrap
from pathlib import Path

from autograder.selfcheck import make_reference_submission
from autograder.regions import find_regions

REFERENCE_DIR = Path(__file__).resolve().parents[1] / "nnlib"  # this repository's reference


def rewrite_region(nnlib_dir, module, qualname, body):
    """Replace the code of the solution region of ``module.qualname`` with ``body``."""
    path = Path(nnlib_dir) / f"{module}.py"
    source = path.read_text()
    matches = [region for region in find_regions(source, str(path)) if region.qualname == qualname]
    assert len(matches) == 1, f"no single region for {module}.{qualname}"
    region = matches[0]
    lines = source.splitlines(keepends=True)
    new_body = textwrap.indent(textwrap.dedent(body).strip("\n") + "\n", region.indent)
    lines[region.begin:region.end - 1] = [new_body]
    path.write_text("".join(lines))


def edit_notebook(folder, unit, change):
    """Load ``<unit>.ipynb`` in ``folder``, let ``change(notebook_dict)`` edit it, save it."""
    path = Path(folder) / f"{unit}.ipynb"
    notebook = json.loads(path.read_text())
    change(notebook)
    path.write_text(json.dumps(notebook, indent=1))


def is_test_cell(cell):
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("grade"))


def code_cell(source):
    import uuid

    return {"cell_type": "code", "execution_count": None, "id": uuid.uuid4().hex[:8],
            "metadata": {}, "outputs": [], "source": source}


def make_submission(release, destination, reference=True, regions=(), notebook=None):
    """One student's folder: the release with the reference nnlib (or the stubs), then edits.

    ``regions`` is a list of ``(module, qualname, body)``; ``notebook`` a function editing the
    notebook's JSON.
    """
    destination = Path(destination)
    if reference:
        make_reference_submission(release, destination, REFERENCE_DIR)
    else:
        shutil.copytree(release, destination)
    for module, qualname, body in regions:
        rewrite_region(destination / "nnlib", module, qualname, body)
    if notebook is not None:
        edit_notebook(destination, release.name, notebook)
    return destination


def file_hashes(folder):
    """``{relative path: sha256}`` of every file below ``folder``: equal before and after grading
    when grading changed nothing there."""
    import hashlib

    return {path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(Path(folder).rglob("*")) if path.is_file()}


def grade_class(unit, scratch, students, cell_timeout=10, jobs=2):
    """Release ``unit`` into ``scratch``, build each student with ``students[name](release, folder)``
    (returning nothing; it writes the submission into ``folder``), grade them all with real nbgrader,
    ``jobs`` submissions at a time (``--jobs 1`` gives the same grades: test_parallel_grading.py).

    Returns ``{"report", "students" (by id), "submissions", "before" (file hashes), "work"}``.
    """
    from autograder.build import build_unit
    from autograder.grading import grade

    scratch = Path(scratch)
    release = build_unit(unit, scratch / "release", work_dir=scratch / "build")
    submissions = scratch / "submissions"
    for name, build in students.items():
        build(release, submissions / name / unit)

    before = file_hashes(submissions)
    report = grade(unit, submissions=submissions, work_dir=scratch / "work", progress=False,
                   cell_timeout=cell_timeout, jobs=jobs)
    return {"report": report, "students": {s.student_id: s for s in report.students},
            "submissions": submissions, "before": before, "after": file_hashes(submissions), "work": scratch / "work"}
