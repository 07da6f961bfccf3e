/* hil_maxpool2d_s8_ref.c: reference int8 max pooling (windowed, padded, or global). */
#include "nn/hil_pool2d_s8.h"

static int32_t max_i32(int32_t a, int32_t b) { return a > b ? a : b; }
static int32_t min_i32(int32_t a, int32_t b) { return a < b ? a : b; }

/* Maximum over rows [y0, y1) and columns [x0, x1) of a plane (the window's unpadded cells). */
static int8_t window_max(const int8_t *plane, int32_t w, int32_t y0, int32_t y1, int32_t x0, int32_t x1)
{
    int8_t m = plane[y0 * w + x0];
    for (int32_t y = y0; y < y1; y++) {
        for (int32_t x = x0; x < x1; x++) {
            const int8_t v = plane[y * w + x];
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
            out[c] = window_max(in + c * plane, w, 0, h, 0, w);
        }
        return HIL_NN_OK;
    }
    if (!hil_nn_window_ok(in_dims, out_dims, pool->kernel, pool->stride, pool->padding)) {
        return HIL_NN_ERR_ARG;
    }
    for (int32_t c = 0; c < (int32_t)in_dims->c; c++) {
        for (int32_t oy = 0; oy < (int32_t)out_dims->h; oy++) {
            const int32_t iy0 = oy * pool->stride.h - pool->padding.top;
            const int32_t y0 = max_i32(0, iy0), y1 = min_i32(h, iy0 + pool->kernel.h);
            for (int32_t ox = 0; ox < (int32_t)out_dims->w; ox++) {
                const int32_t ix0 = ox * pool->stride.w - pool->padding.left;
                const int32_t x0 = max_i32(0, ix0), x1 = min_i32(w, ix0 + pool->kernel.w);
                if (y0 >= y1 || x0 >= x1) {
                    return HIL_NN_ERR_ARG; /* a window of padding only has no maximum */
                }
                *out++ = window_max(in + c * plane, w, y0, y1, x0, x1);
            }
        }
    }
    return HIL_NN_OK;
}
