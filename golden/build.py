"""The pipeline behind `hil golden build`: train (if needed), quantize, bundle.

Every step is deterministic from fixed seeds. Committed weights are reused,
so a rebuild on a clean machine only needs the data (fetched or synthesised)
and a few seconds of quantization; `retrain=True` starts from scratch.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from golden import artifact, bundle, models, paths
from golden.errors import GoldenError
from golden.data.names import dataset_name
from golden.datasets import Prepared, prepare
from golden.graph import extract_layers
from golden.intsim.run import IntegerSimulator, dequantize
from golden.onnx_io import export_onnx
from golden.paths import ARTIFACTS, artifact_dir, qmodel_path  # noqa: F401 - re-exported
from golden.quant import int8 as q8
from golden.train import accuracy, augment_affine, augment_spectro, train_classifier, train_regressor

Progress = Callable[[str], None]


@dataclass
class Recipe:
    epochs: int
    lr: float
    batch: int = 128
    augment: Callable | None = None
    qat_epochs: int = 0
    qat_lr: float = 0.0
    threads: int | None = None     # torch threads while training (1: same bits on every machine)


RECIPES = {
    "mnist_lenet": Recipe(60, 0.01, augment=augment_affine),
    "kws_dscnn": Recipe(30, 0.004, augment=augment_spectro),
    "kws_dscnn_fpga": Recipe(30, 0.5, augment=augment_spectro, qat_epochs=20, qat_lr=0.1),
    "sine_mlp": Recipe(400, 0.01, batch=16),
    # Colour-MNIST-32 stand-in (docs/data.md): 1-5 min per epoch on a shared core, so few epochs
    # of small batches (250 steps an epoch) rather than many of large ones
    "squeezenet_mini": Recipe(8, 0.003, batch=32, threads=1),
    "shufflenetv2_mini": Recipe(5, 0.003, batch=32, threads=1),
    "resnet8": Recipe(5, 0.003, batch=32, threads=1),
}


def _train(info: models.ModelInfo, model: torch.nn.Module, data: Prepared, say: Progress) -> None:
    # One thread: the same weights whatever the machine's core count, and on a
    # loaded 2-core machine two threads spin-wait (measured: 6x the CPU time
    # per batch for kws_dscnn).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        _train_recipe(info, model, data, say)
    finally:
        torch.set_num_threads(threads)


def _train_recipe(info: models.ModelInfo, model: torch.nn.Module, data: Prepared, say: Progress) -> None:
    r = RECIPES.get(info.name, Recipe(30, 0.003))
    if r.threads:
        torch.set_num_threads(r.threads)
    x, y = data.splits["train"]
    log = lambda step, total, msg: say(f"{info.name}: {msg}")  # noqa: E731
    if info.task == "regression":
        train_regressor(model, x, y, epochs=r.epochs, lr=r.lr, batch=r.batch, progress=log)
        return
    val = data.splits["validation"]
    train_classifier(model, x, y, epochs=r.epochs, lr=r.lr, batch=r.batch, augment=r.augment,
                     val=val, progress=log)
    if r.qat_epochs:
        model.quantized = True
        train_classifier(model, x, y, epochs=r.qat_epochs, lr=r.qat_lr, batch=r.batch,
                         augment=r.augment, val=val, seed=1, progress=log)
        model.quantized = False


def load_float_model(name: str, root: Path | None = None) -> torch.nn.Module:
    info = models.get(name)
    model = info.build()
    wpath = artifact_dir(name, root) / "weights.pt"
    if not wpath.exists():
        raise GoldenError(f"no trained weights for '{name}' at {wpath} (run `hil golden build`)")
    model.load_state_dict(torch.load(wpath, weights_only=True))
    return model.eval()


def float_metrics(info: models.ModelInfo, model: torch.nn.Module, data: Prepared) -> dict:
    """Float accuracy on validation and test, naming the data set they come from."""
    rec = dict(model=info.name, dataset=info.dataset, dataset_name=dataset_name(info.dataset))
    for split in ("validation", "test"):
        x, y = data.splits[split]
        rec[f"{split}_vectors"] = len(y)
        rec[f"float_{split}_accuracy"] = accuracy(model, x, y)
    return rec


def train_float(name: str, *, retrain: bool = False, say: Progress = lambda m: None,
                data_root: Path | None = None, root: Path | None = None) -> dict:
    """Train (unless weights exist) and write `float.json`: the float model's figures alone,
    for models whose quantization is not available yet."""
    info = models.get(name)
    out = artifact_dir(name, root)
    out.mkdir(parents=True, exist_ok=True)
    data = prepare(info, data_root)
    wpath = out / "weights.pt"
    torch.manual_seed(0)            # the initial weights: torch's own seed differs per process
    model = info.build()
    if wpath.exists() and not retrain:
        model.load_state_dict(torch.load(wpath, weights_only=True))
    else:
        say(f"{name}: training")
        _train(info, model, data, say)
        torch.save(model.state_dict(), wpath)
    model.eval()
    rec = float_metrics(info, model, data)
    rec["weights_sha256"] = hashlib.sha256(wpath.read_bytes()).hexdigest()
    (out / "float.json").write_text(json.dumps(rec, indent=2) + "\n")
    return rec


def build_model(name: str, *, retrain: bool = False, say: Progress = lambda m: None,
                data_root: Path | None = None, root: Path | None = None) -> dict:
    """Build everything for one model into `root/<name>/` (default: the artifacts
    root, golden.paths); returns the bundle manifest."""
    info = models.get(name)
    root = Path(root) if root is not None else paths.root()
    out = artifact_dir(name, root)
    out.mkdir(parents=True, exist_ok=True)
    say(f"{name}: loading data")
    data = prepare(info, data_root)
    wpath = out / "weights.pt"
    torch.manual_seed(0)   # the initial weights too: torch's own start-up seed is random
    model = info.build()
    if info.extra.get("pretrained"):
        torch.save(model.state_dict(), wpath)      # a user's model arrives trained
    elif wpath.exists() and not retrain:
        model.load_state_dict(torch.load(wpath, weights_only=True))
        say(f"{name}: using committed weights {wpath.name}")
    else:
        say(f"{name}: training")
        _train(info, model, data, say)
        torch.save(model.state_dict(), wpath)
    model.eval()
    export_onnx(model, info.input_shape, out / f"{name}.onnx")
    say(f"{name}: quantizing")
    doc = quantize(info, model, data, wpath)
    artifact.save(doc, qmodel_path(name, root))
    say(f"{name}: running the integer simulator over the test split")
    return write_bundle(info, model, data, doc, out)


def quantize(info: models.ModelInfo, model: torch.nn.Module, data: Prepared, wpath: Path) -> dict:
    x_train = data.splits["train"][0]
    if info.scheme == "shift":
        from golden.quant.shift import export_layers
        layers = export_layers(model, info.input_shape)
        inq = {"scale": data.input_scale, "zero_point": 0}
        out = {"shape": list(layers[-1]["out_shape"]), "dtype": "int32", "scale": 1.0, "zero_point": 0}
        rounding, params = "floor-shift", sum(p.numel() for p in model.parameters())
    else:
        flayers = extract_layers(model, info.input_shape)
        calib = x_train[torch.randperm(len(x_train), generator=torch.Generator().manual_seed(0))[:2000]]
        given = None if data.input_scale is None else (data.input_scale, data.input_zp)
        inq, layers = q8.quantize_model(flayers, calib, given)
        last = layers[-1]
        out = {"shape": list(last["out_shape"]), "dtype": "int8", "scale": last["output_scale"],
               "zero_point": last["output_zp"]}
        rounding, params = "tflm-double-rounding", sum(L.params for L in flayers)
    doc = dict(
        model=info.name, scheme=info.scheme, rounding=rounding, layout="CHW",
        classes=info.classes, description=info.description,
        input=dict(shape=list(info.input_shape), dtype="int8", **inq), output=out, layers=layers,
        params=int(params), macs=int(sum(L["macs"] for L in layers)),
        preprocessing=data.preprocessing,
        source={"weights_sha256": hashlib.sha256(wpath.read_bytes()).hexdigest()},
    )
    return artifact.finalize(doc)


def float_reference(model: torch.nn.Module, doc: dict, device_inputs: np.ndarray) -> np.ndarray:
    """Float model outputs on the dequantized device inputs (what the device saw)."""
    i = doc["input"]
    x = (device_inputs.astype(np.float64) - i["zero_point"]) * i["scale"]
    with torch.no_grad():
        return model(torch.from_numpy(x).float()).double().numpy()


def write_bundle(info: models.ModelInfo, model: torch.nn.Module, data: Prepared, doc: dict,
                 out: Path) -> dict:
    x_test, y_test = data.splits["test"]
    i = doc["input"]
    lo, hi = (-32, 31) if info.scheme == "shift" else (-128, 127)
    inputs = data.device_input(x_test, i["scale"], i["zero_point"], lo, hi)
    float_out = float_reference(model, doc, inputs)
    sim = IntegerSimulator(doc)
    res = sim.run(inputs, keep_layers=False)
    k = min(bundle.PER_LAYER_VECTORS, len(inputs))
    per_layer = sim.run(inputs[:k], keep_layers=True).layers
    arrays = {"inputs": inputs, "labels": y_test.numpy(), "float_logits": float_out.astype(np.float32),
              "int_logits": res.outputs}
    arrays |= {f"layer_{n:02d}": t for n, t in enumerate(per_layer)}
    manifest = dict(
        model=info.name, scheme=info.scheme, qmodel_hash=doc["hash"], classes=info.classes,
        input=doc["input"], output=doc["output"], test_vectors=len(inputs), per_layer_vectors=k,
        layers=[dict(name=L["name"], op=L["op"], shape=L["out_shape"], macs=L["macs"],
                     array=f"layer_{n:02d}") for n, L in enumerate(doc["layers"])],
        params=doc["params"], macs=doc["macs"],
        metrics=metrics(info, doc, float_out, res.outputs, y_test.numpy()),
    )
    return bundle.write(out, manifest, arrays)


def metrics(info: models.ModelInfo, doc: dict, float_out, int_out, labels) -> dict:
    if info.task == "regression":
        deq = dequantize(doc, int_out)
        return dict(float_mae=float(np.abs(float_out - labels).mean()),
                    int_mae=float(np.abs(deq - labels).mean()),
                    int_vs_float_mae=float(np.abs(deq - float_out).mean()))
    # a classifier ending in global pooling gives logits shaped (N, classes, 1, 1)
    float_out = np.asarray(float_out).reshape(len(float_out), -1)
    int_out = np.asarray(int_out).reshape(len(int_out), -1)
    fa = float((float_out.argmax(1) == labels).mean())
    ia = float((int_out.argmax(1) == labels).mean())
    agree = float((float_out.argmax(1) == int_out.argmax(1)).mean())
    return dict(float_accuracy=fa, int_accuracy=ia, agreement=agree)
