"""Copies of a committed model under another name, with edits: the raw material of the
tests/test_hostile_*.py reproducers (hand-edited artifacts, stale bundles, hostile names)."""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Callable

from golden import artifact, bundle
from golden.paths import BUILTIN


def source(name: str) -> tuple[dict, dict, dict]:
    """(qmodel doc as stored, bundle manifest, bundle arrays) of a built-in model, unchecked copies."""
    doc = json.loads((BUILTIN / name / f"{name}.qmodel.json").read_text())
    b = bundle.read(BUILTIN / name)
    return doc, copy.deepcopy(b.manifest), {k: v.copy() for k, v in b.arrays.items()}


def write_model(root: Path, name: str, doc: dict, *, rehash: bool = True) -> Path:
    """`root/name/name.qmodel.json`; rehash=False keeps the stored hash (a hand edit)."""
    if rehash:
        doc = artifact.finalize(doc)
    path = Path(root) / name / f"{name}.qmodel.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, sort_keys=True, indent=1) + "\n")
    return path


def clone(root: Path, name: str, src: str = "sine_mlp", *,
          edit: Callable[[dict], None] | None = None,
          edit_bundle: Callable[[dict, dict], None] | None = None,
          rehash: bool = True, stale: bool = False) -> Path:
    """A copy of built-in model `src` as `name` under `root`: `edit(doc)` changes the qmodel,
    `edit_bundle(manifest, arrays)` the bundle. The bundle records the new qmodel's hash unless
    `stale` (then it keeps the hash of the model before `edit`, as an old bundle would)."""
    doc, manifest, arrays = source(src)
    doc = artifact.finalize(dict(doc, model=name))
    before = doc["hash"]
    if edit is not None:
        edit(doc)
    if rehash:
        doc = artifact.finalize(doc)
    path = write_model(root, name, doc, rehash=False)
    manifest = dict(manifest, model=name, qmodel_hash=before if stale else doc["hash"])
    if edit_bundle is not None:
        edit_bundle(manifest, arrays)
    bundle.write(path.parent, manifest, arrays)
    return path
