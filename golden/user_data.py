"""A user's own test data (`--data FILE.npz`): `x` (float, or int8 already quantized with the model's
input parameters) in NHWC or NCHW layout, optional `y` (class labels or regression targets).
Bad files are refused with one line. Torch-free."""
from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from golden.errors import DatasetError

LAYOUTS = ("nhwc", "nchw")


@dataclass
class UserData:
    path: Path
    x: np.ndarray               # float64 or int8, in CHW per vector: [N, *chw_shape]
    y: np.ndarray | None        # [N] int64 labels, [N, ...] float targets, or None
    quantized: bool             # x arrived as int8 (already on the model's input grid)


def _to_chw(x: np.ndarray, layout: str, chw_shape: tuple[int, ...], path: Path) -> np.ndarray:
    n = len(x)
    want = tuple(chw_shape)
    if len(want) != 3:                      # vectors: the layout does not matter
        if x[0].size != int(np.prod(want)):
            raise DatasetError(f"{path}: x has vectors of shape {tuple(x.shape[1:])}, the model takes {want}")
        return x.reshape((n,) + want)
    c, h, w = want
    if layout == "nhwc":
        ok = {(h, w, c): lambda a: a.transpose(0, 3, 1, 2)}
        if c == 1:
            ok[(h, w)] = lambda a: a[:, None]
    else:
        ok = {(c, h, w): lambda a: a}
        if c == 1:
            ok[(h, w)] = lambda a: a[:, None]
    fix = ok.get(tuple(x.shape[1:]))
    if fix is None:
        expected = (h, w, c) if layout == "nhwc" else (c, h, w)
        raise DatasetError(f"{path}: x has vectors of shape {tuple(x.shape[1:])}, the model takes {expected} "
                           f"in {layout.upper()} (--layout {'nchw' if layout == 'nhwc' else 'nhwc'}?)")
    return np.ascontiguousarray(fix(x))


def load(path: Path, chw_shape: tuple[int, ...], *, layout: str = "nhwc",
         classes: int | None = None) -> UserData:
    """Read and check `path`; `classes` (when the model is a classifier) bounds integer labels."""
    path = Path(path)
    if layout not in LAYOUTS:
        raise DatasetError(f"--layout {layout}: use one of {', '.join(LAYOUTS)}")
    if not path.is_file():
        raise DatasetError(f"{path}: data file not found")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise DatasetError(f"{path}: not a readable .npz file ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
    if "x" not in arrays:
        raise DatasetError(f"{path}: no array named 'x' (has: {', '.join(sorted(arrays)) or 'nothing'}); "
                           f"save with np.savez(F, x=inputs, y=labels)")
    x = arrays["x"]
    if x.ndim < 2 or len(x) == 0:
        raise DatasetError(f"{path}: x has shape {x.shape}; want [N, ...] with N >= 1 vectors")
    quantized = x.dtype == np.int8
    if not quantized:
        if x.dtype.kind != "f":
            raise DatasetError(f"{path}: x is {x.dtype}; want float (quantized here) or int8 (already quantized)")
        if not np.isfinite(x).all():
            bad = int(np.flatnonzero(~np.isfinite(x).reshape(len(x), -1).all(axis=1))[0])
            raise DatasetError(f"{path}: x holds NaN or infinite values (first in vector {bad})")
        x = x.astype(np.float64)
    x = _to_chw(x, layout, chw_shape, path)
    y = arrays.get("y")
    if y is not None:
        if len(y) != len(x):
            raise DatasetError(f"{path}: y has {len(y)} entries, x has {len(x)} vectors")
        if y.dtype.kind == "f":
            if not np.isfinite(y).all():
                raise DatasetError(f"{path}: y holds NaN or infinite values")
            if classes is not None and y.ndim == 1 and np.all(y == np.round(y)):
                y = y.astype(np.int64)
        elif y.dtype.kind in "iu":
            y = y.astype(np.int64)
        else:
            raise DatasetError(f"{path}: y is {y.dtype}; want integer labels or float targets")
        if classes is not None:
            if y.ndim != 1 or y.dtype.kind != "i":
                raise DatasetError(f"{path}: y must be one integer label per vector for a {classes}-class model")
            if y.min() < 0 or y.max() >= classes:
                raise DatasetError(f"{path}: labels out of range: {int(y.min())}..{int(y.max())} for "
                                   f"{classes} classes (0..{classes - 1})")
    return UserData(path, x, y, quantized)


def quantize_input(x: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """Float -> int8 as TFLite's QUANTIZE: round(x / scale) in float32, half away from zero, + zp."""
    q = np.asarray(x, np.float32) / np.float32(scale)
    r = np.sign(q) * np.floor(np.abs(q) + np.float32(0.5))
    return np.clip(r.astype(np.int64) + int(zero_point), -128, 127).astype(np.int8)


def describe(data: UserData) -> str:
    return (f"{data.path.name}: {len(data.x)} vectors"
            f"{', int8' if data.quantized else ''}{'' if data.y is not None else ', no labels'}")

