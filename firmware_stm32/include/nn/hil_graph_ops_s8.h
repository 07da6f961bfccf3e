/* hil_graph_ops_s8.h: the int8 ops that make a model a graph rather than a chain
 * (golden/intsim/kernels.py add_s8, concat_s8, channel_shuffle, channel_slice,
 * grouped_conv2d_s8; docs/integer-arithmetic.md). Tensors are CHW int8; no op
 * writes over its inputs (out must not overlap any input).
 * Return HIL_NN_OK or HIL_NN_ERR_ARG (bad parameters, nothing written). */
#ifndef HIL_GRAPH_OPS_S8_H
#define HIL_GRAPH_OPS_S8_H

#include <stdint.h>

#include "nn/hil_nn_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* TFLite Micro ADD: both inputs (x - zp) << left_shift, each requantized by its
 * (multiplier, shift), the int32 sum requantized by the output's, + out_zp, clamped. */
typedef struct {
    int32_t in_zp[2];          /* [-128, 127] */
    int32_t in_multiplier[2];  /* Q31 */
    int32_t in_shift[2];       /* [-31, 0] */
    int32_t left_shift;        /* [0, 22]: (x - zp) << left_shift stays in int32 */
    int32_t out_multiplier;
    int32_t out_shift;         /* [-31, 31] */
    int32_t out_zp;            /* [-128, 127] */
    int32_t act_min;           /* [-128, 127] */
    int32_t act_max;           /* [act_min, 127] */
} hil_add_params_t;

int hil_add_s8(const hil_add_params_t *p, const int8_t *a, const int8_t *b, uint32_t size, int8_t *out);

/* Concatenation on channels: input i (sizes[i] values, whole CHW tensors)
 * requantized to the output scale, requantize(x - zps[i], multipliers[i], shifts[i])
 * + out_zp clamped to int8; copied when that is the identity. n in [1, 255]. */
int hil_concat_s8(uint32_t n, const int8_t *const *ins, const uint32_t *sizes, const int32_t *zps,
                  const int32_t *multipliers, const int32_t *shifts, int32_t out_zp, int8_t *out);

/* ShuffleNet channel shuffle: output channel j*groups + g = input channel g*(C/groups) + j.
 * groups divides dims->c. */
int hil_channel_shuffle_s8(const hil_dims_t *dims, uint16_t groups, const int8_t *in, int8_t *out);

/* Channels [start, start + out_c) of a (C, H, W) tensor. */
int hil_channel_slice_s8(const hil_dims_t *in_dims, uint16_t start, uint16_t out_c, const int8_t *in,
                         int8_t *out);

/* Grouped convolution: groups dense convolutions on contiguous channel ranges
 * (hil_conv2d_wrapper_s8 each); weights [Cout, Cin/groups, KH, KW]. */
int hil_grouped_conv2d_s8(const hil_conv_params_t *conv, const hil_quant_params_t *quant,
                          uint16_t groups, const hil_dims_t *in_dims, const int8_t *in,
                          const int8_t *weights, const int32_t *bias, const hil_dims_t *out_dims,
                          int8_t *out);

#ifdef __cplusplus
}
#endif

#endif /* HIL_GRAPH_OPS_S8_H */
