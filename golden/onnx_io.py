"""ONNX in and out.

Export: each float model is written as ONNX (STM32Cube.AI users start there).
Import: an ONNX chain of supported operators becomes an `nn.Sequential`, so a
user's ONNX model runs through exactly the same quantize -> bundle pipeline
as a PyTorch one. Unsupported operators raise UnsupportedLayer naming them.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from golden.graph import SUPPORTED, UnsupportedLayer


def export_onnx(model: nn.Module, input_shape: tuple[int, ...], path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # legacy exporter: no onnxscript needed, stable output
        torch.onnx.export(model.eval(), (torch.zeros((1,) + tuple(input_shape)),), str(path),
                          dynamo=False, opset_version=13, input_names=["input"],
                          output_names=["output"],
                          dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})


def _attrs(node) -> dict:
    import onnx
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def module_from_onnx(path: Path) -> tuple[nn.Sequential, tuple[int, ...]]:
    """Build an equivalent nn.Sequential and return it with the input shape (no batch)."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    g = model.graph
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    inputs = [i for i in g.input if i.name not in inits]
    if len(inputs) != 1:
        raise UnsupportedLayer(f"{path}: expected one graph input, found {len(inputs)}")
    dims = [d.dim_value for d in inputs[0].type.tensor_type.shape.dim][1:]
    layers: list[nn.Module] = []
    for node in g.node:
        a = _attrs(node)
        op = node.op_type
        if op == "Conv":
            w = inits[node.input[1]]
            b = inits[node.input[2]] if len(node.input) > 2 else None
            pads = a.get("pads", [0, 0, 0, 0])
            if pads[0] != pads[2] or pads[1] != pads[3]:
                raise UnsupportedLayer(f"node '{node.name}': asymmetric Conv padding {pads}")
            groups = a.get("group", 1)
            conv = nn.Conv2d(w.shape[1] * groups, w.shape[0], tuple(w.shape[2:]),
                             stride=tuple(a.get("strides", [1, 1])), padding=(pads[0], pads[1]),
                             groups=groups, bias=b is not None)
            conv.weight.data = torch.from_numpy(np.array(w, np.float32))
            if b is not None:
                conv.bias.data = torch.from_numpy(np.array(b, np.float32))
            layers.append(conv)
        elif op == "Gemm":
            w = inits[node.input[1]]
            if not a.get("transB", 0):
                w = w.T
            b = inits[node.input[2]] if len(node.input) > 2 else None
            fc = nn.Linear(w.shape[1], w.shape[0], bias=b is not None)
            fc.weight.data = torch.from_numpy(np.array(w, np.float32) * a.get("alpha", 1.0))
            if b is not None:
                fc.bias.data = torch.from_numpy(np.array(b, np.float32) * a.get("beta", 1.0))
            layers.append(fc)
        elif op == "Relu":
            layers.append(nn.ReLU())
        elif op in ("MaxPool", "AveragePool"):
            if any(a.get("pads", [0]) ) or a.get("ceil_mode", 0):
                raise UnsupportedLayer(f"node '{node.name}': {op} with padding or ceil_mode")
            cls = nn.MaxPool2d if op == "MaxPool" else nn.AvgPool2d
            layers.append(cls(tuple(a["kernel_shape"]), tuple(a.get("strides", a["kernel_shape"]))))
        elif op in ("Flatten", "Reshape"):
            layers.append(nn.Flatten())
        else:
            raise UnsupportedLayer(
                f"{path}: ONNX node '{node.name}' of type {op} is not supported; supported: {SUPPORTED}")
    return nn.Sequential(*layers).eval(), tuple(dims)
