# Student copy of nnlib for exercise 09_rnn; the reference is nnlib/ in the course repository.
r"""Layers that behave differently in training and evaluation: ``Dropout`` and ``BatchNorm1d``.

Switch them with ``layer.train()`` and ``layer.eval()`` (a ``Sequential`` passes the call on). In
training mode ``Dropout`` drops random units and ``BatchNorm1d`` normalises with the statistics of
the current batch; in evaluation mode ``Dropout`` is the identity and ``BatchNorm1d`` uses the
running statistics gathered during training, so a prediction does not depend on the rest of its
batch.
"""
import numbers

import numpy as np

from ._checks import as_float_array, as_generator, check_grad_out, check_int, check_shape
from .module import Module


class Dropout(Module):
    r"""Inverted dropout: zero each input with probability ``p``, scale the rest by ``1 / (1 - p)``.

    In training mode

    .. math::
        u_{ij} \sim U[0, 1), \qquad
        m_{ij} = \frac{[\,u_{ij} \ge p\,]}{1 - p}, \qquad y = x \odot m,

    so :math:`E[y] = x`: the scaling happens during training and evaluation needs nothing (the
    identity). Same as ``torch.nn.Dropout``.

    Parameters
    ----------
    p : float, default=0.5
        Probability of *dropping* a unit (not of keeping it), in :math:`[0, 1]`. With ``p=0`` the
        layer is the identity; with ``p=1`` it outputs zeros in training mode.
    rng : None, int or numpy.random.Generator, default=None
        Source of the masks, ``self.rng``.

    Attributes
    ----------
    mask : ndarray or None
        The mask :math:`m` of the last forward pass (already scaled by :math:`1/(1-p)`), which
        backward reuses; all ones after a forward in evaluation mode.
    """

    def __init__(self, p=0.5, rng=None):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: dropout probability has to be between 0 and 1, got {p!r}")
        self.p = float(p)
        self.rng = as_generator(rng)
        self.mask = None

    def forward(self, x):
        """Drop and rescale in training mode; return ``x`` unchanged in evaluation mode.

        Parameters
        ----------
        x : ndarray of any shape
            Each element is dropped independently.

        Returns
        -------
        ndarray, the shape of ``x``
            ``x * mask``, where ``mask`` (stored in ``self.mask`` for backward) is drawn as
            ``(self.rng.random(x.shape) >= p) / (1 - p)``; all zeros if ``p == 1``. In evaluation
            mode, or when ``p == 0``, no random numbers are drawn and ``mask`` is all ones.
        """
        x = as_float_array(x, self)
        # BEGIN SOLUTION 07_optimizers
        if not self.training or self.p == 0.0:
            self.mask = np.ones_like(x)
            return x
        if self.p == 1.0:
            # every unit is dropped; 1 / (1 - p) would divide by zero
            self.mask = np.zeros_like(x)
        else:
            self.mask = (self.rng.random(x.shape) >= self.p) / (1.0 - self.p)
        return x * self.mask
        # END SOLUTION

    def backward(self, grad_out):
        """Route the upstream gradient through the units forward kept, with the same scaling.

        Parameters
        ----------
        grad_out : ndarray, the shape of the forward output
            dL/dy.

        Returns
        -------
        ndarray, the shape of the forward input
            dL/dx ``= grad_out * mask``, with the mask of the last forward pass (not a new one).
        """
        mask = self._cached("mask")
        grad_out = check_grad_out(grad_out, mask.shape, self)
        # BEGIN SOLUTION 07_optimizers
        return grad_out * mask
        # END SOLUTION

    def __repr__(self):
        return f"Dropout(p={self.p:g})"


class BatchNorm1d(Module):
    r"""Batch normalisation of each feature, followed by a learned scale and shift.

    For a batch :math:`x` of shape ``(N, D)``, per feature :math:`j` (all operations columnwise):

    .. math::
        \begin{aligned}
        \mu_j &= \frac{1}{N}\sum_i x_{ij}, &
        \sigma_j^2 &= \frac{1}{N}\sum_i (x_{ij} - \mu_j)^2 \quad \text{(biased)}, \\
        \hat{x}_{ij} &= \frac{x_{ij} - \mu_j}{\sqrt{\sigma_j^2 + \epsilon}}, &
        y_{ij} &= \gamma_j \hat{x}_{ij} + \beta_j.
        \end{aligned}

    In training mode :math:`\mu, \sigma^2` are the batch's, and the running estimates are updated
    as in ``torch.nn.BatchNorm1d``, with the *unbiased* batch variance:

    .. math::
        \begin{aligned}
        \text{running\_mean} &\leftarrow (1 - \text{momentum})\,\text{running\_mean}
            + \text{momentum}\,\mu, \\
        \text{running\_var} &\leftarrow (1 - \text{momentum})\,\text{running\_var}
            + \text{momentum}\,\frac{N}{N - 1}\sigma^2.
        \end{aligned}

    In evaluation mode :math:`\mu, \sigma^2` are ``running_mean`` and ``running_var``, so the layer
    is a fixed affine map of each example.

    Parameters
    ----------
    num_features : int
        :math:`D`, the number of features (columns of the input).
    eps : float, default=1e-5
        :math:`\epsilon > 0`, added to the variance so a constant feature does not divide by 0.
    momentum : float, default=0.1
        Weight of the current batch in the running estimates, in :math:`[0, 1]` (note: the opposite
        of an optimizer's momentum, which is the weight of the *old* value).

    Attributes
    ----------
    params : dict
        ``gamma`` (scale) of shape ``(D,)``, initialised to ones, and ``beta`` (shift) of shape
        ``(D,)``, initialised to zeros.
    running_mean, running_var : ndarray of shape (D,)
        Running estimates (zeros and ones at the start). Not parameters: no optimizer changes them.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        num_features = check_int(num_features, "num_features", "BatchNorm1d")
        if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not eps > 0:
            raise ValueError(f"BatchNorm1d: eps must be a positive number, got {eps!r}")
        if (isinstance(momentum, bool) or not isinstance(momentum, numbers.Real)
                or not 0.0 <= momentum <= 1.0):
            raise ValueError(f"BatchNorm1d: momentum must be a number in [0, 1], got {momentum!r}")
        self.num_features = num_features
        self.eps = float(eps)
        self.momentum = float(momentum)
        self._add_parameter("gamma", np.ones(self.num_features))
        self._add_parameter("beta", np.zeros(self.num_features))
        self.running_mean = np.zeros(self.num_features)
        self.running_var = np.ones(self.num_features)
        # filled by forward for backward
        self.x_hat = None
        self.inv_std = None
        self.used_batch_statistics = None

    def forward(self, x):
        r"""Normalise each feature, then scale by ``gamma`` and shift by ``beta``.

        Parameters
        ----------
        x : ndarray of shape (N, num_features)
            ``N >= 2`` in training mode (the variance of one value says nothing).

        Returns
        -------
        ndarray of shape (N, num_features)
            :math:`\gamma \hat{x} + \beta`. Stores for backward ``self.x_hat`` (N, D) and
            ``self.inv_std`` :math:`= 1/\sqrt{\sigma^2 + \epsilon}` (D,); in training mode also
            updates ``running_mean`` and ``running_var``.
        """
        x = as_float_array(x, self)
        check_shape(x, (None, self.num_features), self)
        if self.training and x.shape[0] == 1:
            raise ValueError(f"{self!r}: expected more than 1 value per channel when training, "
                             f"got input of shape {x.shape}")
        # backward must use the formula of the mode forward ran in
        self.used_batch_statistics = self.training
        # BEGIN SOLUTION 07_optimizers
        if self.training:
            n = x.shape[0]
            mean = x.mean(axis=0)
            var = x.var(axis=0)  # biased (divides by N): used to normalise
            self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * mean
            self.running_var = ((1 - self.momentum) * self.running_var
                                + self.momentum * var * n / (n - 1))
        else:
            mean, var = self.running_mean, self.running_var
        self.inv_std = 1.0 / np.sqrt(var + self.eps)
        self.x_hat = (x - mean) * self.inv_std
        return self.params["gamma"] * self.x_hat + self.params["beta"]
        # END SOLUTION

    def backward(self, grad_out):
        r"""Gradients with respect to the input, ``gamma`` and ``beta``.

        In training mode :math:`\mu` and :math:`\sigma^2` depend on every example of the batch,
        which gives (per feature, sums over the batch, :math:`g = \partial L/\partial \hat{x}
        = \gamma\, \partial L / \partial y`)

        .. math::
            \frac{\partial L}{\partial x_{ij}} = \frac{1}{\sqrt{\sigma_j^2 + \epsilon}}
            \Big(g_{ij} - \frac{1}{N}\sum_k g_{kj}
            - \hat{x}_{ij}\,\frac{1}{N}\sum_k g_{kj}\hat{x}_{kj}\Big).

        In evaluation mode the statistics are constants and
        :math:`\partial L/\partial x_{ij} = g_{ij} / \sqrt{\sigma_j^2 + \epsilon}`.

        Parameters
        ----------
        grad_out : ndarray of shape (N, num_features)
            dL/dy.

        Returns
        -------
        ndarray of shape (N, num_features)
            dL/dx. Also sets ``grads["gamma"]`` :math:`= \sum_i \partial L/\partial y_{ij}\,
            \hat{x}_{ij}` and ``grads["beta"]`` :math:`= \sum_i \partial L/\partial y_{ij}`, both
            of shape ``(num_features,)``.
        """
        x_hat, inv_std = self._cached("x_hat", "inv_std")
        grad_out = check_grad_out(grad_out, x_hat.shape, self)
        # BEGIN SOLUTION 07_optimizers
        self.grads["gamma"] = np.sum(grad_out * x_hat, axis=0)
        self.grads["beta"] = np.sum(grad_out, axis=0)
        grad_x_hat = grad_out * self.params["gamma"]
        if not self.used_batch_statistics:
            return grad_x_hat * inv_std
        return inv_std * (grad_x_hat - grad_x_hat.mean(axis=0)
                          - x_hat * np.mean(grad_x_hat * x_hat, axis=0))
        # END SOLUTION

    def __repr__(self):
        return f"BatchNorm1d({self.num_features}, eps={self.eps:g}, momentum={self.momentum:g})"
