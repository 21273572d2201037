"""nnlib._checks: the validators name their owner, a string or an object printed by its repr."""
import numpy as np
import pytest

from nnlib._checks import as_float_array, check_grad_out, check_int, check_shape


class Owner:
    """Counts how often its repr is formatted."""

    def __init__(self):
        self.reprs = 0

    def __repr__(self):
        self.reprs += 1
        return "Owner(3 -> 2)"


def test_an_object_owner_is_formatted_only_when_there_is_an_error():
    owner = Owner()
    x = as_float_array(np.zeros((4, 3)), owner)
    check_shape(x, (None, 3), owner)
    check_grad_out(np.zeros((4, 2)), (4, 2), owner)
    check_int(2, "size", owner)
    assert owner.reprs == 0  # validators run on every forward and backward call
    with pytest.raises(ValueError, match=r"^Owner\(3 -> 2\): expected input of shape \(N, 4\), "
                                         r"got \(4, 3\)$"):
        check_shape(x, (None, 4), owner)
    with pytest.raises(ValueError, match=r"^Owner\(3 -> 2\): size must be a positive integer, got 0$"):
        check_int(0, "size", owner)
    assert owner.reprs == 2


def test_a_string_owner_is_used_as_it_is():
    with pytest.raises(ValueError, match=r"^Linear: in_features must be an integer >= 2, got 1$"):
        check_int(1, "in_features", "Linear", minimum=2)
    with pytest.raises(ValueError, match=r"^conv2d_naive: expected a real numeric weight"):
        as_float_array(np.array(["w"]), "conv2d_naive", "weight")
