/* depthwise_conv2d.h: hil::depthwise_conv2d_shift, hil::depthwise_conv2d_s8
 * (golden/intsim/kernels.py; depth multiplier M = OUT_C / IN_C, weights [C*M][1][K_H][K_W]:
 * output channel c reads input channel c / M).
 *
 * Same structure as conv2d.h: DW_PIX, one output pixel per cycle in CHW order,
 * the K_H x K_W window of one channel unrolled. CFG as in conv2d.h (OUT_C = M * IN_C).
 */
#ifndef HIL_HLS_DEPTHWISE_CONV2D_H
#define HIL_HLS_DEPTHWISE_CONV2D_H

#include "hil_hls/arith.h"
#include "hil_hls/csim.h"

namespace hil {

template <class CFG>
inline acc_t depthwise_window(const typename CFG::in_t in[CFG::IN_C][CFG::IN_H][CFG::IN_W],
                              const int8_t w[CFG::OUT_C][1][CFG::K_H][CFG::K_W],
                              int c, int oh, int ow, int zp)
{
#pragma HLS INLINE
    acc_t acc = 0;
WIN_H:
    for (int kh = 0; kh < CFG::K_H; kh++) {
    WIN_W:
        for (int kw = 0; kw < CFG::K_W; kw++) {
            const int ih = oh * CFG::S_H - CFG::P_T + kh;
            const int iw = ow * CFG::S_W - CFG::P_L + kw;
            const bool inside = ih >= 0 && ih < CFG::IN_H && iw >= 0 && iw < CFG::IN_W;
            const ap_int<CFG::IN_BITS + 1> x = inside ? ap_int<CFG::IN_BITS + 1>(in[c / (CFG::OUT_C / CFG::IN_C)][ih][iw] - zp) : ap_int<CFG::IN_BITS + 1>(0);
            acc += acc_t(x * typename CFG::w_t(w[c][0][kh][kw]));
        }
    }
    return acc;
}

template <class CFG, class OUT>
void depthwise_conv2d_shift(const typename CFG::in_t in[CFG::IN_C][CFG::IN_H][CFG::IN_W], OUT &out,
                            const int8_t w[CFG::OUT_C][1][CFG::K_H][CFG::K_W],
                            const int32_t b[CFG::B_LEN])
{
#pragma HLS INLINE off
#pragma HLS ARRAY_PARTITION variable = w complete dim = 3
#pragma HLS ARRAY_PARTITION variable = w complete dim = 4
    int c = 0, oh = 0, ow = 0;
DW_PIX:
    for (int o = 0; o < CFG::OUT_C * CFG::OUT_H * CFG::OUT_W; o++) {
#pragma HLS PIPELINE II = 1
        acc_t acc = depthwise_window<CFG>(in, w, c, oh, ow, 0);
        if (CFG::HAS_BIAS) {
            acc += acc_t(b[c]);
        }
        const typename CFG::out_t v = typename CFG::out_t(floor_shift<CFG::RSHIFT, CFG::RELU>(acc));
        Sink<OUT>::put(out, c, oh, ow, o, v);
        HIL_CSIM_TAP(CFG::LAYER, o, v);
        HIL_CSIM_TRIP(CFG::LAYER);
        next_chw<CFG::OUT_H, CFG::OUT_W>(c, oh, ow);
    }
}

template <class CFG, class OUT>
void depthwise_conv2d_s8(const s8_t in[CFG::IN_C][CFG::IN_H][CFG::IN_W], OUT &out,
                         const int8_t w[CFG::OUT_C][1][CFG::K_H][CFG::K_W],
                         const int32_t b[CFG::B_LEN], const int32_t mult[CFG::OUT_C],
                         const int8_t shift[CFG::OUT_C])
{
#pragma HLS INLINE off
#pragma HLS ARRAY_PARTITION variable = w complete dim = 3
#pragma HLS ARRAY_PARTITION variable = w complete dim = 4
    int c = 0, oh = 0, ow = 0;
DW_PIX:
    for (int o = 0; o < CFG::OUT_C * CFG::OUT_H * CFG::OUT_W; o++) {
#pragma HLS PIPELINE II = 1
        acc_t acc = depthwise_window<CFG>(in, w, c, oh, ow, CFG::IN_ZP);
        if (CFG::HAS_BIAS) {
            acc += acc_t(b[c]);
        }
        const s8_t v = requantize_s8(acc, acc_t(mult[c]), int(shift[c]), CFG::OUT_ZP, CFG::ACT_MIN, CFG::ACT_MAX);
        Sink<OUT>::put(out, c, oh, ow, o, v);
        HIL_CSIM_TAP(CFG::LAYER, o, v);
        HIL_CSIM_TRIP(CFG::LAYER);
        next_chw<CFG::OUT_H, CFG::OUT_W>(c, oh, ow);
    }
}

}  // namespace hil

#endif /* HIL_HLS_DEPTHWISE_CONV2D_H */
