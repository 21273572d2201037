"""The trusted hidden-test helpers: probes cover every graded function, comparisons explain."""
import json
import re
from pathlib import Path

import numpy as np
import pytest

from autograder.build import units_with_assignments
from autograder.hidden_tests import GradingError, compare, grade, student_nnlib
from autograder.course import get_unit
from autograder.probes import PROBES
from autograder.reference import reference_nnlib

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("unit", units_with_assignments(REPO))
def test_every_graded_function_of_a_released_unit_has_a_probe_and_a_hidden_test(unit):
    notebook = json.loads((REPO / "solutions" / unit / f"{unit}.ipynb").read_text())
    called = set()
    for cell in notebook["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
            source = "".join(cell["source"])
            hidden = re.search(r"### BEGIN HIDDEN TESTS(.*?)### END HIDDEN TESTS", source, re.S)
            assert hidden, f"test cell {cell['metadata']['nbgrader']['grade_id']} has no hidden tests"
            called |= set(re.findall(r'grade\("([^"]+)"\)', hidden.group(1)))
    graded = set(get_unit(unit).graded)
    assert graded <= set(PROBES), "graded functions without a probe"
    assert called == graded


@pytest.mark.parametrize("unit", units_with_assignments(REPO))
def test_hidden_tests_import_grade_from_hidden_tests(unit):
    source = (REPO / "solutions" / unit / f"{unit}.ipynb").read_text()
    assert "from autograder.hidden_tests import grade" in source
    assert "autograder.checks" not in source


def test_the_former_module_name_still_serves_stored_hidden_tests():
    # nbgrader runs the test cells a gradebook stored; those of older releases import from here.
    from autograder import checks, hidden_tests
    assert checks.grade is hidden_tests.grade
    assert checks.GradingError is hidden_tests.GradingError and checks.compare is hidden_tests.compare


@pytest.mark.parametrize("name", sorted(PROBES))
def test_probes_are_deterministic_given_the_seed(name):
    probe, reference = PROBES[name], reference_nnlib()
    first = probe.run(reference, np.random.default_rng(7))
    compare(name, probe.run(reference, np.random.default_rng(7)), first)


def test_grade_refuses_an_nnlib_loaded_from_elsewhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no nnlib/ here: the repository's must not count as the student's
    with pytest.raises(GradingError, match="nnlib/ is missing from your submission"):
        grade("nnlib.functional.sigmoid_derivative")
    (tmp_path / "nnlib").mkdir()
    (tmp_path / "nnlib" / "__init__.py").write_text("")
    with pytest.raises(GradingError, match="not from your submission's nnlib/ folder"):
        student_nnlib(tmp_path)  # nnlib is already imported from the repository in this process


@pytest.mark.parametrize("got, message", [
    (np.ones((3, 2)), r"expected shape \(2, 3\), got \(3, 2\) \(transposed\?\)"),
    (np.ones((2, 3), dtype=np.float32), "expected dtype float64"),
    ([[1.0] * 3] * 2, "expected a numpy array, got a list"),
    (np.ones((2, 3)).view(np.matrix), "expected a numpy array, got a matrix"),
    (4 * np.arange(6.0).reshape(2, 3), "4 times too large"),
    (np.full((2, 3), np.nan), "inf or nan"),
])
def test_compare_explains_array_mismatches(got, message):
    with pytest.raises(GradingError, match=message):
        compare("dW", got, np.arange(6.0).reshape(2, 3))


def test_compare_numbers_lists_and_dicts():
    compare("x", 1.0 + 1e-9, 1.0)
    with pytest.raises(GradingError, match=r"db: expected 2, got 0.5 \(4 times too small"):
        compare("db", 0.5, 2.0)
    with pytest.raises(GradingError, match=r"losses\[1\]: expected 2"):
        compare("losses", [1.0, 3.0], [1.0, 2.0])
    with pytest.raises(GradingError, match="expected a list of 2 items"):
        compare("losses", [1.0], [1.0, 2.0])
    with pytest.raises(GradingError, match=r"\['restored'\]: expected True"):
        compare("f", {"restored": False}, {"restored": True})
    with pytest.raises(GradingError, match="expected a number"):
        compare("loss", "0.5", 0.5)


def test_a_nan_or_inf_number_is_reported_not_a_crash():
    for bad in (float("nan"), float("inf")):
        with pytest.raises(GradingError, match="not a finite number"):
            compare("loss", bad, 0.5)
