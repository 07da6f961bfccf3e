/* hil_softmax_s8.c: TFLite Micro's reference int8 softmax with gemmlowp fixed point
 * (arith.softmax_row): exp of Q5.26 differences, their sum in Q12.19, 1 / sum by
 * Newton-Raphson in Q2.29, the output rounded to 1/256 steps. */
#include "nn/hil_tflm_ops_s8.h"

#include "nn/hil_requantize.h"

#define DIFF_INTEGER_BITS 5  /* Q5.26 inputs of exp */
#define ACCUM_INTEGER_BITS 12 /* Q12.19 sum of exps */

/* gemmlowp SaturatingRoundingMultiplyByPOT for a positive exponent. */
static int32_t sat_shl(int32_t x, int32_t exponent)
{
    const int32_t threshold = (int32_t)((UINT32_C(1) << (31 - exponent)) - 1u);
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return (int32_t)((uint32_t)x << exponent);
}

/* exp(a) for a Q0.31 value a in [-1/4, 0): Taylor series around -1/8. */
static int32_t exp_quarter(int32_t a)
{
    const int32_t exp_minus_eighth = 1895147668, one_third = 715827883;
    const int32_t x = a + (1 << 28);
    const int32_t x2 = hil_srdhm(x, x), x3 = hil_srdhm(x2, x), x4 = hil_srdhm(x2, x2);
    const int32_t x4_over_4 = hil_rdbpot(x4, 2);
    const int32_t poly = hil_rdbpot(hil_srdhm(x4_over_4 + x3, one_third) + x2, 1);
    return exp_minus_eighth + hil_srdhm(exp_minus_eighth, x + poly);
}

/* exp(a) for a Q5.26 value a <= 0, as Q0.31. */
static int32_t exp_on_negative(int32_t a)
{
    static const int32_t barrel[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
    const int32_t frac = 31 - DIFF_INTEGER_BITS, quarter = 1 << (frac - 2);
    const int32_t a_mod = (a & (quarter - 1)) - quarter;
    int32_t result = exp_quarter(sat_shl(a_mod, DIFF_INTEGER_BITS));
    const int32_t remainder = a_mod - a;
    for (int32_t k = -2; k <= 4; k++) { /* exp(-2^k) for each set integer bit */
        if (remainder & (1 << (frac + k))) {
            result = hil_srdhm(result, barrel[k + 2]);
        }
    }
    return a == 0 ? INT32_MAX : result;
}

/* 1 / (1 + x) for a Q0.31 x in [0, 1), as Q0.31. */
static int32_t one_over_one_plus_x(int32_t a)
{
    const int64_t s = (int64_t)a + INT32_MAX;
    const int32_t half_denominator = (int32_t)((s + (s >= 0 ? 1 : -1)) / 2);
    int32_t x = 1515870810 + hil_srdhm(half_denominator, -1010580540); /* Q2.29 48/17 - 32/17 d */
    for (int i = 0; i < 3; i++) {
        const int32_t one_minus = (1 << 29) - hil_srdhm(half_denominator, x);
        x = x + sat_shl(hil_srdhm(x, one_minus), 2);
    }
    return sat_shl(x, 1);
}

static int32_t clz32(uint32_t v)
{
    int32_t n = 0;
    while (n < 32 && !(v & (UINT32_C(1) << (31 - n)))) {
        n++;
    }
    return n;
}

int hil_softmax_s8(const hil_dims_t *dims, int32_t input_multiplier, int32_t input_left_shift,
                   int32_t diff_min, const int8_t *in, int8_t *out)
{
    const int32_t c = dims->c, n = (int32_t)dims->h * dims->w;
    if (c == 0 || n == 0 || input_multiplier <= 0 || input_left_shift < 0 || input_left_shift > 31 ||
        diff_min > 0) {
        return HIL_NN_ERR_ARG;
    }
    for (int32_t p = 0; p < n; p++) { /* one row: the C values of pixel p, stride n */
        int32_t max = -128;
        for (int32_t i = 0; i < c; i++) {
            max = in[i * n + p] > max ? in[i * n + p] : max;
        }
        int32_t sum = 0; /* Q12.19 */
        for (int32_t i = 0; i < c; i++) {
            const int32_t d = in[i * n + p] - max;
            if (d >= diff_min) {
                const int32_t r = hil_srdhm(d * (1 << input_left_shift), input_multiplier);
                sum += hil_rdbpot(exp_on_negative(r), ACCUM_INTEGER_BITS);
            }
        }
        const int32_t headroom_plus_one = clz32((uint32_t)sum);
        const int32_t bits_over_unit = ACCUM_INTEGER_BITS - headroom_plus_one;
        const int32_t shifted_minus_one =
            (int32_t)(((uint32_t)sum << headroom_plus_one) - (UINT32_C(1) << 31));
        const int32_t scale = one_over_one_plus_x(shifted_minus_one);
        const int32_t exponent = bits_over_unit + 31 - 8;
        for (int32_t i = 0; i < c; i++) {
            const int32_t d = in[i * n + p] - max;
            int32_t q = -128;
            if (d >= diff_min) {
                const int32_t r = hil_srdhm(d * (1 << input_left_shift), input_multiplier);
                q = hil_rdbpot(hil_srdhm(scale, exp_on_negative(r)), exponent) - 128;
                q = q > 127 ? 127 : (q < -128 ? -128 : q);
            }
            out[i * n + p] = (int8_t)q;
        }
    }
    return HIL_NN_OK;
}
