/* hil_concat_s8.c: concatenation on channels, each input requantized to the output scale. */
#include <string.h>

#include "nn/hil_graph_ops_s8.h"
#include "nn/hil_requantize.h"

int hil_concat_s8(uint32_t n, const int8_t *const *ins, const uint32_t *sizes, const int32_t *zps,
                  const int32_t *multipliers, const int32_t *shifts, int32_t out_zp, int8_t *out)
{
    if (n == 0u || n > 255u) {
        return HIL_NN_ERR_ARG;
    }
    for (uint32_t k = 0; k < n; k++) {
        if (shifts[k] < -31 || shifts[k] > 31) {
            return HIL_NN_ERR_ARG;
        }
    }
    for (uint32_t k = 0; k < n; k++) {
        const int8_t *x = ins[k];
        /* same scale and zero point: requantize(x - zp, 2^30, 1) + zp is x exactly */
        if (multipliers[k] == (INT32_C(1) << 30) && shifts[k] == 1 && zps[k] == out_zp) {
            memcpy(out, x, sizes[k]);
        } else {
            for (uint32_t i = 0; i < sizes[k]; i++) {
                out[i] = hil_requantize_s8((int32_t)x[i] - zps[k], multipliers[k], shifts[k], out_zp,
                                           -128, 127);
            }
        }
        out += sizes[k];
    }
    return HIL_NN_OK;
}
