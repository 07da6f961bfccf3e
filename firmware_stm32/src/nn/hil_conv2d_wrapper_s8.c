/* hil_conv2d_wrapper_s8.c: picks the fastest dense convolution that fits. */
#include "nn/hil_conv2d_s8.h"

int hil_conv2d_wrapper_s8(const hil_conv_params_t *conv, const hil_quant_params_t *quant,
                          const hil_dims_t *in_dims, const int8_t *in, const int8_t *weights,
                          const int32_t *bias, const hil_dims_t *out_dims, int8_t *out)
{
    if (hil_conv2d_1x1_s8_applies(conv)) {
        return hil_conv2d_1x1_s8(conv, quant, in_dims, in, weights, bias, out_dims, out);
    }
    return hil_conv2d_s8(conv, quant, in_dims, in, weights, bias, out_dims, out);
}
