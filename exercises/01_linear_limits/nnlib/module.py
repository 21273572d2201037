# Student copy of nnlib for exercise 01_linear_limits; the reference is nnlib/ in the course repository.
"""The base class every layer shares, and the small parameter bookkeeping around it."""
import numpy as np


class ArrayDict(dict):
    """A dict of float64 arrays in which every entry keeps its identity.

    Optimizers hold references to the parameter and gradient arrays (from ``parameters()``).
    Assigning a new array to an existing key, as in ``self.grads["W"] = x.T @ dy``, therefore copies
    the values into the array already there instead of replacing it, so those references stay valid.
    """

    def __setitem__(self, key, value):
        if key in self:
            current = dict.__getitem__(self, key)
            value = np.asarray(value, dtype=np.float64)
            if value.shape != current.shape:
                raise ValueError(
                    f"'{key}' has shape {current.shape}; cannot store an array of shape "
                    f"{value.shape} in it (a gradient has the shape of its parameter)"
                )
            current[...] = value
        else:
            dict.__setitem__(self, key, np.array(value, dtype=np.float64))


class ForwardCache:
    """Shared by layers and losses: ``backward`` reads what ``forward`` saved via ``_cached``."""

    def _cached(self, *names):
        """Return attributes saved by ``forward``; a clear error if backward came first."""
        values = tuple(getattr(self, name, None) for name in names)
        for value in values:
            if value is None:
                raise RuntimeError(f"{self!r}: call forward before backward")
        return values[0] if len(values) == 1 else values


class Module(ForwardCache):
    """Base class of every layer.

    A layer computes ``y = layer.forward(x)`` (also ``layer(x)``), caching what its backward needs, and
    ``dx = layer.backward(dy)``, which returns the gradient with respect to ``x`` and overwrites
    ``layer.grads``. ``params`` and ``grads`` are dicts with the same keys and shapes; parameters are
    updated in place, so the references optimizers hold stay valid.
    """

    def __init__(self):
        self._params = ArrayDict()
        self._grads = ArrayDict()
        self.training = True

    # Properties, so that a container (``Sequential``) can present its layers' arrays instead.
    @property
    def params(self):
        """dict of str to ndarray: the parameters, registered with ``_add_parameter``."""
        return self._params

    @property
    def grads(self):
        """dict of str to ndarray: the gradients, same keys and shapes as ``params``."""
        return self._grads

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def forward(self, x):
        raise NotImplementedError(f"{type(self).__name__} does not define forward")

    def backward(self, grad_out):
        raise NotImplementedError(f"{type(self).__name__} does not define backward")

    def parameters(self):
        """List of ``(param, grad)`` array pairs, the order optimizers iterate over."""
        return [(self.params[key], self.grads[key]) for key in self.params]

    def zero_grad(self):
        for grad in self.grads.values():
            grad.fill(0.0)

    def train(self, mode=True):
        """Switch to training mode (``Dropout`` drops, ``BatchNorm1d`` uses batch statistics)."""
        self.training = bool(mode)
        return self

    def eval(self):
        """Switch to evaluation mode; same as ``train(False)``."""
        return self.train(False)

    def _add_parameter(self, name, value):
        """Register a parameter and its zero gradient under ``name`` (in place if it exists)."""
        self.params[name] = value
        self.grads[name] = np.zeros_like(self.params[name])

    def __repr__(self):
        return f"{type(self).__name__}()"


def count_parameters(model):
    """Total number of scalar parameters of a layer or ``Sequential``."""
    return sum(param.size for param, _ in model.parameters())
