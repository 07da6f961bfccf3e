/* hil_device.c: the request dispatcher (see hil_device.h). Message layouts:
 * hil_protocol.h (generated from hil/protocol/spec.py); checks, their order
 * and the error details: docs/protocol.md and hil/boards/sim.py. */
#include "hil_device.h"

#include <string.h>

/* INTERNAL details of the library itself (backends use their own values). */
#define DETAIL_INPUT_BUFFER 1u    /* input buffer smaller than the model's input */
#define DETAIL_OUTPUT_BUFFER 2u   /* output or count buffer too small for the model */

typedef struct {
    uint8_t code;      /* 0: respond with rsp[0..len) */
    uint32_t detail;
    uint16_t len;
} result_t;

static result_t ok(uint16_t len)
{
    result_t r = {0u, 0u, len};
    return r;
}

static result_t fail(uint8_t code, uint32_t detail)
{
    result_t r = {code, detail, 0u};
    return r;
}

static void put_str(uint8_t *dst, const char *src, size_t cap)
{
    size_t i = 0;
    for (; src != NULL && i < cap && src[i] != '\0'; ++i)
        dst[i] = (uint8_t)src[i];
    for (; i < cap; ++i)
        dst[i] = 0u;
}

static void put_tensor(uint8_t *dtype_at, uint8_t *ndim_at, uint8_t *dims_at, uint8_t *bytes_at,
                       const hil_dev_tensor_t *t)
{
    *dtype_at = t->dtype;
    *ndim_at = t->ndim;
    for (uint32_t i = 0; i < HIL_MAX_DIMS; ++i)
        hil_put_u16(dims_at + 2u * i, i < t->ndim ? t->dims[i] : 0u);
    hil_put_u32(bytes_at, t->bytes);
}

static void send(hil_device_t *d, uint8_t type, uint16_t seq, const uint8_t *payload, uint16_t len)
{
    size_t n = hil_frame_encode(type, seq, payload, len, d->tx, sizeof d->tx);
    d->answered++;
    d->be->write(d->be->ctx, d->tx, n);
}

static void send_error(hil_device_t *d, uint16_t seq, uint8_t code, uint8_t req_type, uint32_t detail)
{
    size_t n = hil_frame_encode_error(seq, code, req_type, detail, d->tx, sizeof d->tx);
    d->answered++;
    d->be->write(d->be->ctx, d->tx, n);
}

static void identity(const hil_device_t *d, hil_dev_identity_t *id)
{
    memset(id, 0, sizeof *id);
    d->be->identity(d->be->ctx, id);
}

/* Model `id`, range-checked; fails with UNKNOWN_MODEL (detail model_count). */
static result_t get_model(const hil_device_t *d, uint8_t id, hil_dev_model_t *m)
{
    hil_dev_identity_t ident;
    identity(d, &ident);
    if (id >= ident.model_count)
        return fail(HIL_ERR_UNKNOWN_MODEL, ident.model_count);
    memset(m, 0, sizeof *m);
    uint32_t e = d->be->model(d->be->ctx, id, m);
    return e != 0u ? fail(HIL_ERR_INTERNAL, e) : ok(0u);
}

uint32_t hil_device_max_repeat(uint32_t macs)
{
    uint32_t by_macs = macs == 0u ? HIL_MAX_INFER_REPEAT : HIL_MAX_INFER_MACS / macs;
    uint32_t cap = by_macs < HIL_MAX_INFER_REPEAT ? by_macs : HIL_MAX_INFER_REPEAT;
    return cap > 0u ? cap : 1u;
}

/* ---- requests ------------------------------------------------------------- */

static result_t on_ping(hil_device_t *d)
{
    hil_put_u16(d->rsp + HIL_PING_RSP_OFF_PROTO_VERSION, HIL_PROTO_VERSION);
    hil_put_u16(d->rsp + HIL_PING_RSP_OFF_MAX_PAYLOAD, HIL_MAX_PAYLOAD);
    hil_put_u32(d->rsp + HIL_PING_RSP_OFF_SPEC_HASH32, HIL_SPEC_HASH32);
    return ok(HIL_PING_RSP_LEN);
}

static result_t on_info(hil_device_t *d)
{
    hil_dev_identity_t id;
    identity(d, &id);
    uint8_t *r = d->rsp;
    put_str(r + HIL_INFO_RSP_OFF_FW_VERSION, id.fw_version, HIL_INFO_RSP_SIZE_FW_VERSION);
    put_str(r + HIL_INFO_RSP_OFF_BUILD_HASH, id.build_hash, HIL_INFO_RSP_SIZE_BUILD_HASH);
    put_str(r + HIL_INFO_RSP_OFF_BOARD, id.board, HIL_INFO_RSP_SIZE_BOARD);
    hil_put_u32(r + HIL_INFO_RSP_OFF_CLOCK_HZ, id.clock_hz);
    r[HIL_INFO_RSP_OFF_COUNTER_KIND] = id.counter_kind;
    r[HIL_INFO_RSP_OFF_RUN_MODES] = id.run_modes;
    r[HIL_INFO_RSP_OFF_MODEL_COUNT] = id.model_count;
    return ok(HIL_INFO_RSP_LEN);
}

static result_t on_model_info(hil_device_t *d, const uint8_t *p)
{
    uint8_t id = p[HIL_MODEL_INFO_OFF_MODEL_ID];
    hil_dev_model_t m;
    result_t res = get_model(d, id, &m);
    if (res.code != 0u)
        return res;
    uint8_t *r = d->rsp;
    r[HIL_MODEL_INFO_RSP_OFF_MODEL_ID] = id;
    put_str(r + HIL_MODEL_INFO_RSP_OFF_NAME, m.name, HIL_MODEL_INFO_RSP_SIZE_NAME);
    if (m.hash != NULL)
        memcpy(r + HIL_MODEL_INFO_RSP_OFF_MODEL_HASH, m.hash, HIL_MODEL_INFO_RSP_SIZE_MODEL_HASH);
    else
        memset(r + HIL_MODEL_INFO_RSP_OFF_MODEL_HASH, 0, HIL_MODEL_INFO_RSP_SIZE_MODEL_HASH);
    put_tensor(r + HIL_MODEL_INFO_RSP_OFF_IN_DTYPE, r + HIL_MODEL_INFO_RSP_OFF_IN_NDIM,
               r + HIL_MODEL_INFO_RSP_OFF_IN_DIMS, r + HIL_MODEL_INFO_RSP_OFF_IN_BYTES, &m.in);
    put_tensor(r + HIL_MODEL_INFO_RSP_OFF_OUT_DTYPE, r + HIL_MODEL_INFO_RSP_OFF_OUT_NDIM,
               r + HIL_MODEL_INFO_RSP_OFF_OUT_DIMS, r + HIL_MODEL_INFO_RSP_OFF_OUT_BYTES, &m.out);
    hil_put_u16(r + HIL_MODEL_INFO_RSP_OFF_LAYER_COUNT, m.layer_count);
    hil_put_u32(r + HIL_MODEL_INFO_RSP_OFF_MACS, m.macs);
    return ok(HIL_MODEL_INFO_RSP_LEN);
}

static result_t on_layer_info(hil_device_t *d, const uint8_t *p)
{
    uint8_t id = p[HIL_LAYER_INFO_OFF_MODEL_ID];
    uint16_t li = hil_get_u16(p + HIL_LAYER_INFO_OFF_LAYER);
    hil_dev_model_t m;
    result_t res = get_model(d, id, &m);
    if (res.code != 0u)
        return res;
    if (li >= m.layer_count)
        return fail(HIL_ERR_BAD_LAYER, m.layer_count);
    hil_dev_layer_t L;
    memset(&L, 0, sizeof L);
    uint32_t e = d->be->layer(d->be->ctx, id, li, &L);
    if (e != 0u)
        return fail(HIL_ERR_INTERNAL, e);
    uint8_t *r = d->rsp;
    r[HIL_LAYER_INFO_RSP_OFF_MODEL_ID] = id;
    hil_put_u16(r + HIL_LAYER_INFO_RSP_OFF_LAYER, li);
    r[HIL_LAYER_INFO_RSP_OFF_OP] = L.op;
    put_str(r + HIL_LAYER_INFO_RSP_OFF_NAME, L.name, HIL_LAYER_INFO_RSP_SIZE_NAME);
    put_tensor(r + HIL_LAYER_INFO_RSP_OFF_OUT_DTYPE, r + HIL_LAYER_INFO_RSP_OFF_OUT_NDIM,
               r + HIL_LAYER_INFO_RSP_OFF_OUT_DIMS, r + HIL_LAYER_INFO_RSP_OFF_OUT_BYTES, &L.out);
    hil_put_u32(r + HIL_LAYER_INFO_RSP_OFF_MACS, L.macs);
    return ok(HIL_LAYER_INFO_RSP_LEN);
}

static result_t on_load_input(hil_device_t *d, const uint8_t *p, uint16_t len)
{
    uint8_t id = p[HIL_LOAD_INPUT_OFF_MODEL_ID];
    uint32_t total = hil_get_u32(p + HIL_LOAD_INPUT_OFF_TOTAL);
    uint32_t off = hil_get_u32(p + HIL_LOAD_INPUT_OFF_OFFSET);
    uint32_t n = (uint32_t)len - HIL_LOAD_INPUT_MIN_LEN;
    hil_dev_model_t m;
    result_t res = get_model(d, id, &m);
    if (res.code != 0u)
        return res;
    if (total != m.in.bytes)
        return fail(HIL_ERR_WRONG_INPUT_SIZE, m.in.bytes);
    if (total > d->buf.input_cap)
        return fail(HIL_ERR_INTERNAL, DETAIL_INPUT_BUFFER);
    /* Every check before any state changes: a refused chunk leaves the
     * loaded input and the last results as they were. */
    if ((off != 0u && (d->input_model != (int)id || off > d->filled)) || (uint64_t)off + n > total)
        return fail(HIL_ERR_BAD_OFFSET, d->filled);
    if (off == 0u) {                       /* a new input: old results are gone */
        d->input_model = id;
        d->filled = 0u;
        d->result_model = -1;
    }
    memcpy(d->buf.input + off, p + HIL_LOAD_INPUT_OFF_DATA, n);
    if (off + n > d->filled)
        d->filled = off + n;
    d->rsp[HIL_LOAD_INPUT_RSP_OFF_MODEL_ID] = id;
    hil_put_u32(d->rsp + HIL_LOAD_INPUT_RSP_OFF_TOTAL, total);
    hil_put_u32(d->rsp + HIL_LOAD_INPUT_RSP_OFF_FILLED, d->filled);
    return ok(HIL_LOAD_INPUT_RSP_LEN);
}

static void store_count(void *ctx, uint16_t layer, uint32_t count)
{
    hil_device_t *d = (hil_device_t *)ctx;
    if (layer < d->buf.max_layers)
        hil_put_u32(d->buf.counts + 4u * layer, count);
}

static result_t on_infer(hil_device_t *d, const uint8_t *p)
{
    uint8_t id = p[HIL_INFER_OFF_MODEL_ID];
    uint8_t mode = p[HIL_INFER_OFF_MODE];
    uint16_t repeat = hil_get_u16(p + HIL_INFER_OFF_REPEAT);
    hil_dev_identity_t ident;
    hil_dev_model_t m;
    result_t res = get_model(d, id, &m);
    if (res.code != 0u)
        return res;
    identity(d, &ident);
    if (mode > HIL_MODE_TIMING || !(ident.run_modes & (1u << mode)))
        return fail(HIL_ERR_BAD_MODE, ident.run_modes);
    if ((mode != HIL_MODE_TIMING && repeat != 1u) || repeat == 0u)
        return fail(HIL_ERR_BAD_PAYLOAD, HIL_INFER_LEN);
    uint32_t max_repeat = hil_device_max_repeat(m.macs);
    if (repeat > max_repeat)               /* refused at once: no run blocks the device for long */
        return fail(HIL_ERR_REPEAT_TOO_LARGE, max_repeat);
    if (d->input_model != (int)id || d->filled != m.in.bytes)
        return fail(HIL_ERR_INPUT_NOT_LOADED, d->input_model == (int)id ? d->filled : 0u);
    if (m.out.bytes > d->buf.output_cap || m.layer_count > d->buf.max_layers)
        return fail(HIL_ERR_INTERNAL, DETAIL_OUTPUT_BUFFER);

    d->result_model = -1;                  /* results of this INFER replace every earlier one */
    const int per_layer = mode == HIL_MODE_LAYER_COUNTS || mode == HIL_MODE_LAYER_TENSORS;
    memset(d->buf.counts, 0, HIL_DEV_COUNTS_BYTES(m.layer_count));
    uint64_t sum = 0u, lo = UINT64_MAX, hi = 0u;
    for (uint16_t i = 0; i < repeat; ++i) {
        uint64_t c = 0u;
        uint32_t e = d->be->run(d->be->ctx, id, mode, d->buf.input, d->buf.output,
                                per_layer ? store_count : NULL, d, &c);
        if (e != 0u)
            return fail(HIL_ERR_INTERNAL, e);
        sum += c;
        lo = c < lo ? c : lo;
        hi = c > hi ? c : hi;
    }
    d->result_model = id;
    d->result_mode = mode;

    uint8_t *r = d->rsp;
    r[HIL_INFER_RSP_OFF_MODEL_ID] = id;
    r[HIL_INFER_RSP_OFF_MODE] = mode;
    r[HIL_INFER_RSP_OFF_COUNTER_KIND] = ident.counter_kind;
    hil_put_u16(r + HIL_INFER_RSP_OFF_REPEAT, repeat);
    hil_put_u16(r + HIL_INFER_RSP_OFF_LAYER_COUNT, m.layer_count);
    hil_put_u32(r + HIL_INFER_RSP_OFF_OUT_BYTES, m.out.bytes);
    hil_put_u64(r + HIL_INFER_RSP_OFF_TOTAL_SUM, sum);
    hil_put_u64(r + HIL_INFER_RSP_OFF_TOTAL_MIN, lo);
    hil_put_u64(r + HIL_INFER_RSP_OFF_TOTAL_MAX, hi);
    uint32_t n = 0u;
    if (mode != HIL_MODE_TIMING) {
        n = m.out.bytes < HIL_INFER_RSP_TAIL_MAX ? m.out.bytes : HIL_INFER_RSP_TAIL_MAX;
        memcpy(r + HIL_INFER_RSP_OFF_OUTPUT, d->buf.output, n);
    }
    return ok((uint16_t)(HIL_INFER_RSP_MIN_LEN + n));
}

static result_t on_read_tensor(hil_device_t *d, const uint8_t *p)
{
    uint16_t t = hil_get_u16(p + HIL_READ_TENSOR_OFF_TENSOR);
    uint32_t off = hil_get_u32(p + HIL_READ_TENSOR_OFF_OFFSET);
    if (d->result_model < 0)
        return fail(HIL_ERR_NO_RESULT, 0u);
    const uint8_t id = (uint8_t)d->result_model;
    hil_dev_model_t m;
    result_t res = get_model(d, id, &m);
    if (res.code != 0u)
        return res;
    const uint8_t *data = NULL;
    uint32_t size = 0u;
    uint8_t dtype = HIL_DTYPE_NONE;
    const int per_layer = d->result_mode == HIL_MODE_LAYER_COUNTS || d->result_mode == HIL_MODE_LAYER_TENSORS;
    if (t == HIL_TENSOR_OUTPUT) {
        data = d->buf.output;
        size = m.out.bytes;
        dtype = m.out.dtype;
    } else if (t == HIL_TENSOR_LAYER_COUNTS) {
        if (!per_layer)
            return fail(HIL_ERR_NO_RESULT, 0u);
        data = d->buf.counts;
        size = HIL_DEV_COUNTS_BYTES(m.layer_count);
        dtype = HIL_DTYPE_UINT32;
    } else if (t >= m.layer_count) {
        return fail(HIL_ERR_BAD_LAYER, m.layer_count);
    } else {
        if (d->result_mode != HIL_MODE_LAYER_TENSORS || d->be->layer_tensor == NULL)
            return fail(HIL_ERR_NO_RESULT, 0u);
        hil_dev_layer_t L;
        memset(&L, 0, sizeof L);
        uint32_t e = d->be->layer(d->be->ctx, id, t, &L);
        if (e == 0u)
            e = d->be->layer_tensor(d->be->ctx, id, t, d->buf.input, &data);
        if (e != 0u || data == NULL)
            return fail(HIL_ERR_INTERNAL, e);
        size = L.out.bytes;
        dtype = L.out.dtype;
    }
    if (off > size)
        return fail(HIL_ERR_BAD_OFFSET, size);
    uint32_t n = size - off < HIL_READ_TENSOR_RSP_TAIL_MAX ? size - off : HIL_READ_TENSOR_RSP_TAIL_MAX;
    uint8_t *r = d->rsp;
    r[HIL_READ_TENSOR_RSP_OFF_MODEL_ID] = id;
    hil_put_u16(r + HIL_READ_TENSOR_RSP_OFF_TENSOR, t);
    r[HIL_READ_TENSOR_RSP_OFF_DTYPE] = dtype;
    hil_put_u32(r + HIL_READ_TENSOR_RSP_OFF_TOTAL, size);
    hil_put_u32(r + HIL_READ_TENSOR_RSP_OFF_OFFSET, off);
    if (n > 0u)
        memcpy(r + HIL_READ_TENSOR_RSP_OFF_DATA, data + off, n);
    return ok((uint16_t)(HIL_READ_TENSOR_RSP_MIN_LEN + n));
}

/* ---- dispatch ------------------------------------------------------------- */

/* Payload length rule of a request type: 1 exact, 2 at least, 0 not a request. */
static int length_rule(uint8_t type, uint16_t *need)
{
    switch (type) {
    case HIL_MSG_PING: *need = HIL_PING_LEN; return 1;
    case HIL_MSG_INFO: *need = HIL_INFO_LEN; return 1;
    case HIL_MSG_MODEL_INFO: *need = HIL_MODEL_INFO_LEN; return 1;
    case HIL_MSG_LAYER_INFO: *need = HIL_LAYER_INFO_LEN; return 1;
    case HIL_MSG_LOAD_INPUT: *need = HIL_LOAD_INPUT_MIN_LEN; return 2;
    case HIL_MSG_INFER: *need = HIL_INFER_LEN; return 1;
    case HIL_MSG_READ_TENSOR: *need = HIL_READ_TENSOR_LEN; return 1;
    default: *need = 0u; return 0;
    }
}

static result_t dispatch(hil_device_t *d, const hil_frame_t *f)
{
    if (f->version != HIL_PROTO_VERSION)
        return fail(HIL_ERR_BAD_VERSION, HIL_PROTO_VERSION);
    uint16_t need = 0u;
    int rule = length_rule(f->type, &need);
    if (rule == 0) {
        if (d->be->extra_request != NULL) {
            uint16_t len = 0u;
            uint32_t detail = 0u;
            int rc = d->be->extra_request(d->be->ctx, f, d->rsp, &len, &detail);
            if (rc == 0)
                return ok(len <= HIL_MAX_PAYLOAD ? len : HIL_MAX_PAYLOAD);
            if (rc > 0)
                return fail((uint8_t)rc, detail);
        }
        return fail(HIL_ERR_UNKNOWN_TYPE, f->type);
    }
    if (rule == 1 ? f->len != need : f->len < need)
        return fail(HIL_ERR_BAD_PAYLOAD, need);
    switch (f->type) {
    case HIL_MSG_PING: return on_ping(d);
    case HIL_MSG_INFO: return on_info(d);
    case HIL_MSG_MODEL_INFO: return on_model_info(d, f->payload);
    case HIL_MSG_LAYER_INFO: return on_layer_info(d, f->payload);
    case HIL_MSG_LOAD_INPUT: return on_load_input(d, f->payload, f->len);
    case HIL_MSG_INFER: return on_infer(d, f->payload);
    default: return on_read_tensor(d, f->payload);
    }
}

static void handle_frame(hil_device_t *d, const hil_frame_t *f)
{
    d->seq = f->seq;
    result_t r = dispatch(d, f);
    if (r.code != 0u)
        send_error(d, f->seq, r.code, f->type, r.detail);
    else
        send(d, (uint8_t)(f->type | 0x80u), f->seq, d->rsp, r.len);
    d->seq = HIL_SEQ_NONE;
}

void hil_device_init(hil_device_t *dev, const hil_dev_backend_t *backend, const hil_dev_buffers_t *buffers)
{
    memset(dev, 0, sizeof *dev);
    dev->be = backend;
    dev->buf = *buffers;
    hil_frame_rx_init(&dev->rx);
    dev->input_model = -1;
    dev->result_model = -1;
    dev->seq = HIL_SEQ_NONE;
    /* No boot banner: anything before the first frame would reach the host
     * as an undecodable chunk. The host learns all of it from INFO. */
}

void hil_device_reset_link(hil_device_t *dev)
{
    hil_frame_rx_init(&dev->rx);
}

uint16_t hil_device_current_seq(const hil_device_t *dev)
{
    return dev->seq;
}

void hil_device_feed(hil_device_t *dev, const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; ++i) {
        hil_frame_t f;
        int r = hil_frame_rx_byte(&dev->rx, data[i], &f);
        if (r == HIL_RX_FRAME)
            handle_frame(dev, &f);
        else if (r != HIL_RX_MORE)   /* detail as the error table says: MAX_PAYLOAD for an over-long frame */
            send_error(dev, HIL_SEQ_NONE, (uint8_t)r, 0u, r == HIL_ERR_PAYLOAD_TOO_LARGE ? HIL_MAX_PAYLOAD : 0u);
    }
}
