"""The self-describing quantized-model artifact (`<model>.qmodel.json`).

One JSON document holds layers, shapes, integer parameters, scales and a
content hash; the C and HLS code generators read nothing else. The hash is
sha256 over the canonical JSON (sorted keys, no whitespace) of the document
without its `hash` key, so any change to any parameter changes it.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

FORMAT = "hil-qmodel"
VERSION = 1


class ArtifactError(ValueError):
    """A quantized-model artifact is missing, malformed or altered."""


def canonical_json(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def content_hash(doc: dict) -> str:
    body = {k: v for k, v in doc.items() if k != "hash"}
    return "sha256:" + hashlib.sha256(canonical_json(body)).hexdigest()


def finalize(doc: dict) -> dict:
    doc = dict(doc, format=FORMAT, version=VERSION)
    doc["hash"] = content_hash(doc)
    return doc


def save(doc: dict, path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # one layer per line keeps diffs of committed artifacts readable
    path.write_text(json.dumps(doc, sort_keys=True, indent=1) + "\n")


def load(path: Path) -> dict:
    path = Path(path)
    if not path.exists():
        raise ArtifactError(f"quantized model artifact not found: {path} (run `hil golden build`)")
    doc = json.loads(path.read_text())
    if doc.get("format") != FORMAT or doc.get("version") != VERSION:
        raise ArtifactError(f"{path}: not a {FORMAT} v{VERSION} artifact")
    if doc.get("hash") != content_hash(doc):
        raise ArtifactError(f"{path}: content hash mismatch (file edited or corrupted)")
    return doc


def layer_arrays(layer: dict) -> dict:
    """A layer dict with numpy arrays for the simulator (`w`, `bias`)."""
    out = dict(layer)
    if "weights" in layer:
        out["w"] = np.asarray(layer["weights"], np.int64).reshape(layer["weights_shape"])
        out["bias"] = None if layer.get("bias") is None else np.asarray(layer["bias"], np.int64)
    return out
