/* hil_maxpool2d_s8.c: the max pooling kernel the build selected (KERNELS=opt|ref). */
#include "nn/hil_pool2d_s8.h"

int hil_maxpool2d_s8(const hil_pool_params_t *pool, const hil_dims_t *in_dims, const int8_t *in,
                     const hil_dims_t *out_dims, int8_t *out)
{
#if HIL_NN_KERNELS_OPT
    return hil_maxpool2d_s8_opt(pool, in_dims, in, out_dims, out);
#else
    return hil_maxpool2d_s8_ref(pool, in_dims, in, out_dims, out);
#endif
}
