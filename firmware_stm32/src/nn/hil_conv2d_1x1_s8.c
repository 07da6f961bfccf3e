/* hil_conv2d_1x1_s8.c: pointwise (1x1, stride 1, no padding) int8 convolution.
 *
 * In CHW a pointwise convolution is a matrix product: out[o, p] = sum_i
 * (in[i, p] - zp) * w[o, i] over the N = H*W pixels p. With the DSP extension
 * four neighbouring pixels are read as one word per input channel, their
 * (x - zp) widened to 16 bits by SXTAB16 and paired over two input channels,
 * so one SMLAD does two multiply-accumulates. Integer sums are exact (int32,
 * wrapping), so both paths give the reference kernel's results bit for bit. */
#include "nn/hil_conv2d_s8.h"

#include "nn/hil_dsp.h"
#include "nn/hil_requantize.h"

int hil_conv2d_1x1_s8_applies(const hil_conv_params_t *conv)
{
    return conv->kernel.h == 1u && conv->kernel.w == 1u && conv->stride.h == 1u &&
           conv->stride.w == 1u && conv->padding.h == 0u && conv->padding.w == 0u;
}

/* One output pixel, plain C. */
static int32_t acc_pixel(const int8_t *in, int32_t n, int32_t cin, const int8_t *w_o, int32_t zp,
                         int32_t bias)
{
    uint32_t acc = (uint32_t)bias;
    for (int32_t i = 0; i < cin; i++) {
        acc += (uint32_t)(((int32_t)in[i * n] - zp) * (int32_t)w_o[i]);
    }
    return (int32_t)acc;
}

#if HIL_NN_DSP
/* Four neighbouring output pixels in[., p .. p+3] with SXTAB16 + SMLAD. */
static void acc_4_pixels(const int8_t *in, int32_t n, int32_t cin, const int8_t *w_o, int32_t zp,
                         int32_t bias, int32_t acc[4])
{
    const int32_t neg_zp2 = hil_pack_lo(-zp, -zp);
    int32_t a0 = bias, a1 = bias, a2 = bias, a3 = bias;
    int32_t i = 0;
    for (; i + 2 <= cin; i += 2) {
        const int32_t w01 = hil_pack_lo(w_o[i], w_o[i + 1]);
        const int32_t xa = hil_read_s8x4(in + i * n);        /* channel i, pixels 0..3 */
        const int32_t xb = hil_read_s8x4(in + (i + 1) * n);  /* channel i + 1 */
        const int32_t a02 = hil_sxtab16(neg_zp2, xa);        /* (x0 - zp, x2 - zp) */
        const int32_t a13 = hil_sxtab16(neg_zp2, hil_ror8(xa));
        const int32_t b02 = hil_sxtab16(neg_zp2, xb);
        const int32_t b13 = hil_sxtab16(neg_zp2, hil_ror8(xb));
        a0 = hil_smlad(hil_pack_lo(a02, b02), w01, a0);
        a1 = hil_smlad(hil_pack_lo(a13, b13), w01, a1);
        a2 = hil_smlad(hil_pack_hi(a02, b02), w01, a2);
        a3 = hil_smlad(hil_pack_hi(a13, b13), w01, a3);
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
    if (i < cin) { /* odd channel count: the last channel alone */
        const int8_t *x = in + i * n;
        for (int32_t k = 0; k < 4; k++) {
            acc[k] = (int32_t)((uint32_t)acc[k] + (uint32_t)(((int32_t)x[k] - zp) * (int32_t)w_o[i]));
        }
    }
}
#endif

int hil_conv2d_1x1_s8(const hil_conv_params_t *conv, const hil_quant_params_t *quant,
                      const hil_dims_t *in_dims, const int8_t *in, const int8_t *weights,
                      const int32_t *bias, const hil_dims_t *out_dims, int8_t *out)
{
    if (!hil_conv2d_1x1_s8_applies(conv) ||
        !hil_nn_window_ok(in_dims, out_dims, conv->kernel, conv->stride, conv->padding) ||
        out_dims->c == 0u) {
        return HIL_NN_ERR_ARG;
    }
    const int32_t cin = in_dims->c, n = (int32_t)in_dims->h * in_dims->w;
    const int32_t zp = conv->input_zp, out_zp = conv->output_zp;
    const int32_t lo = conv->act_min, hi = conv->act_max;

    for (int32_t o = 0; o < (int32_t)out_dims->c; o++) {
        const int8_t *w_o = weights + o * cin;
        const int32_t b = bias != 0 ? bias[o] : 0;
        const int32_t mult = quant->multiplier[o], shift = quant->shift[o];
        int32_t p = 0;
#if HIL_NN_DSP
        for (; p + 4 <= n; p += 4) {
            int32_t acc[4];
            acc_4_pixels(in + p, n, cin, w_o, zp, b, acc);
            for (int32_t k = 0; k < 4; k++) {
                *out++ = hil_requantize_s8(acc[k], mult, shift, out_zp, lo, hi);
            }
        }
#endif
        for (; p < n; p++) {
            *out++ = hil_requantize_s8(acc_pixel(in + p, n, cin, w_o, zp, b), mult, shift, out_zp,
                                       lo, hi);
        }
    }
    return HIL_NN_OK;
}
