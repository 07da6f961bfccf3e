"""Read a `.tflite` flatbuffer into typed records: tensors (shape, type, quantization, constant data)
and operators (builtin name, inputs, outputs, options). Only the first subgraph is read.

The schema is the Python one the `tflite-micro` wheel ships (`schema_py_generated`), so reading a
file needs no TensorFlow.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import TfliteError


def schema():
    """The flatbuffer schema module (from the tflite-micro wheel)."""
    try:
        from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as s  # noqa: F401
        return s
    except ImportError:
        raise TfliteError("reading .tflite files needs the tflite-micro package "
                          "(pip install tflite-micro; it is a dependency of hil)") from None


# TensorType values of the schema -> numpy dtypes (those hil meets)
DTYPES = {0: np.float32, 2: np.int32, 3: np.uint8, 4: np.int64, 7: np.int16, 9: np.int8}
TYPE_NAMES = {0: "float32", 1: "float16", 2: "int32", 3: "uint8", 4: "int64", 7: "int16", 9: "int8"}
ACTIVATIONS = {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6", 4: "TANH", 5: "SIGN_BIT"}
PADDINGS = {0: "SAME", 1: "VALID"}


@dataclass
class Tensor:
    index: int
    name: str
    shape: tuple[int, ...]
    type: str                           # float32, int8, int32, ...
    scales: np.ndarray                  # float32 per channel (length 1: per tensor; empty: none)
    zero_points: np.ndarray             # int64, same length
    quantized_dimension: int
    data: np.ndarray | None             # constant tensors (weights, bias, shapes), else None

    @property
    def scale(self) -> float:
        return float(self.scales[0])

    @property
    def zero_point(self) -> int:
        return int(self.zero_points[0])

    @property
    def quantized(self) -> bool:
        return len(self.scales) > 0


@dataclass
class Options:
    """The builtin options hil reads; unused fields stay at their defaults."""
    padding: str = "VALID"
    stride: tuple[int, int] = (1, 1)                 # (h, w)
    dilation: tuple[int, int] = (1, 1)
    filter: tuple[int, int] = (1, 1)                 # pooling window (h, w)
    activation: str = "NONE"
    depth_multiplier: int = 1
    axis: int = 0
    beta: float = 1.0
    keep_dims: bool = False
    keep_num_dims: bool = False
    weights_format: int = 0


@dataclass
class Operator:
    index: int
    op: str                              # builtin name, e.g. CONV_2D
    inputs: list[int]                    # tensor indices (-1: an optional input left out)
    outputs: list[int]
    options: Options = field(default_factory=Options)


@dataclass
class TfliteModel:
    path: Path
    sha256: str
    tensors: list[Tensor]
    operators: list[Operator]
    inputs: list[int]
    outputs: list[int]

    def tensor(self, i: int) -> Tensor:
        return self.tensors[i]


def _names(enum_cls) -> dict[int, str]:
    return {v: k for k, v in vars(enum_cls).items() if not k.startswith("_") and isinstance(v, int)}


def _options(s, op, name: str) -> Options:
    table = op.BuiltinOptions()
    o = Options()
    if table is None:
        return o
    kinds = {
        "CONV_2D": s.Conv2DOptions, "DEPTHWISE_CONV_2D": s.DepthwiseConv2DOptions,
        "AVERAGE_POOL_2D": s.Pool2DOptions, "MAX_POOL_2D": s.Pool2DOptions,
        "FULLY_CONNECTED": s.FullyConnectedOptions, "ADD": s.AddOptions,
        "CONCATENATION": s.ConcatenationOptions, "SOFTMAX": s.SoftmaxOptions, "MEAN": s.ReducerOptions,
    }
    if name not in kinds:
        return o
    t = kinds[name]()
    t.Init(table.Bytes, table.Pos)
    if hasattr(t, "FusedActivationFunction"):
        o.activation = ACTIVATIONS.get(t.FusedActivationFunction(), str(t.FusedActivationFunction()))
    if hasattr(t, "Padding"):
        o.padding = PADDINGS.get(t.Padding(), str(t.Padding()))
    if hasattr(t, "StrideH"):
        o.stride = (t.StrideH(), t.StrideW())
    if hasattr(t, "DilationHFactor"):
        o.dilation = (t.DilationHFactor(), t.DilationWFactor())
    if hasattr(t, "FilterHeight"):
        o.filter = (t.FilterHeight(), t.FilterWidth())
    if hasattr(t, "DepthMultiplier"):
        o.depth_multiplier = t.DepthMultiplier()
    if name == "CONCATENATION":
        o.axis = t.Axis()
    if name == "SOFTMAX":
        o.beta = float(t.Beta())
    if name == "MEAN":
        o.keep_dims = bool(t.KeepDims())
    if name == "FULLY_CONNECTED":
        o.keep_num_dims = bool(t.KeepNumDims())
        o.weights_format = t.WeightsFormat()
    return o


def _tensor(s, model, t, index: int) -> Tensor:
    shape = tuple(int(d) for d in t.ShapeAsNumpy()) if t.ShapeLength() else ()
    q = t.Quantization()
    scales = np.asarray(q.ScaleAsNumpy(), np.float32) if q is not None and q.ScaleLength() else np.zeros(0, np.float32)
    zps = np.asarray(q.ZeroPointAsNumpy(), np.int64) if q is not None and q.ZeroPointLength() else np.zeros(0, np.int64)
    qdim = q.QuantizedDimension() if q is not None else 0
    data = None
    buf = model.Buffers(t.Buffer()) if t.Buffer() < model.BuffersLength() else None
    if buf is not None and buf.DataLength():
        dtype = DTYPES.get(t.Type())
        if dtype is not None:
            data = np.frombuffer(buf.DataAsNumpy().tobytes(), dtype=dtype).reshape(shape)
    name = t.Name().decode("utf-8", "replace") if t.Name() else f"tensor_{index}"
    return Tensor(index, name, shape, TYPE_NAMES.get(t.Type(), f"type{t.Type()}"), scales, zps, qdim, data)


def read(path: Path) -> TfliteModel:
    path = Path(path)
    if not path.is_file():
        raise TfliteError(f"{path}: .tflite file not found")
    raw = path.read_bytes()
    if len(raw) < 8 or raw[4:8] != b"TFL3":
        raise TfliteError(f"{path}: not a .tflite flatbuffer (no TFL3 identifier)")
    s = schema()
    try:
        model = s.Model.GetRootAs(raw, 0)
        if model.SubgraphsLength() != 1:
            raise TfliteError(f"{path}: {model.SubgraphsLength()} subgraphs; hil imports models with exactly one")
        g = model.Subgraphs(0)
        op_names = _names(s.BuiltinOperator)
        codes = []
        for i in range(model.OperatorCodesLength()):
            c = model.OperatorCodes(i)
            code = max(int(c.BuiltinCode()), int(c.DeprecatedBuiltinCode()))
            codes.append("CUSTOM" if code == 32 else op_names.get(code, f"BUILTIN_{code}"))
        tensors = [_tensor(s, model, g.Tensors(i), i) for i in range(g.TensorsLength())]
        ops = []
        for i in range(g.OperatorsLength()):
            o = g.Operators(i)
            name = codes[o.OpcodeIndex()]
            ops.append(Operator(i, name, [int(v) for v in o.InputsAsNumpy()] if o.InputsLength() else [],
                                [int(v) for v in o.OutputsAsNumpy()] if o.OutputsLength() else [],
                                _options(s, o, name)))
        inputs = [int(v) for v in g.InputsAsNumpy()]
        outputs = [int(v) for v in g.OutputsAsNumpy()]
    except TfliteError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged flatbuffer fails anywhere inside the generated reader
        raise TfliteError(f"{path}: damaged .tflite flatbuffer ({type(exc).__name__}: {exc})") from None
    return TfliteModel(path, hashlib.sha256(raw).hexdigest(), tensors, ops, inputs, outputs)
