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
MAX_SCORE = 12
TESTS = ["test_rnn_forward", "test_rnn_backward", "test_clip_grad_norm", "test_lstm_forward",
         "test_lstm_backward"]

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
        # the loop over time stops one step early: the first step never gets its gradient
        "lstm_backward_stops_one_step_early": (("rnn", "LSTM.backward", """
            Wx, Wh = self.params["Wx"], self.params["Wh"]
            H = self.hidden_size
            # the reference forward keeps its caches time-major: make them (N, T, .)
            gates, c, h = (v.transpose(1, 0, 2) for v in (self._gates, self._c, self._h))
            c_prev = np.concatenate([c0[:, None], c[:, :-1]], axis=1)
            h_prev = np.concatenate([h0[:, None], h[:, :-1]], axis=1)
            da = np.zeros_like(gates)
            dh_next, dc_next = np.zeros((N, H)), np.zeros((N, H))
            for t in reversed(range(1, T)):  # stops one step early: t = 0 is never reached
                i, f, g, o = np.split(gates[:, t], 4, axis=1)
                tanh_c = np.tanh(c[:, t])
                dh = grad_out[:, t] + dh_next
                dc = dc_next + dh * o * (1.0 - tanh_c ** 2)
                da[:, t, :H] = dc * g * i * (1.0 - i)
                da[:, t, H:2 * H] = dc * c_prev[:, t] * f * (1.0 - f)
                da[:, t, 2 * H:3 * H] = dc * i * (1.0 - g ** 2)
                da[:, t, 3 * H:] = dh * tanh_c * o * (1.0 - o)
                dc_next = dc * f
                dh_next = da[:, t] @ Wh.T
            self.dh0, self.dc0 = dh_next, dc_next
            self.grads["Wx"] = x.reshape(N * T, -1).T @ da.reshape(N * T, -1)
            self.grads["Wh"] = h_prev.reshape(N * T, -1).T @ da.reshape(N * T, -1)
            self.grads["b"] = da.sum(axis=(0, 1))
            return da @ Wx.T
        """), "test_lstm_backward",
            "gets a gradient at time step t = 1: the loop over time must run down to the first step"),
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
        # the candidate g is a tanh, but its derivative is taken as a sigmoid's, g (1 - g)
        "lstm_candidate_gate_with_the_sigmoid_slope": (("rnn", "LSTM.backward", """
            Wx, Wh = self.params["Wx"], self.params["Wh"]
            H = self.hidden_size
            # the reference forward keeps its caches time-major: make them (N, T, .)
            gates, c, h = (v.transpose(1, 0, 2) for v in (self._gates, self._c, self._h))
            c_prev = np.concatenate([c0[:, None], c[:, :-1]], axis=1)
            h_prev = np.concatenate([h0[:, None], h[:, :-1]], axis=1)
            da = np.zeros_like(gates)
            dh_next, dc_next = np.zeros((N, H)), np.zeros((N, H))
            for t in reversed(range(T)):
                i, f, g, o = np.split(gates[:, t], 4, axis=1)
                tanh_c = np.tanh(c[:, t])
                dh = grad_out[:, t] + dh_next
                dc = dc_next + dh * o * (1.0 - tanh_c ** 2)
                da[:, t, :H] = dc * g * i * (1.0 - i)
                da[:, t, H:2 * H] = dc * c_prev[:, t] * f * (1.0 - f)
                da[:, t, 2 * H:3 * H] = dc * i * g * (1.0 - g)  # sigmoid's slope for the tanh gate
                da[:, t, 3 * H:] = dh * tanh_c * o * (1.0 - o)
                dc_next = dc * f
                dh_next = da[:, t] @ Wh.T
            self.dh0, self.dc0 = dh_next, dc_next
            self.grads["Wx"] = x.reshape(N * T, -1).T @ da.reshape(N * T, -1)
            self.grads["Wh"] = h_prev.reshape(N * T, -1).T @ da.reshape(N * T, -1)
            self.grads["b"] = da.sum(axis=(0, 1))
            return da @ Wx.T
        """), "test_lstm_backward",
            "the candidate g: dL/da_g = dL/dc_t * i * (1 - g^2)"),
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
        # dL/dc_t forgets the c_{t-1} path: what comes back from c_{t+1} is never added
        "lstm_cell_gradient_not_carried_to_c_t_minus_1": (("rnn", "LSTM.backward", """
            Wx, Wh = self.params["Wx"], self.params["Wh"]
            H = self.hidden_size
            # the reference forward keeps its caches time-major: make them (N, T, .)
            gates, c, h = (v.transpose(1, 0, 2) for v in (self._gates, self._c, self._h))
            c_prev = np.concatenate([c0[:, None], c[:, :-1]], axis=1)
            h_prev = np.concatenate([h0[:, None], h[:, :-1]], axis=1)
            da = np.zeros_like(gates)
            dh_next, dc_next = np.zeros((N, H)), np.zeros((N, H))
            for t in reversed(range(T)):
                i, f, g, o = np.split(gates[:, t], 4, axis=1)
                tanh_c = np.tanh(c[:, t])
                dh = grad_out[:, t] + dh_next
                dc = dh * o * (1.0 - tanh_c ** 2)  # what came back from c_{t+1} is dropped
                da[:, t, :H] = dc * g * i * (1.0 - i)
                da[:, t, H:2 * H] = dc * c_prev[:, t] * f * (1.0 - f)
                da[:, t, 2 * H:3 * H] = dc * i * (1.0 - g ** 2)
                da[:, t, 3 * H:] = dh * tanh_c * o * (1.0 - o)
                dc_next = dc * f
                dh_next = da[:, t] @ Wh.T
            self.dh0, self.dc0 = dh_next, dc_next
            self.grads["Wx"] = x.reshape(N * T, -1).T @ da.reshape(N * T, -1)
            self.grads["Wh"] = h_prev.reshape(N * T, -1).T @ da.reshape(N * T, -1)
            self.grads["b"] = da.sum(axis=(0, 1))
            return da @ Wx.T
        """), "test_lstm_backward",
            "the gradient still reaches the first input through the cell state: dL/dc_{t-1} adds "
            "dL/dc_t * f_t"),
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
        # the new cell state forgets the old one: c_t = i * g instead of f * c_{t-1} + i * g
        "lstm_cell_forgets_c_t_minus_1": (("rnn", "LSTM.forward", """
            Wx, Wh, b = self.params["Wx"], self.params["Wh"], self.params["b"]
            H = self.hidden_size
            gates = np.empty((T, N, 4 * H))  # time-major, as the reference's backward reads them
            c, tanh_c, h = np.empty((T, N, H)), np.empty((T, N, H)), np.empty((T, N, H))
            h_prev = h0
            for t in range(T):
                a = x[:, t] @ Wx + h_prev @ Wh + b
                gates[t] = 0.5 + 0.5 * np.tanh(0.5 * a)
                gates[t, :, 2 * H:3 * H] = np.tanh(a[:, 2 * H:3 * H])
                i, f, g, o = np.split(gates[t], 4, axis=1)
                c[t] = i * g  # the forget gate's term f * c_{t-1} is left out
                tanh_c[t] = np.tanh(c[t])
                h_prev = h[t] = o * tanh_c[t]
            self._gates, self._c, self._tanh_c, self._h = gates, c, tanh_c, h
            return h.transpose(1, 0, 2).copy()
        """), "test_lstm_forward",
            "one step from a nonzero c0: c_1 = f * c_0 + i * g (the term f * c_{t-1} keeps"),
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
    # loops over the batch for the RNN's weight gradients (einsum per step for the LSTM's, whose
    # training in section 8 would otherwise outlast the cell time-out); clipping with
    # np.linalg.norm, no 1e-6
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
        ("rnn", "LSTM.forward", """
            H = self.hidden_size
            W = np.concatenate([self.params["Wx"], self.params["Wh"]])  # one matrix for [x_t, h]
            pre = np.zeros((N, T, 4 * H))
            cells = np.zeros((N, T + 1, H))
            states = np.zeros((N, T + 1, H))
            cells[:, 0], states[:, 0] = c0, h0
            for t in range(T):
                pre[:, t] = np.hstack([x[:, t], states[:, t]]) @ W + self.params["b"]
                i = 1.0 / (1.0 + np.exp(-pre[:, t, :H]))
                f = 1.0 / (1.0 + np.exp(-pre[:, t, H:2 * H]))
                g = np.tanh(pre[:, t, 2 * H:3 * H])
                o = 1.0 / (1.0 + np.exp(-pre[:, t, 3 * H:]))
                cells[:, t + 1] = f * cells[:, t] + i * g
                states[:, t + 1] = o * np.tanh(cells[:, t + 1])
            self._pre, self._cells, self._states = pre, cells, states
            return states[:, 1:].copy()
        """),
        ("rnn", "LSTM.backward", """
            H = self.hidden_size
            Wx, Wh = self.params["Wx"], self.params["Wh"]
            pre, cells, states = self._pre, self._cells, self._states
            grads = {"Wx": np.zeros_like(Wx), "Wh": np.zeros_like(Wh), "b": np.zeros(4 * H)}
            dx = np.zeros_like(x)
            dh_carry, dc_carry = np.zeros((N, H)), np.zeros((N, H))
            for t in range(T - 1, -1, -1):
                sig = lambda z: 1.0 / (1.0 + np.exp(-z))
                i, f, o = sig(pre[:, t, :H]), sig(pre[:, t, H:2 * H]), sig(pre[:, t, 3 * H:])
                g = np.tanh(pre[:, t, 2 * H:3 * H])
                dh = grad_out[:, t] + dh_carry
                dc = dc_carry + dh * o / np.cosh(cells[:, t + 1]) ** 2
                da = np.hstack([dc * g * i * (1 - i), dc * cells[:, t] * f * (1 - f),
                                dc * i / np.cosh(pre[:, t, 2 * H:3 * H]) ** 2,
                                dh * np.tanh(cells[:, t + 1]) * o * (1 - o)])
                grads["Wx"] += np.einsum("nd,nq->dq", x[:, t], da)
                grads["Wh"] += np.einsum("nh,nq->hq", states[:, t], da)
                grads["b"] += da.sum(axis=0)
                dx[:, t] = da @ Wx.T
                dh_carry, dc_carry = da @ Wh.T, dc * f
            for name, value in grads.items():
                self.grads[name] = value
            self.dh0, self.dc0 = dh_carry, dc_carry
            return dx
        """),
    ],
}


# A wrong LSTM forward also fails the LSTM backward test, which checks the states first.
ALSO_LOST = {"overwrites_the_bias_gradient_each_step": ["test_lstm_backward"]}


class TestUnit09(SimulatedClass):
    unit, tests, max_score = UNIT, TESTS, MAX_SCORE
    mistakes, alternatives, also_lost = MISTAKES, ALTERNATIVES, ALSO_LOST
    mistake_count = 12
