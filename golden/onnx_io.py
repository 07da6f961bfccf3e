"""ONNX in and out.

Export: each float model is written as ONNX (STM32Cube.AI users start there).
Import: an ONNX graph becomes a torch.fx GraphModule made of the same torch
modules and functions a PyTorch model would use (Conv2d, Linear, BatchNorm2d,
pools, relu/clamp, +, torch.cat, reshape/permute, channel slices), so it goes
through exactly the same golden.graph extraction and quantization as the
PyTorch model it was exported from: same integer parameters. Shape arithmetic
(Shape, Gather, Unsqueeze, Concat of shapes, Constant, Cast, ...) is folded
to constants while importing. Unsupported operators raise UnsupportedLayer
naming the node.
"""
from __future__ import annotations

import operator
import re
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.fx
import torch.nn.functional as F
from torch import nn

from golden.graph import INPUT, SUPPORTED, UnsupportedLayer
from golden.graph_fold import same_pads, symmetric_padding


def export_onnx(model: nn.Module, input_shape: tuple[int, ...], path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # legacy exporter: no onnxscript needed, stable output
        torch.onnx.export(model.eval(), (torch.zeros((1,) + tuple(input_shape)),), str(path),
                          dynamo=False, opset_version=13, input_names=["input"],
                          output_names=["output"],
                          dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})


def reshape_keep_batch(x: torch.Tensor, dims: tuple[int, ...]) -> torch.Tensor:
    """ONNX Reshape with the batch dimension kept whatever the exported batch was."""
    return x.reshape((x.shape[0],) + tuple(dims))


reshape_keep_batch._hil_reshape = True  # golden.graph treats it as view/reshape

# ONNX ops on shape values only: folded with numpy while importing
_CONST_OPS = {
    "Gather": lambda a, i, axis=0: np.take(a, i, axis=axis),
    "Unsqueeze": lambda a, axes: np.expand_dims(a, tuple(int(x) for x in axes)),
    "Squeeze": lambda a, axes=None: np.squeeze(a, None if axes is None else tuple(int(x) for x in axes)),
    "Concat": lambda *xs, axis=0: np.concatenate(xs, axis),
    "Mul": np.multiply, "Add": np.add, "Sub": np.subtract, "Identity": np.asarray,
    "Div": lambda a, b: a // b if np.issubdtype(np.asarray(a).dtype, np.integer) else a / b,
}


def _attrs(node) -> dict:
    import onnx
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


class _Importer:
    def __init__(self, path: Path, model):
        from onnx import numpy_helper
        self.path = path
        self.graph = torch.fx.Graph()
        self.root = nn.Module()
        self.consts = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
        self.tensors: dict[str, torch.fx.Node] = {}
        self.eager: dict[torch.fx.Node, torch.Tensor] = {}
        self.names: set[str] = set()

    # -- values -------------------------------------------------------------
    def const(self, node, name: str) -> np.ndarray:
        if name not in self.consts:
            raise UnsupportedLayer(f"{self.path}: ONNX node '{node.name}' ({node.op_type}) needs input "
                                   f"'{name}' to be a constant")
        return self.consts[name]

    def tensor(self, node, name: str) -> torch.fx.Node:
        if name not in self.tensors:
            raise UnsupportedLayer(f"{self.path}: ONNX node '{node.name}' ({node.op_type}) reads "
                                   f"'{name}', which is not an activation tensor")
        return self.tensors[name]

    def shape(self, n: torch.fx.Node) -> tuple[int, ...]:
        return tuple(self.eager[n].shape)

    def emit(self, kind: str, target, args: tuple, out: str) -> torch.fx.Node:
        n = self.graph.create_node(kind, target, args)
        vals = torch.fx.node.map_arg(args, lambda a: self.eager[a])
        with torch.no_grad():
            if kind == "call_module":
                self.eager[n] = self.root.get_submodule(target)(*vals)
            elif kind == "call_method":
                self.eager[n] = getattr(vals[0], target)(*vals[1:])
            else:
                self.eager[n] = target(*vals)
        self.tensors[out] = n
        return n

    def module(self, node, mod: nn.Module) -> str:
        base = re.sub(r"[^A-Za-z0-9_]", "_", node.name.strip("/").rsplit("/", 1)[0]).strip("_")
        base = base or node.op_type.lower()
        name, k = base, 1
        while name in self.names:
            k += 1
            name = f"{base}_{k}"
        self.names.add(name)
        self.root.add_module(name, mod)
        return name

    # -- ops ----------------------------------------------------------------
    def conv(self, node, a) -> None:
        x = self.tensor(node, node.input[0])
        w = self.const(node, node.input[1])
        b = self.const(node, node.input[2]) if len(node.input) > 2 and node.input[2] else None
        k = tuple(int(v) for v in w.shape[2:])
        s = tuple(a.get("strides", [1, 1]))
        hw = self.shape(x)[2:]
        auto = a.get("auto_pad", b"NOTSET")
        auto = auto.decode() if isinstance(auto, bytes) else auto
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            pads = same_pads(hw, k, s, upper=auto == "SAME_UPPER")
        elif auto == "VALID":
            pads = (0, 0, 0, 0)
        else:
            p = a.get("pads", [0, 0, 0, 0])
            pads = (p[0], p[1], p[2], p[3])
        pad = symmetric_padding(node.name, hw, k, s, pads)
        groups = a.get("group", 1)
        conv = nn.Conv2d(w.shape[1] * groups, w.shape[0], k, stride=s, padding=pad, groups=groups,
                         dilation=tuple(a.get("dilations", [1, 1])), bias=b is not None)
        conv.weight.data = torch.from_numpy(np.array(w, np.float32))
        if b is not None:
            conv.bias.data = torch.from_numpy(np.array(b, np.float32))
        self.emit("call_module", self.module(node, conv), (x,), node.output[0])

    def gemm(self, node, a) -> None:
        if a.get("transA", 0):
            raise UnsupportedLayer(f"{self.path}: ONNX node '{node.name}': Gemm with transA")
        x = self.tensor(node, node.input[0])
        w = self.const(node, node.input[1])
        w = w if a.get("transB", 0) else w.T
        b = self.const(node, node.input[2]) if len(node.input) > 2 and node.input[2] else None
        fc = nn.Linear(w.shape[1], w.shape[0], bias=b is not None)
        fc.weight.data = torch.from_numpy(np.array(w, np.float32) * a.get("alpha", 1.0))
        if b is not None:
            fc.bias.data = torch.from_numpy(np.array(b, np.float32) * a.get("beta", 1.0))
        self.emit("call_module", self.module(node, fc), (x,), node.output[0])

    def pool(self, node, a) -> None:
        x = self.tensor(node, node.input[0])
        if any(a.get("pads", [0])) or a.get("ceil_mode", 0) or any(d != 1 for d in a.get("dilations", [1])):
            raise UnsupportedLayer(f"{self.path}: ONNX node '{node.name}': {node.op_type} with padding, "
                                   f"dilation or ceil_mode is not supported")
        cls = nn.MaxPool2d if node.op_type == "MaxPool" else nn.AvgPool2d
        mod = cls(tuple(a["kernel_shape"]), tuple(a.get("strides", a["kernel_shape"])))
        self.emit("call_module", self.module(node, mod), (x,), node.output[0])

    def batchnorm(self, node, a) -> None:
        x = self.tensor(node, node.input[0])
        scale, bias, mean, var = (self.const(node, n) for n in node.input[1:5])
        bn = nn.BatchNorm2d(len(scale), eps=a.get("epsilon", 1e-5)).eval()
        for t, v in ((bn.weight, scale), (bn.bias, bias), (bn.running_mean, mean), (bn.running_var, var)):
            t.data = torch.from_numpy(np.array(v, np.float32))
        self.emit("call_module", self.module(node, bn), (x,), node.output[0])

    def clip(self, node, a) -> None:
        x = self.tensor(node, node.input[0])
        lo, hi = a.get("min"), a.get("max")
        if len(node.input) > 1 and node.input[1]:
            lo = float(self.const(node, node.input[1]))
        if len(node.input) > 2 and node.input[2]:
            hi = float(self.const(node, node.input[2]))
        self.emit("call_function", torch.clamp, (x, lo, hi), node.output[0])

    def channel_slices(self, node, x: torch.fx.Node, axis: int, bounds: list[tuple[int, int]]) -> None:
        if axis % 4 != 1 or len(self.shape(x)) != 4:
            raise UnsupportedLayer(f"{self.path}: ONNX node '{node.name}' ({node.op_type}): only the "
                                   f"channel axis of NCHW can be split or sliced")
        for out, (lo, hi) in zip(node.output, bounds):
            self.emit("call_function", operator.getitem, (x, (slice(None), slice(lo, hi))), out)

    def split(self, node, a) -> None:
        x = self.tensor(node, node.input[0])
        axis = a.get("axis", 0)
        c = self.shape(x)[axis]
        if len(node.input) > 1 and node.input[1]:
            sizes = [int(v) for v in self.const(node, node.input[1])]
        elif "split" in a:
            sizes = list(a["split"])
        else:
            sizes = [c // len(node.output)] * len(node.output)
        starts = np.cumsum([0] + sizes)
        self.channel_slices(node, x, axis, [(int(starts[i]), int(starts[i + 1])) for i in range(len(sizes))])

    def slice_(self, node, a) -> None:
        x = self.tensor(node, node.input[0])
        starts, ends = (self.const(node, n) for n in node.input[1:3])
        axes = self.const(node, node.input[3]) if len(node.input) > 3 and node.input[3] else range(len(starts))
        steps = self.const(node, node.input[4]) if len(node.input) > 4 and node.input[4] else [1] * len(starts)
        if len(starts) != 1 or int(steps[0]) != 1:
            raise UnsupportedLayer(f"{self.path}: ONNX node '{node.name}': Slice over several axes or "
                                   f"with a step is not supported")
        c = self.shape(x)[int(list(axes)[0])]
        lo, hi, _ = slice(int(starts[0]), int(ends[0])).indices(c)
        self.channel_slices(node, x, int(list(axes)[0]), [(lo, hi)])

    def reshape(self, node, a) -> None:
        x = self.tensor(node, node.input[0])
        dims = [int(v) for v in self.const(node, node.input[1])]
        dims = [self.shape(x)[i] if d == 0 else d for i, d in enumerate(dims)]
        self.emit("call_function", reshape_keep_batch, (x, tuple(dims[1:])), node.output[0])

    def fold(self, node, a) -> bool:
        """Evaluate an op whose inputs are all constants; False if it has tensor inputs."""
        import onnx
        ins = [i for i in node.input if i]
        if any(i in self.tensors for i in ins) and node.op_type != "Shape":
            return False
        op = node.op_type
        if op == "Constant":
            from onnx import numpy_helper
            if "value" not in a:
                raise UnsupportedLayer(f"{self.path}: ONNX Constant '{node.name}' without a tensor value")
            val = numpy_helper.to_array(a["value"])
        elif op == "Shape":
            val = np.array(self.shape(self.tensor(node, node.input[0])), np.int64)
        elif op == "Cast":
            val = self.const(node, ins[0]).astype(onnx.helper.tensor_dtype_to_np_dtype(a["to"]))
        elif op in _CONST_OPS:
            args = [self.const(node, i) for i in ins]
            if op == "Unsqueeze" and len(args) == 1:
                args.append(a["axes"])
            kw = {"axis": a["axis"]} if "axis" in a else {}
            val = _CONST_OPS[op](*args, **kw)
        else:
            return False
        self.consts[node.output[0]] = np.asarray(val)
        return True

    def node(self, node) -> None:
        a = _attrs(node)
        op = node.op_type
        if self.fold(node, a):
            return
        one = node.output[0]
        if op == "Conv":
            self.conv(node, a)
        elif op == "Gemm":
            self.gemm(node, a)
        elif op in ("MaxPool", "AveragePool"):
            self.pool(node, a)
        elif op == "BatchNormalization":
            self.batchnorm(node, a)
        elif op == "Relu":
            self.emit("call_function", F.relu, (self.tensor(node, node.input[0]),), one)
        elif op == "Clip":
            self.clip(node, a)
        elif op == "Add" and all(i in self.tensors for i in node.input):
            self.emit("call_function", operator.add, tuple(self.tensor(node, i) for i in node.input), one)
        elif op == "Concat" and all(i in self.tensors for i in node.input):
            if a.get("axis") not in (1, -3):
                raise UnsupportedLayer(f"{self.path}: ONNX node '{node.name}': Concat only on channels")
            self.emit("call_function", torch.cat, ([self.tensor(node, i) for i in node.input], 1), one)
        elif op == "GlobalAveragePool":
            self.emit("call_function", F.adaptive_avg_pool2d, (self.tensor(node, node.input[0]), 1), one)
        elif op == "ReduceMean" and a.get("keepdims", 1) in (0, 1):
            axes = tuple(int(v) % 4 for v in a.get("axes", []))
            if sorted(axes) != [2, 3]:
                raise UnsupportedLayer(f"{self.path}: ONNX node '{node.name}': ReduceMean only over H, W")
            self.emit("call_method", "mean", (self.tensor(node, node.input[0]), (2, 3), bool(a.get("keepdims", 1))), one)
        elif op == "Flatten":
            self.emit("call_function", torch.flatten, (self.tensor(node, node.input[0]), a.get("axis", 1)), one)
        elif op == "Reshape":
            self.reshape(node, a)
        elif op == "Transpose":
            self.emit("call_method", "permute", (self.tensor(node, node.input[0]), *a["perm"]), one)
        elif op == "Split":
            self.split(node, a)
        elif op == "Slice":
            self.slice_(node, a)
        elif op in ("Identity", "Dropout"):
            self.tensors[one] = self.tensor(node, node.input[0])
        else:
            raise UnsupportedLayer(
                f"{self.path}: ONNX node '{node.name}' of type {op} is not supported; supported: {SUPPORTED}")


def module_from_onnx(path: Path) -> tuple[torch.fx.GraphModule, tuple[int, ...]]:
    """Build an equivalent torch.fx GraphModule and return it with the input shape (no batch)."""
    import onnx

    path = Path(path)
    model = onnx.load(str(path))
    imp = _Importer(path, model)
    inputs = [i for i in model.graph.input if i.name not in imp.consts]
    if len(inputs) != 1:
        raise UnsupportedLayer(f"{path}: expected one graph input, found {len(inputs)}")
    dims = tuple(d.dim_value for d in inputs[0].type.tensor_type.shape.dim)[1:]
    x = imp.graph.placeholder(INPUT)
    imp.eager[x] = torch.zeros((1,) + dims)
    imp.tensors[inputs[0].name] = x
    for node in model.graph.node:
        imp.node(node)
    outs = [o.name for o in model.graph.output]
    if len(outs) != 1 or outs[0] not in imp.tensors:
        raise UnsupportedLayer(f"{path}: expected one activation output, found {outs}")
    imp.graph.output(imp.tensors[outs[0]])
    return torch.fx.GraphModule(imp.root, imp.graph).eval(), dims
