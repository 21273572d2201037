"""Every unit of the course plan with an assignment is graded end to end by a simulated class.

Each class (``grading_harness.SimulatedClass``) grades, with real nbgrader and the judge, the
reference (full marks on every test) and the untouched release (zero on every test): exactly what
``autograder check`` verifies, so ``make test`` does not run that command a second time. These
tests keep it that way as units arrive, and keep each class's table in step with the course plan
(``autograder.course``): its tests are the unit's test cells, and its mistakes and alternatives
rewrite every function the unit grades (each is judged at least once on other code than the
reference's) and no other. They read the tables, they grade nothing.
"""
import importlib
from pathlib import Path

import pytest

from autograder.build import units_with_assignments
from autograder.course import UNITS
from autograder.grading import grade_cell_ids
from grading_harness import SimulatedClass, mistakes_by_student

REPO = Path(__file__).resolve().parents[1]

TESTS = Path(__file__).resolve().parent
ASSIGNED = [unit for unit in UNITS if unit.id in units_with_assignments()]


def simulated_classes():
    """``{unit id: [SimulatedClass subclasses]}`` declared in the grading test files."""
    found = {}
    for path in sorted(TESTS.glob("test_grading_*.py")):
        for value in vars(importlib.import_module(path.stem)).values():
            if isinstance(value, type) and issubclass(value, SimulatedClass) and value is not SimulatedClass:
                found.setdefault(value.unit, []).append(value)
    return found


def rewritten_functions(simulated):
    """``nnlib.<module>.<qualname>`` of every function the class's mistakes and alternatives rewrite."""
    rewrites = [rewrite for mistakes in mistakes_by_student(simulated.mistakes).values()
                for found, _, _ in mistakes.values() for rewrite in found]
    rewrites += [rewrite for found in simulated.alternatives.values() for rewrite in found]
    return {f"nnlib.{module}.{qualname}" for module, qualname, _ in rewrites}


def test_the_course_plan_has_units_with_assignments():
    assert len(ASSIGNED) >= 9  # the test below would pass on an empty plan


@pytest.mark.parametrize("unit", ASSIGNED, ids=lambda unit: unit.id)
def test_every_unit_has_one_simulated_class_with_the_reference_and_the_untouched_release(unit):
    classes = simulated_classes().get(unit.id, [])
    assert len(classes) == 1, f"{unit.id} needs one simulated class in tests/test_grading_*.py, has {classes}"
    (simulated,) = classes
    assert {"reference", "untouched_release"} <= set(simulated.students())
    cells = grade_cell_ids(REPO / "solutions" / unit.id / f"{unit.id}.ipynb")
    assert list(simulated.tests) == [name for name, _ in cells], "the tests are not the notebook's"
    assert simulated.max_score == sum(points for _, points in cells)


@pytest.mark.parametrize("unit", ASSIGNED, ids=lambda unit: unit.id)
def test_each_simulated_class_rewrites_every_function_its_unit_grades_and_no_other(unit):
    (simulated,) = simulated_classes()[unit.id]
    rewritten, graded = rewritten_functions(simulated), set(unit.graded)
    assert rewritten <= graded, f"not graded in {unit.id}: {sorted(rewritten - graded)}"
    assert graded <= rewritten, f"no mistake or alternative for {sorted(graded - rewritten)}"
