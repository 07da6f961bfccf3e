"""The definition of on-device integer arithmetic.

Every C and C++ kernel in this project is tested bit for bit against these
functions; docs/integer-arithmetic.md explains them in prose. Two schemes:

* ``int8`` (TFLite Micro / CMSIS-NN style): int32 accumulators, per-channel
  requantization by a Q31 fixed-point multiplier and a power-of-two shift using
  TFLite's "double rounding" (SaturatingRoundingDoublingHighMul followed by
  RoundingDivideByPOT), then output zero point and a clamp to int8.
* ``shift`` (seed 001, FPGA): int32 accumulators, no requantization multiplier,
  an arithmetic right shift (floor division by a power of two), optional ReLU,
  no saturation.

All functions take and return numpy int64 arrays holding int32 values, so the
intermediate products used here (up to 63 bits) never overflow.
"""
from __future__ import annotations

import math

import numpy as np

from golden.errors import GoldenError

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1
INT8_MIN, INT8_MAX = -128, 127


class AccumulatorOverflow(GoldenError, ArithmeticError):
    """An int32 accumulator would overflow: the device result would be wrong."""


def check_int32(acc: np.ndarray, where: str) -> np.ndarray:
    """Raise if any accumulator leaves int32: devices would silently wrap."""
    acc = np.asarray(acc, dtype=np.int64)
    if acc.size and (acc.min() < INT32_MIN or acc.max() > INT32_MAX):
        raise AccumulatorOverflow(
            f"{where}: accumulator range [{acc.min()}, {acc.max()}] exceeds int32 "
            f"(the device would wrap): retrain with smaller weights/activations or check the scales")
    return acc


def quantize_multiplier(real: float) -> tuple[int, int]:
    """Real multiplier -> (Q31 multiplier, shift), as TFLite's QuantizeMultiplier.

    real == multiplier * 2**(shift - 31); shift > 0 is a left shift.
    """
    if real == 0.0:
        return 0, 0
    if real < 0:
        raise ValueError("requantization multiplier must be positive")
    mant, exp = math.frexp(real)          # real = mant * 2**exp, mant in [0.5, 1)
    q = math.floor(mant * (1 << 31) + 0.5)   # std::round: halves away from zero (not Python's to-even)
    if q == (1 << 31):                    # rounding carried into the next power
        q //= 2
        exp += 1
    if exp < -31:                         # too small to represent: flush to zero
        return 0, 0
    return q, exp


def saturating_rounding_doubling_high_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """gemmlowp SaturatingRoundingDoublingHighMul on int32 values.

    (a*b*2 + 2**31 rounding) >> 32 with round-half-away-from-zero via a nudge
    and C-style truncating division; INT32_MIN*INT32_MIN saturates.
    """
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    overflow = (a == INT32_MIN) & (b == INT32_MIN)
    ab = a * b
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    num = ab + nudge
    # C integer division truncates toward zero; numpy's // floors.
    q = np.where(num >= 0, num // (1 << 31), -((-num) // (1 << 31)))
    return np.where(overflow, INT32_MAX, q).astype(np.int64)


def rounding_divide_by_pot(x: np.ndarray, exponent: np.ndarray) -> np.ndarray:
    """gemmlowp RoundingDivideByPOT: x / 2**exponent, round half away from zero."""
    x = np.asarray(x, dtype=np.int64)
    exponent = np.asarray(exponent, dtype=np.int64)
    mask = (np.int64(1) << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> exponent) + (remainder > threshold)


def requantize(acc: np.ndarray, multiplier: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """TFLite MultiplyByQuantizedMultiplier: int32 acc -> int32 scaled value.

    ``multiplier`` and ``shift`` broadcast against ``acc`` (per channel).
    A left shift is applied before the high multiply (saturating to int32),
    a right shift after it, exactly as TFLite Micro and CMSIS-NN do.
    """
    acc = np.asarray(acc, dtype=np.int64)
    shift = np.asarray(shift, dtype=np.int64)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    shifted = np.clip(acc * (np.int64(1) << left), INT32_MIN, INT32_MAX)
    high = saturating_rounding_doubling_high_mul(shifted, multiplier)
    return rounding_divide_by_pot(high, right)


def requantize_to_int8(acc, multiplier, shift, output_zp: int,
                       act_min: int = INT8_MIN, act_max: int = INT8_MAX) -> np.ndarray:
    """Accumulator -> int8 activation: requantize, add zero point, clamp."""
    out = requantize(acc, multiplier, shift) + np.int64(output_zp)
    return np.clip(out, act_min, act_max)


def floor_shift(acc: np.ndarray, rshift: int) -> np.ndarray:
    """Seed-001 rescaling: floor(acc / 2**rshift), an arithmetic right shift."""
    return np.asarray(acc, dtype=np.int64) >> np.int64(rshift)


def avgpool_round(total: np.ndarray, count: int) -> np.ndarray:
    """TFLite Micro average: (sum +- count/2) / count, truncating toward zero."""
    total = np.asarray(total, dtype=np.int64)
    half = count // 2
    num = np.where(total > 0, total + half, total - half)
    return np.where(num >= 0, num // count, -((-num) // count))


# ---------------------------------------------------------------------------
# TFLite Micro SOFTMAX (int8 in, int8 out with scale 1/256 and zero point -128)
# and MEAN: gemmlowp fixed-point helpers on int32 values held in int64 arrays.
# FixedPoint<int32, I> has 31 - I fractional bits; a product of Qa and Qb values
# (SaturatingRoundingDoublingHighMul of the raw values) is a Q(a+b) value.

SOFTMAX_DIFF_INTEGER_BITS = 5      # TFLM kScaledDiffIntegerBits: exp() input is Q5.26
SOFTMAX_ACCUM_INTEGER_BITS = 12    # TFLM kAccumulationIntegerBits: sum of exps is Q12.19


def saturating_rounding_multiply_by_pot(x: np.ndarray, exponent: int) -> np.ndarray:
    """gemmlowp SaturatingRoundingMultiplyByPOT: x * 2**exponent, a saturating left
    shift for exponent > 0, a rounding right shift for exponent < 0."""
    x = np.asarray(x, dtype=np.int64)
    if exponent == 0:
        return x
    if exponent < 0:
        return rounding_divide_by_pot(x, -exponent)
    threshold = (1 << (31 - exponent)) - 1
    return np.where(x > threshold, INT32_MAX, np.where(x < -threshold, INT32_MIN, x << exponent))


def rounding_half_sum(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """gemmlowp RoundingHalfSum: (a + b) / 2 rounded half away from zero."""
    s = np.asarray(a, np.int64) + np.asarray(b, np.int64)
    num = s + np.where(s >= 0, 1, -1)
    return np.where(num >= 0, num // 2, -((-num) // 2))


def _exp_on_quarter_interval(a: np.ndarray) -> np.ndarray:
    """exp(a) for a Q0.31 value a in [-1/4, 0): 4th-order Taylor series around -1/8."""
    srdhm = saturating_rounding_doubling_high_mul
    exp_minus_eighth, one_third = 1895147668, 715827883        # Q0.31 exp(-1/8), 1/3
    x = a + (1 << 28)                                           # a + 1/8
    x2 = srdhm(x, x)
    x3 = srdhm(x2, x)
    x4 = srdhm(x2, x2)
    x4_over_4 = saturating_rounding_multiply_by_pot(x4, -2)
    poly = saturating_rounding_multiply_by_pot(srdhm(x4_over_4 + x3, one_third) + x2, -1)
    return exp_minus_eighth + srdhm(exp_minus_eighth, x + poly)


# (bit of the Q5.26 input, Q0.31 exp(-2**k)) for the barrel shifter of exp_on_negative_values
_EXP_BARREL = ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308),
               (2, 39332535), (3, 720401), (4, 242))


def exp_on_negative_values(a: np.ndarray) -> np.ndarray:
    """gemmlowp exp_on_negative_values: Q5.26 input a <= 0 -> Q0.31 exp(a)."""
    a = np.asarray(a, np.int64)
    frac = 31 - SOFTMAX_DIFF_INTEGER_BITS
    quarter = 1 << (frac - 2)
    a_mod_quarter_minus_quarter = (a & (quarter - 1)) - quarter
    result = _exp_on_quarter_interval(
        saturating_rounding_multiply_by_pot(a_mod_quarter_minus_quarter, SOFTMAX_DIFF_INTEGER_BITS))
    remainder = a_mod_quarter_minus_quarter - a
    for k, mult in _EXP_BARREL:
        if SOFTMAX_DIFF_INTEGER_BITS > k:
            bit = (remainder & (1 << (frac + k))) != 0
            result = np.where(bit, saturating_rounding_doubling_high_mul(result, mult), result)
    return np.where(a == 0, INT32_MAX, result)


def one_over_one_plus_x(a: np.ndarray) -> np.ndarray:
    """gemmlowp one_over_one_plus_x_for_x_in_0_1: Q0.31 x -> Q0.31 1/(1+x), three
    Newton-Raphson steps in Q2.29 from the 48/17 - 32/17 * d estimate."""
    srdhm = saturating_rounding_doubling_high_mul
    half_denominator = rounding_half_sum(a, INT32_MAX)
    x = 1515870810 + srdhm(half_denominator, -1010580540)      # Q2.29 48/17, -32/17
    for _ in range(3):
        one_minus = (1 << 29) - srdhm(half_denominator, x)
        x = x + saturating_rounding_multiply_by_pot(srdhm(x, one_minus), 2)
    return saturating_rounding_multiply_by_pot(x, 1)


def softmax_params(beta: float, input_scale: float) -> tuple[int, int, int]:
    """TFLM PreprocessSoftmaxScaling + CalculateInputRadius (double rounding build):
    (input_multiplier, input_left_shift, diff_min) for an int8 softmax.

    Pass the values a .tflite file holds (float32 beta and scale) to get TFLM's."""
    real = min(beta * input_scale * (1 << (31 - SOFTMAX_DIFF_INTEGER_BITS)), (1 << 31) - 1.0)
    if real <= 1.0:
        raise ValueError(f"softmax: beta * input_scale = {beta * input_scale} is too small "
                         f"(TFLM needs a multiplier greater than one)")
    mult, left_shift = quantize_multiplier(real)
    radius = math.floor(((1 << SOFTMAX_DIFF_INTEGER_BITS) - 1)
                        * (1 << (31 - SOFTMAX_DIFF_INTEGER_BITS)) / (1 << left_shift))
    return mult, left_shift, -radius


def softmax_row(x: np.ndarray, input_multiplier: int, input_left_shift: int,
                diff_min: int) -> np.ndarray:
    """TFLM reference int8 Softmax of one row: int8 in, int8 out (zero point -128, scale 1/256)."""
    x = np.asarray(x, np.int64)
    diff = x - x.max()
    used = diff >= diff_min
    scaled = saturating_rounding_doubling_high_mul(np.where(used, diff, 0) * (1 << input_left_shift),
                                                   input_multiplier)
    exps = np.where(used, exp_on_negative_values(scaled), 0)
    total = int(rounding_divide_by_pot(exps, SOFTMAX_ACCUM_INTEGER_BITS).sum())   # Q12.19
    headroom_plus_one = 32 - total.bit_length()                 # count of leading zeros (uint32)
    bits_over_unit = SOFTMAX_ACCUM_INTEGER_BITS - headroom_plus_one
    shifted_minus_one = ((total << headroom_plus_one) & 0xFFFFFFFF) - (1 << 31)
    scale = one_over_one_plus_x(np.int64(shifted_minus_one))
    exponent = bits_over_unit + 31 - 8
    out = rounding_divide_by_pot(saturating_rounding_doubling_high_mul(scale, exps), exponent) + INT8_MIN
    return np.where(used, np.clip(out, INT8_MIN, INT8_MAX), INT8_MIN)


def mean_requant_params(multiplier: int, shift: int, count: int) -> tuple[int, int]:
    """TFLM QuantizedMeanOrSum: fold 1/count into the (multiplier, shift) of
    input_scale / output_scale, with TFLM's clamps on the extra shift."""
    extra = min(count.bit_length() - 1, 32, 31 + shift)
    return (multiplier << extra) // count, shift - extra
