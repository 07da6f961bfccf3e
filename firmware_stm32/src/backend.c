/*
 * backend.c - the STM32 backend of the device library (hil/device_lib):
 * the generated model tables (hil_models.h) run on the int8 engine
 * (nn/hil_model.h), counted with DWT or SysTick (cycles.h), answered on
 * USART1. Request handling itself is hil_device.c, shared with fpga-sim and
 * held to hil/boards/sim.py by tests/board/. Nothing here knows which board
 * it runs on: board.h says what differs.
 */
#include "app.h"

#include <stddef.h>
#include <string.h>

#include "hil_device.h"
#include "hil_mlperf.h"
#include "hil_models.h"
#include "nn/hil_model.h"

#include "board/board.h"
#include "cycles.h"
#include "memory_regions.h"
#include "uart.h"

#ifndef HIL_FW_VERSION
#define HIL_FW_VERSION "hil-fw 0.1"
#endif
#ifndef HIL_BUILD_HASH
#define HIL_BUILD_HASH "unknown"
#endif

#define MAX_LAYERS 64u
#define OUTPUT_MAX 1024u
#define RUN_MODES ((1u << HIL_MODE_OUTPUTS) | (1u << HIL_MODE_LAYER_COUNTS) | \
                   (1u << HIL_MODE_LAYER_TENSORS) | (1u << HIL_MODE_TIMING))

/* INTERNAL details (the library's own are 1 and 2) */
#define DETAIL_ENGINE 3u       /* hil_model_run() failed */
#define DETAIL_LAYER_RUN 4u    /* hil_model_run_until() failed */

/* No input or layer buffers of its own: LOAD_INPUT writes into the arena's
 * input slot (hil_nn_arena, [0, in_size) of every model's plan, never
 * overwritten by a layer), and a layer read-out points into the arena.
 * The protocol buffers live in CCM (HIL_CCM, memory_regions.h), leaving SRAM
 * to the arena. */
static uint8_t s_output[OUTPUT_MAX] HIL_CCM;
static uint8_t s_counts[HIL_DEV_COUNTS_BYTES(MAX_LAYERS)] HIL_CCM;
static int s_tensor_model = -1, s_tensor_layer = -1;   /* which layer's tensor the arena holds */
static hil_device_t s_dev HIL_CCM;
static hil_mlperf_t s_mlperf HIL_CCM;   /* the MLPerf Tiny text protocol on the same UART (hil_mlperf.h) */

/* The generated MLPerf table (python -m hil.mlperf.gen_c) and the model text mode serves
 * (make MLPERF_MODEL=name; empty: model 0). */
extern const hil_mlperf_model_t hil_mlperf_models[];
extern const size_t hil_mlperf_model_count;
#ifndef HIL_MLPERF_MODEL
#define HIL_MLPERF_MODEL ""
#endif

static void to_tensor(hil_dev_tensor_t *t, const hil_shape_t *shape, uint32_t bytes)
{
    t->dtype = HIL_DTYPE_INT8;                 /* the engine is int8 throughout */
    t->ndim = shape->ndim;
    for (uint32_t i = 0; i < HIL_MAX_DIMS; ++i)
        t->dims[i] = i < shape->ndim ? shape->dims[i] : 0u;
    t->bytes = bytes;
}

static void be_identity(void *ctx, hil_dev_identity_t *out)
{
    (void)ctx;
    out->fw_version = HIL_FW_VERSION;
    out->build_hash = HIL_BUILD_HASH;
    out->board = board_name();
    out->clock_hz = board_clock_hz();
    switch (cycles_kind()) {
    case CYCLES_DWT: out->counter_kind = HIL_COUNTER_DWT; break;
    case CYCLES_ICOUNT: out->counter_kind = HIL_COUNTER_ICOUNT; break;     /* exact guest instructions */
    case CYCLES_SYSTICK:
        out->counter_kind = board_systick_counts_instructions() ? HIL_COUNTER_SYSTICK_ICOUNT : HIL_COUNTER_SYSTICK;
        break;
    default: out->counter_kind = HIL_COUNTER_NONE; break;
    }
    out->run_modes = RUN_MODES;
    out->model_count = (uint8_t)hil_model_count;
}

static uint32_t be_model(void *ctx, uint8_t id, hil_dev_model_t *out)
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

static uint32_t be_layer(void *ctx, uint8_t id, uint16_t layer, hil_dev_layer_t *out)
{
    (void)ctx;
    const hil_layer_t *L = &hil_models[id]->layers[layer];
    out->name = L->name;
    out->op = L->op;
    to_tensor(&out->out, &L->out_shape, L->out_size);
    out->macs = L->macs;
    return 0u;
}

typedef struct {
    hil_dev_layer_hook_t hook;
    void *hook_ctx;
    uint32_t last;
} count_ctx_t;

static void count_layer(void *ctx, uint32_t i, const hil_layer_t *layer, const int8_t *t)
{
    (void)layer;
    (void)t;
    count_ctx_t *c = (count_ctx_t *)ctx;
    uint32_t now = cycles_now();
    c->hook(c->hook_ctx, (uint16_t)i, now - c->last);
    c->last = cycles_now();     /* the hook's own cost is not charged to the next layer */
}

static uint32_t be_run(void *ctx, uint8_t id, uint8_t mode, const uint8_t *input, uint8_t *output,
                       hil_dev_layer_hook_t hook, void *hook_ctx, uint64_t *count)
{
    (void)ctx;
    (void)mode;
    board_watchdog_kick();      /* one inference is well inside the watchdog period */
    s_tensor_layer = -1;
    count_ctx_t c = {hook, hook_ctx, 0u};
    cycles_sync();
    uint32_t t0 = cycles_now();
    c.last = t0;
    int rc = hil_model_run(hil_models[id], (const int8_t *)input, (int8_t *)output,
                           hook != NULL ? count_layer : NULL, &c);
    *count = cycles_now() - t0;
    return rc == HIL_NN_OK ? 0u : DETAIL_ENGINE;
}

/* Later layers reuse the arena, so an earlier layer's tensor is gone after a
 * run: the layers up to it are re-run from the kept input (the input slot)
 * on first access, and the frame is sent straight from the arena. */
static uint32_t be_layer_tensor(void *ctx, uint8_t id, uint16_t layer, const uint8_t *input,
                                const uint8_t **data)
{
    (void)ctx;
    if (s_tensor_model != (int)id || s_tensor_layer != (int)layer) {
        s_tensor_layer = -1;
        if (hil_model_run_until(hil_models[id], (const int8_t *)input, layer, NULL, NULL, NULL) != HIL_NN_OK)
            return DETAIL_LAYER_RUN;
        s_tensor_model = id;
        s_tensor_layer = layer;
    }
    *data = (const uint8_t *)hil_model_layer_tensor(hil_models[id], layer);
    return *data != NULL ? 0u : DETAIL_LAYER_RUN;
}

static void be_write(void *ctx, const uint8_t *data, size_t len)
{
    (void)ctx;
    uart_write(data, len);
}

/* Test builds only (make TEST_REQUESTS=1 links src/test_requests.c): extra
 * requests such as TEST_FAULT. Weak: NULL in every other build. */
int hil_test_request(void *ctx, const hil_frame_t *f, uint8_t *rsp, uint16_t *rsp_len, uint32_t *detail)
    __attribute__((weak));

static const hil_dev_backend_t s_backend = {
    NULL, be_identity, be_model, be_layer, be_run, be_layer_tensor, be_write, hil_test_request,
};

void app_init(void)
{
    static const hil_dev_buffers_t buf = {
        (uint8_t *)hil_nn_arena, HIL_NN_ARENA_SIZE, s_output, sizeof s_output, s_counts, MAX_LAYERS,
    };
    hil_device_init(&s_dev, &s_backend, &buf);
    hil_mlperf_init(&s_mlperf, &s_dev, hil_mlperf_models, hil_mlperf_model_count, HIL_MLPERF_MODEL);
    s_mlperf.each_run = board_watchdog_kick;    /* infer N W may outlast the DISC1's ~3 s watchdog */
}

void app_handle_byte(uint8_t b)
{
    hil_mlperf_feed(&s_mlperf, &b, 1u);     /* text commands here, binary frames to s_dev */
}

/* For the fault handler (fault.c): which request was running. */
uint16_t hil_fault_seq(void)
{
    return hil_device_current_seq(&s_dev);
}
