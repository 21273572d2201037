"""Probes of unit 05: the layers' backward passes, ``Sequential.backward``, ``SGD.step`` and ``Value``.

Each function is graded on its own, so one mistake costs one test:

* ``Linear.backward`` runs on a layer of the student's class whose ``W`` and ``b`` are set here
  (its initialisation plays no part); the activations' ``backward`` after their released forward.
* ``Sequential.backward`` chains stand-in layers defined here. Their backward is a scripted affine
  map of the gradient, unrelated to their forward (the derivative of nothing), and logs when it
  runs and what shape it was given: only the chaining is judged. A gradient of the wrong shape gets
  NaNs back instead of an exception, so a wrong order is reported as such.
* ``SGD.step`` updates plain arrays.
* Each ``Value`` operation is applied to leaves only. The probe sets ``out.grad`` itself and calls
  ``out._backward()`` (the closure the operation attaches), never the student's ``backward``; the
  operands' ``grad`` start at nonzero numbers, so a closure that assigns instead of adding shows.
* ``Value.backward`` walks a random graph of ``Value`` nodes made with the constructor alone, whose
  ``_backward`` closures are scripted here (random local derivatives that log when they run): only
  the order of the walk and the seed ``out.grad = 1`` are the student's.

Results hold numbers, booleans and arrays only. A boolean names one property, so a wrong answer
reads "a node's _backward runs only after those of every node that uses it: expected True, got
False"; values come after the properties.
"""
import numpy as np

from . import probe


def _same(got, expected, rtol=1e-9, atol=1e-12):
    """True if ``got`` is an array of ``expected``'s shape with the same values (never raises)."""
    return (isinstance(got, np.ndarray) and got.shape == expected.shape
            and bool(np.all(np.isfinite(got) == np.isfinite(expected)))
            and bool(np.allclose(got, expected, rtol=rtol, atol=atol)))


def _copy(value):
    """A snapshot of what a student's function returned or stored (arrays copied, others as they are)."""
    return np.array(value, copy=True) if isinstance(value, np.ndarray) else value


# ----------------------------------------------------------------------------------------------
# Linear.backward

def _linear_layer(nn, W, b):
    """A Linear layer of the student's class with the given W and b, whatever its initialisation."""

    class FixedLinear(nn.layers.Linear):
        def reset_parameters(self):
            self._add_parameter("W", np.zeros((self.in_features, self.out_features)))
            self._add_parameter("b", np.zeros(self.out_features))

    layer = FixedLinear(W.shape[0], W.shape[1])
    layer.params["W"] = W
    layer.params["b"] = b
    return layer


def _backward_of(layer, x, grad_out):
    """``dx``, ``grads['W']``, ``grads['b']`` (copies) after ``forward(x)`` and ``backward(grad_out)``."""
    layer.forward(x)
    dx = _copy(layer.backward(grad_out))
    return dx, _copy(layer.grads.get("W")), _copy(layer.grads.get("b"))


@probe("nnlib.layers.Linear.backward", label="Linear.backward")
def _(nn, rng):
    # Distinct sizes (batch too), so that a transposed product fails instead of passing by accident.
    n_in, n_out, n = [int(size) for size in rng.choice(np.arange(2, 9), 3, replace=False)]
    W, b = rng.normal(size=(n_in, n_out)), rng.normal(size=n_out)
    layer = _linear_layer(nn, W, b)
    x, grad_out = rng.normal(size=(n, n_in)), rng.normal(size=(n, n_out))
    dx, dW, db = _backward_of(layer, x, grad_out)
    unchanged = _same(layer.params["W"], W, 0, 0) and _same(layer.params["b"], b, 0, 0)
    _, dW_again, db_again = _backward_of(layer, x, grad_out)
    overwritten = (isinstance(dW, np.ndarray) and isinstance(db, np.ndarray)
                   and _same(dW_again, dW) and _same(db_again, db))
    one_x, one_grad = rng.normal(size=(1, n_in)), rng.normal(size=(1, n_out))
    dx_one, dW_one, db_one = _backward_of(layer, one_x, one_grad)
    return {
        f"dx = dL/dx, of the shape of x ({n}, {n_in})": dx,
        f"grads['W'] = dL/dW, of the shape of W ({n_in}, {n_out})": dW,
        f"grads['b'] = dL/db, of the shape of b ({n_out},), a sum over the {n} examples": db,
        "backward leaves W and b unchanged": unchanged,
        "a second backward on the same batch stores the same grads (overwrite them, do not add "
        "to them)": overwritten,
        "dx for a batch of one example": dx_one,
        "grads['W'] for a batch of one example": dW_one,
        "grads['b'] for a batch of one example": db_one,
    }


# ----------------------------------------------------------------------------------------------
# Activations: backward after the released forward

def _pre_activations(rng, large):
    """Shape (5, 9): normal values, exact zeros and +-1, and the large magnitudes ``large``."""
    special = np.concatenate([[0.0, 0.0, 1.0, -1.0], large, -np.asarray(large)])
    z = np.concatenate([special, rng.normal(0.0, 3.0, 45 - len(special))])
    return rng.permutation(z).reshape(5, 9)


def _activation_backward(nn, rng, cls, large, properties):
    """``properties`` maps a name to ``check(z, local)``, ``local`` being ``backward(ones)`` at ``z``."""
    z = _pre_activations(rng, large)
    grad_out = rng.normal(size=z.shape)
    cube, grad_cube = rng.normal(0.0, 2.0, (2, 3, 4)), rng.normal(size=(2, 3, 4))
    layer = getattr(nn.layers, cls)()
    layer.forward(z)
    local = _copy(layer.backward(np.ones_like(z)))
    layer.forward(z)
    out = _copy(layer.backward(grad_out))
    result = {"backward returns an array of the shape of the input":
              isinstance(out, np.ndarray) and out.shape == z.shape}
    result.update({name: bool(isinstance(local, np.ndarray) and local.shape == z.shape
                              and check(z, local, grad_out, out))
                   for name, check in properties.items()})
    result["backward(ones) at x of shape (5, 9): the derivative at each x"] = local
    result["backward(dy) at x of shape (5, 9)"] = out
    layer.forward(cube)
    result["backward(dy) at x of shape (2, 3, 4)"] = _copy(layer.backward(grad_cube))
    return result


def _at(z, local, value):
    """The derivatives ``local`` where ``z == value``."""
    return local[z == value]


@probe("nnlib.layers.Sigmoid.backward", label="Sigmoid.backward")
def _(nn, rng):
    return _activation_backward(nn, rng, "Sigmoid", [10.0, 40.0, 750.0, 1000.0], {
        "the derivative at x = 0 is 1/4 (is it taken at the input x, not at the output?)":
            lambda z, local, dy, out: np.allclose(_at(z, local, 0.0), 0.25, rtol=1e-12),
        "the derivative is symmetric, sigma'(-x) = sigma'(x)":
            lambda z, local, dy, out: np.allclose(_at(z, local, 1.0), _at(z, local, -1.0), rtol=1e-9),
        "the derivative vanishes for large |x| (no overflow)":
            lambda z, local, dy, out: bool(np.all(np.abs(local[np.abs(z) >= 750]) < 1e-300)),
    })


@probe("nnlib.layers.Tanh.backward", label="Tanh.backward")
def _(nn, rng):
    return _activation_backward(nn, rng, "Tanh", [5.0, 20.0, 300.0], {
        "the derivative at x = 0 is 1": lambda z, local, dy, out: np.allclose(_at(z, local, 0.0), 1.0),
        "the derivative lies in [0, 1] (is it taken at tanh(x), the output, in 1 - tanh^2?)":
            lambda z, local, dy, out: bool(np.all((local >= 0) & (local <= 1))),
        "the derivative vanishes for large |x|":
            lambda z, local, dy, out: bool(np.all(np.abs(local[np.abs(z) >= 20]) < 1e-15)),
    })


@probe("nnlib.layers.ReLU.backward", label="ReLU.backward")
def _(nn, rng):
    return _activation_backward(nn, rng, "ReLU", [1e-9, 0.5, 2.0, 1e6], {
        "the gradient passes unchanged where the input x > 0":
            lambda z, local, dy, out: _same(out[z > 0], dy[z > 0], 0, 0),
        "the gradient is 0 where the input x <= 0 (x = 0 included), whatever its sign":
            lambda z, local, dy, out: bool(np.all(out[z <= 0] == 0)),
    })


# ----------------------------------------------------------------------------------------------
# Sequential.backward: chains stand-in layers that log the order in which their backward runs.

def _stand_in_layers(nn, rng, log, widths):
    """Layers mapping width ``widths[i]`` to ``widths[i + 1]``, whose backward is scripted.

    ``backward(grad)`` returns ``grad @ M + c`` for random ``M`` and ``c`` drawn here, unrelated to
    the forward map: no layer's derivative, just a distinct, checkable transformation. It logs
    ``(index, whether grad had the shape of the layer's output)`` and returns NaNs for a wrong shape.
    """
    Module = nn.module.Module

    class StandIn(Module):
        def __init__(self, index, d_in, d_out):
            super().__init__()
            self.index, self.d_in, self.d_out = index, d_in, d_out
            self.P = rng.normal(size=(d_in, d_out))
            self.M, self.c = rng.normal(size=(d_out, d_in)), rng.normal(size=d_in)
            self.batch = None

        def forward(self, x):
            x = np.asarray(x, dtype=np.float64)
            self.batch = x.shape[0]
            return np.sin(x @ self.P)

        def backward(self, grad_out):
            grad_out = np.asarray(grad_out, dtype=np.float64)
            fits = grad_out.shape == (self.batch, self.d_out)
            log.append((self.index, fits))
            if not fits:
                return np.full((self.batch, self.d_in), np.nan)
            return grad_out @ self.M + self.c

    return [StandIn(index, d_in, d_out)
            for index, (d_in, d_out) in enumerate(zip(widths[:-1], widths[1:]))]


@probe("nnlib.layers.Sequential.backward", label="Sequential.backward")
def _(nn, rng):
    widths = [int(size) for size in rng.choice(np.arange(2, 9), 5, replace=False)]
    log = []
    layers = _stand_in_layers(nn, rng, log, widths)
    n = int(rng.integers(3, 8))
    x = rng.normal(size=(n, widths[0]))
    model = nn.layers.Sequential(*layers)
    model.forward(x)
    dx = _copy(model.backward(rng.normal(size=(n, widths[-1]))))
    order = [index for index, _ in log]
    fits = all(fit for _, fit in log)
    log.clear()
    single = nn.layers.Sequential(layers[0])
    single.forward(x)
    dx_single = _copy(single.backward(rng.normal(size=(n, widths[1]))))
    return {
        "the layers' backward run in reverse order, last layer first":
            order[:1] == [len(layers) - 1] and order == sorted(order, reverse=True),
        "each layer's backward runs exactly once": sorted(order) == list(range(len(layers))),
        "each layer's backward gets the gradient of its own output (the one returned by the "
        "layer after it)": fits,
        f"the returned dL/dx for 4 layers, shape ({n}, {widths[0]})": dx,
        "the returned dL/dx for a Sequential of one layer": dx_single,
    }


# ----------------------------------------------------------------------------------------------
# SGD.step

@probe("nnlib.optim.SGD.step", label="SGD.step")
def _(nn, rng):
    shapes = [(int(rng.integers(2, 5)), int(rng.integers(2, 5))), (int(rng.integers(2, 6)),),
              (2, 3, 2)]
    params = [rng.normal(size=shape) for shape in shapes]
    grads = [rng.normal(size=shape) for shape in shapes]
    lr = float(rng.uniform(0.05, 0.5))
    optimizer = nn.optim.SGD(list(zip(params, grads)), lr=lr)
    before, grads_before = [p.copy() for p in params], [g.copy() for g in grads]
    optimizer.step()
    first = [p.copy() for p in params]
    result = {
        "step changes the parameter arrays themselves (in place, as the model holds them)":
            any(not np.array_equal(p, q) for p, q in zip(first, before)),
        "step leaves the gradients unchanged": all(np.array_equal(g, h) for g, h in
                                                   zip(grads, grads_before)),
    }
    for i, (p, q) in enumerate(zip(first, before)):
        result[f"change of parameter {i} in the first step (param_after - param_before)"] = p - q
    # The next backward overwrites the gradient arrays; the step must read them anew.
    for grad in grads:
        grad[...] = rng.normal(size=grad.shape)
    optimizer.step()
    for i, (p, q) in enumerate(zip(params, first)):
        result[f"change of parameter {i} in a second step, with new gradients"] = p - q
    return result


# ----------------------------------------------------------------------------------------------
# Value operations: applied to leaves; the closure ``out._backward`` is called by the probe.

def _leaves(nn, rng, *data):
    """Leaves holding ``data``, each with a nonzero ``grad`` already (an earlier contribution)."""
    leaves = []
    for value in data:
        leaf = nn.autodiff.Value(float(value))
        leaf.grad = float(rng.uniform(0.5, 2.0) * rng.choice([-1.0, 1.0]))
        leaves.append(leaf)
    return leaves


def _applied(nn, rng, name, operation, operands, result):
    """Apply ``operation`` to ``operands`` (leaves), then ``out._backward()`` with a random out.grad.

    Adds to ``result`` what must match: out.data, out._prev and each operand's grad afterwards.
    False if ``operation`` returned no Value (the comparison stops at that entry).
    """
    out = operation(*operands)
    is_value = isinstance(out, nn.autodiff.Value)
    result[f"{name} returns a Value"] = is_value
    if not is_value:
        return False
    result[f"{name}: out.data"] = out.data
    result[f"{name}: out._prev holds the operand(s), so backward can find them"] = \
        all(operand in out._prev for operand in operands)
    out.grad = float(rng.normal())
    out._backward()
    for label, operand in zip("ab", dict.fromkeys(operands)):
        result[f"{name}: {label}.grad after out._backward(), which does {label}.grad += "
               f"d(out)/d{label} * out.grad"] = operand.grad
    return True


def _binary(nn, rng, symbol, operation):
    result = {}
    a_data, b_data, number = rng.normal(0.0, 2.0, 3)
    if _applied(nn, rng, f"out = a {symbol} b", operation, _leaves(nn, rng, a_data, b_data), result):
        _applied(nn, rng, f"out = a {symbol} a (a used twice)", lambda a: operation(a, a),
                 _leaves(nn, rng, a_data), result)
        _applied(nn, rng, f"out = a {symbol} {number:.3g} (a number)", lambda a: operation(a, float(number)),
                 _leaves(nn, rng, a_data), result)
    return result


@probe("nnlib.autodiff.Value.__add__", label="Value.__add__")
def _(nn, rng):
    return _binary(nn, rng, "+", lambda a, b: a + b)


@probe("nnlib.autodiff.Value.__mul__", label="Value.__mul__")
def _(nn, rng):
    return _binary(nn, rng, "*", lambda a, b: a * b)


def _unary(nn, rng, name, operation, inputs):
    result = {}
    for x in inputs:
        if not _applied(nn, rng, f"{name} at a = {x:.4g}", operation, _leaves(nn, rng, x), result):
            break
    return result


@probe("nnlib.autodiff.Value.__pow__", label="Value.__pow__")
def _(nn, rng):
    result = {}
    base = float(rng.uniform(0.3, 3.0))
    cases = [(base, 2), (base, 3), (base, -1), (base, 0.5), (base, -2.5), (base, 0),
             (-base, 3), (-base, -2)]
    for x, exponent in cases:
        if not _applied(nn, rng, f"a ** {exponent} at a = {x:.4g}", lambda a: a ** exponent,
                        _leaves(nn, rng, x), result):
            break
    return result


@probe("nnlib.autodiff.Value.tanh", label="Value.tanh")
def _(nn, rng):
    return _unary(nn, rng, "tanh(a)", lambda a: a.tanh(),
                  [*rng.normal(0.0, 1.5, 3), 0.0, 25.0, -800.0])


@probe("nnlib.autodiff.Value.exp", label="Value.exp")
def _(nn, rng):
    return _unary(nn, rng, "exp(a)", lambda a: a.exp(), [*rng.normal(0.0, 1.5, 3), 0.0, -40.0, 30.0])


@probe("nnlib.autodiff.Value.log", label="Value.log")
def _(nn, rng):
    return _unary(nn, rng, "log(a)", lambda a: a.log(),
                  [*rng.uniform(0.05, 5.0, 3), 1.0, 1e-3, 1e6])


@probe("nnlib.autodiff.Value.relu", label="Value.relu")
def _(nn, rng):
    return _unary(nn, rng, "relu(a)", lambda a: a.relu(),
                  [*np.abs(rng.normal(0.0, 2.0, 2)), *-np.abs(rng.normal(0.0, 2.0, 2)), 0.0, 1e-9])


# ----------------------------------------------------------------------------------------------
# Value.backward: a graph with scripted closures; only the walk is the student's.

def _scripted_graph(nn, rng, log):
    """A random graph of Values: leaves, then inner nodes reading 1 to 3 earlier nodes.

    Node ``k`` reads node ``k - 1`` (a long chain) and possibly others (shortcuts, so nodes are used
    several times). The output also reads an early inner node directly: walking it before the
    long path through the chain has reached it gives it only part of its gradient. Each closure adds
    ``weight * node.grad`` to each input's ``grad`` and logs ``k``. Returns the nodes, output last,
    and ``users[k]``, the nodes that read node ``k``.
    """
    Value = nn.autodiff.Value
    n_leaves, n_inner = int(rng.integers(3, 5)), int(rng.integers(7, 11))
    nodes = [Value(float(rng.normal())) for _ in range(n_leaves)]
    users = {k: [] for k in range(n_leaves + n_inner)}

    def scripted(k, node, inputs, weights):
        def _backward():
            log.append(k)
            for index, weight in zip(inputs, weights):
                nodes[index].grad += weight * node.grad
        return _backward

    for k in range(n_leaves, n_leaves + n_inner):
        if k == n_leaves:
            inputs = list(range(n_leaves))                      # the first inner node reads every leaf
        else:
            others = rng.choice(k - 1, size=int(rng.integers(0, 3)), replace=False)
            inputs = [k - 1, *[int(i) for i in others if i != k - 1]]
            if k == n_leaves + n_inner - 1 and n_leaves + 1 not in inputs:
                inputs.append(n_leaves + 1)                     # the output reads an early inner node
        weights = rng.normal(size=len(inputs))
        node = Value(float(rng.normal()), tuple(nodes[i] for i in inputs), "scripted")
        node._backward = scripted(k, node, inputs, weights)
        nodes.append(node)
        for index in inputs:
            users[index].append(k)
    return nodes, users


@probe("nnlib.autodiff.Value.backward", label="Value.backward")
def _(nn, rng):
    log = []
    nodes, users = _scripted_graph(nn, rng, log)
    out = nodes[-1]
    out.backward()
    inner = [k for k, node in enumerate(nodes) if node._prev]
    position = {k: log.index(k) for k in set(log)}
    in_order = all(k in position and all(user in position and position[user] < position[k]
                                         for user in users[k]) for k in inner)
    leaf = nn.autodiff.Value(float(rng.normal()))
    leaf.backward()
    return {
        "out.grad is set to 1 (d out / d out)": out.grad,
        "every node's _backward runs exactly once": sorted(log) == sorted(inner),
        "a node's _backward runs only after those of every node that uses it (reverse "
        "topological order)": in_order,
        f"grad of each of the {len(nodes)} nodes, inputs first": np.array([node.grad for node in nodes]),
        "backward() on a lone Value sets its grad to 1": leaf.grad,
    }
