"""Probes run inside the judge's untrusted child, so nothing in them may be a solution.

A probe module is imported before the student's code, so a student could call anything it defines
(or anything its functions hand out) instead of writing a graded function. For every graded
function and every callable of its unit's probe module, this test puts the callable in the
function's place in a copy of the reference nnlib and grades that copy: none may pass.
"""
import importlib.util
import inspect
import sys
from pathlib import Path

import numpy as np
import pytest

from autograder.hidden_tests import GradingError, compare
from autograder.probes import PROBES
from autograder.reference import reference_nnlib

REPO = Path(__file__).resolve().parents[1]
REFERENCE_DIR = REPO / "nnlib"

COPY_NAME = "_stand_in_cheat_nnlib"


def _fresh_copy():
    """A private copy of the reference nnlib whose functions the test may replace."""
    for key in [key for key in sys.modules if key == COPY_NAME or key.startswith(COPY_NAME + ".")]:
        del sys.modules[key]
    spec = importlib.util.spec_from_file_location(
        COPY_NAME, REFERENCE_DIR / "__init__.py", submodule_search_locations=[str(REFERENCE_DIR)])
    package = importlib.util.module_from_spec(spec)
    sys.modules[COPY_NAME] = package
    spec.loader.exec_module(package)
    return package


def _callables(module):
    """Everything callable a module defines, and the callables its argument-free functions return."""
    found = {}
    for name, value in vars(module).items():
        if not callable(value) or getattr(value, "__module__", None) != module.__name__:
            continue
        found[name] = value
        try:
            takes_nothing = not any(parameter.default is inspect.Parameter.empty
                                    for parameter in inspect.signature(value).parameters.values())
        except (TypeError, ValueError):
            takes_nothing = False
        if takes_nothing and not isinstance(value, type):
            made = value()
            items = made.items() if isinstance(made, dict) else enumerate(made or ()) \
                if isinstance(made, (list, tuple)) else ()
            found.update({f"{name}()[{key!r}]": item for key, item in items if callable(item)})
    return found


def _passes(name, package, seed=1234):
    """True if the probe of ``name`` finds ``package`` right (as the judge would decide)."""
    probe = PROBES[name]
    reference = reference_nnlib()
    expected = probe.judged(probe.run(reference, np.random.default_rng(seed)), reference, seed)
    try:
        got = probe.judged(probe.run(package, np.random.default_rng(seed)), reference, seed)
        compare(name, got, expected, rtol=probe.rtol, atol=probe.atol)
    except (GradingError, Exception):
        return False
    return True


def _owner_and_attribute(package, name):
    parts = name.split(".")[1:]  # drop "nnlib"
    owner = getattr(package, parts[0])
    for part in parts[1:-1]:
        owner = getattr(owner, part)
    return owner, parts[-1]


def _units():
    return sorted({probe.run.__module__ for probe in PROBES.values()})


@pytest.mark.parametrize("module_name", _units())
def test_no_probe_helper_stands_in_for_a_graded_function(module_name):
    module = sys.modules[module_name]
    names = [name for name, probe in PROBES.items() if probe.run.__module__ == module_name]
    helpers = _callables(module)
    assert helpers, module_name
    solutions = []
    for name in names:
        package = _fresh_copy()
        owner, attribute = _owner_and_attribute(package, name)
        assert _passes(name, package), f"the reference fails its own probe {name}"
        is_method = isinstance(owner, type)
        for helper_name, helper in helpers.items():
            variants = {"with self": lambda *a, helper=helper, **k: helper(*a, **k)}
            if is_method:
                variants["without self"] = lambda self, *a, helper=helper, **k: helper(*a, **k)
            for variant, stand_in in variants.items():
                setattr(owner, attribute, stand_in)
                if _passes(name, package):
                    solutions.append(f"{helper_name} ({variant}) passes as {name}")
        package = None
    assert not solutions, solutions


def test_the_test_can_fail():
    """A probe module offering a copy of a solution is caught (the check above is not vacuous)."""
    package = _fresh_copy()
    solution = reference_nnlib().perceptron.Perceptron.predict
    owner, attribute = _owner_and_attribute(package, "nnlib.perceptron.Perceptron.predict")
    setattr(owner, attribute, lambda *a, **k: solution(*a, **k))
    assert _passes("nnlib.perceptron.Perceptron.predict", package)


def _recursive_backward(self):
    """micrograd's walk: recursive, as unit 05 lets students write it (fine on small graphs)."""
    order, visited = [], set()

    def build(node):
        if node not in visited:
            visited.add(node)
            for child in node._prev:
                build(child)
            order.append(node)
    build(self)
    self.grad = 1.0
    for node in reversed(order):
        node._backward()


def _inputs_first_backward(self):
    """A wrong walk: the same nodes, but each closure runs before those of the nodes using it."""
    order, visited = [], set()

    def build(node):
        if node not in visited:
            visited.add(node)
            for child in node._prev:
                build(child)
            order.append(node)
    build(self)
    self.grad = 1.0
    for node in order:
        node._backward()


def test_the_value_backward_probe_accepts_a_recursive_walk_and_refuses_a_wrong_order():
    # The reference walks with its own stack; a student's recursive walk is as right on the probe's
    # small graphs.
    for walk, accepted in [(_recursive_backward, True), (_inputs_first_backward, False)]:
        package = _fresh_copy()
        package.autodiff.Value.backward = walk
        for seed in range(20):
            assert _passes("nnlib.autodiff.Value.backward", package, seed) is accepted, (walk, seed)
