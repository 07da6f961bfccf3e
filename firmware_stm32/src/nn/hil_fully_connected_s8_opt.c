/* hil_fully_connected_s8_opt.c: int8 fully connected, 4 outputs at a time with SMLAD.
 *
 * Each word of the input (4 values) is widened once to (x0 - zp, x2 - zp) and
 * (x1 - zp, x3 - zp) by SXTAB16 and used for four weight rows, whose words
 * SXTB16 splits the same way; two SMLADs per row and word. Results are the
 * reference kernel's bit for bit. */
#include "nn/hil_fully_connected_s8.h"

#include "hil_nn_opt.h"

/* rows outputs (1..4) starting at weight row w; acc holds their biases. */
static void rows_n(const int8_t *in, uint32_t len, const int8_t *w, int32_t zp, int32_t rows,
                   int32_t acc[4])
{
    const int32_t neg_zp2 = hil_pack_lo(-zp, -zp);
    const int8_t *w0 = w, *w1 = w + (rows > 1 ? len : 0), *w2 = w + (rows > 2 ? 2 * len : 0);
    const int8_t *w3 = w + (rows > 3 ? 3 * len : 0);
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    uint32_t i = 0;
    for (; i + 4 <= len; i += 4) {
        const int32_t x = hil_read_s8x4(in + i);
        const int32_t x02 = hil_sxtab16(neg_zp2, x), x13 = hil_sxtab16(neg_zp2, hil_ror8(x));
        int32_t v = hil_read_s8x4(w0 + i);
        a0 = hil_smlad(hil_sxtb16(v), x02, a0);
        a0 = hil_smlad(hil_sxtb16(hil_ror8(v)), x13, a0);
        v = hil_read_s8x4(w1 + i);
        a1 = hil_smlad(hil_sxtb16(v), x02, a1);
        a1 = hil_smlad(hil_sxtb16(hil_ror8(v)), x13, a1);
        v = hil_read_s8x4(w2 + i);
        a2 = hil_smlad(hil_sxtb16(v), x02, a2);
        a2 = hil_smlad(hil_sxtb16(hil_ror8(v)), x13, a2);
        v = hil_read_s8x4(w3 + i);
        a3 = hil_smlad(hil_sxtb16(v), x02, a3);
        a3 = hil_smlad(hil_sxtb16(hil_ror8(v)), x13, a3);
    }
    for (; i < len; i++) {
        const int32_t x = (int32_t)in[i] - zp;
        a0 = (int32_t)((uint32_t)a0 + (uint32_t)(x * w0[i]));
        a1 = (int32_t)((uint32_t)a1 + (uint32_t)(x * w1[i]));
        a2 = (int32_t)((uint32_t)a2 + (uint32_t)(x * w2[i]));
        a3 = (int32_t)((uint32_t)a3 + (uint32_t)(x * w3[i]));
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

int hil_fully_connected_s8_opt(const hil_fc_params_t *fc, const hil_quant_params_t *quant,
                               uint32_t in_len, const int8_t *in, const int8_t *weights,
                               const int32_t *bias, uint32_t out_len, int8_t *out)
{
    if (in_len == 0u || out_len == 0u) {
        return HIL_NN_ERR_ARG;
    }
    for (uint32_t o = 0; o < out_len; o += 4u) {
        const int32_t rows = out_len - o < 4u ? (int32_t)(out_len - o) : 4;
        int32_t acc[4];
        for (int32_t r = 0; r < 4; r++) {
            acc[r] = (bias != 0 && r < rows) ? bias[o + (uint32_t)r] : 0;
        }
        /* rows past the end repeat row o's weights: computed, never stored */
        rows_n(in, in_len, weights + o * in_len, fc->input_zp, rows, acc);
        for (int32_t r = 0; r < rows; r++) {
            hil_rq_t q;
            hil_rq_init(&q, quant->multiplier[o + (uint32_t)r], quant->shift[o + (uint32_t)r],
                        fc->output_zp, fc->act_min, fc->act_max);
            out[o + (uint32_t)r] = hil_rq(acc[r], &q);
        }
    }
    return HIL_NN_OK;
}
