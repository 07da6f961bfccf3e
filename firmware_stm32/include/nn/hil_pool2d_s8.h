/* hil_pool2d_s8.h: int8 pooling, CHW (the `maxpool2d` and `avgpool2d` ops).
 * Scale and zero point pass through unchanged. Floor mode (windows that would
 * cross the bottom/right edge of the padded input are dropped); padded cells
 * take no part (TFLM), as golden/intsim/kernels.py maxpool2d / avgpool2d_s8.
 *
 *   pool      kernel, stride and padding (each window keeps an unpadded cell), or global (max pool only)
 *   in_dims   (C, H, W); in: C*H*W int8 values
 *   out_dims  (C, OH, OW), OH = (H + top + bottom - KH) / SH + 1, likewise OW; (C, 1, 1) when global
 *   out       C*OH*OW int8 values; must not overlap in
 * Return HIL_NN_OK or HIL_NN_ERR_ARG (shapes disagree, nothing written). */
#ifndef HIL_POOL2D_S8_H
#define HIL_POOL2D_S8_H

#include <stdint.h>

#include "nn/hil_nn_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Window maximum; pool->global pools all of H x W. _ref: plain C; _opt: rows-only
 * windows (KH x 1, stride SH x 1) 4 values at a time, others (padded ones too) as _ref; the
 * unsuffixed one is the kernel the build selected (KERNELS=opt|ref). */
int hil_maxpool2d_s8_ref(const hil_pool_params_t *pool, const hil_dims_t *in_dims, const int8_t *in,
                         const hil_dims_t *out_dims, int8_t *out);
int hil_maxpool2d_s8_opt(const hil_pool_params_t *pool, const hil_dims_t *in_dims, const int8_t *in,
                         const hil_dims_t *out_dims, int8_t *out);
int hil_maxpool2d_s8(const hil_pool_params_t *pool, const hil_dims_t *in_dims, const int8_t *in,
                     const hil_dims_t *out_dims, int8_t *out);

/* Window average with TFLite Micro rounding (arith.avgpool_round):
 * (sum + count/2) / count for sum > 0, (sum - count/2) / count otherwise,
 * truncating toward zero; count = the window's unpadded cells, in [1, 2^23].
 * pool->global is rejected. */
int hil_avgpool2d_s8(const hil_pool_params_t *pool, const hil_dims_t *in_dims, const int8_t *in,
                     const hil_dims_t *out_dims, int8_t *out);

#ifdef __cplusplus
}
#endif

#endif /* HIL_POOL2D_S8_H */
