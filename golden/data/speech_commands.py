"""Loader for the Speech Commands directory layout, split by speaker.

Why this shape: the synthetic set (`golden.data.kws_synth`) and the real
Speech Commands v1/v2 share one layout, ``<root>/<word>/<speaker>_nohash_<n>.wav``,
so one loader serves both and a lab with the real data only points ``root`` at it.

Split: the speaker id (the file name up to ``_nohash_``) is hashed with sha1
exactly like ``which_set`` in TensorFlow's Speech Commands example (default
10 % validation, 10 % test, 80 % train). All clips of one speaker land in one
split, so test speakers are never heard in training, and adding files never
moves an existing speaker to another split.

Silence: a ``_silence_`` folder (what the synthesiser writes) is read like any
word. Real Speech Commands ships long recordings in ``_background_noise_``
instead; for those, each recording is divided in time (first 80 % train, next
10 % validation, last 10 % test) and 1 s clips are cut at evenly spaced,
deterministic offsets inside the split's part, as many per split as the mean
word class has, so no background audio is shared between splits.
"""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path
from typing import Sequence

import numpy as np
import soundfile as sf

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
CLIP_SAMPLES = 16000
SILENCE = "_silence_"
BACKGROUND = "_background_noise_"
SPLITS = ("train", "validation", "test")
VALIDATION_PERCENT = 10.0
TEST_PERCENT = 10.0
_MAX_NUM_WAVS_PER_CLASS = 2**27 - 1  # the constant of TensorFlow's which_set
# Fraction of each background recording given to each split, in time order.
_BACKGROUND_PARTS = {"train": (0.0, 0.8), "validation": (0.8, 0.9), "test": (0.9, 1.0)}


def speaker_of(path: str | Path) -> str:
    """Speaker id of a clip: its file name up to ``_nohash_``."""
    return re.sub(r"_nohash_.*$", "", Path(path).name)


def which_set(speaker: str, validation_percent: float = VALIDATION_PERCENT,
              test_percent: float = TEST_PERCENT) -> str:
    """'train', 'validation' or 'test' for a speaker id (or a clip path).

    Same arithmetic as TensorFlow's Speech Commands ``which_set``, so the
    split of real data matches the one the data set was published with.
    """
    name = speaker_of(speaker)
    h = int(hashlib.sha1(name.encode("utf-8")).hexdigest(), 16)
    percent = (h % (_MAX_NUM_WAVS_PER_CLASS + 1)) * (100.0 / _MAX_NUM_WAVS_PER_CLASS)
    if percent < validation_percent:
        return "validation"
    if percent < validation_percent + test_percent:
        return "test"
    return "train"


def _fit(x: np.ndarray) -> np.ndarray:
    """Pad with zeros at the end or crop to exactly 1 s (as the TF loader does)."""
    if len(x) >= CLIP_SAMPLES:
        return x[:CLIP_SAMPLES]
    return np.pad(x, (0, CLIP_SAMPLES - len(x)))


def read_wav(path: Path) -> np.ndarray:
    """Mono float32 samples in [-1, 1) of a 16 kHz wav, unchanged in length."""
    x, rate = sf.read(str(path), dtype="float32", always_2d=True)
    if rate != SAMPLE_RATE:
        raise ValueError(f"{path}: sample rate {rate} Hz, expected {SAMPLE_RATE}")
    if x.shape[1] != 1:
        raise ValueError(f"{path}: {x.shape[1]} channels, expected mono")
    return x[:, 0]


def class_files(root: str | Path, word: str) -> list[Path]:
    """Sorted wav files of one class folder; a clear error if it is missing."""
    folder = Path(root) / word
    if not folder.is_dir():
        raise FileNotFoundError(f"class folder {folder} not found (is root a Speech Commands tree?)")
    return sorted(folder.glob("*.wav"))


def split_files(root: str | Path, word: str, split: str) -> list[Path]:
    """The files of ``word`` whose speaker hashes into ``split``."""
    return [p for p in class_files(root, word) if which_set(speaker_of(p)) == split]


def _background_clips(root: Path, split: str, count: int) -> tuple[list[np.ndarray], list[str]]:
    """``count`` 1 s clips cut from the split's part of each background recording."""
    files = sorted((root / BACKGROUND).glob("*.wav"))
    if not files:
        raise FileNotFoundError(f"no wav files in {root / BACKGROUND}")
    per_file = [count // len(files) + (i < count % len(files)) for i in range(len(files))]
    audio, speakers = [], []
    lo, hi = _BACKGROUND_PARTS[split]
    for path, k in zip(files, per_file):
        if k == 0:
            continue
        x = read_wav(path)
        a, b = int(lo * len(x)), int(hi * len(x))
        room = b - a - CLIP_SAMPLES
        if room < 0:
            log.warning("%s: %s part shorter than 1 s, padded", path, split)
        for i in range(k):
            start = a + (round(i * room / (k - 1)) if k > 1 and room > 0 else 0)
            audio.append(_fit(x[start : min(start + CLIP_SAMPLES, b)]))
            speakers.append(f"{BACKGROUND}/{path.stem}@{split}")
    return audio, speakers


def load_split(root: str | Path, words: Sequence[str], split: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Audio float32 [N, 16000], labels int64 [N], speaker ids for one split.

    ``words`` are class folder names; a label is the index in ``words``.
    ``_silence_`` (or ``_background_noise_``) reads a ``_silence_`` folder if
    there is one, else cuts clips from ``_background_noise_``.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"data root {root} not found")
    audio: list[np.ndarray] = []
    labels: list[int] = []
    speakers: list[str] = []
    cut_background: list[int] = []
    for label, word in enumerate(words):
        folder = word
        if word in (SILENCE, BACKGROUND):
            if (root / SILENCE).is_dir():
                folder = SILENCE
            else:
                cut_background.append(label)
                continue
        for path in split_files(root, folder, split):
            audio.append(_fit(read_wav(path)))
            labels.append(label)
            speakers.append(speaker_of(path))
    if cut_background:
        spoken = len(words) - len(cut_background)
        count = round(len(labels) / spoken) if spoken else 100
        clips, ids = _background_clips(root, split, count)
        for label in cut_background:
            audio += clips
            labels += [label] * len(clips)
            speakers += ids
    if not audio:
        raise ValueError(f"no clips of {list(words)} in the {split} split of {root}")
    x = np.stack(audio).astype(np.float32, copy=False)
    log.info("%s %s: %d clips of %d classes", root, split, len(x), len(words))
    return x, np.asarray(labels, dtype=np.int64), speakers
