"""nnlib: a small numpy neural-network library, built unit by unit in the course.

Arrays are float64 and batch-first: ``x`` has shape ``(N, D)``, images ``(N, C, H, W)`` and
sequences ``(N, T, D)``. The most used names are importable from the package itself::

    from nnlib import Sequential, Linear, ReLU, CrossEntropyLoss, SGD, fit

``nnlib.plotting`` (matplotlib) is imported on demand, so importing nnlib needs no display.
"""
from . import (autodiff, data, functional, gradcheck, init, layers, logic, logistic, losses, metrics,
               optim, perceptron, train)
from .autodiff import Value
from .gradcheck import check_layer, numerical_gradient, rel_error
from .layers import (RNN, BatchNorm1d, Conv2d, Dropout, Flatten, Linear, MaxPool2d, ReLU, Sequential,
                     Sigmoid, Tanh)
from .losses import BCELoss, CrossEntropyLoss, MSELoss
from .module import Module, count_parameters
from .optim import SGD, Adagrad, Adam, RMSprop, clip_grad_norm
from .train import History, fit

__all__ = [
    "autodiff", "data", "functional", "gradcheck", "init", "layers", "logic", "logistic", "losses",
    "metrics", "optim", "perceptron", "train",
    "Value", "check_layer", "numerical_gradient", "rel_error",
    "RNN", "BatchNorm1d", "Conv2d", "Dropout", "Flatten", "Linear", "MaxPool2d", "ReLU", "Sequential",
    "Sigmoid", "Tanh", "BCELoss", "CrossEntropyLoss", "MSELoss", "Module", "count_parameters",
    "SGD", "Adagrad", "Adam", "RMSprop", "clip_grad_norm", "History", "fit",
]
