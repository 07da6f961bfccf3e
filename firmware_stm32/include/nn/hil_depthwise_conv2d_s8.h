/* hil_depthwise_conv2d_s8.h: depthwise int8 convolution, depth multiplier
 * M = out_dims->c / in_dims->c >= 1, CHW (the `depthwise_conv2d` op):
 *
 *   out[c, y, x] = requantize_s8(bias[c] + sum_{ky, kx} (in[c / M, y*sh - top + ky, x*sw - left + kx]
 *                                 - input_zp) * w[c, 0, ky, kx])
 * padding contributing 0, as golden/intsim/kernels.py depthwise_conv2d_s8.
 *
 *   conv      kernel, stride, padding, zero points and activation clamp
 *   quant     per output channel multiplier/shift, C*M entries each
 *   in_dims   (C, H, W); in: C*H*W int8 values
 *   weights   [C*M, 1, KH, KW] int8
 *   bias      C*M int32 values, or NULL
 *   out_dims  (C*M, OH, OW), OH = (H + top + bottom - KH) / sh + 1, likewise OW
 *   out       C*OH*OW int8 values; must not overlap in
 * Return HIL_NN_OK or HIL_NN_ERR_ARG (shapes disagree, nothing written). */
#ifndef HIL_DEPTHWISE_CONV2D_S8_H
#define HIL_DEPTHWISE_CONV2D_S8_H

#include <stdint.h>

#include "nn/hil_nn_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Reference kernel (plain C). */
int hil_depthwise_conv2d_s8_ref(const hil_conv_params_t *conv, const hil_quant_params_t *quant,
                                const hil_dims_t *in_dims, const int8_t *in, const int8_t *weights,
                                const int32_t *bias, const hil_dims_t *out_dims, int8_t *out);

/* Optimised kernel (Cortex-M4 DSP, SMLAD; portable C elsewhere), the reference's
 * results bit for bit; uses hil_nn_scratch (not reentrant). */
int hil_depthwise_conv2d_s8_opt(const hil_conv_params_t *conv, const hil_quant_params_t *quant,
                                const hil_dims_t *in_dims, const int8_t *in, const int8_t *weights,
                                const int32_t *bias, const hil_dims_t *out_dims, int8_t *out);

/* The kernel the build selected: _opt with HIL_NN_KERNELS_OPT=1 (make KERNELS=opt,
 * the default), _ref otherwise. */
int hil_depthwise_conv2d_s8(const hil_conv_params_t *conv, const hil_quant_params_t *quant,
                            const hil_dims_t *in_dims, const int8_t *in, const int8_t *weights,
                            const int32_t *bias, const hil_dims_t *out_dims, int8_t *out);

#ifdef __cplusplus
}
#endif

#endif /* HIL_DEPTHWISE_CONV2D_S8_H */
