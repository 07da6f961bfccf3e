"""Integer kernels of the simulator (numpy), one function per on-device kernel.

Names follow `<op>_<dtype>`: the C firmware implements `hil_<op>_<dtype>()`
and the HLS code `hil::<op>_<dtype>()` with the same semantics. Tensors are
CHW without a batch dimension; inputs hold int8 (or, for the shift scheme,
wider integers) in int64 arrays. Accumulation is int32, checked.
"""
from __future__ import annotations

import numpy as np

from .arith import (avgpool_round, check_int32, floor_shift, mean_requant_params,
                    requantize, requantize_to_int8, softmax_row)
from .padding import pad4


def _patches(x: np.ndarray, kernel, stride, padding, pad_value: int) -> np.ndarray:
    """CHW input -> [C, KH, KW, OH, OW] sliding windows (padded with pad_value).

    `padding` is (top, bottom, left, right) or a symmetric (ph, pw)."""
    kh, kw = kernel
    sh, sw = stride
    top, bottom, left, right = pad4({"padding": padding})
    c, h, w = x.shape
    xp = np.full((c, h + top + bottom, w + left + right), pad_value, dtype=np.int64)
    xp[:, top:top + h, left:left + w] = x
    oh = (h + top + bottom - kh) // sh + 1
    ow = (w + left + right - kw) // sw + 1
    win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(1, 2))
    # win: [C, H', W', KH, KW] -> take strided output positions
    win = win[:, ::sh, ::sw][:, :oh, :ow]
    return np.ascontiguousarray(win.transpose(0, 3, 4, 1, 2))


def conv2d_acc(x, weights, bias, kernel, stride, padding, input_zp: int = 0,
               where: str = "conv2d") -> np.ndarray:
    """int32 accumulators of a dense convolution: sum((x - zp) * w) + bias.

    Padding contributes zero (padded with the input zero point), as in TFLM.
    """
    p = _patches(np.asarray(x, np.int64), kernel, stride, padding, input_zp) - input_zp
    w = np.asarray(weights, np.int64)                       # [Cout, Cin, KH, KW]
    acc = np.einsum("cijhw,ocij->ohw", p, w, optimize=True)
    if bias is not None:
        acc = acc + np.asarray(bias, np.int64)[:, None, None]
    return check_int32(acc, where)


def depthwise_conv2d_acc(x, weights, bias, kernel, stride, padding, input_zp: int = 0,
                         where: str = "depthwise_conv2d") -> np.ndarray:
    """int32 accumulators of a depthwise convolution; with weights [C*M, 1, KH, KW]
    (depth multiplier M) output channel oc reads input channel oc // M."""
    p = _patches(np.asarray(x, np.int64), kernel, stride, padding, input_zp) - input_zp
    w = np.asarray(weights, np.int64)[:, 0]                 # [C*M, KH, KW]
    if w.shape[0] != p.shape[0]:
        p = p[np.arange(w.shape[0]) // (w.shape[0] // p.shape[0])]
    acc = np.einsum("cijhw,cij->chw", p, w, optimize=True)
    if bias is not None:
        acc = acc + np.asarray(bias, np.int64)[:, None, None]
    return check_int32(acc, where)


def fully_connected_acc(x, weights, bias, input_zp: int = 0,
                        where: str = "fully_connected") -> np.ndarray:
    """int32 accumulators of a fully connected layer over the flattened CHW input."""
    v = np.asarray(x, np.int64).reshape(-1) - input_zp
    acc = np.asarray(weights, np.int64) @ v
    if bias is not None:
        acc = acc + np.asarray(bias, np.int64)
    return check_int32(acc, where)


def _per_channel(values, ndim: int) -> np.ndarray:
    a = np.asarray(values, np.int64)
    return a.reshape((-1,) + (1,) * (ndim - 1))


def conv2d_s8(x, L: dict) -> np.ndarray:
    acc = conv2d_acc(x, L["w"], L["bias"], L["kernel"], L["stride"], L["padding"],
                     L["input_zp"], L["name"])
    return requantize_to_int8(acc, _per_channel(L["multiplier"], 3), _per_channel(L["shift"], 3),
                              L["output_zp"], L["act_min"], L["act_max"])


def depthwise_conv2d_s8(x, L: dict) -> np.ndarray:
    acc = depthwise_conv2d_acc(x, L["w"], L["bias"], L["kernel"], L["stride"], L["padding"],
                               L["input_zp"], L["name"])
    return requantize_to_int8(acc, _per_channel(L["multiplier"], 3), _per_channel(L["shift"], 3),
                              L["output_zp"], L["act_min"], L["act_max"])


def fully_connected_s8(x, L: dict) -> np.ndarray:
    acc = fully_connected_acc(x, L["w"], L["bias"], L["input_zp"], L["name"])
    return requantize_to_int8(acc, np.asarray(L["multiplier"], np.int64),
                              np.asarray(L["shift"], np.int64),
                              L["output_zp"], L["act_min"], L["act_max"])


def _pool_windows(x: np.ndarray, L: dict):
    """[C, KH, KW, OH, OW] windows of a pooling layer and the mask of its unpadded cells."""
    pads = pad4(L)
    win = _patches(x, L["kernel"], L["stride"], pads, 0)
    valid = _patches(np.ones((1,) + x.shape[1:], np.int64), L["kernel"], L["stride"], pads, 0)
    return win, valid.astype(bool)


def maxpool2d(x, L: dict) -> np.ndarray:
    """Max pooling; valid for any integer scheme (scale and zero point unchanged).
    Padded cells take no part (TFLM); without padding partial edge windows are dropped."""
    x = np.asarray(x, np.int64)
    if L.get("global"):
        return x.max(axis=(1, 2), keepdims=True)
    win, valid = _pool_windows(x, L)
    return np.where(valid, win, np.iinfo(np.int64).min).max(axis=(1, 2))


def avgpool2d_s8(x, L: dict) -> np.ndarray:
    """TFLM int8 average pooling: the sum of the unpadded cells of each window divided
    (rounded half away from zero) by their count."""
    win, valid = _pool_windows(np.asarray(x, np.int64), L)
    return avgpool_round(win.sum(axis=(1, 2)), valid.sum(axis=(1, 2)))


def softmax_s8(x, L: dict) -> np.ndarray:
    """TFLM int8 SOFTMAX over the classes: the last axis of a vector, the channels of a
    CHW tensor (TFLite's last, NHWC, axis); out scale 1/256, zero point -128."""
    x = np.asarray(x, np.int64)
    rows = x.reshape(x.shape[0], -1).T if x.ndim == 3 else x.reshape(-1, x.shape[-1])
    out = np.stack([softmax_row(r, L["input_multiplier"], L["input_left_shift"], L["diff_min"])
                    for r in rows])
    return out.T.reshape(x.shape) if x.ndim == 3 else out.reshape(x.shape)


def mean_s8(x, L: dict) -> np.ndarray:
    """TFLM int8 MEAN over H and W (keep_dims): int32 sum minus zp * count, requantized
    by (multiplier, shift) of input_scale / output_scale with 1/count folded in."""
    x = np.asarray(x, np.int64)
    count = x.shape[1] * x.shape[2]
    total = check_int32(x.sum(axis=(1, 2)) - L["input_zp"] * count, L["name"])
    m, sh = mean_requant_params(int(L["multiplier"][0]), int(L["shift"][0]), count)
    out = requantize_to_int8(total, m, sh, L["output_zp"])
    return out.reshape(-1, 1, 1)


def pad_s8(x, L: dict) -> np.ndarray:
    """TFLite PAD on H and W: new cells hold the zero point (the value 0)."""
    x = np.asarray(x, np.int64)
    top, bottom, left, right = (int(v) for v in L["pads"])
    return np.pad(x, ((0, 0), (top, bottom), (left, right)), constant_values=L["output_zp"])


def grouped_conv2d_s8(x, L: dict) -> np.ndarray:
    """Grouped convolution: group g reads input channels [g*Cin/G, (g+1)*Cin/G) and
    writes output channels [g*Cout/G, (g+1)*Cout/G); weights [Cout, Cin/G, KH, KW].
    In CHW each group is a contiguous dense convolution."""
    x = np.asarray(x, np.int64)
    groups = L["groups"]
    cin_g, cout_g = x.shape[0] // groups, L["w"].shape[0] // groups
    outs = []
    for g in range(groups):
        oc = slice(g * cout_g, (g + 1) * cout_g)
        bias = None if L["bias"] is None else L["bias"][oc]
        acc = conv2d_acc(x[g * cin_g:(g + 1) * cin_g], L["w"][oc], bias, L["kernel"], L["stride"],
                         L["padding"], L["input_zp"], L["name"])
        outs.append(requantize_to_int8(acc, _per_channel(L["multiplier"][oc], 3),
                                       _per_channel(L["shift"][oc], 3),
                                       L["output_zp"], L["act_min"], L["act_max"]))
    return np.concatenate(outs, axis=0)


def add_s8(xs, L: dict) -> np.ndarray:
    """TFLite Micro ADD (int8): each input minus its zero point, shifted left by
    left_shift, rescaled by its (multiplier, shift); the int32 sum rescaled by the
    output (multiplier, shift), plus the output zero point, clamped."""
    total = 0
    for x, zp, m, sh in zip(xs, L["input_zps"], L["input_multipliers"], L["input_shifts"]):
        v = (np.asarray(x, np.int64) - zp) * (np.int64(1) << L["left_shift"])
        total = total + requantize(v, m, sh)
    total = check_int32(total, L["name"])
    return requantize_to_int8(total, L["multiplier"][0], L["shift"][0], L["output_zp"],
                              L["act_min"], L["act_max"])


def concat_s8(xs, L: dict) -> np.ndarray:
    """Concatenation on channels; input i requantized to the output scale:
    requantize(x - zp_i, multiplier_i, shift_i) + output_zp, clamped to int8."""
    parts = [requantize_to_int8(np.asarray(x, np.int64) - zp, m, sh, L["output_zp"],
                                L["act_min"], L["act_max"])
             for x, zp, m, sh in zip(xs, L["input_zps"], L["input_multipliers"], L["input_shifts"])]
    return np.concatenate(parts, axis=0)


def channel_shuffle(x, L: dict) -> np.ndarray:
    """ShuffleNet channel shuffle: output channel j*G + g is input channel g*(C/G) + j."""
    x = np.asarray(x, np.int64)
    c, h, w = x.shape
    g = L["groups"]
    return x.reshape(g, c // g, h, w).transpose(1, 0, 2, 3).reshape(c, h, w)


def channel_slice(x, L: dict) -> np.ndarray:
    """Channels [start, start + length) of a CHW tensor (channel split)."""
    return np.asarray(x, np.int64)[L["start"]:L["start"] + L["length"]]


def _shift_epilogue(acc, L):
    out = floor_shift(acc, L["rshift"])
    return np.maximum(out, 0) if L["relu"] else out


def conv2d_shift(x, L: dict) -> np.ndarray:
    acc = conv2d_acc(x, L["w"], L["bias"], L["kernel"], L["stride"], L["padding"], 0, L["name"])
    return _shift_epilogue(acc, L)


def depthwise_conv2d_shift(x, L: dict) -> np.ndarray:
    acc = depthwise_conv2d_acc(x, L["w"], L["bias"], L["kernel"], L["stride"], L["padding"],
                               0, L["name"])
    return _shift_epilogue(acc, L)


def fully_connected_shift(x, L: dict) -> np.ndarray:
    return _shift_epilogue(fully_connected_acc(x, L["w"], L["bias"], 0, L["name"]), L)


KERNELS = {
    ("int8", "conv2d"): conv2d_s8,
    ("int8", "depthwise_conv2d"): depthwise_conv2d_s8,
    ("int8", "fully_connected"): fully_connected_s8,
    ("int8", "maxpool2d"): maxpool2d,
    ("int8", "avgpool2d"): avgpool2d_s8,
    ("int8", "grouped_conv2d"): grouped_conv2d_s8,
    ("int8", "add"): add_s8,
    ("int8", "concat"): concat_s8,
    ("int8", "channel_shuffle"): channel_shuffle,
    ("int8", "channel_slice"): channel_slice,
    ("int8", "softmax"): softmax_s8,
    ("int8", "mean"): mean_s8,
    ("int8", "pad"): pad_s8,
    ("shift", "conv2d"): conv2d_shift,
    ("shift", "depthwise_conv2d"): depthwise_conv2d_shift,
    ("shift", "fully_connected"): fully_connected_shift,
    ("shift", "maxpool2d"): maxpool2d,
}

# kernels that take the list of their input tensors (the others take one tensor)
MULTI_INPUT = ("add", "concat")

# fields the TFLM ops read, checked when an artifact is loaded into the simulator
REQUIRED_FIELDS = {"softmax": ("input_multiplier", "input_left_shift", "diff_min"),
                   "mean": ("input_zp", "output_zp", "multiplier", "shift"),
                   "pad": ("pads", "output_zp")}
