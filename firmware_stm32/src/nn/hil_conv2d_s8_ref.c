/* hil_conv2d_s8_ref.c: reference dense int8 convolution (any kernel, stride, padding). */
#include "nn/hil_conv2d_s8.h"

#include "nn/hil_requantize.h"

static int32_t max_i32(int32_t a, int32_t b) { return a > b ? a : b; }
static int32_t min_i32(int32_t a, int32_t b) { return a < b ? a : b; }

int hil_conv2d_s8_ref(const hil_conv_params_t *conv, const hil_quant_params_t *quant,
                      const hil_dims_t *in_dims, const int8_t *in, const int8_t *weights,
                      const int32_t *bias, const hil_dims_t *out_dims, int8_t *out)
{
    if (!hil_nn_window_ok(in_dims, out_dims, conv->kernel, conv->stride, conv->padding) ||
        out_dims->c == 0u) {
        return HIL_NN_ERR_ARG;
    }
    const int32_t cin = in_dims->c, h = in_dims->h, w = in_dims->w;
    const int32_t kh = conv->kernel.h, kw = conv->kernel.w;
    const int32_t sh = conv->stride.h, sw = conv->stride.w;
    const int32_t ph = conv->padding.top, pw = conv->padding.left;
    const int32_t zp = conv->input_zp;
    const int32_t in_plane = h * w, k_plane = kh * kw;

    for (int32_t o = 0; o < (int32_t)out_dims->c; o++) {
        const int8_t *w_o = weights + o * cin * k_plane;
        const uint32_t b = bias != 0 ? (uint32_t)bias[o] : 0u;
        const int32_t mult = quant->multiplier[o], shift = quant->shift[o];
        for (int32_t oy = 0; oy < (int32_t)out_dims->h; oy++) {
            const int32_t iy0 = oy * sh - ph;
            const int32_t ky_lo = max_i32(0, -iy0), ky_hi = min_i32(kh, h - iy0);
            for (int32_t ox = 0; ox < (int32_t)out_dims->w; ox++) {
                const int32_t ix0 = ox * sw - pw;
                const int32_t kx_lo = max_i32(0, -ix0), kx_hi = min_i32(kw, w - ix0);
                uint32_t acc = b; /* int32 arithmetic with defined wrap-around */
                for (int32_t i = 0; i < cin; i++) {
                    for (int32_t ky = ky_lo; ky < ky_hi; ky++) {
                        /* first in-range tap of this kernel row: pointers stay inside the tensors */
                        const int8_t *x_row = in + (i * in_plane + (iy0 + ky) * w + ix0 + kx_lo);
                        const int8_t *w_row = w_o + (i * k_plane + ky * kw + kx_lo);
                        for (int32_t n = 0; n < kx_hi - kx_lo; n++) {
                            acc += (uint32_t)(((int32_t)x_row[n] - zp) * (int32_t)w_row[n]);
                        }
                    }
                }
                *out++ = hil_requantize_s8((int32_t)acc, mult, shift, conv->output_zp,
                                           conv->act_min, conv->act_max);
            }
        }
    }
    return HIL_NN_OK;
}
