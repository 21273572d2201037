"""The visible-test helper students see in the notebooks."""
import numpy as np
import pytest

from nnlib.testing import check_close


def test_check_close_passes_with_a_tick(capsys):
    check_close("identity", np.array([1.0, 2.0]), [1.0, 2.0 + 1e-12])
    assert "\u2713 identity" in capsys.readouterr().out


@pytest.mark.parametrize("actual, message", [
    (None, "got None"),
    ([1.0, 2.0], "expected a numpy array"),
    (np.ones(3), r"expected shape \(2,\)"),
    (np.array([3.0, 6.0]), "3 times too large"),
    (np.array([1.0, 2.1]), "expected"),
])
def test_check_close_explains_failures(actual, message):
    with pytest.raises(AssertionError, match=message):
        check_close("f(x)", actual, np.array([1.0, 2.0]))


def test_check_close_accepts_numbers():
    check_close("a number", 0.25, 0.25)
    with pytest.raises(AssertionError):
        check_close("a number", 0.5, 0.25)
