# Student copy of nnlib for exercise 06_softmax; the reference is nnlib/ in the course repository.
"""Friendly checks for the visible tests in the exercise notebooks.

They print a tick when a check passes and raise ``CheckFailed`` (an ``AssertionError``) with what
was expected, what came back and a hint when it does not. In Jupyter a failed check reads as its
message under the line of your cell that ran it: no frame of these helpers is shown.
(Grading uses its own trusted checks, not these.)
"""
import linecache
import os
import traceback

import numpy as np

from .gradcheck import diagnose

# The helpers whose frames a failed check leaves out: this file and the gradient-check reporting.
_HELPER_FILES = {os.path.normcase(os.path.abspath(__file__)),
                 os.path.normcase(os.path.abspath(diagnose.__code__.co_filename))}


def _is_shown(filename):
    """A frame of the student's cell or code, not of these helpers or of IPython's machinery."""
    path = os.path.normcase(os.path.abspath(filename)) if filename else ""
    if path in _HELPER_FILES:
        return False
    parts = path.replace("\\", "/").split("/")
    return not any(name in parts for name in ("IPython", "ipykernel", "nbclient"))


def _where(frame):
    """``Cell In[3], line 4`` for a notebook cell, ``File nnlib/losses.py, line 12`` otherwise."""
    shell = None
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:
        pass
    named = getattr(getattr(shell, "compile", None), "format_code_name", None)
    label = named(frame.filename) if named is not None else None
    if label is not None:
        return f"{label[0]} {label[1]}, line {frame.lineno}"
    return f"File {_short_path(frame.filename)}, line {frame.lineno}"


def _short_path(filename):
    """``nnlib/functional.py`` rather than the whole path, when the file is in an nnlib folder."""
    parts = filename.replace("\\", "/").split("/")
    return "/".join(parts[parts.index("nnlib"):]) if "nnlib" in parts else filename


def _source(frame):
    """``[(line number, text)]`` of the statement ``frame`` stopped in (a call may span lines)."""
    last = getattr(frame, "end_lineno", None) or frame.lineno
    last = min(max(last, frame.lineno), frame.lineno + 5)
    lines = [(number, linecache.getline(frame.filename, number).rstrip())
             for number in range(frame.lineno, last + 1)]
    return [(number, text) for number, text in lines if text.strip()]


class CheckFailed(AssertionError):
    """A visible check that failed. ``str(error)`` is the message for the student.

    IPython shows an exception through its ``_render_traceback_`` when it has one: here, where in
    the student's own cells (or code) the check ran, then the message; the frames of the helpers
    that raised it are left out, as they only say that a check failed.
    """

    def _render_traceback_(self):
        lines = []
        for frame in traceback.extract_tb(self.__traceback__):
            if not _is_shown(frame.filename):
                continue
            lines.append(_where(frame))
            for index, (number, text) in enumerate(_source(frame)):
                lines.append(f"{'--->' if index == 0 else '    '} {number:>2} {text}")
        if lines:
            lines.append("")
        return lines + ["\u2717 " + str(self)]


def _sentence(text):
    """``text`` ending in one full stop (none added after ``?`` or ``!``)."""
    text = text.rstrip()
    return text if text.endswith((".", "?", "!", ":")) else text + "."


def check_close(name, actual, expected, rtol=1e-7, atol=1e-12):
    """Check that ``actual`` equals ``expected`` up to rounding; print a tick or raise with a hint."""
    if actual is None:
        raise CheckFailed(f"{name}: got None. Does your function end with `return ...`?")
    expected = np.asarray(expected, dtype=np.float64)
    if np.ndim(actual) == 0 and expected.ndim == 0:
        actual_array = np.asarray(actual, dtype=np.float64)
    else:
        if not isinstance(actual, np.ndarray):
            raise CheckFailed(f"{name}: expected a numpy array, got a {type(actual).__name__}")
        actual_array = actual
    if actual_array.shape != expected.shape:
        raise CheckFailed(f"{name}: expected shape {expected.shape}, got {actual_array.shape}")
    if not np.allclose(actual_array, expected, rtol=rtol, atol=atol):
        hint = diagnose(actual_array, expected, tol=rtol, otherwise="")
        raise CheckFailed(f"{name}: expected {_show(expected)}\n  but got {_show(actual_array)}"
                          + (f"\n  Hint: your result {_sentence(hint)}" if hint else ""))
    print(f"\u2713 {name}")


def _show(value):
    text = np.array2string(np.asarray(value), precision=6, threshold=12)
    return text if "\n" not in text else "\n    " + text.replace("\n", "\n    ")


def floating_point_trouble(error):
    """What numpy's ``FloatingPointError`` means, in words: ``'an overflow (overflow encountered
    in exp)'``."""
    reported = str(error)
    if "overflow" in reported:
        kind = "a floating-point overflow"
    elif "divide by zero" in reported:
        kind = "a division by zero"
    elif "invalid value" in reported:
        kind = "an invalid value (nan, from inf - inf, inf / inf or 0 / 0)"
    else:
        kind = "a floating-point error"
    return f"{kind} (numpy: {reported})"


def check_stable(name, compute, advice):
    """Call ``compute()`` with numpy's floating-point errors raised; return what it returns.

    An overflow, a division by zero or an invalid value (nan) anywhere in ``compute()`` fails the
    check, even when the values come out right (``1 / (1 + inf)`` is 0, after a warning): the
    message names the error, the line of your code where it happened and ``advice``. Underflow (a
    tiny number rounded to 0) is harmless and allowed.
    """
    try:
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            result = compute()
    except FloatingPointError as error:
        frames = [frame for frame in traceback.extract_tb(error.__traceback__)
                  if _is_shown(frame.filename) and "nnlib" in frame.filename.replace("\\", "/").split("/")]
        where = ""
        if frames:
            source = _source(frames[-1])
            where = (f"\n  in {_short_path(frames[-1].filename)}, line {frames[-1].lineno}"
                     + (f": {source[0][1].strip()}" if source else ""))
        raise CheckFailed(f"{name}: {floating_point_trouble(error)}{where}\n  Even where the values "
                          f"come out right, this must not happen. {_sentence(advice)}") from None
    print(f"\u2713 {name}: no overflow, division by zero or nan on the way")
    return result
