"""The playground: a small network trained live on 2-D data, on the notebook's ``nnlib``.

What TensorFlow Playground does, in a notebook and on your own code: pick a data set (four to
classify: circle, XOR, gaussian, spiral; two to fit: plane, multigauss), its noise and the share
used for training; pick the input features (x1, x2, x1^2, x2^2, x1*x2, sin(x1), sin(x2)), the
network (hidden layers, the neurons of each, activation), the optimizer, the learning rate, the
batch size and a penalty on the weights; then press Play and watch the output over the plane, the
loss curves and the network change as it trains: every neuron's response over the plane, and every
weight as an edge whose colour is its sign and whose thickness is its size. Click a neuron (or pick it
under "enlarge") to see its picture enlarged in the place of the output::

    import nnlib
    from nncourse.widgets.playground import Playground
    playground = Playground(nn=nnlib, dataset="spiral", hidden=[8, 8])
    playground.widget()          # in a notebook
    print(playground.config)     # a dict: Playground(**config) sets up the same run again

The network is ``Sequential(Linear, activation, ..., Linear, Sigmoid)`` with ``BCELoss`` (to fit a
surface, ``..., Linear`` with ``MSELoss``), built from the ``nnlib`` it is handed (by default the one the notebook imports): in exercise 05 that is
your own ``Linear.backward``, ``Sequential.backward`` and ``SGD.step``. When one of them is not written yet or returns something
of the wrong shape, the playground stops and says which, instead of showing a traceback.

Training runs in a background thread, so the notebook stays usable: sliders and Pause respond while
it plays. ``update(**settings)``, ``step(n)``, ``play()`` and ``pause()`` work without any display,
which is what the tests and the benchmark call; the figure is in ``playground.png`` (PNG bytes).
"""
import numbers
import threading
import time
import traceback
from pathlib import Path

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.patches import Rectangle

from .. import resolve_nnlib
from .base import Choice, LiveFigure, Number, Slider, Steps, Toggle

__all__ = ["Playground", "benchmark_case"]

CLASSIFICATION = ("circle", "xor", "gaussian", "spiral")
REGRESSION = ("plane", "multigauss")  # a surface to fit, values in [-1, 1]
DATASETS = CLASSIFICATION + REGRESSION
# The input features: what the first layer sees of a point (x1, x2), and their labels in the figure.
FEATURES = {"x1": lambda X: X[:, 0], "x2": lambda X: X[:, 1], "x1^2": lambda X: X[:, 0] ** 2,
            "x2^2": lambda X: X[:, 1] ** 2, "x1*x2": lambda X: X[:, 0] * X[:, 1],
            "sin(x1)": lambda X: np.sin(X[:, 0]), "sin(x2)": lambda X: np.sin(X[:, 1])}
FEATURE_LABELS = {"x1": "x\u2081", "x2": "x\u2082", "x1^2": "x\u2081\u00b2", "x2^2": "x\u2082\u00b2",
                  "x1*x2": "x\u2081x\u2082", "sin(x1)": "sin x\u2081", "sin(x2)": "sin x\u2082"}
ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear")
REGULARIZATIONS = ("none", "L1", "L2")
OPTIMIZERS = ("SGD", "momentum", "Adam")
LEARNING_RATES = (0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
REGULARIZATION_RATES = (0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
MAX_LAYERS, MAX_NEURONS = 6, 8
LIMIT = 2.0  # the plane shown is [-LIMIT, LIMIT]^2
STEPS_PER_FRAME = 10  # training steps between two pictures while playing
MAX_STEPS = 100_000  # the right end of the loss curves' step axis

# Settings that change the data or the shape of the network: changing one starts training anew.
_RESTARTING = ("dataset", "noise", "train_ratio", "n_samples", "seed", "activation", "hidden",
               "features")
# A run has diverged when a weight grows past DIVERGED (or becomes inf or nan): it only grows from
# there; or when its training loss stays above DIVERGED_LOSS times that of the best constant guess
# for DIVERGED_STEPS steps (a spike of a sound run comes back down well within them).
DIVERGED, DIVERGED_LOSS, DIVERGED_STEPS = 1e4, 3.0, 100

_ORANGE, _BLUE = "#f59322", "#0877bd"
# Orange for low (or negative), blue for high; nan (between the neurons' pictures) white: an opaque
# image draws in two thirds of the time of a transparent one.
_COLORS = LinearSegmentedColormap.from_list("playground", [_ORANGE, "#e8eaeb", _BLUE]).with_extremes(bad="white")
_BOUNDARY_RESOLUTION = 60
_NEURON_RESOLUTION = 18
_CELL_GAP = 4  # pixels of white between two neurons' pictures of a layer
_LAYER_GAP = 26  # pixels between two layers' columns: the weights' edges run there
_EDGE_SCALE = 2.0  # a weight of this size or more is drawn at full colour and thickness


def make_playground_data(dataset, n_samples=500, noise=0.0, seed=0, nn=None):
    """Points in the square ``[-LIMIT, LIMIT]^2`` with labels 0 (orange) and 1 (blue).

    Parameters
    ----------
    dataset : {"circle", "xor", "gaussian", "spiral", "plane", "multigauss"}
    n_samples : int, default=500
    noise : float, default=0.0
        Standard deviation of the Gaussian noise added to each coordinate (for "gaussian", added to
        the clusters' own spread).
    seed : int, default=0
    nn : module, optional
        The nnlib whose data sets to draw from; default: the one the notebook imports.

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
    y : ndarray of shape (n_samples,)
        Labels 0 or 1 (int) for the classification sets; for "plane" and "multigauss" (regression),
        the value of a surface at the point (float, in [-1, 1]), taken before the noise is added.
    """
    data = resolve_nnlib(nn).data
    rng = np.random.default_rng(seed)
    if dataset == "circle":  # the inner disc against a ring around it
        X, y = data.make_circles(n_samples, noise=noise, factor=0.45, seed=rng)
        return 1.6 * X, y
    if dataset == "xor":  # the four quadrants, with a margin along the axes
        X = rng.uniform(-1.6, 1.6, (n_samples, 2))
        X += np.sign(X) * 0.15
        y = (X[:, 0] * X[:, 1] > 0).astype(np.intp)
        return X + rng.normal(0.0, noise, X.shape), y
    if dataset == "gaussian":
        return data.make_blobs(n_samples, centers=[[-0.9, -0.9], [0.9, 0.9]], noise=0.4 + noise, seed=rng)
    if dataset == "spiral":
        X, y = data.make_spirals(n_samples, noise=noise / 1.6, seed=rng)
        return 1.6 * X, y
    if dataset in REGRESSION:
        X = rng.uniform(-1.8, 1.8, (n_samples, 2))
        return X + rng.normal(0.0, noise, X.shape), regression_target(dataset, X)
    raise ValueError(f"unknown data set {dataset!r}; choose one of {', '.join(DATASETS)}")


def regression_target(dataset, X):
    """The surface of a regression data set at the points ``X`` (shape ``(N, 2)``), in [-1, 1]:
    "plane" is ``(x1 + x2) / 4``; "multigauss" a bump up or down around each of six centres."""
    if dataset == "plane":
        return (X[:, 0] + X[:, 1]) / 4.0
    centres = np.array([[-1.0, 1.0], [1.0, 1.0], [0.0, 0.0], [-1.0, -1.0], [1.0, -1.0], [0.0, 1.6]])
    heights = np.array([1.0, -1.0, 1.0, -1.0, 1.0, -1.0])
    squared = ((X[:, None, :] - centres[None]) ** 2).sum(axis=2)
    return np.clip(np.exp(-squared / (2 * 0.45 ** 2)) @ heights, -1.0, 1.0)


def feature_matrix(features, X):
    """The columns of the input ``features`` (names of ``FEATURES``) for the points ``X``, shape
    ``(N, len(features))``: what the network's first layer sees."""
    return np.column_stack([FEATURES[name](X) for name in features])


class TrainingProblem(Exception):
    """A training step could not run; the message says why and what to do, for the student."""


def _where(error, nn):
    """``(qualified name, file)`` of the innermost function of the nnlib ``nn`` (outside its input
    checks) in the traceback of ``error``, or ``None``."""
    package = Path(nn.__file__).resolve().parent
    found = None
    for frame, _ in traceback.walk_tb(error.__traceback__):
        path = Path(frame.f_code.co_filename).resolve()
        if package in path.parents and path.name != "_checks.py":
            found = (frame.f_code.co_qualname, path.relative_to(package.parent).as_posix())
    return found


def _explain(error, doing, nn):
    """A message for the student about ``error``, raised in ``nn`` while ``doing`` (e.g. "the
    backward pass")."""
    where = _where(error, nn)
    place = f"{where[0]} (in {where[1]})" if where else doing
    if isinstance(error, NotImplementedError):
        return (f"{place} is not implemented yet, so the playground cannot run {doing}. "
                f"Write it, then restart the kernel or reload, and press Reset.")
    return f"{doing} failed in {place}: {type(error).__name__}: {error}"


class Playground(LiveFigure):
    """A network trained live on 2-D data, with every TensorFlow-Playground setting that fits.

    Parameters
    ----------
    dataset : {"circle", "xor", "gaussian", "spiral", "plane", "multigauss"}, default="circle"
        The first four are two classes to separate (``Sigmoid`` output, ``BCELoss``); "plane" and
        "multigauss" a surface to fit (a linear output, ``MSELoss``).
    noise : float, default=0.1
        Standard deviation of the noise on each coordinate, 0 to 0.5.
    train_ratio : float, default=0.5
        Share of the points used for training (the rest are test points), 0.1 to 0.9.
    batch_size : int, default=10
    learning_rate : float, default=0.03
    activation : {"tanh", "relu", "sigmoid", "linear"}, default="tanh"
    regularization : {"none", "L1", "L2"}, default="none"
        A penalty on the weights (not the biases): ``rate * sum |W|`` or ``rate / 2 * sum W**2``.
    regularization_rate : float, default=0.0
    hidden : sequence of int, default=(4, 2)
        Neurons of each hidden layer, one width per layer (at most 6 layers of 8); ``[]`` is a
        logistic unit.
    features : sequence of str, default=("x1", "x2")
        What the first layer sees of a point: any of x1, x2, x1^2, x2^2, x1*x2, sin(x1), sin(x2).
    optimizer : {"SGD", "momentum", "Adam"}, default="SGD"
        ``momentum`` is ``SGD(momentum=0.9)``; momentum and Adam need the code of unit 07.
    n_samples : int, default=500
    seed : int, default=0
        Seeds the data, the split, the initial weights and the order of the batches: the same
        ``config`` and the same number of steps give the same network.
    nn : module, optional
        The nnlib to build and train the network with (``Playground(nn=nnlib)``); default: the one
        the notebook imports, so at the end of exercise 05 it trains on your own backward passes.
    dpi : int, default=72
        Resolution of the figure.
    """

    DEFAULTS = {"dataset": "circle", "noise": 0.1, "train_ratio": 0.5, "batch_size": 10,
                "learning_rate": 0.03, "activation": "tanh", "regularization": "none",
                "regularization_rate": 0.0, "hidden": (4, 2), "optimizer": "SGD",
                "n_samples": 500, "seed": 0, "features": ("x1", "x2")}

    def __init__(self, nn=None, dpi=72, **settings):
        self.nn = resolve_nnlib(nn)
        self.dpi = dpi
        self.settings = dict(self.DEFAULTS)
        self.settings.update(self._checked(settings))
        self.problem = ""  # why training stopped, for the student; "" while all is well
        self.enlarged = None  # (layer, neuron) shown in the place of the output, or None
        self._lock = threading.RLock()
        self._thread = None
        self._playing = threading.Event()
        self._listeners = []  # called after each picture: the widget's controls refresh there
        self._build_figure()
        self.reset()

    # ------------------------------------------------------------------ settings
    @property
    def config(self):
        """Every setting, as a dict of plain values: ``Playground(**config)`` reproduces this run."""
        config = dict(self.settings)
        config["hidden"] = list(config["hidden"])
        config["features"] = list(config["features"])
        return config

    @property
    def regression(self):
        """True when the data set is a surface to fit (``REGRESSION``), False for two classes."""
        return self.settings["dataset"] in REGRESSION

    def _checked(self, settings):
        """``settings`` validated and converted; ``ValueError`` naming the bad one otherwise."""
        unknown = set(settings) - set(self.DEFAULTS)
        if unknown:
            raise ValueError(f"Playground: unknown settings {sorted(unknown)}; "
                             f"the settings are {sorted(self.DEFAULTS)}")
        checked = {}
        for name, value in settings.items():
            choices = {"dataset": DATASETS, "activation": ACTIVATIONS,
                       "regularization": REGULARIZATIONS, "optimizer": OPTIMIZERS}.get(name)
            if choices is not None:
                if value not in choices:
                    raise ValueError(f"Playground: {name} must be one of {', '.join(choices)}, "
                                     f"got {value!r}")
                checked[name] = value
            elif name == "hidden":
                sizes = list(value) if isinstance(value, (list, tuple)) else None
                if (sizes is None or len(sizes) > MAX_LAYERS
                        or not all(isinstance(s, numbers.Integral) and 1 <= s <= MAX_NEURONS
                                   for s in sizes)):
                    raise ValueError(f"Playground: hidden must be a list of at most {MAX_LAYERS} "
                                     f"layer sizes from 1 to {MAX_NEURONS}, got {value!r}")
                checked[name] = tuple(int(s) for s in sizes)
            elif name == "features":
                names = list(value) if isinstance(value, (list, tuple)) else None
                if not names or not all(isinstance(f, str) and f in FEATURES for f in names):
                    raise ValueError(f"Playground: features must be a non-empty list of "
                                     f"{', '.join(FEATURES)}, got {value!r}")
                checked[name] = tuple(f for f in FEATURES if f in names)
            elif name in ("batch_size", "n_samples", "seed"):
                low = {"batch_size": 1, "n_samples": 20, "seed": 0}[name]
                if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < low:
                    raise ValueError(f"Playground: {name} must be a whole number >= {low}, got {value!r}")
                checked[name] = int(value)
            else:
                bounds = {"noise": (0.0, 0.5), "train_ratio": (0.1, 0.9),
                          "learning_rate": (0.0, 10.0), "regularization_rate": (0.0, 10.0)}[name]
                if (not isinstance(value, numbers.Real) or isinstance(value, bool)
                        or not bounds[0] <= value <= bounds[1]):
                    raise ValueError(f"Playground: {name} must be a number from {bounds[0]:g} to "
                                     f"{bounds[1]:g}, got {value!r}")
                checked[name] = float(value)
        return checked

    # ------------------------------------------------------------------ training
    def reset(self):
        """New data split, new network, empty history (the same ones for the same settings)."""
        with self._lock:
            s = self.settings
            X, y = make_playground_data(s["dataset"], s["n_samples"], s["noise"], s["seed"], self.nn)
            rng = np.random.default_rng([s["seed"], 1])
            order = rng.permutation(len(y))
            n_train = min(max(1, round(s["train_ratio"] * len(y))), len(y) - 1)
            self.X_train, self.y_train = X[order[:n_train]], y[order[:n_train]].astype(np.float64)
            self.X_test, self.y_test = X[order[n_train:]], y[order[n_train:]].astype(np.float64)
            self.F_train = feature_matrix(s["features"], self.X_train)
            self.F_test = feature_matrix(s["features"], self.X_test)
            ticks = np.linspace(-LIMIT, LIMIT, _BOUNDARY_RESOLUTION)
            self._grid = np.column_stack([g.ravel() for g in np.meshgrid(ticks, ticks)])
            ticks = np.linspace(-LIMIT, LIMIT, _NEURON_RESOLUTION)
            g1, g2 = np.meshgrid(ticks, ticks[::-1])
            self._coarse = feature_matrix(s["features"], np.column_stack([g1.ravel(), g2.ravel()]))
            self._fine = feature_matrix(s["features"], self._grid)
            if self.enlarged is not None and (not self._neuron_exists(*self.enlarged)
                                              or self.enlarged[0] == len(self._sizes()) - 1):
                self.enlarged = None  # that neuron is gone (or is now the output)
            self._batch_rng = np.random.default_rng([s["seed"], 2])
            self._batch_order, self._batch_start = np.arange(0), 0
            self.steps = 0
            self.history = {"step": [], "train": [], "test": []}
            self._above_since = None  # the step from which the training loss has been too high
            self.problem = ""
            self._optimizer_failed = False
            self.model = self.optimizer = None
            try:
                self.model = self._build_model(np.random.default_rng([s["seed"], 3]))
                self.loss = self.nn.losses.MSELoss() if self.regression else self.nn.losses.BCELoss()
                self.optimizer = self._build_optimizer()
                self._record()
            except TrainingProblem as problem:
                self.problem = str(problem)
            self._restart_drawing()
            self._draw()
        return self

    def _build_model(self, rng):
        layers = self.nn.layers
        activation = {"tanh": layers.Tanh, "relu": layers.ReLU, "sigmoid": layers.Sigmoid,
                      "linear": None}[self.settings["activation"]]
        sizes = [len(self.settings["features"]), *self.settings["hidden"], 1]
        modules = []
        try:
            for index, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
                modules.append(self.nn.layers.Linear(n_in, n_out, rng=rng))
                if index < len(sizes) - 2 and activation is not None:
                    modules.append(activation())
            if not self.regression:
                modules.append(self.nn.layers.Sigmoid())
            return self.nn.layers.Sequential(*modules)
        except Exception as error:
            raise TrainingProblem(_explain(error, "building the network", self.nn)) from None

    def _build_optimizer(self):
        params = self.model.parameters()
        lr = self.settings["learning_rate"]
        choice = self.settings["optimizer"]
        if choice == "Adam":
            return self.nn.optim.Adam(params, lr=lr)
        return self.nn.optim.SGD(params, lr=lr, momentum=0.9 if choice == "momentum" else 0.0)

    def _next_batch(self):
        """The next mini-batch of a fresh random order of the training set each epoch."""
        size = self.settings["batch_size"]
        if self._batch_start >= len(self._batch_order):
            self._batch_order = self._batch_rng.permutation(len(self.y_train))
            self._batch_start = 0
        rows = self._batch_order[self._batch_start:self._batch_start + size]
        self._batch_start += size
        return self.F_train[rows], self.y_train[rows, None]

    def _forward(self, X, doing="the forward pass"):
        try:
            out = self.model.forward(X)
        except Exception as error:
            raise TrainingProblem(_explain(error, doing, self.nn)) from None
        if not isinstance(out, np.ndarray) or out.shape != (len(X), 1):
            shape = getattr(out, "shape", type(out).__name__)
            raise TrainingProblem(f"{doing} returned {shape} for {len(X)} points; expected an array "
                                  f"of shape ({len(X)}, 1): check Sequential.forward and the "
                                  "layers' forward")
        return out

    def _train_step(self):
        X, t = self._next_batch()
        out = self._forward(X)
        try:
            self.loss.forward(out, t)
            self.optimizer.zero_grad()
            self.model.backward(self.loss.backward())
        except Exception as error:
            raise TrainingProblem(_explain(error, "the backward pass", self.nn)) from None
        self._add_penalty_gradient()
        try:
            self.optimizer.step()
        except Exception as error:
            self._optimizer_failed = True
            doing = f"the {self.settings['optimizer']} step"
            raise TrainingProblem(_explain(error, doing, self.nn)) from None
        self.steps += 1

    def _add_penalty_gradient(self):
        rate, kind = self.settings["regularization_rate"], self.settings["regularization"]
        if kind == "none" or rate == 0:
            return
        for layer in self.model.layers:
            if isinstance(layer, self.nn.layers.Linear):
                W = layer.params["W"]
                layer.grads["W"] += rate * (np.sign(W) if kind == "L1" else W)

    def _mean_loss(self, X, t):
        """The mean loss on the points whose features are ``X``: cross-entropy, or squared error."""
        out = self._forward(X, "computing the loss")
        with np.errstate(all="ignore"):
            if self.regression:
                return float(np.mean((out[:, 0] - t) ** 2))
            probability = np.clip(out[:, 0], 1e-12, 1 - 1e-12)
            return float(-np.mean(t * np.log(probability) + (1 - t) * np.log(1 - probability)))

    def _record(self):
        train, test = self._mean_loss(self.F_train, self.y_train), self._mean_loss(self.F_test, self.y_test)
        with np.errstate(invalid="ignore"):
            largest = max(float(np.max(np.abs(p), initial=0.0)) for p, _ in self.model.parameters())
        if not (np.isfinite(train) and np.isfinite(largest) and largest <= DIVERGED):
            grown = "became inf or nan" if not np.isfinite(largest) else f"grew past {DIVERGED:g}"
            raise TrainingProblem(f"Training diverged: the weights {grown} at step {self.steps}. The "
                                  "learning rate is too large for this network: lower it and press "
                                  "Reset.")
        self.history["step"].append(self.steps)
        self.history["train"].append(train)
        self.history["test"].append(test)
        limit = DIVERGED_LOSS * self._constant_loss()
        if train <= limit:
            self._above_since = None
        elif self._above_since is None:
            self._above_since = self.steps
        elif self.steps - self._above_since >= DIVERGED_STEPS:
            raise TrainingProblem(f"Training diverged: the training loss has stayed above {limit:.2g} "
                                  f"({DIVERGED_LOSS:g} times that of always guessing the same) for "
                                  f"{self.steps - self._above_since} steps, up to step {self.steps}. "
                                  "The learning rate is too large for this network: lower it and "
                                  "press Reset.")

    def _constant_loss(self):
        """The training loss of the best constant output: the labels' entropy, or their variance."""
        t = self.y_train
        if self.regression:
            return max(float(np.var(t)), 1e-3)
        share = min(max(float(np.mean(t)), 0.01), 0.99)
        return -(share * np.log(share) + (1 - share) * np.log(1 - share))

    def step(self, n=1):
        """Train ``n`` mini-batch steps, record the losses and redraw.

        Returns
        -------
        dict
            ``{"step", "epoch", "train_loss", "test_loss", "problem"}`` after the steps. If a step
            fails (a stub, a wrong shape, a diverging loss), training stops there and ``problem``
            says why; the figure keeps the last good state.
        """
        with self._lock:
            if not self.problem:
                try:
                    # A diverging run overflows on its way to inf: the message below says so, once.
                    with np.errstate(over="ignore", invalid="ignore"):
                        for _ in range(n):
                            self._train_step()
                        self._record()
                except TrainingProblem as problem:
                    self.problem = str(problem)
                    self._playing.clear()
            self._draw()
            return self.summary()

    def summary(self):
        """The state shown under the figure: step, epoch, the last losses and any problem."""
        history = self.history
        epoch = self.steps * self.settings["batch_size"] / len(self.y_train)
        return {"step": self.steps, "epoch": epoch,
                "train_loss": history["train"][-1] if history["train"] else float("nan"),
                "test_loss": history["test"][-1] if history["test"] else float("nan"),
                "problem": self.problem}

    def update(self, **settings):
        """Change settings and redraw. Data and network settings (``dataset``, ``noise``,
        ``train_ratio``, ``n_samples``, ``seed``, ``activation``, ``hidden``) start training anew;
        the others (learning rate, batch size, penalty, optimizer) apply from the next step on.

        Returns ``summary()``.
        """
        checked = self._checked(settings)
        with self._lock:
            restart = any(checked.get(name, self.settings[name]) != self.settings[name]
                          for name in _RESTARTING)
            new_optimizer = checked.get("optimizer", self.settings["optimizer"]) != self.settings["optimizer"]
            self.settings.update(checked)
            if restart:
                self.reset()
                return self.summary()
            if self.optimizer is not None:
                if new_optimizer:
                    self.optimizer = self._build_optimizer()
                self.optimizer.lr = self.settings["learning_rate"]
            if new_optimizer and self._optimizer_failed:
                self.problem = ""  # another optimizer may work: let Play try again
            self._draw()
            return self.summary()

    # ------------------------------------------------------------------ playing
    @property
    def playing(self):
        return self._playing.is_set()

    def play(self, frame_seconds=0.05):
        """Train in the background, ``STEPS_PER_FRAME`` steps and a new picture at a time, until
        ``pause()`` (or a problem). At most one picture every ``frame_seconds``."""
        if self.playing or self.problem:
            return
        self._playing.set()

        def run():
            while self._playing.is_set():
                started = time.perf_counter()
                self.step(STEPS_PER_FRAME)
                for listener in list(self._listeners):
                    listener()
                # Sleeping leaves the interpreter to the notebook's own thread (sliders, Pause).
                time.sleep(max(0.005, frame_seconds - (time.perf_counter() - started)))

        self._thread = threading.Thread(target=run, name="playground", daemon=True)
        self._thread.start()

    def pause(self):
        """Stop training after the current frame; returns when the background thread has ended."""
        self._playing.clear()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=10)

    # ------------------------------------------------------------------ drawing
    def _build_figure(self):
        self._new_figure((11.2, 3.7))
        self.fig.subplots_adjust(left=0.01, right=0.965, bottom=0.14, top=0.9, wspace=0.2)
        grid = self.fig.add_gridspec(1, 3, width_ratios=[1.5, 1.0, 1.15])
        neurons = self.fig.add_subplot(grid[0])
        plane = self.fig.add_subplot(grid[1])
        curves = self.fig.add_subplot(grid[2])
        neurons.set_axis_off()
        neurons.set_title("the network: each neuron over the plane, each weight", fontsize=10)
        plane.set(xlim=(-LIMIT, LIMIT), ylim=(-LIMIT, LIMIT), aspect="equal")
        ticks = np.arange(-LIMIT, LIMIT + 0.5)
        plane.set_xticks(ticks)
        plane.set_yticks(ticks)
        plane.tick_params(labelsize=8)
        # Fixed axes (a log scale of steps): a new picture never has to redraw ticks and labels.
        curves.set(xscale="log", xlim=(1, MAX_STEPS), ylim=(0, 1.0), xlabel="training step (log scale)")
        curves.set_xticks([10 ** k for k in range(6)])
        curves.set_title("loss", fontsize=10)
        curves.grid(True, color="0.9", linewidth=0.6)
        curves.tick_params(labelsize=8)
        self.axes = {"neurons": neurons, "plane": plane, "curves": curves}
        a = {}
        a["neurons"] = neurons.imshow(np.full((2, 2), np.nan), cmap=_COLORS, vmin=-1, vmax=1,
                                      interpolation="nearest", origin="upper", zorder=1)
        # The weights as edges from one neuron's picture to the next layer's: the colour shows the
        # sign (blue positive, orange negative) and, like the thickness, the size.
        a["edges"] = LineCollection([], zorder=2, capstyle="butt")
        neurons.add_collection(a["edges"])
        a["chosen"] = Rectangle((0, 0), 1, 1, fill=False, edgecolor="black", linewidth=1.5,
                                zorder=3, visible=False)
        neurons.add_patch(a["chosen"])
        a["boundary"] = plane.imshow(np.zeros((2, 2)), extent=(-LIMIT, LIMIT, -LIMIT, LIMIT),
                                     origin="lower", cmap=_COLORS, vmin=0, vmax=1,
                                     interpolation="bilinear", alpha=0.85)
        # Markers of a line are stamped, much faster to draw than a scatter's collection: the two
        # classes are two lines each. A surface's values need a colour each: a scatter.
        for part, edge in (("train", "white"), ("test", "black")):
            for label, color in ((0, _ORANGE), (1, _BLUE)):
                a[f"{part} points {label}"], = plane.plot(
                    [], [], linestyle="none", marker="o", markersize=4.2, markerfacecolor=color,
                    markeredgecolor=edge, markeredgewidth=0.7, zorder=3)
            a[f"{part} values"] = plane.scatter(np.zeros(0), np.zeros(0), s=18, c=np.zeros(0),
                                                cmap=_COLORS, vmin=-1, vmax=1, edgecolors=edge,
                                                linewidths=0.7, zorder=3)
        a["train curve"], = curves.plot([], [], color="0.2", linewidth=1.6, label="training")
        a["test curve"], = curves.plot([], [], color=_ORANGE, linewidth=1.6, label="test")
        curves.legend(loc="upper right", fontsize=8, frameon=False)
        self.artists = a
        self._labels = []  # the input features' names beside their pictures
        self._animate()

    def _moving(self):
        a = self.artists
        return [a["neurons"], a["edges"], a["chosen"], a["boundary"], a["train points 0"],
                a["train points 1"], a["test points 0"], a["test points 1"], a["train values"],
                a["test values"], a["train curve"], a["test curve"]]

    def _sizes(self):
        """Neurons per column of the network picture: the features, each hidden layer, the output."""
        return [len(self.settings["features"]), *self.settings["hidden"], 1]

    def _tile(self, layer, neuron):
        """(top, left) pixel of the picture of neuron ``neuron`` of column ``layer`` in the mosaic."""
        cell, pitch = _NEURON_RESOLUTION + _CELL_GAP, _NEURON_RESOLUTION + _LAYER_GAP
        height = max(self._sizes()) * cell - _CELL_GAP
        offset = (height - (self._sizes()[layer] * cell - _CELL_GAP)) // 2  # centre the column
        return offset + neuron * cell, layer * pitch

    def _restart_drawing(self):
        """New data or network: place the points, size the mosaic, lay out the weights' edges."""
        a = self.artists
        regression = self.regression
        for part, X, y in (("train", self.X_train, self.y_train), ("test", self.X_test, self.y_test)):
            for label in (0, 1):
                points = a[f"{part} points {label}"]
                points.set_visible(not regression)
                points.set_data(X[y == label, 0], X[y == label, 1]) if not regression else None
            values = a[f"{part} values"]
            values.set_visible(regression)
            values.set_offsets(X if regression else np.zeros((0, 2)))
            values.set_array(y if regression else np.zeros(0))
        sizes = self._sizes()
        cell, pitch = _NEURON_RESOLUTION + _CELL_GAP, _NEURON_RESOLUTION + _LAYER_GAP
        shape = (max(sizes) * cell - _CELL_GAP, len(sizes) * pitch - _LAYER_GAP)
        a["neurons"].set_data(np.full(shape, np.nan))
        a["neurons"].set_extent((-0.5, shape[1] - 0.5, shape[0] - 0.5, -0.5))
        room = 34  # pixels left of the inputs for their names
        self.axes["neurons"].set(xlim=(-0.5 - room, shape[1] - 0.5), ylim=(shape[0] - 0.5, -0.5))
        half = _NEURON_RESOLUTION / 2 - 0.5
        segments = []
        for layer, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            for i in range(n_in):  # W[i, j] joins input i to output j: row-major, as W.ravel()
                top, left = self._tile(layer, i)
                for j in range(n_out):  # from the right side of one picture to the left of the next
                    top2, left2 = self._tile(layer + 1, j)
                    segments.append(((left + _NEURON_RESOLUTION - 0.5, top + half),
                                     (left2 - 0.5, top2 + half)))
        a["edges"].set_segments(segments)
        self._place_chosen()
        # The static text: the features' names and the loss's name (a full redraw when they change).
        names = [FEATURE_LABELS[f] for f in self.settings["features"]]
        ylabel = "mean squared error" if regression else "mean cross-entropy"
        if [t.get_text() for t in self._labels] != names or self.axes["curves"].get_ylabel() != ylabel:
            for text in self._labels:
                text.remove()
            self._labels = [self.axes["neurons"].text(-4, self._tile(0, row)[0] + half, name,
                                                      ha="right", va="center", fontsize=8)
                            for row, name in enumerate(names)]
            self.axes["curves"].set_ylabel(ylabel)
            self._background = None

    def _place_chosen(self):
        chosen = self.artists["chosen"]
        chosen.set_visible(self.enlarged is not None)
        if self.enlarged is not None:
            top, left = self._tile(*self.enlarged)
            chosen.set_bounds(left - 2, top - 2, _NEURON_RESOLUTION + 3, _NEURON_RESOLUTION + 3)
        title = ("output (test points ringed in black)" if self.enlarged is None
                 else f"{self._neuron_name(*self.enlarged)}, enlarged")
        if self.axes["plane"].get_title() != title:
            self.axes["plane"].set_title(title, fontsize=10)
            self._background = None

    def _neuron_name(self, layer, neuron):
        if layer == 0:
            return f"input {FEATURE_LABELS[self.settings['features'][neuron]]}"
        if layer == len(self._sizes()) - 1:
            return "output"
        return f"layer {layer}, neuron {neuron + 1}"

    def _neuron_exists(self, layer, neuron):
        sizes = self._sizes()
        return 0 <= layer < len(sizes) and 0 <= neuron < sizes[layer]

    def neurons(self):
        """Every neuron as ``(name, (layer, neuron))``: the input features (layer 0), each hidden
        layer's neurons, the output; what ``enlarge`` takes."""
        return [(self._neuron_name(layer, neuron), (layer, neuron))
                for layer, size in enumerate(self._sizes()) for neuron in range(size)]

    def enlarge(self, layer=None, neuron=0):
        """Show one neuron's picture over the plane in the place of the output, with the points.

        ``layer`` 0 is the input features, 1 to ``len(hidden)`` the hidden layers, the next the
        output; ``enlarge()`` (or the output) shows the output again. Returns ``summary()``.
        """
        with self._lock:
            if layer is not None and not self._neuron_exists(layer, neuron):
                raise ValueError(f"Playground.enlarge: no neuron {neuron} in layer {layer}; the "
                                 f"layers have {self._sizes()} neurons (layer 0: the inputs)")
            if layer == len(self._sizes()) - 1:
                layer = None
            self.enlarged = None if layer is None else (layer, neuron)
            self._place_chosen()
            self._draw()
            return self.summary()

    def neuron_pixel(self, layer, neuron):
        """The centre of a neuron's picture in the figure (``png``), as (x, y) pixels from its top
        left corner: where to click to enlarge it."""
        top, left = self._tile(layer, neuron)
        half = _NEURON_RESOLUTION / 2 - 0.5
        x, y = self.axes["neurons"].transData.transform((left + half, top + half))
        return float(x), float(self.canvas.get_width_height()[1] - y)

    def click(self, x, y):
        """A click at pixel (x, y) of the figure (from its top left corner): on a neuron's picture it
        enlarges that neuron, or, on the one enlarged already, shows the output again; elsewhere it
        changes nothing. Returns the neuron enlarged now, ``(layer, neuron)``, or None."""
        with self._lock:
            height = self.canvas.get_width_height()[1]
            column, row = self.axes["neurons"].transData.inverted().transform((x, height - y))
            for layer, size in enumerate(self._sizes()):
                for neuron in range(size):
                    top, left = self._tile(layer, neuron)
                    if (left - 1.5 <= column <= left + _NEURON_RESOLUTION + 0.5
                            and top - 1.5 <= row <= top + _NEURON_RESOLUTION + 0.5):
                        again = self.enlarged == (layer, neuron)
                        self.enlarge(*((None,) if again else (layer, neuron)))
            return self.enlarged

    def _neuron_columns(self, features):
        """Each neuron's output at the points whose features are ``features``: a list of arrays
        of shape ``(N, neurons)``, one per column of the picture (the inputs first)."""
        values, columns = features, [features]
        layers = self.nn.layers
        for index, layer in enumerate(self.model.layers):
            values = layer.forward(values)
            following = self.model.layers[index + 1] if index + 1 < len(self.model.layers) else None
            # A layer's neurons are what comes out of its activation (or of Linear when linear).
            if not isinstance(following, (layers.Tanh, layers.ReLU, layers.Sigmoid)):
                columns.append(np.asarray(values, dtype=np.float64))
        if not self.regression:
            columns[-1] = 2 * columns[-1] - 1  # the output probability, from [0, 1] to [-1, 1]
        return columns

    def _neuron_mosaic(self):
        """Each neuron's output over a coarse grid of the plane, scaled to [-1, 1], as one image
        with a column per layer (inputs first, the output last)."""
        mosaic = np.full(self.artists["neurons"].get_array().shape, np.nan)
        for column, outputs in enumerate(self._neuron_columns(self._coarse)):
            scale = np.maximum(np.max(np.abs(outputs), axis=0), 1e-12)
            for row in range(outputs.shape[1]):
                top, left = self._tile(column, row)
                picture = (outputs[:, row] / scale[row]).reshape(_NEURON_RESOLUTION, _NEURON_RESOLUTION)
                mosaic[top:top + _NEURON_RESOLUTION, left:left + _NEURON_RESOLUTION] = picture
        return mosaic

    def _edge_looks(self):
        """The colour (RGBA) and width of every weight's edge, in the order of the segments."""
        weights = np.concatenate([layer.params["W"].ravel() for layer in self.model.layers
                                  if isinstance(layer, self.nn.layers.Linear)])
        size = np.clip(np.nan_to_num(weights / _EDGE_SCALE), -1.0, 1.0)
        return _COLORS(0.5 + 0.5 * size), 0.3 + 2.7 * np.abs(size)

    def _draw(self):
        """Recompute the pictures of the current network and redraw the figure (``png``)."""
        a = self.artists
        if self.model is not None and self.history["step"] and not self.problem:
            resolution = (_BOUNDARY_RESOLUTION, _BOUNDARY_RESOLUTION)
            try:
                if self.enlarged is None:
                    out = self._forward(self._fine, "drawing the output")[:, 0]
                    a["boundary"].set_clim(-1 if self.regression else 0, 1)
                else:
                    layer, neuron = self.enlarged
                    out = self._neuron_columns(self._fine)[layer][:, neuron]
                    out = out / max(float(np.max(np.abs(out))), 1e-12)
                    a["boundary"].set_clim(-1, 1)
                a["boundary"].set_data(out.reshape(resolution))
                a["neurons"].set_data(self._neuron_mosaic())
                colors, widths = self._edge_looks()
                a["edges"].set_color(colors)
                a["edges"].set_linewidth(widths)
            except TrainingProblem as problem:
                self.problem = str(problem)
        history = self.history
        steps = np.maximum(history["step"], 1)  # step 0 (the untrained network) drawn at 1
        a["train curve"].set_data(steps, history["train"])
        a["test curve"].set_data(steps, history["test"])
        # The loss axis grows (a full redraw) only if a loss leaves it: a diverging run.
        highest = max(history["train"][-1:] + history["test"][-1:], default=0.0)
        if highest > self.axes["curves"].get_ylim()[1]:
            self.axes["curves"].set_ylim(0, 2 ** np.ceil(np.log2(highest)))
            self._background = None
        self._render()

    # ------------------------------------------------------------------ controls
    _LOOKS = {"label_width": "100px", "width": "275px"}
    # Every slider updates once when let go, not per pixel: most settings restart training.
    CONTROLS = {
        "dataset": Choice(DATASETS, "data set", dropdown=True, **_LOOKS),
        "noise": Slider(0.0, 0.5, 0.05, "noise", continuous=False, **_LOOKS),
        "train_ratio": Slider(0.1, 0.9, 0.1, "training share", continuous=False, **_LOOKS),
        "batch_size": Slider(1, 30, 1, "batch size", integer=True, continuous=False, **_LOOKS),
        "layers": Slider(0, MAX_LAYERS, 1, "hidden layers", integer=True, continuous=False,
                         **_LOOKS),
        "activation": Choice(ACTIVATIONS, "activation", dropdown=True, **_LOOKS),
        "optimizer": Choice(OPTIMIZERS, "optimizer", dropdown=True, **_LOOKS),
        "learning_rate": Steps(LEARNING_RATES, "learning rate", continuous=False, **_LOOKS),
        "regularization": Choice(REGULARIZATIONS, "penalty", dropdown=True, **_LOOKS),
        "regularization_rate": Steps(REGULARIZATION_RATES, "penalty rate", continuous=False,
                                     **_LOOKS),
        **{f"width {k}": Number(1, MAX_NEURONS, width="46px") for k in range(1, MAX_LAYERS + 1)},
        **{f"feature {name}": Toggle(label, width="62px") for name, label in FEATURE_LABELS.items()},
    }

    def control_value(self, name):
        hidden = self.settings["hidden"]
        if name == "layers":
            return len(hidden)
        if name.startswith("width "):
            k = int(name.split()[1])
            return hidden[k - 1] if k <= len(hidden) else (hidden[-1] if hidden else 4)
        if name.startswith("feature "):
            return name.split()[1] in self.settings["features"]
        return self.settings[name]

    def _on_control(self, name, value, controls):
        if name == "layers" or name.startswith("width "):
            self.update(hidden=[controls[f"width {k}"].value
                                for k in range(1, controls["layers"].value + 1)])
        elif name.startswith("feature "):
            chosen = [f for f in FEATURES if controls[f"feature {f}"].value]
            if chosen:
                self.update(features=chosen)
            else:  # the last feature cannot be switched off: the network would see nothing
                controls[name].value = True
        else:
            self.update(**{name: value})

    def _readout(self):
        summary = self.summary()
        message = (f"<span class='playground-problem' style='color:#b00020'>{_escape(self.problem)}"
                   "</span>" if self.problem else "")
        loss = "mean squared error" if self.regression else "loss"
        return (f"<span class='playground-step'>step {summary['step']}</span> &nbsp; "
                f"<span class='playground-loss'>training {loss} {summary['train_loss']:.4f}"
                f"</span> &nbsp; <span class='playground-test-loss'>test {loss} "
                f"{summary['test_loss']:.4f}</span><br>{message}")

    def _after_update(self, box):
        super()._after_update(box)
        play = box.buttons["play"]
        play.description, play.icon = ("Pause", "pause") if self.playing else ("Play", "play")
        box.config.value = (f"<code class='playground-config' style='white-space:normal;"
                            f"overflow-wrap:anywhere'>{_escape(repr(self.config))}</code>")
        for k in range(1, MAX_LAYERS + 1):  # a width box for each hidden layer there is
            shown = "" if k <= len(self.settings["hidden"]) else "none"
            if box.controls[f"width {k}"].layout.display != shown:
                box.controls[f"width {k}"].layout.display = shown
        enlarge, options = box.enlarge, self.neurons()
        value = self.enlarged or options[-1][1]
        if list(enlarge.options) != options or enlarge.value != value:
            box.quiet.append(True)  # not a student's choice: nothing to do
            try:
                if list(enlarge.options) != options:
                    enlarge.options = options
                enlarge.value = value
            finally:
                box.quiet.clear()

    def _layout(self, controls, image, readout, buttons):
        import ipywidgets as widgets

        play = widgets.Button(description="Play", icon="play", button_style="success",
                              layout=widgets.Layout(width="auto"))
        step = widgets.Button(description="Step", icon="step-forward", layout=widgets.Layout(width="auto"))
        reset = widgets.Button(description="Reset", icon="undo", layout=widgets.Layout(width="auto"))
        buttons.update(play=play, step=step, reset=reset)
        enlarge = widgets.Dropdown(options=self.neurons(), value=self.neurons()[-1][1],
                                   description="enlarge", style={"description_width": "100px"},
                                   layout=widgets.Layout(width="275px"))
        buttons["enlarge"] = enlarge
        c = controls
        # Everything wraps to the width there is: no control is cut off, no box scrolls sideways.
        wrap = dict(flex_flow="row wrap", align_items="flex-start", width="100%")

        def column(children):
            return widgets.VBox(children, layout=widgets.Layout(width="auto", overflow="visible"))

        def row(label, children):
            return widgets.HBox([widgets.Label(label, layout=widgets.Layout(width="130px"))] + children,
                                layout=widgets.Layout(flex_flow="row wrap", align_items="center",
                                                      overflow="visible", margin="0 8px 0 0"))

        settings = widgets.HBox([
            column([c["dataset"], c["noise"], c["train_ratio"], c["batch_size"]]),
            column([c["layers"], c["activation"], c["optimizer"], c["learning_rate"]]),
            column([c["regularization"], c["regularization_rate"], enlarge,
                    widgets.HBox([play, step, reset], layout=widgets.Layout(overflow="visible"))]),
        ], layout=widgets.Layout(overflow="visible", **wrap))
        network = widgets.HBox([
            row("input features", [c[f"feature {name}"] for name in FEATURES]),
            row("neurons per layer", [c[f"width {k}"] for k in range(1, MAX_LAYERS + 1)]),
        ], layout=widgets.Layout(overflow="visible", **wrap))
        # The figure shrinks to the width there is, keeping its proportions (square neurons).
        image.layout = widgets.Layout(max_width="100%", height="auto", object_fit="contain",
                                      align_self="flex-start", margin="2px 0")
        return [settings, network, image, readout, widgets.HTML()]

    def widget(self):
        """The controls, Play/Step/Reset, the live figure, the status line and the config."""
        box = super().widget()
        box.config = box.children[-1]
        box.enlarge = box.buttons.pop("enlarge")
        box.quiet = []
        box.add_class("nnlib-playground")

        def act(then):
            def clicked(_):
                then()
                self._after_update(box)
            return clicked

        def toggle():
            if self.playing:
                self.pause()
            else:
                self.play()

        def enlarged(change):
            if not box.quiet and change["new"] is not None:
                self.enlarge(*change["new"])
                self._after_update(box)

        box.buttons["play"].on_click(act(toggle))
        box.buttons["step"].on_click(act(lambda: (self.pause(), self.step(1))))
        box.buttons["reset"].on_click(act(lambda: (self.pause(), self.reset())))
        box.enlarge.observe(enlarged, names="value")
        try:  # a click on a neuron's picture enlarges it (ipyevents reports where the image was hit)
            from ipyevents import Event
        except ImportError:  # without it, the enlarge drop-down does the same
            box.clicks = None
        else:
            def clicked(event):
                if "dataX" in event:  # the position in the image's own pixels, however it is scaled
                    self.click(event["dataX"], event["dataY"])
                    self._after_update(box)
            box.clicks = Event(source=box.image, watched_events=["click"])
            box.clicks.on_dom_event(clicked)
        self._listeners = [lambda: self._after_update(box)]  # each frame while playing
        self._after_update(box)
        return box


def _escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def benchmark_case():
    """A playground (circle, two hidden layers of 8) and slider moves: the network's shape, the data
    and the activation (each a restart and a new picture), and the learning rate and penalty."""
    playground = Playground(hidden=[8, 8])
    playground.step(50)
    values = [{"hidden": [8, 8, n]} for n in (1, 2, 3, 4)] + [{"hidden": [8, 8]}]
    values += [{"dataset": name} for name in ("xor", "gaussian", "spiral", "circle")]
    values += [{"noise": 0.2}, {"noise": 0.1}, {"activation": "relu"}, {"activation": "tanh"}]
    values += [{"learning_rate": lr} for lr in (0.01, 0.03, 0.1)]
    values += [{"regularization": "L2", "regularization_rate": 0.01}, {"regularization": "none"}]
    return playground, values
