# Student copy of nnlib for exercise 04_single_layer_gradients; the reference is nnlib/ in the course repository.
"""Input validation and random-generator handling shared by every part of nnlib.

Students never implement these; they exist so that a wrong shape fails early with a message that names
the layer and both shapes instead of a numpy broadcasting error three calls later.

Every validator takes an ``owner``, the name its error messages start with. A method of a layer or
model passes the object itself (``check_shape(x, (None, 64), self)``), printed as its ``repr``, which
shows its sizes (``Linear(64 -> 32)``); everything else passes a string: a constructor its class
(``"Linear"``, its sizes not checked yet), a loss its class (``"MSELoss"``), a function its name
(``"conv2d_naive"``).
"""
import numbers

import numpy as np


def as_generator(rng=None):
    """Turn ``rng`` into a ``numpy.random.Generator``, once, at the top of a function.

    Parameters
    ----------
    rng : None, int or numpy.random.Generator, default=None
        ``None`` gives a fresh generator seeded by the operating system, an int a generator seeded
        with it, a generator is returned unchanged (so the caller's stream advances).
    """
    if rng is None or isinstance(rng, (numbers.Integral, np.integer)):
        return np.random.default_rng(rng)
    if isinstance(rng, np.random.Generator):
        return rng
    raise ValueError(
        f"rng must be None, an int seed or a numpy.random.Generator, got {type(rng).__name__}"
    )


def owner_name(owner):
    """The name of ``owner`` in a message: a string as it is, an object by its ``repr``.

    Methods pass the object rather than its ``repr`` so that the ``repr`` is only formatted when
    there is an error to report: these checks run on every forward and backward call.
    """
    return owner if isinstance(owner, str) else repr(owner)


def as_float_array(x, owner, name="input"):
    """Return ``x`` as a float64 array, or raise ``ValueError`` naming ``owner`` if it is not numeric.

    Integers and booleans are converted (XOR data is naturally 0/1); complex, string and object
    arrays are refused.
    """
    if type(x) is np.ndarray and x.dtype == np.float64:
        return x
    array = np.asarray(x)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{owner_name(owner)}: expected a real numeric {name}, got dtype {array.dtype}")
    return array.astype(np.float64, copy=False)


def is_int(value):
    """True for a Python or numpy integer; False for ``bool`` (``True`` is no size) and floats."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_int(value, name, owner, minimum=1):
    """``value`` as an ``int``; ``ValueError`` naming ``owner`` unless it is an integer >= minimum.

    The message reads ``"{owner}: {name} must be a positive integer, got ..."`` for ``minimum=1``
    and ``"... must be an integer >= {minimum}, got ..."`` otherwise.
    """
    if not is_int(value) or value < minimum:
        requirement = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"{owner_name(owner)}: {name} must be {requirement}, got {value!r}")
    return int(value)


def format_shape(pattern):
    """``(None, 64)`` -> ``'(N, 64)'``, ``(None, 3, "H", "W")`` -> ``'(N, 3, H, W)'``.

    ``None`` (any size) is printed ``N``, as it only stands for the batch; a string is a named
    dimension of any size and is printed as it is.
    """
    parts = ["N" if size is None else str(size) for size in pattern]
    return "(" + ", ".join(parts) + (",)" if len(parts) == 1 else ")")


def check_shape(array, pattern, owner, name="input"):
    """Raise ``ValueError`` unless ``array.shape`` matches ``pattern``.

    Each entry of ``pattern`` is an int (that exact size), ``None`` (any size: the batch, printed
    ``N``) or a string label such as ``"H"`` (any size, printed as the label), e.g.
    ``check_shape(x, (None, 3, "H", "W"), ...)`` expects ``(N, 3, H, W)``.
    """
    shape = array.shape
    matches = len(shape) == len(pattern)
    for want, got in zip(pattern, shape):
        if want is not None and not isinstance(want, str) and want != got:
            matches = False
    if not matches:
        raise ValueError(
            f"{owner_name(owner)}: expected {name} of shape {format_shape(pattern)}, got {tuple(shape)}"
        )


def check_grad_out(grad_out, expected_shape, owner):
    """Validate the upstream gradient of ``backward``: float64 and the shape of the forward output."""
    grad_out = as_float_array(grad_out, owner, "upstream gradient")
    if grad_out.shape != tuple(expected_shape):
        raise ValueError(
            f"{owner_name(owner)}: backward expected an upstream gradient of shape {tuple(expected_shape)} "
            f"(the shape forward returned), got {grad_out.shape}"
        )
    return grad_out
