/* hil_depthwise_conv2d_s8_opt.c: depthwise 3x3, stride 1, any padding, with SMLAD.
 *
 * Per channel the input plane is rewritten once as (x - input_zp) int16 with
 * the padding as zeros (hil_nn_scratch). Two neighbouring outputs share every
 * load: with d0 = (p[x], p[x+1]) and d1 = (p[x+2], p[x+3]) of a plane row,
 *   out[x]     += SMLAD(d0, (w0, w1)) + SMLAD(d1, (w2, 0))
 *   out[x + 1] += SMLAD(d0, (0, w0))  + SMLAD(d1, (w1, w2)).
 * Other shapes, and planes that do not fit the scratch buffer, run the
 * reference kernel; results are the reference's bit for bit. */
#include "nn/hil_depthwise_conv2d_s8.h"

#include "hil_nn_opt.h"

int hil_depthwise_conv2d_s8_opt(const hil_conv_params_t *conv, const hil_quant_params_t *quant,
                                const hil_dims_t *in_dims, const int8_t *in, const int8_t *weights,
                                const int32_t *bias, const hil_dims_t *out_dims, int8_t *out)
{
    if (!hil_nn_window_ok(in_dims, out_dims, conv->kernel, conv->stride, conv->padding) ||
        out_dims->c != in_dims->c) {
        return HIL_NN_ERR_ARG;
    }
    const int32_t h = in_dims->h, w = in_dims->w, oh = out_dims->h, ow = out_dims->w;
    const int32_t ph = conv->padding.h, pw = conv->padding.w;
    const int32_t owe = (ow + 1) & ~1;
    int32_t wp = w + 2 * pw > owe + 2 ? w + 2 * pw : owe + 2;
    wp = (wp + 1) & ~1; /* rows start on a word */
    const int32_t hp = h + 2 * ph;
    if (conv->kernel.h != 3u || conv->kernel.w != 3u || conv->stride.h != 1u ||
        conv->stride.w != 1u || (uint32_t)(hp * wp) > HIL_NN_SCRATCH_BYTES / 2u) {
        return hil_depthwise_conv2d_s8_ref(conv, quant, in_dims, in, weights, bias, out_dims, out);
    }
    int32_t *plane = hil_nn_scratch;
    for (int32_t i = 0; i < hp * wp / 2; i++) {
        plane[i] = 0; /* padding stays zero for every channel */
    }
    const int32_t zp = conv->input_zp, row_words = wp / 2;
    for (int32_t c = 0; c < (int32_t)in_dims->c; c++) {
        const int8_t *x = in + c * h * w;
        for (int32_t y = 0; y < h; y++) {
            for (int32_t i = 0; i < w; i++) {
                hil_put_q15(plane, (y + ph) * wp + pw + i, (int32_t)x[y * w + i] - zp);
            }
        }
        const int8_t *k = weights + 9 * c;
        int32_t wv[3][4];
        for (int32_t ky = 0; ky < 3; ky++) {
            const int32_t w0 = k[3 * ky], w1 = k[3 * ky + 1], w2 = k[3 * ky + 2];
            wv[ky][0] = hil_pack_lo(w0, w1);
            wv[ky][1] = hil_pack_lo(w2, 0);
            wv[ky][2] = hil_pack_lo(0, w0);
            wv[ky][3] = hil_pack_lo(w1, w2);
        }
        hil_rq_t q;
        hil_rq_init(&q, quant->multiplier[c], quant->shift[c], conv->output_zp, conv->act_min,
                    conv->act_max);
        const int32_t b = bias != 0 ? bias[c] : 0;
        int8_t *y_c = out + c * oh * ow;
        for (int32_t oy = 0; oy < oh; oy++) {
            const int32_t *r0 = plane + oy * row_words;
            int8_t *yr = y_c + oy * ow;
            for (int32_t ox = 0; ox < ow; ox += 2) {
                const int32_t *r = r0 + ox / 2;
                int32_t a0 = b, a1 = b;
                for (int32_t ky = 0; ky < 3; ky++, r += row_words) {
                    const int32_t d0 = r[0], d1 = r[1];
                    a0 = hil_smlad(d0, wv[ky][0], a0);
                    a0 = hil_smlad(d1, wv[ky][1], a0);
                    a1 = hil_smlad(d0, wv[ky][2], a1);
                    a1 = hil_smlad(d1, wv[ky][3], a1);
                }
                yr[ox] = hil_rq(a0, &q);
                if (ox + 1 < ow) {
                    yr[ox + 1] = hil_rq(a1, &q);
                }
            }
        }
    }
    return HIL_NN_OK;
}
