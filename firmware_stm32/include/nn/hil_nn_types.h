/* hil_nn_types.h: shapes, parameter records and status codes shared by the
 * int8 kernels (hil_*_s8) and the model executor (hil_model.h).
 *
 * Conventions (docs/architecture.md, docs/integer-arithmetic.md):
 *   activations  int8, CHW, row-major, no batch dimension
 *   conv weights int8 [Cout, Cin, KH, KW]; depthwise [C*M, 1, KH, KW]; FC [Out, In]
 *   bias         int32 per output channel, or NULL for none
 *   requantize   per output channel (multiplier, shift), golden/intsim/arith.py
 * Portable C99; no malloc; the kernels need no scratch memory. */
#ifndef HIL_NN_TYPES_H
#define HIL_NN_TYPES_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Kernel and executor results. */
#define HIL_NN_OK 0
#define HIL_NN_ERR_ARG (-1)    /* inconsistent shapes or parameters */
#define HIL_NN_ERR_ARENA (-2)  /* the model needs more arena than was generated */
#define HIL_NN_ERR_OP (-3)     /* unknown layer op */
#define HIL_NN_ERR_LAYER (-4)  /* layer index out of range, or layer chain broken */

/* Tensor dimensions, CHW. Each in [1, 65535]; a vector of n values is (n, 1, 1). */
typedef struct {
    uint16_t c;
    uint16_t h;
    uint16_t w;
} hil_dims_t;

/* A (height, width) pair: kernel, stride or padding. */
typedef struct {
    uint16_t h;
    uint16_t w;
} hil_hw_t;

/* Padding before/after each spatial axis (TFLite SAME with an odd total pads the
 * extra row/column at the bottom/right; golden.intsim.padding.pad4). */
typedef struct {
    uint16_t top;
    uint16_t bottom;
    uint16_t left;
    uint16_t right;
} hil_pad_t;

/* Convolution (dense, 1x1 and depthwise). */
typedef struct {
    hil_hw_t kernel;   /* [1, 65535] each */
    hil_hw_t stride;   /* [1, 65535] each */
    hil_pad_t padding; /* [0, 65535] each; padded positions hold input_zp, i.e. contribute 0 */
    int32_t input_zp;  /* [-128, 127] */
    int32_t output_zp; /* [-128, 127] */
    int32_t act_min;   /* [-128, 127]; output_zp for a fused ReLU */
    int32_t act_max;   /* [act_min, 127] */
} hil_conv_params_t;

/* Fully connected. */
typedef struct {
    int32_t input_zp;  /* [-128, 127] */
    int32_t output_zp; /* [-128, 127] */
    int32_t act_min;   /* [-128, 127] */
    int32_t act_max;   /* [act_min, 127] */
} hil_fc_params_t;

/* Per output channel requantization, M = multiplier * 2^(shift - 31). */
typedef struct {
    const int32_t *multiplier; /* one per output channel, any int32 ([2^30, 2^31) from QuantizeMultiplier, or 0) */
    const int32_t *shift;      /* one per output channel, [-31, 31]; > 0 is a left shift */
} hil_quant_params_t;

/* Pooling (max and average), floor mode: windows crossing the bottom/right edge
 * of the padded input are dropped; padded cells take no part (TFLM): max over
 * the unpadded cells, average over their count. */
typedef struct {
    hil_hw_t kernel;   /* [1, 65535] each; ignored when global */
    hil_hw_t stride;   /* [1, 65535] each; ignored when global */
    uint8_t global;    /* 1: pool all of H x W into (C, 1, 1) (max pool only) */
    hil_pad_t padding; /* every window must hold at least one unpadded cell */
} hil_pool_params_t;

/* Output extent of a convolution/pool along one axis (floor mode), or -1 if the
 * window does not fit even once. */
static inline int32_t hil_nn_out_extent(int32_t in, int32_t kernel, int32_t stride, int32_t pad_lo,
                                        int32_t pad_hi)
{
    const int32_t span = in + pad_lo + pad_hi - kernel;
    if (kernel < 1 || stride < 1 || pad_lo < 0 || pad_hi < 0 || span < 0) {
        return -1;
    }
    return span / stride + 1;
}

/* 1 if out is the output of a kernel/stride/padding window over in (channels not checked). */
static inline int hil_nn_window_ok(const hil_dims_t *in, const hil_dims_t *out, hil_hw_t kernel,
                                   hil_hw_t stride, hil_pad_t padding)
{
    return in->c > 0u && in->h > 0u && in->w > 0u &&
           hil_nn_out_extent(in->h, kernel.h, stride.h, padding.top, padding.bottom) == (int32_t)out->h &&
           hil_nn_out_extent(in->w, kernel.w, stride.w, padding.left, padding.right) == (int32_t)out->w;
}

#ifdef __cplusplus
}
#endif

#endif /* HIL_NN_TYPES_H */
