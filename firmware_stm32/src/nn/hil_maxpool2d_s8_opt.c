/* hil_maxpool2d_s8_opt.c: max pooling over rows only (kernel KH x 1, stride SH x 1,
 * as kws_dscnn's pool), 4 values per SSUB8 + SEL; other shapes run the reference. */
#include "nn/hil_pool2d_s8.h"

#include "nn/hil_dsp.h"

int hil_maxpool2d_s8_opt(const hil_pool_params_t *pool, const hil_dims_t *in_dims, const int8_t *in,
                         const hil_dims_t *out_dims, int8_t *out)
{
    const hil_hw_t no_padding = {0u, 0u};
    if (pool->global || pool->kernel.w != 1u || pool->stride.w != 1u || out_dims->c != in_dims->c ||
        !hil_nn_window_ok(in_dims, out_dims, pool->kernel, pool->stride, no_padding)) {
        return hil_maxpool2d_s8_ref(pool, in_dims, in, out_dims, out);
    }
    const int32_t h = in_dims->h, w = in_dims->w, kh = pool->kernel.h;
    for (int32_t c = 0; c < (int32_t)in_dims->c; c++) {
        for (int32_t oy = 0; oy < (int32_t)out_dims->h; oy++) {
            const int8_t *x = in + (c * h + oy * (int32_t)pool->stride.h) * w;
            int32_t i = 0;
            if (kh == 2) {
                for (; i + 4 <= w; i += 4, out += 4) {
                    const int32_t m = hil_max_s8x4(hil_read_s8x4(x + i), hil_read_s8x4(x + w + i));
                    memcpy(out, &m, sizeof m);
                }
            }
            for (; i + 4 <= w; i += 4, out += 4) {
                int32_t m = hil_read_s8x4(x + i);
                for (int32_t ky = 1; ky < kh; ky++) {
                    m = hil_max_s8x4(m, hil_read_s8x4(x + ky * w + i));
                }
                memcpy(out, &m, sizeof m);
            }
            for (; i < w; i++) {
                int8_t m = x[i];
                for (int32_t ky = 1; ky < kh; ky++) {
                    m = x[ky * w + i] > m ? x[ky * w + i] : m;
                }
                *out++ = m;
            }
        }
    }
    return HIL_NN_OK;
}
