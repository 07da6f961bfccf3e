/* hil_model.h: a quantized model as const tables, and the executor that runs it.
 *
 * The tables come from `python -m hil.targets.stm32.codegen` (build/gen/hil_models.{c,h}),
 * which reads golden/artifacts/<model>/<model>.qmodel.json; weights, biases,
 * multipliers and shifts are const (flash). A model is a graph: layers run in
 * the artifact's topological order, each reading its input tensors by id
 * (0 = the model input, i + 1 = layer i's output) and writing its own output
 * at a fixed offset in one static arena (hil_nn_arena). The generator plans
 * the offsets from tensor lifetimes (hil/targets/stm32/memory_plan.py): two tensors share
 * bytes only if they are never live at the same time, so no malloc and no
 * per-model RAM. The tensor of the last layer run is copied to the caller.
 * The arena's first in_size bytes are the input slot of every model's plan:
 * no layer writes there, so the caller may load the input into hil_nn_arena
 * itself and it survives the run (the STM32 backend keeps no other copy).
 *
 * Firmware:
 *   static void on_layer(void *ctx, uint32_t i, const hil_layer_t *layer, const int8_t *t)
 *   {   counts[i] = cycles_now() - last; last = cycles_now();      // per layer cost
 *       if (i == wanted) memcpy(copy, t, layer->out_size);         // or keep a tensor
 *   }
 *   int rc = hil_model_run(hil_models[id], input, output, on_layer, &state);
 */
#ifndef HIL_MODEL_H
#define HIL_MODEL_H

#include <stdint.h>

#include "hil_protocol.h"
#include "nn/hil_nn_types.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HIL_NN_MAX_DIMS 4u  /* as the wire protocol's MAX_DIMS */
#define HIL_NN_MAX_INPUTS 16u /* inputs of one layer (concat) */

/* Layer ops are the wire protocol's OPS ids (HIL_OP_CONV2D ... from the
 * generated hil_protocol.h), so one name means one number everywhere. */
typedef uint8_t hil_op_t;

/* A tensor shape as in the qmodel artifact (CHW, batch dropped), unused dims 0. */
typedef struct {
    uint8_t ndim;                     /* [1, HIL_NN_MAX_DIMS] */
    uint16_t dims[HIL_NN_MAX_DIMS];
} hil_shape_t;

typedef struct {
    hil_op_t op;
    const char *name;          /* layer name in the qmodel artifact */
    hil_shape_t in_shape;
    hil_shape_t out_shape;
    hil_dims_t in_dims;        /* in_shape as (C, H, W); a vector of n is (n, 1, 1) */
    hil_dims_t out_dims;
    uint32_t in_size;          /* int8 elements = bytes */
    uint32_t out_size;
    hil_hw_t kernel;           /* conv and pool layers */
    hil_hw_t stride;
    hil_pad_t padding;         /* conv and pool layers; pad: the pads */
    uint8_t global_pool;       /* maxpool2d over all of H x W */
    int32_t input_zp;          /* conv and fully connected layers: [-128, 127] */
    int32_t output_zp;
    int32_t act_min;           /* fused ReLU: act_min = output_zp */
    int32_t act_max;
    const int8_t *weights;     /* conv [Cout, Cin, KH, KW], depthwise [C, 1, KH, KW], FC [Out, In] */
    const int32_t *bias;       /* per output channel, or NULL */
    const int32_t *multiplier; /* per output channel; mean, softmax: one value */
    const int32_t *shift;      /* per output channel */
    uint32_t macs;
    /* graph (qmodel v2) */
    uint8_t n_inputs;          /* [1, HIL_NN_MAX_INPUTS] */
    const uint16_t *inputs;    /* tensor ids: 0 = model input, i + 1 = layer i's output (< own id) */
    const uint32_t *in_sizes;  /* bytes of each input tensor */
    uint32_t out_offset;       /* where this layer's output lives in hil_nn_arena */
    uint16_t groups;           /* grouped_conv2d, channel_shuffle */
    uint16_t start;            /* channel_slice: first channel kept (out_dims.c channels) */
    int32_t left_shift;        /* add */
    const int32_t *in_zps;     /* add, concat: one per input */
    const int32_t *in_multipliers;
    const int32_t *in_shifts;
    int32_t diff_min;          /* softmax (multiplier[0], shift[0]: input_multiplier, input_left_shift) */
} hil_layer_t;

typedef struct {
    uint32_t id;               /* index in hil_models[] */
    const char *name;          /* model registry name */
    hil_shape_t in_shape;
    hil_shape_t out_shape;
    uint32_t in_size;          /* bytes of the int8 input tensor */
    uint32_t out_size;         /* bytes of the int8 output tensor */
    float in_scale;
    int32_t in_zp;
    float out_scale;
    int32_t out_zp;
    uint32_t layer_count;
    const hil_layer_t *layers;
    uint32_t macs;             /* sum over layers */
    const char *qmodel_hash;   /* "sha256:<64 hex>" of the artifact the tables came from */
    uint8_t qmodel_digest[32]; /* the same sha256 as bytes */
    uint32_t arena_size;       /* bytes of hil_nn_arena this model's plan needs (planned peak) */
} hil_model_t;

/* Called after each layer with its index, description and output tensor
 * (layer->out_size int8 values in the arena; valid until the next layer runs). */
typedef void (*hil_layer_hook_t)(void *ctx, uint32_t layer_index, const hil_layer_t *layer,
                                 const int8_t *tensor);

/* Defined by the generated tables (hil_models.c). */
extern int8_t hil_nn_arena[];
extern const uint32_t hil_nn_arena_size;

/* Run all layers: input holds model->in_size int8 values, output receives
 * model->out_size. hook may be NULL. input is either hil_nn_arena (the input
 * slot) or outside it; output must not lie in hil_nn_arena. Returns
 * HIL_NN_OK or a negative HIL_NN_ERR_* code. */
int hil_model_run(const hil_model_t *model, const int8_t *input, int8_t *output,
                  hil_layer_hook_t hook, void *ctx);

/* Run layers 0..last_layer only; out receives layer last_layer's tensor
 * (model->layers[last_layer].out_size values), or out is NULL and the tensor
 * stays in the arena (hil_model_layer_tensor()). hil_model_run() is
 * hil_model_run_until(model, input, layer_count - 1, output, hook, ctx). */
int hil_model_run_until(const hil_model_t *model, const int8_t *input, uint32_t last_layer,
                        int8_t *out, hil_layer_hook_t hook, void *ctx);

/* Where layer `layer`'s output lives in hil_nn_arena (NULL if out of range):
 * right after hil_model_run_until(model, ..., layer, ...) it holds that
 * layer's tensor, until the arena is used again. */
const int8_t *hil_model_layer_tensor(const hil_model_t *model, uint32_t layer);

/* Arena bytes the executor needs for model (the generator's plan). */
uint32_t hil_model_arena_need(const hil_model_t *model);

/* One layer: ins[k] holds input k (layer->in_sizes[k] values), out receives
 * layer->out_size values and must not overlap any input. */
int hil_layer_run(const hil_layer_t *layer, const int8_t *const *ins, int8_t *out);

#ifdef __cplusplus
}
#endif

#endif /* HIL_MODEL_H */
