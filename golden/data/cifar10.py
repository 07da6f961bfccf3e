"""The real CIFAR-10 data set, read from its python batches.

CIFAR-10 cannot be downloaded on the build machines; a user who has it points
`HIL_CIFAR10` (or the `root` argument) at the extracted `cifar-10-batches-py`
folder: `data_batch_1` .. `data_batch_5`, `test_batch`, `batches.meta`. Each
batch is a pickled dict with b'data' (uint8 [N, 3072], the 1024 red, then
green, then blue values of a 32x32 image, row-major: already CHW) and
b'labels' (N ints in 0..9); `batches.meta` holds b'label_names'.

Splits: `test` is `test_batch`. CIFAR-10 has no validation split, so the 50,000
training images are split by position within each class as the MNIST digits
are (`golden.data.mnist.split_by_class_position`): the first 90 % train, the
last 10 % validation (45,000 / 5,000).

The batches are pickles, and unpickling runs code: the reader only lets
through the numpy array constructors a CIFAR batch needs.
"""
from __future__ import annotations

import io
import os
import pickle
from pathlib import Path

import numpy as np

from golden.data.mnist import split_by_class_position
from golden.errors import DatasetError, CifarDataError  # noqa: F401 - CifarDataError is defined in golden.errors

ENV = "HIL_CIFAR10"
TRAIN_BATCHES = [f"data_batch_{i}" for i in range(1, 6)]
TEST_BATCH = "test_batch"
META = "batches.meta"
SPLITS = {"train": (0.0, 0.9), "validation": (0.9, 1.0)}
CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

_ALLOWED = {
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
    ("_codecs", "encode"), ("builtins", "bytearray"),
}



class _BatchUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise CifarDataError(f"refusing to unpickle {module}.{name}: not a CIFAR-10 python batch")


def default_root() -> Path | None:
    """`$HIL_CIFAR10`, or None when it is not set."""
    env = os.environ.get(ENV)
    return Path(env) if env else None


def _root(root: Path | str | None) -> Path:
    root = Path(root) if root is not None else default_root()
    if root is None:
        raise CifarDataError(f"no CIFAR-10 folder: set {ENV} to the extracted cifar-10-batches-py folder")
    if not root.is_dir():
        raise CifarDataError(f"{root}: not a folder; point {ENV} at the extracted cifar-10-batches-py folder")
    return root


def _unpickle(path: Path) -> dict:
    if not path.is_file():
        raise CifarDataError(f"{path}: missing; a CIFAR-10 folder holds "
                             f"{', '.join(TRAIN_BATCHES)}, {TEST_BATCH} and {META}")
    try:
        obj = _BatchUnpickler(io.BytesIO(path.read_bytes()), encoding="bytes").load()
    except CifarDataError:
        raise
    except Exception as exc:   # any unpickling failure means "not a batch file"
        raise CifarDataError(f"{path}: not a CIFAR-10 python batch ({type(exc).__name__}: {exc})") from None
    if not isinstance(obj, dict):
        raise CifarDataError(f"{path}: holds a {type(obj).__name__}, not a dict")
    return obj


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One batch file as (uint8 images [N, 3, 32, 32] CHW, int64 labels [N])."""
    path = Path(path)
    d = _unpickle(path)
    if b"data" not in d or b"labels" not in d:
        raise CifarDataError(f"{path}: no b'data' / b'labels' keys (has {sorted(map(repr, d))})")
    data = np.asarray(d[b"data"])
    labels = np.asarray(d[b"labels"], dtype=np.int64)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise CifarDataError(f"{path}: b'data' is {data.dtype} {list(data.shape)}, expected uint8 [N, 3072]")
    if labels.shape != (len(data),):
        raise CifarDataError(f"{path}: {labels.size} labels for {len(data)} images")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise CifarDataError(f"{path}: labels outside 0..9")
    return data.reshape(-1, 3, 32, 32), labels


def load_meta(root: Path | str | None = None) -> list[str]:
    """The class names from `batches.meta`."""
    d = _unpickle(_root(root) / META)
    names = d.get(b"label_names")
    if not isinstance(names, list) or len(names) != 10:
        raise CifarDataError(f"{_root(root) / META}: b'label_names' is not a list of 10 names")
    return [n.decode() if isinstance(n, bytes) else str(n) for n in names]


def load_split(split: str, root: Path | str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 images [N, 3, 32, 32], int64 labels [N]) of `train`, `validation` or `test`."""
    if split not in ("train", "validation", "test"):
        raise ValueError(f"unknown split '{split}'; use one of train, validation, test")
    root = _root(root)
    if split == "test":
        return read_batch(root / TEST_BATCH)
    parts = [read_batch(root / name) for name in TRAIN_BATCHES]
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    idx = split_by_class_position(labels, split, SPLITS)
    return images[idx], labels[idx]
