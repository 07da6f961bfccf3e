/* hil_nn_opt.h: shared pieces of the optimised (_opt) kernels; internal to src/nn.
 *
 * - hil_nn_scratch: the one scratch buffer of the optimised kernels (static,
 *   HIL_NN_SCRATCH_BYTES, default 8 KiB). Kernels tile their work to fit it and
 *   fall back to the reference kernel for shapes whose smallest tile does not.
 * - hil_rq_t: requantization with SMMULR, bit for bit as hil_requantize_s8()
 *   under the conditions hil_rq_init() checks (else the exact generic code).
 * - hil_gemm_2x2(): the q15 micro-kernel, 2 rows x 2 columns, SMLAD.
 *
 * Instruction counts are what the QEMU twin measures; the layouts below are
 * chosen so the inner loops are loads and SMLADs only. */
#ifndef HIL_NN_OPT_H
#define HIL_NN_OPT_H

#include <stdint.h>

#include <string.h>

#include "nn/hil_dsp.h"
#include "nn/hil_nn_types.h"
#include "nn/hil_requantize.h"

#ifndef HIL_NN_SCRATCH_BYTES
#define HIL_NN_SCRATCH_BYTES 8192u
#endif

extern int32_t hil_nn_scratch[HIL_NN_SCRATCH_BYTES / 4u];

/* int16 view of hil_nn_scratch (may alias its int32 words). */
typedef int16_t __attribute__((may_alias)) hil_q15_t;

/* ---- requantization --------------------------------------------------------
 * For multiplier >= 2^30 (as QuantizeMultiplier gives) or 0, and a right shift
 * e = -shift in [1, 20]:
 *   SRDHM(acc, m) = (acc*m + 2^30) >> 31 for every int32 pair but MIN*MIN,
 *                 = SMMULR(2*acc, m) when 2*acc fits; QADD saturates it
 *                   otherwise, and then |result| >= 2^29, which any e <= 20
 *                   still maps beyond [-255, 255]: the clamp gives the same int8.
 *   RDBPOT(s, e)  = (s + 2^(e-1) - (s < 0)) >> e  (round half away from zero;
 *                   |s| <= 2^30 cannot overflow), and adding zp * 2^e first adds
 *                   the output zero point exactly. */
typedef struct {
    int32_t mult;
    int32_t round_zp;  /* 2^(e-1) + output_zp * 2^e */
    int32_t e;
    int32_t fast;      /* 0: use hil_requantize_s8() */
    int32_t shift;     /* as given, for the generic path */
    int32_t zp, lo, hi;
} hil_rq_t;

static inline void hil_rq_init(hil_rq_t *q, int32_t mult, int32_t shift, int32_t zp, int32_t lo,
                               int32_t hi)
{
    q->mult = mult;
    q->shift = shift;
    q->zp = zp;
    q->lo = lo;
    q->hi = hi;
    q->e = -shift;
    q->fast = (mult >= (INT32_C(1) << 30) || mult == 0) && shift <= -1 && shift >= -20;
    q->round_zp = q->fast ? (INT32_C(1) << (q->e - 1)) + zp * (INT32_C(1) << q->e) : 0;
}

static inline int8_t hil_rq(int32_t acc, const hil_rq_t *q)
{
    if (!q->fast) {
        return hil_requantize_s8(acc, q->mult, q->shift, q->zp, q->lo, q->hi);
    }
    const int32_t s = hil_smmulr(hil_qadd(acc, acc), q->mult);
    int32_t v = (s + q->round_zp + (s >> 31)) >> q->e;
    v = hil_ssat8(v);
    v = v < q->lo ? q->lo : v;
    v = v > q->hi ? q->hi : v;
    return (int8_t)v;
}

/* The SMMULR path alone (q->fast); `clamp` 0 when [lo, hi] is [-128, 127]. */
static inline int8_t hil_rq_fast(int32_t acc, int32_t mult, int32_t round_zp, int32_t e, int clamp,
                                 int32_t lo, int32_t hi)
{
    const int32_t s = hil_smmulr(hil_qadd(acc, acc), mult);
    int32_t v = hil_ssat8((s + round_zp + (s >> 31)) >> e);
    if (clamp) {
        v = v < lo ? lo : v;
        v = v > hi ? hi : v;
    }
    return (int8_t)v;
}

/* ---- q15 GEMM ---------------------------------------------------------------
 * Operands are int16 pairs in int32 words, in groups of 4 along the reduction
 * axis k (zero padded), 4 words per group:
 *   A: rows r0, r1:    per group [r0 (k0,k1) (k2,k3)][r1 (k0,k1) (k2,k3)]
 *   B: columns c0, c1: per group [c0 (k0,k1) (k2,k3)][c1 (k0,k1) (k2,k3)]
 * acc[0..3] += (r0.c0, r0.c1, r1.c0, r1.c1) over k4 groups. */
/* Unoptimised builds (EXTRA_CFLAGS=-O0) take the portable C below: there r7 is
 * the frame pointer and the fixed-register asm cannot be built. */
#if HIL_NN_DSP && defined(__OPTIMIZE__)
/* Cortex-M4: per group one LDM of A, two LDRD of B, eight SMLADs: 11
 * instructions for 16 MACs, plus 2 per loop turn of two groups. GCC alone
 * neither uses LDM nor post-increments. The LDM register list must ascend,
 * hence fixed registers. */
static inline void hil_gemm_2x2(const int32_t *pa, const int32_t *pb, int32_t k4, int32_t acc[4])
{
    register int32_t a0 __asm__("r4");
    register int32_t a1 __asm__("r5");
    register int32_t a2 __asm__("r6");
    register int32_t a3 __asm__("r7");
    int32_t b0, b1;
    int32_t c00 = acc[0], c01 = acc[1], c10 = acc[2], c11 = acc[3];
    /* an odd group first, then two groups per loop turn (fewer loop instructions) */
#define HIL_GEMM_GROUP                                                                     \
        "ldmia %[pa]!, {%[a0], %[a1], %[a2], %[a3]}\n\t"                                  \
        "ldrd %[b0], %[b1], [%[pb]], #16\n\t"                                            \
        "smlad %[c00], %[a0], %[b0], %[c00]\n\t"                                         \
        "smlad %[c00], %[a1], %[b1], %[c00]\n\t"                                         \
        "smlad %[c10], %[a2], %[b0], %[c10]\n\t"                                         \
        "smlad %[c10], %[a3], %[b1], %[c10]\n\t"                                         \
        "ldrd %[b0], %[b1], [%[pb], #-8]\n\t"                                            \
        "smlad %[c01], %[a0], %[b0], %[c01]\n\t"                                         \
        "smlad %[c01], %[a1], %[b1], %[c01]\n\t"                                         \
        "smlad %[c11], %[a2], %[b0], %[c11]\n\t"                                         \
        "smlad %[c11], %[a3], %[b1], %[c11]\n\t"
    __asm__ volatile(
        "tst %[n], #1\n\t"
        "beq 2f\n\t"
        HIL_GEMM_GROUP
        "subs %[n], %[n], #1\n\t"
        "beq 3f\n\t"
        "2:\n\t"
        HIL_GEMM_GROUP
        HIL_GEMM_GROUP
        "subs %[n], %[n], #2\n\t"
        "bne 2b\n\t"
        "3:\n\t"
        : [pa] "+r"(pa), [pb] "+r"(pb), [n] "+r"(k4), [c00] "+r"(c00), [c01] "+r"(c01),
          [c10] "+r"(c10), [c11] "+r"(c11), [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2),
          [a3] "=&r"(a3), [b0] "=&r"(b0), [b1] "=&r"(b1)
        :
        : "cc", "memory");
#undef HIL_GEMM_GROUP
    acc[0] = c00;
    acc[1] = c01;
    acc[2] = c10;
    acc[3] = c11;
}
#else
/* Portable C, the same sums (k4 >= 1). */
static inline void hil_gemm_2x2(const int32_t *pa, const int32_t *pb, int32_t k4, int32_t acc[4])
{
    int32_t c00 = acc[0], c01 = acc[1], c10 = acc[2], c11 = acc[3];
    for (; k4 > 0; k4--) {
        const int32_t a0 = pa[0], a1 = pa[1], a2 = pa[2], a3 = pa[3];
        int32_t b0 = pb[0], b1 = pb[1];
        c00 = hil_smlad(a0, b0, c00);
        c00 = hil_smlad(a1, b1, c00);
        c10 = hil_smlad(a2, b0, c10);
        c10 = hil_smlad(a3, b1, c10);
        b0 = pb[2];
        b1 = pb[3];
        c01 = hil_smlad(a0, b0, c01);
        c01 = hil_smlad(a1, b1, c01);
        c11 = hil_smlad(a2, b0, c11);
        c11 = hil_smlad(a3, b1, c11);
        pa += 4;
        pb += 4;
    }
    acc[0] = c00;
    acc[1] = c01;
    acc[2] = c10;
    acc[3] = c11;
}
#endif

/* Store v as int16 number idx of a packed buffer. */
static inline void hil_put_q15(int32_t *buf, int32_t idx, int32_t v)
{
    const int16_t h = (int16_t)v;
    memcpy((char *)buf + 2 * idx, &h, sizeof h);
}

/* int16 index of value k of column (or row) cc (0 or 1) of a packed pair. */
static inline int32_t hil_pack_index(int32_t cc, int32_t k)
{
    return (k >> 2) * 8 + cc * 4 + (k & 3);
}

/* A of rows r0, r1 (r1 NULL: zeros) of int8 weights, k values each, k4 groups. */
void hil_pack_rows_q15(const int8_t *r0, const int8_t *r1, int32_t k, int32_t k4, int32_t *a);

/* out[o, p] = requantize_o(bias[o] + sum_k w[o, k] * B_p[k]) for the npix
 * columns packed in b (pairs of k4 groups each, as above; an odd npix has a
 * zero last column), o in [0, cout), written to out[o * out_stride + p].
 * a_buf: 4 * k4 words. */
void hil_gemm_tile_s8(const int8_t *weights, const int32_t *bias, const hil_quant_params_t *quant,
                      int32_t out_zp, int32_t lo, int32_t hi, int32_t cout, int32_t k, int32_t k4,
                      const int32_t *b, int32_t npix, int32_t *a_buf, int8_t *out, int32_t out_stride);

#endif /* HIL_NN_OPT_H */
