/* hil_fully_connected_s8_ref.c: reference int8 fully connected layer. */
#include "nn/hil_fully_connected_s8.h"

#include "nn/hil_requantize.h"

int hil_fully_connected_s8_ref(const hil_fc_params_t *fc, const hil_quant_params_t *quant,
                               uint32_t in_len, const int8_t *in, const int8_t *weights,
                               const int32_t *bias, uint32_t out_len, int8_t *out)
{
    if (in_len == 0u || out_len == 0u) {
        return HIL_NN_ERR_ARG;
    }
    const int32_t zp = fc->input_zp;
    for (uint32_t o = 0; o < out_len; o++) {
        const int8_t *w_o = weights + o * in_len;
        uint32_t acc = bias != 0 ? (uint32_t)bias[o] : 0u; /* int32, defined wrap-around */
        for (uint32_t i = 0; i < in_len; i++) {
            acc += (uint32_t)(((int32_t)in[i] - zp) * (int32_t)w_o[i]);
        }
        out[o] = hil_requantize_s8((int32_t)acc, quant->multiplier[o], quant->shift[o],
                                   fc->output_zp, fc->act_min, fc->act_max);
    }
    return HIL_NN_OK;
}
