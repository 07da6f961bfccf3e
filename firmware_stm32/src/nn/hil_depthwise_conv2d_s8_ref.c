/* hil_depthwise_conv2d_s8_ref.c: reference depthwise int8 convolution, any depth multiplier
 * M = out_dims->c / in_dims->c (output channel oc reads input channel oc / M). */
#include "nn/hil_depthwise_conv2d_s8.h"

#include "nn/hil_requantize.h"

static int32_t max_i32(int32_t a, int32_t b) { return a > b ? a : b; }
static int32_t min_i32(int32_t a, int32_t b) { return a < b ? a : b; }

int hil_depthwise_conv2d_s8_ref(const hil_conv_params_t *conv, const hil_quant_params_t *quant,
                                const hil_dims_t *in_dims, const int8_t *in, const int8_t *weights,
                                const int32_t *bias, const hil_dims_t *out_dims, int8_t *out)
{
    if (!hil_nn_window_ok(in_dims, out_dims, conv->kernel, conv->stride, conv->padding) ||
        out_dims->c == 0u || out_dims->c % in_dims->c != 0u) {
        return HIL_NN_ERR_ARG;
    }
    const int32_t mult_depth = out_dims->c / in_dims->c;
    const int32_t h = in_dims->h, w = in_dims->w;
    const int32_t kh = conv->kernel.h, kw = conv->kernel.w;
    const int32_t sh = conv->stride.h, sw = conv->stride.w;
    const int32_t ph = conv->padding.top, pw = conv->padding.left;
    const int32_t zp = conv->input_zp;
    const int32_t in_plane = h * w, k_plane = kh * kw;

    for (int32_t c = 0; c < (int32_t)out_dims->c; c++) {
        const int8_t *x_c = in + (c / mult_depth) * in_plane;
        const int8_t *w_c = weights + c * k_plane;
        const uint32_t b = bias != 0 ? (uint32_t)bias[c] : 0u;
        const int32_t mult = quant->multiplier[c], shift = quant->shift[c];
        for (int32_t oy = 0; oy < (int32_t)out_dims->h; oy++) {
            const int32_t iy0 = oy * sh - ph;
            const int32_t ky_lo = max_i32(0, -iy0), ky_hi = min_i32(kh, h - iy0);
            for (int32_t ox = 0; ox < (int32_t)out_dims->w; ox++) {
                const int32_t ix0 = ox * sw - pw;
                const int32_t kx_lo = max_i32(0, -ix0), kx_hi = min_i32(kw, w - ix0);
                uint32_t acc = b; /* int32 arithmetic with defined wrap-around */
                for (int32_t ky = ky_lo; ky < ky_hi; ky++) {
                    /* first in-range tap of this kernel row: pointers stay inside the tensors */
                    const int8_t *x_row = x_c + ((iy0 + ky) * w + ix0 + kx_lo);
                    const int8_t *w_row = w_c + (ky * kw + kx_lo);
                    for (int32_t n = 0; n < kx_hi - kx_lo; n++) {
                        acc += (uint32_t)(((int32_t)x_row[n] - zp) * (int32_t)w_row[n]);
                    }
                }
                *out++ = hil_requantize_s8((int32_t)acc, mult, shift, conv->output_zp,
                                           conv->act_min, conv->act_max);
            }
        }
    }
    return HIL_NN_OK;
}
