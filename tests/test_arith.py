"""golden.intsim.arith against an independent pure-Python (big int) reference."""
import math
import random

import numpy as np
import pytest

from golden.intsim import arith

I32_MIN, I32_MAX = -(1 << 31), (1 << 31) - 1


def _trunc_div(n: int, d: int) -> int:
    q = abs(n) // d
    return q if n >= 0 else -q


def ref_rdbpot(x: int, e: int) -> int:
    mask = (1 << e) - 1
    rem = x & mask
    thr = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> e) + (1 if rem > thr else 0)


def ref_requantize(acc: int, mult: int, shift: int) -> int:
    left, right = max(shift, 0), max(-shift, 0)
    x = max(I32_MIN, min(I32_MAX, acc * (1 << left)))
    return ref_rdbpot(_srdhm_exact(x, mult), right)


def _srdhm_exact(a, b):
    if a == b == I32_MIN:
        return I32_MAX
    ab = a * b
    nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
    return _trunc_div(ab + nudge, 1 << 31)


EDGE_ACC = [0, 1, -1, 2, -2, 127, -128, 1 << 20, -(1 << 20), I32_MAX, I32_MIN, I32_MAX - 1, I32_MIN + 1]
EDGE_MULT = [0, 1, 1 << 30, (1 << 31) - 1, 1518500250]
EDGE_SHIFT = [-31, -20, -8, -1, 0, 1, 5, 30]


def test_requantize_edges_match_bigint_reference():
    acc, mult, shift = np.array(np.meshgrid(EDGE_ACC, EDGE_MULT, EDGE_SHIFT)).reshape(3, -1)
    got = arith.requantize(acc, mult, shift)
    want = [ref_requantize(int(a), int(m), int(s)) for a, m, s in zip(acc, mult, shift)]
    assert got.tolist() == want


def test_requantize_random_match_bigint_reference():
    rnd = random.Random(1234)
    acc = [rnd.randint(I32_MIN, I32_MAX) >> rnd.randint(0, 31) for _ in range(5000)]
    mult = [rnd.randint(1 << 30, I32_MAX) for _ in acc]
    shift = [rnd.randint(-31, 8) for _ in acc]
    got = arith.requantize(np.array(acc), np.array(mult), np.array(shift)).tolist()
    assert got == [ref_requantize(a, m, s) for a, m, s in zip(acc, mult, shift)]


def test_rounding_is_half_away_from_zero():
    # x / 2 for odd x: 3/2 -> 2, -3/2 -> -2, 1/2 -> 1, -1/2 -> -1
    assert arith.rounding_divide_by_pot(np.array([3, -3, 1, -1, 2, -2]), 1).tolist() == [2, -2, 1, -1, 1, -1]


@pytest.mark.parametrize("real", [1e-9, 0.0003, 0.25, 0.5, 0.75, 0.9999999, 1.5, 3.0])
def test_quantize_multiplier_represents_real(real):
    m, s = arith.quantize_multiplier(real)
    assert (1 << 30) <= m < (1 << 31)
    assert math.isclose(m * 2.0 ** (s - 31), real, rel_tol=1e-9)


def test_floor_shift_is_floor_division():
    x = np.arange(-40, 40)
    assert arith.floor_shift(x, 3).tolist() == [v // 8 for v in range(-40, 40)]


def test_avgpool_round_truncates_like_tflm():
    assert arith.avgpool_round(np.array([5, -5, 4, -4, 6]), 4).tolist() == [1, -1, 1, -1, 2]


def test_int32_overflow_is_reported():
    with pytest.raises(arith.AccumulatorOverflow, match="conv9"):
        arith.check_int32(np.array([I32_MAX + 1]), "conv9")
