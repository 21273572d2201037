"""Small data sets that work offline, and the tools that split and batch them.

Every 2-D generator has the same shape of call, modelled on ``sklearn.datasets.make_*``::

    X, y = make_moons(200, noise=0.1, seed=0)

and returns ``X`` as a float64 array of shape ``(n_samples, 2)`` and ``y`` as integer class labels
(``numpy.intp``) of shape ``(n_samples,)``. The same ``seed`` always gives the same data. When
``n_samples`` does not split evenly, the first ``n_samples % n_classes`` classes get one sample more.
The rows are shuffled, so the classes are not in blocks.

``load_digits`` wraps scikit-learn's bundled 8x8 handwritten digits (no download). The sequence tasks
``make_delayed_recall`` and ``make_parity`` are for recurrent networks: a model without memory cannot
solve them. ``train_test_split``, ``k_fold`` (cross-validation) and ``iterate_minibatches`` split and
batch any of them.
"""
import numbers

import numpy as np

from ._checks import as_float_array, as_generator, check_int, is_int

__all__ = [
    "make_xor", "make_and", "make_blobs", "make_circles", "make_moons", "make_spirals",
    "load_digits", "make_delayed_recall", "make_parity", "train_test_split", "iterate_minibatches",
]


# ----------------------------------------------------------------------------------------------
# validation shared by the generators
# ----------------------------------------------------------------------------------------------

def _check_noise(noise, owner):
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real) or not noise >= 0:
        raise ValueError(f"{owner}: noise must be a number >= 0, got {noise!r}")
    return float(noise)


def _class_sizes(n_samples, n_classes):
    """Samples per class: as equal as possible, the first ``n_samples % n_classes`` get one more."""
    sizes = np.full(n_classes, n_samples // n_classes)
    sizes[: n_samples % n_classes] += 1
    return sizes


def _finish(X, y, noise, shuffle, rng):
    """Add Gaussian noise of standard deviation ``noise`` to every coordinate, then shuffle rows."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.intp)
    if noise > 0:
        X = X + rng.normal(scale=noise, size=X.shape)
    if shuffle:
        order = rng.permutation(len(y))
        X, y = X[order], y[order]
    return X, y


# ----------------------------------------------------------------------------------------------
# 2-D classification data
# ----------------------------------------------------------------------------------------------

_CORNERS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, 0.0]])


def _logic_gate(n_samples, noise, seed, shuffle, gate, owner):
    n_samples = check_int(n_samples, "n_samples", owner)
    noise = _check_noise(noise, owner)
    rng = as_generator(seed)
    # Corners in the order 00, 01, 11, 10, so that for XOR an odd remainder alternates classes.
    corner_of_sample = np.repeat(np.arange(4), _class_sizes(n_samples, 4))
    X = _CORNERS[corner_of_sample]
    y = gate(X[:, 0].astype(bool), X[:, 1].astype(bool))
    return _finish(X, y, noise, shuffle, rng)


def make_xor(n_samples=200, *, noise=0.0, seed=None, shuffle=True):
    """The XOR problem: the four corners of the unit square, labelled "the two inputs differ".

    The points are the corners ``(0, 0), (0, 1), (1, 0), (1, 1)`` (a quarter of the samples each),
    optionally blurred by Gaussian noise, with label ``x1 XOR x2``: 1 at ``(0, 1)`` and ``(1, 0)``,
    0 at ``(0, 0)`` and ``(1, 1)``. With ``noise=0`` this is the XOR truth table repeated; no straight
    line separates the two classes.

    Parameters
    ----------
    n_samples : int, default=200
        Number of points. If it is not a multiple of 4, the corners ``(0, 0), (0, 1), (1, 1)`` get
        the extra points in that order, so the classes stay as balanced as possible.
    noise : float, default=0.0
        Standard deviation of the Gaussian noise added to each coordinate.
    seed : None, int or numpy.random.Generator, default=None
        Seeds the noise and the shuffling.
    shuffle : bool, default=True
        Shuffle the rows; otherwise they come corner by corner.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), float64
        The points.
    y : ndarray of shape (n_samples,), intp
        The labels, 0 or 1.
    """
    return _logic_gate(n_samples, noise, seed, shuffle, np.logical_xor, "make_xor")


def make_and(n_samples=200, *, noise=0.0, seed=None, shuffle=True):
    """The AND problem: the four corners of the unit square, labelled "both inputs are 1".

    Same points as ``make_xor`` (a quarter of the samples at each corner of the unit square, plus
    Gaussian noise), with label ``x1 AND x2``: 1 only at ``(1, 1)``. A single line separates the
    classes, which is the contrast with XOR. The classes are unbalanced by design: about 3/4 of the
    labels are 0.

    Parameters
    ----------
    n_samples : int, default=200
        Number of points; corners ``(0, 0), (0, 1), (1, 1)`` get the extra points of a remainder.
    noise : float, default=0.0
        Standard deviation of the Gaussian noise added to each coordinate.
    seed : None, int or numpy.random.Generator, default=None
        Seeds the noise and the shuffling.
    shuffle : bool, default=True
        Shuffle the rows; otherwise they come corner by corner.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), float64
    y : ndarray of shape (n_samples,), intp
        The labels, 0 or 1.
    """
    return _logic_gate(n_samples, noise, seed, shuffle, np.logical_and, "make_and")


def make_blobs(n_samples=200, *, centers=2, noise=1.0, radius=3.0, seed=None, shuffle=True):
    """Gaussian clusters, one class per cluster.

    Parameters
    ----------
    n_samples : int, default=200
        Number of points, split as evenly as possible over the clusters.
    centers : int or array_like of shape (n_classes, 2), default=2
        Either the number of clusters, placed evenly on a circle of radius ``radius`` around the
        origin (so they are always the same distance apart, whatever the seed), or their
        coordinates.
    noise : float, default=1.0
        Standard deviation of each cluster (scikit-learn calls it ``cluster_std``). With ``noise=0``
        every point sits on its centre.
    radius : float, default=3.0
        Radius of the circle the centres lie on when ``centers`` is an int.
    seed : None, int or numpy.random.Generator, default=None
        Seeds the noise and the shuffling.
    shuffle : bool, default=True
        Shuffle the rows; otherwise they come cluster by cluster.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), float64
    y : ndarray of shape (n_samples,), intp
        The labels, ``0 .. n_classes - 1``, the index of each point's centre.
    """
    owner = "make_blobs"
    n_samples = check_int(n_samples, "n_samples", owner)
    noise = _check_noise(noise, owner)
    if is_int(centers):
        n_classes = check_int(centers, "centers", owner)
        angles = 2 * np.pi * np.arange(n_classes) / n_classes
        centre_points = float(radius) * np.column_stack([np.cos(angles), np.sin(angles)])
    else:
        centre_points = as_float_array(centers, owner, "centers")
        if centre_points.ndim != 2 or centre_points.shape[1] != 2 or len(centre_points) == 0:
            raise ValueError(f"{owner}: centers must be an int or an array of shape (K, 2), "
                             f"got shape {centre_points.shape}")
        n_classes = len(centre_points)
    rng = as_generator(seed)
    y = np.repeat(np.arange(n_classes), _class_sizes(n_samples, n_classes))
    return _finish(centre_points[y], y, noise, shuffle, rng)


def make_circles(n_samples=200, *, noise=0.0, factor=0.5, seed=None, shuffle=True):
    """Two concentric circles: class 0 on the outer one (radius 1), class 1 on the inner one.

    The angles are drawn uniformly at random, then Gaussian noise is added to each coordinate. No line
    separates the classes, but the radius ``sqrt(x1**2 + x2**2)`` does.

    Parameters
    ----------
    n_samples : int, default=200
        Number of points; the outer circle gets the extra point when it is odd.
    noise : float, default=0.0
        Standard deviation of the Gaussian noise added to each coordinate.
    factor : float, default=0.5
        Radius of the inner circle, ``0 <= factor < 1``.
    seed : None, int or numpy.random.Generator, default=None
        Seeds the angles, the noise and the shuffling.
    shuffle : bool, default=True
        Shuffle the rows; otherwise class 0 comes first.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), float64
    y : ndarray of shape (n_samples,), intp
        The labels, 0 (outer) or 1 (inner).
    """
    owner = "make_circles"
    n_samples = check_int(n_samples, "n_samples", owner)
    noise = _check_noise(noise, owner)
    if not 0 <= factor < 1:
        raise ValueError(f"{owner}: factor must be in [0, 1), got {factor!r}")
    rng = as_generator(seed)
    y = np.repeat(np.arange(2), _class_sizes(n_samples, 2))
    radius = np.where(y == 0, 1.0, float(factor))
    angle = rng.uniform(0, 2 * np.pi, size=n_samples)
    X = radius[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
    return _finish(X, y, noise, shuffle, rng)


def make_moons(n_samples=200, *, noise=0.0, seed=None, shuffle=True):
    """Two interleaving half circles.

    Class 0 lies on the upper half of the unit circle, ``(cos t, sin t)``, class 1 on the lower half
    circle ``(1 - cos t, 0.5 - sin t)``, for ``t`` uniform in ``[0, pi]`` (scikit-learn's
    geometry); then Gaussian noise is added to each coordinate.

    Parameters
    ----------
    n_samples : int, default=200
        Number of points; class 0 gets the extra point when it is odd.
    noise : float, default=0.0
        Standard deviation of the Gaussian noise added to each coordinate.
    seed : None, int or numpy.random.Generator, default=None
        Seeds the positions along the moons, the noise and the shuffling.
    shuffle : bool, default=True
        Shuffle the rows; otherwise class 0 comes first.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), float64
    y : ndarray of shape (n_samples,), intp
        The labels, 0 (upper moon) or 1 (lower moon).
    """
    owner = "make_moons"
    n_samples = check_int(n_samples, "n_samples", owner)
    noise = _check_noise(noise, owner)
    rng = as_generator(seed)
    y = np.repeat(np.arange(2), _class_sizes(n_samples, 2))
    t = rng.uniform(0, np.pi, size=n_samples)
    upper = np.column_stack([np.cos(t), np.sin(t)])
    lower = np.column_stack([1 - np.cos(t), 0.5 - np.sin(t)])
    X = np.where((y == 0)[:, None], upper, lower)
    return _finish(X, y, noise, shuffle, rng)


def make_spirals(n_samples=200, *, n_classes=2, noise=0.0, seed=None, shuffle=True):
    """Interleaved spiral arms, one class per arm.

    Arm ``k`` is the curve ``r * (cos a, sin a)`` with angle ``a = 2 pi k / n_classes + 2.5 pi r`` for
    the radius ``r`` drawn uniformly in ``[0.1, 1]`` (each arm turns 1.125 times around the centre).
    Then Gaussian noise is added to each coordinate. Neighbouring arms are ``0.8 / n_classes`` apart
    along a ray, so ``noise`` of about a tenth of that keeps the classes separable.

    Parameters
    ----------
    n_samples : int, default=200
        Number of points, split as evenly as possible over the arms.
    n_classes : int, default=2
        Number of arms.
    noise : float, default=0.0
        Standard deviation of the Gaussian noise added to each coordinate.
    seed : None, int or numpy.random.Generator, default=None
        Seeds the radii, the noise and the shuffling.
    shuffle : bool, default=True
        Shuffle the rows; otherwise they come arm by arm.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), float64
    y : ndarray of shape (n_samples,), intp
        The labels, ``0 .. n_classes - 1``.
    """
    owner = "make_spirals"
    n_samples = check_int(n_samples, "n_samples", owner)
    n_classes = check_int(n_classes, "n_classes", owner)
    noise = _check_noise(noise, owner)
    rng = as_generator(seed)
    y = np.repeat(np.arange(n_classes), _class_sizes(n_samples, n_classes))
    r = rng.uniform(0.1, 1.0, size=n_samples)
    angle = 2 * np.pi * y / n_classes + 2.5 * np.pi * r
    X = r[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
    return _finish(X, y, noise, shuffle, rng)


# ----------------------------------------------------------------------------------------------
# handwritten digits
# ----------------------------------------------------------------------------------------------

def load_digits(*, images=False):
    """scikit-learn's bundled 8x8 handwritten digits (1,797 images, no download needed).

    Parameters
    ----------
    images : bool, default=False
        Return each image as a ``(1, 8, 8)`` array (one channel), the input shape of ``Conv2d``,
        instead of a flat vector of 64 pixels.

    Returns
    -------
    X : ndarray of shape (1797, 64), or (1797, 1, 8, 8) if ``images``, float64
        Pixel intensities scaled from the original 0..16 to ``[0, 1]``.
    y : ndarray of shape (1797,), intp
        The digit, 0..9.
    """
    from sklearn.datasets import load_digits as sklearn_load_digits  # slow import: only when used

    digits = sklearn_load_digits()
    X = np.asarray(digits.data, dtype=np.float64) / 16.0
    y = np.asarray(digits.target, dtype=np.intp)
    if images:
        X = X.reshape(len(X), 1, 8, 8)
    return X, y


# ----------------------------------------------------------------------------------------------
# sequence tasks for recurrent networks
# ----------------------------------------------------------------------------------------------

def make_delayed_recall(n_samples=200, seq_len=10, *, n_symbols=4, seed=None):
    """Sequences of random symbols; the target is the FIRST symbol, to be given after the last step.

    Each sequence is ``seq_len`` symbols drawn independently and uniformly from ``n_symbols``, each
    one-hot encoded. The network reads the whole sequence and must answer, from its final state, which
    symbol came first: it has to carry that symbol through ``seq_len - 1`` distracting steps.

    Why memory is needed: the first symbol is independent of every later one, so a model that sees
    only the current (last) input, or any single input but the first, is right with probability
    ``1 / n_symbols`` at best, whatever it learns. A recurrent network can get close to 100 %; how
    hard that is grows with ``seq_len`` (vanishing gradients).

    Parameters
    ----------
    n_samples : int, default=200
        Number of sequences.
    seq_len : int, default=10
        Length ``T`` of each sequence, at least 2.
    n_symbols : int, default=4
        Size ``D`` of the alphabet (and number of classes), at least 2.
    seed : None, int or numpy.random.Generator, default=None
        Seeds the symbols.

    Returns
    -------
    X : ndarray of shape (n_samples, seq_len, n_symbols), float64
        One-hot symbols: ``X[n, t, k] == 1`` if symbol ``k`` is at step ``t`` of sequence ``n``.
    y : ndarray of shape (n_samples,), intp
        The first symbol of each sequence, ``X[:, 0].argmax(axis=1)``.
    """
    owner = "make_delayed_recall"
    n_samples = check_int(n_samples, "n_samples", owner)
    seq_len = check_int(seq_len, "seq_len", owner, 2)
    n_symbols = check_int(n_symbols, "n_symbols", owner, 2)
    rng = as_generator(seed)
    symbols = rng.integers(0, n_symbols, size=(n_samples, seq_len))
    X = np.eye(n_symbols)[symbols]
    return X, symbols[:, 0].astype(np.intp)


def make_parity(n_samples=200, seq_len=8, *, running=False, seed=None):
    """Random bit sequences labelled by their parity (is the number of ones odd?).

    Why memory is needed: the parity of ``x_1 .. x_T`` is ``x_T`` XOR the parity of the earlier bits,
    and for random bits that earlier parity is independent of ``x_T`` (indeed of any proper subset of
    the bits). So a model that sees only the last input, or any input alone, is right half of the
    time. A recurrent network can keep the running parity in its state: one bit of memory, flipped
    by every 1.

    Parameters
    ----------
    n_samples : int, default=200
        Number of sequences.
    seq_len : int, default=8
        Length ``T`` of each sequence, at least 2.
    running : bool, default=False
        If True, the target is the parity of the prefix at every step; otherwise only the parity of
        the whole sequence. A vanilla RNN learns the running version easily (a target at every step
        teaches it to flip its state on each 1), but often stays at chance on the whole-sequence
        version, whose only signal is the XOR of all bits at the end.
    seed : None, int or numpy.random.Generator, default=None
        Seeds the bits.

    Returns
    -------
    X : ndarray of shape (n_samples, seq_len, 1), float64
        The bits, 0.0 or 1.0.
    y : ndarray of shape (n_samples,) or, if ``running``, (n_samples, seq_len), intp
        ``1`` where the number of ones (so far) is odd, else ``0``.
    """
    owner = "make_parity"
    n_samples = check_int(n_samples, "n_samples", owner)
    seq_len = check_int(seq_len, "seq_len", owner, 2)
    rng = as_generator(seed)
    bits = rng.integers(0, 2, size=(n_samples, seq_len))
    prefix_parity = (np.cumsum(bits, axis=1) % 2).astype(np.intp)
    X = bits[:, :, None].astype(np.float64)
    return X, (prefix_parity if running else prefix_parity[:, -1])


# ----------------------------------------------------------------------------------------------
# splitting and batching
# ----------------------------------------------------------------------------------------------

def _check_same_length(X, y, owner):
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0 or y.ndim == 0:
        raise ValueError(f"{owner}: X and y must be arrays with one row per sample, "
                         f"got shapes {X.shape} and {y.shape}")
    if len(X) != len(y):
        raise ValueError(f"{owner}: X and y must have the same number of samples, "
                         f"got X of shape {X.shape} and y of shape {y.shape}")
    return X, y


def train_test_split(X, y, test_size=0.25, *, seed=None, stratify=False):
    """Shuffle the samples and split them into a training and a test set.

    Parameters
    ----------
    X : array_like of shape (N, ...)
        Inputs, one row per sample.
    y : array_like of shape (N, ...)
        Targets, one row per sample.
    test_size : float or int, default=0.25
        A float in ``(0, 1)`` is the fraction of samples in the test set, rounded up (like
        scikit-learn); an int is the number of test samples. Both sets must end up non-empty.
    seed : None, int or numpy.random.Generator, default=None
        Seeds the shuffling.
    stratify : bool, default=False
        Keep the class proportions of ``y`` (class labels, shape ``(N,)``) in both sets: each class
        sends its share of ``n_test`` to the test set, rounded so the total is exactly ``n_test``.

    Returns
    -------
    X_train : ndarray of shape (N - n_test, ...)
    X_test : ndarray of shape (n_test, ...)
    y_train : ndarray of shape (N - n_test, ...)
    y_test : ndarray of shape (n_test, ...)
        Every sample is in exactly one of the two sets, in shuffled order.
    """
    owner = "train_test_split"
    X, y = _check_same_length(X, y, owner)
    n_samples = len(X)
    if is_int(test_size):
        n_test = int(test_size)
    elif isinstance(test_size, numbers.Real) and 0 < test_size < 1:
        n_test = int(np.ceil(test_size * n_samples))
    else:
        raise ValueError(f"{owner}: test_size must be a float in (0, 1) or an int, got {test_size!r}")
    if not 1 <= n_test <= n_samples - 1:
        raise ValueError(f"{owner}: test_size={test_size!r} gives {n_test} test samples out of "
                         f"{n_samples}; both sets must be non-empty")
    rng = as_generator(seed)

    if not stratify:
        order = rng.permutation(n_samples)
        test_index, train_index = order[:n_test], order[n_test:]
    else:
        if y.ndim != 1:
            raise ValueError(f"{owner}: stratify needs class labels y of shape (N,), got {y.shape}")
        classes, class_of_sample, counts = np.unique(y, return_inverse=True, return_counts=True)
        # Each class's exact share of the test set, rounded down, then the samples still missing go
        # to the classes with the largest remainders (so the total is exactly n_test).
        share = n_test * counts / n_samples
        per_class = np.floor(share).astype(int)
        missing = n_test - per_class.sum()
        per_class[np.argsort(-(share - per_class), kind="stable")[:missing]] += 1
        test_parts, train_parts = [], []
        for k in range(len(classes)):
            members = rng.permutation(np.flatnonzero(class_of_sample == k))
            test_parts.append(members[:per_class[k]])
            train_parts.append(members[per_class[k]:])
        test_index = rng.permutation(np.concatenate(test_parts))
        train_index = rng.permutation(np.concatenate(train_parts))
    return X[train_index], X[test_index], y[train_index], y[test_index]


def k_fold(n_samples, k=5, *, shuffle=True, seed=None):
    """Split ``range(n_samples)`` into ``k`` folds for cross-validation, like scikit-learn's ``KFold``.

    Each fold serves once as the validation set while the other ``k - 1`` train; every sample is
    validated on exactly once. Averaged over the folds, a validation curve (the loss after each
    epoch, say) depends much less on which samples happened to be held out than one split's does:
    that average is what to choose a setting (the number of epochs) from, before training once
    more on all the data.

    Parameters
    ----------
    n_samples : int
        Number of samples ``N``.
    k : int, default=5
        Number of folds, at least 2 and at most ``N``. The first ``N % k`` folds get one sample more.
    shuffle : bool, default=True
        Shuffle the samples before cutting them into folds; otherwise fold ``i`` is a contiguous block.
    seed : None, int or numpy.random.Generator, default=None
        Seeds the shuffling.

    Returns
    -------
    list of k tuples (train_index, val_index)
        Integer index arrays (``numpy.intp``): ``val_index`` of fold ``i`` and ``train_index``, the
        other samples, in increasing order.
    """
    owner = "k_fold"
    n_samples = check_int(n_samples, "n_samples", owner)
    k = check_int(k, "k", owner, 2)
    if k > n_samples:
        raise ValueError(f"{owner}: k={k} folds need at least {k} samples, got n_samples={n_samples}")
    order = as_generator(seed).permutation(n_samples) if shuffle else np.arange(n_samples)
    folds = []
    for val_index in np.array_split(order, k):
        in_val = np.zeros(n_samples, dtype=bool)
        in_val[val_index] = True
        folds.append((np.flatnonzero(~in_val), np.sort(val_index).astype(np.intp)))
    return folds

def iterate_minibatches(X, y, batch_size, shuffle=True, rng=None):
    """Yield the data in mini-batches, each sample exactly once per pass.

    Parameters
    ----------
    X : ndarray of shape (N, ...)
        Inputs, one row per sample.
    y : ndarray of shape (N, ...)
        Targets, one row per sample.
    batch_size : int
        Samples per batch. The last batch holds the ``N % batch_size`` left over, if any, so there
        are ``ceil(N / batch_size)`` batches; a ``batch_size`` larger than ``N`` gives one batch.
    shuffle : bool, default=True
        Visit the samples in a random order (a new one on every call); otherwise in order.
    rng : None, int or numpy.random.Generator, default=None
        Source of the random order. Pass the same generator every epoch to get a different but
        reproducible order each time.

    Yields
    ------
    X_batch : ndarray of shape (B, ...)
    y_batch : ndarray of shape (B, ...)
        Rows of ``X`` and ``y`` at the same indices, ``B = batch_size`` except maybe for the last.

    Raises
    ------
    ValueError
        If ``X`` and ``y`` differ in length or ``batch_size < 1`` (raised when iteration starts,
        as for any generator).

    Examples
    --------
    One epoch of mini-batch training::

        for X_batch, y_batch in iterate_minibatches(X, y, batch_size=32, rng=rng):
            loss.forward(model.forward(X_batch), y_batch)
            ...
    """
    X, y = _check_same_length(X, y, "iterate_minibatches")
    batch_size = check_int(batch_size, "batch_size", "iterate_minibatches")
    rng = as_generator(rng)
    n_samples = len(X)
    # BEGIN SOLUTION 07_optimizers
    if shuffle:
        order = rng.permutation(n_samples)
    else:
        order = np.arange(n_samples)
    for start in range(0, n_samples, batch_size):
        batch = order[start:start + batch_size]
        yield X[batch], y[batch]
    # END SOLUTION
