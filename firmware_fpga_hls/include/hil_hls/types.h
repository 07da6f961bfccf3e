/* types.h: integer types and I/O helpers shared by every HLS kernel.
 *
 * Vitis-HLS-style C++14: Xilinx arbitrary-precision integers (ap_int.h,
 * hls_stream.h; Apache-2.0, shipped in the hls4ml wheel under
 * hls4ml/templates/vivado/ap_types/). The same sources are synthesised by
 * Vitis HLS, run as a C simulation by tb/csim_tb.cpp and served over the wire
 * protocol by the emulated board (sim/). Tensors are CHW, as everywhere in hil.
 */
#ifndef HIL_HLS_TYPES_H
#define HIL_HLS_TYPES_H

#include <ap_int.h>
#include <hls_stream.h>
#include <stdint.h>

namespace hil {

typedef ap_int<32> acc_t;   /* every accumulator: int32, wrapping like a device (golden/intsim checks int32) */
typedef ap_int<8> s8_t;     /* int8: model inputs exactly as sent over the wire, int8-scheme activations */
typedef ap_int<64> wide_t;  /* requantization products (int32 x int32) */

/* Constant tables (<model>_tables.cpp: weights, biases, multipliers, shifts) are
 * plain int8_t / int32_t arrays, not ap_int: g++ compiles a plain initialiser in
 * no time, while one ap_int constructor per element took minutes and gigabytes
 * for the graph models. Kernels take `const int8_t w[...]` and convert each
 * element where it is used (CFG::w_t for the multiplier, acc_t for the bias and
 * multiplier), so the datapath widths are unchanged. For Vitis HLS a const global
 * array is still a ROM (BRAM or LUTROM), 8 / 32 bits wide. */

/* Where a kernel writes output element (c, h, w) (flat CHW index i): a FIFO
 * (written in order), a ping-pong buffer [C][H][W], or the top's output port.
 * A class template, so the three are told apart by type, never by overloading. */
template <class OUT> struct Sink;

template <class T> struct Sink<hls::stream<T> > {
    template <class V> static void put(hls::stream<T> &s, int, int, int, int, const V &v) { s.write(T(v)); }
};
template <class T, int C, int H, int W> struct Sink<T[C][H][W]> {
    template <class V> static void put(T (&a)[C][H][W], int c, int h, int w, int, const V &v) { a[c][h][w] = T(v); }
};
template <class T> struct Sink<T *> {
    template <class V> static void put(T *p, int, int, int, int i, const V &v) { p[i] = T(v); }
};

/* Element i (flat CHW order) of an input a kernel reads exactly once, in order. */
template <class IN> struct Source;

template <class T> struct Source<hls::stream<T> > {
    typedef T value_type;
    static T get(hls::stream<T> &s, int) { return s.read(); }
};
template <class T, int C, int H, int W> struct Source<T[C][H][W]> {
    typedef T value_type;
    static T get(T (&a)[C][H][W], int i) { return a[i / (H * W)][(i / W) % H][i % W]; }
};

/* Advance a flat CHW output position (c, oh, ow) by one element, W fastest:
 * the loop counters every pipelined kernel keeps instead of dividing. */
template <int H, int W>
inline void next_chw(int &c, int &oh, int &ow)
{
#pragma HLS INLINE
    if (++ow == W) {
        ow = 0;
        if (++oh == H) {
            oh = 0;
            ++c;
        }
    }
}

}  // namespace hil

#endif /* HIL_HLS_TYPES_H */
