"""Keyword-spotting features for training: one call, cached.

Why: training, quantisation and the golden bundles all need the same
normalised MFCC tensors; computing them once per data set and caching them in
``<root>/features_<hash>.npz`` makes every later call take well under a
second. The hash covers the class list, the split rule, the MFCC parameters
and the exact wav files (relative path and size, plus the synthesis
manifest's content digest), so a changed data set never reuses stale features.

``root`` may be:

* empty or missing: a synthetic set is generated first (`kws_synth`);
* a synthetic set: regenerated only if it lacks a requested word or was made
  with another seed or clip count;
* real Speech Commands (no synthesis manifest): read as it is.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from golden.data import kws_synth
from golden.data.mfcc import PARAMS as MFCC_PARAMS
from golden.data.mfcc import FeatureNorm, mfcc
from golden.data.speech_commands import (BACKGROUND, SILENCE, SPLITS, TEST_PERCENT,
                                         VALIDATION_PERCENT, load_split)

log = logging.getLogger(__name__)

DEFAULT_WORDS = (SILENCE, "one", "two", "three", "four", "five")
FEATURES_VERSION = 1


def _has_class(root: Path, word: str) -> bool:
    folders = [SILENCE, BACKGROUND] if word in (SILENCE, BACKGROUND) else [word]
    return any(any((root / f).glob("*.wav")) for f in folders if (root / f).is_dir())


def _ensure_data(root: Path, words: Sequence[str], seed: int, clips_per_class: int,
                 progress: Callable[[int, int], None] | None) -> dict | None:
    """Synthesise into ``root`` when needed; the synthesis manifest if any."""
    spoken = [w for w in words if w not in (SILENCE, BACKGROUND)]
    manifest = kws_synth.read_manifest(root)
    if manifest is None:
        if root.is_dir() and all(_has_class(root, w) for w in words):
            log.info("using existing (real) data set in %s", root)
            return None
        log.info("no keyword data in %s: synthesising it (takes about a minute)", root)
        return kws_synth.synthesize(root, words=spoken, clips_per_class=clips_per_class,
                                    seed=seed, progress=progress)
    p = manifest["params"]
    if (manifest.get("complete") and set(spoken) <= set(p["words"]) and p["seed"] == seed
            and p["clips_per_class"] == clips_per_class):
        spoken = p["words"]  # keep the existing superset: synthesize() then skips
    return kws_synth.synthesize(root, words=spoken, clips_per_class=clips_per_class,
                                seed=seed, progress=progress)


def _fingerprint(root: Path, words: Sequence[str], manifest: dict | None) -> str:
    h = hashlib.sha256()
    key = {"version": FEATURES_VERSION, "words": list(words), "mfcc": MFCC_PARAMS,
           "split": [VALIDATION_PERCENT, TEST_PERCENT],
           "synthesis": manifest["sha256"] if manifest else None}
    h.update(json.dumps(key, sort_keys=True).encode())
    folders = {SILENCE, BACKGROUND} if SILENCE in words or BACKGROUND in words else set()
    for folder in sorted(folders | {w for w in words if w not in (SILENCE, BACKGROUND)}):
        if (root / folder).is_dir():
            for entry in sorted(os.scandir(root / folder), key=lambda e: e.name):
                if entry.name.endswith(".wav"):
                    h.update(f"{folder}/{entry.name}:{entry.stat().st_size}\n".encode())
    return h.hexdigest()[:16]


def _compute(root: Path, words: Sequence[str]) -> dict:
    feats, out = {}, {}
    for split in SPLITS:
        audio, y, speakers = load_split(root, words, split)
        feats[split] = mfcc(audio)
        out[split] = {"y": y, "speakers": speakers}
    norm = FeatureNorm.fit(feats["train"])
    for split in SPLITS:
        out[split]["x"] = norm.apply(feats[split])[:, None]  # [N, 1, 49, 10]
    out["norm"] = norm.to_dict()
    return out


def _save(path: Path, data: dict, words: Sequence[str]) -> None:
    arrays = {"words": np.asarray(words), "norm": np.asarray(json.dumps(data["norm"]))}
    for split in SPLITS:
        arrays[f"x_{split}"] = data[split]["x"]
        arrays[f"y_{split}"] = data[split]["y"]
        arrays[f"speakers_{split}"] = np.asarray(data[split]["speakers"], dtype=str)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")  # concurrent writers never share a file
    with open(tmp, "wb") as f:
        np.savez(f, **arrays)
    tmp.replace(path)


def _load(path: Path) -> dict:
    with np.load(path, allow_pickle=False) as z:
        out = {split: {"x": z[f"x_{split}"], "y": z[f"y_{split}"],
                       "speakers": [str(s) for s in z[f"speakers_{split}"]]} for split in SPLITS}
        out["norm"] = json.loads(str(z["norm"]))
    return out


def load_kws_features(
    root: str | Path,
    words: Sequence[str] = DEFAULT_WORDS,
    seed: int = 0,
    *,
    clips_per_class: int = 1000,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Normalised MFCC features of every split.

    Returns ``{'train'|'validation'|'test': {'x': float32 [N,1,49,10],
    'y': int64 [N], 'speakers': list[str]}, 'norm': FeatureNorm dict,
    'words': list, 'cache': path}``; label ``i`` is ``words[i]``. ``seed`` and
    ``clips_per_class`` only matter when the data is synthesised.
    """
    root = Path(root)
    words = list(words)
    manifest = _ensure_data(root, words, seed, clips_per_class, progress)
    path = root / f"features_{_fingerprint(root, words, manifest)}.npz"
    if path.is_file():
        log.info("kws features from cache %s", path)
        data = _load(path)
    else:
        log.info("computing kws features for %s", words)
        data = _compute(root, words)
        _save(path, data, words)
        log.info("kws features cached in %s", path)
    data["words"] = words
    data["cache"] = str(path)
    return data
