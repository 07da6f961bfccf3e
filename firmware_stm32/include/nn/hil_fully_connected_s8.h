/* hil_fully_connected_s8.h: int8 fully connected layer over a flattened CHW
 * input (the `fully_connected` op):
 *
 *   out[o] = requantize_s8(bias[o] + sum_i (in[i] - input_zp) * w[o, i])
 * as golden/intsim/kernels.py fully_connected_s8.
 *
 *   fc        zero points and activation clamp
 *   quant     per output multiplier/shift, out_len entries each
 *   in_len    [1, 2^24]; in: in_len int8 values
 *   weights   [out_len, in_len] int8, row-major
 *   bias      out_len int32 values, or NULL
 *   out_len   [1, 65535]; out: out_len int8 values; must not overlap in
 * Return HIL_NN_OK or HIL_NN_ERR_ARG (a length is 0, nothing written). */
#ifndef HIL_FULLY_CONNECTED_S8_H
#define HIL_FULLY_CONNECTED_S8_H

#include <stdint.h>

#include "nn/hil_nn_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Reference kernel (plain C). */
int hil_fully_connected_s8_ref(const hil_fc_params_t *fc, const hil_quant_params_t *quant,
                               uint32_t in_len, const int8_t *in, const int8_t *weights,
                               const int32_t *bias, uint32_t out_len, int8_t *out);

/* Optimised kernel (Cortex-M4 DSP, SMLAD; portable C elsewhere), the reference's
 * results bit for bit. */
int hil_fully_connected_s8_opt(const hil_fc_params_t *fc, const hil_quant_params_t *quant,
                               uint32_t in_len, const int8_t *in, const int8_t *weights,
                               const int32_t *bias, uint32_t out_len, int8_t *out);

/* The kernel the build selected: _opt with HIL_NN_KERNELS_OPT=1 (make KERNELS=opt,
 * the default), _ref otherwise. */
int hil_fully_connected_s8(const hil_fc_params_t *fc, const hil_quant_params_t *quant,
                           uint32_t in_len, const int8_t *in, const int8_t *weights,
                           const int32_t *bias, uint32_t out_len, int8_t *out);

#ifdef __cplusplus
}
#endif

#endif /* HIL_FULLY_CONNECTED_S8_H */
