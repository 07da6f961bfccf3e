/* backend.c: an example backend of the hil device library, built for the host.
 *
 * "Your engine" here is this repo's int8 engine (firmware_stm32/src/nn) with
 * tables generated from qmodel artifacts (hil_models.h); in a lab's firmware
 * the same six functions wrap TFLite Micro, CMSIS-NN or X-CUBE-AI instead
 * (docs/own-firmware.md maps each one). Everything protocol-related is in
 * hil_device.c: this file only describes the models, runs them, and writes
 * bytes. */
#include "backend.h"

#include <string.h>

#include "hil_models.h"
#include "nn/hil_model.h"

#define MAX_LAYERS 64u
#define OUTPUT_MAX 4096u

static uint8_t s_input[HIL_NN_ARENA_SIZE];
static uint8_t s_output[OUTPUT_MAX];
static uint8_t s_counts[HIL_DEV_COUNTS_BYTES(MAX_LAYERS)];
static int8_t s_layer[HIL_NN_ARENA_SIZE];
static void (*s_write)(const uint8_t *data, size_t len);

static void to_tensor(hil_dev_tensor_t *t, const hil_shape_t *shape, uint32_t bytes)
{
    t->dtype = HIL_DTYPE_INT8;
    t->ndim = shape->ndim;
    for (uint32_t i = 0; i < HIL_MAX_DIMS; ++i)
        t->dims[i] = i < shape->ndim ? shape->dims[i] : 0u;
    t->bytes = bytes;
}

/* INFO: who we are. No cycle counter on the host: counts are 0 (COUNTER_NONE). */
static void identity(void *ctx, hil_dev_identity_t *out)
{
    (void)ctx;
    out->fw_version = "host-example 1";
    out->build_hash = "example";
    out->board = "host-example";
    out->clock_hz = 0u;
    out->counter_kind = HIL_COUNTER_NONE;
    out->run_modes = (1u << HIL_MODE_OUTPUTS) | (1u << HIL_MODE_LAYER_TENSORS) | (1u << HIL_MODE_TIMING);
    out->model_count = (uint8_t)hil_model_count;
}

/* MODEL_INFO: shapes and the sha256 of the qmodel artifact the model came
 * from (the host refuses a model whose hash differs from its golden one). */
static uint32_t model(void *ctx, uint8_t id, hil_dev_model_t *out)
{
    (void)ctx;
    const hil_model_t *m = hil_models[id];
    out->name = m->name;
    out->hash = m->qmodel_digest;
    to_tensor(&out->in, &m->in_shape, m->in_size);
    to_tensor(&out->out, &m->out_shape, m->out_size);
    out->layer_count = (uint16_t)m->layer_count;
    out->macs = m->macs;
    return 0u;
}

static uint32_t layer(void *ctx, uint8_t id, uint16_t index, hil_dev_layer_t *out)
{
    (void)ctx;
    const hil_layer_t *L = &hil_models[id]->layers[index];
    out->name = L->name;
    out->op = L->op;
    to_tensor(&out->out, &L->out_shape, L->out_size);
    out->macs = L->macs;
    return 0u;
}

/* INFER: your engine's invoke(). */
static uint32_t run(void *ctx, uint8_t id, uint8_t mode, const uint8_t *input, uint8_t *output,
                    hil_dev_layer_hook_t hook, void *hook_ctx, uint64_t *count)
{
    (void)ctx;
    (void)mode;
    (void)hook;        /* no LAYER_COUNTS mode: no counter to report per layer */
    (void)hook_ctx;
    *count = 0u;
    return hil_model_run(hil_models[id], (const int8_t *)input, (int8_t *)output, NULL, NULL) == HIL_NN_OK ? 0u : 10u;
}

/* READ_TENSOR of a layer (LAYER_TENSORS mode): re-run up to that layer. */
static uint32_t layer_tensor(void *ctx, uint8_t id, uint16_t index, const uint8_t *input, const uint8_t **data)
{
    (void)ctx;
    if (hil_model_run_until(hil_models[id], (const int8_t *)input, index, s_layer, NULL, NULL) != HIL_NN_OK)
        return 11u;
    *data = (const uint8_t *)s_layer;
    return 0u;
}

static void write_bytes(void *ctx, const uint8_t *data, size_t len)
{
    (void)ctx;
    s_write(data, len);
}

static const hil_dev_backend_t BACKEND = {NULL, identity, model, layer, run, layer_tensor, write_bytes, NULL};

void example_device_init(hil_device_t *dev, void (*write)(const uint8_t *data, size_t len))
{
    static const hil_dev_buffers_t buf = {s_input, sizeof s_input, s_output, sizeof s_output, s_counts, MAX_LAYERS};
    s_write = write;
    hil_device_init(dev, &BACKEND, &buf);
}
