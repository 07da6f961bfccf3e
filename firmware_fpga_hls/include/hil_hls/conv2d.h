/* conv2d.h: hil::conv2d_shift, hil::conv2d_s8 (golden/intsim/kernels.py conv2d_shift / conv2d_s8).
 *
 * Output-stationary: CONV_PIX visits the output pixels in CHW order, one per
 * cycle (II=1), and multiplies the whole window (IN_C x K_H x K_W values)
 * at once in an unrolled adder tree. The input buffer is partitioned by the
 * generated top so the window can be read in one cycle; the weights are
 * partitioned here. Modelled cycles: hil/targets/hls/cycles.py (trip OUT_C*OUT_H*OUT_W).
 *
 * CFG (generated, <model>_tables.h): LAYER, IN_C/H/W, OUT_C/H/W, K_H/W, S_H/W,
 * P_T/B/L/R (padding top, bottom, left, right; the window starts P_T/P_L before), B_LEN, HAS_BIAS, in_t, out_t, w_t; shift: RSHIFT, RELU; s8: IN_ZP,
 * OUT_ZP, ACT_MIN, ACT_MAX. OUT: hls::stream, out_t[C][H][W] or a port pointer.
 */
#ifndef HIL_HLS_CONV2D_H
#define HIL_HLS_CONV2D_H

#include "hil_hls/arith.h"
#include "hil_hls/csim.h"

namespace hil {

/* Sum over the window of (x - zp) * w; padded positions contribute 0 (they hold zp). */
template <class CFG>
inline acc_t conv2d_window(const typename CFG::in_t in[CFG::IN_C][CFG::IN_H][CFG::IN_W],
                           const int8_t w[CFG::OUT_C][CFG::IN_C][CFG::K_H][CFG::K_W],
                           int c, int oh, int ow, int zp)
{
#pragma HLS INLINE
    acc_t acc = 0;
WIN_C:
    for (int ic = 0; ic < CFG::IN_C; ic++) {
    WIN_H:
        for (int kh = 0; kh < CFG::K_H; kh++) {
        WIN_W:
            for (int kw = 0; kw < CFG::K_W; kw++) {
                const int ih = oh * CFG::S_H - CFG::P_T + kh;
                const int iw = ow * CFG::S_W - CFG::P_L + kw;
                const bool inside = ih >= 0 && ih < CFG::IN_H && iw >= 0 && iw < CFG::IN_W;
                const ap_int<CFG::IN_BITS + 1> x = inside ? ap_int<CFG::IN_BITS + 1>(in[ic][ih][iw] - zp) : ap_int<CFG::IN_BITS + 1>(0);
                acc += acc_t(x * typename CFG::w_t(w[c][ic][kh][kw]));
            }
        }
    }
    return acc;
}

template <class CFG, class OUT>
void conv2d_shift(const typename CFG::in_t in[CFG::IN_C][CFG::IN_H][CFG::IN_W], OUT &out,
                  const int8_t w[CFG::OUT_C][CFG::IN_C][CFG::K_H][CFG::K_W],
                  const int32_t b[CFG::B_LEN])
{
#pragma HLS INLINE off
#pragma HLS ARRAY_PARTITION variable = w complete dim = 2
#pragma HLS ARRAY_PARTITION variable = w complete dim = 3
#pragma HLS ARRAY_PARTITION variable = w complete dim = 4
    int c = 0, oh = 0, ow = 0;
CONV_PIX:
    for (int o = 0; o < CFG::OUT_C * CFG::OUT_H * CFG::OUT_W; o++) {
#pragma HLS PIPELINE II = 1
        acc_t acc = conv2d_window<CFG>(in, w, c, oh, ow, 0);
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
void conv2d_s8(const s8_t in[CFG::IN_C][CFG::IN_H][CFG::IN_W], OUT &out,
               const int8_t w[CFG::OUT_C][CFG::IN_C][CFG::K_H][CFG::K_W],
               const int32_t b[CFG::B_LEN], const int32_t mult[CFG::OUT_C], const int8_t shift[CFG::OUT_C])
{
#pragma HLS INLINE off
#pragma HLS ARRAY_PARTITION variable = w complete dim = 2
#pragma HLS ARRAY_PARTITION variable = w complete dim = 3
#pragma HLS ARRAY_PARTITION variable = w complete dim = 4
    int c = 0, oh = 0, ow = 0;
CONV_PIX:
    for (int o = 0; o < CFG::OUT_C * CFG::OUT_H * CFG::OUT_W; o++) {
#pragma HLS PIPELINE II = 1
        acc_t acc = conv2d_window<CFG>(in, w, c, oh, ow, CFG::IN_ZP);
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

#endif /* HIL_HLS_CONV2D_H */
