"""`--vectors N`: a seeded, class-stratified subset, the same for every caller."""
from __future__ import annotations

import numpy as np
import pytest

from golden import bundle, subset
from golden.paths import artifact_dir


def test_mnist_100_has_all_ten_digits_about_evenly():
    labels = bundle.read(artifact_dir("mnist_lenet")).labels
    assert (np.diff(labels) >= 0).all(), "bundle no longer sorted by class: this test lost its point"
    idx = subset.select(labels, 100)
    counts = np.bincount(labels[idx], minlength=10)
    assert len(idx) == 100 and len(set(idx.tolist())) == 100
    assert counts.min() >= 8 and counts.max() <= 12, counts
    assert (np.diff(idx) > 0).all()


def test_same_n_same_vectors_other_seed_other_vectors():
    labels = np.repeat(np.arange(5), 40)
    a, b = subset.select(labels, 30), subset.select(labels, 30)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, subset.select(labels, 30, seed=1))


def test_small_n_covers_distinct_classes_and_large_n_is_everything():
    labels = np.repeat(np.arange(6), [50, 10, 10, 10, 10, 10])
    assert sorted(labels[subset.select(labels, 6)].tolist()) == list(range(6))
    assert len(subset.select(labels, 3)) == 3
    np.testing.assert_array_equal(subset.select(labels, None), np.arange(100))
    np.testing.assert_array_equal(subset.select(labels, 500), np.arange(100))
    shares = np.bincount(labels[subset.select(labels, 50)])
    assert shares[0] > shares[1] and shares.sum() == 50  # proportional to class size


def test_regression_labels_spread_over_the_range():
    y = np.linspace(0, 1, 200, dtype=np.float32)[:, None]
    picked = y[subset.select(y, 10), 0]
    assert len(picked) == 10 and np.histogram(picked, bins=10, range=(0, 1))[0].tolist() == [1] * 10


def test_zero_vectors_is_a_clear_error():
    with pytest.raises(ValueError, match="at least 1"):
        subset.select(np.arange(10), 0)
