"""Integer kernels of the simulator (numpy), one function per on-device kernel.

Names follow `<op>_<dtype>`: the C firmware implements `hil_<op>_<dtype>()`
and the HLS code `hil::<op>_<dtype>()` with the same semantics. Tensors are
CHW without a batch dimension; inputs hold int8 (or, for the shift scheme,
wider integers) in int64 arrays. Accumulation is int32, checked.
"""
from __future__ import annotations

import numpy as np

from .arith import (avgpool_round, check_int32, floor_shift, requantize_to_int8)


def _patches(x: np.ndarray, kernel, stride, padding, pad_value: int) -> np.ndarray:
    """CHW input -> [C, KH, KW, OH, OW] sliding windows (padded with pad_value)."""
    kh, kw = kernel
    sh, sw = stride
    ph, pw = padding
    c, h, w = x.shape
    xp = np.full((c, h + 2 * ph, w + 2 * pw), pad_value, dtype=np.int64)
    xp[:, ph:ph + h, pw:pw + w] = x
    oh = (h + 2 * ph - kh) // sh + 1
    ow = (w + 2 * pw - kw) // sw + 1
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
    """int32 accumulators of a depthwise convolution (depth multiplier 1)."""
    p = _patches(np.asarray(x, np.int64), kernel, stride, padding, input_zp) - input_zp
    w = np.asarray(weights, np.int64)[:, 0]                 # [C, KH, KW]
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


def maxpool2d(x, L: dict) -> np.ndarray:
    """Max pooling; valid for any integer scheme (scale and zero point unchanged)."""
    x = np.asarray(x, np.int64)
    if L.get("global"):
        return x.max(axis=(1, 2), keepdims=True)
    # padding is never used by our models; the window ignores partial edges (floor mode)
    p = _patches(x, L["kernel"], L["stride"], (0, 0), 0)
    return p.max(axis=(1, 2))


def avgpool2d_s8(x, L: dict) -> np.ndarray:
    x = np.asarray(x, np.int64)
    kh, kw = L["kernel"]
    p = _patches(x, L["kernel"], L["stride"], (0, 0), 0)
    return avgpool_round(p.sum(axis=(1, 2)), kh * kw)


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
    ("shift", "conv2d"): conv2d_shift,
    ("shift", "depthwise_conv2d"): depthwise_conv2d_shift,
    ("shift", "fully_connected"): fully_connected_shift,
    ("shift", "maxpool2d"): maxpool2d,
}
