"""The course plan: the units in order and the nnlib functions each one grades.

This is the single source of truth for which functions are graded. Every name here must be wrapped in
exactly one solution region of its unit in ``nnlib/`` and every region must be listed here
(``tests/test_regions.py``).
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Unit:
    id: str
    title: str
    graded: tuple  # qualified names, "nnlib.<module>.<qualname>"


def _names(module, *qualnames):
    return tuple(f"nnlib.{module}.{name}" for name in qualnames)


UNITS = (
    Unit("01_linear_limits", "Limits of linear classifiers",
         _names("functional", "sigmoid")
         + _names("perceptron", "Perceptron.predict", "Perceptron.update", "Perceptron.fit")),
    Unit("02_xor", "XOR and threshold units",
         _names("logic", "step", "ThresholdLayer.forward", "and_gate_weights", "or_gate_weights",
                "nand_gate_weights", "xor_network")),
    Unit("03_forward_pass", "The forward pass",
         _names("layers", "Linear.reset_parameters", "Linear.forward", "Sigmoid.forward",
                "Tanh.forward", "ReLU.forward", "Sequential.forward")),
    Unit("04_single_layer_gradients", "Gradients of a single layer",
         _names("functional", "sigmoid_derivative", "tanh_derivative", "relu_derivative")
         + _names("losses", "MSELoss.forward", "MSELoss.backward", "BCELoss.forward",
                  "BCELoss.backward")
         + _names("gradcheck", "numerical_gradient", "rel_error")
         + _names("logistic", "LogisticRegression.loss_and_gradients", "LogisticRegression.fit")),
    Unit("05_backprop", "Backpropagation",
         _names("layers", "Linear.backward", "Sigmoid.backward", "Tanh.backward", "ReLU.backward",
                "Sequential.backward")
         + _names("optim", "SGD.step")
         + _names("autodiff", "Value.__add__", "Value.__mul__", "Value.__pow__", "Value.tanh",
                  "Value.exp", "Value.log", "Value.relu", "Value.backward")),
    Unit("06_softmax", "Softmax and multi-class classification",
         _names("functional", "softmax", "log_softmax")
         + _names("losses", "CrossEntropyLoss.forward", "CrossEntropyLoss.backward")
         + _names("metrics", "accuracy")),
    Unit("07_optimizers", "Optimizers and training tricks",
         _names("optim", "SGD.momentum_direction", "Adagrad.step", "RMSprop.step", "Adam.step")
         + _names("init", "glorot_uniform", "he_normal")
         + _names("regularization", "Dropout.forward", "Dropout.backward", "BatchNorm1d.forward",
                  "BatchNorm1d.backward")
         + _names("data", "iterate_minibatches")
         + _names("train", "EarlyStopping.should_stop")),
    Unit("08_cnn", "Convolutional networks",
         _names("conv", "conv2d_forward_naive", "conv2d_backward_naive", "im2col", "col2im",
                "Conv2d.forward", "Conv2d.backward", "MaxPool2d.forward", "MaxPool2d.backward")),
    Unit("09_rnn", "Recurrent networks",
         _names("rnn", "RNN.forward", "RNN.backward", "LSTM.forward", "LSTM.backward")
         + _names("optim", "clip_grad_norm")),
)

UNIT_IDS = tuple(unit.id for unit in UNITS)


def get_unit(unit_id):
    """The ``Unit`` called ``unit_id``; ``ValueError`` listing the valid ids otherwise."""
    for unit in UNITS:
        if unit.id == unit_id:
            return unit
    raise ValueError(f"unknown unit {unit_id!r}; the units are: {', '.join(UNIT_IDS)}")
