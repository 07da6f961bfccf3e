/* hil_avgpool2d_s8.c: int8 average pooling, TFLite Micro rounding; with padding the
 * count is that of the window's unpadded cells (TFLM). */
#include "nn/hil_pool2d_s8.h"

static int32_t max_i32(int32_t a, int32_t b) { return a > b ? a : b; }
static int32_t min_i32(int32_t a, int32_t b) { return a < b ? a : b; }

/* arith.avgpool_round: (sum +- count/2) / count, truncating toward zero. */
static int8_t avg_round(int32_t sum, int32_t count)
{
    const int32_t half = count / 2;
    const int32_t num = sum > 0 ? sum + half : sum - half;
    return (int8_t)(num / count);
}

int hil_avgpool2d_s8(const hil_pool_params_t *pool, const hil_dims_t *in_dims, const int8_t *in,
                     const hil_dims_t *out_dims, int8_t *out)
{
    if (pool->global || out_dims->c != in_dims->c ||
        !hil_nn_window_ok(in_dims, out_dims, pool->kernel, pool->stride, pool->padding)) {
        return HIL_NN_ERR_ARG;
    }
    const int32_t h = in_dims->h, w = in_dims->w, plane = h * w;
    for (int32_t c = 0; c < (int32_t)in_dims->c; c++) {
        const int8_t *x = in + c * plane;
        for (int32_t oy = 0; oy < (int32_t)out_dims->h; oy++) {
            const int32_t iy0 = oy * pool->stride.h - pool->padding.top;
            const int32_t y0 = max_i32(0, iy0), y1 = min_i32(h, iy0 + pool->kernel.h);
            for (int32_t ox = 0; ox < (int32_t)out_dims->w; ox++) {
                const int32_t ix0 = ox * pool->stride.w - pool->padding.left;
                const int32_t x0 = max_i32(0, ix0), x1 = min_i32(w, ix0 + pool->kernel.w);
                if (y0 >= y1 || x0 >= x1) {
                    return HIL_NN_ERR_ARG; /* a window of padding only (TFLM refuses it too) */
                }
                int32_t sum = 0;
                for (int32_t y = y0; y < y1; y++) {
                    for (int32_t xx = x0; xx < x1; xx++) {
                        sum += x[y * w + xx];
                    }
                }
                *out++ = avg_round(sum, (y1 - y0) * (x1 - x0));
            }
        }
    }
    return HIL_NN_OK;
}
