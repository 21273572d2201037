"""Trusted helpers that hidden tests call: ``from autograder.hidden_tests import grade``.

A hidden test cell holds one line, ``grade("nnlib.losses.MSELoss.backward")``. In the grading
kernel it makes sure ``nnlib`` is the student's copy, next to the notebook (never an installed or
reference one: a missing copy fails with "nnlib/ is missing from your submission"). The verdict
itself is the judge's (``autograder.judge``), on the trusted side: it runs the function's probe
(``autograder.probes``) on the submitted nnlib in a sandboxed child and on the reference with the
same fresh random inputs, and ``compare`` checks type, shape, dtype and values, with a message a
student can act on ("dw has the right shape but is 4 times too large: ...").
"""
import importlib
import os
import sys
from pathlib import Path

import numpy as np

from .probes import PROBES
from .reference import reference_nnlib


class GradingError(AssertionError):
    """A hidden test failed; the message is meant for the student."""


def student_nnlib(folder=None):
    """The student's ``nnlib`` package, which must be loaded from ``folder/nnlib`` (default: cwd)."""
    folder = Path(folder or os.getcwd()).resolve()
    expected = folder / "nnlib"
    if not (expected / "__init__.py").is_file():
        raise GradingError(f"nnlib/ is missing from your submission: the folder {expected.name}/ with "
                           "your nnlib/*.py files must sit next to this notebook. Nothing can be "
                           "graded without it.")
    try:
        package = importlib.import_module("nnlib")
    except Exception as error:
        raise GradingError(f"your nnlib package does not import: {type(error).__name__}: {error}"
                           ) from None
    for name, module in list(sys.modules.items()):
        if name != "nnlib" and not name.startswith("nnlib."):
            continue
        origin = getattr(module, "__file__", None)
        if origin is None or expected not in Path(origin).resolve().parents:
            raise GradingError(f"{name} was loaded from {origin}, not from your submission's "
                               "nnlib/ folder: restore your nnlib/ next to this notebook and restart "
                               "the kernel.")
    return package


def _describe(value):
    if hasattr(value, "judge_description"):  # what the judge's child sent instead of a number
        return value.judge_description
    if isinstance(value, np.ndarray) and type(value) is not np.ndarray:
        return f"a {type(value).__name__} (a subclass of numpy's ndarray)"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"a {type(value).__name__}"


def compare(label, got, expected, rtol=1e-6, atol=1e-9):
    """Raise ``GradingError`` naming ``label`` unless ``got`` matches the reference ``expected``."""
    if isinstance(expected, dict):
        for key, value in expected.items():
            compare(f"{label}[{key!r}]" if label else key, got[key], value, rtol, atol)
        return
    if isinstance(expected, (list, tuple)):
        if not isinstance(got, (list, tuple)) or len(got) != len(expected):
            length = len(got) if isinstance(got, (list, tuple)) else "-"
            raise GradingError(f"{label}: expected a {type(expected).__name__} of {len(expected)} "
                               f"items, got {_describe(got)} (length {length})")
        for index, (got_item, expected_item) in enumerate(zip(got, expected)):
            compare(f"{label}[{index}]", got_item, expected_item, rtol, atol)
        return
    if isinstance(expected, np.ndarray):
        _compare_arrays(label, got, expected, rtol, atol)
        return
    if isinstance(expected, (bool, np.bool_)):
        if not isinstance(got, (bool, np.bool_)) or bool(got) != bool(expected):
            raise GradingError(f"{label}: expected {bool(expected)}, got {got!r}")
        return
    if isinstance(expected, (int, float, np.integer, np.floating)):
        if isinstance(got, np.ndarray) and got.shape == ():
            got = got[()]
        if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, float, np.integer, np.floating)):
            raise GradingError(f"{label}: expected a number, got {_describe(got)}")
        if not abs(float(got) - float(expected)) <= atol + rtol * abs(float(expected)):
            raise GradingError(f"{label}: expected {float(expected):.10g}, got {float(got):.10g}"
                               + _ratio_hint(float(got), float(expected)))
        return
    if got != expected:
        raise GradingError(f"{label}: expected {expected!r}, got {got!r}")


def _ratio_hint(got, expected):
    if not (np.isfinite(got) and np.isfinite(expected)):
        return " (not a finite number: look for an overflow or a division by zero)"
    if expected != 0 and got != 0:
        ratio = got / expected
        if abs(ratio + 1) < 1e-6:
            return " (the sign is flipped)"
        if abs(ratio - round(ratio)) < 1e-6 and round(ratio) > 1:
            return f" ({round(ratio)} times too large: a sum where a mean is needed?)"
        if abs(1 / ratio - round(1 / ratio)) < 1e-6 and round(1 / ratio) > 1:
            return f" ({round(1 / ratio)} times too small: a mean where a sum is needed?)"
    return ""


def _compare_arrays(label, got, expected, rtol, atol):
    if type(got) is not np.ndarray:
        raise GradingError(f"{label}: expected a numpy array, got {_describe(got)}")
    if got.shape != expected.shape:
        hint = " (transposed?)" if got.shape == expected.shape[::-1] and got.ndim == 2 else ""
        raise GradingError(f"{label}: expected shape {expected.shape}, got {got.shape}{hint}")
    if got.dtype != expected.dtype:
        raise GradingError(f"{label}: expected dtype {expected.dtype}, got {got.dtype}")
    if expected.dtype.kind in "biu":
        if not np.array_equal(got, expected):
            wrong = int(np.sum(got != expected))
            raise GradingError(f"{label}: {wrong} of {got.size} entries differ from the right answer")
        return
    finite = np.isfinite(expected)
    if not np.array_equal(np.isfinite(got), finite):
        raise GradingError(f"{label}: contains inf or nan where the right answer is finite: look for "
                           "an overflow (exp of a large number) or a division by zero")
    scale = float(np.max(np.abs(expected[finite]))) if finite.any() else 0.0
    close = np.abs(got[finite] - expected[finite]) <= atol * max(scale, 1.0) + rtol * np.abs(expected[finite])
    if not np.all(close):
        hint = reference_nnlib().gradcheck.diagnose(got, expected, tol=rtol,
                                                    otherwise="differs from the right answer")
        wrong = int(np.sum(~close))
        detail = f"{label} {hint}" if hint else f"{label} differs from the right answer"
        raise GradingError(f"{detail} ({wrong} of {got.size} entries off; largest error "
                           f"{float(np.max(np.abs(got[finite] - expected[finite]))):.3g})")


def grade(name):
    """Hidden test of the graded function ``name``, as it runs in the grading kernel.

    It only makes sure the ``nnlib`` being graded is the student's copy next to the notebook, with a
    message the student can act on. Whether the function is right is the judge's to say
    (``autograder.judge``, run by the ``JudgeVerdicts`` stage): the kernel runs in a sandbox where
    the reference does not exist, and nothing it does can change the verdict.
    """
    if name not in PROBES:
        raise KeyError(f"no probe for {name}")
    student_nnlib()
