"""The integer parameters TFLite Micro computes at Prepare from a file's float scales, computed the
same way (same float32/double steps, golden.intsim.arith.quantize_multiplier = QuantizeMultiplier).
Nothing is requantized: every multiplier comes from the scales stored in the `.tflite` file."""
from __future__ import annotations

import math

import numpy as np

from golden.intsim.arith import INT8_MAX, INT8_MIN, quantize_multiplier

SOFTMAX_SCALED_DIFF_INTEGER_BITS = 5      # TFLM's kScaledDiffIntegerBits for int8 softmax


def conv_multipliers(input_scale: np.float32, filter_scales: np.ndarray, output_scale: np.float32,
                     channels: int) -> tuple[list[int], list[int]]:
    """Per output channel, as PopulateConvolutionQuantizationParams: double(in) * double(filter) /
    double(out), each scale a float32 from the file (per-tensor filters broadcast)."""
    fs = np.broadcast_to(np.asarray(filter_scales, np.float32), (channels,))
    mults, shifts = [], []
    for f in fs:
        m, s = quantize_multiplier(float(input_scale) * float(f) / float(output_scale))
        mults.append(m)
        shifts.append(s)
    return mults, shifts


def fc_multipliers(input_scale, filter_scales, output_scale, channels: int):
    """FULLY_CONNECTED: per tensor, GetQuantizedConvolutionMultipler (double(in) * double(filter) /
    double(out)); per channel as convolution."""
    return conv_multipliers(input_scale, filter_scales, output_scale, channels)


def add_params(scale1: float, scale2: float, output_scale: float, left_shift: int = 20) -> dict:
    """TFLM ADD (int8) at Prepare: inputs rescaled to twice the larger input scale, left shift 20."""
    twice_max = 2.0 * float(max(np.float32(scale1), np.float32(scale2)))
    m1, s1 = quantize_multiplier(float(scale1) / twice_max)
    m2, s2 = quantize_multiplier(float(scale2) / twice_max)
    mo, so = quantize_multiplier(twice_max / ((1 << left_shift) * float(output_scale)))
    return dict(input_multipliers=[m1, m2], input_shifts=[s1, s2], left_shift=left_shift,
                multiplier=[mo], shift=[so])


def mean_params(input_scale: float, output_scale: float) -> tuple[int, int]:
    """MEAN (int8) at Prepare: QuantizeMultiplier(double(in) / double(out))."""
    return quantize_multiplier(float(input_scale) / float(output_scale))


def softmax_params(beta: float, input_scale: float) -> dict:
    """SOFTMAX (int8) at Prepare (CalculateSoftmaxParams): PreprocessSoftmaxScaling with
    kScaledDiffIntegerBits = 5, then diff_min = -CalculateInputRadius(5, left_shift)."""
    bits = SOFTMAX_SCALED_DIFF_INTEGER_BITS
    real = min(float(beta) * float(input_scale) * (1 << (31 - bits)), (1 << 31) - 1.0)
    mult, left_shift = quantize_multiplier(real)      # QuantizeMultiplierGreaterThanOne: shift >= 0
    radius = math.floor(1.0 * ((1 << bits) - 1) * (1 << (31 - bits)) / (1 << left_shift))
    return dict(input_multiplier=mult, input_left_shift=left_shift, diff_min=-int(radius))


def quantize_activation(value: float, scale: float, zero_point: int) -> int:
    """zero_point + round(value / scale) in float32, as CalculateActivationRangeQuantized."""
    q = np.float32(value) / np.float32(scale)
    return int(zero_point) + int(math.copysign(math.floor(abs(float(q)) + 0.5), float(q)))


def activation_range(activation: str, scale: float, zero_point: int) -> tuple[int, int]:
    """[act_min, act_max] of a fused activation on an int8 output."""
    lo, hi = INT8_MIN, INT8_MAX
    if activation == "RELU":
        lo = max(lo, quantize_activation(0.0, scale, zero_point))
    elif activation == "RELU6":
        lo = max(lo, quantize_activation(0.0, scale, zero_point))
        hi = min(hi, quantize_activation(6.0, scale, zero_point))
    elif activation == "RELU_N1_TO_1":
        lo = max(lo, quantize_activation(-1.0, scale, zero_point))
        hi = min(hi, quantize_activation(1.0, scale, zero_point))
    return lo, hi


def same_padding(in_size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TFLite SAME: out = ceil(in / stride); total = max((out-1)*stride + k_eff - in, 0);
    (before, after) = (total // 2, total - total // 2)."""
    k = (kernel - 1) * dilation + 1
    out = (in_size + stride - 1) // stride
    total = max((out - 1) * stride + k - in_size, 0)
    return total // 2, total - total // 2
