"""A simulated class for unit 09 (the recurrent layer, BPTT, clipping), graded by real nbgrader.

The reference scores full marks and the untouched release zero. Each plausible mistake loses the
points of its own test, with a phrase of the right message in the feedback. To keep grading short,
a student may make two mistakes in different functions: ``clip_grad_norm`` is graded on plain arrays
and tested visibly on plain arrays and a ``Linear`` layer, and the backward test trains without
clipping, so a mistake in one costs nothing in the other. The mistakes of ``RNN.backward`` each need
a student of their own. A correct alternative (a forward that caches the pre-activations instead of
the states, loops everywhere, clipping without PyTorch's 1e-6) keeps full marks; no submitted file
changes.
"""
from grading_harness import SimulatedClass

UNIT = "09_rnn"
MAX_SCORE = 7
TESTS = ["test_rnn_forward", "test_rnn_backward", "test_clip_grad_norm"]

# student: {mistake: (region rewrite, the test that must lose points, a phrase of its message)}
MISTAKES = {
    "truncates_bptt_and_clips_each_array": {
        # each step on its own: dL/dh_t is never carried back to step t - 1
        "bptt_truncated_to_one_step": (("rnn", "RNN.backward", """
            Wx, Wh = self.params["Wx"], self.params["Wh"]
            h = self._h
            h_prev = np.concatenate([h0[:, None], h[:, :-1]], axis=1)
            da = grad_out * (1.0 - h ** 2)  # each step on its own: nothing carried back through h
            self.dh0 = da[:, 0] @ Wh.T
            self.grads["Wx"] = x.reshape(N * T, -1).T @ da.reshape(N * T, -1)
            self.grads["Wh"] = h_prev.reshape(N * T, -1).T @ da.reshape(N * T, -1)
            self.grads["b"] = da.sum(axis=(0, 1))
            return da @ Wx.T
        """), "test_rnn_backward",
            'the gradient reaches the first input when the loss reads only the last state'),
        # every array clipped by its own norm: the direction of the whole gradient turns
        "clip_each_array_separately": (("optim", "clip_grad_norm", """
            total_norm = float(np.sqrt(sum(np.sum(grad * grad) for _, grad in pairs)))
            for _, grad in pairs:
                norm = float(np.sqrt(np.sum(grad * grad)))
                if norm > max_norm:
                    grad *= max_norm / (norm + 1e-6)
            return total_norm
        """), "test_clip_grad_norm",
            'every gradient is scaled by the same factor'),
    },
    "tanh_slope_at_the_state_and_clip_copies": {
        # unit 04's tanh_derivative applied to the state: 1 - tanh(h)^2, tanh taken twice
        "tanh_slope_taken_at_the_state": (("rnn", "RNN.backward", """
            from .functional import tanh_derivative
            Wx, Wh = self.params["Wx"], self.params["Wh"]
            h = self._h
            h_prev = np.concatenate([h0[:, None], h[:, :-1]], axis=1)
            da = np.empty_like(h)
            dh_next = np.zeros((N, self.hidden_size))
            for t in reversed(range(T)):
                dh = grad_out[:, t] + dh_next
                da[:, t] = dh * tanh_derivative(h[:, t])  # 1 - tanh(h)^2: tanh applied twice
                dh_next = da[:, t] @ Wh.T
            self.dh0 = dh_next
            self.grads["Wx"] = x.reshape(N * T, -1).T @ da.reshape(N * T, -1)
            self.grads["Wh"] = h_prev.reshape(N * T, -1).T @ da.reshape(N * T, -1)
            self.grads["b"] = da.sum(axis=(0, 1))
            return da @ Wx.T
        """), "test_rnn_backward",
            "a plain tanh layer: dL/da = dL/dh * tanh'(a) with tanh'(a) = 1 - h^2"),
        # grad = grad * c makes a new array: the model's gradients stay as they were
        "clip_makes_new_arrays": (("optim", "clip_grad_norm", """
            total_norm = float(np.sqrt(sum(np.sum(grad * grad) for _, grad in pairs)))
            clip_coef = max_norm / (total_norm + 1e-6)
            if clip_coef < 1.0:
                for _, grad in pairs:
                    grad = grad * clip_coef  # a new array: the model's gradient is untouched
            return total_norm
        """), "test_clip_grad_norm",
            'the gradient arrays themselves are scaled, in place'),
    },
    "drops_the_step_loss_and_returns_the_clipped_norm": {
        # grad_out enters at the last step only: the loss on earlier states is dropped
        "loss_gradient_only_at_the_last_step": (("rnn", "RNN.backward", """
            Wx, Wh = self.params["Wx"], self.params["Wh"]
            h = self._h
            h_prev = np.concatenate([h0[:, None], h[:, :-1]], axis=1)
            da = np.empty_like(h)
            dh = grad_out[:, -1]
            for t in reversed(range(T)):
                # dh is what comes back from step t + 1; grad_out[:, t] is never added for t < T
                da[:, t] = dh * (1.0 - h[:, t] ** 2)
                dh = da[:, t] @ Wh.T
            self.dh0 = dh
            self.grads["Wx"] = x.reshape(N * T, -1).T @ da.reshape(N * T, -1)
            self.grads["Wh"] = h_prev.reshape(N * T, -1).T @ da.reshape(N * T, -1)
            self.grads["b"] = da.sum(axis=(0, 1))
            return da @ Wx.T
        """), "test_rnn_backward",
            'the first input gets a gradient when the loss reads only the first state'),
        # returns the norm after clipping instead of before
        "clip_returns_the_norm_after_clipping": (("optim", "clip_grad_norm", """
            total_norm = float(np.sqrt(sum(np.sum(grad * grad) for _, grad in pairs)))
            clip_coef = max_norm / (total_norm + 1e-6)
            if clip_coef < 1.0:
                for _, grad in pairs:
                    grad *= clip_coef
            return float(np.sqrt(sum(np.sum(grad * grad) for _, grad in pairs)))
        """), "test_clip_grad_norm",
            'returns the joint norm of all the gradients BEFORE clipping'),
    },
    "overwrites_the_bias_gradient_each_step": {
        # a loop that assigns the bias gradient at every step instead of adding it
        "bias_gradient_overwritten_at_each_step": (("rnn", "RNN.backward", """
            Wx, Wh = self.params["Wx"], self.params["Wh"]
            h = self._h
            dWx, dWh = np.zeros_like(Wx), np.zeros_like(Wh)
            dx = np.zeros_like(x)
            dh_next = np.zeros((N, self.hidden_size))
            for t in reversed(range(T)):
                h_prev = h[:, t - 1] if t > 0 else h0
                da = (grad_out[:, t] + dh_next) * (1.0 - h[:, t] ** 2)
                dWx += x[:, t].T @ da
                dWh += h_prev.T @ da
                self.grads["b"] = da.sum(axis=0)  # = instead of +=: only step 1 is left
                dx[:, t] = da @ Wx.T
                dh_next = da @ Wh.T
            self.dh0 = dh_next
            self.grads["Wx"] = dWx
            self.grads["Wh"] = dWh
            return dx
        """), "test_rnn_backward",
            "grads['b'] = dL/db, shape (H,), summed over the batch and over every time step"),
    },
    "pairs_the_recurrent_weights_with_h_t": {
        # W_h's gradient pairs step t with h_t, the state after it, not h_{t-1}
        "recurrent_gradient_pairs_h_t_with_step_t": (("rnn", "RNN.backward", """
            Wx, Wh = self.params["Wx"], self.params["Wh"]
            h = self._h
            da = np.empty_like(h)
            dh_next = np.zeros((N, self.hidden_size))
            for t in reversed(range(T)):
                dh = grad_out[:, t] + dh_next
                da[:, t] = dh * (1.0 - h[:, t] ** 2)
                dh_next = da[:, t] @ Wh.T
            self.dh0 = dh_next
            self.grads["Wx"] = x.reshape(N * T, -1).T @ da.reshape(N * T, -1)
            self.grads["Wh"] = h.reshape(N * T, -1).T @ da.reshape(N * T, -1)  # h_t, not h_{t-1}
            self.grads["b"] = da.sum(axis=(0, 1))
            return da @ Wx.T
        """), "test_rnn_backward",
            "grads['Wh'] = dL/dW_h, the sum over t of h_{t-1}^T dL/da_t (the state BEFORE step t)"),
    },
}

ALTERNATIVES = {
    # the forward caches the pre-activations a_t (not the states) and backward reads them;
    # loops over the batch for the weight gradients; clipping with np.linalg.norm, no 1e-6
    "caches_preactivations_and_loops": [
        ("rnn", "RNN.forward", """
            Wx, Wh, b = self.params["Wx"], self.params["Wh"], self.params["b"]
            a = np.zeros((N, T, self.hidden_size))
            h = np.zeros((N, T, self.hidden_size))
            state = h0
            for t in range(T):
                a[:, t] = np.einsum("nd,dh->nh", x[:, t], Wx) + state @ Wh + b
                state = np.tanh(a[:, t])
                h[:, t] = state
            self._a = a
            return h
        """),
        ("rnn", "RNN.backward", """
            Wx, Wh = self.params["Wx"], self.params["Wh"]
            a = self._a
            grads = {"Wx": np.zeros_like(Wx), "Wh": np.zeros_like(Wh), "b": np.zeros(self.hidden_size)}
            dx = np.zeros_like(x)
            carried = np.zeros_like(h0)
            for t in range(T - 1, -1, -1):
                h_prev = h0 if t == 0 else np.tanh(a[:, t - 1])
                da = (grad_out[:, t] + carried) / np.cosh(a[:, t]) ** 2
                for n in range(N):
                    grads["Wx"] += np.outer(x[n, t], da[n])
                    grads["Wh"] += np.outer(h_prev[n], da[n])
                    grads["b"] += da[n]
                dx[:, t] = da @ Wx.T
                carried = da @ Wh.T
            for name, value in grads.items():
                self.grads[name] = value
            self.dh0 = carried
            return dx
        """),
        ("optim", "clip_grad_norm", """
            flat = np.concatenate([grad.ravel() for _, grad in pairs])
            total_norm = np.linalg.norm(flat)
            if total_norm > max_norm:
                for _, grad in pairs:
                    np.multiply(grad, max_norm / total_norm, out=grad)
            return float(total_norm)
        """),
    ],
}


class TestUnit09(SimulatedClass):
    unit, tests, max_score = UNIT, TESTS, MAX_SCORE
    mistakes, alternatives = MISTAKES, ALTERNATIVES
    mistake_count = 8
