"""Probes: how the hidden tests exercise each graded function.

A probe is a function ``probe(nn, rng) -> result`` that draws inputs from ``rng``, calls the graded
function of the package ``nn`` (the student's nnlib or the reference), and returns what must match:
arrays, numbers, or lists/dicts of them. Run with the same seed on both packages, the two results
are compared by ``autograder.checks.compare``. One module per unit registers its probes here.
"""
from dataclasses import dataclass
from typing import Callable

PROBES = {}


@dataclass(frozen=True)
class Probe:
    name: str
    run: Callable
    rtol: float = 1e-6
    atol: float = 1e-9
    label: str = ""


def probe(name, rtol=1e-6, atol=1e-9, label=""):
    """Register the decorated function as the probe of the graded function ``name``."""
    def register(function):
        if name in PROBES:
            raise ValueError(f"two probes for {name}")
        PROBES[name] = Probe(name, function, rtol, atol, label)
        return function
    return register


def _register_all():
    """Import every ``unitNN`` module of this package: each registers its probes on import."""
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(__path__):
        if module.name.startswith("unit"):
            importlib.import_module(f"{__name__}.{module.name}")


_register_all()
