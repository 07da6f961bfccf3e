"""TFLite operators -> hil layers (the qmodel contract, docs/architecture.md and docs/tflite.md).

NHWC in the file becomes CHW: weights are permuted, a fully connected layer reading a flattened
NHWC tensor gets its columns permuted to CHW order, SAME padding becomes explicit
`[top, bottom, left, right]`. RESHAPE (with the int32 shape arithmetic feeding it) and QUANTIZE/DEQUANTIZE at the model's edges
are folded.
Every layer records `tflite_op` (operator index) and `tflite_tensor` (its output tensor index),
which is how the TFLM reference maps its preserved tensors to hil's layers.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from golden.artifact import INPUT
from .errors import TfliteError, UnsupportedOp
from .reader import Operator, Tensor, TfliteModel
from . import tflm_params as tp

SUPPORTED = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "AVERAGE_POOL_2D", "MAX_POOL_2D", "ADD",
             "CONCATENATION", "RESHAPE", "MEAN", "PAD", "SOFTMAX", "QUANTIZE", "DEQUANTIZE")


@dataclass
class Graph:
    """What the conversion knows about each TFLite tensor as it walks the operators."""
    model: TfliteModel
    names: dict[int, str] = field(default_factory=dict)          # tensor -> hil tensor name
    shapes: dict[int, list[int]] = field(default_factory=dict)   # tensor -> CHW (or [N]) shape
    nhwc: dict[int, tuple[int, int, int]] = field(default_factory=dict)   # flat data in NHWC order
    layers: list[dict] = field(default_factory=list)
    input_q: Tensor | None = None        # the tensor whose quantization the device input has
    output_q: Tensor | None = None

    def t(self, i: int) -> Tensor:
        return self.model.tensor(i)

    def name(self, op: Operator, i: int) -> str:
        if i not in self.names:
            raise TfliteError(f"{self.model.path}: operator {op.index} ({op.op}) reads tensor "
                              f"'{self.t(i).name}', which no supported operator wrote")
        return self.names[i]


def chw(shape: tuple[int, ...]) -> list[int]:
    """A TFLite activation shape (batch 1) as hil's: NHWC -> [C, H, W], [1, N] -> [N]."""
    s = list(shape)
    if s and s[0] == 1:
        s = s[1:]
    if len(s) == 3:
        return [s[2], s[0], s[1]]
    if len(s) == 2:            # [H, W] without channels (a 3-D model input): one channel
        return [1, s[0], s[1]]
    return s


def _refuse(g: Graph, op: Operator, why: str) -> UnsupportedOp:
    out = g.t(op.outputs[0]).name if op.outputs else "?"
    return UnsupportedOp(f"{g.model.path.name}: operator {op.index} {op.op} (output tensor '{out}'): {why}")


def _int8(g: Graph, op: Operator, *tensors: int) -> None:
    for i in tensors:
        t = g.t(i)
        if t.type != "int8" or not t.quantized:
            raise _refuse(g, op, f"tensor '{t.name}' is {t.type}{'' if t.quantized else ' unquantized'}; "
                                 f"hil imports int8 models (full-integer quantization)")
        if len(t.scales) != 1:
            raise _refuse(g, op, f"activation tensor '{t.name}' has per-channel quantization")


def _const(g: Graph, op: Operator, i: int, what: str) -> np.ndarray:
    t = g.t(i)
    if t.data is None:
        raise _refuse(g, op, f"{what} '{t.name}' is not a constant")
    return t.data


def _base(g: Graph, op: Operator, hil_op: str, inputs: list[int]) -> dict:
    out = op.outputs[0]
    name = f"{hil_op}_{op.index}"
    return dict(name=name, op=hil_op, inputs=[g.name(op, i) for i in inputs],
                in_shape=list(g.shapes[inputs[0]]), out_shape=chw(g.t(out).shape),
                tflite_op=op.index, tflite_tensor=out)


def _requant(g: Graph, op: Operator, x: int, out: int) -> dict:
    ti, to = g.t(x), g.t(out)
    lo, hi = tp.activation_range(op.options.activation, to.scale, to.zero_point)
    return dict(input_zp=ti.zero_point, output_zp=to.zero_point, act_min=lo, act_max=hi,
                input_scale=ti.scale, output_scale=to.scale, relu=op.options.activation != "NONE")


def _padding(g: Graph, op: Operator, in_hw, kernel, stride, dilation=(1, 1)) -> list[int]:
    """[ph, pw] when symmetric (what every engine ran before), else [top, bottom, left, right]."""
    if op.options.padding == "VALID":
        return [0, 0]
    if op.options.padding != "SAME":
        raise _refuse(g, op, f"padding {op.options.padding}")
    top, bottom = tp.same_padding(in_hw[0], kernel[0], stride[0], dilation[0])
    left, right = tp.same_padding(in_hw[1], kernel[1], stride[1], dilation[1])
    return [top, left] if (top, left) == (bottom, right) else [top, bottom, left, right]


def _activation_ok(g: Graph, op: Operator) -> None:
    if op.options.activation not in ("NONE", "RELU", "RELU6", "RELU_N1_TO_1"):
        raise _refuse(g, op, f"fused activation {op.options.activation}")


def conv_2d(g: Graph, op: Operator) -> dict:
    x, w, out = op.inputs[0], op.inputs[1], op.outputs[0]
    b = op.inputs[2] if len(op.inputs) > 2 else -1
    _int8(g, op, x, out)
    _activation_ok(g, op)
    if op.options.dilation != (1, 1):
        raise _refuse(g, op, f"dilation {op.options.dilation}")
    wt = _const(g, op, w, "filter")                        # [O, KH, KW, I]
    o, kh, kw, i = wt.shape
    c, h, wd = g.shapes[x]
    if i != c:
        raise _refuse(g, op, f"grouped convolution ({c} input channels, filter depth {i})")
    L = _base(g, op, "conv2d", [x])
    stride = list(op.options.stride)
    mult, shift = tp.conv_multipliers(g.t(x).scales[0], g.t(w).scales, g.t(out).scales[0], o)
    L.update(kernel=[kh, kw], stride=stride, padding=_padding(g, op, (h, wd), (kh, kw), stride),
             weights=wt.transpose(0, 3, 1, 2).reshape(-1).astype(int).tolist(), weights_shape=[o, i, kh, kw],
             bias=None if b < 0 else _const(g, op, b, "bias").astype(int).tolist(),
             multiplier=mult, shift=shift, weight_scale=[float(s) for s in g.t(w).scales],
             **_requant(g, op, x, out))
    L["macs"] = int(np.prod(L["out_shape"]) * i * kh * kw)
    return L


def depthwise_conv_2d(g: Graph, op: Operator) -> dict:
    x, w, out = op.inputs[0], op.inputs[1], op.outputs[0]
    b = op.inputs[2] if len(op.inputs) > 2 else -1
    _int8(g, op, x, out)
    _activation_ok(g, op)
    if op.options.dilation != (1, 1):
        raise _refuse(g, op, f"dilation {op.options.dilation}")
    wt = _const(g, op, w, "filter")                        # [1, KH, KW, C*M]
    _, kh, kw, cm = wt.shape
    c, h, wd = g.shapes[x]
    m = cm // c
    if m * c != cm:
        raise _refuse(g, op, f"filter depth {cm} is not a multiple of the {c} input channels")
    L = _base(g, op, "depthwise_conv2d", [x])
    stride = list(op.options.stride)
    mult, shift = tp.conv_multipliers(g.t(x).scales[0], g.t(w).scales, g.t(out).scales[0], cm)
    L.update(kernel=[kh, kw], stride=stride, padding=_padding(g, op, (h, wd), (kh, kw), stride),
             weights=wt.transpose(3, 0, 1, 2).reshape(-1).astype(int).tolist(), weights_shape=[cm, 1, kh, kw],
             depth_multiplier=m, bias=None if b < 0 else _const(g, op, b, "bias").astype(int).tolist(),
             multiplier=mult, shift=shift, weight_scale=[float(s) for s in g.t(w).scales],
             **_requant(g, op, x, out))
    L["macs"] = int(np.prod(L["out_shape"]) * kh * kw)
    return L


def fully_connected(g: Graph, op: Operator) -> dict:
    x, w, out = op.inputs[0], op.inputs[1], op.outputs[0]
    b = op.inputs[2] if len(op.inputs) > 2 else -1
    _int8(g, op, x, out)
    _activation_ok(g, op)
    if op.options.weights_format != 0:
        raise _refuse(g, op, "shuffled weights format")
    wt = _const(g, op, w, "weights")                       # [Out, In], In in the file's flatten order
    n_out, n_in = wt.shape
    if int(np.prod(g.shapes[x])) != n_in:
        raise _refuse(g, op, f"input of {int(np.prod(g.shapes[x]))} values, weights for {n_in} (batch > 1?)")
    if x in g.nhwc:      # the file flattened NHWC data: reorder the columns to hil's CHW flatten order
        hh, ww, cc = g.nhwc[x]
        wt = wt.reshape(n_out, hh, ww, cc).transpose(0, 3, 1, 2).reshape(n_out, n_in)
    L = _base(g, op, "fully_connected", [x])
    mult, shift = tp.fc_multipliers(g.t(x).scales[0], g.t(w).scales, g.t(out).scales[0], n_out)
    L.update(weights=wt.reshape(-1).astype(int).tolist(), weights_shape=[n_out, n_in],
             bias=None if b < 0 else _const(g, op, b, "bias").astype(int).tolist(),
             multiplier=mult, shift=shift, weight_scale=[float(s) for s in g.t(w).scales],
             **_requant(g, op, x, out))
    L["out_shape"] = [n_out]
    L["macs"] = int(n_out * n_in)
    return L


def _pool(g: Graph, op: Operator, hil_op: str) -> dict:
    x, out = op.inputs[0], op.outputs[0]
    _int8(g, op, x, out)
    _activation_ok(g, op)
    ti, to = g.t(x), g.t(out)
    if (ti.scale, ti.zero_point) != (to.scale, to.zero_point):
        raise _refuse(g, op, "input and output quantization differ (TFLite int8 pooling keeps them equal)")
    c, h, w = g.shapes[x]
    kernel, stride = list(op.options.filter), list(op.options.stride)
    L = _base(g, op, hil_op, [x])
    lo, hi = tp.activation_range(op.options.activation, to.scale, to.zero_point)
    L.update(kernel=kernel, stride=stride, padding=_padding(g, op, (h, w), kernel, stride),
             input_zp=ti.zero_point, output_zp=to.zero_point, act_min=lo, act_max=hi, macs=0)
    return L


def average_pool_2d(g: Graph, op: Operator) -> dict:
    return _pool(g, op, "avgpool2d")


def max_pool_2d(g: Graph, op: Operator) -> dict:
    return _pool(g, op, "maxpool2d")


def add(g: Graph, op: Operator) -> dict:
    a, b, out = op.inputs[0], op.inputs[1], op.outputs[0]
    _int8(g, op, a, b, out)
    _activation_ok(g, op)
    if g.shapes[a] != g.shapes[b]:
        raise _refuse(g, op, f"broadcasting add ({g.shapes[a]} + {g.shapes[b]})")
    ta, tb, to = g.t(a), g.t(b), g.t(out)
    L = _base(g, op, "add", [a, b])
    lo, hi = tp.activation_range(op.options.activation, to.scale, to.zero_point)
    L.update(input_zps=[ta.zero_point, tb.zero_point], input_scales=[ta.scale, tb.scale],
             output_zp=to.zero_point, output_scale=to.scale, act_min=lo, act_max=hi,
             input_zp=ta.zero_point, relu=op.options.activation != "NONE", macs=0,
             **tp.add_params(ta.scales[0], tb.scales[0], to.scales[0]))
    return L


def concatenation(g: Graph, op: Operator) -> dict:
    out = op.outputs[0]
    _int8(g, op, out, *op.inputs)
    rank = len(g.t(out).shape)
    axis = op.options.axis % rank
    if rank != 4 or axis != 3:
        raise _refuse(g, op, f"concatenation on axis {op.options.axis} of a rank-{rank} tensor "
                             f"(hil concatenates channels of NHWC tensors)")
    to = g.t(out)
    for i in op.inputs:
        if (g.t(i).scale, g.t(i).zero_point) != (to.scale, to.zero_point):
            raise _refuse(g, op, f"input '{g.t(i).name}' has other quantization than the output "
                                 f"(TFLite int8 concatenation needs them equal)")
    L = _base(g, op, "concat", list(op.inputs))
    n = len(op.inputs)
    lo, hi = tp.activation_range(op.options.activation, to.scale, to.zero_point)
    # equal scales: multiplier 2^30 with shift 1 is the identity requantization
    L.update(input_zps=[to.zero_point] * n, input_multipliers=[1 << 30] * n, input_shifts=[1] * n,
             output_zp=to.zero_point, act_min=lo, act_max=hi, identity=True, macs=0)
    return L


def mean(g: Graph, op: Operator) -> dict:
    x, axes_t, out = op.inputs[0], op.inputs[1], op.outputs[0]
    _int8(g, op, x, out)
    axes = sorted(int(a) % 4 for a in np.asarray(_const(g, op, axes_t, "axes")).reshape(-1))
    if len(g.t(x).shape) != 4 or axes != [1, 2]:
        raise _refuse(g, op, f"MEAN over axes {axes} (hil takes the mean over H and W of an NHWC tensor)")
    ti, to = g.t(x), g.t(out)
    c = g.shapes[x][0]
    L = _base(g, op, "mean", [x])
    m, s = tp.mean_params(ti.scales[0], to.scales[0])
    L.update(out_shape=[c, 1, 1], input_zp=ti.zero_point, output_zp=to.zero_point, multiplier=[m], shift=[s],
             input_scale=ti.scale, output_scale=to.scale, macs=0)
    return L


def pad(g: Graph, op: Operator) -> dict:
    x, p, out = op.inputs[0], op.inputs[1], op.outputs[0]
    _int8(g, op, x, out)
    pads = np.asarray(_const(g, op, p, "paddings")).reshape(-1, 2)
    if pads.shape[0] != 4 or pads[0].any() or pads[3].any():
        raise _refuse(g, op, f"padding {pads.tolist()} (hil pads H and W of an NHWC tensor, not batch or channels)")
    ti, to = g.t(x), g.t(out)
    if (ti.scale, ti.zero_point) != (to.scale, to.zero_point):
        raise _refuse(g, op, "input and output quantization differ")
    L = _base(g, op, "pad", [x])
    L.update(pads=[int(pads[1, 0]), int(pads[1, 1]), int(pads[2, 0]), int(pads[2, 1])],
             input_zp=ti.zero_point, output_zp=to.zero_point, macs=0)
    return L


def softmax(g: Graph, op: Operator) -> dict:
    x, out = op.inputs[0], op.outputs[0]
    _int8(g, op, x, out)
    ti, to = g.t(x), g.t(out)
    if to.zero_point != -128 or abs(to.scale - 1 / 256) > 1e-9:
        raise _refuse(g, op, f"output scale {to.scale} / zero point {to.zero_point} (TFLite int8 softmax "
                             f"has 1/256 and -128)")
    shape = g.shapes[x]
    if len(shape) != 1:
        raise _refuse(g, op, f"softmax over a {len(shape)}-D tensor {shape} (hil: a vector of classes)")
    try:
        params = tp.softmax_params(op.options.beta, ti.scales[0])
    except ValueError as exc:            # beta * input scale too small for TFLM's multiplier
        raise _refuse(g, op, str(exc)) from None
    L = _base(g, op, "softmax", [x])
    L.update(input_scale=ti.scale, input_zp=ti.zero_point, beta=op.options.beta, output_scale=to.scale,
             output_zp=to.zero_point, macs=0, **params)
    return L


CONVERTERS = {"CONV_2D": conv_2d, "DEPTHWISE_CONV_2D": depthwise_conv_2d, "FULLY_CONNECTED": fully_connected,
              "AVERAGE_POOL_2D": average_pool_2d, "MAX_POOL_2D": max_pool_2d, "ADD": add,
              "CONCATENATION": concatenation, "MEAN": mean, "PAD": pad, "SOFTMAX": softmax}


def _reshape(g: Graph, op: Operator) -> None:
    """A RESHAPE that flattens (to [1, N]) is a no-op on hil's flat memory; it is folded."""
    x, out = op.inputs[0], op.outputs[0]
    src, dst = g.t(x).shape, g.t(out).shape
    n = int(np.prod(src))
    if not (len(dst) == 2 and dst[0] == 1) and chw(dst) != g.shapes[x]:
        raise _refuse(g, op, f"reshape {list(src)} -> {list(dst)} (hil folds only a flatten to [1, N])")
    g.names[out] = g.name(op, x)
    g.shapes[out] = [n] if len(dst) == 2 else g.shapes[x]
    if len(src) == 4 and src[1] * src[2] > 1 and src[3] > 1:
        g.nhwc[out] = (src[1], src[2], src[3])
    elif x in g.nhwc:
        g.nhwc[out] = g.nhwc[x]


def _edges(g: Graph) -> list[Operator]:
    """Fold QUANTIZE after a float input and DEQUANTIZE before a float output; the rest is returned."""
    m = g.model
    if len(m.inputs) != 1 or len(m.outputs) != 1:
        raise TfliteError(f"{m.path.name}: {len(m.inputs)} inputs and {len(m.outputs)} outputs; hil imports "
                          f"models with one input and one output")
    ops = list(m.operators)
    x = m.inputs[0]
    if ops and ops[0].op == "QUANTIZE" and ops[0].inputs[0] == x and g.t(x).type == "float32":
        x = ops.pop(0).outputs[0]
    y = m.outputs[0]
    if ops and ops[-1].op == "DEQUANTIZE" and ops[-1].outputs[0] == y:
        y = ops.pop().inputs[0]
    ti = g.t(x)
    if ti.type != "int8" or not ti.quantized:
        raise TfliteError(f"{m.path.name}: model input '{ti.name}' is {ti.type}, not int8 (convert with "
                          f"inference_input_type=tf.int8, or a float input followed by QUANTIZE)")
    g.input_q, g.output_q = ti, g.t(y)
    g.names[x] = INPUT
    g.shapes[x] = chw(ti.shape)
    return ops


# int32 shape arithmetic Keras 3 emits for a Flatten with a dynamic batch (SHAPE -> STRIDED_SLICE -> PACK
# -> RESHAPE's shape input): folded with the RESHAPE it feeds, whose output shape the file states
SHAPE_OPS = ("SHAPE", "STRIDED_SLICE", "PACK", "CONCATENATION", "GATHER", "SLICE", "CAST")


def _shape_only(model: TfliteModel, ops: list[Operator]) -> set[int]:
    """Operators whose int32 outputs feed only RESHAPE shape inputs (directly or through each other)."""
    consumers: dict[int, list[tuple[Operator, int]]] = {}
    for op in ops:
        for pos, t in enumerate(op.inputs):
            consumers.setdefault(t, []).append((op, pos))
    found: set[int] = set()
    for op in reversed(ops):
        if op.op not in SHAPE_OPS or not op.outputs:
            continue
        if any(model.tensor(t).type != "int32" or t in model.outputs for t in op.outputs):
            continue
        uses = [c for t in op.outputs for c in consumers.get(t, [])]
        if uses and all((c.op == "RESHAPE" and pos == 1) or c.index in found for c, pos in uses):
            found.add(op.index)
    return found


def convert(model: TfliteModel) -> Graph:
    """Every operator of the file as hil layers, in the file's (topological) order."""
    g = Graph(model)
    ops = _edges(g)
    skip = _shape_only(model, ops)
    for op in ops:
        if op.index in skip:
            continue
        if op.op == "RESHAPE":
            _reshape(g, op)
            continue
        if op.op not in CONVERTERS:
            where = "not at the model's edge" if op.op in ("QUANTIZE", "DEQUANTIZE") else "not supported"
            raise _refuse(g, op, f"{where}; hil imports {', '.join(SUPPORTED)}")
        L = CONVERTERS[op.op](g, op)
        g.layers.append(L)
        g.names[op.outputs[0]] = L["name"]
        g.shapes[op.outputs[0]] = L["out_shape"]
    if not g.layers:
        raise TfliteError(f"{model.path.name}: no operators to import")
    if g.output_q is None or g.names.get(g.output_q.index) != g.layers[-1]["name"]:
        raise TfliteError(f"{model.path.name}: the model output is not written by its last operator")
    if g.output_q.type != "int8":
        raise TfliteError(f"{model.path.name}: model output '{g.output_q.name}' is {g.output_q.type}, not int8")
    return g
