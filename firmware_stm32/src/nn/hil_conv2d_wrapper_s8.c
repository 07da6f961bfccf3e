/* hil_conv2d_wrapper_s8.c: the dense convolution the build selected
 * (KERNELS=opt: hil_conv2d_s8_opt, KERNELS=ref: hil_conv2d_s8_ref). */
#include "nn/hil_conv2d_s8.h"

int hil_conv2d_1x1_s8_applies(const hil_conv_params_t *conv)
{
    return conv->kernel.h == 1u && conv->kernel.w == 1u && conv->stride.h == 1u &&
           conv->stride.w == 1u && conv->padding.top == 0u && conv->padding.bottom == 0u &&
           conv->padding.left == 0u && conv->padding.right == 0u;
}

int hil_conv2d_wrapper_s8(const hil_conv_params_t *conv, const hil_quant_params_t *quant,
                          const hil_dims_t *in_dims, const int8_t *in, const int8_t *weights,
                          const int32_t *bias, const hil_dims_t *out_dims, int8_t *out)
{
#if HIL_NN_KERNELS_OPT
    return hil_conv2d_s8_opt(conv, quant, in_dims, in, weights, bias, out_dims, out);
#else
    return hil_conv2d_s8_ref(conv, quant, in_dims, in, weights, bias, out_dims, out);
#endif
}
