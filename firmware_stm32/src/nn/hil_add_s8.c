/* hil_add_s8.c: elementwise add of two int8 tensors (TFLite Micro ADD). */
#include "nn/hil_graph_ops_s8.h"
#include "nn/hil_requantize.h"

int hil_add_s8(const hil_add_params_t *p, const int8_t *a, const int8_t *b, uint32_t size, int8_t *out)
{
    if (p->left_shift < 0 || p->left_shift > 22 || p->in_shift[0] > 0 || p->in_shift[1] > 0 ||
        p->in_shift[0] < -31 || p->in_shift[1] < -31 || p->act_min > p->act_max) {
        return HIL_NN_ERR_ARG;
    }
    const int32_t scale = (int32_t)1 << p->left_shift;
    for (uint32_t i = 0; i < size; i++) {
        const int32_t va = hil_requantize(((int32_t)a[i] - p->in_zp[0]) * scale, p->in_multiplier[0],
                                          p->in_shift[0]);
        const int32_t vb = hil_requantize(((int32_t)b[i] - p->in_zp[1]) * scale, p->in_multiplier[1],
                                          p->in_shift[1]);
        out[i] = hil_requantize_s8(va + vb, p->out_multiplier, p->out_shift, p->out_zp, p->act_min,
                                   p->act_max);
    }
    return HIL_NN_OK;
}
