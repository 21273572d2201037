"""Every unit with an assignment is graded end to end by a simulated class in this suite.

Each class grades, with real nbgrader and the judge, the reference (full marks on every test) and
the untouched release (zero on every test): exactly what ``autograder check`` verifies, so
``make test`` does not run that command a second time. This test keeps it that way as units arrive.
"""
from pathlib import Path

import pytest

from autograder.build import units_with_assignments

TESTS = Path(__file__).resolve().parent
# Unit 04, the pilot, has the largest class (tampering and crashes too) in test_grading_class.py.
CLASS_FILES = {"04_single_layer_gradients": "test_grading_class.py"}


@pytest.mark.parametrize("unit", units_with_assignments())
def test_every_unit_has_a_simulated_class_with_the_reference_and_the_untouched_release(unit):
    name = CLASS_FILES.get(unit, f"test_grading_unit{unit[:2]}.py")
    source = (TESTS / name).read_text()
    assert f'"{unit}"' in source, f"{name} does not grade {unit}"
    for student in ('"reference"', '"untouched_release"'):
        assert student in source, f"{name} does not grade the {student} submission of {unit}"
    assert "full_marks" in source or "max_score" in source
