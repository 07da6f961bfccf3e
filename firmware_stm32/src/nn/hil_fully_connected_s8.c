/* hil_fully_connected_s8.c: the fully connected kernel the build selected (KERNELS=opt|ref). */
#include "nn/hil_fully_connected_s8.h"

int hil_fully_connected_s8(const hil_fc_params_t *fc, const hil_quant_params_t *quant,
                           uint32_t in_len, const int8_t *in, const int8_t *weights,
                           const int32_t *bias, uint32_t out_len, int8_t *out)
{
#if HIL_NN_KERNELS_OPT
    return hil_fully_connected_s8_opt(fc, quant, in_len, in, weights, bias, out_len, out);
#else
    return hil_fully_connected_s8_ref(fc, quant, in_len, in, weights, bias, out_len, out);
#endif
}
