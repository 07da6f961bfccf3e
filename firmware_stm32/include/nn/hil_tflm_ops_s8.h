/* hil_tflm_ops_s8.h: TFLite Micro's int8 SOFTMAX, MEAN and PAD, CHW (the `softmax`,
 * `mean` and `pad` ops), bit for bit as golden/intsim/kernels.py softmax_s8,
 * mean_s8 and pad_s8 (docs/integer-arithmetic.md). No scratch memory. */
#ifndef HIL_TFLM_OPS_S8_H
#define HIL_TFLM_OPS_S8_H

#include <stdint.h>

#include "nn/hil_nn_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* SOFTMAX over the classes: the C values of each (y, x) of a CHW tensor (a vector
 * of n is (n, 1, 1)). Output scale 1/256, zero point -128.
 *   input_multiplier, input_left_shift, diff_min: TFLM's PreprocessSoftmaxScaling /
 *   CalculateInputRadius of beta * input_scale (arith.softmax_params);
 *   input_multiplier > 0, input_left_shift in [0, 31], diff_min <= 0.
 * Return HIL_NN_OK or HIL_NN_ERR_ARG. */
int hil_softmax_s8(const hil_dims_t *dims, int32_t input_multiplier, int32_t input_left_shift,
                   int32_t diff_min, const int8_t *in, int8_t *out);

/* MEAN over H and W (keep dims): out[c] = clamp(requantize(sum_c - input_zp * H*W,
 * multiplier', shift') + output_zp), (multiplier, shift) = QuantizeMultiplier(
 * input_scale / output_scale) with 1/(H*W) folded in as TFLM's QuantizedMeanOrSum.
 * H*W in [1, 2^23]. Return HIL_NN_OK or HIL_NN_ERR_ARG. */
int hil_mean_s8(const hil_dims_t *in_dims, int32_t input_zp, int32_t output_zp, int32_t multiplier,
                int32_t shift, const int8_t *in, int8_t *out);

/* PAD on H and W: out (C, top + H + bottom, left + W + right), new cells = pad_value
 * (the zero point). Return HIL_NN_OK or HIL_NN_ERR_ARG when out_dims disagree. */
int hil_pad_s8(const hil_dims_t *in_dims, hil_pad_t pads, int32_t pad_value, const int8_t *in,
               const hil_dims_t *out_dims, int8_t *out);

#ifdef __cplusplus
}
#endif

#endif /* HIL_TFLM_OPS_S8_H */
