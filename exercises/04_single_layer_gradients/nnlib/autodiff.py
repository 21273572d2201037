# Student copy of nnlib for exercise 04_single_layer_gradients; the reference is nnlib/ in the course repository.
"""A tiny scalar autodiff engine: every ``Value`` remembers how it was made and how to pass gradients back.

Each operation builds a node of a computational graph and gives it a ``_backward`` closure holding
the local derivative; ``backward()`` applies the chain rule node by node in reverse topological
order. Closures accumulate with ``+=``, so a node used twice receives both contributions.
Only ``+``, ``*``, ``**``, ``tanh``, ``exp``, ``log`` and ``relu`` have their own derivative; the
other operators are composed from them.
"""
import math
import numbers
import sys

# exp(x) is a finite float exactly for x <= ln(largest float).
_LOG_MAX_FLOAT = math.log(sys.float_info.max)


def _as_value(other, op):
    """Wrap a number in a ``Value`` (so ``x + 1`` works); refuse anything else."""
    if isinstance(other, Value):
        return other
    if isinstance(other, numbers.Real):
        return Value(other)
    raise TypeError(f"Value {op}: expected a Value or a real number, got {type(other).__name__}")


class Value:
    """A scalar node: its value ``data``, the gradient ``grad`` of the final output, and its inputs.

    Parameters
    ----------
    data : float
    _children : tuple of Value, default=()
        The operands that made this node (the set ``_prev``); ``_op`` names the operation.
    """

    def __init__(self, data, _children=(), _op=''):
        if isinstance(data, Value) or not isinstance(data, numbers.Real):
            raise TypeError(f"Value: data must be a real number, got {type(data).__name__}")
        self.data = float(data)
        self.grad = 0.0
        self._backward = lambda: None  # leaves have nothing to pass on
        self._prev = set(_children)
        self._op = _op

    def __repr__(self):
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g})"

    def __add__(self, other):
        """``self + other``; d/dself = d/dother = 1."""
        other = _as_value(other, "+")
        # BEGIN SOLUTION 05_backprop
        raise NotImplementedError('Value.__add__: implement this in exercise 05_backprop')
        # END SOLUTION

    def __mul__(self, other):
        """``self * other``; d/dself = other, d/dother = self."""
        other = _as_value(other, "*")
        # BEGIN SOLUTION 05_backprop
        raise NotImplementedError('Value.__mul__: implement this in exercise 05_backprop')
        # END SOLUTION

    def __pow__(self, exponent):
        """``self ** exponent`` for a constant number; d/dself = exponent * self ** (exponent - 1)."""
        if isinstance(exponent, Value) or not isinstance(exponent, numbers.Real):
            raise TypeError("Value ** : only int/float exponents are supported, "
                            f"got {type(exponent).__name__}")
        if self.data < 0 and not float(exponent).is_integer():
            raise ValueError(f"Value ** : {self.data} ** {exponent} is not a real number")
        # BEGIN SOLUTION 05_backprop
        raise NotImplementedError('Value.__pow__: implement this in exercise 05_backprop')
        # END SOLUTION

    def tanh(self):
        """``tanh(self)``; derivative 1 - tanh(self)**2."""
        # BEGIN SOLUTION 05_backprop
        raise NotImplementedError('Value.tanh: implement this in exercise 05_backprop')
        # END SOLUTION

    def exp(self):
        """``exp(self)``; the derivative is exp(self) itself.

        Raises ``OverflowError`` naming the input when exp(self) exceeds the largest float
        (self > ln(max float) = 709.78...), rather than returning ``inf`` as numpy does: an
        ``inf`` would turn the gradients into ``nan`` far from the cause.
        """
        if self.data > _LOG_MAX_FLOAT:
            raise OverflowError(f"Value.exp: exp({self.data:g}) is larger than the largest float "
                                f"(the input must be at most {_LOG_MAX_FLOAT:.6g})")
        # BEGIN SOLUTION 05_backprop
        raise NotImplementedError('Value.exp: implement this in exercise 05_backprop')
        # END SOLUTION

    def log(self):
        """Natural ``log(self)`` for ``self > 0``; derivative 1 / self."""
        if self.data <= 0:
            raise ValueError(f"Value.log: log of a non-positive number ({self.data})")
        # BEGIN SOLUTION 05_backprop
        raise NotImplementedError('Value.log: implement this in exercise 05_backprop')
        # END SOLUTION

    def relu(self):
        """The max gate ``max(0, self)``: passes the gradient where self > 0, blocks it elsewhere."""
        # BEGIN SOLUTION 05_backprop
        raise NotImplementedError('Value.relu: implement this in exercise 05_backprop')
        # END SOLUTION

    def backward(self):
        """Fill ``grad`` of every node this one depends on with d(self)/d(node).

        The nodes' ``_backward`` closures run in reverse topological order, found by a depth-first
        walk. A recursive walk is the shortest to write and is fine for small graphs, but Python
        stops it at about 1000 nested calls. Keeping a stack of ``(node, inputs_done)`` instead
        works at any depth (a sum of 10^4 terms): pop a node; if its inputs are done, append it to
        the order; else, if not yet visited, push it back with ``inputs_done=True``, then its
        inputs. Gradients accumulate: set them to 0 before calling ``backward`` again on the same
        graph.
        """
        # BEGIN SOLUTION 05_backprop
        raise NotImplementedError('Value.backward: implement this in exercise 05_backprop')
        # END SOLUTION

    # Composed operators: their derivatives come from the primitives above.
    def __neg__(self):  # -self = self * -1
        return self * -1

    def __radd__(self, other):  # other + self = self + other
        return self + other

    def __sub__(self, other):  # self - other = self + (-other)
        return self + (-_as_value(other, "-"))

    def __rsub__(self, other):  # other - self = other + (-self)
        return _as_value(other, "-") + (-self)

    def __rmul__(self, other):  # other * self = self * other
        return self * other

    def __truediv__(self, other):  # self / other = self * other**-1
        return self * _as_value(other, "/") ** -1

    def __rtruediv__(self, other):  # other / self = other * self**-1
        return _as_value(other, "/") * self ** -1
