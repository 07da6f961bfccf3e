"""hil's int8 artifacts as `.tflite` files that TensorFlow Lite Micro runs.

Layout: hil is CHW, TFLite NHWC (batch 1): activations [1, H, W, C], conv
filters [O, KH, KW, I], depthwise filters [1, KH, KW, C*M], fully connected
weights [O, I] with the columns permuted from hil's CHW flatten order to NHWC's.
Padding TFLite's SAME reproduces is written as SAME; any other (PyTorch's
symmetric padding with stride 2, or 4-value padding) becomes a PAD op (pad
value = zero point) before a VALID convolution. hil's concat requantizes its
inputs; TFLite's CONCATENATION needs equal scales, so an input whose scale or
zero point differs goes through a QUANTIZE (int8 -> int8) first. Channel
shuffle is RESHAPE + TRANSPOSE + RESHAPE, channel slice STRIDED_SLICE.

TFLM derives every requantization multiplier from the float32 scales of the
file. hil's artifacts store float32 scales and multipliers derived from them
the same way (golden.tflite.tflm_params, shared by quantizer, importer and this
exporter), so the file carries the artifact's own scales and the exporter checks
that every parameter TFLM will derive equals the artifact's: an artifact made
otherwise (quantized before hil stored float32 scales) is refused with one line,
never written as a file TFLM would run differently.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from golden.artifact import INPUT, chain_inputs
from golden.errors import ExportError, GoldenError  # noqa: F401 - ExportError re-exported
from golden.intsim.arith import INT8_MAX, INT8_MIN
from golden.intsim.padding import pad4
from golden.tflite import tflm_params as tp
from golden.tflite.tflm_params import f32



def _schema():
    try:
        from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as s
        import flatbuffers
    except ImportError:
        raise ExportError("`.tflite` export needs the tflite-micro package (pip install tflite-micro)") from None
    return s, flatbuffers


@dataclass
class ScaleReport:
    """The requantization parameters TFLM derives from the file, each checked equal to the artifact's."""
    multipliers: int = 0          # per-channel and per-op (multiplier, shift) pairs checked

    def check(self, layer: str, what: str, got, want) -> None:
        got, want = tuple(int(v) for v in got), tuple(int(v) for v in want)
        if got != want:
            raise ExportError(f"layer '{layer}': {what} {want} is not what TFLite Micro derives from the "
                              f"artifact's float32 scales {got}; re-quantize the model with `hil golden build` "
                              f"(artifacts made before hil stored float32 scales)")
        self.multipliers += 1


@dataclass
class Exported:
    data: bytes                   # the .tflite flatbuffer
    scales: ScaleReport
    operators: list[str]          # TFLite builtin operator of each op, in order


def nhwc_shape(chw) -> list[int]:
    chw = list(chw)
    if len(chw) == 3:
        return [1, chw[1], chw[2], chw[0]]
    if len(chw) == 1:
        return [1, chw[0]]
    raise ExportError(f"tensor shape {chw} is neither CHW nor a vector")


def check_exportable(doc: dict) -> None:
    if doc.get("scheme") != "int8":
        raise ExportError(f"model '{doc.get('model')}' uses the {doc.get('scheme')} scheme (a right shift "
                          f"without a requantization multiplier, no zero points): TFLite has no such int8 "
                          f"arithmetic, only int8 models can be exported")


class _Flat:
    """The single subgraph under construction (object API of the flatbuffer schema)."""

    def __init__(self):
        self.s, self.fb = _schema()
        self.tensors, self.ops, self.codes, self.op_names = [], [], [], []
        self.buffers = [self.s.BufferT()]          # buffer 0: the empty buffer

    def tensor(self, name, shape, scale=None, zp=None, data=None, dtype="int8", qdim=0) -> int:
        s = self.s
        t = s.TensorT()
        t.name, t.shape = name, [int(v) for v in shape]
        t.type = s.TensorType.INT8 if dtype == "int8" else s.TensorType.INT32
        t.buffer = 0
        if data is not None:
            b = s.BufferT()
            b.data = np.ascontiguousarray(data, np.int8 if dtype == "int8" else np.int32).view(np.uint8).reshape(-1)
            self.buffers.append(b)
            t.buffer = len(self.buffers) - 1
        if scale is not None:
            q = s.QuantizationParametersT()
            q.scale = [f32(v) for v in np.atleast_1d(scale)]
            q.zeroPoint = [int(v) for v in np.atleast_1d(zp)]
            q.quantizedDimension = qdim
            t.quantization = q
        self.tensors.append(t)
        return len(self.tensors) - 1

    def const_i32(self, name, values) -> int:
        v = np.asarray(values, np.int32)
        return self.tensor(name, v.shape, data=v, dtype="int32")

    def op(self, code: str, ins, outs, options=None, options_type: str | None = None) -> None:
        s = self.s
        c = getattr(s.BuiltinOperator, code)
        if c not in self.codes:
            self.codes.append(c)
        o = s.OperatorT()
        o.opcodeIndex, o.inputs, o.outputs = self.codes.index(c), list(ins), list(outs)
        if options is not None:
            o.builtinOptionsType = getattr(s.BuiltinOptions, options_type)
            o.builtinOptions = options
        self.ops.append(o)
        self.op_names.append(code)

    def finish(self, inputs, outputs, description: str) -> bytes:
        s = self.s
        codes = []
        for c in self.codes:
            oc = s.OperatorCodeT()
            oc.builtinCode, oc.deprecatedBuiltinCode, oc.version = c, min(c, 127), 1
            codes.append(oc)
        g = s.SubGraphT()
        g.tensors, g.inputs, g.outputs, g.operators, g.name = self.tensors, inputs, outputs, self.ops, "main"
        m = s.ModelT()
        m.version, m.operatorCodes, m.subgraphs, m.buffers = 3, codes, [g], self.buffers
        m.description = description
        b = self.fb.Builder(1024)
        b.Finish(m.Pack(b), file_identifier=b"TFL3")
        return bytes(b.Output())


def _activation(s, L: dict, scale: float, zp: int) -> int:
    """The fused activation whose TFLM range (from the float32 output scale) is hil's clamp."""
    lo, hi = L.get("act_min", INT8_MIN), L.get("act_max", INT8_MAX)
    for name in ("NONE", "RELU", "RELU6"):
        if (lo, hi) == tp.activation_range(name, scale, zp):
            return getattr(s.ActivationFunctionType, name)
    raise ExportError(f"layer '{L['name']}': clamp [{lo}, {hi}] is none of TFLite's fused activations "
                      f"(NONE, RELU, RELU6) at output scale {scale} and zero point {zp}")


def _same_padding(in_hw, kernel, stride, out_hw):
    """(top, left) of TFLite SAME padding, or None if SAME gives another output size."""
    tl = []
    for n, k, st, o in zip(in_hw, kernel, stride, out_hw):
        if (n + st - 1) // st != o:
            return None
        tl.append(max((o - 1) * st + k - n, 0) // 2)
    return tuple(tl)


class _Exporter:
    def __init__(self, doc: dict):
        check_exportable(doc)
        self.doc = doc
        self.f = _Flat()
        self.s = self.f.s
        self.t: dict[str, int] = {}                  # hil tensor name -> tflite tensor index
        self.q: dict[str, tuple[float, int]] = {}    # hil tensor name -> (float32 scale, zero point)
        self.shape: dict[str, list[int]] = {}        # hil tensor name -> CHW shape
        self.report = ScaleReport()

    def act(self, name: str, chw, scale: float, zp: int) -> int:
        self.q[name], self.shape[name] = (f32(scale), int(zp)), list(chw)
        self.t[name] = self.f.tensor(name, nhwc_shape(chw), f32(scale), zp)
        return self.t[name]

    def run(self) -> Exported:
        d = self.doc
        x = self.act(INPUT, d["input"]["shape"], d["input"]["scale"], d["input"]["zero_point"])
        for L in chain_inputs(d["layers"]):
            handler = getattr(self, "op_" + L["op"], None)
            if handler is None:
                raise ExportError(f"layer '{L['name']}': op {L['op']} has no TFLite export")
            handler(L)
        out = self.t[d["layers"][-1]["name"]]
        data = self.f.finish([x], [out], f"hil export of {d.get('model')} ({d.get('hash', '')})")
        return Exported(data, self.report, self.f.op_names)

    # -- helpers
    def _padded_input(self, L: dict, kernel, stride):
        """(input tensor, TFLite padding) for a spatial layer, adding a PAD op when needed."""
        src = L["inputs"][0]
        c, h, w = self.shape[src]
        top, bottom, left, right = pad4(L)
        if (top, bottom, left, right) == (0, 0, 0, 0):
            return self.t[src], self.s.Padding.VALID
        if _same_padding((h, w), kernel, stride, L["out_shape"][1:]) == (top, left):
            return self.t[src], self.s.Padding.SAME
        if L["op"] in ("maxpool2d", "avgpool2d"):
            raise ExportError(f"layer '{L['name']}': pooling padding {[top, bottom, left, right]} is not "
                              f"TFLite's SAME padding for this shape")
        return self._pad(L["name"] + "/pad", src, (top, bottom, left, right)), self.s.Padding.VALID

    def _pad(self, name: str, src: str, pads) -> int:
        c, h, w = self.shape[src]
        top, bottom, left, right = pads
        scale, zp = self.q[src]
        paddings = self.f.const_i32(name + "/paddings", [[0, 0], [top, bottom], [left, right], [0, 0]])
        out = self.f.tensor(name, [1, h + top + bottom, w + left + right, c], scale, zp)
        self.f.op("PAD", [self.t[src], paddings], [out], self.s.PadOptionsT(), "PadOptions")
        return out

    def _weighted_scales(self, L: dict):
        """The artifact's per-channel float32 filter scales, checked: TFLM derives hil's multipliers."""
        s_in, s_out = self.q[L["inputs"][0]][0], f32(L["output_scale"])
        n = len(L["multiplier"])
        if "weight_scale" not in L:
            raise ExportError(f"layer '{L['name']}': no weight_scale in the artifact (a .tflite file needs "
                              f"the filter scales)")
        fs = [f32(v) for v in np.broadcast_to(np.asarray(L["weight_scale"], np.float64), (n,))]
        mults, shifts = tp.conv_multipliers(s_in, fs, s_out, n)
        for c, got in enumerate(zip(mults, shifts)):
            self.report.check(L["name"], f"channel {c} multiplier/shift", got, (L["multiplier"][c], L["shift"][c]))
        return fs, s_in

    def _bias(self, L: dict, fs, s_in) -> int:
        b = np.asarray(L["bias"] if L.get("bias") is not None else np.zeros(len(fs)), np.int64)
        return self.f.tensor(L["name"] + "/bias", [len(fs)], [s_in * v for v in fs], [0] * len(fs),
                             data=b.astype(np.int32), dtype="int32")

    # -- ops
    def op_conv2d(self, L):
        s = self.s
        x, padding = self._padded_input(L, L["kernel"], L["stride"])
        fs, s_in = self._weighted_scales(L)
        w = np.asarray(L["weights"], np.int64).reshape(L["weights_shape"]).transpose(0, 2, 3, 1)
        wt = self.f.tensor(L["name"] + "/filter", w.shape, fs, [0] * len(fs), data=w.astype(np.int8))
        out = self.act(L["name"], L["out_shape"], L["output_scale"], L["output_zp"])
        o = s.Conv2DOptionsT()
        o.padding, o.strideH, o.strideW = padding, L["stride"][0], L["stride"][1]
        o.dilationHFactor = o.dilationWFactor = 1
        o.fusedActivationFunction = _activation(s, L, *self.q[L["name"]])
        self.f.op("CONV_2D", [x, wt, self._bias(L, fs, s_in)], [out], o, "Conv2DOptions")

    def op_depthwise_conv2d(self, L):
        s = self.s
        x, padding = self._padded_input(L, L["kernel"], L["stride"])
        fs, s_in = self._weighted_scales(L)
        w = np.asarray(L["weights"], np.int64).reshape(L["weights_shape"])[:, 0].transpose(1, 2, 0)[None]
        wt = self.f.tensor(L["name"] + "/filter", w.shape, fs, [0] * len(fs), data=w.astype(np.int8), qdim=3)
        out = self.act(L["name"], L["out_shape"], L["output_scale"], L["output_zp"])
        o = s.DepthwiseConv2DOptionsT()
        o.padding, o.strideH, o.strideW = padding, L["stride"][0], L["stride"][1]
        o.depthMultiplier = L["weights_shape"][0] // self.shape[L["inputs"][0]][0]
        o.dilationHFactor = o.dilationWFactor = 1
        o.fusedActivationFunction = _activation(s, L, *self.q[L["name"]])
        self.f.op("DEPTHWISE_CONV_2D", [x, wt, self._bias(L, fs, s_in)], [out], o, "DepthwiseConv2DOptions")

    def op_fully_connected(self, L):
        s = self.s
        src = L["inputs"][0]
        fs, s_in = self._weighted_scales(L)
        w = np.asarray(L["weights"], np.int64).reshape(L["weights_shape"])
        shape = self.shape[src]
        if len(shape) == 3 and shape[1] * shape[2] > 1:     # CHW flatten order -> NHWC flatten order
            w = w.reshape(w.shape[0], *shape).transpose(0, 2, 3, 1).reshape(w.shape[0], -1)
        wt = self.f.tensor(L["name"] + "/weights", w.shape, fs, [0] * len(fs), data=w.astype(np.int8))
        out = self.act(L["name"], L["out_shape"], L["output_scale"], L["output_zp"])
        o = s.FullyConnectedOptionsT()
        o.fusedActivationFunction = _activation(s, L, *self.q[L["name"]])
        self.f.op("FULLY_CONNECTED", [self.t[src], wt, self._bias(L, fs, s_in)], [out], o,
                  "FullyConnectedOptions")

    def _pool(self, L, code):
        s = self.s
        c, h, w = self.shape[L["inputs"][0]]
        kernel, stride = ((h, w), (h, w)) if L.get("global") else (L["kernel"], L["stride"])
        x, padding = self._padded_input(dict(L, padding=[0, 0]) if L.get("global") else L, kernel, stride)
        out = self.act(L["name"], L["out_shape"], *self.q[L["inputs"][0]])
        o = s.Pool2DOptionsT()
        o.padding, o.strideH, o.strideW = padding, stride[0], stride[1]
        o.filterHeight, o.filterWidth = kernel
        o.fusedActivationFunction = s.ActivationFunctionType.NONE
        self.f.op(code, [x], [out], o, "Pool2DOptions")

    def op_maxpool2d(self, L):
        self._pool(L, "MAX_POOL_2D")

    def op_avgpool2d(self, L):
        if (L.get("act_min", INT8_MIN), L.get("act_max", INT8_MAX)) != (INT8_MIN, INT8_MAX):
            raise ExportError(f"layer '{L['name']}': average pooling with a clamp has no export")
        self._pool(L, "AVERAGE_POOL_2D")

    def op_add(self, L):
        s = self.s
        a, b = L["inputs"]
        if L["left_shift"] != tp.ADD_LEFT_SHIFT or [self.q[a][1], self.q[b][1]] != list(L["input_zps"]):
            raise ExportError(f"layer '{L['name']}': ADD parameters are not TFLite Micro's int8 ADD")
        p = tp.add_params(self.q[a][0], self.q[b][0], L["output_scale"], L["left_shift"])
        for i in range(2):
            self.report.check(L["name"], f"input {i} multiplier/shift", (p["input_multipliers"][i], p["input_shifts"][i]),
                              (L["input_multipliers"][i], L["input_shifts"][i]))
        self.report.check(L["name"], "output multiplier/shift", (p["multiplier"][0], p["shift"][0]),
                          (L["multiplier"][0], L["shift"][0]))
        out = self.act(L["name"], L["out_shape"], L["output_scale"], L["output_zp"])
        o = s.AddOptionsT()
        o.fusedActivationFunction = _activation(s, L, *self.q[L["name"]])
        self.f.op("ADD", [self.t[a], self.t[b]], [out], o, "AddOptions")

    def op_concat(self, L):
        s = self.s
        s_out, zp_out = f32(L["output_scale"]), int(L["output_zp"])
        ins = []
        for i, (src, m, sh) in enumerate(zip(L["inputs"], L["input_multipliers"], L["input_shifts"])):
            self.report.check(L["name"], f"input {i} multiplier/shift", tp.ratio_multiplier(self.q[src][0], s_out),
                              (m, sh))
            if self.q[src] == (s_out, zp_out):
                ins.append(self.t[src])
                continue
            q = self.f.tensor(f"{L['name']}/requant{i}", nhwc_shape(self.shape[src]), s_out, zp_out)
            self.f.op("QUANTIZE", [self.t[src]], [q], s.QuantizeOptionsT(), "QuantizeOptions")
            ins.append(q)
        out = self.act(L["name"], L["out_shape"], s_out, zp_out)
        o = s.ConcatenationOptionsT()
        o.axis = 3
        o.fusedActivationFunction = s.ActivationFunctionType.NONE
        self.f.op("CONCATENATION", ins, [out], o, "ConcatenationOptions")

    def op_channel_shuffle(self, L):
        s = self.s
        src = L["inputs"][0]
        c, h, w = self.shape[src]
        g = L["groups"]
        scale, zp = self.q[src]
        r1 = self.f.tensor(L["name"] + "/split", [1, h * w, g, c // g], scale, zp)
        self.f.op("RESHAPE", [self.t[src], self.f.const_i32(L["name"] + "/shape1", [1, h * w, g, c // g])],
                  [r1], s.ReshapeOptionsT(), "ReshapeOptions")
        tr = self.f.tensor(L["name"] + "/transposed", [1, h * w, c // g, g], scale, zp)
        self.f.op("TRANSPOSE", [r1, self.f.const_i32(L["name"] + "/perm", [0, 1, 3, 2])], [tr],
                  s.TransposeOptionsT(), "TransposeOptions")
        out = self.act(L["name"], L["out_shape"], scale, zp)
        self.f.op("RESHAPE", [tr, self.f.const_i32(L["name"] + "/shape2", [1, h, w, c])], [out],
                  s.ReshapeOptionsT(), "ReshapeOptions")

    def op_channel_slice(self, L):
        s = self.s
        src = L["inputs"][0]
        c, h, w = self.shape[src]
        begin = self.f.const_i32(L["name"] + "/begin", [0, 0, 0, L["start"]])
        end = self.f.const_i32(L["name"] + "/end", [1, h, w, L["start"] + L["length"]])
        strides = self.f.const_i32(L["name"] + "/strides", [1, 1, 1, 1])
        out = self.act(L["name"], L["out_shape"], *self.q[src])
        self.f.op("STRIDED_SLICE", [self.t[src], begin, end, strides], [out], s.StridedSliceOptionsT(),
                  "StridedSliceOptions")

    def op_softmax(self, L):
        s = self.s
        src = L["inputs"][0]
        try:
            p = tp.softmax_params(L["beta"], self.q[src][0])
        except ValueError as exc:
            raise ExportError(f"layer '{L['name']}': {exc}") from None
        self.report.check(L["name"], "input multiplier/left shift/diff_min",
                          (p["input_multiplier"], p["input_left_shift"], p["diff_min"]),
                          (L["input_multiplier"], L["input_left_shift"], L["diff_min"]))
        out = self.act(L["name"], L["out_shape"], 1.0 / 256, -128)
        o = s.SoftmaxOptionsT()
        o.beta = f32(L["beta"])
        self.f.op("SOFTMAX", [self.t[src]], [out], o, "SoftmaxOptions")

    def op_mean(self, L):
        s = self.s
        src = L["inputs"][0]
        self.report.check(L["name"], "multiplier/shift", tp.mean_params(self.q[src][0], L["output_scale"]),
                          (L["multiplier"][0], L["shift"][0]))
        out = self.act(L["name"], L["out_shape"], L["output_scale"], L["output_zp"])
        o = s.ReducerOptionsT()
        o.keepDims = True
        self.f.op("MEAN", [self.t[src], self.f.const_i32(L["name"] + "/axis", [1, 2])], [out], o,
                  "ReducerOptions")

    def op_pad(self, L):
        src = L["inputs"][0]
        if self.q[src][1] != L["output_zp"]:
            raise ExportError(f"layer '{L['name']}': PAD keeps the zero point ({self.q[src][1]} in, "
                              f"{L['output_zp']} out)")
        self.t[L["name"]] = self._pad(L["name"], src, L["pads"])
        self.q[L["name"]], self.shape[L["name"]] = self.q[src], list(L["out_shape"])


def export(doc: dict) -> Exported:
    """The artifact as a .tflite flatbuffer whose TFLM-derived parameters are the artifact's own."""
    return _Exporter(doc).run()
