/* hil_conv2d_s8.h: dense int8 convolution, CHW (the `conv2d` op).
 *
 *   out[o, y, x] = requantize_s8(bias[o] + sum_{i, ky, kx} (in[i, y*sh - top + ky, x*sw - left + kx]
 *                                 - input_zp) * w[o, i, ky, kx])
 * with out-of-range input positions contributing 0 (padding = input_zp), as
 * golden/intsim/kernels.py conv2d_s8. Accumulators are int32 (wrapping); the
 * simulator rejects models whose accumulators leave int32.
 *
 * Common arguments:
 *   conv      kernel, stride, padding, zero points and activation clamp
 *   quant     per output channel multiplier/shift, out_dims->c entries each
 *   in_dims   input (Cin, H, W); in: Cin*H*W int8 values
 *   weights   [Cout, Cin, KH, KW] int8, Cout = out_dims->c
 *   bias      Cout int32 values, or NULL
 *   out_dims  (Cout, OH, OW) with OH = (H + top + bottom - KH) / sh + 1, likewise OW
 *   out       Cout*OH*OW int8 values; must not overlap in
 * Return HIL_NN_OK, or HIL_NN_ERR_ARG when the shapes disagree (nothing written). */
#ifndef HIL_CONV2D_S8_H
#define HIL_CONV2D_S8_H

#include <stdint.h>

#include "nn/hil_nn_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Reference kernel (plain C): any kernel size, stride and padding. */
int hil_conv2d_s8_ref(const hil_conv_params_t *conv, const hil_quant_params_t *quant,
                      const hil_dims_t *in_dims, const int8_t *in, const int8_t *weights,
                      const int32_t *bias, const hil_dims_t *out_dims, int8_t *out);

/* Optimised kernel (Cortex-M4 DSP: SXTAB16/SMLAD; portable C with the same
 * results elsewhere): any kernel size, stride and padding, the results of
 * hil_conv2d_s8_ref() bit for bit. Uses hil_nn_scratch (not reentrant). */
int hil_conv2d_s8_opt(const hil_conv_params_t *conv, const hil_quant_params_t *quant,
                      const hil_dims_t *in_dims, const int8_t *in, const int8_t *weights,
                      const int32_t *bias, const hil_dims_t *out_dims, int8_t *out);

/* 1 if the convolution is pointwise: kernel 1x1, stride 1, no padding on any side. */
int hil_conv2d_1x1_s8_applies(const hil_conv_params_t *conv);

/* The kernel the build selected: _opt with HIL_NN_KERNELS_OPT=1 (make
 * KERNELS=opt, the default), _ref otherwise (make KERNELS=ref). */
int hil_conv2d_wrapper_s8(const hil_conv_params_t *conv, const hil_quant_params_t *quant,
                          const hil_dims_t *in_dims, const int8_t *in, const int8_t *weights,
                          const int32_t *bias, const hil_dims_t *out_dims, int8_t *out);

#ifdef __cplusplus
}
#endif

#endif /* HIL_CONV2D_S8_H */
