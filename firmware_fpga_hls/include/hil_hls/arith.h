/* arith.h: the integer arithmetic of golden/intsim/arith.py, in ap_int.
 *
 *   floor_shift   seed-001 rescale: acc >> r (arithmetic, i.e. floor division)
 *   srdhm         gemmlowp SaturatingRoundingDoublingHighMul
 *   rdbpot        gemmlowp RoundingDivideByPOT (round half away from zero)
 *   requantize    TFLite MultiplyByQuantizedMultiplier ("double rounding")
 *   requantize_s8 requantize + output zero point + clamp to [act_min, act_max]
 *
 * docs/integer-arithmetic.md states the rules; tests/test_hls_csim.py holds
 * these to the simulator bit for bit on every golden vector.
 */
#ifndef HIL_HLS_ARITH_H
#define HIL_HLS_ARITH_H

#include "hil_hls/types.h"

namespace hil {

/* floor(acc / 2^R), then ReLU if RELU: the whole shift-scheme epilogue. */
template <int R, bool RELU> inline acc_t floor_shift(acc_t acc)
{
#pragma HLS INLINE
    acc_t v = acc >> R;
    return (RELU && v < 0) ? acc_t(0) : v;
}

inline acc_t srdhm(acc_t a, acc_t b)
{
#pragma HLS INLINE
    const acc_t int32_min = acc_t(1) << 31; /* wraps to -2^31 */
    if (a == int32_min && b == int32_min) {
        return ~int32_min; /* INT32_MAX */
    }
    wide_t ab = wide_t(a) * wide_t(b);
    const wide_t half = wide_t(1) << 30;
    wide_t num = ab >= 0 ? wide_t(ab + half) : wide_t(ab + 1 - half);
    /* C division by 2^31, truncating toward zero */
    wide_t q = num >= 0 ? wide_t(num >> 31) : wide_t(-((-num) >> 31));
    return acc_t(q);
}

inline acc_t rdbpot(acc_t x, int exponent)
{
#pragma HLS INLINE
    wide_t mask = (wide_t(1) << exponent) - 1;
    wide_t remainder = wide_t(x) & mask;
    wide_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return acc_t((wide_t(x) >> exponent) + (remainder > threshold ? 1 : 0));
}

inline acc_t requantize(acc_t acc, acc_t multiplier, int shift)
{
#pragma HLS INLINE
    int left = shift > 0 ? shift : 0;
    int right = shift > 0 ? 0 : -shift;
    wide_t shifted = wide_t(acc) << left;
    const wide_t lo = -(wide_t(1) << 31), hi = (wide_t(1) << 31) - 1;
    acc_t x = acc_t(shifted < lo ? lo : (shifted > hi ? hi : shifted));
    return rdbpot(srdhm(x, multiplier), right);
}

inline s8_t requantize_s8(acc_t acc, acc_t multiplier, int shift, int out_zp, int act_min, int act_max)
{
#pragma HLS INLINE
    wide_t v = wide_t(requantize(acc, multiplier, shift)) + out_zp;
    return s8_t(v < act_min ? wide_t(act_min) : (v > act_max ? wide_t(act_max) : v));
}

}  // namespace hil

#endif /* HIL_HLS_ARITH_H */
