"""TFLite Micro as a golden reference: the `tflite-micro` interpreter (TFLM's own reference kernels,
built for the host) runs the `.tflite` file an artifact was imported from, on the same int8 device
inputs (CHW in hil, transposed back to NHWC for TFLM), and gives its outputs and, with
`kPreserveAllTensors`, every layer's tensor, mapped to hil's layer names through the artifact's
`tflite_tensor` fields. Torch-free.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from golden.errors import GoldenError
from golden.paths import artifact_dir


class TflmError(GoldenError):
    """The TFLM reference cannot run (package missing, file missing or changed)."""


def _runtime():
    try:
        from tflite_micro.python.tflite_micro import runtime
    except ImportError:
        raise TflmError("the TFLM reference needs the tflite-micro package (pip install tflite-micro; "
                        "a dependency of hil)") from None
    return runtime


def to_nhwc(x: np.ndarray) -> np.ndarray:
    """One CHW vector (or a flat vector) -> TFLite's batch-1 layout."""
    x = np.asarray(x)
    return x.transpose(1, 2, 0)[None] if x.ndim == 3 else x.reshape(1, -1)


def to_chw(t: np.ndarray, shape: list[int]) -> np.ndarray:
    """A TFLite batch-1 tensor -> hil's shape (NHWC -> CHW)."""
    t = np.asarray(t)
    if len(shape) == 3 and t.ndim == 4:
        return t[0].transpose(2, 0, 1).reshape(shape)
    return t.reshape(shape)


def is_tflite(doc: dict) -> bool:
    return (doc.get("source") or {}).get("format") == "tflite"


def tflite_path(doc: dict) -> Path:
    return artifact_dir(doc["model"]) / doc["source"]["file"]


class TflmReference:
    """One TFLM interpreter over one `.tflite` file, with every tensor preserved."""

    def __init__(self, path: Path, doc: dict):
        import hashlib
        path = Path(path)
        if not path.is_file():
            raise TflmError(f"{path}: the .tflite file of '{doc['model']}' is missing (re-import it with "
                            f"`hil golden build --tflite`)")
        if hashlib.sha256(path.read_bytes()).hexdigest() != doc["source"]["sha256"]:
            raise TflmError(f"{path}: not the file '{doc['model']}' was imported from (sha256 differs); "
                            f"re-import it")
        rt = _runtime()
        self.doc = doc
        self.interp = rt.Interpreter.from_file(str(path),
                                               intrepreter_config=rt.InterpreterConfig.kPreserveAllTensors)
        d = self.interp.get_input_details(0)
        self.input_shape = tuple(int(s) for s in d["shape"])

    def run_one(self, x: np.ndarray, keep_layers: bool = False) -> tuple[np.ndarray, list[np.ndarray]]:
        """TFLM's output (hil shape) and, when asked, each hil layer's tensor (CHW), in layer order."""
        self.interp.set_input(to_nhwc(x).reshape(self.input_shape).astype(np.int8), 0)
        self.interp.invoke()
        out = to_chw(self.interp.get_output(0), self.doc["output"]["shape"])
        layers = []
        if keep_layers:
            for L in self.doc["layers"]:
                t = self.interp.GetTensor(L["tflite_tensor"], 0)
                data = t["tensor_data"] if isinstance(t, dict) else t
                layers.append(to_chw(np.asarray(data), L["out_shape"]))
        return out, layers

    def outputs(self, xs: np.ndarray) -> np.ndarray:
        return np.stack([self.run_one(x)[0] for x in xs]).astype(np.int8)


def first_differing_layer(a: list[np.ndarray], b: list[np.ndarray], names: list[str]):
    """(layer name, flat index) of the first layer whose tensors differ, else None."""
    for name, x, y in zip(names, a, b):
        bad = np.flatnonzero(np.asarray(x).reshape(-1) != np.asarray(y).reshape(-1))
        if bad.size:
            return name, int(bad[0])
    return None


def float_outputs(path: Path, doc: dict, inputs: np.ndarray) -> np.ndarray:
    """A float `.tflite` (LiteRT, ai-edge-litert) on the dequantized device inputs: the float column."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        raise TflmError("--float-model needs the ai-edge-litert package (pip install ai-edge-litert)") from None
    path = Path(path)
    if not path.is_file():
        raise TflmError(f"{path}: float model not found")
    interp = Interpreter(model_path=str(path))
    interp.allocate_tensors()
    d_in, d_out = interp.get_input_details()[0], interp.get_output_details()[0]
    if d_in["dtype"] != np.float32:
        raise TflmError(f"{path}: input is {np.dtype(d_in['dtype']).name}, a float model takes float32")
    i = doc["input"]
    outs = []
    for x in inputs:
        xf = (np.asarray(x, np.float32) - np.float32(i["zero_point"])) * np.float32(i["scale"])
        interp.set_tensor(d_in["index"], to_nhwc(xf).reshape(d_in["shape"]).astype(np.float32))
        interp.invoke()
        outs.append(to_chw(interp.get_tensor(d_out["index"]), doc["output"]["shape"]))
    return np.stack(outs).astype(np.float64)
