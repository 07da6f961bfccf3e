/* tflm_ops.h: hil::pad_s8, hil::mean_s8, hil::softmax_s8 (golden/intsim/kernels.py pad_s8,
 * mean_s8, softmax_s8; TFLite Micro's int8 PAD, MEAN and SOFTMAX).
 *
 *   PAD_PIX   hil::pad_s8      one output per cycle, CHW order; PAD_T/PAD_L, ZP
 *   MEAN_IN   hil::mean_s8     one input per cycle, a channel's sum requantized at its end;
 *                              MULT/SHIFT have 1/(H*W) folded in (arith.mean_requant_params)
 *   SMAX_C    hil::softmax_s8  per pixel three passes over the channels (max, sum of exps,
 *                              outputs); IN_MULT, IN_LSHIFT, DIFF_MIN (arith.softmax_params)
 * CFG as the graph ops (graph_ops.h): IN_C/H/W, OUT_C/H/W, LAYER. Modelled cycles: design.py.
 */
#ifndef HIL_HLS_TFLM_OPS_H
#define HIL_HLS_TFLM_OPS_H

#include "hil_hls/arith.h"
#include "hil_hls/csim.h"

namespace hil {

template <class CFG, class OUT>
void pad_s8(const s8_t in[CFG::IN_C][CFG::IN_H][CFG::IN_W], OUT &out)
{
#pragma HLS INLINE off
    int c = 0, oh = 0, ow = 0;
PAD_PIX:
    for (int o = 0; o < CFG::OUT_C * CFG::OUT_H * CFG::OUT_W; o++) {
#pragma HLS PIPELINE II = 1
        const int ih = oh - CFG::PAD_T, iw = ow - CFG::PAD_L;
        const bool inside = ih >= 0 && ih < CFG::IN_H && iw >= 0 && iw < CFG::IN_W;
        const s8_t v = inside ? in[c][ih][iw] : s8_t(CFG::ZP);
        Sink<OUT>::put(out, c, oh, ow, o, v);
        HIL_CSIM_TAP(CFG::LAYER, o, v);
        HIL_CSIM_TRIP(CFG::LAYER);
        next_chw<CFG::OUT_H, CFG::OUT_W>(c, oh, ow);
    }
}

template <class CFG, class OUT>
void mean_s8(const s8_t in[CFG::IN_C][CFG::IN_H][CFG::IN_W], OUT &out)
{
#pragma HLS INLINE off
    const int n = CFG::IN_H * CFG::IN_W;
    acc_t sum = 0;
    int c = 0, h = 0, w = 0;
MEAN_IN:
    for (int i = 0; i < CFG::IN_C * n; i++) {
#pragma HLS PIPELINE II = 1
        sum += in[c][h][w];
        if (h == CFG::IN_H - 1 && w == CFG::IN_W - 1) {
            const s8_t v = requantize_s8(acc_t(sum - CFG::IN_ZP * n), CFG::MULT, CFG::SHIFT, CFG::OUT_ZP, -128, 127);
            Sink<OUT>::put(out, c, 0, 0, c, v);
            HIL_CSIM_TAP(CFG::LAYER, c, v);
            sum = 0;
        }
        HIL_CSIM_TRIP(CFG::LAYER);
        next_chw<CFG::IN_H, CFG::IN_W>(c, h, w);
    }
}

/* gemmlowp fixed point on int32 values (arith.py: SaturatingRoundingMultiplyByPOT,
 * exp_on_negative_values, one_over_one_plus_x_for_x_in_0_1). */
inline acc_t sat_shl(acc_t x, int exponent)
{
#pragma HLS INLINE
    const wide_t threshold = (wide_t(1) << (31 - exponent)) - 1;
    if (wide_t(x) > threshold) {
        return acc_t((wide_t(1) << 31) - 1);
    }
    if (wide_t(x) < -threshold) {
        return acc_t(-(wide_t(1) << 31));
    }
    return acc_t(wide_t(x) << exponent);
}

inline acc_t exp_on_negative(acc_t a)
{
#pragma HLS INLINE
    static const int barrel[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
    const int frac = 26, quarter = 1 << 24;
    const acc_t a_mod = acc_t((a & acc_t(quarter - 1)) - quarter);
    const acc_t x = acc_t(sat_shl(a_mod, 5) + (1 << 28)); /* Q0.31 a + 1/8 */
    const acc_t x2 = srdhm(x, x), x3 = srdhm(x2, x), x4 = srdhm(x2, x2);
    const acc_t poly = rdbpot(acc_t(srdhm(acc_t(rdbpot(x4, 2) + x3), 715827883) + x2), 1);
    acc_t result = acc_t(1895147668 + srdhm(1895147668, acc_t(x + poly)));
    const acc_t remainder = acc_t(a_mod - a);
EXP_BARREL:
    for (int k = 0; k < 7; k++) {
        if (remainder[frac - 2 + k]) {
            result = srdhm(result, barrel[k]);
        }
    }
    return a == 0 ? acc_t((wide_t(1) << 31) - 1) : result;
}

inline acc_t one_over_one_plus_x(acc_t a)
{
#pragma HLS INLINE
    /* RoundingHalfSum(a, 1): a >= 0 here, so (a + INT32_MAX + 1) / 2 */
    const wide_t s = wide_t(a) + ((wide_t(1) << 31) - 1);
    const acc_t half_denominator = acc_t((s + 1) >> 1);
    acc_t x = acc_t(1515870810 + srdhm(half_denominator, -1010580540));
NEWTON:
    for (int i = 0; i < 3; i++) {
        const acc_t one_minus = acc_t((1 << 29) - srdhm(half_denominator, x));
        x = acc_t(x + sat_shl(srdhm(x, one_minus), 2));
    }
    return sat_shl(x, 1);
}

template <class CFG, class OUT>
void softmax_s8(const s8_t in[CFG::IN_C][CFG::IN_H][CFG::IN_W], OUT &out)
{
#pragma HLS INLINE off
SMAX_PIX:
    for (int p = 0; p < CFG::IN_H * CFG::IN_W; p++) {
        const int h = p / CFG::IN_W, w = p % CFG::IN_W;
        int mx = -128;
    SMAX_C:
        for (int c = 0; c < CFG::IN_C; c++) {
            mx = in[c][h][w] > mx ? int(in[c][h][w]) : mx;
            HIL_CSIM_TRIP(CFG::LAYER);
        }
        acc_t sum = 0; /* Q12.19 */
    SMAX_SUM:
        for (int c = 0; c < CFG::IN_C; c++) {
            const int d = in[c][h][w] - mx;
            if (d >= CFG::DIFF_MIN) {
                sum += rdbpot(exp_on_negative(srdhm(acc_t(d * (1 << CFG::IN_LSHIFT)), CFG::IN_MULT)), 12);
            }
            HIL_CSIM_TRIP(CFG::LAYER);
        }
        int headroom_plus_one = 0; /* leading zeros of sum as uint32 */
        while (headroom_plus_one < 32 && !sum[31 - headroom_plus_one]) {
            headroom_plus_one++;
        }
        const int exponent = 12 - headroom_plus_one + 23;
        const acc_t scale = one_over_one_plus_x(acc_t((ap_uint<32>(sum) << headroom_plus_one) - (ap_uint<33>(1) << 31)));
    SMAX_OUT:
        for (int c = 0; c < CFG::IN_C; c++) {
            const int d = in[c][h][w] - mx;
            int q = -128;
            if (d >= CFG::DIFF_MIN) {
                const acc_t e = exp_on_negative(srdhm(acc_t(d * (1 << CFG::IN_LSHIFT)), CFG::IN_MULT));
                const int r = rdbpot(srdhm(scale, e), exponent).to_int() - 128;
                q = r > 127 ? 127 : (r < -128 ? -128 : r);
            }
            const int o = c * CFG::IN_H * CFG::IN_W + p;
            Sink<OUT>::put(out, c, h, w, o, s8_t(q));
            HIL_CSIM_TAP(CFG::LAYER, o, s8_t(q));
            HIL_CSIM_TRIP(CFG::LAYER);
        }
    }
}

}  // namespace hil

#endif /* HIL_HLS_TFLM_OPS_H */
