/* hil_mean_s8.c: TFLite Micro's int8 MEAN over H and W (QuantizedMeanOrSum, keep dims). */
#include "nn/hil_tflm_ops_s8.h"

#include "nn/hil_requantize.h"

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
    const int32_t mult = (int32_t)(((int64_t)multiplier << k) / n);
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
