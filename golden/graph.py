"""Turn a PyTorch module into the layer graph the quantizer understands.

The supported layer set is what the C, HLS and simulator kernels implement
(SUPPORTED below). The model is traced with torch.fx; every layer gets a name
(its output tensor's name) and the names of the tensors it reads (`inputs`,
"input" being the model input), in a topological order. Free operations are
absorbed: flatten/view to a vector (CHW memory is already flat), Dropout,
Identity, contiguous(); BatchNorm2d is folded into the Conv2d before it; ReLU,
ReLU6, Hardtanh and clamp are fused into the conv, linear or add layer before
it as an output clamp. Channel shuffle is recognised from its
reshape-transpose-reshape pattern, channel split from chunk/split/slicing on
the channel axis. Anything else raises UnsupportedLayer naming the layer, so a
user's model fails early with a message instead of producing a wrong firmware.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass, field

import torch
import torch.fx
import torch.nn.functional as F
from torch import nn
from torch.fx.passes.shape_prop import ShapeProp

from golden.errors import GoldenError, UnsupportedLayer  # noqa: F401 - UnsupportedLayer is defined in golden.errors
from golden.graph_fold import fold_bn, same_padding

SUPPORTED = ("Conv2d (dense, depthwise, grouped; + BatchNorm2d folded), Linear, ReLU/ReLU6/clamp "
             "(fused), MaxPool2d, AvgPool2d, AdaptiveAvgPool2d/mean over H,W, add (+), torch.cat on "
             "channels, channel split (chunk/split/slice on channels), channel shuffle "
             "(reshape-transpose-reshape), Flatten/view")
INPUT = "input"
WEIGHTED = ("conv2d", "depthwise_conv2d", "grouped_conv2d", "fully_connected")
CLAMPABLE = WEIGHTED + ("add",)



@dataclass
class FloatLayer:
    name: str
    op: str                      # conv2d | depthwise_conv2d | grouped_conv2d | fully_connected |
                                 # maxpool2d | avgpool2d | add | concat | channel_shuffle | channel_slice
    in_shape: tuple[int, ...]    # CHW (or (N,) for vectors) of the first input
    out_shape: tuple[int, ...]
    module: nn.Module | None = None
    clamp: tuple[float | None, float | None] | None = None   # fused ReLU (0, None), ReLU6 (0, 6)
    attrs: dict = field(default_factory=dict)
    inputs: list[str] = field(default_factory=list)

    @property
    def relu(self) -> bool:
        return self.clamp is not None

    @property
    def macs(self) -> int:
        if self.op in ("conv2d", "depthwise_conv2d", "grouped_conv2d"):
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


def _conv_layer(name: str, mod: nn.Conv2d, in_shape) -> FloatLayer:
    if _pair(mod.dilation) != (1, 1):
        raise UnsupportedLayer(f"layer '{name}': Conv2d with dilation is not supported")
    if mod.padding_mode != "zeros":
        raise UnsupportedLayer(f"layer '{name}': Conv2d padding_mode '{mod.padding_mode}' is not supported")
    k, s = _pair(mod.kernel_size), _pair(mod.stride)
    if isinstance(mod.padding, str):
        pad = same_padding(name, in_shape[1:], k, s) if mod.padding == "same" else (0, 0)
    else:
        pad = _pair(mod.padding)
    if mod.groups == 1:
        op = "conv2d"
    elif mod.groups == mod.in_channels == mod.out_channels:
        op = "depthwise_conv2d"
    else:
        op = "grouped_conv2d"
    return FloatLayer(name, op, (), (), mod, attrs=dict(kernel=k, stride=s, padding=pad,
                                                         groups=mod.groups))


def _pool_layer(name: str, mod: nn.Module, in_shape) -> FloatLayer:
    if isinstance(mod, nn.AdaptiveAvgPool2d):
        return _adaptive(name, in_shape, mod.output_size)
    pad = _pair(mod.padding)
    if pad != (0, 0) or mod.ceil_mode or (isinstance(mod, nn.MaxPool2d) and _pair(mod.dilation) != (1, 1)):
        raise UnsupportedLayer(f"layer '{name}': pooling with padding, dilation or ceil_mode is not supported")
    if isinstance(mod, nn.AvgPool2d) and mod.divisor_override is not None:
        raise UnsupportedLayer(f"layer '{name}': AvgPool2d divisor_override is not supported")
    op = "maxpool2d" if isinstance(mod, nn.MaxPool2d) else "avgpool2d"
    k = _pair(mod.kernel_size)
    s = _pair(mod.stride if mod.stride is not None else mod.kernel_size)
    return FloatLayer(name, op, (), (), None, attrs=dict(kernel=k, stride=s))


def _adaptive(name: str, in_shape, output_size) -> FloatLayer:
    """Adaptive average pooling where the sizes divide = average pooling, kernel = stride."""
    h, w = in_shape[1], in_shape[2]
    oh, ow = _pair(output_size)
    oh, ow = oh or h, ow or w
    if h % oh or w % ow:
        raise UnsupportedLayer(f"layer '{name}': adaptive average pooling {h}x{w} -> {oh}x{ow} "
                               f"needs sizes that divide")
    k = (h // oh, w // ow)
    return FloatLayer(name, "avgpool2d", (), (), None, attrs=dict(kernel=k, stride=k))


_RELU_FUNCS = {F.relu, torch.relu, F.relu6, F.hardtanh, torch.clamp, torch.clip}
_RELU_METHODS = {"relu", "relu_", "clamp", "clip", "clamp_", "clip_"}
_ALIAS_MODULES = (nn.Flatten, nn.Identity, nn.Dropout, nn.Unflatten)
_RESHAPE_FUNCS = {torch.flatten, torch.reshape}
_RESHAPE_METHODS = {"view", "reshape", "flatten"}
_TRANSPOSE_FUNCS = {torch.transpose, torch.permute}
_TRANSPOSE_METHODS = {"transpose", "permute"}
_ADD_FUNCS = {operator.add, operator.iadd, torch.add}
_CAT_FUNCS = {torch.cat, torch.concat}
_SPLIT_FUNCS = {torch.chunk, torch.split}
_SPLIT_METHODS = {"chunk", "split"}


def _clamp_of(node: torch.fx.Node, mod: nn.Module | None) -> tuple[float | None, float | None] | None:
    """The (lo, hi) output range of an activation node, or None if it is not one."""
    if mod is not None:
        if isinstance(mod, nn.ReLU6):
            return (0.0, 6.0)
        if isinstance(mod, nn.ReLU):
            return (0.0, None)
        if isinstance(mod, nn.Hardtanh):
            return (float(mod.min_val), float(mod.max_val))
        return None
    t = node.target
    if node.op == "call_function" and t in _RELU_FUNCS or node.op == "call_method" and t in _RELU_METHODS:
        if t in (F.relu, torch.relu, "relu", "relu_"):
            return (0.0, None)
        if t is F.relu6:
            return (0.0, 6.0)
        args = list(node.args[1:]) + [None, None]
        if t is F.hardtanh:
            lo = node.kwargs.get("min_val", args[0] if args[0] is not None else -1.0)
            hi = node.kwargs.get("max_val", args[1] if args[1] is not None else 1.0)
        else:
            lo, hi = node.kwargs.get("min", args[0]), node.kwargs.get("max", args[1])
        if any(isinstance(v, torch.fx.Node) for v in (lo, hi)):
            raise UnsupportedLayer(f"layer '{node.name}': clamp bounds must be constants")
        return (None if lo is None else float(lo), None if hi is None else float(hi))
    return None


def _meta_shape(node) -> tuple[int, ...] | None:
    m = node.meta.get("tensor_meta") if isinstance(node, torch.fx.Node) else None
    return tuple(m.shape) if hasattr(m, "shape") else None


class _Tracer:
    """Walks the fx graph once, building FloatLayers and tensor names."""

    def __init__(self, gm: torch.fx.GraphModule):
        self.modules = dict(gm.named_modules())
        self.layers: list[FloatLayer] = []
        self.by_name: dict[str, FloatLayer] = {}
        self.tensor: dict[torch.fx.Node, str] = {}     # fx node -> tensor name it holds
        self.last_node: dict[str, torch.fx.Node] = {}  # tensor -> node that finished it
        self.pending: dict[torch.fx.Node, tuple] = {}  # half-seen shuffle / split patterns
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.output: str | None = None

    # -- helpers ------------------------------------------------------------
    def src(self, node: torch.fx.Node, arg) -> str:
        if not isinstance(arg, torch.fx.Node) or arg not in self.tensor:
            what = "a pattern it cannot complete" if arg in self.pending else "a non-tensor value"
            raise UnsupportedLayer(f"layer '{node.name}' ({_what(node)}) reads {what}; "
                                   f"supported: {SUPPORTED}")
        return self.tensor[arg]

    def add(self, node: torch.fx.Node, layer: FloatLayer, inputs: list[str]) -> None:
        name, k = layer.name, 1
        while name in self.by_name or name == INPUT:
            name, k = f"{layer.name}_{k}", k + 1
        layer.name = name
        layer.inputs = inputs
        layer.in_shape = self.shapes[inputs[0]]
        layer.out_shape = _meta_shape(node)[1:]
        if layer.op == "avgpool2d" and len(layer.out_shape) == 1:
            layer.out_shape = (layer.out_shape[0], 1, 1)     # mean over (H, W) without keepdim
        self.layers.append(layer)
        self.by_name[name] = layer
        self.shapes[name] = layer.out_shape
        self.tensor[node] = name
        self.last_node[name] = node

    def alias(self, node: torch.fx.Node, arg) -> None:
        self.tensor[node] = self.src(node, arg)

    def fusable(self, node: torch.fx.Node, what: str, ops) -> FloatLayer:
        arg = node.args[0]
        name = self.src(node, arg)
        layer = self.by_name.get(name)
        if layer is None or layer.op not in ops or self.last_node[name] is not arg or len(arg.users) != 1:
            raise UnsupportedLayer(f"{what} '{node.name}' must directly follow a "
                                   f"{' or '.join(ops)} layer whose output only it uses")
        return layer

    # -- one node -----------------------------------------------------------
    def visit(self, node: torch.fx.Node) -> None:
        if node.op == "placeholder":
            if INPUT in self.shapes:
                raise UnsupportedLayer("models with more than one input are not supported")
            self.tensor[node] = INPUT
            self.shapes[INPUT] = _meta_shape(node)[1:]
            return
        if node.op == "output":
            out = node.args[0]
            if isinstance(out, (tuple, list)):
                if len(out) != 1:
                    raise UnsupportedLayer("models with more than one output are not supported")
                out = out[0]
            self.output = self.src(node, out)
            return
        if node.op == "get_attr":
            raise UnsupportedLayer(f"parameter access '{node.target}' outside a layer is not supported")
        if "tensor_meta" not in node.meta:
            return  # shape arithmetic (x.size(), floordiv, ...): only feeds reshape arguments
        mod = self.modules.get(node.target) if node.op == "call_module" else None
        if node.op == "call_module":
            self.visit_module(node, mod)
        else:
            self.visit_function(node)

    def visit_module(self, node, mod) -> None:
        name = str(node.target)
        if _clamp_of(node, mod) is not None:
            return self.fuse_clamp(node, _clamp_of(node, mod))
        if isinstance(mod, _ALIAS_MODULES):
            return self.reshape(node)
        src = self.src(node, node.args[0])
        if isinstance(mod, nn.Conv2d):
            return self.add(node, _conv_layer(name, mod, self.shapes[src]), [src])
        if isinstance(mod, nn.Linear):
            return self.add(node, FloatLayer(name, "fully_connected", (), (), mod), [src])
        if isinstance(mod, (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d)):
            return self.add(node, _pool_layer(name, mod, self.shapes[src]), [src])
        if isinstance(mod, nn.BatchNorm2d):
            conv = self.fusable(node, "BatchNorm2d", ("conv2d", "depthwise_conv2d", "grouped_conv2d"))
            if conv.clamp is not None:
                raise UnsupportedLayer(f"BatchNorm2d '{name}' follows an activation; fold needs conv -> BN")
            conv.module = fold_bn(conv.module, mod)
            self.tensor[node] = conv.name
            self.last_node[conv.name] = node
            return
        raise UnsupportedLayer(f"layer '{name}' of type {type(mod).__name__} is not supported; "
                               f"supported: {SUPPORTED}")

    def visit_function(self, node) -> None:
        t, is_fn = node.target, node.op == "call_function"
        clamp = _clamp_of(node, None)
        if clamp is not None:
            return self.fuse_clamp(node, clamp)
        if is_fn and t in _ADD_FUNCS or not is_fn and t in ("add", "add_"):
            if len(node.args) != 2 or node.kwargs.get("alpha", 1) != 1:
                raise UnsupportedLayer(f"layer '{node.name}': add needs two tensors")
            a, b = (self.src(node, x) for x in node.args)
            return self.add(node, FloatLayer(node.name, "add", (), ()), [a, b])
        if is_fn and t in _CAT_FUNCS:
            dim = node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else 0)
            srcs = [self.src(node, x) for x in node.args[0]]
            if len(_meta_shape(node)) != 4 or dim not in (1, -3):
                raise UnsupportedLayer(f"layer '{node.name}': torch.cat only on the channel axis of NCHW")
            return self.add(node, FloatLayer(node.name, "concat", (), ()), srcs)
        if is_fn and t in _SPLIT_FUNCS or not is_fn and t in _SPLIT_METHODS:
            return self.split(node)
        if is_fn and t is operator.getitem:
            return self.getitem(node)
        if is_fn and t in _RESHAPE_FUNCS or not is_fn and t in _RESHAPE_METHODS or \
                getattr(t, "_hil_reshape", False):
            return self.reshape(node)
        if is_fn and t in _TRANSPOSE_FUNCS or not is_fn and t in _TRANSPOSE_METHODS:
            return self.transpose(node)
        if not is_fn and t == "contiguous":
            if node.args[0] in self.pending:
                self.pending[node] = self.pending[node.args[0]]
                return
            return self.alias(node, node.args[0])
        if not is_fn and t == "mean" or is_fn and t is torch.mean:
            dims = node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else None)
            dims = tuple(sorted(d % 4 for d in _pair(dims))) if dims is not None else None
            src = self.src(node, node.args[0])
            if dims != (2, 3) or len(self.shapes[src]) != 3:
                raise UnsupportedLayer(f"layer '{node.name}': mean only over (H, W) of NCHW")
            return self.add(node, _adaptive(node.name, self.shapes[src], 1), [src])
        if is_fn and t is F.adaptive_avg_pool2d:
            src = self.src(node, node.args[0])
            size = node.kwargs.get("output_size", node.args[1] if len(node.args) > 1 else None)
            return self.add(node, _adaptive(node.name, self.shapes[src], size), [src])
        if is_fn and t in (F.max_pool2d, F.avg_pool2d):
            src = self.src(node, node.args[0])
            cls = nn.MaxPool2d if t is F.max_pool2d else nn.AvgPool2d
            try:
                mod = cls(*node.args[1:], **node.kwargs)
            except TypeError as exc:
                raise UnsupportedLayer(f"layer '{node.name}': {exc}") from None
            return self.add(node, _pool_layer(node.name, mod, self.shapes[src]), [src])
        if is_fn and t in (F.dropout, torch.dropout):
            return self.alias(node, node.args[0])
        raise UnsupportedLayer(f"layer '{node.name}' ({_what(node)}) is not supported; supported: {SUPPORTED}")

    # -- patterns -----------------------------------------------------------
    def fuse_clamp(self, node, clamp) -> None:
        layer = self.fusable(node, "activation", CLAMPABLE)
        lo, hi = clamp
        if layer.clamp is not None:
            lo0, hi0 = layer.clamp
            lo = lo0 if lo is None else lo if lo0 is None else max(lo, lo0)
            hi = hi0 if hi is None else hi if hi0 is None else min(hi, hi0)
        layer.clamp = (lo, hi)
        self.tensor[node] = layer.name
        self.last_node[layer.name] = node

    def reshape(self, node) -> None:
        arg = node.args[0]
        out = _meta_shape(node)
        if arg in self.pending:
            kind, src, groups = self.pending[arg]
            if kind == "transposed" and len(out) == 4 and out[1:] == self.shapes[src]:
                layer = FloatLayer("shuffle", "channel_shuffle", (), (), attrs=dict(groups=groups))
                return self.add(node, layer, [src])
            raise UnsupportedLayer(f"layer '{node.name}': reshape inside a channel shuffle pattern "
                                   f"(expected view(N, g, C/g, H, W) -> transpose(1, 2) -> view(N, C, H, W))")
        src = self.src(node, arg)
        ins = self.shapes[src]
        if out[1:] == ins or len(out) == 2 and _numel(out[1:]) == _numel(ins):
            return self.alias(node, arg)                  # identity or flatten: free in CHW
        if len(ins) == 3 and len(out) == 5 and out[1] * out[2] == ins[0] and out[3:] == ins[1:]:
            self.pending[node] = ("grouped", src, out[1])
            return
        if len(out) == 4 and _numel(out[1:]) == _numel(ins) and len(ins) == 1:
            return self.alias(node, arg)                  # vector -> (C, 1, 1) and back
        raise UnsupportedLayer(f"layer '{node.name}': reshape {tuple(ins)} -> {tuple(out[1:])} is not "
                               f"supported (only flatten and channel shuffle)")

    def transpose(self, node) -> None:
        arg = node.args[0]
        dims = [a for a in node.args[1:]] if len(node.args) > 1 else list(node.kwargs.values())
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = list(dims[0])
        swap12 = sorted(d % 5 for d in dims) == [1, 2] or [d % 5 for d in dims] == [0, 2, 1, 3, 4]
        if arg in self.pending and self.pending[arg][0] == "grouped" and swap12:
            self.pending[node] = ("transposed",) + self.pending[arg][1:]
            return
        raise UnsupportedLayer(f"layer '{node.name}': transpose/permute is only supported inside a "
                               f"channel shuffle (view(N, g, C/g, H, W) -> transpose(1, 2) -> view)")

    def split(self, node) -> None:
        src = self.src(node, node.args[0])
        dim = node.kwargs.get("dim", node.args[2] if len(node.args) > 2 else 0)
        if len(self.shapes[src]) != 3 or dim not in (1, -3):
            raise UnsupportedLayer(f"layer '{node.name}': chunk/split only on the channel axis of NCHW")
        metas = node.meta.get("tensor_meta")
        sizes = [int(m.shape[1]) for m in metas]
        self.pending[node] = ("split", src, sizes)

    def getitem(self, node) -> None:
        arg, idx = node.args
        if arg in self.pending and self.pending[arg][0] == "split":
            _, src, sizes = self.pending[arg]
            start = sum(sizes[:idx])
            layer = FloatLayer("split", "channel_slice", (), (), attrs=dict(start=start, length=sizes[idx]))
            return self.add(node, layer, [src])
        src = self.src(node, arg)
        ins = self.shapes[src]
        idx = idx if isinstance(idx, tuple) else (idx,)
        full = slice(None)
        if len(ins) == 3 and len(idx) >= 2 and idx[0] == full and all(i == full for i in idx[2:]) and \
                isinstance(idx[1], slice) and idx[1].step in (None, 1):
            start, stop, _ = idx[1].indices(ins[0])
            if stop > start:
                layer = FloatLayer("split", "channel_slice", (), (),
                                   attrs=dict(start=start, length=stop - start))
                return self.add(node, layer, [src])
        raise UnsupportedLayer(f"layer '{node.name}': indexing {idx} is not supported "
                               f"(only a channel range x[:, a:b])")


def _what(node: torch.fx.Node) -> str:
    return f"{node.op} {getattr(node.target, '__name__', node.target)}"


def extract_layers(model: nn.Module, input_shape: tuple[int, ...]) -> list[FloatLayer]:
    """Trace `model`; return its layers in a topological order, BN folded, activations fused."""
    model = model.eval()
    try:
        gm = model if isinstance(model, torch.fx.GraphModule) else torch.fx.symbolic_trace(model)
    except Exception as exc:  # noqa: BLE001 - fx raises many types
        raise UnsupportedLayer(f"model {type(model).__name__} cannot be traced by torch.fx: {exc}") from exc
    with torch.no_grad():
        ShapeProp(gm).propagate(torch.zeros((1,) + tuple(input_shape)))
    tr = _Tracer(gm)
    for node in gm.graph.nodes:
        tr.visit(node)
    if not tr.layers:
        raise UnsupportedLayer("model has no supported layers")
    if tr.output != tr.layers[-1].name:
        raise UnsupportedLayer(f"the model output '{tr.output}' must be the last layer's output "
                               f"('{tr.layers[-1].name}')")
    return _live(tr.layers)


def _live(layers: list[FloatLayer]) -> list[FloatLayer]:
    """Drop layers whose output never reaches the model output."""
    need = {layers[-1].name}
    keep = []
    for L in reversed(layers):
        if L.name in need:
            keep.append(L)
            need.update(L.inputs)
    return keep[::-1]


def run_float(layers: list[FloatLayer], x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Float forward pass over the extracted graph; every tensor by name (batch first)."""
    t = {INPUT: x}
    for L in layers:
        a = t[L.inputs[0]]
        if L.op in WEIGHTED:
            y = L.module(a.flatten(1) if L.op == "fully_connected" else a)
        elif L.op == "maxpool2d":
            y = F.max_pool2d(a, L.attrs["kernel"], L.attrs["stride"])
        elif L.op == "avgpool2d":
            y = F.avg_pool2d(a, L.attrs["kernel"], L.attrs["stride"])
        elif L.op == "add":
            y = a + t[L.inputs[1]]
        elif L.op == "concat":
            y = torch.cat([t[n] for n in L.inputs], 1)
        elif L.op == "channel_shuffle":
            g = L.attrs["groups"]
            n, c, h, w = a.shape
            y = a.reshape(n, g, c // g, h, w).transpose(1, 2).reshape(n, c, h, w)
        elif L.op == "channel_slice":
            y = a[:, L.attrs["start"]:L.attrs["start"] + L.attrs["length"]]
        else:
            raise UnsupportedLayer(f"layer '{L.name}': no float reference for op {L.op}")
        if L.clamp is not None:
            y = torch.clamp(y, *L.clamp)
        t[L.name] = y.reshape((y.shape[0],) + tuple(L.out_shape))
    return t
