/* hil_pad_s8.c: TFLite PAD on H and W of a CHW tensor, new cells = the zero point. */
#include "nn/hil_tflm_ops_s8.h"

int hil_pad_s8(const hil_dims_t *in_dims, hil_pad_t pads, int32_t pad_value, const int8_t *in,
               const hil_dims_t *out_dims, int8_t *out)
{
    const int32_t h = in_dims->h, w = in_dims->w;
    const int32_t oh = h + pads.top + pads.bottom, ow = w + pads.left + pads.right;
    if (out_dims->c != in_dims->c || (int32_t)out_dims->h != oh || (int32_t)out_dims->w != ow ||
        pad_value < -128 || pad_value > 127) {
        return HIL_NN_ERR_ARG;
    }
    for (int32_t c = 0; c < (int32_t)in_dims->c; c++) {
        for (int32_t y = 0; y < oh; y++) {
            const int32_t iy = y - pads.top;
            for (int32_t x = 0; x < ow; x++) {
                const int32_t ix = x - pads.left;
                *out++ = (iy >= 0 && iy < h && ix >= 0 && ix < w) ? in[(c * h + iy) * w + ix]
                                                                  : (int8_t)pad_value;
            }
        }
    }
    return HIL_NN_OK;
}
