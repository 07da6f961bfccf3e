/* hil_fully_connected_s8_opt.c: int8 fully connected, 3 outputs at a time with SMLAD.
 *
 * Each word of the input (4 values) is widened once to (x0 - zp, x2 - zp) and
 * (x1 - zp, x3 - zp) by SXTAB16 and used for three weight rows, whose words
 * SXTB16 splits the same way: two SMLADs per row and word, 20 instructions
 * for 12 MACs (three rows is what fits the registers without spilling).
 * Results are the reference kernel's bit for bit. */
#include "nn/hil_fully_connected_s8.h"

#include "hil_nn_opt.h"

/* r (1..3, a constant after inlining) outputs from weight rows w, w + len, ...;
 * acc holds their biases. */
__attribute__((always_inline)) static inline void rows_r(const int8_t *in, uint32_t len,
                                                         const int8_t *w, int32_t zp, int32_t r,
                                                         int32_t acc[3])
{
    const int32_t neg_zp2 = hil_pack_lo(-zp, -zp);
    /* rows past the last are never read: their pointers stay on row 0 */
    const int8_t *p0 = w, *p1 = r > 1 ? w + len : w, *p2 = r > 2 ? w + 2 * len : w;
    const int8_t *x = in, *x_end = in + (len & ~3u);
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2];
    for (; x != x_end; x += 4) {
        const int32_t v = hil_read_s8x4(x);
        const int32_t x02 = hil_sxtab16(neg_zp2, v), x13 = hil_sxtab16_ror8(neg_zp2, v);
        int32_t u = hil_read_s8x4(p0);
        p0 += 4;
        a0 = hil_smlad(hil_sxtb16(u), x02, a0);
        a0 = hil_smlad(hil_sxtb16_ror8(u), x13, a0);
        if (r > 1) {
            u = hil_read_s8x4(p1);
            p1 += 4;
            a1 = hil_smlad(hil_sxtb16(u), x02, a1);
            a1 = hil_smlad(hil_sxtb16_ror8(u), x13, a1);
        }
        if (r > 2) {
            u = hil_read_s8x4(p2);
            p2 += 4;
            a2 = hil_smlad(hil_sxtb16(u), x02, a2);
            a2 = hil_smlad(hil_sxtb16_ror8(u), x13, a2);
        }
    }
    for (uint32_t i = len & ~3u; i < len; i++) {
        const int32_t xi = (int32_t)in[i] - zp;
        a0 = (int32_t)((uint32_t)a0 + (uint32_t)(xi * w[i]));
        if (r > 1) {
            a1 = (int32_t)((uint32_t)a1 + (uint32_t)(xi * w[len + i]));
        }
        if (r > 2) {
            a2 = (int32_t)((uint32_t)a2 + (uint32_t)(xi * w[2 * len + i]));
        }
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
}

int hil_fully_connected_s8_opt(const hil_fc_params_t *fc, const hil_quant_params_t *quant,
                               uint32_t in_len, const int8_t *in, const int8_t *weights,
                               const int32_t *bias, uint32_t out_len, int8_t *out)
{
    if (in_len == 0u || out_len == 0u) {
        return HIL_NN_ERR_ARG;
    }
    int32_t rows;
    for (uint32_t o = 0; o < out_len; o += (uint32_t)rows) {
        rows = out_len - o < 3u ? (int32_t)(out_len - o) : 3;
        int32_t acc[3] = {0, 0, 0};
        for (int32_t r = 0; r < rows && bias != 0; r++) {
            acc[r] = bias[o + (uint32_t)r];
        }
        const int8_t *w = weights + o * in_len;
        if (rows == 3) {
            rows_r(in, in_len, w, fc->input_zp, 3, acc);
        } else if (rows == 2) {
            rows_r(in, in_len, w, fc->input_zp, 2, acc);
        } else {
            rows_r(in, in_len, w, fc->input_zp, 1, acc);
        }
        for (int32_t r = 0; r < rows; r++) {
            hil_rq_t q;
            hil_rq_init(&q, quant->multiplier[o + (uint32_t)r], quant->shift[o + (uint32_t)r],
                        fc->output_zp, fc->act_min, fc->act_max);
            out[o + (uint32_t)r] = hil_rq(acc[r], &q);
        }
    }
    return HIL_NN_OK;
}
