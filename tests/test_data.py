"""Tests of nnlib.data: the generators, load_digits, the sequence tasks, splitting and batching."""
import numpy as np
import pytest

from nnlib import data
from nnlib.data import iterate_minibatches, train_test_split

GENERATORS_2D = [data.make_xor, data.make_and, data.make_blobs, data.make_circles,
                 data.make_moons, data.make_spirals]


# ----------------------------------------------------------------------------------------------
# 2-D generators: the shared contract
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("make", GENERATORS_2D, ids=lambda f: f.__name__)
@pytest.mark.parametrize("n_samples", [1, 7, 200])
def test_generator_shapes_and_dtypes(make, n_samples):
    X, y = make(n_samples, noise=0.1, seed=0)
    assert X.shape == (n_samples, 2) and X.dtype == np.float64
    assert y.shape == (n_samples,) and y.dtype == np.intp
    assert np.all(np.isfinite(X))
    assert set(np.unique(y)) <= {0, 1}  # all these default to two classes


@pytest.mark.parametrize("make", GENERATORS_2D, ids=lambda f: f.__name__)
def test_generator_reproducible_with_seed(make):
    X1, y1 = make(50, noise=0.2, seed=3)
    X2, y2 = make(50, noise=0.2, seed=3)
    X3, y3 = make(50, noise=0.2, seed=4)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.allclose(X1, X3)


@pytest.mark.parametrize("make", GENERATORS_2D, ids=lambda f: f.__name__)
def test_generator_accepts_a_generator_and_advances_it(make):
    rng = np.random.default_rng(0)
    X1, _ = make(20, noise=0.1, seed=rng)
    X2, _ = make(20, noise=0.1, seed=rng)
    assert not np.allclose(X1, X2)


@pytest.mark.parametrize("make", [data.make_blobs, data.make_circles, data.make_moons,
                                  data.make_spirals], ids=lambda f: f.__name__)
@pytest.mark.parametrize("n_samples, expected", [(200, [100, 100]), (7, [4, 3])])
def test_two_class_generators_are_balanced(make, n_samples, expected):
    _, y = make(n_samples, seed=0)
    np.testing.assert_array_equal(np.bincount(y, minlength=2), expected)


@pytest.mark.parametrize("make", GENERATORS_2D, ids=lambda f: f.__name__)
def test_generator_rows_are_shuffled_unless_asked(make):
    _, y = make(100, seed=0)
    assert np.any(np.diff(y) < 0)  # not in blocks of one class
    _, y_blocks = make(100, seed=0, shuffle=False)
    changes = np.count_nonzero(np.diff(y_blocks))
    assert changes <= 3  # class by class (corner by corner for XOR and AND)
    np.testing.assert_array_equal(np.sort(y), np.sort(y_blocks))


@pytest.mark.parametrize("make", GENERATORS_2D, ids=lambda f: f.__name__)
@pytest.mark.parametrize("bad", [{"noise": -0.1}, {"n_samples": 0}, {"n_samples": 2.5}])
def test_generator_rejects_bad_arguments(make, bad):
    kwargs = {"n_samples": 10, **bad}
    n_samples = kwargs.pop("n_samples")
    with pytest.raises(ValueError, match=make.__name__):
        make(n_samples, **kwargs)


# ----------------------------------------------------------------------------------------------
# 2-D generators: the geometry without noise
# ----------------------------------------------------------------------------------------------

def test_xor_without_noise_is_the_truth_table():
    X, y = data.make_xor(100, seed=0)
    assert set(map(tuple, X)) == {(0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)}
    np.testing.assert_array_equal(y, (X[:, 0] != X[:, 1]).astype(int))
    corners, counts = np.unique(X, axis=0, return_counts=True)
    np.testing.assert_array_equal(counts, [25, 25, 25, 25])


def test_xor_odd_sizes_stay_balanced():
    for n_samples in range(1, 12):
        _, y = data.make_xor(n_samples, seed=0)
        counts = np.bincount(y, minlength=2)
        assert abs(counts[0] - counts[1]) <= 1, (n_samples, counts)


def test_xor_noise_keeps_quadrant_labels():
    X, y = data.make_xor(400, noise=0.1, seed=1)
    # with small noise every point stays nearest its corner: the label is "x1, x2 differ"
    near = (X > 0.5).astype(int)
    np.testing.assert_array_equal(y, near[:, 0] ^ near[:, 1])


def test_and_labels():
    X, y = data.make_and(40, seed=0)
    np.testing.assert_array_equal(y, ((X[:, 0] == 1) & (X[:, 1] == 1)).astype(int))
    assert np.bincount(y).tolist() == [30, 10]


def test_circles_without_noise_lie_on_their_circles():
    X, y = data.make_circles(101, factor=0.3, seed=0)
    radius = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(radius[y == 0], 1.0)
    np.testing.assert_allclose(radius[y == 1], 0.3)
    assert np.bincount(y).tolist() == [51, 50]


def test_circles_rejects_bad_factor():
    with pytest.raises(ValueError, match="factor"):
        data.make_circles(10, factor=1.0)


def test_moons_without_noise_lie_on_their_half_circles():
    X, y = data.make_moons(100, seed=0)
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0)
    assert np.all(upper[:, 1] >= 0)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0)
    assert np.all(lower[:, 1] <= 0.5)


def test_blobs_without_noise_sit_on_evenly_spaced_centres():
    X, y = data.make_blobs(30, centers=3, noise=0.0, radius=2.0, seed=0)
    assert np.bincount(y).tolist() == [10, 10, 10]
    centres = np.array([X[y == k][0] for k in range(3)])
    for k in range(3):
        np.testing.assert_allclose(X[y == k], np.tile(centres[k], (10, 1)))
    np.testing.assert_allclose(np.hypot(centres[:, 0], centres[:, 1]), 2.0)
    distances = np.linalg.norm(centres[:, None] - centres[None], axis=-1)[np.triu_indices(3, 1)]
    np.testing.assert_allclose(distances, 2.0 * np.sqrt(3))


def test_blobs_int_centres_gives_that_many_classes():
    _, y = data.make_blobs(100, centers=5, seed=0)
    assert np.bincount(y).tolist() == [20] * 5


def test_blobs_explicit_centres_and_spread():
    centres = np.array([[10.0, 0.0], [0.0, -10.0]])
    X, y = data.make_blobs(4000, centers=centres, noise=0.5, seed=0)
    for k in range(2):
        np.testing.assert_allclose(X[y == k].mean(axis=0), centres[k], atol=0.05)
        np.testing.assert_allclose(X[y == k].std(axis=0), 0.5, rtol=0.05)
    with pytest.raises(ValueError, match="centers"):
        data.make_blobs(10, centers=np.zeros((3, 3)))


def test_spirals_geometry_and_classes():
    X, y = data.make_spirals(300, n_classes=3, seed=0)
    assert np.bincount(y).tolist() == [100, 100, 100]
    r = np.hypot(X[:, 0], X[:, 1])
    assert np.all((r >= 0.1) & (r <= 1.0))
    # each point is on its own arm: angle = 2 pi k / K + 2.5 pi r (mod 2 pi)
    expected = 2 * np.pi * y / 3 + 2.5 * np.pi * r
    np.testing.assert_allclose(np.cos(np.arctan2(X[:, 1], X[:, 0]) - expected), 1.0, atol=1e-12)


# ----------------------------------------------------------------------------------------------
# digits
# ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def digits():
    return data.load_digits()


def test_load_digits_shape_range_and_labels(digits):
    X, y = digits
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert y.shape == (1797,) and y.dtype == np.intp
    assert X.min() == 0.0 and X.max() == 1.0
    assert np.all((X * 16) == np.round(X * 16))  # original 0..16 intensities, divided by 16
    assert sorted(np.unique(y)) == list(range(10))


def test_load_digits_images_option(digits):
    X_images, y_images = data.load_digits(images=True)
    assert X_images.shape == (1797, 1, 8, 8)
    np.testing.assert_array_equal(X_images.reshape(1797, 64), digits[0])
    np.testing.assert_array_equal(y_images, digits[1])


# ----------------------------------------------------------------------------------------------
# sequence tasks
# ----------------------------------------------------------------------------------------------

def _best_memoryless_accuracy(train_inputs, train_y, test_inputs, test_y):
    """Bayes-optimal classifier that sees one input step only: a lookup table, input -> majority."""
    table = {}
    for key in np.unique(train_inputs, axis=0):
        match = np.all(train_inputs == key, axis=1)
        table[tuple(key)] = np.bincount(train_y[match]).argmax()
    predicted = np.array([table.get(tuple(key), 0) for key in test_inputs])
    return np.mean(predicted == test_y)


def test_delayed_recall_shapes_and_targets():
    X, y = data.make_delayed_recall(50, 6, n_symbols=3, seed=0)
    assert X.shape == (50, 6, 3) and X.dtype == np.float64
    assert y.shape == (50,) and y.dtype == np.intp
    np.testing.assert_array_equal(X.sum(axis=2), 1.0)  # one-hot
    np.testing.assert_array_equal(y, X[:, 0].argmax(axis=1))
    X2, y2 = data.make_delayed_recall(50, 6, n_symbols=3, seed=0)
    np.testing.assert_array_equal(X, X2)
    assert not np.array_equal(X, data.make_delayed_recall(50, 6, n_symbols=3, seed=1)[0])


def test_delayed_recall_needs_memory():
    X, y = data.make_delayed_recall(4000, 5, n_symbols=4, seed=0)
    X_test, y_test = data.make_delayed_recall(4000, 5, n_symbols=4, seed=1)
    # the best any memoryless model can do from the last input is chance, 1/4 ...
    last_only = _best_memoryless_accuracy(X[:, -1], y, X_test[:, -1], y_test)
    assert abs(last_only - 0.25) < 0.03
    # ... while the information is there: the first step gives the answer
    assert _best_memoryless_accuracy(X[:, 0], y, X_test[:, 0], y_test) == 1.0


def test_parity_targets():
    X, y = data.make_parity(100, 7, seed=0)
    assert X.shape == (100, 7, 1) and X.dtype == np.float64
    assert y.shape == (100,) and y.dtype == np.intp
    assert set(np.unique(X)) == {0.0, 1.0}
    np.testing.assert_array_equal(y, X[:, :, 0].sum(axis=1) % 2)
    X_r, y_r = data.make_parity(100, 7, running=True, seed=0)
    np.testing.assert_array_equal(X_r, X)
    assert y_r.shape == (100, 7)
    np.testing.assert_array_equal(y_r, np.cumsum(X[:, :, 0], axis=1) % 2)
    np.testing.assert_array_equal(y_r[:, -1], y)


def test_parity_needs_memory():
    X, y = data.make_parity(4000, 6, seed=0)
    X_test, y_test = data.make_parity(4000, 6, seed=1)
    last_only = _best_memoryless_accuracy(X[:, -1], y, X_test[:, -1], y_test)
    assert abs(last_only - 0.5) < 0.03
    # the whole sequence determines it
    whole = _best_memoryless_accuracy(X[:, :, 0], y, X_test[:, :, 0], y_test)
    assert whole > 0.95  # every one of the 64 sequences appears in 4000 training samples


@pytest.mark.parametrize("make", [data.make_delayed_recall, data.make_parity])
def test_sequence_tasks_reject_short_sequences(make):
    with pytest.raises(ValueError, match="seq_len"):
        make(10, 1)


# ----------------------------------------------------------------------------------------------
# train_test_split
# ----------------------------------------------------------------------------------------------

def _ids_data(n_samples, n_classes=2):
    ids = np.arange(n_samples)
    X = np.column_stack([ids, -ids]).astype(np.float64)  # row i holds i: we can trace every sample
    y = ids % n_classes
    return X, y


@pytest.mark.parametrize("n_samples, test_size, n_test", [(100, 0.25, 25), (10, 0.25, 3),
                                                          (10, 4, 4), (3, 0.5, 2)])
def test_train_test_split_partitions(n_samples, test_size, n_test):
    X, y = _ids_data(n_samples)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size, seed=0)
    assert len(X_test) == len(y_test) == n_test
    assert len(X_train) == len(y_train) == n_samples - n_test
    train_ids, test_ids = X_train[:, 0].astype(int), X_test[:, 0].astype(int)
    assert set(train_ids).isdisjoint(test_ids)
    assert sorted(np.concatenate([train_ids, test_ids])) == list(range(n_samples))
    np.testing.assert_array_equal(y_train, train_ids % 2)  # rows of X and y stay together
    np.testing.assert_array_equal(y_test, test_ids % 2)


def test_train_test_split_shuffles_reproducibly():
    X, y = _ids_data(50)
    first = train_test_split(X, y, seed=1)
    again = train_test_split(X, y, seed=1)
    other = train_test_split(X, y, seed=2)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[1], other[1])
    assert not np.all(np.diff(first[0][:, 0]) > 0)  # training order is shuffled


def test_train_test_split_stratify_keeps_proportions():
    y = np.repeat([0, 1, 2], [60, 30, 10])
    X = np.arange(100.0)[:, None]
    X_train, X_test, y_train, y_test = train_test_split(X, y, 0.2, seed=0, stratify=True)
    assert np.bincount(y_test).tolist() == [12, 6, 2]
    assert np.bincount(y_train).tolist() == [48, 24, 8]
    np.testing.assert_array_equal(y[X_test[:, 0].astype(int)], y_test)
    assert sorted(np.concatenate([X_train, X_test])[:, 0]) == list(range(100))


def test_train_test_split_stratify_rounds_to_the_exact_total():
    y = np.repeat([0, 1, 2], [5, 5, 5])
    _, X_test, _, y_test = train_test_split(np.zeros((15, 1)), y, 0.3, seed=0, stratify=True)
    assert len(y_test) == 5  # ceil(0.3 * 15)
    assert np.all(np.abs(np.bincount(y_test, minlength=3) - 5 / 3) < 1)


@pytest.mark.parametrize("kwargs", [{"test_size": 0.0}, {"test_size": 1.0}, {"test_size": 10},
                                    {"test_size": 0}, {"test_size": "a"}])
def test_train_test_split_rejects_bad_sizes(kwargs):
    X, y = _ids_data(10)
    with pytest.raises(ValueError, match="train_test_split"):
        train_test_split(X, y, **kwargs)


def test_train_test_split_rejects_length_mismatch():
    with pytest.raises(ValueError, match=r"\(10, 2\).*\(9,\)"):
        train_test_split(np.zeros((10, 2)), np.zeros(9))


# ----------------------------------------------------------------------------------------------
# iterate_minibatches
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("n_samples, batch_size", [(10, 3), (10, 5), (10, 1), (7, 10), (1, 1)])
@pytest.mark.parametrize("shuffle", [True, False])
def test_minibatches_cover_every_sample_once(n_samples, batch_size, shuffle):
    X, y = _ids_data(n_samples)
    batches = list(iterate_minibatches(X, y, batch_size, shuffle=shuffle, rng=0))
    sizes = [len(X_batch) for X_batch, _ in batches]
    assert len(batches) == -(-n_samples // batch_size)  # ceil(N / batch_size)
    assert all(size == batch_size for size in sizes[:-1])
    assert sizes[-1] == n_samples - batch_size * (len(batches) - 1)
    ids = np.concatenate([X_batch[:, 0] for X_batch, _ in batches]).astype(int)
    assert sorted(ids) == list(range(n_samples))
    for X_batch, y_batch in batches:
        np.testing.assert_array_equal(y_batch, X_batch[:, 0].astype(int) % 2)
    if not shuffle:
        np.testing.assert_array_equal(ids, np.arange(n_samples))


def test_minibatches_shuffle_reproducible_and_fresh_each_pass():
    X, y = _ids_data(40)

    def order(rng):
        return np.concatenate([X_batch[:, 0] for X_batch, _ in
                               iterate_minibatches(X, y, 8, rng=rng)])

    np.testing.assert_array_equal(order(5), order(5))
    assert not np.array_equal(order(5), np.arange(40))
    rng = np.random.default_rng(5)
    first_pass, second_pass = order(rng), order(rng)
    assert not np.array_equal(first_pass, second_pass)  # a shared generator advances per pass
    rng_again = np.random.default_rng(5)
    np.testing.assert_array_equal(order(rng_again), first_pass)
    np.testing.assert_array_equal(order(rng_again), second_pass)


def test_minibatches_batch_larger_than_data():
    X, y = _ids_data(5)
    batches = list(iterate_minibatches(X, y, 100, shuffle=False))
    assert len(batches) == 1
    np.testing.assert_array_equal(batches[0][0], X)
    np.testing.assert_array_equal(batches[0][1], y)


def test_minibatches_keep_trailing_dimensions():
    X = np.arange(2 * 3 * 4 * 5, dtype=np.float64).reshape(2 * 3, 4, 5)
    y = np.arange(6 * 4).reshape(6, 4)
    for X_batch, y_batch in iterate_minibatches(X, y, 4, rng=0):
        assert X_batch.shape[1:] == (4, 5) and y_batch.shape[1:] == (4,)
        assert len(X_batch) == len(y_batch)


@pytest.mark.parametrize("X, y, batch_size, match", [
    (np.zeros((10, 2)), np.zeros(9), 2, r"\(10, 2\).*\(9,\)"),
    (np.zeros((10, 2)), np.zeros(10), 0, "batch_size"),
    (np.zeros((10, 2)), np.zeros(10), 2.0, "batch_size"),
])
def test_minibatches_reject_bad_input(X, y, batch_size, match):
    with pytest.raises(ValueError, match=match):
        list(iterate_minibatches(X, y, batch_size))


# ----------------------------------------------------------------------------------------------
# k-fold cross-validation

@pytest.mark.parametrize("n_samples, k", [(10, 5), (11, 3), (7, 7), (100, 4)])
def test_k_fold_validates_every_sample_exactly_once(n_samples, k):
    folds = data.k_fold(n_samples, k, seed=0)
    assert len(folds) == k
    validated = np.concatenate([val for _, val in folds])
    np.testing.assert_array_equal(np.sort(validated), np.arange(n_samples))
    sizes = [len(val) for _, val in folds]
    assert max(sizes) - min(sizes) <= 1 and sizes == sorted(sizes, reverse=True)
    for train, val in folds:
        assert train.dtype == val.dtype == np.intp
        np.testing.assert_array_equal(np.sort(np.concatenate([train, val])), np.arange(n_samples))
        assert not set(train) & set(val)
        assert np.all(np.diff(train) > 0) and np.all(np.diff(val) > 0)


def test_k_fold_shuffles_reproducibly_or_keeps_blocks():
    first, again = data.k_fold(20, 4, seed=3), data.k_fold(20, 4, seed=3)
    for (train_a, val_a), (train_b, val_b) in zip(first, again):
        np.testing.assert_array_equal(val_a, val_b)
        np.testing.assert_array_equal(train_a, train_b)
    assert any(not np.array_equal(a, b) for (_, a), (_, b) in zip(first, data.k_fold(20, 4, seed=4)))
    blocks = data.k_fold(10, 3, shuffle=False)
    assert [list(val) for _, val in blocks] == [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]


@pytest.mark.parametrize("args, match", [((10, 1), "k must be an integer >= 2"),
                                         ((3, 4), "k=4 folds need at least 4 samples"),
                                         ((0, 2), "n_samples"), ((10, 2.5), "k")])
def test_k_fold_rejects_bad_arguments(args, match):
    with pytest.raises(ValueError, match=match):
        data.k_fold(*args)
