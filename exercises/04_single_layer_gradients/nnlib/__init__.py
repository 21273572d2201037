# Student copy of nnlib for exercise 04_single_layer_gradients; the reference is nnlib/ in the course repository.
"""nnlib: a small numpy neural-network library, built unit by unit in the course.

Arrays are float64 and batch-first: ``x`` has shape ``(N, D)``, images ``(N, C, H, W)`` and
sequences ``(N, T, D)``. The most used names are importable from the package itself::

    from nnlib import Sequential, Linear, ReLU, CrossEntropyLoss, SGD, fit

Submodules load on first use, so a mistake in one file (a syntax error in ``conv.py``) does not
stop the others from working. Widgets and plotting are course tools, not library: they live in the
``nncourse`` package, installed with the environment and handed the nnlib to use.
"""
import importlib

_SUBMODULES = ("autodiff", "conv", "data", "functional", "gradcheck", "init", "layers", "logic",
               "logistic", "losses", "metrics", "module", "optim", "perceptron", "regularization",
               "rnn", "testing", "train")
_EXPORTS = {
    "Value": "autodiff",
    "check_layer": "gradcheck", "numerical_gradient": "gradcheck", "rel_error": "gradcheck",
    "RNN": "rnn", "LSTM": "rnn", "BatchNorm1d": "regularization", "Conv2d": "conv", "Dropout": "regularization",
    "Flatten": "layers", "Linear": "layers", "MaxPool2d": "conv", "ReLU": "layers",
    "Sequential": "layers", "Sigmoid": "layers", "Tanh": "layers",
    "BCELoss": "losses", "CrossEntropyLoss": "losses", "MSELoss": "losses",
    "Module": "module", "count_parameters": "module",
    "SGD": "optim", "Adagrad": "optim", "Adam": "optim", "RMSprop": "optim",
    "clip_grad_norm": "optim",
    "History": "train", "fit": "train",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'nnlib' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_SUBMODULES) | set(_EXPORTS))
