/* hil_channel_shuffle_s8.c: ShuffleNet channel shuffle and channel slices (pure moves). */
#include <string.h>

#include "nn/hil_graph_ops_s8.h"

int hil_channel_shuffle_s8(const hil_dims_t *dims, uint16_t groups, const int8_t *in, int8_t *out)
{
    if (groups == 0u || dims->c % groups != 0u) {
        return HIL_NN_ERR_ARG;
    }
    const uint32_t hw = (uint32_t)dims->h * dims->w;
    const uint32_t per_group = dims->c / groups;
    for (uint32_t g = 0; g < groups; g++) {
        for (uint32_t j = 0; j < per_group; j++) {
            memcpy(out + (j * groups + g) * hw, in + (g * per_group + j) * hw, hw);
        }
    }
    return HIL_NN_OK;
}

int hil_channel_slice_s8(const hil_dims_t *in_dims, uint16_t start, uint16_t out_c, const int8_t *in,
                         int8_t *out)
{
    if (out_c == 0u || (uint32_t)start + out_c > in_dims->c) {
        return HIL_NN_ERR_ARG;
    }
    const uint32_t hw = (uint32_t)in_dims->h * in_dims->w;
    memcpy(out, in + (uint32_t)start * hw, (uint32_t)out_c * hw);
    return HIL_NN_OK;
}
