"""A simulated class for unit 05 (backward passes, SGD, the Value engine), graded by real nbgrader.

The reference scores full marks and the untouched release zero. Each plausible mistake loses the
points of its own test, with a phrase of the right message in the feedback. To keep grading short,
a student makes several mistakes, each in a different function: the probes isolate the functions
(Sequential.backward runs on stand-in layers, each Value operation on leaves with its closure called
by hand, Value.backward on nodes with scripted closures) and so do the visible tests, so every
other test of that student keeps its points. Correct alternatives keep full marks, whether they
sort the graph without recursion (Kahn's algorithm) or recursively (two ways, one of them the
reference's own recursive sort, kept here as the reference becomes iterative); no submitted file
changes.
"""
from grading_harness import SimulatedClass

UNIT = "05_backprop"
MAX_SCORE = 16
TESTS = ["test_linear_backward", "test_sigmoid_backward", "test_tanh_backward", "test_relu_backward",
         "test_sequential_backward", "test_sgd_step", "test_value_add", "test_value_mul",
         "test_value_pow", "test_value_tanh", "test_value_exp", "test_value_log", "test_value_relu",
         "test_value_backward"]

# student: {mistake: (region rewrite, the test that must lose points, a phrase of its message)}
MISTAKES = {
    "slips_in_the_layers": {
        # dx = dy @ W: the transpose forgotten, so the gradient never reaches the input
        "dx_without_transpose": (("layers", "Linear.backward", """
            self.grads["W"] = x.T @ grad_out
            self.grads["b"] = grad_out.sum(axis=0)
            return grad_out @ self.params["W"]
        """), "test_linear_backward", "Linear.backward raised ValueError: matmul"),
        "sigmoid_slope_at_the_output": (("layers", "Sigmoid.backward",
                                         "return grad_out * sigmoid_derivative(sigmoid(x))"),
                                        "test_sigmoid_backward", "the derivative at x = 0 is 1/4"),
        # the mask taken from the gradient instead of the input: relu(dy)
        "relu_mask_from_the_gradient": (("layers", "ReLU.backward", "return np.maximum(grad_out, 0.0)"),
                                        "test_relu_backward",
                                        "the gradient passes unchanged where the input x > 0"),
        "sequential_in_forward_order": (("layers", "Sequential.backward", """
            for layer in self.layers:
                grad_out = layer.backward(grad_out)
            return grad_out
        """), "test_sequential_backward", "backward run in reverse order, last layer first"),
        "sgd_ascends": (("optim", "SGD.step", "param += self.lr * grad"), "test_sgd_step",
                        "has the wrong sign"),
    },
    "slips_in_sums_and_order": {
        # the 1/N of the mean loss applied a second time
        "bias_mean_over_the_batch": (("layers", "Linear.backward", """
            self.grads["W"] = x.T @ grad_out
            self.grads["b"] = grad_out.mean(axis=0)
            return grad_out @ self.params["W"].T
        """), "test_linear_backward", "times too small: did you take a mean where a sum is needed"),
        "tanh_slope_from_the_input": (("layers", "Tanh.backward", "return grad_out * (1.0 - x ** 2)"),
                                      "test_tanh_backward", "the derivative lies in [0, 1]"),
        # = instead of +=: a node used twice (or already holding a gradient) keeps one contribution
        "mul_assigns_instead_of_adding": (("autodiff", "Value.__mul__", """
            out = Value(self.data * other.data, (self, other), '*')
            def _backward():
                self.grad = other.data * out.grad
                other.grad = self.data * out.grad
            out._backward = _backward
            return out
        """), "test_value_mul", "which does a.grad += d(out)/da * out.grad"),
        "value_tanh_slope_from_the_input": (("autodiff", "Value.tanh", """
            out = Value(math.tanh(self.data), (self,), 'tanh')
            def _backward():
                self.grad += (1 - self.data ** 2) * out.grad
            out._backward = _backward
            return out
        """), "test_value_tanh", "a.grad after out._backward()"),
        # breadth first from the output: a node passes its gradient on before it is complete
        "backward_breadth_first": (("autodiff", "Value.backward", """
            self.grad = 1.0
            queue, seen = [self], {self}
            while queue:
                node = queue.pop(0)
                node._backward()
                for child in node._prev:
                    if child not in seen:
                        seen.add(child)
                        queue.append(child)
        """), "test_value_backward", "reverse topological order"),
    },
}

ALTERNATIVES = {
    # every function written differently; Value.backward finds its order without recursion
    "other_correct_forms": [
        ("layers", "Linear.backward", """
            W = self.params["W"]
            self.grads["W"] = np.einsum("ni,nk->ik", x, grad_out)
            self.grads["b"] = np.ones(x.shape[0]) @ grad_out
            dx = np.zeros_like(x)
            for n in range(x.shape[0]):
                dx[n] = W @ grad_out[n]
            return dx
        """),
        ("layers", "Sigmoid.backward", """
            s = sigmoid(x)
            return grad_out * s * (1.0 - s)
        """),
        ("layers", "Tanh.backward", "return grad_out / np.cosh(np.clip(x, -300, 300)) ** 2"),
        ("layers", "ReLU.backward", "return np.where(x > 0, grad_out, 0.0)"),
        ("layers", "Sequential.backward", """
            import functools
            return functools.reduce(lambda grad, layer: layer.backward(grad), self.layers[::-1], grad_out)
        """),
        ("optim", "SGD.step", "np.subtract(param, self.lr * grad, out=param)"),
        ("autodiff", "Value.__add__", """
            out = Value(self.data + other.data, (self, other), '+')
            def _backward():
                for operand in (self, other):
                    operand.grad += out.grad
            out._backward = _backward
            return out
        """),
        ("autodiff", "Value.__pow__", """
            out = Value(math.pow(self.data, exponent), (self,), f'**{exponent}')
            def _backward():
                self.grad += exponent * math.pow(self.data, exponent - 1) * out.grad
            out._backward = _backward
            return out
        """),
        ("autodiff", "Value.tanh", """
            e = math.exp(-2.0 * abs(self.data))          # tanh from exp, without overflow
            out = Value(math.copysign((1.0 - e) / (1.0 + e), self.data), (self,), 'tanh')
            def _backward():
                self.grad += (1 - out.data * out.data) * out.grad
            out._backward = _backward
            return out
        """),
        ("autodiff", "Value.exp", """
            e = math.exp(self.data)
            out = Value(e, (self,), 'exp')
            def _backward():
                self.grad += e * out.grad
            out._backward = _backward
            return out
        """),
        ("autodiff", "Value.log", """
            out = Value(math.log(self.data), (self,), 'log')
            def _backward():
                self.grad += (1.0 / self.data) * out.grad
            out._backward = _backward
            return out
        """),
        # the mask read from the output: relu(a) > 0 exactly where a > 0
        ("autodiff", "Value.relu", """
            out = Value(self.data if self.data > 0 else 0.0, (self,), 'relu')
            def _backward():
                if out.data > 0:
                    self.grad += out.grad
            out._backward = _backward
            return out
        """),
        # Kahn's algorithm: count the users of each node; a node is ready once all have passed
        ("autodiff", "Value.backward", """
            users, stack, seen = {}, [self], {self}
            while stack:
                node = stack.pop()
                for child in node._prev:
                    users[child] = users.get(child, 0) + 1
                    if child not in seen:
                        seen.add(child)
                        stack.append(child)
            self.grad = 1.0
            ready = [self]
            while ready:
                node = ready.pop()
                node._backward()
                for child in node._prev:
                    users[child] -= 1
                    if users[child] == 0:
                        ready.append(child)
        """),
    ],
    # the reference's recursive depth-first sort as it was before the reference became iterative:
    # a recursive order must keep full marks whatever the reference does
    "recursive_topological_sort": [
        ("autodiff", "Value.backward", """
            # depth-first: a node enters `order` only after all of its inputs
            order, visited = [], set()
            def build(node):
                if node not in visited:
                    visited.add(node)
                    for child in node._prev:
                        build(child)
                    order.append(node)
            build(self)
            self.grad = 1.0  # d(self)/d(self)
            for node in reversed(order):
                node._backward()
        """),
    ],
    # the recursive walk written differently: the list built by the recursion itself, then reversed
    "recursive_walk_returning_lists": [
        ("autodiff", "Value.backward", """
            def after_inputs(node, seen):
                if node in seen:
                    return []
                seen.add(node)
                return [n for child in node._prev for n in after_inputs(child, seen)] + [node]
            self.grad = 1.0
            for node in reversed(after_inputs(self, set())):
                node._backward()
        """),
    ],
}


class TestUnit05(SimulatedClass):
    unit, tests, max_score = UNIT, TESTS, MAX_SCORE
    mistakes, alternatives = MISTAKES, ALTERNATIVES
    mistake_count = 10
