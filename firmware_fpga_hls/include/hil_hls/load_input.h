/* load_input.h: hil::load_input, the first process of every generated top.
 *
 * LOAD_IN copies the input port (ap_memory: one value per cycle) into the
 * first layer's buffer, which the top partitions so the first layer can read
 * a whole window per cycle. Its cycles count in the inference total, not in
 * any layer (hil/targets/hls/cycles.py stage "load").
 */
#ifndef HIL_HLS_LOAD_INPUT_H
#define HIL_HLS_LOAD_INPUT_H

#include "hil_hls/types.h"

namespace hil {

template <int C, int H, int W, class T>
void load_input(const s8_t in[C * H * W], T out[C][H][W])
{
#pragma HLS INLINE off
    int c = 0, h = 0, w = 0;
LOAD_IN:
    for (int i = 0; i < C * H * W; i++) {
#pragma HLS PIPELINE II = 1
        out[c][h][w] = T(in[i]);
        if (++w == W) {
            w = 0;
            if (++h == H) {
                h = 0;
                ++c;
            }
        }
    }
}

}  // namespace hil

#endif /* HIL_HLS_LOAD_INPUT_H */
