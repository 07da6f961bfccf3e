"""Golden vector bundles: `bundle.npz` (arrays) + `bundle.json` (manifest).

The npz holds the test inputs exactly as the device receives them, labels,
float logits, integer logits and per-layer integer outputs for the first
`per_layer_vectors` vectors (all of them would be tens of MB for KWS; the
simulator regenerates any other vector's layers in milliseconds). The
manifest records shapes, scales, metrics, the qmodel hash the bundle was
built from, the npz's sha256 and its own content hash.
"""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Iterator, Mapping

import numpy as np

from golden.errors import BundleError  # noqa: F401 - defined there, re-exported here
from golden import artifact
from golden.artifact import content_hash, read_checked
from golden.names import is_valid as name_ok
from golden.validate import Invalid, check_bundle

FORMAT = "hil-bundle"
VERSION = 1
PER_LAYER_VECTORS = 32


@dataclass(frozen=True)
class Metrics:
    """The figures a bundle was judged by; which ones exist depends on the model: a classifier
    has float/int accuracy and agreement, a regression the MAEs, a .tflite import
    tflm_mismatches plus those its data allow (docs/tflite.md). Fields in the order the
    builders write them (golden/tflite/importer.py); None where the bundle has none."""
    tflm_mismatches: int | None = None
    int_accuracy: float | None = None
    float_accuracy: float | None = None
    agreement: float | None = None
    int_mae: float | None = None
    float_mae: float | None = None
    int_vs_float_mae: float | None = None

    @classmethod
    def from_json(cls, d: Mapping) -> "Metrics":
        return cls(**{f.name: d.get(f.name) for f in fields(cls)})

    def items(self) -> Iterator[tuple[str, Any]]:
        """(name, value) of the figures the bundle has, in field order."""
        return ((f.name, getattr(self, f.name)) for f in fields(self) if getattr(self, f.name) is not None)

    def to_json(self) -> dict:
        return dict(sorted(self.items()))      # as bundle.json holds them (sorted keys)


@dataclass(frozen=True)
class BundleManifest:
    """The typed view of `bundle.json` (what `write()` records): the model, the qmodel hash it
    was built from, its size figures, vector counts, the npz's sha256 and the metrics."""
    model: str
    hash: str
    qmodel_hash: str
    scheme: str
    params: int
    macs: int
    test_vectors: int
    per_layer_vectors: int
    npz_sha256: str
    metrics: Metrics

    @classmethod
    def from_json(cls, d: Mapping) -> "BundleManifest":
        return cls(d["model"], d["hash"], d["qmodel_hash"], d["scheme"], d["params"], d["macs"],
                   d["test_vectors"], d.get("per_layer_vectors", 0), d["npz_sha256"],
                   Metrics.from_json(d["metrics"]))


@dataclass
class Bundle:
    manifest: dict
    arrays: dict[str, np.ndarray]

    @property
    def info(self) -> BundleManifest:
        """The manifest by attribute."""
        return BundleManifest.from_json(self.manifest)

    @property
    def inputs(self) -> np.ndarray:
        return self.arrays["inputs"]

    @property
    def labels(self) -> np.ndarray:
        return self.arrays["labels"]

    @property
    def float_logits(self) -> np.ndarray | None:
        """None for a .tflite import built without a float model (docs/tflite.md)."""
        return self.arrays.get("float_logits")

    @property
    def int_logits(self) -> np.ndarray:
        return self.arrays["int_logits"]

    def layer(self, i: int) -> np.ndarray:
        return self.arrays[f"layer_{i:02d}"]

    def __len__(self) -> int:
        return len(self.inputs)


def write(path_dir: Path, manifest: dict, arrays: dict[str, np.ndarray]) -> dict:
    path_dir = Path(path_dir)
    path_dir.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    data = buf.getvalue()
    (path_dir / "bundle.npz").write_bytes(data)
    manifest = dict(manifest, format=FORMAT, version=VERSION,
                    npz_sha256=hashlib.sha256(data).hexdigest())
    manifest["hash"] = content_hash(manifest)
    (path_dir / "bundle.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return manifest


def read(path_dir: Path) -> Bundle:
    """The bundle of `path_dir`, checked against the model next to it (`<model>.qmodel.json`,
    itself validated on load): the qmodel hash it was built from, vector count, shapes, dtypes and
    label ranges (golden/validate.py). Every problem is one BundleError line naming the file."""
    path_dir = Path(path_dir)
    mpath, npath = path_dir / "bundle.json", path_dir / "bundle.npz"
    if not mpath.exists() or not npath.exists():
        raise BundleError(f"golden bundle not found in {path_dir} (run `hil golden build`)")
    manifest = read_checked(mpath, FORMAT, VERSION, BundleError)
    if not name_ok(manifest.get("model")):
        raise BundleError(f"{mpath}: model {manifest.get('model')!r} is not a model name")
    data = npath.read_bytes()
    if hashlib.sha256(data).hexdigest() != manifest.get("npz_sha256"):
        raise BundleError(f"{npath}: sha256 does not match its manifest (corrupted or stale)")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:   # zip, npy header, pickled objects
        raise BundleError(f"{npath}: not a readable npz of plain arrays ({exc})") from None
    doc = artifact.load(path_dir / f"{manifest['model']}.qmodel.json")
    try:
        check_bundle(manifest, arrays, doc, npath)
    except Invalid as exc:
        raise BundleError(f"{npath}: {exc}") from None
    return Bundle(manifest, arrays)
