/* hil_dsp.h: the few Cortex-M4 DSP (SIMD32) operations the fast paths use.
 *
 * HIL_NN_DSP is 1 when a fast path should use them:
 *   - on targets with __ARM_FEATURE_DSP and __ARM_FEATURE_SIMD32 (Cortex-M4/M7/M33),
 *     through the ACLE intrinsics of <arm_acle.h>;
 *   - on any compiler with -DHIL_NN_DSP_EMULATE, through the portable C
 *     definitions below (the host tests run the DSP code paths this way);
 * and 0 otherwise or with -DHIL_NN_NO_DSP (the plain C paths; results are identical).
 *
 * int16x2 values are held in int32_t: low half = element 0, high half = element 1. */
#ifndef HIL_DSP_H
#define HIL_DSP_H

#include <stdint.h>
#include <string.h>

#if !defined(HIL_NN_NO_DSP) && defined(__ARM_FEATURE_DSP) && defined(__ARM_FEATURE_SIMD32)
#include <arm_acle.h>
#define HIL_NN_DSP 1

/* (a.lo + sext(b.byte0), a.hi + sext(b.byte2)), each lane wrapping to 16 bits */
static inline int32_t hil_sxtab16(int32_t a, int32_t b) { return __sxtab16(a, b); }
/* acc + a.lo * b.lo + a.hi * b.hi (wrapping) */
static inline int32_t hil_smlad(int32_t a, int32_t b, int32_t acc) { return __smlad(a, b, acc); }

#elif !defined(HIL_NN_NO_DSP) && defined(HIL_NN_DSP_EMULATE)
#define HIL_NN_DSP 1

static inline int32_t hil_lane16(uint32_t v) { return (int32_t)(int16_t)(uint16_t)(v & 0xFFFFu); }

/* low byte of v sign-extended, modulo 2^32 */
static inline uint32_t hil_sext8(uint32_t v) { return ((v & 0xFFu) ^ 0x80u) - 0x80u; }

static inline int32_t hil_sxtab16(int32_t a, int32_t b)
{
    const uint32_t ua = (uint32_t)a, ub = (uint32_t)b;
    const uint32_t lo = (ua + hil_sext8(ub)) & 0xFFFFu;
    const uint32_t hi = ((ua >> 16) + hil_sext8(ub >> 16)) & 0xFFFFu;
    return (int32_t)(lo | (hi << 16));
}

static inline int32_t hil_smlad(int32_t a, int32_t b, int32_t acc)
{
    const uint32_t ua = (uint32_t)a, ub = (uint32_t)b;
    const int32_t p0 = hil_lane16(ua) * hil_lane16(ub);
    const int32_t p1 = hil_lane16(ua >> 16) * hil_lane16(ub >> 16);
    return (int32_t)((uint32_t)acc + (uint32_t)p0 + (uint32_t)p1);
}

#else
#define HIL_NN_DSP 0
#endif

#if HIL_NN_DSP
/* 4 bytes from any address (a single LDR on Cortex-M4, which allows unaligned words). */
static inline int32_t hil_read_s8x4(const int8_t *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* Rotate right by 8: bytes 1 and 3 move to lanes 0 and 2 (for hil_sxtab16). */
static inline int32_t hil_ror8(int32_t v)
{
    const uint32_t u = (uint32_t)v;
    return (int32_t)((u >> 8) | (u << 24));
}

/* (a.lo, b.lo): PKHBT a, b, LSL #16 */
static inline int32_t hil_pack_lo(int32_t a, int32_t b)
{
    return (int32_t)(((uint32_t)a & 0xFFFFu) | ((uint32_t)b << 16));
}

/* (a.hi, b.hi): PKHTB b, a, ASR #16 */
static inline int32_t hil_pack_hi(int32_t a, int32_t b)
{
    return (int32_t)(((uint32_t)a >> 16) | ((uint32_t)b & 0xFFFF0000u));
}
#endif

#endif /* HIL_DSP_H */
