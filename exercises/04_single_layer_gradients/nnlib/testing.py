# Student copy of nnlib for exercise 04_single_layer_gradients; the reference is nnlib/ in the course repository.
"""Friendly checks for the visible tests in the exercise notebooks.

They print a tick when a check passes and raise ``AssertionError`` with what was expected, what
came back and a hint when it does not. (Grading uses its own trusted checks, not these.)
"""
import numpy as np

from .gradcheck import diagnose


def _show(value):
    text = np.array2string(np.asarray(value), precision=6, threshold=12)
    return text if "\n" not in text else "\n    " + text.replace("\n", "\n    ")


def check_close(name, actual, expected, rtol=1e-7, atol=1e-12):
    """Check that ``actual`` equals ``expected`` up to rounding; print a tick or raise with a hint."""
    if actual is None:
        raise AssertionError(f"{name}: got None. Does your function end with `return ...`?")
    expected = np.asarray(expected, dtype=np.float64)
    if np.ndim(actual) == 0 and expected.ndim == 0:
        actual_array = np.asarray(actual, dtype=np.float64)
    else:
        if not isinstance(actual, np.ndarray):
            raise AssertionError(f"{name}: expected a numpy array, got a {type(actual).__name__}")
        actual_array = actual
    if actual_array.shape != expected.shape:
        raise AssertionError(f"{name}: expected shape {expected.shape}, got {actual_array.shape}")
    if not np.allclose(actual_array, expected, rtol=rtol, atol=atol):
        hint = diagnose(actual_array, expected, tol=rtol, otherwise="")
        raise AssertionError(f"{name}: expected {_show(expected)}\n  but got {_show(actual_array)}"
                             + (f"\n  Hint: your result {hint}." if hint else ""))
    print(f"\u2713 {name}")
