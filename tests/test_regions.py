"""The solution-region convention of nnlib (design §3): the contract between nnlib and the autograder."""
import importlib
import sys
import textwrap
from pathlib import Path

import pytest

from autograder.course import UNIT_IDS, UNITS, get_unit
from autograder.regions import (RegionError, find_regions, regions_of_package, stub_message,
                                stub_source)

REPO = Path(__file__).resolve().parents[1]
NNLIB = REPO / "nnlib"


def graded_names():
    return {name: unit.id for unit in UNITS for name in unit.graded}


def test_every_region_names_a_unit_of_the_course_plan():
    for name, region in regions_of_package(NNLIB).items():
        assert region.unit in UNIT_IDS, f"{name}: region names unknown unit {region.unit!r}"


def test_regions_and_graded_functions_match_one_to_one():
    regions = regions_of_package(NNLIB)  # raises on nesting or on two regions in one function
    graded = graded_names()
    assert sorted(set(graded) - set(regions)) == [], "graded functions without a solution region"
    assert sorted(set(regions) - set(graded)) == [], "regions in functions the course plan does not grade"
    wrong_unit = {name: (regions[name].unit, unit) for name, unit in graded.items()
                  if regions[name].unit != unit}
    assert wrong_unit == {}, "region unit differs from the course plan (found, planned)"


def test_graded_names_are_unique_across_units():
    names = [name for unit in UNITS for name in unit.graded]
    assert len(names) == len(set(names))


def test_fully_stubbed_copy_imports_and_every_graded_function_is_a_stub(tmp_path):
    stubbed = tmp_path / "nnlib"
    for path in NNLIB.rglob("*.py"):
        target = stubbed / path.relative_to(NNLIB)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(stub_source(path.read_text(), set(UNIT_IDS), str(path)))
    regions = regions_of_package(stubbed)
    for name, unit in graded_names().items():
        path = Path(regions[name].path)
        assert stub_message(regions[name].qualname, unit) in path.read_text(), name

    saved = {name: module for name, module in sys.modules.items()
             if name == "nnlib" or name.startswith("nnlib.")}
    for name in saved:
        del sys.modules[name]
    sys.path.insert(0, str(tmp_path))
    try:
        assert Path(importlib.import_module("nnlib").__file__).parent == stubbed
        for path in sorted(stubbed.rglob("*.py")):
            module = ".".join(path.relative_to(tmp_path).with_suffix("").parts)
            importlib.import_module(module.removesuffix(".__init__"))
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n == "nnlib" or n.startswith("nnlib.")]:
            del sys.modules[name]
        sys.modules.update(saved)


def test_stub_raises_not_implemented_naming_function_and_exercise():
    source = textwrap.dedent('''
        class Linear:
            def forward(self, x):
                """Docstring stays."""
                # BEGIN SOLUTION 03_forward_pass
                return x @ self.W
                # END SOLUTION
    ''')
    stubbed = stub_source(source, {"03_forward_pass"})
    assert "return x @ self.W" not in stubbed
    assert "Docstring stays." in stubbed
    namespace = {}
    exec(stubbed, namespace)
    with pytest.raises(NotImplementedError, match=r"Linear\.forward: implement this in exercise 03_forward_pass"):
        namespace["Linear"]().forward(1)
    assert stub_source(source, {"05_backprop"}) == source, "other units' regions keep their code"


@pytest.mark.parametrize("body, message", [
    ("    # BEGIN SOLUTION 03_forward_pass\n    # BEGIN SOLUTION 03_forward_pass\n"
     "    pass\n    # END SOLUTION\n    # END SOLUTION\n", "never nest"),
    ("    # BEGIN SOLUTION\n    pass\n    # END SOLUTION\n", "must name one unit"),
    ("    # BEGIN SOLUTION 03_forward_pass\n    pass\n", "never closed"),
    ("    pass\n    # END SOLUTION\n", "without a BEGIN"),
    ("    # BEGIN  SOLUTION 03_forward_pass\n    pass\n    # END SOLUTION\n", "malformed"),
])
def test_malformed_regions_are_refused(body, message):
    with pytest.raises(RegionError, match=message):
        find_regions("def f():\n" + body)


def test_region_outside_a_function_is_refused():
    with pytest.raises(RegionError, match="outside any function"):
        find_regions("# BEGIN SOLUTION 03_forward_pass\nx = 1\n# END SOLUTION\n")


def test_get_unit_names_the_valid_units():
    assert get_unit("05_backprop").title
    with pytest.raises(ValueError, match="01_linear_limits"):
        get_unit("5_backprop")
