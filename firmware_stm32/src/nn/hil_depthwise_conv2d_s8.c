/* hil_depthwise_conv2d_s8.c: the depthwise kernel the build selected (KERNELS=opt|ref). */
#include "nn/hil_depthwise_conv2d_s8.h"

int hil_depthwise_conv2d_s8(const hil_conv_params_t *conv, const hil_quant_params_t *quant,
                            const hil_dims_t *in_dims, const int8_t *in, const int8_t *weights,
                            const int32_t *bias, const hil_dims_t *out_dims, int8_t *out)
{
#if HIL_NN_KERNELS_OPT
    return hil_depthwise_conv2d_s8_opt(conv, quant, in_dims, in, weights, bias, out_dims, out);
#else
    return hil_depthwise_conv2d_s8_ref(conv, quant, in_dims, in, weights, bias, out_dims, out);
#endif
}
