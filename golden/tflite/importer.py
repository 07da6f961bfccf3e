"""`hil golden build --tflite F.tflite --name N --data D.npz`: a lab's int8 `.tflite` as a hil model.

Writes into `<root>/<name>/`: a copy of the `.tflite` (the TFLM reference runs it), the
`<name>.qmodel.json` artifact with the file's own quantization, and the golden bundle: the test
vectors as int8 CHW device inputs, labels, the integer simulator's outputs (the expected outputs),
per-layer tensors, and float outputs only when a float model is given (`--float-model`).
The integer simulator is checked against TFLite Micro on every vector before anything is written.
Torch-free.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Callable

import numpy as np

from golden import artifact, bundle, user_data
from golden.errors import GoldenError
from golden.intsim.run import IntegerSimulator, dequantize
from golden.paths import qmodel_path
from . import convert, reader

Progress = Callable[[str], None]
SOURCE_FILE = "source.json"       # as golden.user_models: what the folder was built from


def _classes(data: user_data.UserData, out_shape: list[int]) -> list[str] | None:
    """A classifier when the labels are integers and the output is a vector of scores."""
    n = int(np.prod(out_shape))
    if data.y is None:
        return [str(i) for i in range(n)] if n > 1 else None
    return [str(i) for i in range(n)] if data.y.ndim == 1 and data.y.dtype.kind == "i" and n > 1 else None


def artifact_doc(model: reader.TfliteModel, g: convert.Graph, name: str, file_name: str,
                 classes: list[str] | None, data_path: Path) -> dict:
    last = g.layers[-1]
    params = sum(len(L.get("weights", [])) + len(L.get("bias") or []) for L in g.layers)
    doc = dict(
        model=name, scheme="int8", rounding="tflm-double-rounding", layout="CHW", classes=classes,
        description=f"imported from {model.path.name} (int8 .tflite)",
        input=dict(shape=list(g.shapes[g.input_q.index]), dtype="int8", scale=g.input_q.scale,
                   zero_point=g.input_q.zero_point),
        output=dict(shape=list(last["out_shape"]), dtype="int8", scale=g.output_q.scale,
                    zero_point=g.output_q.zero_point),
        layers=g.layers, params=int(params), macs=int(sum(L["macs"] for L in g.layers)),
        preprocessing={"kind": "user", "data": data_path.name,
                       "input": "x quantized with the file's input scale and zero point, NHWC -> CHW"},
        source={"format": "tflite", "file": file_name, "sha256": model.sha256},
    )
    return artifact.finalize(doc)


def device_inputs(doc: dict, data: user_data.UserData) -> np.ndarray:
    if data.quantized:
        return data.x.astype(np.int8)
    i = doc["input"]
    return user_data.quantize_input(data.x, i["scale"], i["zero_point"])


def simulate(doc: dict, inputs: np.ndarray, keep: int):
    """The integer simulator over every vector (+ per-layer tensors of the first `keep`); a layer it
    cannot run yet is named in one line."""
    try:
        sim = IntegerSimulator(doc)
        res = sim.run(inputs, keep_layers=False)
        per_layer = sim.run(inputs[:keep], keep_layers=True).layers
    except GoldenError as exc:
        raise GoldenError(f"{doc['model']}: the integer simulator cannot run this model yet: {exc}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise GoldenError(f"{doc['model']}: the integer simulator cannot run this model yet "
                          f"({type(exc).__name__}: {exc}); see docs/tflite.md") from None
    return res.outputs, per_layer


def metrics(doc: dict, int_out: np.ndarray, tflm_out: np.ndarray, float_out: np.ndarray | None,
            labels: np.ndarray | None) -> dict:
    n = len(int_out)
    flat = lambda a: np.asarray(a).reshape(n, -1)      # noqa: E731
    rec = dict(tflm_mismatches=int((flat(int_out) != flat(tflm_out)).any(axis=1).sum()))
    if doc["classes"] is not None:
        if labels is not None:
            rec["int_accuracy"] = float((flat(int_out).argmax(1) == labels).mean())
            if float_out is not None:
                rec["float_accuracy"] = float((flat(float_out).argmax(1) == labels).mean())
        if float_out is not None:
            rec["agreement"] = float((flat(float_out).argmax(1) == flat(int_out).argmax(1)).mean())
        return rec
    deq = flat(dequantize(doc, int_out))
    if labels is not None:
        rec["int_mae"] = float(np.abs(deq - flat(labels)).mean())
        if float_out is not None:
            rec["float_mae"] = float(np.abs(flat(float_out) - flat(labels)).mean())
    if float_out is not None:
        rec["int_vs_float_mae"] = float(np.abs(deq - flat(float_out)).mean())
    return rec


def import_tflite(path: Path, name: str, data_path: Path, root: Path, *, layout: str = "nhwc",
                  float_model: Path | None = None, say: Progress = lambda m: None) -> dict:
    """Import `path` as model `name` under `root`; returns the bundle manifest."""
    from golden import tflm_ref
    path, data_path = Path(path), Path(data_path)
    say(f"{name}: reading {path.name}")
    model = reader.read(path)
    g = convert.convert(model)
    n_out = int(np.prod(g.layers[-1]["out_shape"]))
    probe = user_data.load(data_path, tuple(g.shapes[g.input_q.index]), layout=layout)
    classes = _classes(probe, g.layers[-1]["out_shape"])
    data = user_data.load(data_path, tuple(g.shapes[g.input_q.index]), layout=layout,
                          classes=n_out if classes else None)
    out = Path(root) / name
    file_name = f"{name}.tflite"
    doc = artifact_doc(model, g, name, file_name, classes, data_path)
    inputs = device_inputs(doc, data)
    say(f"{name}: running TFLite Micro and the integer simulator over {len(inputs)} vectors")
    ref = tflm_ref.TflmReference(path, doc)
    tflm_out = ref.outputs(inputs)
    k = min(bundle.PER_LAYER_VECTORS, len(inputs))
    int_out, per_layer = simulate(doc, inputs, k)
    float_out = None
    if float_model is not None:
        float_out = tflm_ref.float_outputs(Path(float_model), doc, inputs)
    labels = data.y
    out.mkdir(parents=True, exist_ok=True)
    if path.resolve() != (out / file_name).resolve():
        shutil.copyfile(path, out / file_name)
    artifact.save(doc, qmodel_path(name, root))
    arrays = {"inputs": inputs, "int_logits": int_out,
              "labels": labels if labels is not None else np.full(len(inputs), -1, np.int64)}
    if float_out is not None:
        arrays["float_logits"] = float_out.astype(np.float32)
    arrays |= {f"layer_{n:02d}": t for n, t in enumerate(per_layer)}
    manifest = dict(
        model=name, scheme="int8", qmodel_hash=doc["hash"], classes=classes, input=doc["input"],
        output=doc["output"], test_vectors=len(inputs), per_layer_vectors=k,
        layers=[dict(name=L["name"], op=L["op"], shape=L["out_shape"], macs=L["macs"], array=f"layer_{n:02d}")
                for n, L in enumerate(doc["layers"])],
        params=doc["params"], macs=doc["macs"], labels=labels is not None,
        float_model=None if float_model is None else Path(float_model).name,
        metrics=metrics(doc, int_out, tflm_out, float_out, labels),
        source=doc["source"],
    )
    (out / "float.json").unlink(missing_ok=True)
    (out / SOURCE_FILE).write_text(json.dumps(
        {"kind": "tflite", "tflite": file_name, "data": os.path.relpath(data_path.resolve(), out.resolve()),
         "layout": layout, "float_model": None if float_model is None else
         os.path.relpath(Path(float_model).resolve(), out.resolve())}, indent=1, sort_keys=True) + "\n")
    return bundle.write(out, manifest, arrays)


def rebuild(name: str, root: Path) -> dict | None:
    """Re-import a `.tflite` model by name from what its folder recorded; None if it is not one."""
    out = Path(root) / name
    path = out / SOURCE_FILE
    if not path.is_file():
        return None
    rec = json.loads(path.read_text())
    if rec.get("kind") != "tflite":
        return None
    fm = rec.get("float_model")
    return import_tflite(out / rec["tflite"], name, out / rec["data"], root, layout=rec.get("layout", "nhwc"),
                         float_model=None if fm is None else out / fm)
