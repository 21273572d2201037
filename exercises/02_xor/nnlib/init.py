# Student copy of nnlib for exercise 02_xor; the reference is nnlib/ in the course repository.
r"""Weight initialisation that keeps the scale of signals steady from layer to layer.

A layer ``y = x @ W`` with ``W`` of shape ``(fan_in, fan_out)`` sums ``fan_in`` products, so the
variance of ``y`` is about ``fan_in * Var(W) * Var(x)``. Choosing ``Var(W)`` near ``1 / fan_in``
keeps activations (and, with ``fan_out``, gradients) from shrinking or exploding with depth.

- ``glorot_uniform``: :math:`U(-a, a)`, variance :math:`2 / (\text{fan\_in} + \text{fan\_out})`
  (tanh, sigmoid);
- ``he_normal``: :math:`N(0, \sigma^2)`, variance :math:`2 / \text{fan\_in}` (ReLU).

Both return an array of shape ``(fan_in, fan_out)``, the layout of ``Linear.W``, e.g.
``layer.params["W"] = he_normal(64, 32, rng)``.
"""
import numpy as np

from ._checks import as_generator, check_int


def glorot_uniform(fan_in, fan_out, rng=None):
    r"""Glorot (Xavier) uniform initialisation: ``U(-a, a)``, ``a = sqrt(6 / (fan_in + fan_out))``.

    .. math:: W_{jk} \sim U(-a, a), \qquad a = \sqrt{\frac{6}{\text{fan\_in} + \text{fan\_out}}}.

    The variance of :math:`U(-a, a)` is :math:`a^2/3 = 2/(\text{fan\_in} + \text{fan\_out})`, the
    compromise of Glorot & Bengio (2010) between keeping forward activations
    (:math:`1/\text{fan\_in}`) and backward gradients (:math:`1/\text{fan\_out}`) at a steady
    scale; suited to tanh and sigmoid.
    Same as ``torch.nn.init.xavier_uniform_``.

    Parameters
    ----------
    fan_in, fan_out : int
        Number of inputs and outputs of the layer, positive.
    rng : None, int or numpy.random.Generator, default=None
        Source of randomness; draw with ``rng.uniform(-a, a, size=(fan_in, fan_out))``.

    Returns
    -------
    ndarray of shape (fan_in, fan_out), float64
    """
    fan_in = check_int(fan_in, "fan_in", "glorot_uniform")
    fan_out = check_int(fan_out, "fan_out", "glorot_uniform")
    rng = as_generator(rng)
    # BEGIN SOLUTION 07_optimizers
    raise NotImplementedError('glorot_uniform: implement this in exercise 07_optimizers')
    # END SOLUTION


def he_normal(fan_in, fan_out, rng=None):
    r"""He (Kaiming) normal initialisation, :math:`N(0, 2 / \text{fan\_in})`.

    A ReLU zeroes about half of its inputs, halving the variance that passes through; the factor 2
    (He et al., 2015) makes up for it, so deep ReLU networks keep a steady activation scale. Same as
    ``torch.nn.init.kaiming_normal_`` with ``nonlinearity="relu"`` and ``mode="fan_in"``.

    Parameters
    ----------
    fan_in, fan_out : int
        Number of inputs and outputs of the layer, positive.
    rng : None, int or numpy.random.Generator, default=None
        Source of randomness; draw with ``rng.normal(0.0, std, size=(fan_in, fan_out))`` where
        ``std`` is the standard deviation :math:`\sqrt{2 / \text{fan\_in}}`.

    Returns
    -------
    ndarray of shape (fan_in, fan_out), float64
    """
    fan_in = check_int(fan_in, "fan_in", "he_normal")
    fan_out = check_int(fan_out, "fan_out", "he_normal")
    rng = as_generator(rng)
    # BEGIN SOLUTION 07_optimizers
    raise NotImplementedError('he_normal: implement this in exercise 07_optimizers')
    # END SOLUTION
