/* hil_grouped_conv2d_s8.c: grouped convolution as one dense convolution per group.
 * In CHW a group's input channels, output channels, weights and per-channel
 * parameters are contiguous, so each group runs the fastest dense kernel. */
#include "nn/hil_conv2d_s8.h"
#include "nn/hil_graph_ops_s8.h"

int hil_grouped_conv2d_s8(const hil_conv_params_t *conv, const hil_quant_params_t *quant,
                          uint16_t groups, const hil_dims_t *in_dims, const int8_t *in,
                          const int8_t *weights, const int32_t *bias, const hil_dims_t *out_dims,
                          int8_t *out)
{
    if (groups == 0u || in_dims->c % groups != 0u || out_dims->c % groups != 0u) {
        return HIL_NN_ERR_ARG;
    }
    const hil_dims_t gin = {(uint16_t)(in_dims->c / groups), in_dims->h, in_dims->w};
    const hil_dims_t gout = {(uint16_t)(out_dims->c / groups), out_dims->h, out_dims->w};
    const uint32_t in_step = (uint32_t)gin.c * gin.h * gin.w;
    const uint32_t out_step = (uint32_t)gout.c * gout.h * gout.w;
    const uint32_t w_step = (uint32_t)gout.c * gin.c * conv->kernel.h * conv->kernel.w;
    for (uint32_t g = 0; g < groups; g++) {
        const uint32_t oc = g * gout.c;
        const hil_quant_params_t q = {quant->multiplier + oc, quant->shift + oc};
        const int rc = hil_conv2d_wrapper_s8(conv, &q, &gin, in + g * in_step, weights + g * w_step,
                                             bias != 0 ? bias + oc : 0, &gout, out + g * out_step);
        if (rc != HIL_NN_OK) {
            return rc;
        }
    }
    return HIL_NN_OK;
}
