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

from golden.errors import GoldenError

FORMAT = "hil-qmodel"
VERSION = 1


class ArtifactError(GoldenError):
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


def read_checked(path: Path, fmt: str, version: int, error: type[Exception]) -> dict:
    """A JSON document whose format, version and content hash are verified."""
    try:
        doc = json.loads(Path(path).read_text())
    except json.JSONDecodeError as exc:
        raise error(f"{path}: not valid JSON ({exc})") from None
    if doc.get("format") != fmt or doc.get("version") != version:
        raise error(f"{path}: not a {fmt} v{version} document")
    if doc.get("hash") != content_hash(doc):
        raise error(f"{path}: content hash mismatch (file edited or corrupted)")
    return doc


def load(path: Path) -> dict:
    path = Path(path)
    if not path.exists():
        raise ArtifactError(f"quantized model artifact not found: {path} (run `hil golden build`)")
    return read_checked(path, FORMAT, VERSION, ArtifactError)


def layer_arrays(layer: dict) -> dict:
    """A layer dict with numpy arrays for the simulator (`w`, `bias`)."""
    out = dict(layer)
    if "weights" in layer:
        out["w"] = np.asarray(layer["weights"], np.int64).reshape(layer["weights_shape"])
        out["bias"] = None if layer.get("bias") is None else np.asarray(layer["bias"], np.int64)
    return out
