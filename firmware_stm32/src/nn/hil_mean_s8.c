/* hil_mean_s8.c: TFLite Micro's int8 MEAN over H and W (QuantizedMeanOrSum, keep dims). */
#include "nn/hil_tflm_ops_s8.h"

#include "nn/hil_requantize.h"

/* a / d for a < 2^63, d in [1, 2^23], by shift-and-subtract: no libgcc 64-bit division
 * on the Cortex-M4 (the result fits 32 bits: a = multiplier << k with 2^k <= d). */
static uint32_t div_u64_u32(uint64_t a, uint32_t d)
{
    uint64_t rem = 0, q = 0;
    for (int i = 63; i >= 0; i--) {
        rem = (rem << 1) | ((a >> i) & 1u);
        q <<= 1;
        if (rem >= d) {
            rem -= d;
            q |= 1u;
        }
    }
    return (uint32_t)q;
}

int hil_mean_s8(const hil_dims_t *in_dims, int32_t input_zp, int32_t output_zp, int32_t multiplier,
                int32_t shift, const int8_t *in, int8_t *out)
{
    const int32_t n = (int32_t)in_dims->h * in_dims->w;
    if (in_dims->c == 0u || n == 0 || n > (1 << 23) || shift < -31 || shift > 31) {
        return HIL_NN_ERR_ARG;
    }
    /* fold 1/n into the multiplier: k = min(floor(log2 n), 32, 31 + shift) */
    int32_t k = 0;
    while ((n >> (k + 1)) != 0) {
        k++;
    }
    k = k < 31 + shift ? k : 31 + shift;
    if (multiplier < 0) {
        return HIL_NN_ERR_ARG;
    }
    const int32_t mult = (int32_t)div_u64_u32((uint64_t)multiplier << k, (uint32_t)n);
    const int32_t sh = shift - k;
    for (int32_t c = 0; c < (int32_t)in_dims->c; c++) {
        int32_t sum = 0;
        for (int32_t i = 0; i < n; i++) {
            sum += in[c * n + i];
        }
        out[c] = hil_requantize_s8(sum - input_zp * n, mult, sh, output_zp, -128, 127);
    }
    return HIL_NN_OK;
}
