"""Seed 004 sine data: x uniform in [0, 2*pi], y = sin(x) + 0.1 * noise.

1,000 samples with the seed's RNG seed (1337) and its 60/20/20 split into
train, test and validation (in that order, as the seed's np.split does).
"""
from __future__ import annotations

import math

import numpy as np

from golden.errors import DatasetError

SAMPLES = 1000
SEED = 1337


def load_split(split: str) -> tuple[np.ndarray, np.ndarray]:
    """(x float32 [N,1], y float32 [N,1]) of `train`, `validation` or `test`."""
    rng = np.random.default_rng(SEED)
    x = rng.uniform(0, 2 * math.pi, SAMPLES)
    y = np.sin(x) + 0.1 * rng.standard_normal(SAMPLES)
    train_end, test_end = int(0.6 * SAMPLES), int(0.8 * SAMPLES)
    parts = {"train": slice(0, train_end), "test": slice(train_end, test_end),
             "validation": slice(test_end, SAMPLES)}
    if split not in parts:
        raise DatasetError(f"unknown split '{split}'; use one of {list(parts)}")
    s = parts[split]
    return x[s, None].astype(np.float32), y[s, None].astype(np.float32)
