# Student copy of nnlib for exercise 09_rnn; the reference is nnlib/ in the course repository.
"""Layers: each has ``forward(x)``, ``backward(grad_out) -> grad_in``, ``params`` and ``grads``.

Batch-first: an input ``x`` has shape ``(N, D)`` with one example per row. ``forward`` caches its
input; ``backward`` reads only that cache and the upstream gradient, and overwrites ``grads``.
The convolutional, recurrent and regularising layers live in their own modules and are re-exported
here, so ``from nnlib.layers import Conv2d`` works like ``from nnlib.conv import Conv2d``.
"""
import numpy as np

from ._checks import as_float_array, as_generator, check_grad_out, check_int, check_shape
from .functional import sigmoid, sigmoid_derivative, tanh_derivative
from .module import ArrayDict, Module

# Layers with modules of their own, importable from here too as the API promises.
from .conv import Conv2d, MaxPool2d  # noqa: F401
from .regularization import BatchNorm1d, Dropout  # noqa: F401
from .rnn import RNN  # noqa: F401


class Linear(Module):
    """Fully connected layer, ``y = x @ W + b``.

    ``W`` has shape ``(in_features, out_features)``: the transpose of ``torch.nn.Linear.weight``, so
    that a batch of row vectors multiplies from the left.

    Parameters
    ----------
    in_features, out_features : int
    rng : None, int or numpy.random.Generator, default=None
        Source of the initial weights.
    """

    def __init__(self, in_features, out_features, rng=None):
        super().__init__()
        self.in_features = check_int(in_features, "in_features", "Linear")
        self.out_features = check_int(out_features, "out_features", "Linear")
        self.rng = as_generator(rng)
        self._x = None
        self.reset_parameters()

    def reset_parameters(self):
        r"""Draw ``W`` and ``b`` from :math:`U(-1/\sqrt{D_{in}}, 1/\sqrt{D_{in}})`, PyTorch's default.

        Registers them with ``self._add_parameter(name, array)``, which also creates the zero
        gradients. ``W`` has shape ``(in_features, out_features)`` and ``b`` ``(out_features,)``.
        """
        # BEGIN SOLUTION 03_forward_pass
        bound = 1.0 / np.sqrt(self.in_features)
        shape = (self.in_features, self.out_features)
        self._add_parameter("W", self.rng.uniform(-bound, bound, size=shape))
        self._add_parameter("b", self.rng.uniform(-bound, bound, size=self.out_features))
        # END SOLUTION

    def forward(self, x):
        """Affine map of a batch.

        Parameters
        ----------
        x : ndarray of shape (N, in_features)

        Returns
        -------
        ndarray of shape (N, out_features)
        """
        x = as_float_array(x, self)
        check_shape(x, (None, self.in_features), self)
        self._x = x
        # BEGIN SOLUTION 03_forward_pass
        return x @ self.params["W"] + self.params["b"]
        # END SOLUTION

    def backward(self, grad_out):
        """Gradients of the loss with respect to the input, ``W`` and ``b``.

        Parameters
        ----------
        grad_out : ndarray of shape (N, out_features)
            dL/dy.

        Returns
        -------
        ndarray of shape (N, in_features)
            dL/dx. Also sets ``grads["W"]`` (in_features, out_features) and ``grads["b"]``
            (out_features,), summed over the batch.
        """
        x = self._cached("_x")
        grad_out = check_grad_out(grad_out, (x.shape[0], self.out_features), self)
        # BEGIN SOLUTION 05_backprop
        self.grads["W"] = x.T @ grad_out
        self.grads["b"] = grad_out.sum(axis=0)
        return grad_out @ self.params["W"].T
        # END SOLUTION

    def __repr__(self):
        return f"Linear({self.in_features} -> {self.out_features})"


class _Elementwise(Module):
    """Shared bookkeeping of the activation layers: any input shape, cached for backward."""

    def _remember(self, x):
        self._x = as_float_array(x, self)
        return self._x

    def _check_backward(self, grad_out):
        x = self._cached("_x")
        return x, check_grad_out(grad_out, x.shape, self)

    _x = None


class Sigmoid(_Elementwise):
    r"""Elementwise :math:`\sigma(x) = 1/(1+e^{-x})`, stable for large ``|x|``; any input shape."""

    def forward(self, x):
        x = self._remember(x)
        # BEGIN SOLUTION 03_forward_pass
        return sigmoid(x)
        # END SOLUTION

    def backward(self, grad_out):
        r"""``grad_out`` times :math:`\sigma'(x)`, elementwise; the shape of the input."""
        x, grad_out = self._check_backward(grad_out)
        # BEGIN SOLUTION 05_backprop
        return grad_out * sigmoid_derivative(x)
        # END SOLUTION


class Tanh(_Elementwise):
    r"""Elementwise :math:`\tanh(x)`; any input shape."""

    def forward(self, x):
        x = self._remember(x)
        # BEGIN SOLUTION 03_forward_pass
        return np.tanh(x)
        # END SOLUTION

    def backward(self, grad_out):
        r"""``grad_out`` times :math:`1 - \tanh^2(x)`, elementwise; the shape of the input."""
        x, grad_out = self._check_backward(grad_out)
        # BEGIN SOLUTION 05_backprop
        return grad_out * tanh_derivative(x)
        # END SOLUTION


class ReLU(_Elementwise):
    r"""Elementwise :math:`\max(0, x)`; any input shape."""

    def forward(self, x):
        x = self._remember(x)
        # BEGIN SOLUTION 03_forward_pass
        return np.maximum(x, 0.0)
        # END SOLUTION

    def backward(self, grad_out):
        """``grad_out`` where the input was positive, 0 elsewhere; the shape of the input."""
        x, grad_out = self._check_backward(grad_out)
        # BEGIN SOLUTION 05_backprop
        return grad_out * (x > 0)  # the mask of relu_derivative, without making it a float array
        # END SOLUTION


class Flatten(Module):
    """``(N, d1, d2, ...) -> (N, d1 * d2 * ...)``, e.g. between convolutional and linear layers."""

    _shape = None

    def forward(self, x):
        x = as_float_array(x, self)
        if x.ndim < 1:
            raise ValueError(f"{self!r}: expected input of shape (N, ...), got {x.shape}")
        self._shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, grad_out):
        shape = self._cached("_shape")
        grad_out = check_grad_out(grad_out, (shape[0], int(np.prod(shape[1:]))), self)
        return grad_out.reshape(shape)


class Sequential(Module):
    """Layers applied in order; backward runs them in reverse.

    ``params`` and ``grads`` are the union of the layers', keyed ``"<index>.<name>"`` (``"0.W"``),
    as in PyTorch's ``state_dict``; they are the layers' own arrays, not copies.

    Parameters
    ----------
    *layers : Module
    """

    def __init__(self, *layers):
        for index, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise ValueError(f"Sequential: argument {index} is a {type(layer).__name__}, "
                                 "not a layer (did you forget the parentheses, as in ReLU()?)")
        super().__init__()
        self.layers = list(layers)

    @property
    def params(self):
        """The layers' parameters, keyed ``"<index>.<name>"``."""
        return self._union("params")

    @property
    def grads(self):
        """The layers' gradients, keyed like ``params``."""
        return self._union("grads")

    def _union(self, kind):
        merged = ArrayDict()
        for index, layer in enumerate(self.layers):
            for key, array in getattr(layer, kind).items():
                dict.__setitem__(merged, f"{index}.{key}", array)
        return merged

    def parameters(self):
        return [pair for layer in self.layers for pair in layer.parameters()]

    def train(self, mode=True):
        self.training = bool(mode)
        for layer in self.layers:
            layer.train(mode)
        return self

    def forward(self, x):
        """Apply every layer in order.

        Parameters
        ----------
        x : ndarray, the input shape of the first layer

        Returns
        -------
        ndarray, the output shape of the last layer
        """
        # BEGIN SOLUTION 03_forward_pass
        for layer in self.layers:
            x = layer.forward(x)
        return x
        # END SOLUTION

    def backward(self, grad_out):
        """Backpropagate through the layers in reverse order.

        Parameters
        ----------
        grad_out : ndarray, the output shape of the last layer

        Returns
        -------
        ndarray, the input shape of the first layer
            Each layer's ``grads`` are set on the way.
        """
        # BEGIN SOLUTION 05_backprop
        for layer in reversed(self.layers):
            grad_out = layer.backward(grad_out)
        return grad_out
        # END SOLUTION

    def __getitem__(self, index):
        return self.layers[index]

    def __len__(self):
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    def __repr__(self):
        inner = "".join(f"\n  ({index}): {layer!r}" for index, layer in enumerate(self.layers))
        return f"Sequential({inner}\n)" if self.layers else "Sequential()"
