/* hil_maxpool2d_s8_opt.c: max pooling with SSUB8 + SEL (4 byte-wise maxima at once)
 * for windows over rows only (KH x 1, stride SH x 1, as kws_dscnn's pool) and
 * for 2x2 windows with stride 2 (mnist_lenet's); other shapes run the reference. */
#include "nn/hil_pool2d_s8.h"

#include "nn/hil_dsp.h"

/* 2x2, stride 2: the maxima of two rows, then of neighbouring columns. */
static void pool_2x2(const int8_t *in, int32_t c, int32_t h, int32_t w, int32_t oh, int32_t ow,
                     int8_t *out)
{
    for (int32_t ch = 0; ch < c; ch++) {
        for (int32_t oy = 0; oy < oh; oy++) {
            const int8_t *r0 = in + (ch * h + 2 * oy) * w, *r1 = r0 + w;
            int32_t ox = 0;
            for (; ox + 2 <= ow; ox += 2, out += 2) { /* 4 input columns -> 2 outputs */
                const int32_t v = hil_max_s8x4(hil_read_s8x4(r0 + 2 * ox), hil_read_s8x4(r1 + 2 * ox));
                const int32_t m = hil_max_s8x4(v, hil_ror8(v)); /* bytes 0 and 2 */
                out[0] = (int8_t)m;
                out[1] = (int8_t)(m >> 16);
            }
            for (; ox < ow; ox++) {
                int8_t m = r0[2 * ox];
                m = r0[2 * ox + 1] > m ? r0[2 * ox + 1] : m;
                m = r1[2 * ox] > m ? r1[2 * ox] : m;
                m = r1[2 * ox + 1] > m ? r1[2 * ox + 1] : m;
                *out++ = m;
            }
        }
    }
}

int hil_maxpool2d_s8_opt(const hil_pool_params_t *pool, const hil_dims_t *in_dims, const int8_t *in,
                         const hil_dims_t *out_dims, int8_t *out)
{
    const hil_pad_t no_padding = {0u, 0u, 0u, 0u};
    /* global, padded (SAME) and other shapes: the reference kernel */
    if (pool->global || out_dims->c != in_dims->c ||
        !hil_nn_window_ok(in_dims, out_dims, pool->kernel, pool->stride, no_padding)) {
        return hil_maxpool2d_s8_ref(pool, in_dims, in, out_dims, out);
    }
    if (pool->kernel.h == 2u && pool->kernel.w == 2u && pool->stride.h == 2u && pool->stride.w == 2u) {
        pool_2x2(in, in_dims->c, in_dims->h, in_dims->w, out_dims->h, out_dims->w, out);
        return HIL_NN_OK;
    }
    if (pool->kernel.w != 1u || pool->stride.w != 1u) {
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
