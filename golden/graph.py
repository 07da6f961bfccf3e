"""Turn a PyTorch module into the flat layer list the quantizer understands.

The supported layer set is what the C, HLS and simulator kernels implement:
Conv2d (dense or depthwise), Linear, ReLU (fused into the layer before it),
MaxPool2d, AvgPool2d and flatten/view. The graph must be a chain. Anything
else raises UnsupportedLayer naming the layer, so a user's model fails early
with a message instead of producing a wrong firmware.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.fx
import torch.nn.functional as F
from torch import nn
from torch.fx.passes.shape_prop import ShapeProp

from golden.errors import GoldenError

SUPPORTED = "Conv2d (dense or depthwise), Linear, ReLU, MaxPool2d, AvgPool2d, Flatten/view"


class UnsupportedLayer(GoldenError):
    """A model uses a layer type the device kernels do not implement."""


@dataclass
class FloatLayer:
    name: str
    op: str                      # conv2d | depthwise_conv2d | fully_connected | maxpool2d | avgpool2d
    in_shape: tuple[int, ...]    # CHW (or (N,) for vectors)
    out_shape: tuple[int, ...]
    module: nn.Module | None = None
    relu: bool = False
    attrs: dict = field(default_factory=dict)

    @property
    def macs(self) -> int:
        if self.op in ("conv2d", "depthwise_conv2d"):
            w = self.module.weight
            per_out = w.shape[1] * w.shape[2] * w.shape[3]
            return int(per_out * _numel(self.out_shape))
        if self.op == "fully_connected":
            return int(self.module.weight.numel())
        return 0

    @property
    def params(self) -> int:
        return sum(p.numel() for p in self.module.parameters()) if self.module is not None else 0


def _numel(shape) -> int:
    n = 1
    for s in shape:
        n *= int(s)
    return n


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def _module_layer(name: str, mod: nn.Module) -> FloatLayer:
    if isinstance(mod, nn.Conv2d):
        if _pair(mod.dilation) != (1, 1) or not isinstance(mod.padding, tuple):
            raise UnsupportedLayer(f"layer '{name}': Conv2d with dilation or string padding is not supported")
        if mod.groups == 1:
            op = "conv2d"
        elif mod.groups == mod.in_channels == mod.out_channels:
            op = "depthwise_conv2d"
        else:
            raise UnsupportedLayer(f"layer '{name}': grouped Conv2d (groups={mod.groups}) is not supported")
        return FloatLayer(name, op, (), (), mod, attrs=dict(
            kernel=_pair(mod.kernel_size), stride=_pair(mod.stride), padding=_pair(mod.padding)))
    if isinstance(mod, nn.Linear):
        return FloatLayer(name, "fully_connected", (), (), mod)
    if isinstance(mod, (nn.MaxPool2d, nn.AvgPool2d)):
        pad = _pair(mod.padding)
        if pad != (0, 0) or mod.ceil_mode or (isinstance(mod, nn.MaxPool2d) and _pair(mod.dilation) != (1, 1)):
            raise UnsupportedLayer(f"layer '{name}': pooling with padding, dilation or ceil_mode is not supported")
        op = "maxpool2d" if isinstance(mod, nn.MaxPool2d) else "avgpool2d"
        k = _pair(mod.kernel_size)
        s = _pair(mod.stride if mod.stride is not None else mod.kernel_size)
        return FloatLayer(name, op, (), (), None, attrs=dict(kernel=k, stride=s))
    raise UnsupportedLayer(
        f"layer '{name}' of type {type(mod).__name__} is not supported; supported: {SUPPORTED}")


_RELU_FUNCS = {F.relu, torch.relu}
_FLATTEN_FUNCS = {torch.flatten}
_FLATTEN_METHODS = {"view", "reshape", "flatten"}


def extract_layers(model: nn.Module, input_shape: tuple[int, ...]) -> list[FloatLayer]:
    """Trace `model` and return its layers in execution order, ReLUs fused."""
    model = model.eval()
    try:
        gm = torch.fx.symbolic_trace(model)
    except Exception as exc:  # noqa: BLE001 - fx raises many types
        raise UnsupportedLayer(f"model {type(model).__name__} cannot be traced as a chain: {exc}") from exc
    ShapeProp(gm).propagate(torch.zeros((1,) + tuple(input_shape)))
    modules = dict(gm.named_modules())
    layers: list[FloatLayer] = []
    prev = None
    for node in gm.graph.nodes:
        if node.op in ("placeholder", "output"):
            prev = node if node.op == "placeholder" else prev
            continue
        if node.op == "get_attr":
            raise UnsupportedLayer(f"parameter access '{node.target}' outside a layer is not supported")
        data_args = [a for a in node.args if isinstance(a, torch.fx.Node)]
        if len(data_args) != 1 or data_args[0] is not prev:
            raise UnsupportedLayer(f"node '{node.name}' breaks the chain (branches or multiple inputs are not supported)")
        in_shape = tuple(data_args[0].meta["tensor_meta"].shape[1:])
        out_shape = tuple(node.meta["tensor_meta"].shape[1:])
        prev = node
        if node.op == "call_module":
            mod = modules[node.target]
            if isinstance(mod, nn.ReLU):
                _fuse_relu(layers, node.target)
                continue
            if isinstance(mod, (nn.Flatten, nn.Identity, nn.Dropout)):
                continue
            layer = _module_layer(str(node.target), mod)
        elif node.op == "call_function" and node.target in _RELU_FUNCS:
            _fuse_relu(layers, node.name)
            continue
        elif (node.op == "call_function" and node.target in _FLATTEN_FUNCS) or (
                node.op == "call_method" and node.target in _FLATTEN_METHODS):
            continue  # CHW flatten is free in memory
        else:
            raise UnsupportedLayer(
                f"layer '{node.name}' ({node.op} {getattr(node.target, '__name__', node.target)}) "
                f"is not supported; supported: {SUPPORTED}")
        layer.in_shape, layer.out_shape = in_shape, out_shape
        layers.append(layer)
    if not layers:
        raise UnsupportedLayer("model has no supported layers")
    return layers


def _fuse_relu(layers: list[FloatLayer], name: str) -> None:
    if not layers or layers[-1].op not in ("conv2d", "depthwise_conv2d", "fully_connected") or layers[-1].relu:
        raise UnsupportedLayer(f"ReLU '{name}' must directly follow a conv or linear layer")
    layers[-1].relu = True
