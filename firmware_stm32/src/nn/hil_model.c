/* hil_model.c: runs a generated model graph, layer by layer, in a planned arena. */
#include "nn/hil_model.h"

#include <string.h>

#include "nn/hil_conv2d_s8.h"
#include "nn/hil_depthwise_conv2d_s8.h"
#include "nn/hil_fully_connected_s8.h"
#include "nn/hil_graph_ops_s8.h"
#include "nn/hil_pool2d_s8.h"
#include "nn/hil_tflm_ops_s8.h"

uint32_t hil_model_arena_need(const hil_model_t *model)
{
    return model->arena_size;
}

static int run_add(const hil_layer_t *layer, const int8_t *const *ins, int8_t *out)
{
    if (layer->n_inputs != 2u || layer->in_sizes[0] != layer->out_size ||
        layer->in_sizes[1] != layer->out_size) {
        return HIL_NN_ERR_ARG;
    }
    const hil_add_params_t p = {
        {layer->in_zps[0], layer->in_zps[1]},
        {layer->in_multipliers[0], layer->in_multipliers[1]},
        {layer->in_shifts[0], layer->in_shifts[1]},
        layer->left_shift, layer->multiplier[0], layer->shift[0], layer->output_zp,
        layer->act_min, layer->act_max};
    return hil_add_s8(&p, ins[0], ins[1], layer->out_size, out);
}

int hil_layer_run(const hil_layer_t *layer, const int8_t *const *ins, int8_t *out)
{
    const hil_quant_params_t quant = {layer->multiplier, layer->shift};
    const hil_conv_params_t conv = {layer->kernel, layer->stride, layer->padding, layer->input_zp,
                                    layer->output_zp, layer->act_min, layer->act_max};
    const hil_pool_params_t pool = {layer->kernel, layer->stride, layer->global_pool, layer->padding};
    const int8_t *in = ins[0];
    switch (layer->op) {
    case HIL_OP_CONV2D:
        return hil_conv2d_wrapper_s8(&conv, &quant, &layer->in_dims, in, layer->weights,
                                     layer->bias, &layer->out_dims, out);
    case HIL_OP_DEPTHWISE_CONV2D:
        return hil_depthwise_conv2d_s8(&conv, &quant, &layer->in_dims, in, layer->weights,
                                       layer->bias, &layer->out_dims, out);
    case HIL_OP_GROUPED_CONV2D:
        return hil_grouped_conv2d_s8(&conv, &quant, layer->groups, &layer->in_dims, in,
                                     layer->weights, layer->bias, &layer->out_dims, out);
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
    case HIL_OP_ADD:
        return run_add(layer, ins, out);
    case HIL_OP_CONCAT:
        return hil_concat_s8(layer->n_inputs, ins, layer->in_sizes, layer->in_zps,
                             layer->in_multipliers, layer->in_shifts, layer->output_zp, out);
    case HIL_OP_CHANNEL_SHUFFLE:
        return hil_channel_shuffle_s8(&layer->in_dims, layer->groups, in, out);
    case HIL_OP_CHANNEL_SLICE:
        return hil_channel_slice_s8(&layer->in_dims, layer->start, layer->out_dims.c, in, out);
    case HIL_OP_SOFTMAX:
        return hil_softmax_s8(&layer->in_dims, layer->multiplier[0], layer->shift[0], layer->diff_min,
                              in, out);
    case HIL_OP_MEAN:
        return hil_mean_s8(&layer->in_dims, layer->input_zp, layer->output_zp, layer->multiplier[0],
                           layer->shift[0], in, out);
    case HIL_OP_PAD:
        return hil_pad_s8(&layer->in_dims, layer->padding, layer->output_zp, in, &layer->out_dims, out);
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
    if (model->arena_size > hil_nn_arena_size) {
        return HIL_NN_ERR_ARENA;
    }
    for (uint32_t i = 0; i <= last_layer; i++) {
        const hil_layer_t *layer = &model->layers[i];
        const int8_t *ins[HIL_NN_MAX_INPUTS];
        if (layer->n_inputs == 0u || layer->n_inputs > HIL_NN_MAX_INPUTS) {
            return HIL_NN_ERR_LAYER;
        }
        for (uint32_t k = 0; k < layer->n_inputs; k++) {
            const uint16_t id = layer->inputs[k];
            if (id > i) {       /* reads a tensor not yet written: tables are broken */
                return HIL_NN_ERR_LAYER;
            }
            ins[k] = id == 0u ? input : hil_nn_arena + model->layers[id - 1u].out_offset;
        }
        if (layer->inputs[0] == 0u ? layer->in_size != model->in_size
                                   : layer->in_size != model->layers[layer->inputs[0] - 1u].out_size) {
            return HIL_NN_ERR_LAYER;
        }
        if (layer->out_offset + layer->out_size > model->arena_size) {
            return HIL_NN_ERR_ARENA;
        }
        int8_t *y = hil_nn_arena + layer->out_offset;
        const int rc = hil_layer_run(layer, ins, y);
        if (rc != HIL_NN_OK) {
            return rc;
        }
        if (hook != 0) {
            hook(ctx, i, layer, y);
        }
    }
    if (out != 0) {
        const hil_layer_t *last = &model->layers[last_layer];
        memcpy(out, hil_nn_arena + last->out_offset, last->out_size);
    }
    return HIL_NN_OK;
}

const int8_t *hil_model_layer_tensor(const hil_model_t *model, uint32_t layer)
{
    if (layer >= model->layer_count) {
        return 0;
    }
    return hil_nn_arena + model->layers[layer].out_offset;
}

int hil_model_run(const hil_model_t *model, const int8_t *input, int8_t *output,
                  hil_layer_hook_t hook, void *ctx)
{
    if (model->layer_count == 0u) {
        return HIL_NN_ERR_LAYER;
    }
    return hil_model_run_until(model, input, model->layer_count - 1u, output, hook, ctx);
}
