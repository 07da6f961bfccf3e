/* hil_model.c: runs a generated model layer by layer in a ping-pong arena. */
#include "nn/hil_model.h"

#include "nn/hil_conv2d_s8.h"
#include "nn/hil_depthwise_conv2d_s8.h"
#include "nn/hil_fully_connected_s8.h"
#include "nn/hil_pool2d_s8.h"

/* Layer i < last writes to half i % 2: half 0 at the arena start, half 1 at
 * the first 4-byte boundary after the largest even layer's tensor. */
static uint32_t align4(uint32_t n) { return (n + 3u) & ~3u; }

static void half_sizes(const hil_model_t *model, uint32_t last_layer, uint32_t *even, uint32_t *odd)
{
    *even = 0u;
    *odd = 0u;
    for (uint32_t i = 0; i < last_layer; i++) {
        uint32_t *half = (i % 2u) == 0u ? even : odd;
        if (model->layers[i].out_size > *half) {
            *half = model->layers[i].out_size;
        }
    }
}

uint32_t hil_model_arena_need(const hil_model_t *model)
{
    uint32_t even, odd;
    half_sizes(model, model->layer_count == 0u ? 0u : model->layer_count - 1u, &even, &odd);
    return odd == 0u ? even : align4(even) + odd;
}

int hil_layer_run(const hil_layer_t *layer, const int8_t *in, int8_t *out)
{
    const hil_quant_params_t quant = {layer->multiplier, layer->shift};
    const hil_conv_params_t conv = {layer->kernel, layer->stride, layer->padding, layer->input_zp,
                                    layer->output_zp, layer->act_min, layer->act_max};
    const hil_pool_params_t pool = {layer->kernel, layer->stride, layer->global_pool};
    switch (layer->op) {
    case HIL_OP_CONV2D:
        return hil_conv2d_wrapper_s8(&conv, &quant, &layer->in_dims, in, layer->weights,
                                     layer->bias, &layer->out_dims, out);
    case HIL_OP_DEPTHWISE_CONV2D:
        return hil_depthwise_conv2d_s8(&conv, &quant, &layer->in_dims, in, layer->weights,
                                       layer->bias, &layer->out_dims, out);
    case HIL_OP_FULLY_CONNECTED: {
        const hil_fc_params_t fc = {layer->input_zp, layer->output_zp, layer->act_min,
                                    layer->act_max};
        return hil_fully_connected_s8(&fc, &quant, layer->in_size, in, layer->weights,
                                      layer->bias, layer->out_size, out);
    }
    case HIL_OP_MAXPOOL2D:
        return hil_maxpool2d_s8(&pool, &layer->in_dims, in, &layer->out_dims, out);
    case HIL_OP_AVGPOOL2D:
        return hil_avgpool2d_s8(&pool, &layer->in_dims, in, &layer->out_dims, out);
    default:
        return HIL_NN_ERR_OP;
    }
}

int hil_model_run_until(const hil_model_t *model, const int8_t *input, uint32_t last_layer,
                        int8_t *out, hil_layer_hook_t hook, void *ctx)
{
    if (last_layer >= model->layer_count) {
        return HIL_NN_ERR_LAYER;
    }
    uint32_t even, odd;
    half_sizes(model, last_layer, &even, &odd);
    if ((odd == 0u ? even : align4(even) + odd) > hil_nn_arena_size) {
        return HIL_NN_ERR_ARENA;
    }
    int8_t *const halves[2] = {hil_nn_arena, hil_nn_arena + align4(even)};
    const int8_t *x = input;
    uint32_t x_size = model->in_size;
    for (uint32_t i = 0; i <= last_layer; i++) {
        const hil_layer_t *layer = &model->layers[i];
        if (layer->in_size != x_size) {
            return HIL_NN_ERR_LAYER;
        }
        int8_t *y = i == last_layer ? out : halves[i % 2u];
        const int rc = hil_layer_run(layer, x, y);
        if (rc != HIL_NN_OK) {
            return rc;
        }
        if (hook != 0) {
            hook(ctx, i, layer, y);
        }
        x = y;
        x_size = layer->out_size;
    }
    return HIL_NN_OK;
}

int hil_model_run(const hil_model_t *model, const int8_t *input, int8_t *output,
                  hil_layer_hook_t hook, void *ctx)
{
    if (model->layer_count == 0u) {
        return HIL_NN_ERR_LAYER;
    }
    return hil_model_run_until(model, input, model->layer_count - 1u, output, hook, ctx);
}
