/* hil_gemm_s8_opt.c: the packed q15 GEMM behind the optimised dense kernels
 * (see hil_nn_opt.h), and the scratch buffer they share. */
#include "hil_nn_opt.h"

/* HIL_NN_SCRATCH_IN_CCM=1 (the STM32 firmware's build): in the CCM region
 * (section .ccmram), leaving SRAM to the activation arena. */
#if defined(HIL_NN_SCRATCH_IN_CCM) && HIL_NN_SCRATCH_IN_CCM
__attribute__((section(".ccmram")))
#endif
int32_t hil_nn_scratch[HIL_NN_SCRATCH_BYTES / 4u];

void hil_pack_rows_q15(const int8_t *r0, const int8_t *r1, int32_t k, int32_t k4, int32_t *a)
{
    const int32_t full = k >> 2;
    for (int32_t g = 0; g < full; g++) {
        const int32_t v0 = hil_read_s8x4(r0 + 4 * g);
        const int32_t e0 = hil_sxtb16(v0), o0 = hil_sxtb16_ror8(v0); /* (w0,w2), (w1,w3) */
        a[4 * g] = hil_pack_lo(e0, o0);
        a[4 * g + 1] = hil_pack_hi(e0, o0);
        if (r1 != 0) {
            const int32_t v1 = hil_read_s8x4(r1 + 4 * g);
            const int32_t e1 = hil_sxtb16(v1), o1 = hil_sxtb16_ror8(v1);
            a[4 * g + 2] = hil_pack_lo(e1, o1);
            a[4 * g + 3] = hil_pack_hi(e1, o1);
        } else {
            a[4 * g + 2] = 0;
            a[4 * g + 3] = 0;
        }
    }
    for (int32_t i = 4 * full; i < 4 * k4; i++) { /* tail and zero padding */
        hil_put_q15(a, hil_pack_index(0, i), i < k ? r0[i] : 0);
        hil_put_q15(a, hil_pack_index(1, i), (i < k && r1 != 0) ? r1[i] : 0);
    }
}

/* Two output channels over all columns; `fast` lets the compiler drop the
 * generic requantization branch when both channels take the SMMULR path. */
static inline void rows_2(const int32_t *a, const int32_t *b, int32_t k4, int32_t npix, int32_t b0,
                          int32_t b1, const hil_rq_t *q0, const hil_rq_t *q1, int8_t *y0, int8_t *y1)
{
    int32_t p = 0;
    for (; p + 2 <= npix; p += 2) {
        int32_t acc[4] = {b0, b0, b1, b1};
        hil_gemm_2x2(a, b, k4, acc);
        b += 4 * k4;
        y0[p] = hil_rq(acc[0], q0);
        y0[p + 1] = hil_rq(acc[1], q0);
        if (y1 != 0) {
            y1[p] = hil_rq(acc[2], q1);
            y1[p + 1] = hil_rq(acc[3], q1);
        }
    }
    if (p < npix) {
        int32_t acc[4] = {b0, b0, b1, b1};
        hil_gemm_2x2(a, b, k4, acc);
        y0[p] = hil_rq(acc[0], q0);
        if (y1 != 0) {
            y1[p] = hil_rq(acc[2], q1);
        }
    }
}

/* rows_2 when both channels take the SMMULR path and (clamp == 0) the
 * activation range is all of int8: nothing but the arithmetic per output. */
static inline void rows_2_fast(const int32_t *a, const int32_t *b, int32_t k4, int32_t npix,
                               int32_t b0, int32_t b1, const hil_rq_t *q0, const hil_rq_t *q1,
                               int8_t *y0, int8_t *y1, int clamp)
{
    const int32_t m0 = q0->mult, r0 = q0->round_zp, e0 = q0->e;
    const int32_t m1 = q1->mult, r1 = q1->round_zp, e1 = q1->e;
    const int32_t lo = q0->lo, hi = q0->hi;
    const int32_t step = 4 * k4;
    const int8_t *end = y0 + (npix & ~1);
    while (y0 != end) {
        int32_t acc[4] = {b0, b0, b1, b1};
        hil_gemm_2x2(a, b, k4, acc);
        b += step;
        y0[0] = hil_rq_fast(acc[0], m0, r0, e0, clamp, lo, hi);
        y0[1] = hil_rq_fast(acc[1], m0, r0, e0, clamp, lo, hi);
        y1[0] = hil_rq_fast(acc[2], m1, r1, e1, clamp, lo, hi);
        y1[1] = hil_rq_fast(acc[3], m1, r1, e1, clamp, lo, hi);
        y0 += 2;
        y1 += 2;
    }
    if (npix & 1) {
        int32_t acc[4] = {b0, b0, b1, b1};
        hil_gemm_2x2(a, b, k4, acc);
        y0[0] = hil_rq_fast(acc[0], m0, r0, e0, clamp, lo, hi);
        y1[0] = hil_rq_fast(acc[2], m1, r1, e1, clamp, lo, hi);
    }
}

void hil_gemm_tile_s8(const int8_t *weights, const int32_t *bias, const hil_quant_params_t *quant,
                      int32_t out_zp, int32_t lo, int32_t hi, int32_t cout, int32_t k, int32_t k4,
                      const int32_t *b, int32_t npix, int32_t *a_buf, int8_t *out, int32_t out_stride)
{
    for (int32_t o = 0; o < cout; o += 2) {
        const int two = o + 1 < cout;
        hil_pack_rows_q15(weights + o * k, two ? weights + (o + 1) * k : 0, k, k4, a_buf);
        hil_rq_t q0, q1;
        hil_rq_init(&q0, quant->multiplier[o], quant->shift[o], out_zp, lo, hi);
        hil_rq_init(&q1, two ? quant->multiplier[o + 1] : 0, two ? quant->shift[o + 1] : -1, out_zp,
                    lo, hi);
        const int32_t b0 = bias != 0 ? bias[o] : 0;
        const int32_t b1 = (bias != 0 && two) ? bias[o + 1] : 0;
        int8_t *y0 = out + o * out_stride;
        if (two && q0.fast && q1.fast) {
            if (lo == -128 && hi == 127) {
                rows_2_fast(a_buf, b, k4, npix, b0, b1, &q0, &q1, y0, y0 + out_stride, 0);
            } else {
                rows_2_fast(a_buf, b, k4, npix, b0, b1, &q0, &q1, y0, y0 + out_stride, 1);
            }
        } else {
            rows_2(a_buf, b, k4, npix, b0, b1, &q0, &q1, y0, two ? y0 + out_stride : 0);
        }
    }
}
