/* csim.h: C-simulation-only probes, compiled out under synthesis (__SYNTHESIS__).
 *
 * Kernels report every output value (HIL_CSIM_TAP) and every iteration of a
 * pipelined loop (HIL_CSIM_TRIP). The emulated board uses the taps to return
 * per-layer tensors (run mode LAYER_TENSORS) from the very top function that
 * is synthesised; the testbench uses the trip counts to check that the loop
 * structure is the one hil/targets/hls/cycles.py models. No probe set: nothing happens.
 */
#ifndef HIL_HLS_CSIM_H
#define HIL_HLS_CSIM_H

#include "hil_hls/types.h"

#ifndef __SYNTHESIS__
namespace hil {
namespace csim {

struct Probe {
    int layers;
    int32_t **tensors; /* [layer] -> that layer's output, CHW flat, or null */
    uint64_t *trips;   /* [layer] -> pipelined loop iterations, or null */
};

inline Probe *&probe()
{
    static Probe *p = 0;
    return p;
}

template <class V> inline void tap(int layer, int index, const V &v)
{
    Probe *p = probe();
    if (p != 0 && p->tensors != 0 && layer >= 0 && layer < p->layers && p->tensors[layer] != 0) {
        p->tensors[layer][index] = (int32_t)acc_t(v).to_int();
    }
}

inline void trip(int layer)
{
    Probe *p = probe();
    if (p != 0 && p->trips != 0 && layer >= 0 && layer < p->layers) {
        p->trips[layer]++;
    }
}

}  // namespace csim
}  // namespace hil
#define HIL_CSIM_TAP(layer, index, value) ::hil::csim::tap((layer), (index), (value))
#define HIL_CSIM_TRIP(layer) ::hil::csim::trip(layer)
#else
#define HIL_CSIM_TAP(layer, index, value) ((void)0)
#define HIL_CSIM_TRIP(layer) ((void)0)
#endif

#endif /* HIL_HLS_CSIM_H */
