/* graph_ops.h: the int8 kernels of graph models (golden/intsim/kernels.py add_s8,
 * concat_s8, channel_shuffle, channel_slice, grouped_conv2d_s8) and the fan-out
 * copy that lets one tensor feed several dataflow processes.
 *
 * Each is one dataflow process with one pipelined loop (II=1), one output value
 * per cycle in CHW order, reading ping-pong buffers [C][H][W]:
 *   ADD_PIX    hil::add_s8            TFLite Micro ADD (both inputs rescaled, summed, rescaled)
 *   CAT_PIX    hil::concat2_s8        two inputs on channels, each requantized to the output scale
 *   SHUF_PIX   hil::channel_shuffle   output channel j*G + g = input channel g*(C/G) + j
 *   SLICE_PIX  hil::channel_slice     channels [START, START + OUT_C)
 *   GCONV_PIX  hil::grouped_conv2d_s8 output-stationary, window Cin/G x KH x KW unrolled
 *   FANOUT     hil::fanout2/3         copies a buffer into 2 or 3 (DATAFLOW: one consumer per buffer)
 * Modelled cycles: hil/targets/hls/design.py + cycles.py.
 */
#ifndef HIL_HLS_GRAPH_OPS_H
#define HIL_HLS_GRAPH_OPS_H

#include "hil_hls/arith.h"
#include "hil_hls/csim.h"

namespace hil {

template <class CFG, class OUT>
void add_s8(const s8_t a[CFG::OUT_C][CFG::OUT_H][CFG::OUT_W], const s8_t b[CFG::OUT_C][CFG::OUT_H][CFG::OUT_W],
            OUT &out)
{
#pragma HLS INLINE off
    int c = 0, oh = 0, ow = 0;
ADD_PIX:
    for (int o = 0; o < CFG::OUT_C * CFG::OUT_H * CFG::OUT_W; o++) {
#pragma HLS PIPELINE II = 1
        const acc_t xa = acc_t(a[c][oh][ow] - CFG::A_ZP) << CFG::LEFT_SHIFT;
        const acc_t xb = acc_t(b[c][oh][ow] - CFG::B_ZP) << CFG::LEFT_SHIFT;
        const acc_t sum = requantize(xa, CFG::A_MULT, CFG::A_SHIFT) + requantize(xb, CFG::B_MULT, CFG::B_SHIFT);
        const s8_t v = requantize_s8(sum, CFG::OUT_MULT, CFG::OUT_SHIFT, CFG::OUT_ZP, CFG::ACT_MIN, CFG::ACT_MAX);
        Sink<OUT>::put(out, c, oh, ow, o, v);
        HIL_CSIM_TAP(CFG::LAYER, o, v);
        HIL_CSIM_TRIP(CFG::LAYER);
        next_chw<CFG::OUT_H, CFG::OUT_W>(c, oh, ow);
    }
}

template <class CFG, class OUT>
void concat2_s8(const s8_t a[CFG::A_C][CFG::OUT_H][CFG::OUT_W], const s8_t b[CFG::B_C][CFG::OUT_H][CFG::OUT_W],
                OUT &out)
{
#pragma HLS INLINE off
    int c = 0, oh = 0, ow = 0;
CAT_PIX:
    for (int o = 0; o < CFG::OUT_C * CFG::OUT_H * CFG::OUT_W; o++) {
#pragma HLS PIPELINE II = 1
        const bool first = c < CFG::A_C;
        const acc_t x = first ? acc_t(a[c][oh][ow] - CFG::A_ZP) : acc_t(b[first ? 0 : c - CFG::A_C][oh][ow] - CFG::B_ZP);
        const s8_t v = requantize_s8(x, first ? acc_t(CFG::A_MULT) : acc_t(CFG::B_MULT),
                                     first ? CFG::A_SHIFT : CFG::B_SHIFT, CFG::OUT_ZP, -128, 127);
        Sink<OUT>::put(out, c, oh, ow, o, v);
        HIL_CSIM_TAP(CFG::LAYER, o, v);
        HIL_CSIM_TRIP(CFG::LAYER);
        next_chw<CFG::OUT_H, CFG::OUT_W>(c, oh, ow);
    }
}

template <class CFG, class OUT>
void channel_shuffle(const s8_t in[CFG::IN_C][CFG::IN_H][CFG::IN_W], OUT &out)
{
#pragma HLS INLINE off
    int c = 0, oh = 0, ow = 0;
SHUF_PIX:
    for (int o = 0; o < CFG::OUT_C * CFG::OUT_H * CFG::OUT_W; o++) {
#pragma HLS PIPELINE II = 1
        const int src = (c % CFG::GROUPS) * (CFG::IN_C / CFG::GROUPS) + c / CFG::GROUPS;
        const s8_t v = in[src][oh][ow];
        Sink<OUT>::put(out, c, oh, ow, o, v);
        HIL_CSIM_TAP(CFG::LAYER, o, v);
        HIL_CSIM_TRIP(CFG::LAYER);
        next_chw<CFG::OUT_H, CFG::OUT_W>(c, oh, ow);
    }
}

template <class CFG, class OUT>
void channel_slice(const s8_t in[CFG::IN_C][CFG::IN_H][CFG::IN_W], OUT &out)
{
#pragma HLS INLINE off
    int c = 0, oh = 0, ow = 0;
SLICE_PIX:
    for (int o = 0; o < CFG::OUT_C * CFG::OUT_H * CFG::OUT_W; o++) {
#pragma HLS PIPELINE II = 1
        const s8_t v = in[c + CFG::START][oh][ow];
        Sink<OUT>::put(out, c, oh, ow, o, v);
        HIL_CSIM_TAP(CFG::LAYER, o, v);
        HIL_CSIM_TRIP(CFG::LAYER);
        next_chw<CFG::OUT_H, CFG::OUT_W>(c, oh, ow);
    }
}

template <class CFG, class OUT>
void grouped_conv2d_s8(const s8_t in[CFG::IN_C][CFG::IN_H][CFG::IN_W], OUT &out,
                       const int8_t w[CFG::OUT_C][CFG::IN_CG][CFG::K_H][CFG::K_W],
                       const int32_t b[CFG::B_LEN], const int32_t mult[CFG::OUT_C], const int8_t shift[CFG::OUT_C])
{
#pragma HLS INLINE off
#pragma HLS ARRAY_PARTITION variable = w complete dim = 2
#pragma HLS ARRAY_PARTITION variable = w complete dim = 3
#pragma HLS ARRAY_PARTITION variable = w complete dim = 4
    int c = 0, oh = 0, ow = 0;
GCONV_PIX:
    for (int o = 0; o < CFG::OUT_C * CFG::OUT_H * CFG::OUT_W; o++) {
#pragma HLS PIPELINE II = 1
        const int base = (c / (CFG::OUT_C / CFG::GROUPS)) * CFG::IN_CG;
        acc_t acc = 0;
    WIN_C:
        for (int ic = 0; ic < CFG::IN_CG; ic++) {
        WIN_H:
            for (int kh = 0; kh < CFG::K_H; kh++) {
            WIN_W:
                for (int kw = 0; kw < CFG::K_W; kw++) {
                    const int ih = oh * CFG::S_H - CFG::P_T + kh;
                    const int iw = ow * CFG::S_W - CFG::P_L + kw;
                    const bool inside = ih >= 0 && ih < CFG::IN_H && iw >= 0 && iw < CFG::IN_W;
                    const ap_int<9> x = inside ? ap_int<9>(in[base + ic][ih][iw] - CFG::IN_ZP) : ap_int<9>(0);
                    acc += acc_t(x * typename CFG::w_t(w[c][ic][kh][kw]));
                }
            }
        }
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

/* One tensor to several consumers: DATAFLOW allows one reader per buffer.
 * LAYER is the producer's (its trips include the copy); -1 for the model input. */
template <int LAYER, int C, int H, int W, class T>
void fanout2(const T in[C][H][W], T o0[C][H][W], T o1[C][H][W])
{
#pragma HLS INLINE off
    int c = 0, h = 0, w = 0;
FANOUT:
    for (int i = 0; i < C * H * W; i++) {
#pragma HLS PIPELINE II = 1
        const T v = in[c][h][w];
        o0[c][h][w] = v;
        o1[c][h][w] = v;
        HIL_CSIM_TRIP(LAYER);
        next_chw<H, W>(c, h, w);
    }
}

template <int LAYER, int C, int H, int W, class T>
void fanout3(const T in[C][H][W], T o0[C][H][W], T o1[C][H][W], T o2[C][H][W])
{
#pragma HLS INLINE off
    int c = 0, h = 0, w = 0;
FANOUT:
    for (int i = 0; i < C * H * W; i++) {
#pragma HLS PIPELINE II = 1
        const T v = in[c][h][w];
        o0[c][h][w] = v;
        o1[c][h][w] = v;
        o2[c][h][w] = v;
        HIL_CSIM_TRIP(LAYER);
        next_chw<H, W>(c, h, w);
    }
}

}  // namespace hil

#endif /* HIL_HLS_GRAPH_OPS_H */
