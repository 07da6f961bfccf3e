"""Float32 scales for a `.tflite` file from hil's integer requantization parameters.

TFLite Micro does not read multipliers from a file: at Prepare it derives each
one from the float32 tensor scales, as double arithmetic followed by
QuantizeMultiplier (input_scale * filter_scale / output_scale for CONV_2D,
DEPTHWISE_CONV_2D and FULLY_CONNECTED; input_scale / output_scale for QUANTIZE
and MEAN; the ADD formulas). hil's artifacts hold multipliers computed from
float64 scales, so an exporter must pick float32 scales whose TFLM-derived
multiplier equals hil's. A filter scale has 24 significant bits while a Q31
multiplier has 31, so for a given pair of activation scales only about one
filter scale in 128 lands exactly: `solve_filter_scale` searches the float32
neighbours of the ideal value and returns the closest one it finds, with its
distance in multiplier steps (0 = exact).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from golden.intsim.arith import quantize_multiplier

SEARCH = 4          # float32 neighbours tried on each side of the ideal filter scale (achievable
                    # multipliers are 64-256 steps apart, so the nearest is within one or two)


def f32(x: float) -> float:
    """x rounded to float32, as a .tflite file stores it (returned as a Python float)."""
    return float(np.float32(x))


def tflm_conv_multiplier(input_scale: float, filter_scale: float, output_scale: float) -> tuple[int, int]:
    """TFLM PopulateConvolutionQuantizationParams for one channel (float32 inputs)."""
    return quantize_multiplier(f32(input_scale) * f32(filter_scale) / f32(output_scale))


def tflm_ratio_multiplier(input_scale: float, output_scale: float) -> tuple[int, int]:
    """TFLM QUANTIZE (int8 -> int8) and MEAN: QuantizeMultiplier(input_scale / output_scale)."""
    return quantize_multiplier(f32(input_scale) / f32(output_scale))


def tflm_add_params(scale1: float, scale2: float, output_scale: float, left_shift: int = 20):
    """TFLM ADD (int8): ((m1, s1), (m2, s2), (m_out, s_out)) from the three float32 scales."""
    twice_max = 2 * max(f32(scale1), f32(scale2))
    return (quantize_multiplier(f32(scale1) / twice_max), quantize_multiplier(f32(scale2) / twice_max),
            quantize_multiplier(twice_max / ((1 << left_shift) * f32(output_scale))))


def multiplier_distance(a: tuple[int, int], b: tuple[int, int]) -> int:
    """|a - b| in steps of the finer multiplier (0 when the two are the same)."""
    (ma, sa), (mb, sb) = a, b
    lo = min(sa, sb)
    return abs((ma << (sa - lo)) - (mb << (sb - lo)))


@dataclass(frozen=True)
class FilterScale:
    scale: float          # float32 filter scale to write
    multiplier: int       # what TFLM derives from it
    shift: int
    steps: int            # distance from hil's multiplier in multiplier steps (0 = exact)


def solve_filter_scale(input_scale: float, output_scale: float, multiplier: int, shift: int) -> FilterScale:
    """The float32 filter scale whose TFLM multiplier is closest to (multiplier, shift)."""
    target = (int(multiplier), int(shift))
    ideal = multiplier * 2.0 ** (shift - 31) * f32(output_scale) / f32(input_scale)
    bits = np.float32(ideal).view(np.int32)
    best = None
    for k in sorted(range(-SEARCH, SEARCH + 1), key=abs):
        fs = float(np.int32(bits + k).view(np.float32))
        got = tflm_conv_multiplier(input_scale, fs, output_scale)
        d = multiplier_distance(got, target)
        if best is None or d < best.steps:
            best = FilterScale(fs, got[0], got[1], d)
            if d == 0:
                break
    return best
