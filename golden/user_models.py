"""A user's own model in the registry: a PyTorch module with trained weights,
or an ONNX file. It must be built from the supported layer types
(golden.graph.SUPPORTED) and take the input of one of the built-in data sets,
whose test split then becomes its golden bundle."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from golden.errors import DatasetError
from golden import models
from golden.graph import UnsupportedLayer, extract_layers
from golden.onnx_io import module_from_onnx

DATASETS = {"mnist": ("mnist_lenet",), "kws": ("kws_dscnn",), "sine": ("sine_mlp",),
            "colour_mnist": ("resnet8",)}


@dataclass(frozen=True)
class DataFile:
    """`--data FILE.npz` instead of a built-in data set: a user's own test vectors (golden.user_data)."""
    path: Path
    layout: str = "nhwc"


def data_shape(data: DataFile) -> tuple[int, ...]:
    """The CHW (or vector) input shape the vectors of a data file have."""
    with np.load(data.path, allow_pickle=False) as z:
        if "x" not in z.files:
            raise DatasetError(f"{data.path}: no array named 'x'; save with np.savez(F, x=inputs, y=labels)")
        shape = tuple(z["x"].shape[1:])
    if len(shape) == 3 and data.layout == "nhwc":
        return (shape[2], shape[0], shape[1])
    return shape


def _user_like(name: str, data: DataFile, shape: tuple[int, ...], outputs: int) -> models.ModelInfo:
    """A ModelInfo for a model judged on a user's data file (checked here, one line per problem)."""
    from golden import user_data
    if not Path(data.path).is_file():
        raise DatasetError(f"{data.path}: data file not found")
    probe = user_data.load(data.path, shape, layout=data.layout)
    if probe.quantized:
        raise DatasetError(f"{data.path}: x is int8; already-quantized inputs are for --tflite models (an ONNX or "
                           f"PyTorch model has no input quantization of its own): give float x")
    if probe.y is None:
        raise DatasetError(f"{data.path}: no 'y'; --onnx/--torch with --data need labels or regression targets")
    classes = [str(i) for i in range(outputs)] if probe.y.ndim == 1 and probe.y.dtype.kind == "i" else None
    user_data.load(data.path, shape, layout=data.layout, classes=outputs if classes else None)
    return models.ModelInfo(name, lambda: None, tuple(shape), "user", classes=classes,
                            description=f"user model on {Path(data.path).name}",
                            extra={"data": str(Path(data.path).resolve()), "layout": data.layout})


def _like(dataset: str) -> models.ModelInfo:
    if dataset not in DATASETS:
        raise DatasetError(f"unknown dataset '{dataset}'; use one of {sorted(DATASETS)}")
    return models.get(DATASETS[dataset][0])


def register_module(name: str, module: nn.Module, dataset: str | DataFile,
                    input_shape: tuple[int, ...] | None = None) -> models.ModelInfo:
    """Register a trained module; fails now, naming the layer, if a layer is unsupported."""
    if isinstance(dataset, DataFile):
        shape = tuple(input_shape or data_shape(dataset))
        like = models.ModelInfo(name, lambda: None, shape, "user", classes=None)
    else:
        like = _like(dataset)
    try:   # run it once first: torch's shape propagation prints a traceback of its own on failure
        with torch.no_grad():
            module.eval()(torch.zeros((1,) + tuple(like.input_shape)))
    except (RuntimeError, ValueError, TypeError) as exc:    # layers whose shapes do not chain
        raise UnsupportedLayer(f"model '{name}' does not run on the {dataset} input {tuple(like.input_shape)}: "
                               f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    layers = extract_layers(module, like.input_shape)       # validate before anything is built
    outputs = int(np.prod(layers[-1].out_shape))
    if isinstance(dataset, DataFile):       # the data file says classes or regression; checked there
        like = _user_like(name, dataset, like.input_shape, outputs)
    else:
        want = len(like.classes) if like.classes else 1      # the one regression set (sine) has one output
        if outputs != want:
            what = f"the {len(like.classes)} classes" if like.classes else f"the {want} regression output(s)"
            raise DatasetError(f"model '{name}' has {outputs} outputs, but the {dataset} data set has {what}: "
                               f"change its last layer to {want} outputs")
    state = {k: v.clone() for k, v in module.state_dict().items()}

    def build() -> nn.Module:
        m = module
        m.load_state_dict(state)
        return m.eval()

    return models.register(models.ModelInfo(
        name, build, like.input_shape, like.dataset, classes=like.classes,
        description=like.description if isinstance(dataset, DataFile) else f"user model on {dataset} data",
        extra=dict(like.extra, pretrained=True) if isinstance(dataset, DataFile) else {"pretrained": True}))


def register_onnx(name: str, path: Path, dataset: str | DataFile) -> models.ModelInfo:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"ONNX file {path} not found")
    try:
        module, shape = module_from_onnx(path)
    except UnsupportedLayer:
        raise
    except Exception as exc:  # noqa: BLE001 - protobuf, onnx and torch raise many types for a bad file
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UnsupportedLayer(f"{path}: not an ONNX model this importer can read ({first}); export it with "
                               f"torch.onnx.export(..., dynamo=False) or check the file") from None
    if isinstance(dataset, DataFile):
        return register_module(name, module, dataset, tuple(shape))
    like = _like(dataset)
    if tuple(shape) != tuple(like.input_shape):
        raise DatasetError(f"{path}: input shape {tuple(shape)} does not match the {dataset} "
                         f"data set's {tuple(like.input_shape)}")
    return register_module(name, module, dataset)


def load_torch(name: str, module: nn.Module, state_dict_path: Path, dataset: str) -> models.ModelInfo:
    module.load_state_dict(torch.load(state_dict_path, weights_only=True))
    return register_module(name, module, dataset)


def module_class(spec: str) -> type[nn.Module]:
    """The class named by ``path/to/module.py:ClassName`` (imported from that file)."""
    import importlib.util
    import sys

    path, sep, cls_name = spec.rpartition(":")
    if not sep or not path or not cls_name:
        raise ValueError(f"--torch wants path/to/module.py:ClassName, got {spec!r}")
    file = Path(path).resolve()
    if not file.is_file():
        raise FileNotFoundError(f"--torch: module file {file} not found")
    mod_name = f"hil_user_{file.stem}"
    loader = importlib.util.spec_from_file_location(mod_name, file)
    module = importlib.util.module_from_spec(loader)
    sys.modules[mod_name] = module
    loader.loader.exec_module(module)
    cls = getattr(module, cls_name, None)
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise ValueError(f"--torch: {file} has no nn.Module subclass named {cls_name!r}")
    return cls


def register_torch(name: str, spec: str, weights: Path, dataset: str | DataFile) -> models.ModelInfo:
    """``path.py:ClassName`` built with no arguments, its state_dict loaded from ``weights``."""
    if not Path(weights).is_file():
        raise FileNotFoundError(f"--weights: {weights} not found")
    module = module_class(spec)()
    try:
        state = torch.load(weights, weights_only=True)
    except Exception as exc:   # noqa: BLE001 - torch raises several kinds for a bad file
        raise ValueError(f"--weights {weights}: not a state_dict saved with torch.save ({exc})") from None
    if isinstance(state, nn.Module):
        state = state.state_dict()
    try:
        module.load_state_dict(state)
    except RuntimeError as exc:
        raise ValueError(f"--weights {weights} does not fit {spec}: {str(exc).splitlines()[0]}") from None
    return register_module(name, module, dataset)


# A user model's artifact folder records where it came from, so that
# `hil golden build --model NAME` can rebuild it by name later.
SOURCE_FILE = "source.json"


def _rel(path: Path | str, base: Path) -> str:
    import os
    return os.path.relpath(Path(path).resolve(), base.resolve())


def write_source(out_dir: Path, *, dataset: str | DataFile, onnx: Path | None = None,
                 torch_spec: str | None = None, weights: Path | None = None) -> Path:
    """Write ``out_dir/source.json``; file paths are stored relative to ``out_dir``."""
    import json
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if isinstance(dataset, DataFile):     # recorded as {"data": relative path, "layout": ...}
        dataset = {"data": _rel(dataset.path, out_dir), "layout": dataset.layout}
    if onnx is not None:
        rec = {"kind": "onnx", "onnx": _rel(onnx, out_dir), "dataset": dataset}
    else:
        path, _, cls = torch_spec.rpartition(":")
        rec = {"kind": "torch", "module": _rel(path, out_dir), "class": cls,
               "weights": _rel(weights, out_dir), "dataset": dataset}
    (out_dir / SOURCE_FILE).write_text(json.dumps(rec, indent=1, sort_keys=True) + "\n")
    return out_dir / SOURCE_FILE


def register_from_source(name: str, out_dir: Path) -> models.ModelInfo | None:
    """Register a user model from its recorded source; None if ``out_dir`` has none."""
    import json
    path = Path(out_dir) / SOURCE_FILE
    if not path.is_file():
        return None
    rec = json.loads(path.read_text())
    base = path.parent
    if isinstance(rec.get("dataset"), dict):
        rec["dataset"] = DataFile(base / rec["dataset"]["data"], rec["dataset"]["layout"])
    if rec["kind"] == "onnx":
        return register_onnx(name, base / rec["onnx"], rec["dataset"])
    return register_torch(name, f"{base / rec['module']}:{rec['class']}", base / rec["weights"],
                          rec["dataset"])
