/* hil_depthwise_conv2d_s8_opt.c: depthwise 3x3, stride 1, any padding (four sides) and any
 * depth multiplier M (output channel oc reads input channel oc / M), with SMLAD.
 *
 * Per input channel the input plane is rewritten once as (x - input_zp) int16 with
 * the padding as zeros (hil_nn_scratch), 4 values per SXTAB16 pair. Two
 * vertically neighbouring outputs share the loads of their middle plane rows;
 * per plane row p and column x, with d = (p[x], p[x+1]) and t = (p[x+2], .),
 *   out += SMLAD(d, (w_ky0, w_ky1)) + SMLABB(t, w_ky2),
 * so the six weight words of a channel stay in registers. Other shapes, and
 * planes that do not fit the scratch buffer, run the reference kernel;
 * results are the reference's bit for bit. */
#include "nn/hil_depthwise_conv2d_s8.h"

#include "hil_nn_opt.h"

static inline int32_t rd2(const hil_q15_t *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

#define ROW(acc, r, w01, w2) \
    do { \
        acc = hil_smlad(rd2(r), w01, acc); \
        acc = hil_smlabb(rd2((r) + 2), w2, acc); \
    } while (0)

/* One channel: oh x ow outputs from the padded plane (row stride wp int16). */
__attribute__((always_inline)) static inline void channel_3x3(
    const hil_q15_t *plane, int32_t wp, int32_t oh, int32_t ow, const int8_t *k, int32_t b,
    const hil_rq_t *q, int fast, int clamp, int8_t *y)
{
    const int32_t w01a = hil_pack_lo(k[0], k[1]), w2a = k[2];
    const int32_t w01b = hil_pack_lo(k[3], k[4]), w2b = k[5];
    const int32_t w01c = hil_pack_lo(k[6], k[7]), w2c = k[8];
    const int32_t mult = q->mult, rz = q->round_zp, e = q->e, lo = q->lo, hi = q->hi;
    int32_t oy = 0;
    for (; oy + 2 <= oh; oy += 2) {
        const hil_q15_t *r = plane + oy * wp;
        int8_t *y0 = y + oy * ow;
        for (int32_t ox = 0; ox < ow; ox++, r++) {
            int32_t a0 = b, a1 = b, d, t;
            ROW(a0, r, w01a, w2a);
            d = rd2(r + wp);
            t = rd2(r + wp + 2);
            a0 = hil_smlad(d, w01b, a0);
            a0 = hil_smlabb(t, w2b, a0);
            a1 = hil_smlad(d, w01a, a1);
            a1 = hil_smlabb(t, w2a, a1);
            d = rd2(r + 2 * wp);
            t = rd2(r + 2 * wp + 2);
            a0 = hil_smlad(d, w01c, a0);
            a0 = hil_smlabb(t, w2c, a0);
            a1 = hil_smlad(d, w01b, a1);
            a1 = hil_smlabb(t, w2b, a1);
            ROW(a1, r + 3 * wp, w01c, w2c);
            if (fast) {
                y0[ox] = hil_rq_fast(a0, mult, rz, e, clamp, lo, hi);
                y0[ox + ow] = hil_rq_fast(a1, mult, rz, e, clamp, lo, hi);
            } else {
                y0[ox] = hil_rq(a0, q);
                y0[ox + ow] = hil_rq(a1, q);
            }
        }
    }
    if (oy < oh) { /* odd height: the last row alone */
        const hil_q15_t *r = plane + oy * wp;
        for (int32_t ox = 0; ox < ow; ox++, r++) {
            int32_t a0 = b;
            ROW(a0, r, w01a, w2a);
            ROW(a0, r + wp, w01b, w2b);
            ROW(a0, r + 2 * wp, w01c, w2c);
            y[oy * ow + ox] = hil_rq(a0, q);
        }
    }
}

/* Plane row = (x - zp) for w int8 values, 4 per SXTAB16 pair. */
static inline void fill_row(hil_q15_t *row, const int8_t *x, int32_t w, int32_t zp, int32_t neg_zp2)
{
    int32_t i = 0;
    for (; i + 4 <= w; i += 4) {
        const int32_t v = hil_read_s8x4(x + i);
        const int32_t e = hil_sxtab16(neg_zp2, v), o = hil_sxtab16_ror8(neg_zp2, v);
        const int32_t p01 = hil_pack_lo(e, o), p23 = hil_pack_hi(e, o);
        memcpy(row + i, &p01, sizeof p01);
        memcpy(row + i + 2, &p23, sizeof p23);
    }
    for (; i < w; i++) {
        row[i] = (int16_t)((int32_t)x[i] - zp);
    }
}

int hil_depthwise_conv2d_s8_opt(const hil_conv_params_t *conv, const hil_quant_params_t *quant,
                                const hil_dims_t *in_dims, const int8_t *in, const int8_t *weights,
                                const int32_t *bias, const hil_dims_t *out_dims, int8_t *out)
{
    if (!hil_nn_window_ok(in_dims, out_dims, conv->kernel, conv->stride, conv->padding) ||
        out_dims->c == 0u || out_dims->c % in_dims->c != 0u) {
        return HIL_NN_ERR_ARG;
    }
    const int32_t mult_depth = out_dims->c / in_dims->c;
    const int32_t h = in_dims->h, w = in_dims->w, oh = out_dims->h, ow = out_dims->w;
    const int32_t ph = conv->padding.top, pw = conv->padding.left;
    const int32_t wp = w + pw + conv->padding.right + 2; /* + 2: the second word t of the last column */
    const int32_t hp = h + ph + conv->padding.bottom;
    if (conv->kernel.h != 3u || conv->kernel.w != 3u || conv->stride.h != 1u ||
        conv->stride.w != 1u || (uint32_t)(hp * wp) > HIL_NN_SCRATCH_BYTES / 2u) {
        return hil_depthwise_conv2d_s8_ref(conv, quant, in_dims, in, weights, bias, out_dims, out);
    }
    hil_q15_t *plane = (hil_q15_t *)(void *)hil_nn_scratch;
    for (int32_t i = 0; i < hp * wp; i++) {
        plane[i] = 0; /* padding stays zero for every channel */
    }
    const int32_t zp = conv->input_zp, neg_zp2 = hil_pack_lo(-zp, -zp);
    const int full = conv->act_min == -128 && conv->act_max == 127;
    for (int32_t c = 0; c < (int32_t)out_dims->c; c++) {
        if (c % mult_depth == 0) { /* a new input channel: refill the plane */
            const int8_t *x = in + (c / mult_depth) * h * w;
            for (int32_t y = 0; y < h; y++, x += w) {
                fill_row(plane + (y + ph) * wp + pw, x, w, zp, neg_zp2);
            }
        }
        hil_rq_t q;
        hil_rq_init(&q, quant->multiplier[c], quant->shift[c], conv->output_zp, conv->act_min,
                    conv->act_max);
        const int32_t b = bias != 0 ? bias[c] : 0;
        int8_t *y_c = out + c * oh * ow;
        if (q.fast && full) {
            channel_3x3(plane, wp, oh, ow, weights + 9 * c, b, &q, 1, 0, y_c);
        } else if (q.fast) {
            channel_3x3(plane, wp, oh, ow, weights + 9 * c, b, &q, 1, 1, y_c);
        } else {
            channel_3x3(plane, wp, oh, ow, weights + 9 * c, b, &q, 0, 0, y_c);
        }
    }
    return HIL_NN_OK;
}
