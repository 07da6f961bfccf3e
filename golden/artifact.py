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

from golden.validate import ArtifactError, check_model  # noqa: F401 - ArtifactError re-exported

FORMAT = "hil-qmodel"
VERSION = 2          # 2: a graph (each layer names its input tensors); 1: a chain
READABLE = (1, 2)
INPUT = "input"      # the model input's tensor name; every other tensor is named for its layer


def canonical_json(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def content_hash(doc: dict) -> str:
    body = {k: v for k, v in doc.items() if k != "hash"}
    return "sha256:" + hashlib.sha256(canonical_json(body)).hexdigest()


def chain_inputs(layers: list[dict]) -> list[dict]:
    """Layers with `inputs` filled in where missing: a chain reads the layer before."""
    out, prev = [], INPUT
    for L in layers:
        if not isinstance(L, dict):      # golden/validate.py names it
            out.append(L)
            continue
        out.append(L if "inputs" in L else dict(L, inputs=[prev]))
        prev = L.get("name")
    return out


def finalize(doc: dict) -> dict:
    doc = dict(doc, format=FORMAT, version=VERSION, layers=chain_inputs(doc["layers"]))
    doc["hash"] = content_hash(doc)
    return doc


def save(doc: dict, path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # one layer per line keeps diffs of committed artifacts readable
    path.write_text(json.dumps(doc, sort_keys=True, indent=1) + "\n")


def read_checked(path: Path, fmt: str, version, error: type[Exception]) -> dict:
    """A JSON document whose format, version (one or a tuple) and content hash are verified."""
    try:
        doc = json.loads(Path(path).read_text(), parse_constant=_no_constant)
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise error(f"{path}: not valid JSON ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
    except OSError as exc:
        raise error(f"{path}: cannot read it ({exc.strerror})") from None
    versions = version if isinstance(version, tuple) else (version,)
    if not isinstance(doc, dict) or doc.get("format") != fmt or doc.get("version") not in versions:
        raise error(f"{path}: not a {fmt} v{'/v'.join(map(str, versions))} document")
    if doc.get("hash") != content_hash(doc):
        raise error(f"{path}: content hash mismatch (file edited or corrupted)")
    return doc


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def load(path: Path) -> dict:
    path = Path(path)
    if not path.exists():
        raise ArtifactError(f"quantized model artifact not found: {path} (run `hil golden build`)")
    doc = read_checked(path, FORMAT, READABLE, ArtifactError)
    if doc["version"] == 1 and isinstance(doc.get("layers"), list):   # a chain: inputs implied by the order
        doc["layers"] = chain_inputs(doc["layers"])
    check_model(doc, path)       # every field of every layer (golden/validate.py)
    return doc


def tensor_shapes(doc: dict) -> dict[str, list[int]]:
    """Every tensor's shape by name: the model input and each layer's output."""
    shapes = {INPUT: list(doc["input"]["shape"])}
    shapes.update({L["name"]: list(L["out_shape"]) for L in doc["layers"]})
    return shapes


def check_graph(doc: dict, path="artifact") -> None:
    """Layers are in a topological order, read known tensors, names are unique (golden/validate.py)."""
    from golden.validate import check_graph as check
    check(doc, path)


def layer_arrays(layer: dict) -> dict:
    """A layer dict with numpy arrays for the simulator (`w`, `bias`)."""
    out = dict(layer)
    if "weights" in layer:
        out["w"] = np.asarray(layer["weights"], np.int64).reshape(layer["weights_shape"])
        out["bias"] = None if layer.get("bias") is None else np.asarray(layer["bias"], np.int64)
    return out
