"""Post-training int8 quantization in the TFLite Micro / CMSIS-NN style.

* weights: int8, symmetric, per output channel (range [-127, 127])
* biases: int32 with scale input_scale * weight_scale[c]
* activations: int8, asymmetric (scale, zero point) from min/max calibrated on
  training data; the range always contains 0 so zero is exact
* requantization: real multiplier input_scale * weight_scale / output_scale
  as a Q31 multiplier and a shift (golden.intsim.arith.quantize_multiplier)
* ReLU is fused as a clamp at the output zero point
* pooling keeps its input's scale and zero point
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from golden.graph import FloatLayer
from golden.intsim.arith import INT8_MAX, INT8_MIN, quantize_multiplier

WEIGHTED = ("conv2d", "depthwise_conv2d", "fully_connected")


def run_float_layers(layers: list[FloatLayer], x: torch.Tensor) -> list[torch.Tensor]:
    """Float forward pass over the extracted layers; returns every layer output."""
    outs = []
    t = x
    for L in layers:
        if L.op in WEIGHTED:
            if L.op == "fully_connected":
                t = t.flatten(1)
            t = L.module(t)
            if L.relu:
                t = F.relu(t)
        elif L.op == "maxpool2d":
            t = F.max_pool2d(t, L.attrs["kernel"], L.attrs["stride"])
        elif L.op == "avgpool2d":
            t = F.avg_pool2d(t, L.attrs["kernel"], L.attrs["stride"])
        outs.append(t)
    return outs


def activation_qparams(lo: float, hi: float) -> tuple[float, int]:
    """Asymmetric int8 (scale, zero_point) covering [lo, hi] and 0."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    if hi - lo < 1e-12:
        hi = lo + 1e-6
    scale = (hi - lo) / (INT8_MAX - INT8_MIN)
    zp = int(round(INT8_MIN - lo / scale))
    return float(scale), int(np.clip(zp, INT8_MIN, INT8_MAX))


def quantize_tensor(x: np.ndarray, scale: float, zp: int) -> np.ndarray:
    q = np.round(np.asarray(x, np.float64) / scale) + zp
    return np.clip(q, INT8_MIN, INT8_MAX).astype(np.int8)


def quantize_model(layers: list[FloatLayer], calib: torch.Tensor,
                   input_qparams: tuple[float, int] | None = None) -> tuple[dict, list[dict]]:
    """Calibrate on `calib` and return (input qparams dict, artifact layer dicts)."""
    with torch.no_grad():
        outs = run_float_layers(layers, calib)
    if input_qparams is None:
        input_qparams = activation_qparams(float(calib.min()), float(calib.max()))
    s_in, zp_in = input_qparams
    q_layers = []
    for L, out in zip(layers, outs):
        if L.op in WEIGHTED:
            s_out, zp_out = activation_qparams(float(out.min()), float(out.max()))
            q_layers.append(_quantize_weighted(L, s_in, zp_in, s_out, zp_out))
        else:
            s_out, zp_out = s_in, zp_in
            q_layers.append(_base(L, L.op) | dict(kernel=list(L.attrs["kernel"]),
                                                   stride=list(L.attrs["stride"]), padding=[0, 0],
                                                   input_scale=s_in, input_zp=zp_in,
                                                   output_scale=s_out, output_zp=zp_out))
        s_in, zp_in = s_out, zp_out
    return {"scale": input_qparams[0], "zero_point": input_qparams[1]}, q_layers


def _base(L: FloatLayer, op: str) -> dict:
    return dict(name=L.name, op=op, in_shape=list(L.in_shape), out_shape=list(L.out_shape),
                macs=L.macs)


def _quantize_weighted(L: FloatLayer, s_in, zp_in, s_out, zp_out) -> dict:
    w = L.module.weight.detach().double().numpy()
    b = L.module.bias.detach().double().numpy() if L.module.bias is not None else np.zeros(w.shape[0])
    absmax = np.abs(w.reshape(w.shape[0], -1)).max(axis=1)
    s_w = np.where(absmax > 0, absmax / 127.0, 1.0)
    bshape = (-1,) + (1,) * (w.ndim - 1)
    qw = np.clip(np.round(w / s_w.reshape(bshape)), -127, 127).astype(np.int64)
    qb = np.round(b / (s_in * s_w)).astype(np.int64)
    mults, shifts = zip(*(quantize_multiplier(s_in * sw / s_out) for sw in s_w))
    d = _base(L, L.op)
    if L.op != "fully_connected":
        d |= dict(kernel=list(L.attrs["kernel"]), stride=list(L.attrs["stride"]),
                  padding=list(L.attrs["padding"]))
    d |= dict(
        weights_shape=list(qw.shape), weights=qw.reshape(-1).tolist(), bias=qb.tolist(),
        input_scale=s_in, input_zp=zp_in, output_scale=s_out, output_zp=zp_out,
        weight_scale=s_w.tolist(), multiplier=list(mults), shift=list(shifts),
        act_min=zp_out if L.relu else INT8_MIN, act_max=INT8_MAX, relu=L.relu,
    )
    return d
