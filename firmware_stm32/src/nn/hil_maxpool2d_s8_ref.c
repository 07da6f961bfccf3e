/* hil_maxpool2d_s8_ref.c: reference int8 max pooling (windowed or global). */
#include "nn/hil_pool2d_s8.h"

static const hil_hw_t NO_PADDING = {0u, 0u};

static int8_t window_max(const int8_t *x, int32_t row_stride, int32_t kh, int32_t kw)
{
    int8_t m = x[0];
    for (int32_t ky = 0; ky < kh; ky++) {
        for (int32_t kx = 0; kx < kw; kx++) {
            const int8_t v = x[ky * row_stride + kx];
            m = v > m ? v : m;
        }
    }
    return m;
}

int hil_maxpool2d_s8_ref(const hil_pool_params_t *pool, const hil_dims_t *in_dims, const int8_t *in,
                         const hil_dims_t *out_dims, int8_t *out)
{
    if (in_dims->c == 0u || in_dims->h == 0u || in_dims->w == 0u || out_dims->c != in_dims->c) {
        return HIL_NN_ERR_ARG;
    }
    const int32_t h = in_dims->h, w = in_dims->w, plane = h * w;
    if (pool->global) {
        if (out_dims->h != 1u || out_dims->w != 1u) {
            return HIL_NN_ERR_ARG;
        }
        for (int32_t c = 0; c < (int32_t)in_dims->c; c++) {
            out[c] = window_max(in + c * plane, w, h, w);
        }
        return HIL_NN_OK;
    }
    if (!hil_nn_window_ok(in_dims, out_dims, pool->kernel, pool->stride, NO_PADDING)) {
        return HIL_NN_ERR_ARG;
    }
    for (int32_t c = 0; c < (int32_t)in_dims->c; c++) {
        for (int32_t oy = 0; oy < (int32_t)out_dims->h; oy++) {
            for (int32_t ox = 0; ox < (int32_t)out_dims->w; ox++) {
                const int8_t *x = in + (c * plane + oy * pool->stride.h * w + ox * pool->stride.w);
                *out++ = window_max(x, w, pool->kernel.h, pool->kernel.w);
            }
        }
    }
    return HIL_NN_OK;
}
