/* hil_dsp.h: the Cortex-M4 DSP (SIMD32) operations the optimised kernels use.
 *
 * On targets with __ARM_FEATURE_DSP (Cortex-M4/M7/M33) they are the ACLE
 * intrinsics of <arm_acle.h> (SMMULR through inline assembly); everywhere else
 * (the host tests) portable C with the same results bit for bit, so the host
 * runs the very code paths the firmware runs. HIL_NN_DSP says which: 1 native,
 * 0 portable. -DHIL_NN_NO_DSP forces the portable definitions.
 *
 * int16x2 values are held in int32_t: low half = element 0, high half = element 1. */
#ifndef HIL_DSP_H
#define HIL_DSP_H

#include <stdint.h>
#include <string.h>

#if !defined(HIL_NN_NO_DSP) && defined(__ARM_FEATURE_DSP) && defined(__ARM_FEATURE_SIMD32)
#include <arm_acle.h>
#define HIL_NN_DSP 1

/* (sext(b.byte0), sext(b.byte2)) */
static inline int32_t hil_sxtb16(int32_t b) { return __sxtb16(b); }
/* (a.lo + sext(b.byte0), a.hi + sext(b.byte2)), each lane wrapping to 16 bits */
static inline int32_t hil_sxtab16(int32_t a, int32_t b) { return __sxtab16(a, b); }
/* hil_sxtb16 / hil_sxtab16 of b rotated right by 8 (bytes 1 and 3), one instruction */
static inline int32_t hil_sxtb16_ror8(int32_t b)
{
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(b));
    return r;
}
static inline int32_t hil_sxtab16_ror8(int32_t a, int32_t b)
{
    int32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(b));
    return r;
}
/* acc + a.lo * b.lo + a.hi * b.hi (wrapping) */
static inline int32_t hil_smlad(int32_t a, int32_t b, int32_t acc) { return __smlad(a, b, acc); }
/* acc + a.lo * b.lo, acc + a.hi * b.lo (wrapping) */
static inline int32_t hil_smlabb(int32_t a, int32_t b, int32_t acc) { return __smlabb(a, b, acc); }
static inline int32_t hil_smlatb(int32_t a, int32_t b, int32_t acc) { return __smlatb(a, b, acc); }
/* a + b saturated to int32 */
static inline int32_t hil_qadd(int32_t a, int32_t b) { return __qadd(a, b); }
/* (a * b + 2^31) >> 32, the rounded high word of the 64-bit product */
static inline int32_t hil_smmulr(int32_t a, int32_t b)
{
    int32_t r;
    __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
}
/* v saturated to int8 */
static inline int32_t hil_ssat8(int32_t v)
{
    int32_t r;
    __asm__("ssat %0, #8, %1" : "=r"(r) : "r"(v));
    return r;
}
/* byte-wise signed max of 4 int8 lanes: SSUB8 sets GE where a >= b, SEL picks */
static inline int32_t hil_max_s8x4(int32_t a, int32_t b)
{
    int32_t r;
    __asm__("ssub8 %0, %1, %2\n\tsel %0, %1, %2" : "=&r"(r) : "r"(a), "r"(b) : "cc");
    return r;
}

#else
#define HIL_NN_DSP 0

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

static inline int32_t hil_sxtb16(int32_t b) { return hil_sxtab16(0, b); }

static inline uint32_t hil_ror8_u(uint32_t u) { return (u >> 8) | (u << 24); }
static inline int32_t hil_sxtb16_ror8(int32_t b) { return hil_sxtab16(0, (int32_t)hil_ror8_u((uint32_t)b)); }
static inline int32_t hil_sxtab16_ror8(int32_t a, int32_t b) { return hil_sxtab16(a, (int32_t)hil_ror8_u((uint32_t)b)); }

static inline int32_t hil_smlad(int32_t a, int32_t b, int32_t acc)
{
    const uint32_t ua = (uint32_t)a, ub = (uint32_t)b;
    const int32_t p0 = hil_lane16(ua) * hil_lane16(ub);
    const int32_t p1 = hil_lane16(ua >> 16) * hil_lane16(ub >> 16);
    return (int32_t)((uint32_t)acc + (uint32_t)p0 + (uint32_t)p1);
}

static inline int32_t hil_smlabb(int32_t a, int32_t b, int32_t acc)
{
    return (int32_t)((uint32_t)acc + (uint32_t)(hil_lane16((uint32_t)a) * hil_lane16((uint32_t)b)));
}

static inline int32_t hil_smlatb(int32_t a, int32_t b, int32_t acc)
{
    return (int32_t)((uint32_t)acc + (uint32_t)(hil_lane16((uint32_t)a >> 16) * hil_lane16((uint32_t)b)));
}

static inline int32_t hil_qadd(int32_t a, int32_t b)
{
    const int64_t s = (int64_t)a + b;
    return s > INT32_MAX ? INT32_MAX : s < INT32_MIN ? INT32_MIN : (int32_t)s;
}

static inline int32_t hil_smmulr(int32_t a, int32_t b)
{
    const uint64_t p = (uint64_t)((int64_t)a * b) + (UINT64_C(1) << 31);
    return (int32_t)(uint32_t)(p >> 32);
}

static inline int32_t hil_ssat8(int32_t v) { return v > 127 ? 127 : v < -128 ? -128 : v; }

static inline int32_t hil_max_s8x4(int32_t a, int32_t b)
{
    uint32_t r = 0u;
    for (int i = 0; i < 32; i += 8) {
        const int8_t x = (int8_t)(uint8_t)((uint32_t)a >> i), y = (int8_t)(uint8_t)((uint32_t)b >> i);
        r |= (uint32_t)(uint8_t)(x >= y ? x : y) << i;
    }
    return (int32_t)r;
}
#endif

/* 4 bytes from any address (a single LDR on Cortex-M4, which allows unaligned words). */
static inline int32_t hil_read_s8x4(const int8_t *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* Rotate right by 8: bytes 1 and 3 move to lanes 0 and 2 (for hil_sxtb16). */
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

#endif /* HIL_DSP_H */
