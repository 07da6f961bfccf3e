/* test_backend.c: see test_backend.h. */
#include "test_backend.h"

#include <string.h>

#define N_MODELS 2u
#define MAX_LAYERS 3u
#define IN_MAX 490u
#define OUT_MAX 40u                    /* model 0: 10 int32 logits */

typedef struct {
    const char *name;
    uint8_t out_dtype;
    uint32_t in_bytes;
    uint16_t in_dims[4];
    uint8_t in_ndim;
    uint16_t out_elems;
    uint16_t layers;
    uint16_t layer_elems[MAX_LAYERS];
} test_model_t;

static const test_model_t MODELS[N_MODELS] = {
    {"test_tiny", HIL_DTYPE_INT32, 4u, {4, 0, 0, 0}, 1u, 10u, 2u, {8, 10, 0}},
    {"test_kws_shape", HIL_DTYPE_INT8, 490u, {1, 49, 10, 0}, 3u, 12u, 3u, {300, 64, 12}},
};
static const uint8_t HASH[32] = {0x5e, 0xed};

static struct {
    void (*sink)(void *, const uint8_t *, size_t);
    void *sink_ctx;
    uint8_t input[IN_MAX], output[OUT_MAX], counts[HIL_DEV_COUNTS_BYTES(MAX_LAYERS)];
    uint8_t layer[4u * 300u];
    uint32_t runs;
} s;

static uint8_t elem_size(uint8_t dtype)
{
    return dtype == HIL_DTYPE_INT32 ? 4u : 1u;
}

static void identity(void *ctx, hil_dev_identity_t *id)
{
    (void)ctx;
    id->fw_version = "test-backend";
    id->build_hash = "0000000000000000000+";   /* exactly 20 chars: no NUL fits */
    id->board = "host-test-backend-24char";  /* exactly 24 chars */
    id->clock_hz = 1000000u;
    id->counter_kind = HIL_COUNTER_MODELLED;
    id->run_modes = 0x0Fu;
    id->model_count = N_MODELS;
}

static uint32_t model(void *ctx, uint8_t id, hil_dev_model_t *out)
{
    (void)ctx;
    const test_model_t *m = &MODELS[id];
    out->name = m->name;
    out->hash = HASH;
    out->in.dtype = HIL_DTYPE_INT8;
    out->in.ndim = m->in_ndim;
    memcpy(out->in.dims, m->in_dims, sizeof m->in_dims);
    out->in.bytes = m->in_bytes;
    out->out.dtype = m->out_dtype;
    out->out.ndim = 1u;
    out->out.dims[0] = m->out_elems;
    out->out.bytes = (uint32_t)m->out_elems * elem_size(m->out_dtype);
    out->layer_count = m->layers;
    out->macs = 1234u;
    return 0u;
}

static uint32_t layer(void *ctx, uint8_t id, uint16_t li, hil_dev_layer_t *out)
{
    (void)ctx;
    const test_model_t *m = &MODELS[id];
    out->name = li == 0u ? "first_layer_name_is_long" : "l";
    out->op = (uint8_t)(li + 1u);
    out->out.dtype = m->out_dtype;
    out->out.ndim = 1u;
    out->out.dims[0] = m->layer_elems[li];
    out->out.bytes = (uint32_t)m->layer_elems[li] * elem_size(m->out_dtype);
    out->macs = li == 0u ? 1234u : 0u;
    return 0u;
}

static uint32_t run(void *ctx, uint8_t id, uint8_t mode, const uint8_t *input, uint8_t *output,
                    hil_dev_layer_hook_t hook, void *hook_ctx, uint64_t *count)
{
    (void)ctx;
    (void)mode;
    const test_model_t *m = &MODELS[id];
    uint32_t acc = 0u;
    for (uint32_t i = 0; i < m->in_bytes; ++i)
        acc = acc * 31u + input[i];
    if (input[0] == 0xEEu && m->in_bytes > 1u && input[1] == 0xEEu)
        return 7u;                      /* a backend failure: INTERNAL detail 7 */
    uint32_t bytes = (uint32_t)m->out_elems * elem_size(m->out_dtype);
    for (uint32_t i = 0; i < bytes; ++i)
        output[i] = (uint8_t)(acc >> (i % 4u * 8u)) ^ (uint8_t)i;
    for (uint16_t L = 0; hook != NULL && L < m->layers; ++L)
        hook(hook_ctx, L, 100u * (L + 1u));
    *count = 100u * m->layers + s.runs++ % 3u;
    return 0u;
}

static uint32_t layer_tensor(void *ctx, uint8_t id, uint16_t li, const uint8_t *input, const uint8_t **data)
{
    (void)ctx;
    const test_model_t *m = &MODELS[id];
    uint32_t bytes = (uint32_t)m->layer_elems[li] * elem_size(m->out_dtype);
    for (uint32_t i = 0; i < bytes; ++i)
        s.layer[i] = (uint8_t)(input[i % m->in_bytes] + li);
    *data = s.layer;
    return 0u;
}

static void write_bytes(void *ctx, const uint8_t *data, size_t len)
{
    (void)ctx;
    s.sink(s.sink_ctx, data, len);
}

/* 0x70 (TEST_FAULT's id) answers with a 3-byte response here: the extension hook's path. */
static int extra(void *ctx, const hil_frame_t *f, uint8_t *rsp, uint16_t *rsp_len, uint32_t *detail)
{
    (void)ctx;
    if (f->type != 0x70u)
        return -1;
    if (f->len != 0u) {
        *detail = 0u;
        return HIL_ERR_BAD_PAYLOAD;
    }
    rsp[0] = 1u;
    rsp[1] = 2u;
    rsp[2] = 3u;
    *rsp_len = 3u;
    return 0;
}

static const hil_dev_backend_t BACKEND = {NULL, identity, model, layer, run, layer_tensor, write_bytes, extra};

void test_backend_init(hil_device_t *dev, void (*sink)(void *ctx, const uint8_t *data, size_t len), void *sink_ctx)
{
    static const hil_dev_buffers_t buf = {s.input, sizeof s.input, s.output, sizeof s.output, s.counts, MAX_LAYERS};
    memset(&s, 0, sizeof s);
    s.sink = sink;
    s.sink_ctx = sink_ctx;
    hil_device_init(dev, &BACKEND, &buf);
}
