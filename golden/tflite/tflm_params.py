"""The integer parameters TFLite Micro computes at Prepare from float32 tensor scales: the one
implementation shared by the `.tflite` importer (the file's scales), hil's own quantizer
(golden/quant/int8.py, which stores float32 scales) and the exporter (which checks them).

Every function rounds its scales to float32 first (what a `.tflite` file holds, a no-op on values
that already are), then does TFLM's double arithmetic and QuantizeMultiplier
(golden.intsim.arith.quantize_multiplier). Nothing is solved or adjusted."""
from __future__ import annotations

import math

import numpy as np

from golden.intsim import arith
from golden.intsim.arith import INT8_MAX, INT8_MIN, quantize_multiplier

ADD_LEFT_SHIFT = 20      # TFLM int8 ADD: inputs are scaled up by 2**20 before rescaling


def f32(x: float) -> float:
    """x rounded to float32, as a .tflite file stores it (returned as a Python float)."""
    return float(np.float32(x))


def conv_multiplier(input_scale: float, filter_scale: float, output_scale: float) -> tuple[int, int]:
    """One channel of PopulateConvolutionQuantizationParams (CONV_2D, DEPTHWISE_CONV_2D,
    FULLY_CONNECTED): QuantizeMultiplier(double(in) * double(filter) / double(out))."""
    return quantize_multiplier(f32(input_scale) * f32(filter_scale) / f32(output_scale))


def conv_multipliers(input_scale: float, filter_scales, output_scale: float,
                     channels: int) -> tuple[list[int], list[int]]:
    """Per output channel (a per-tensor filter scale is broadcast): (multipliers, shifts)."""
    fs = np.broadcast_to(np.asarray(filter_scales, np.float32), (channels,))
    pairs = [conv_multiplier(input_scale, float(f), output_scale) for f in fs]
    return [m for m, _ in pairs], [s for _, s in pairs]


def fc_multipliers(input_scale, filter_scales, output_scale, channels: int):
    """FULLY_CONNECTED: per tensor, GetQuantizedConvolutionMultipler (the same double arithmetic);
    per channel as convolution."""
    return conv_multipliers(input_scale, filter_scales, output_scale, channels)


def ratio_multiplier(input_scale: float, output_scale: float) -> tuple[int, int]:
    """QuantizeMultiplier(double(in) / double(out)): MEAN, and QUANTIZE int8 -> int8 (how hil's
    concat requantizes an input to the output's scale)."""
    return quantize_multiplier(f32(input_scale) / f32(output_scale))


def mean_params(input_scale: float, output_scale: float) -> tuple[int, int]:
    """MEAN (int8) at Prepare."""
    return ratio_multiplier(input_scale, output_scale)


def add_params(scale1: float, scale2: float, output_scale: float, left_shift: int = ADD_LEFT_SHIFT) -> dict:
    """TFLM ADD (int8) at Prepare: both inputs rescaled to twice the larger input scale with
    2**left_shift headroom, summed, then rescaled to the output."""
    s1, s2, so = f32(scale1), f32(scale2), f32(output_scale)
    twice_max = 2.0 * max(s1, s2)
    m1, sh1 = quantize_multiplier(s1 / twice_max)
    m2, sh2 = quantize_multiplier(s2 / twice_max)
    mo, sho = quantize_multiplier(twice_max / ((1 << left_shift) * so))
    return dict(input_multipliers=[m1, m2], input_shifts=[sh1, sh2], left_shift=left_shift,
                multiplier=[mo], shift=[sho])


def softmax_params(beta: float, input_scale: float) -> dict:
    """SOFTMAX (int8) at Prepare (CalculateSoftmaxParams), golden.intsim.arith.softmax_params on the
    float32 beta and input scale."""
    mult, left_shift, diff_min = arith.softmax_params(f32(beta), f32(input_scale))
    return dict(input_multiplier=mult, input_left_shift=left_shift, diff_min=diff_min)


def quantize_activation(value: float, scale: float, zero_point: int) -> int:
    """zero_point + round(value / scale) in float32, as CalculateActivationRangeQuantized
    (TfLiteRound: halves away from zero)."""
    q = np.float32(value) / np.float32(scale)
    return int(zero_point) + int(math.copysign(math.floor(abs(float(q)) + 0.5), float(q)))


def clamp_range(lo: float | None, hi: float | None, scale: float, zero_point: int) -> tuple[int, int]:
    """[act_min, act_max] of an output clamp to [lo, hi] (None: unbounded) on an int8 output, as
    CalculateActivationRangeQuantizedImpl: max(-128, q(lo)), min(127, q(hi))."""
    amin = INT8_MIN if lo is None else max(INT8_MIN, quantize_activation(lo, scale, zero_point))
    amax = INT8_MAX if hi is None else min(INT8_MAX, quantize_activation(hi, scale, zero_point))
    return amin, amax


FUSED_ACTIVATIONS = {"NONE": (None, None), "RELU": (0.0, None), "RELU6": (0.0, 6.0), "RELU_N1_TO_1": (-1.0, 1.0)}


def activation_range(activation: str, scale: float, zero_point: int) -> tuple[int, int]:
    """[act_min, act_max] of a fused activation (NONE, RELU, RELU6, RELU_N1_TO_1) on an int8 output."""
    return clamp_range(*FUSED_ACTIVATIONS.get(activation, (None, None)), scale, zero_point)


def same_padding(in_size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TFLite SAME: out = ceil(in / stride); total = max((out-1)*stride + k_eff - in, 0);
    (before, after) = (total // 2, total - total // 2)."""
    k = (kernel - 1) * dilation + 1
    out = (in_size + stride - 1) // stride
    total = max((out - 1) * stride + k - in_size, 0)
    return total // 2, total - total // 2
