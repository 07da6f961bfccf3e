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

from golden.errors import GoldenError, AccumulatorOverflow  # noqa: F401 - AccumulatorOverflow is defined in golden.errors

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1
INT8_MIN, INT8_MAX = -128, 127



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
    q = int(round(mant * (1 << 31)))
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
