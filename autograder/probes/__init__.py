"""Probes: how the hidden tests exercise each graded function.

A probe is a function ``probe(nn, rng) -> result`` that draws inputs from ``rng``, calls the graded
function of the package ``nn`` (the student's nnlib or the reference), and returns what must match:
arrays, numbers, or lists/dicts of them. Run with the same seed on both packages, the two results
are compared by ``autograder.hidden_tests.compare``. One module per unit registers its probes here.

Probes run inside the judge's untrusted child, so nothing in them may be a solution a student could
call instead of writing their own (a "trusted" ``predict`` or the AND gate's weights). Where judging
needs such a thing, the probe returns raw numbers and names an ``evaluate(result, reference, rng)``
that turns them into what is compared. It runs only on the trusted side (the judge's parent, or the
hidden test), on the student's result and the reference's alike, with ``reference`` the reference
nnlib (hidden from the child) and ``rng`` a generator both calls share.
"""
import contextlib
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
    evaluate: Callable = None

    def judged(self, result, reference, seed):
        """What is compared: ``result`` itself, or what ``evaluate`` makes of it (trusted side only)."""
        if self.evaluate is None:
            return result
        import numpy as np

        return self.evaluate(result, reference, np.random.default_rng([seed, 1]))


def probe(name, rtol=1e-6, atol=1e-9, label="", evaluate=None):
    """Register the decorated function as the probe of the graded function ``name``."""
    def register(function):
        if name in PROBES:
            raise ValueError(f"two probes for {name}")
        PROBES[name] = Probe(name, function, rtol, atol, label, evaluate)
        return function
    return register


def _trouble(reported):
    """numpy's ``FloatingPointError`` message in words."""
    if "overflow" in reported:
        return "a floating-point overflow"
    if "divide by zero" in reported:
        return "a division by zero"
    if "invalid value" in reported:
        return "an invalid value (nan, from inf - inf, inf / inf or 0 / 0)"
    return "a floating-point error"


@contextlib.contextmanager
def stable(what, advice):
    """Within the block, an overflow, a division by zero or an invalid value (nan) raises.

    For the functions whose point is numerical stability (the sigmoid, the softmax, the losses):
    the student's code runs inside this block, on the same inputs as the reference, so the
    reference (which never overflows) is unaffected, and an implementation that overflows fails
    even where its values come out right (``1 / (1 + exp(1000))`` is 0, after a warning). The
    error says which of the three happened during ``what`` and gives ``advice``. Underflow (a tiny
    number rounded to 0) is harmless and allowed.
    """
    import numpy as np

    try:
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            yield
    except FloatingPointError as error:
        reported = str(error)
        raise FloatingPointError(f"{what} ran into {_trouble(reported)} (numpy: {reported}). Even "
                                 f"where the values come out right, this must not happen: {advice}"
                                 ) from None


def _register_all():
    """Import every ``unitNN`` module of this package: each registers its probes on import."""
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(__path__):
        if module.name.startswith("unit"):
            importlib.import_module(f"{__name__}.{module.name}")


_register_all()
