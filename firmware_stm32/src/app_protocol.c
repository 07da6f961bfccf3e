/*
 * app_protocol.c - the device side of the hil wire protocol (docs/protocol.md).
 *
 * Bytes -> frame layer (proto/hil_frame.c) -> dispatch by message type ->
 * one response frame per request. Models come from the generated tables
 * (hil_models.h) and run on the int8 engine (nn/hil_model.h); the cycle
 * counter is read after every layer. The request checks and their order
 * follow docs/protocol.md exactly, as hil/boards/sim.py (the Python
 * reference device) does; tests/board/ holds both to the same behaviour.
 */
#include "app.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "nn/hil_model.h"
#include "hil_models.h"
#include "hil_frame.h"

#include "board/board.h"
#include "cycles.h"
#include "uart.h"

#ifndef HIL_FW_VERSION
#define HIL_FW_VERSION "hil-fw 0.1"
#endif
#ifndef HIL_BUILD_HASH
#define HIL_BUILD_HASH "unknown"
#endif

#define MAX_LAYERS 64u
#define RUN_MODES_SUPPORTED 0x0Fu
#define OUTPUT_MAX 1024u

/* Buffers are bounded by the arena the generator sized for the largest
 * model: every tensor (input, any layer output) fits in it. */
static int8_t s_input[HIL_NN_ARENA_SIZE];
static int8_t s_layer_copy[HIL_NN_ARENA_SIZE];
static int8_t s_output[OUTPUT_MAX];
static uint32_t s_layer_counts[MAX_LAYERS];

static struct {
    int model;              /* model of the input being loaded / loaded, -1 none */
    uint32_t filled;        /* contiguous bytes from 0 */
    int result_model;       /* model of the last INFER, -1 none */
    uint8_t result_mode;
    int copy_layer;         /* which layer s_layer_copy holds, -1 none */
} s;

static hil_frame_rx_t s_rx;
static uint8_t s_rsp[HIL_MAX_PAYLOAD];
static uint8_t s_tx[HIL_FRAME_MAX_WIRE];

/* ---- helpers -------------------------------------------------------------- */

static void send_frame(uint8_t type, uint16_t seq, uint16_t len)
{
    size_t n = hil_frame_encode(type, seq, s_rsp, len, s_tx, sizeof s_tx);
    uart_write(s_tx, n);
}

static void send_error(uint16_t seq, uint8_t code, uint8_t req_type, uint32_t detail)
{
    size_t n = hil_frame_encode_error(seq, code, req_type, detail, s_tx, sizeof s_tx);
    uart_write(s_tx, n);
}

static void put_str(uint8_t *dst, const char *src, size_t cap)
{
    size_t i = 0;
    for (; i < cap && src[i] != '\0'; ++i)
        dst[i] = (uint8_t)src[i];
    for (; i < cap; ++i)
        dst[i] = 0u;
}

static void put_shape(uint8_t *ndim_at, uint8_t *dims_at, const hil_shape_t *shape)
{
    *ndim_at = shape->ndim;
    for (uint32_t i = 0; i < HIL_NN_MAX_DIMS; ++i)
        hil_put_u16(dims_at + 2u * i, i < shape->ndim ? shape->dims[i] : 0u);
}

static uint8_t counter_kind(void)
{
    switch (cycles_kind()) {
    case CYCLES_DWT:
        return HIL_COUNTER_DWT;
    case CYCLES_ICOUNT:
        return HIL_COUNTER_ICOUNT;           /* exact guest instructions */
    case CYCLES_SYSTICK:
#ifdef HIL_TARGET_QEMU
        return HIL_COUNTER_SYSTICK_ICOUNT;   /* -icount: instruction based, not silicon */
#else
        return HIL_COUNTER_SYSTICK;
#endif
    default:
        return HIL_COUNTER_NONE;
    }
}

static const hil_model_t *model_of(uint8_t id)
{
    return id < hil_model_count ? hil_models[id] : NULL;
}

/* ---- per-layer counting --------------------------------------------------- */

typedef struct {
    uint32_t last;
} count_ctx_t;

static void count_layer(void *ctx, uint32_t i, const hil_layer_t *layer, const int8_t *t)
{
    (void)layer;
    (void)t;
    count_ctx_t *c = (count_ctx_t *)ctx;
    uint32_t now = cycles_now();
    if (i < MAX_LAYERS)
        s_layer_counts[i] = now - c->last;
    c->last = cycles_now();     /* the hook's own cost is not charged to the next layer */
}

/* One inference; returns its total count, or -1 on an engine error. */
static int64_t run_once(const hil_model_t *m, bool per_layer)
{
    count_ctx_t ctx;
    cycles_sync();
    uint32_t t0 = cycles_now();
    ctx.last = t0;
    int rc = hil_model_run(m, s_input, s_output, per_layer ? count_layer : NULL, &ctx);
    uint32_t total = cycles_now() - t0;
    return rc == HIL_NN_OK ? (int64_t)total : -1;
}

/* ---- requests ------------------------------------------------------------- */

static void on_ping(uint16_t seq)
{
    hil_put_u16(s_rsp + HIL_PING_RSP_OFF_PROTO_VERSION, HIL_PROTO_VERSION);
    hil_put_u16(s_rsp + HIL_PING_RSP_OFF_MAX_PAYLOAD, HIL_MAX_PAYLOAD);
    hil_put_u32(s_rsp + HIL_PING_RSP_OFF_SPEC_HASH32, HIL_SPEC_HASH32);
    send_frame(HIL_MSG_PING_RSP, seq, HIL_PING_RSP_LEN);
}

static void on_info(uint16_t seq)
{
    put_str(s_rsp + HIL_INFO_RSP_OFF_FW_VERSION, HIL_FW_VERSION, 16u);
    put_str(s_rsp + HIL_INFO_RSP_OFF_BUILD_HASH, HIL_BUILD_HASH, 20u);
    put_str(s_rsp + HIL_INFO_RSP_OFF_BOARD, board_name(), 24u);
    hil_put_u32(s_rsp + HIL_INFO_RSP_OFF_CLOCK_HZ, board_clock_hz());
    s_rsp[HIL_INFO_RSP_OFF_COUNTER_KIND] = counter_kind();
    s_rsp[HIL_INFO_RSP_OFF_RUN_MODES] = RUN_MODES_SUPPORTED;
    s_rsp[HIL_INFO_RSP_OFF_MODEL_COUNT] = (uint8_t)hil_model_count;
    send_frame(HIL_MSG_INFO_RSP, seq, HIL_INFO_RSP_LEN);
}

static void on_model_info(uint16_t seq, const uint8_t *p)
{
    uint8_t id = p[HIL_MODEL_INFO_OFF_MODEL_ID];
    const hil_model_t *m = model_of(id);
    if (m == NULL) {
        send_error(seq, HIL_ERR_UNKNOWN_MODEL, HIL_MSG_MODEL_INFO, hil_model_count);
        return;
    }
    uint8_t *r = s_rsp;
    r[HIL_MODEL_INFO_RSP_OFF_MODEL_ID] = id;
    put_str(r + HIL_MODEL_INFO_RSP_OFF_NAME, m->name, 24u);
    memcpy(r + HIL_MODEL_INFO_RSP_OFF_MODEL_HASH, m->qmodel_digest, 32u);
    r[HIL_MODEL_INFO_RSP_OFF_IN_DTYPE] = HIL_DTYPE_INT8;
    put_shape(r + HIL_MODEL_INFO_RSP_OFF_IN_NDIM, r + HIL_MODEL_INFO_RSP_OFF_IN_DIMS, &m->in_shape);
    hil_put_u32(r + HIL_MODEL_INFO_RSP_OFF_IN_BYTES, m->in_size);
    r[HIL_MODEL_INFO_RSP_OFF_OUT_DTYPE] = HIL_DTYPE_INT8;
    put_shape(r + HIL_MODEL_INFO_RSP_OFF_OUT_NDIM, r + HIL_MODEL_INFO_RSP_OFF_OUT_DIMS, &m->out_shape);
    hil_put_u32(r + HIL_MODEL_INFO_RSP_OFF_OUT_BYTES, m->out_size);
    hil_put_u16(r + HIL_MODEL_INFO_RSP_OFF_LAYER_COUNT, (uint16_t)m->layer_count);
    hil_put_u32(r + HIL_MODEL_INFO_RSP_OFF_MACS, m->macs);
    send_frame(HIL_MSG_MODEL_INFO_RSP, seq, HIL_MODEL_INFO_RSP_LEN);
}

static void on_layer_info(uint16_t seq, const uint8_t *p)
{
    uint8_t id = p[HIL_LAYER_INFO_OFF_MODEL_ID];
    uint16_t li = hil_get_u16(p + HIL_LAYER_INFO_OFF_LAYER);
    const hil_model_t *m = model_of(id);
    if (m == NULL) {
        send_error(seq, HIL_ERR_UNKNOWN_MODEL, HIL_MSG_LAYER_INFO, hil_model_count);
        return;
    }
    if (li >= m->layer_count) {
        send_error(seq, HIL_ERR_BAD_LAYER, HIL_MSG_LAYER_INFO, m->layer_count);
        return;
    }
    const hil_layer_t *L = &m->layers[li];
    uint8_t *r = s_rsp;
    r[HIL_LAYER_INFO_RSP_OFF_MODEL_ID] = id;
    hil_put_u16(r + HIL_LAYER_INFO_RSP_OFF_LAYER, li);
    r[HIL_LAYER_INFO_RSP_OFF_OP] = (uint8_t)L->op;
    put_str(r + HIL_LAYER_INFO_RSP_OFF_NAME, L->name, 16u);
    r[HIL_LAYER_INFO_RSP_OFF_OUT_DTYPE] = HIL_DTYPE_INT8;
    put_shape(r + HIL_LAYER_INFO_RSP_OFF_OUT_NDIM, r + HIL_LAYER_INFO_RSP_OFF_OUT_DIMS, &L->out_shape);
    hil_put_u32(r + HIL_LAYER_INFO_RSP_OFF_OUT_BYTES, L->out_size);
    hil_put_u32(r + HIL_LAYER_INFO_RSP_OFF_MACS, L->macs);
    send_frame(HIL_MSG_LAYER_INFO_RSP, seq, HIL_LAYER_INFO_RSP_LEN);
}

static void on_load_input(uint16_t seq, const uint8_t *p, uint16_t len)
{
    uint8_t id = p[HIL_LOAD_INPUT_OFF_MODEL_ID];
    uint32_t total = hil_get_u32(p + HIL_LOAD_INPUT_OFF_TOTAL);
    uint32_t off = hil_get_u32(p + HIL_LOAD_INPUT_OFF_OFFSET);
    uint32_t n = (uint32_t)len - HIL_LOAD_INPUT_MIN_LEN;
    const hil_model_t *m = model_of(id);
    if (m == NULL) {
        send_error(seq, HIL_ERR_UNKNOWN_MODEL, HIL_MSG_LOAD_INPUT, hil_model_count);
        return;
    }
    if (total != m->in_size) {
        send_error(seq, HIL_ERR_WRONG_INPUT_SIZE, HIL_MSG_LOAD_INPUT, m->in_size);
        return;
    }
    if (total > sizeof s_input) {
        send_error(seq, HIL_ERR_INTERNAL, HIL_MSG_LOAD_INPUT, 1u);
        return;
    }
    if (off == 0u) {                       /* a new input: old results are gone */
        s.model = id;
        s.filled = 0u;
        s.result_model = -1;
        s.copy_layer = -1;
    }
    if (s.model != (int)id || off > s.filled || off + n > total) {
        send_error(seq, HIL_ERR_BAD_OFFSET, HIL_MSG_LOAD_INPUT, s.filled);
        return;
    }
    memcpy(s_input + off, p + HIL_LOAD_INPUT_OFF_DATA, n);
    if (off + n > s.filled)
        s.filled = off + n;
    s_rsp[HIL_LOAD_INPUT_RSP_OFF_MODEL_ID] = id;
    hil_put_u32(s_rsp + HIL_LOAD_INPUT_RSP_OFF_TOTAL, total);
    hil_put_u32(s_rsp + HIL_LOAD_INPUT_RSP_OFF_FILLED, s.filled);
    send_frame(HIL_MSG_LOAD_INPUT_RSP, seq, HIL_LOAD_INPUT_RSP_LEN);
}

static void on_infer(uint16_t seq, const uint8_t *p)
{
    uint8_t id = p[HIL_INFER_OFF_MODEL_ID];
    uint8_t mode = p[HIL_INFER_OFF_MODE];
    uint16_t repeat = hil_get_u16(p + HIL_INFER_OFF_REPEAT);
    const hil_model_t *m = model_of(id);
    if (m == NULL) {
        send_error(seq, HIL_ERR_UNKNOWN_MODEL, HIL_MSG_INFER, hil_model_count);
        return;
    }
    if (mode > HIL_MODE_TIMING || !(RUN_MODES_SUPPORTED & (1u << mode))) {
        send_error(seq, HIL_ERR_BAD_MODE, HIL_MSG_INFER, RUN_MODES_SUPPORTED);
        return;
    }
    if ((mode != HIL_MODE_TIMING && repeat != 1u) || repeat == 0u) {
        send_error(seq, HIL_ERR_BAD_PAYLOAD, HIL_MSG_INFER, HIL_INFER_LEN);
        return;
    }
    if (s.model != (int)id || s.filled != m->in_size) {
        send_error(seq, HIL_ERR_INPUT_NOT_LOADED, HIL_MSG_INFER, s.model == (int)id ? s.filled : 0u);
        return;
    }
    if (m->out_size > sizeof s_output || m->layer_count > MAX_LAYERS) {
        send_error(seq, HIL_ERR_INTERNAL, HIL_MSG_INFER, 2u);
        return;
    }
    uint64_t sum = 0u, lo = UINT64_MAX, hi = 0u;
    for (uint16_t r = 0; r < repeat; ++r) {
        int64_t c = run_once(m, mode == HIL_MODE_LAYER_COUNTS || mode == HIL_MODE_LAYER_TENSORS);
        if (c < 0) {
            send_error(seq, HIL_ERR_INTERNAL, HIL_MSG_INFER, 3u);
            return;
        }
        sum += (uint64_t)c;
        lo = (uint64_t)c < lo ? (uint64_t)c : lo;
        hi = (uint64_t)c > hi ? (uint64_t)c : hi;
    }
    s.result_model = id;
    s.result_mode = mode;
    s.copy_layer = -1;

    uint8_t *r = s_rsp;
    r[HIL_INFER_RSP_OFF_MODEL_ID] = id;
    r[HIL_INFER_RSP_OFF_MODE] = mode;
    r[HIL_INFER_RSP_OFF_COUNTER_KIND] = counter_kind();
    hil_put_u16(r + HIL_INFER_RSP_OFF_REPEAT, repeat);
    hil_put_u16(r + HIL_INFER_RSP_OFF_LAYER_COUNT, (uint16_t)m->layer_count);
    hil_put_u32(r + HIL_INFER_RSP_OFF_OUT_BYTES, m->out_size);
    hil_put_u64(r + HIL_INFER_RSP_OFF_TOTAL_SUM, sum);
    hil_put_u64(r + HIL_INFER_RSP_OFF_TOTAL_MIN, lo);
    hil_put_u64(r + HIL_INFER_RSP_OFF_TOTAL_MAX, hi);
    uint32_t n = 0u;
    if (mode != HIL_MODE_TIMING) {
        n = m->out_size < HIL_INFER_RSP_TAIL_MAX ? m->out_size : HIL_INFER_RSP_TAIL_MAX;
        memcpy(r + HIL_INFER_RSP_OFF_OUTPUT, s_output, n);
    }
    send_frame(HIL_MSG_INFER_RSP, seq, (uint16_t)(HIL_INFER_RSP_MIN_LEN + n));
}

/* The bytes of a result tensor, or NULL with *err set. Layer tensors are
 * re-computed from the kept input on first access (the engine ping-pongs
 * between two buffers, so earlier layers are gone after a run). */
static const uint8_t *result_tensor(const hil_model_t *m, uint16_t t, uint32_t *size, uint8_t *dtype,
                                    uint8_t *err, uint32_t *detail)
{
    *err = 0u;
    *detail = 0u;
    if (t == HIL_TENSOR_OUTPUT) {
        *size = m->out_size;
        *dtype = HIL_DTYPE_INT8;
        return (const uint8_t *)s_output;
    }
    if (t == HIL_TENSOR_LAYER_COUNTS) {
        if (s.result_mode != HIL_MODE_LAYER_COUNTS && s.result_mode != HIL_MODE_LAYER_TENSORS) {
            *err = HIL_ERR_NO_RESULT;
            return NULL;
        }
        *size = 4u * m->layer_count;
        *dtype = HIL_DTYPE_UINT32;
        return (const uint8_t *)s_layer_counts;   /* Cortex-M4 is little-endian, as the wire */
    }
    if (t >= m->layer_count) {
        *err = HIL_ERR_BAD_LAYER;
        *detail = m->layer_count;
        return NULL;
    }
    if (s.result_mode != HIL_MODE_LAYER_TENSORS) {
        *err = HIL_ERR_NO_RESULT;
        return NULL;
    }
    if (s.copy_layer != (int)t) {
        if (hil_model_run_until(m, s_input, t, s_layer_copy, NULL, NULL) != HIL_NN_OK) {
            *err = HIL_ERR_INTERNAL;
            *detail = 4u;
            return NULL;
        }
        s.copy_layer = t;
    }
    *size = m->layers[t].out_size;
    *dtype = HIL_DTYPE_INT8;
    return (const uint8_t *)s_layer_copy;
}

static void on_read_tensor(uint16_t seq, const uint8_t *p)
{
    uint16_t t = hil_get_u16(p + HIL_READ_TENSOR_OFF_TENSOR);
    uint32_t off = hil_get_u32(p + HIL_READ_TENSOR_OFF_OFFSET);
    if (s.result_model < 0) {
        send_error(seq, HIL_ERR_NO_RESULT, HIL_MSG_READ_TENSOR, 0u);
        return;
    }
    const hil_model_t *m = hil_models[s.result_model];
    uint32_t size = 0u, detail = 0u;
    uint8_t dtype = 0u, err = 0u;
    const uint8_t *data = result_tensor(m, t, &size, &dtype, &err, &detail);
    if (data == NULL) {
        send_error(seq, err, HIL_MSG_READ_TENSOR, detail);
        return;
    }
    if (off > size) {
        send_error(seq, HIL_ERR_BAD_OFFSET, HIL_MSG_READ_TENSOR, size);
        return;
    }
    uint32_t n = size - off < HIL_READ_TENSOR_RSP_TAIL_MAX ? size - off : HIL_READ_TENSOR_RSP_TAIL_MAX;
    uint8_t *r = s_rsp;
    r[HIL_READ_TENSOR_RSP_OFF_MODEL_ID] = (uint8_t)s.result_model;
    hil_put_u16(r + HIL_READ_TENSOR_RSP_OFF_TENSOR, t);
    r[HIL_READ_TENSOR_RSP_OFF_DTYPE] = dtype;
    hil_put_u32(r + HIL_READ_TENSOR_RSP_OFF_TOTAL, size);
    hil_put_u32(r + HIL_READ_TENSOR_RSP_OFF_OFFSET, off);
    memcpy(r + HIL_READ_TENSOR_RSP_OFF_DATA, data + off, n);
    send_frame(HIL_MSG_READ_TENSOR_RSP, seq, (uint16_t)(HIL_READ_TENSOR_RSP_MIN_LEN + n));
}

/* ---- dispatch ------------------------------------------------------------- */

/* Expected payload length of a request: exact, or the fixed part when a tail follows. */
static bool length_ok(uint8_t type, uint16_t len, uint32_t *expected)
{
    switch (type) {
    case HIL_MSG_PING: *expected = HIL_PING_LEN; return len == HIL_PING_LEN;
    case HIL_MSG_INFO: *expected = HIL_INFO_LEN; return len == HIL_INFO_LEN;
    case HIL_MSG_MODEL_INFO: *expected = HIL_MODEL_INFO_LEN; return len == HIL_MODEL_INFO_LEN;
    case HIL_MSG_LAYER_INFO: *expected = HIL_LAYER_INFO_LEN; return len == HIL_LAYER_INFO_LEN;
    case HIL_MSG_LOAD_INPUT: *expected = HIL_LOAD_INPUT_MIN_LEN; return len >= HIL_LOAD_INPUT_MIN_LEN;
    case HIL_MSG_INFER: *expected = HIL_INFER_LEN; return len == HIL_INFER_LEN;
    case HIL_MSG_READ_TENSOR: *expected = HIL_READ_TENSOR_LEN; return len == HIL_READ_TENSOR_LEN;
    default: *expected = 0u; return false;
    }
}

static void handle_frame(const hil_frame_t *f)
{
    uint32_t expected = 0u;
    if (f->version != HIL_PROTO_VERSION) {
        send_error(f->seq, HIL_ERR_BAD_VERSION, f->type, HIL_PROTO_VERSION);
        return;
    }
    if (f->type == 0u || f->type > HIL_MSG_READ_TENSOR) {
        send_error(f->seq, HIL_ERR_UNKNOWN_TYPE, f->type, f->type);
        return;
    }
    if (!length_ok(f->type, f->len, &expected)) {
        send_error(f->seq, HIL_ERR_BAD_PAYLOAD, f->type, expected);
        return;
    }
    switch (f->type) {
    case HIL_MSG_PING: on_ping(f->seq); break;
    case HIL_MSG_INFO: on_info(f->seq); break;
    case HIL_MSG_MODEL_INFO: on_model_info(f->seq, f->payload); break;
    case HIL_MSG_LAYER_INFO: on_layer_info(f->seq, f->payload); break;
    case HIL_MSG_LOAD_INPUT: on_load_input(f->seq, f->payload, f->len); break;
    case HIL_MSG_INFER: on_infer(f->seq, f->payload); break;
    case HIL_MSG_READ_TENSOR: on_read_tensor(f->seq, f->payload); break;
    default: break;
    }
}

void app_init(void)
{
    hil_frame_rx_init(&s_rx);
    s.model = -1;
    s.result_model = -1;
    s.copy_layer = -1;
    /* No boot banner: anything before the first frame would reach the host
     * as an undecodable chunk. The host learns all of it from INFO. */
}

void app_handle_byte(uint8_t b)
{
    hil_frame_t f;
    int r = hil_frame_rx_byte(&s_rx, b, &f);
    if (r == HIL_RX_FRAME)
        handle_frame(&f);
    else if (r != HIL_RX_MORE)   /* detail as the error table says: MAX_PAYLOAD for an over-long frame */
        send_error(HIL_SEQ_NONE, (uint8_t)r, 0u, r == HIL_ERR_PAYLOAD_TOO_LARGE ? HIL_MAX_PAYLOAD : 0u);
}
