"""Post-training int8 quantization in the TFLite Micro / CMSIS-NN style.

* weights: int8, symmetric, per output channel (range [-127, 127])
* biases: int32 with scale input_scale * weight_scale[c]
* activations: int8, asymmetric (scale, zero point) from min/max calibrated on
  training data; the range always contains 0 so zero is exact
* every scale (input, output, weight) is stored as a float32 value, as a `.tflite`
  file holds it, and every requantization parameter is derived from those float32
  scales exactly as TFLite Micro's Prepare does (golden.tflite.tflm_params, the
  importer's implementation): conv / depthwise / fully connected per channel
  QuantizeMultiplier(double(in) * double(weight) / double(out)); so a model
  exported to `.tflite` runs in TFLM with hil's own multipliers
* ReLU / ReLU6 / clamp are fused as an int8 clamp [act_min, act_max] (TFLM's
  float32 rounding of the bounds)
* pooling, channel shuffle and channel slices keep their input's scale and zero point
* add: TFLite Micro's ADD (each input rescaled with 2**20 headroom, summed, rescaled)
* concat: each input requantized to the output's scale and zero point (TFLM's
  int8 -> int8 QUANTIZE)
"""
from __future__ import annotations

import numpy as np
import torch

from golden.graph import INPUT, WEIGHTED, FloatLayer, run_float
from golden.intsim.arith import INT8_MAX, INT8_MIN
from golden.tflite import tflm_params as tp
from golden.tflite.tflm_params import ADD_LEFT_SHIFT, f32  # noqa: F401 - ADD_LEFT_SHIFT re-exported
PASS_THROUGH = ("maxpool2d", "avgpool2d", "channel_shuffle", "channel_slice")


def activation_qparams(lo: float, hi: float) -> tuple[float, int]:
    """Asymmetric int8 (float32 scale, zero_point) covering [lo, hi] and 0."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    if hi - lo < 1e-12:
        hi = lo + 1e-6
    scale = f32((hi - lo) / (INT8_MAX - INT8_MIN))
    zp = int(round(INT8_MIN - lo / scale))
    return scale, int(np.clip(zp, INT8_MIN, INT8_MAX))


def quantize_tensor(x: np.ndarray, scale: float, zp: int) -> np.ndarray:
    q = np.round(np.asarray(x, np.float64) / scale) + zp
    return np.clip(q, INT8_MIN, INT8_MAX).astype(np.int8)


def quantize_model(layers: list[FloatLayer], calib: torch.Tensor,
                   input_qparams: tuple[float, int] | None = None) -> tuple[dict, list[dict]]:
    """Calibrate on `calib` and return (input qparams dict, artifact layer dicts).

    Every tensor gets one (scale, zero point): weighted, add and concat layers
    from the calibrated range of their output; pools, shuffle and slice pass
    their input's through (they only move or compare values)."""
    with torch.no_grad():
        outs = run_float(layers, calib)
    if input_qparams is None:
        input_qparams = activation_qparams(float(calib.min()), float(calib.max()))
    input_qparams = (f32(input_qparams[0]), int(input_qparams[1]))
    q = {INPUT: tuple(input_qparams)}
    q_layers = []
    for L in layers:
        s_in, zp_in = q[L.inputs[0]]
        out = outs[L.name]
        if L.op in PASS_THROUGH:
            q[L.name] = (s_in, zp_in)
            d = _base(L, L.op) | dict(input_scale=s_in, input_zp=zp_in, output_scale=s_in, output_zp=zp_in)
            if L.op in ("maxpool2d", "avgpool2d"):
                d |= dict(kernel=list(L.attrs["kernel"]), stride=list(L.attrs["stride"]), padding=[0, 0])
            else:
                d |= {k: int(v) for k, v in L.attrs.items()}
            q_layers.append(d)
            continue
        q[L.name] = activation_qparams(float(out.min()), float(out.max()))
        s_out, zp_out = q[L.name]
        if L.op in WEIGHTED:
            q_layers.append(_quantize_weighted(L, s_in, zp_in, s_out, zp_out))
        elif L.op == "add":
            q_layers.append(_quantize_add(L, [q[n] for n in L.inputs], s_out, zp_out))
        elif L.op == "concat":
            q_layers.append(_quantize_concat(L, [q[n] for n in L.inputs], s_out, zp_out))
        else:
            raise ValueError(f"layer '{L.name}': no int8 quantization for op {L.op}")
    return {"scale": input_qparams[0], "zero_point": input_qparams[1]}, q_layers


def _act_range(L: FloatLayer, s_out: float, zp_out: int) -> dict:
    """The fused activation as an int8 clamp [act_min, act_max], rounded as TFLM rounds it."""
    lo, hi = L.clamp if L.clamp is not None else (None, None)
    amin, amax = tp.clamp_range(lo, hi, s_out, zp_out)
    return dict(act_min=amin, act_max=amax, relu=L.clamp is not None)


def _quantize_add(L: FloatLayer, ins, s_out, zp_out) -> dict:
    """TFLite Micro ADD parameters (PrepareGeneralSubOp): both inputs are brought
    to twice the larger input scale with 2**20 headroom, summed, then rescaled."""
    (s1, _), (s2, _) = ins
    return _base(L, "add") | dict(
        input_scales=[s for s, _ in ins], input_zps=[zp for _, zp in ins],
        output_scale=s_out, output_zp=zp_out, input_zp=ins[0][1]) | tp.add_params(s1, s2, s_out) \
        | _act_range(L, s_out, zp_out)


def _quantize_concat(L: FloatLayer, ins, s_out, zp_out) -> dict:
    """Each input is requantized to the output scale (identity when the scales agree)."""
    ms = [tp.ratio_multiplier(s, s_out) for s, _ in ins]
    return _base(L, "concat") | dict(
        input_scales=[s for s, _ in ins], input_zps=[zp for _, zp in ins],
        input_multipliers=[m for m, _ in ms], input_shifts=[sh for _, sh in ms],
        output_scale=s_out, output_zp=zp_out, input_zp=ins[0][1], act_min=INT8_MIN, act_max=INT8_MAX)


def _base(L: FloatLayer, op: str) -> dict:
    return dict(name=L.name, op=op, inputs=list(L.inputs), in_shape=list(L.in_shape),
                out_shape=list(L.out_shape), macs=L.macs)


def _quantize_weighted(L: FloatLayer, s_in, zp_in, s_out, zp_out) -> dict:
    w = L.module.weight.detach().double().numpy()
    b = L.module.bias.detach().double().numpy() if L.module.bias is not None else np.zeros(w.shape[0])
    absmax = np.abs(w.reshape(w.shape[0], -1)).max(axis=1)
    s_w = (absmax / 127.0).astype(np.float32).astype(np.float64)     # float32, as a .tflite holds it
    s_w = np.where(s_w > 0, s_w, 1.0)                                   # all-zero (or float32-tiny) rows
    bshape = (-1,) + (1,) * (w.ndim - 1)
    qw = np.clip(np.round(w / s_w.reshape(bshape)), -127, 127).astype(np.int64)
    qb = np.round(b / (s_in * s_w)).astype(np.int64)
    mults, shifts = tp.conv_multipliers(s_in, s_w, s_out, len(s_w))
    d = _base(L, L.op)
    if L.op != "fully_connected":
        d |= dict(kernel=list(L.attrs["kernel"]), stride=list(L.attrs["stride"]),
                  padding=list(L.attrs["padding"]))
        if L.op == "grouped_conv2d":
            d["groups"] = int(L.attrs["groups"])
    d |= dict(
        weights_shape=list(qw.shape), weights=qw.reshape(-1).tolist(), bias=qb.tolist(),
        input_scale=s_in, input_zp=zp_in, output_scale=s_out, output_zp=zp_out,
        weight_scale=s_w.tolist(), multiplier=list(mults), shift=list(shifts),
    ) | _act_range(L, s_out, zp_out)
    return d
