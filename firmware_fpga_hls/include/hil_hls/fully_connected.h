/* fully_connected.h: hil::fully_connected_shift, hil::fully_connected_s8
 * (golden/intsim/kernels.py fully_connected_*; also a 1x1 convolution on a
 * 1x1 map, e.g. seed 001's pointwise layer, whose weights [Out][In][1][1] are
 * the same matrix).
 *
 * Input-stationary matrix-vector product: FC_MAC reads each input value once,
 * in order (so the input can be a FIFO and the layer overlaps its producer),
 * and spends G = ceil(OUT_N / P) cycles on it, P multiply-accumulates per
 * cycle into P partial sums. P = 1 for the seed's pointwise: 48 x 16 = 768
 * MACs in 768 cycles. FC_OUT then adds the bias, rescales and writes one
 * output per cycle. Modelled cycles: hil/targets/hls/cycles.py.
 *
 * CFG: LAYER, IN_N, OUT_N, P, G, B_LEN, HAS_BIAS, in_t, out_t, w_t; shift:
 * RSHIFT, RELU; s8: IN_ZP, OUT_ZP, ACT_MIN, ACT_MAX.
 */
#ifndef HIL_HLS_FULLY_CONNECTED_H
#define HIL_HLS_FULLY_CONNECTED_H

#include "hil_hls/arith.h"
#include "hil_hls/csim.h"

namespace hil {

template <class CFG, class IN>
inline void matvec_mac(IN &in, const int8_t w[CFG::OUT_N][CFG::IN_N], acc_t acc[CFG::OUT_N], int zp)
{
#pragma HLS INLINE
    ap_int<CFG::IN_BITS + 1> x = 0;
    int i = 0, g = 0;
FC_MAC:
    for (int t = 0; t < CFG::IN_N * CFG::G; t++) {
#pragma HLS PIPELINE II = 1
        if (g == 0) {
            x = ap_int<CFG::IN_BITS + 1>(Source<IN>::get(in, i) - zp);
        }
    FC_LANE:
        for (int p = 0; p < CFG::P; p++) {
            const int o = g * CFG::P + p;
            if (o < CFG::OUT_N) {
                const acc_t prod = acc_t(x * typename CFG::w_t(w[o][i]));
                acc[o] = (i == 0 ? acc_t(0) : acc[o]) + prod;
            }
        }
        HIL_CSIM_TRIP(CFG::LAYER);
        if (++g == CFG::G) {
            g = 0;
            ++i;
        }
    }
}

template <class CFG, class IN, class OUT>
void fully_connected_shift(IN &in, OUT &out, const int8_t w[CFG::OUT_N][CFG::IN_N],
                           const int32_t b[CFG::B_LEN])
{
#pragma HLS INLINE off
#pragma HLS ARRAY_PARTITION variable = w cyclic factor = CFG::P dim = 1
    acc_t acc[CFG::OUT_N];
#pragma HLS ARRAY_PARTITION variable = acc complete
    matvec_mac<CFG>(in, w, acc, 0);
FC_OUT:
    for (int o = 0; o < CFG::OUT_N; o++) {
#pragma HLS PIPELINE II = 1
        const acc_t a = CFG::HAS_BIAS ? acc_t(acc[o] + acc_t(b[o])) : acc[o];
        const typename CFG::out_t v = typename CFG::out_t(floor_shift<CFG::RSHIFT, CFG::RELU>(a));
        Sink<OUT>::put(out, o, 0, 0, o, v);
        HIL_CSIM_TAP(CFG::LAYER, o, v);
        HIL_CSIM_TRIP(CFG::LAYER);
    }
}

template <class CFG, class IN, class OUT>
void fully_connected_s8(IN &in, OUT &out, const int8_t w[CFG::OUT_N][CFG::IN_N],
                        const int32_t b[CFG::B_LEN], const int32_t mult[CFG::OUT_N], const int8_t shift[CFG::OUT_N])
{
#pragma HLS INLINE off
#pragma HLS ARRAY_PARTITION variable = w cyclic factor = CFG::P dim = 1
    acc_t acc[CFG::OUT_N];
#pragma HLS ARRAY_PARTITION variable = acc complete
    matvec_mac<CFG>(in, w, acc, CFG::IN_ZP);
FC_OUT:
    for (int o = 0; o < CFG::OUT_N; o++) {
#pragma HLS PIPELINE II = 1
        const acc_t a = CFG::HAS_BIAS ? acc_t(acc[o] + acc_t(b[o])) : acc[o];
        const s8_t v = requantize_s8(a, acc_t(mult[o]), int(shift[o]), CFG::OUT_ZP, CFG::ACT_MIN, CFG::ACT_MAX);
        Sink<OUT>::put(out, o, 0, 0, o, v);
        HIL_CSIM_TAP(CFG::LAYER, o, v);
        HIL_CSIM_TRIP(CFG::LAYER);
    }
}

}  // namespace hil

#endif /* HIL_HLS_FULLY_CONNECTED_H */
