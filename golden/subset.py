"""Which golden vectors a run with `--vectors N` uses: one rule for every caller.

Why: bundles are stored sorted by class (mnist's test split is), so "the
first N" of a bundle is one or two classes and the accuracy it reports means
nothing. `select` picks a seeded, class-stratified subset instead: each class
gets a share of N proportional to its share of the bundle (largest remainder,
at least one vector per class while N allows), the vectors inside a class are
drawn with a fixed seed, and the indices come back sorted, so the same N
always gives the same vectors on every machine. Regression bundles (float
labels) are stratified over ten equal-count bins of the label instead.

Torch-free and harness-free: `hil run`, `hil profile` and the pytest plugin
all call `select`, and nothing else chooses vectors.
"""
from __future__ import annotations

import numpy as np

SEED = 0
REGRESSION_BINS = 10


def _strata(labels: np.ndarray) -> np.ndarray:
    """A stratum id per vector: the class, or the label's quantile bin."""
    y = np.asarray(labels).reshape(len(labels), -1)[:, 0]
    if np.issubdtype(y.dtype, np.integer):
        return y.astype(np.int64)
    order = np.argsort(y, kind="stable")
    strata = np.empty(len(y), np.int64)
    strata[order] = np.arange(len(y)) * REGRESSION_BINS // max(len(y), 1)
    return strata


def _shares(sizes: np.ndarray, n: int) -> np.ndarray:
    """Vectors per stratum: proportional, largest remainder, one each first if n allows."""
    take = np.zeros(len(sizes), np.int64)
    if n >= len(sizes):
        take += 1
        n -= len(sizes)
    exact = (sizes - take) * n / max(int((sizes - take).sum()), 1)
    take += np.floor(exact).astype(np.int64)
    rest = n - int(np.floor(exact).sum())
    # largest remainder; ties go to the bigger stratum, then the lower id (deterministic)
    order = np.lexsort((np.arange(len(sizes)), -sizes, -(exact - np.floor(exact))))
    for k in order:
        if rest == 0:
            break
        if take[k] < sizes[k]:
            take[k] += 1
            rest -= 1
    return np.minimum(take, sizes)


def select(labels: np.ndarray, n: int | None, seed: int = SEED) -> np.ndarray:
    """Sorted bundle indices of a class-stratified subset of ``n`` vectors.

    ``n`` None, or at least the bundle size, selects every vector.
    """
    total = len(labels)
    if n is None or n >= total:
        return np.arange(total)
    if n < 1:
        raise ValueError(f"--vectors must be at least 1, got {n}")
    strata = _strata(labels)
    ids, sizes = np.unique(strata, return_counts=True)
    take = _shares(sizes, n)
    rng = np.random.default_rng(seed)
    picked = [rng.permutation(np.flatnonzero(strata == s))[:k] for s, k in zip(ids, take)]
    return np.sort(np.concatenate(picked))
