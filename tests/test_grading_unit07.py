"""A simulated class for unit 07 (optimizers, initialisation, dropout, batch norm, mini-batches,
early stopping), graded by real nbgrader.

The reference scores full marks and the untouched release zero. Each plausible mistake loses the
points of its own test and of no other, with a message naming what is wrong: the optimizers are
judged by the parameters after several steps, batch norm's backward with caches set by the probe
(a wrong forward does not cost it), random functions by the distribution of what they draw. So a
correct alternative keeps full marks even where it draws other random numbers than the reference
(uniform weights from ``rng.random``, a mask from ``rng.random(...) < 1 - p``, an order from
``rng.choice``) or computes in another order (Adam as PyTorch's code writes it, batch norm's
backward through the variance and the mean, the early-stopping counter from the best epoch).
"""
from grading_harness import SimulatedClass

UNIT = "07_optimizers"
TESTS = ["test_iterate_minibatches", "test_sgd_momentum", "test_adagrad", "test_rmsprop", "test_adam",
         "test_glorot_uniform", "test_he_normal", "test_dropout_forward", "test_dropout_backward",
         "test_batchnorm_forward", "test_batchnorm_backward", "test_early_stopping"]
MAX_SCORE = 16

# name: (region rewrites, the one test that must lose points, phrases its message must contain)
MISTAKES = {
    "adam_without_bias_correction": (
        [("optim", "Adam.step", """
            beta1, beta2 = self.betas
            if self.weight_decay:
                grad = grad + self.weight_decay * param
            state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * grad
            state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * grad * grad
            param -= self.lr * state["exp_avg"] / (np.sqrt(state["exp_avg_sq"]) + self.eps)
        """)],
        "test_adam", ["Adam.step[", "change of the parameters in step 1 (about lr per entry",
                      "bias corrections"]),
    "momentum_applied_after_the_step": (  # the slide's order, w -= v before v = mu v + g, v from 0
        [("optim", "SGD.momentum_direction", """
            if self.weight_decay:
                grad = grad + self.weight_decay * param
            if self.momentum:
                velocity = state.get("momentum_buffer", np.zeros_like(param))
                state["momentum_buffer"] = self.momentum * velocity + grad
                grad = velocity
            return grad
        """)],
        "test_sgd_momentum", ["weight_decay=0): change of the parameters in step 1 (-lr * grad: the "
                              "buffer starts at the first gradient)"]),
    "weight_decay_with_the_wrong_sign": (
        [("optim", "SGD.momentum_direction", """
            if self.weight_decay:
                grad = grad - self.weight_decay * param
            if self.momentum:
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = grad.copy()
                else:
                    state["momentum_buffer"] = self.momentum * state["momentum_buffer"] + grad
                grad = state["momentum_buffer"]
            return grad
        """)],
        "test_sgd_momentum", ["momentum=0, weight_decay=", "(-lr * (grad + weight_decay * param), "
                              "towards 0)"]),
    "dropout_not_rescaled": (
        [("regularization", "Dropout.forward", """
            if not self.training or self.p == 0.0:
                self.mask = np.ones_like(x)
                return x
            self.mask = (self.rng.random(x.shape) >= self.p).astype(np.float64)
            return x * self.mask
        """)],
        "test_dropout_forward", ["every output is 0 (dropped) or x / (1 - p) (kept, and scaled up: "
                                 "inverted dropout)']: expected True, got False"]),
    "batchnorm_backward_without_the_mean_terms": (
        [("regularization", "BatchNorm1d.backward", """
            self.grads["gamma"] = np.sum(grad_out * x_hat, axis=0)
            self.grads["beta"] = np.sum(grad_out, axis=0)
            return grad_out * self.params["gamma"] * inv_std
        """)],
        "test_batchnorm_backward", ["dx sums to 0 over the batch in every feature",
                                    "expected True, got False"]),
    "minibatches_drop_the_last_partial_batch": (
        [("data", "iterate_minibatches", """
            order = rng.permutation(n_samples) if shuffle else np.arange(n_samples)
            for start in range(0, n_samples - batch_size + 1, batch_size):
                batch = order[start:start + batch_size]
                yield X[batch], y[batch]
        """)],
        "test_iterate_minibatches", ["iterate_minibatches['number of batches for n=",
                                     "(the last one holds the"]),
    "early_stopping_off_by_one": (
        [("train", "EarlyStopping.should_stop", """
            if val_loss < self.best_loss - self.min_delta:
                self.best_loss = val_loss
                self.best_epoch = self.epoch
                self.counter = 0
            else:
                self.counter += 1
            return self.counter > self.patience
        """)],
        "test_early_stopping", ["EarlyStopping.should_stop['should_stop(loss) after each loss, "
                                "patience=", "expected True, got False"]),
    "glorot_bound_as_printed_on_a_slide": (  # 6 / sqrt(m + n) instead of sqrt(6 / (m + n))
        [("init", "glorot_uniform", """
            bound = 6.0 / np.sqrt(fan_in + fan_out)
            return rng.uniform(-bound, bound, size=(fan_in, fan_out))
        """)],
        "test_glorot_uniform", ["(within 10%)']: expected True, got False"]),
}

ALTERNATIVES = {
    "other_draws_and_other_arithmetic": [
        ("data", "iterate_minibatches", """
            order = rng.choice(n_samples, size=n_samples, replace=False) if shuffle \\
                else np.arange(n_samples)
            start = 0
            while start < n_samples:
                index = order[start:start + batch_size]
                yield X[index], y[index]
                start += batch_size
        """),
        ("optim", "SGD.momentum_direction", """
            direction = grad + self.weight_decay * param   # + 0 when there is no decay
            if self.momentum:
                buffer = state.get("momentum_buffer")
                if buffer is None:
                    buffer = state["momentum_buffer"] = direction.copy()
                else:
                    buffer *= self.momentum
                    buffer += direction
                direction = buffer
            return direction
        """),
        ("optim", "Adagrad.step", """
            if self.weight_decay:
                grad = grad + self.weight_decay * param
            state["sum"] += grad ** 2
            std = np.sqrt(state["sum"])
            std += self.eps
            param -= self.lr * grad / std
        """),
        ("optim", "RMSprop.step", """
            if self.weight_decay:
                grad = grad + self.weight_decay * param
            square_avg = state["square_avg"]
            square_avg *= self.alpha
            square_avg += (1 - self.alpha) * grad * grad
            param -= self.lr * grad / (np.sqrt(square_avg) + self.eps)
        """),
        ("optim", "Adam.step", """
            # as torch's code writes it: the corrections folded into the step size and eps
            beta1, beta2 = self.betas
            t = state["step"]
            if self.weight_decay:
                grad = grad + self.weight_decay * param
            state["exp_avg"] *= beta1
            state["exp_avg"] += (1 - beta1) * grad
            state["exp_avg_sq"] *= beta2
            state["exp_avg_sq"] += (1 - beta2) * grad ** 2
            step_size = self.lr / (1 - beta1 ** t)
            denom = np.sqrt(state["exp_avg_sq"]) / np.sqrt(1 - beta2 ** t) + self.eps
            param -= step_size * state["exp_avg"] / denom
        """),
        ("init", "glorot_uniform", """
            limit = np.sqrt(6.0 / (fan_in + fan_out))
            return limit * (2.0 * rng.random((fan_in, fan_out)) - 1.0)
        """),
        ("init", "he_normal", """
            return np.sqrt(2.0 / fan_in) * rng.standard_normal((fan_in, fan_out))
        """),
        ("regularization", "Dropout.forward", """
            if self.training and self.p > 0.0:
                keep = self.rng.random(x.shape) < 1.0 - self.p
                self.mask = keep / (1.0 - self.p) if self.p < 1.0 else np.zeros(x.shape)
            else:
                self.mask = np.ones(x.shape)
            return np.multiply(x, self.mask)
        """),
        ("regularization", "Dropout.backward", """
            return np.multiply(mask, grad_out)
        """),
        ("regularization", "BatchNorm1d.forward", """
            n = x.shape[0]
            if self.training:
                mean = x.sum(axis=0) / n
                var = ((x - mean) ** 2).sum(axis=0) / n
                m = self.momentum
                self.running_mean = self.running_mean * (1 - m) + mean * m
                self.running_var = self.running_var * (1 - m) + var * (n / (n - 1)) * m
            else:
                mean, var = self.running_mean, self.running_var
            self.inv_std = 1.0 / np.sqrt(var + self.eps)
            self.x_hat = (x - mean) * self.inv_std
            return self.x_hat * self.params["gamma"] + self.params["beta"]
        """),
        ("regularization", "BatchNorm1d.backward", """
            # the staged derivation, through the variance and the mean
            gamma = self.params["gamma"]
            self.grads["beta"] = grad_out.sum(axis=0)
            self.grads["gamma"] = (grad_out * x_hat).sum(axis=0)
            grad_x_hat = grad_out * gamma
            if not self.used_batch_statistics:
                return grad_x_hat * inv_std
            n = grad_out.shape[0]
            centred = x_hat / inv_std
            grad_var = np.sum(grad_x_hat * centred, axis=0) * -0.5 * inv_std ** 3
            grad_mean = -np.sum(grad_x_hat * inv_std, axis=0) + grad_var * np.mean(-2.0 * centred, axis=0)
            return grad_x_hat * inv_std + grad_var * 2.0 * centred / n + grad_mean / n
        """),
        ("train", "EarlyStopping.should_stop", """
            if val_loss < self.best_loss - self.min_delta:
                self.best_loss, self.best_epoch = val_loss, self.epoch
            self.counter = self.epoch - self.best_epoch
            return self.counter >= self.patience
        """),
    ],
}


class TestUnit07(SimulatedClass):
    unit, tests, max_score = UNIT, TESTS, MAX_SCORE
    mistakes, alternatives = MISTAKES, ALTERNATIVES
