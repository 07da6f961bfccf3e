/* hil_requantize.h: the int8 scheme's requantization, bit for bit as
 * golden/intsim/arith.py (TFLite Micro / CMSIS-NN "double rounding"):
 *
 *   hil_srdhm(a, b)    = SaturatingRoundingDoublingHighMul: (a*b + nudge) / 2^31,
 *                        nudge 2^30 (product >= 0) or 1 - 2^30, C truncation;
 *                        INT32_MIN * INT32_MIN saturates to INT32_MAX.
 *   hil_rdbpot(x, e)   = RoundingDivideByPOT: x / 2^e, round half away from zero.
 *   hil_requantize()   = MultiplyByQuantizedMultiplier: a left shift (shift > 0)
 *                        saturating to int32 BEFORE the high multiply, a right
 *                        shift (shift < 0) after it.
 *   hil_requantize_s8()= + output zero point, clamp to [act_min, act_max].
 *
 * Relies on arithmetic right shift of negative values (every ARM and x86 C
 * compiler). Any change here must keep tests/test_c_kernels.py passing. */
#ifndef HIL_REQUANTIZE_H
#define HIL_REQUANTIZE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* a, b: any int32. */
static inline int32_t hil_srdhm(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    const int64_t ab = (int64_t)a * (int64_t)b;
    const int64_t nudge = ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31)); /* truncates toward zero, as C does */
}

/* x: any int32; exponent: [0, 31]. */
static inline int32_t hil_rdbpot(int32_t x, int32_t exponent)
{
    const int32_t mask = (int32_t)((UINT32_C(1) << exponent) - 1u);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* acc << left saturated to int32; left: [0, 31]. */
static inline int32_t hil_sat_shl(int32_t acc, int32_t left)
{
    if (acc > (INT32_MAX >> left)) {
        return INT32_MAX;
    }
    if (acc < (INT32_MIN >> left)) {
        return INT32_MIN;
    }
    return (int32_t)((uint32_t)acc << left);
}

/* acc: any int32; multiplier: any int32; shift: [-31, 31]. */
static inline int32_t hil_requantize(int32_t acc, int32_t multiplier, int32_t shift)
{
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t right = shift > 0 ? 0 : -shift;
    return hil_rdbpot(hil_srdhm(hil_sat_shl(acc, left), multiplier), right);
}

/* Requantized value + output_zp clamped to [act_min, act_max], as int8.
 * output_zp, act_min, act_max: [-128, 127], act_min <= act_max. The clamp is
 * applied before the addition (to [act_min - zp, act_max - zp]) so it cannot
 * overflow; the result equals clamp(requantize + zp) computed exactly. */
static inline int8_t hil_requantize_s8(int32_t acc, int32_t multiplier, int32_t shift,
                                       int32_t output_zp, int32_t act_min, int32_t act_max)
{
    int32_t v = hil_requantize(acc, multiplier, shift);
    if (v < act_min - output_zp) {
        v = act_min - output_zp;
    }
    if (v > act_max - output_zp) {
        v = act_max - output_zp;
    }
    return (int8_t)(v + output_zp);
}

#ifdef __cplusplus
}
#endif

#endif /* HIL_REQUANTIZE_H */
