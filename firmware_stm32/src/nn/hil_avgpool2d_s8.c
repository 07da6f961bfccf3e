/* hil_avgpool2d_s8.c: int8 average pooling, TFLite Micro rounding. */
#include "nn/hil_pool2d_s8.h"

static const hil_hw_t NO_PADDING = {0u, 0u};

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
        !hil_nn_window_ok(in_dims, out_dims, pool->kernel, pool->stride, NO_PADDING)) {
        return HIL_NN_ERR_ARG;
    }
    const int32_t h = in_dims->h, w = in_dims->w, plane = h * w;
    const int32_t kh = pool->kernel.h, kw = pool->kernel.w;
    for (int32_t c = 0; c < (int32_t)in_dims->c; c++) {
        for (int32_t oy = 0; oy < (int32_t)out_dims->h; oy++) {
            for (int32_t ox = 0; ox < (int32_t)out_dims->w; ox++) {
                const int8_t *x = in + (c * plane + oy * pool->stride.h * w + ox * pool->stride.w);
                int32_t sum = 0;
                for (int32_t ky = 0; ky < kh; ky++) {
                    for (int32_t kx = 0; kx < kw; kx++) {
                        sum += x[ky * w + kx];
                    }
                }
                *out++ = avg_round(sum, kh * kw);
            }
        }
    }
    return HIL_NN_OK;
}
