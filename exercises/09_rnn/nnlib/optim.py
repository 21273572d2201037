# Student copy of nnlib for exercise 09_rnn; the reference is nnlib/ in the course repository.
r"""Optimizers: gradient descent and its adaptive variants, with ``torch.optim``'s arithmetic.

An optimizer is built from ``model.parameters()``, a list of ``(param, grad)`` array pairs. The
backward pass writes the gradient arrays; ``opt.step()`` then updates every parameter array in
place (so the layers see the new values) and ``opt.zero_grad()`` fills the gradients with 0.
A training step therefore reads::

    loss.forward(model.forward(x), y)
    model.backward(loss.backward())
    opt.step()

Each class documents its update as an algorithm, with the symbols tied to its arguments.
Per-parameter state (momentum buffers, running averages, the step count) lives in ``opt.state[i]``,
a dict for the ``i``-th parameter, under the key names ``torch.optim`` uses, and is created on the
first ``step()``.
"""
import numbers
from collections import defaultdict

import numpy as np


def _check_pairs(params, owner):
    """``params`` as a list of ``(param, grad)`` float64 array pairs of equal shapes."""
    if hasattr(params, "parameters") and callable(params.parameters):
        raise ValueError(f"{owner}: pass model.parameters() (a list of (param, grad) pairs), "
                         f"not the model {params!r}")
    if isinstance(params, (np.ndarray, dict, str)) or not hasattr(params, "__iter__"):
        raise ValueError(f"{owner}: params must be a list of (param, grad) array pairs such as "
                         f"model.parameters(), got {type(params).__name__}")
    pairs = list(params)
    if not pairs:
        raise ValueError(f"{owner}: got an empty parameter list")
    for index, pair in enumerate(pairs):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ValueError(f"{owner}: params[{index}] must be a (param, grad) pair, "
                             f"got {type(pair).__name__}")
        for name, array in zip(("param", "grad"), pair):
            if not isinstance(array, np.ndarray) or array.dtype != np.float64:
                kind = array.dtype if isinstance(array, np.ndarray) else type(array).__name__
                raise ValueError(f"{owner}: the {name} of params[{index}] must be a float64 numpy "
                                 f"array (updated in place), got {kind}")
        param, grad = pair
        if param.shape != grad.shape:
            raise ValueError(f"{owner}: params[{index}] has a param of shape {param.shape} but a "
                             f"grad of shape {grad.shape}")
    return [(param, grad) for param, grad in pairs]


def _check_number(value, description, owner, upper=None, upper_open=False):
    """``value`` as a float if ``0 <= value`` (and ``<= upper`` or ``< upper``); else ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{owner}: invalid {description}: {value!r} (expected a number)")
    value = float(value)
    too_high = upper is not None and (value >= upper if upper_open else value > upper)
    if not np.isfinite(value) or value < 0.0 or too_high:
        if upper is None:
            bounds = ">= 0"
        else:
            bounds = f"in [0, {upper:g}{')' if upper_open else ']'}"
        raise ValueError(f"{owner}: invalid {description}: {value!r} (must be {bounds})")
    return value


class Optimizer:
    """Base class: holds the ``(param, grad)`` pairs, the learning rate and the per-parameter state.

    Parameters
    ----------
    params : list of (ndarray, ndarray) pairs
        ``model.parameters()``: each parameter array with its gradient array, float64, equal shapes.
    lr : float
        Learning rate, ``>= 0``.

    Attributes
    ----------
    params : list of (ndarray, ndarray) pairs
        The same arrays the model holds (not copies).
    state : dict of dict
        ``state[i]`` holds the running quantities of the ``i``-th parameter; empty until the first
        ``step()``.
    """

    def __init__(self, params, lr):
        owner = type(self).__name__
        self.params = _check_pairs(params, owner)
        self.lr = _check_number(lr, "learning rate", owner)
        # A missing entry is an empty dict, as in torch: state appears on the first step.
        self.state = defaultdict(dict)

    def step(self):
        """Update every parameter in place from its gradient."""
        raise NotImplementedError(f"{type(self).__name__} does not define step")

    def zero_grad(self):
        """Fill every gradient array with 0 (in place, so the layers' references stay valid)."""
        for _, grad in self.params:
            grad.fill(0.0)

    def _with_state(self, *buffers):
        """Yield ``(param, grad, state)`` for every parameter, ``state`` being its ``self.state[i]``.

        On the first step ``state`` is filled with ``"step": 0`` and a zero array of the
        parameter's shape under each name in ``buffers``; ``state["step"]`` is incremented before
        each yield, so the update reads :math:`t`, counted from 1.
        """
        for i, (param, grad) in enumerate(self.params):
            state = self.state[i]
            if not state:
                state["step"] = 0
                state.update((name, np.zeros_like(param)) for name in buffers)
            state["step"] += 1
            yield param, grad, state

    def _hyperparameters(self):
        return {"lr": self.lr}

    def __repr__(self):
        settings = ", ".join(f"{name}={value!r}" for name, value in self._hyperparameters().items())
        return f"{type(self).__name__}({settings})"


class SGD(Optimizer):
    r"""Stochastic gradient descent, optionally with momentum and L2 weight decay.

    .. math::
        \begin{aligned}
        &\textbf{input}: \gamma \text{ (lr)},\ \theta_0 \text{ (params)},\
            \mu \text{ (momentum)},\ \lambda \text{ (weight\_decay)} \\
        &\textbf{for}\ t = 1, 2, \ldots\ \textbf{do} \\
        &\quad g_t \leftarrow \nabla_\theta f_t(\theta_{t-1})
            \quad \text{(the grad array)} \\
        &\quad \textbf{if}\ \lambda \neq 0:\ g_t \leftarrow g_t + \lambda \theta_{t-1} \\
        &\quad \textbf{if}\ \mu \neq 0: \\
        &\qquad \textbf{if}\ t = 1:\ b_t \leftarrow g_t
            \quad \textbf{else}:\ b_t \leftarrow \mu b_{t-1} + g_t \\
        &\qquad g_t \leftarrow b_t \\
        &\quad \theta_t \leftarrow \theta_{t-1} - \gamma g_t
        \end{aligned}

    Parameters
    ----------
    params : list of (ndarray, ndarray) pairs
        ``model.parameters()``.
    lr : float
        Learning rate :math:`\gamma \ge 0`.
    momentum : float, default=0.0
        Momentum factor :math:`\mu \ge 0`; 0 gives plain gradient descent.
    weight_decay : float, default=0.0
        L2 penalty :math:`\lambda \ge 0`: adds :math:`\lambda\theta` to the gradient, the gradient
        of :math:`\tfrac{\lambda}{2}\lVert\theta\rVert^2`.

    Notes
    -----
    This is ``torch.optim.SGD`` with ``dampening=0`` and ``nesterov=False``. The momentum buffer
    :math:`b` is stored as ``state[i]["momentum_buffer"]`` and starts at the first gradient, not at
    zero, so the first step with momentum equals a plain SGD step. Other texts write momentum as
    :math:`v \leftarrow \mu v - \gamma g,\ \theta \leftarrow \theta + v`: the same steps while the
    learning rate stays constant.
    """

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        super().__init__(params, lr)
        self.momentum = _check_number(momentum, "momentum value", "SGD")
        self.weight_decay = _check_number(weight_decay, "weight_decay value", "SGD")

    def step(self):
        """One descent step for every parameter, in place: ``param -= lr * direction``.

        The direction is the gradient itself, or ``momentum_direction(...)`` when momentum or
        weight decay is on.
        """
        for i, (param, grad) in enumerate(self.params):
            if self.momentum or self.weight_decay:
                grad = self.momentum_direction(param, grad, self.state[i])
            # BEGIN SOLUTION 05_backprop
            param -= self.lr * grad
            # END SOLUTION

    def momentum_direction(self, param, grad, state):
        r"""The direction SGD steps along: weight decay, then the momentum buffer.

        Parameters
        ----------
        param : ndarray
            :math:`\theta_{t-1}`, the current parameter (read only).
        grad : ndarray, the shape of ``param``
            :math:`\nabla_\theta f_t`, the gradient (read only: do not modify it in place).
        state : dict
            This parameter's state, ``self.state[i]``; empty on the first step. Store the buffer
            :math:`b_t` under ``"momentum_buffer"``.

        Returns
        -------
        ndarray, the shape of ``param``
            :math:`g_t + \lambda\theta_{t-1}` if momentum is 0, else the new buffer
            :math:`b_t` (equal to that first gradient at :math:`t = 1`, then
            :math:`\mu b_{t-1} + g_t`).
        """
        # BEGIN SOLUTION 07_optimizers
        if self.weight_decay:
            grad = grad + self.weight_decay * param
        if self.momentum:
            if "momentum_buffer" not in state:
                # torch starts the buffer at the first gradient (a copy: the grad array is reused)
                state["momentum_buffer"] = grad.copy()
            else:
                state["momentum_buffer"] = self.momentum * state["momentum_buffer"] + grad
            grad = state["momentum_buffer"]
        return grad
        # END SOLUTION

    def _hyperparameters(self):
        return {"lr": self.lr, "momentum": self.momentum, "weight_decay": self.weight_decay}


class Adagrad(Optimizer):
    r"""Adagrad: each coordinate's step is divided by the root of its summed squared gradients.

    .. math::
        \begin{aligned}
        &\textbf{input}: \gamma \text{ (lr)},\ \theta_0 \text{ (params)},\
            \lambda \text{ (weight\_decay)},\ \epsilon \text{ (eps)} \\
        &\textbf{initialize}: s_0 \leftarrow 0 \quad \text{(sum of squares)} \\
        &\textbf{for}\ t = 1, 2, \ldots\ \textbf{do} \\
        &\quad g_t \leftarrow \nabla_\theta f_t(\theta_{t-1}) \\
        &\quad \textbf{if}\ \lambda \neq 0:\ g_t \leftarrow g_t + \lambda \theta_{t-1} \\
        &\quad s_t \leftarrow s_{t-1} + g_t^2 \\
        &\quad \theta_t \leftarrow \theta_{t-1} - \gamma \frac{g_t}{\sqrt{s_t} + \epsilon}
        \end{aligned}

    All operations on vectors are elementwise.

    Parameters
    ----------
    params : list of (ndarray, ndarray) pairs
        ``model.parameters()``.
    lr : float, default=0.01
        Learning rate :math:`\gamma \ge 0`.
    eps : float, default=1e-10
        :math:`\epsilon \ge 0`, keeps the division finite.
    weight_decay : float, default=0.0
        L2 penalty :math:`\lambda \ge 0` added to the gradient.

    Notes
    -----
    ``torch.optim.Adagrad`` with ``lr_decay=0`` and ``initial_accumulator_value=0``. The sum
    :math:`s` is ``state[i]["sum"]``, the step count ``state[i]["step"]``. :math:`\epsilon` is added
    *after* the square root, as in torch. The first step moves each coordinate by about
    :math:`\gamma\,\mathrm{sign}(g_1)`.
    """

    def __init__(self, params, lr=0.01, eps=1e-10, weight_decay=0.0):
        super().__init__(params, lr)
        self.eps = _check_number(eps, "epsilon value", "Adagrad")
        self.weight_decay = _check_number(weight_decay, "weight_decay value", "Adagrad")

    def step(self):
        """One Adagrad step for every parameter, in place; updates ``state[i]["sum"]``."""
        for param, grad, state in self._with_state("sum"):
            # BEGIN SOLUTION 07_optimizers
            if self.weight_decay:
                grad = grad + self.weight_decay * param
            state["sum"] += grad * grad
            param -= self.lr * grad / (np.sqrt(state["sum"]) + self.eps)
            # END SOLUTION

    def _hyperparameters(self):
        return {"lr": self.lr, "eps": self.eps, "weight_decay": self.weight_decay}


class RMSprop(Optimizer):
    r"""RMSprop: divide each step by a running root mean square of recent gradients.

    .. math::
        \begin{aligned}
        &\textbf{input}: \gamma \text{ (lr)},\ \theta_0 \text{ (params)},\ \alpha \text{ (alpha)},\
            \epsilon \text{ (eps)},\ \lambda \text{ (weight\_decay)} \\
        &\textbf{initialize}: v_0 \leftarrow 0 \quad \text{(square average)} \\
        &\textbf{for}\ t = 1, 2, \ldots\ \textbf{do} \\
        &\quad g_t \leftarrow \nabla_\theta f_t(\theta_{t-1}) \\
        &\quad \textbf{if}\ \lambda \neq 0:\ g_t \leftarrow g_t + \lambda \theta_{t-1} \\
        &\quad v_t \leftarrow \alpha v_{t-1} + (1 - \alpha) g_t^2 \\
        &\quad \theta_t \leftarrow \theta_{t-1} - \gamma \frac{g_t}{\sqrt{v_t} + \epsilon}
        \end{aligned}

    All operations on vectors are elementwise.

    Parameters
    ----------
    params : list of (ndarray, ndarray) pairs
        ``model.parameters()``.
    lr : float, default=0.01
        Learning rate :math:`\gamma \ge 0`.
    alpha : float, default=0.99
        Smoothing constant :math:`\alpha \in [0, 1]`: how much of the old average is kept.
    eps : float, default=1e-8
        :math:`\epsilon \ge 0`, keeps the division finite.
    weight_decay : float, default=0.0
        L2 penalty :math:`\lambda \ge 0` added to the gradient.

    Notes
    -----
    ``torch.optim.RMSprop`` with ``centered=False`` and ``momentum=0``. :math:`v` is
    ``state[i]["square_avg"]``, the step count ``state[i]["step"]``. :math:`v` starts at 0 and is
    not bias-corrected, so the first steps are large, :math:`\gamma/\sqrt{1-\alpha} = 10\gamma` per
    coordinate at :math:`t = 1` with the default :math:`\alpha`. :math:`\epsilon` is added after the
    square root.
    """

    def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr)
        self.alpha = _check_number(alpha, "alpha value", "RMSprop", upper=1.0)
        self.eps = _check_number(eps, "epsilon value", "RMSprop")
        self.weight_decay = _check_number(weight_decay, "weight_decay value", "RMSprop")

    def step(self):
        """One RMSprop step for every parameter, in place; updates ``state[i]["square_avg"]``."""
        for param, grad, state in self._with_state("square_avg"):
            # BEGIN SOLUTION 07_optimizers
            if self.weight_decay:
                grad = grad + self.weight_decay * param
            square_avg = self.alpha * state["square_avg"] + (1 - self.alpha) * grad * grad
            state["square_avg"] = square_avg
            param -= self.lr * grad / (np.sqrt(square_avg) + self.eps)
            # END SOLUTION

    def _hyperparameters(self):
        return {"lr": self.lr, "alpha": self.alpha, "eps": self.eps,
                "weight_decay": self.weight_decay}


class Adam(Optimizer):
    r"""Adam: momentum and RMSprop combined, both averages corrected for their zero start.

    .. math::
        \begin{aligned}
        &\textbf{input}: \gamma \text{ (lr)},\ \theta_0 \text{ (params)},\
            \beta_1, \beta_2 \text{ (betas)},\ \epsilon \text{ (eps)},\
            \lambda \text{ (weight\_decay)} \\
        &\textbf{initialize}: m_0 \leftarrow 0 \text{ (first moment)},\
            v_0 \leftarrow 0 \text{ (second moment)} \\
        &\textbf{for}\ t = 1, 2, \ldots\ \textbf{do} \\
        &\quad g_t \leftarrow \nabla_\theta f_t(\theta_{t-1}) \\
        &\quad \textbf{if}\ \lambda \neq 0:\ g_t \leftarrow g_t + \lambda \theta_{t-1} \\
        &\quad m_t \leftarrow \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
        &\quad v_t \leftarrow \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
        &\quad \widehat{m}_t \leftarrow m_t / (1 - \beta_1^t) \\
        &\quad \widehat{v}_t \leftarrow v_t / (1 - \beta_2^t) \\
        &\quad \theta_t \leftarrow \theta_{t-1}
            - \gamma \frac{\widehat{m}_t}{\sqrt{\widehat{v}_t} + \epsilon}
        \end{aligned}

    All operations on vectors are elementwise.

    Parameters
    ----------
    params : list of (ndarray, ndarray) pairs
        ``model.parameters()``.
    lr : float, default=0.001
        Learning rate :math:`\gamma \ge 0`.
    betas : (float, float), default=(0.9, 0.999)
        :math:`(\beta_1, \beta_2)`, each in :math:`[0, 1)`: decay rates of the two averages.
    eps : float, default=1e-8
        :math:`\epsilon \ge 0`, keeps the division finite.
    weight_decay : float, default=0.0
        L2 penalty :math:`\lambda \ge 0` added to the gradient (not the decoupled decay of AdamW).

    Notes
    -----
    ``torch.optim.Adam`` with ``amsgrad=False``. :math:`m` and :math:`v` are
    ``state[i]["exp_avg"]`` and ``state[i]["exp_avg_sq"]``; ``state[i]["step"]`` is :math:`t`,
    counted from 1 (it is already incremented when the update runs), so the bias corrections at the
    first step are :math:`1 - \beta_1` and :math:`1 - \beta_2`. There :math:`\widehat{m}_1 = g_1`
    and :math:`\widehat{v}_1 = g_1^2`, so every coordinate moves by about
    :math:`\gamma\,\mathrm{sign}(g_1)`. :math:`\epsilon` is added to :math:`\sqrt{\widehat v_t}`,
    after the bias correction, as in torch.
    """

    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"Adam: betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = tuple(
            _check_number(beta, f"beta parameter at index {index}", "Adam", upper=1.0,
                          upper_open=True)
            for index, beta in enumerate(betas)
        )
        self.eps = _check_number(eps, "epsilon value", "Adam")
        self.weight_decay = _check_number(weight_decay, "weight_decay value", "Adam")

    def step(self):
        """One Adam step for every parameter, in place; updates ``exp_avg`` and ``exp_avg_sq``."""
        for param, grad, state in self._with_state("exp_avg", "exp_avg_sq"):
            # BEGIN SOLUTION 07_optimizers
            beta1, beta2 = self.betas
            t = state["step"]
            if self.weight_decay:
                grad = grad + self.weight_decay * param
            state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * grad
            state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * grad * grad
            m_hat = state["exp_avg"] / (1 - beta1 ** t)
            v_hat = state["exp_avg_sq"] / (1 - beta2 ** t)
            param -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
            # END SOLUTION

    def _hyperparameters(self):
        return {"lr": self.lr, "betas": self.betas, "eps": self.eps,
                "weight_decay": self.weight_decay}


def clip_grad_norm(params, max_norm):
    r"""Scale all gradients together so that their joint L2 norm is at most ``max_norm``.

    .. math::
        \lVert g \rVert = \sqrt{\textstyle\sum_{k} \sum_{j} (g_k)_j^2}, \qquad
        c = \frac{\text{max\_norm}}{\lVert g \rVert + 10^{-6}}, \qquad
        g_k \leftarrow c\, g_k \ \text{ for every } k \text{ if } c < 1,

    where :math:`g_k` is the ``k``-th gradient array. Every gradient is multiplied by the *same*
    :math:`c`, so the direction of the whole update is kept; clipping each array separately would
    change it.

    Parameters
    ----------
    params : list of (ndarray, ndarray) pairs
        ``model.parameters()``; the gradient arrays are scaled in place.
    max_norm : float
        Largest allowed joint norm, ``>= 0``.

    Returns
    -------
    float
        The joint norm :math:`\lVert g \rVert` *before* clipping (worth logging: it shows exploding
        gradients).

    Notes
    -----
    Same arithmetic as ``torch.nn.utils.clip_grad_norm_`` with ``norm_type=2``: the ``1e-6`` in the
    denominator is torch's, and the scaling happens exactly when :math:`c < 1`, that is when
    :math:`\lVert g \rVert + 10^{-6} > \text{max\_norm}`.
    """
    pairs = _check_pairs(params, "clip_grad_norm")
    max_norm = _check_number(max_norm, "max_norm", "clip_grad_norm")
    # BEGIN SOLUTION 09_rnn
    raise NotImplementedError('clip_grad_norm: implement this in exercise 09_rnn')
    # END SOLUTION
