/* pool2d.h: hil::maxpool2d, hil::maxpool2d_global, hil::avgpool2d_s8
 * (golden/intsim/kernels.py maxpool2d / avgpool2d_s8; no padding, floor mode).
 *
 *   maxpool2d, avgpool2d_s8  POOL_PIX: one output per cycle, the window unrolled
 *                            (input buffer partitioned by the generated top)
 *   maxpool2d_global         GPOOL_IN: reads its input once, in CHW order, one
 *                            value per cycle, so it takes a FIFO and overlaps
 *                            with its producer (seed 001: max pool folded into
 *                            the depthwise stage). Output [C][1][1].
 *
 * Max pooling keeps the input type (any scheme); scale and zero point unchanged.
 */
#ifndef HIL_HLS_POOL2D_H
#define HIL_HLS_POOL2D_H

#include "hil_hls/arith.h"
#include "hil_hls/csim.h"

namespace hil {

template <class CFG, class OUT>
void maxpool2d(const typename CFG::in_t in[CFG::IN_C][CFG::IN_H][CFG::IN_W], OUT &out)
{
#pragma HLS INLINE off
    int c = 0, oh = 0, ow = 0;
POOL_PIX:
    for (int o = 0; o < CFG::OUT_C * CFG::OUT_H * CFG::OUT_W; o++) {
#pragma HLS PIPELINE II = 1
        typename CFG::in_t m = 0;
        bool any = false; /* padded cells take no part (TFLM) */
    WIN_H:
        for (int kh = 0; kh < CFG::K_H; kh++) {
        WIN_W:
            for (int kw = 0; kw < CFG::K_W; kw++) {
                const int ih = oh * CFG::S_H - CFG::P_T + kh, iw = ow * CFG::S_W - CFG::P_L + kw;
                if (ih >= 0 && ih < CFG::IN_H && iw >= 0 && iw < CFG::IN_W) {
                    const typename CFG::in_t x = in[c][ih][iw];
                    m = (!any || x > m) ? x : m;
                    any = true;
                }
            }
        }
        Sink<OUT>::put(out, c, oh, ow, o, m);
        HIL_CSIM_TAP(CFG::LAYER, o, m);
        HIL_CSIM_TRIP(CFG::LAYER);
        next_chw<CFG::OUT_H, CFG::OUT_W>(c, oh, ow);
    }
}

template <class CFG, class IN, class OUT>
void maxpool2d_global(IN &in, OUT &out)
{
#pragma HLS INLINE off
    typename CFG::in_t m = 0;
    int c = 0, k = 0;
GPOOL_IN:
    for (int i = 0; i < CFG::IN_C * CFG::IN_H * CFG::IN_W; i++) {
#pragma HLS PIPELINE II = 1
        const typename CFG::in_t x = Source<IN>::get(in, i);
        m = (k == 0 || x > m) ? x : m;
        if (k == CFG::IN_H * CFG::IN_W - 1) {
            Sink<OUT>::put(out, c, 0, 0, c, m);
            HIL_CSIM_TAP(CFG::LAYER, c, m);
        }
        HIL_CSIM_TRIP(CFG::LAYER);
        if (++k == CFG::IN_H * CFG::IN_W) {
            k = 0;
            ++c;
        }
    }
}

/* TFLite Micro average: (sum +- count/2) / count, truncating toward zero (arith.avgpool_round). */
template <class CFG, class OUT>
void avgpool2d_s8(const s8_t in[CFG::IN_C][CFG::IN_H][CFG::IN_W], OUT &out)
{
#pragma HLS INLINE off
    int c = 0, oh = 0, ow = 0;
POOL_PIX:
    for (int o = 0; o < CFG::OUT_C * CFG::OUT_H * CFG::OUT_W; o++) {
#pragma HLS PIPELINE II = 1
        acc_t sum = 0;
        int count = 0; /* the window's unpadded cells (TFLM) */
    WIN_H:
        for (int kh = 0; kh < CFG::K_H; kh++) {
        WIN_W:
            for (int kw = 0; kw < CFG::K_W; kw++) {
                const int ih = oh * CFG::S_H - CFG::P_T + kh, iw = ow * CFG::S_W - CFG::P_L + kw;
                if (ih >= 0 && ih < CFG::IN_H && iw >= 0 && iw < CFG::IN_W) {
                    sum += in[c][ih][iw];
                    count++;
                }
            }
        }
        const acc_t num = sum > 0 ? acc_t(sum + count / 2) : acc_t(sum - count / 2);
        const acc_t q = num >= 0 ? acc_t(num / count) : acc_t(-((-num) / count));
        const s8_t v = s8_t(q);
        Sink<OUT>::put(out, c, oh, ow, o, v);
        HIL_CSIM_TAP(CFG::LAYER, o, v);
        HIL_CSIM_TRIP(CFG::LAYER);
        next_chw<CFG::OUT_H, CFG::OUT_W>(c, oh, ow);
    }
}

}  // namespace hil

#endif /* HIL_HLS_POOL2D_H */
