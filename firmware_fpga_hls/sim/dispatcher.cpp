/* dispatcher.cpp: see dispatcher.h. Message layouts: hil_protocol.h (generated
 * from hil/protocol/spec.py); prose: docs/protocol.md. */
#include "dispatcher.h"

#include <string.h>

#include "hil_hls/csim.h"

namespace hil {
namespace sim {

namespace {

const uint8_t kRunModes = 0x0F; /* OUTPUTS, LAYER_COUNTS, LAYER_TENSORS, TIMING */
const uint32_t kInternalTrips = 0x100; /* INTERNAL detail: 0x100 + layer whose loops ran an unmodelled trip count */

void put_str(uint8_t *p, const char *s, size_t size)
{
    size_t n = strlen(s);
    memset(p, 0, size);
    memcpy(p, s, n < size ? n : size);
}

void put_shape(uint8_t *p, uint8_t ndim, const uint16_t dims[4])
{
    p[0] = ndim;
    for (int i = 0; i < 4; i++) {
        hil_put_u16(p + 1 + 2 * i, dims[i]);
    }
}

size_t dtype_size(uint8_t dtype)
{
    return dtype == HIL_DTYPE_INT32 || dtype == HIL_DTYPE_UINT32 ? 4u : 1u;
}

void serialize(const int32_t *values, size_t n, uint8_t dtype, std::vector<uint8_t> *out)
{
    out->resize(n * dtype_size(dtype));
    for (size_t i = 0; i < n; i++) {
        if (dtype == HIL_DTYPE_INT8) {
            (*out)[i] = (uint8_t)(int8_t)values[i];
        } else {
            hil_put_u32(&(*out)[4 * i], (uint32_t)values[i]);
        }
    }
}

}  // namespace

Dispatcher::Dispatcher(const BoardInfo &info)
    : info_(info), answered_(0), input_model_(-1), filled_(0), result_model_(-1)
{
    hil_frame_rx_init(&rx_);
    output_.present = layer_counts_.present = false;
}

void Dispatcher::reset_link()
{
    hil_frame_rx_init(&rx_);
}

void Dispatcher::feed(const uint8_t *data, size_t len, Output &out)
{
    for (size_t i = 0; i < len; i++) {
        hil_frame_t f;
        int r = hil_frame_rx_byte(&rx_, data[i], &f);
        if (r == HIL_RX_FRAME) {
            handle(f, out);
        } else if (r != HIL_RX_MORE) {
            /* undecodable chunk: one ERROR with SEQ_NONE, request type unknown */
            send_error(HIL_SEQ_NONE, (uint8_t)r, 0u, r == (int)HIL_ERR_PAYLOAD_TOO_LARGE ? HIL_MAX_PAYLOAD : 0u, out);
        }
    }
}

void Dispatcher::send(uint8_t type, uint16_t seq, const uint8_t *payload, uint16_t len, Output &out)
{
    size_t n = hil_frame_encode(type, seq, payload, len, tx_, sizeof tx_);
    answered_++;
    out.write(tx_, n);
}

void Dispatcher::send_error(uint16_t seq, uint8_t code, uint8_t request_type, uint32_t detail, Output &out)
{
    size_t n = hil_frame_encode_error(seq, code, request_type, detail, tx_, sizeof tx_);
    answered_++;
    out.write(tx_, n);
}

void Dispatcher::handle(const hil_frame_t &f, Output &out)
{
    /* checked in this order: version, type, payload length, then the fields */
    if (f.version != HIL_PROTO_VERSION) {
        send_error(f.seq, HIL_ERR_BAD_VERSION, f.type, HIL_PROTO_VERSION, out);
        return;
    }
    uint16_t need;
    bool tail = false;
    switch (f.type) {
    case HIL_MSG_PING: need = HIL_PING_LEN; break;
    case HIL_MSG_INFO: need = HIL_INFO_LEN; break;
    case HIL_MSG_MODEL_INFO: need = HIL_MODEL_INFO_LEN; break;
    case HIL_MSG_LAYER_INFO: need = HIL_LAYER_INFO_LEN; break;
    case HIL_MSG_LOAD_INPUT: need = HIL_LOAD_INPUT_MIN_LEN; tail = true; break;
    case HIL_MSG_INFER: need = HIL_INFER_LEN; break;
    case HIL_MSG_READ_TENSOR: need = HIL_READ_TENSOR_LEN; break;
    default:
        send_error(f.seq, HIL_ERR_UNKNOWN_TYPE, f.type, f.type, out);
        return;
    }
    if (tail ? f.len < need : f.len != need) {
        send_error(f.seq, HIL_ERR_BAD_PAYLOAD, f.type, need, out);
        return;
    }
    uint8_t rsp[HIL_MAX_PAYLOAD];
    uint16_t len = 0;
    uint32_t detail = 0;
    int err;
    switch (f.type) {
    case HIL_MSG_PING: err = on_ping(rsp, &len, &detail); break;
    case HIL_MSG_INFO: err = on_info(rsp, &len, &detail); break;
    case HIL_MSG_MODEL_INFO: err = on_model_info(f.payload, rsp, &len, &detail); break;
    case HIL_MSG_LAYER_INFO: err = on_layer_info(f.payload, rsp, &len, &detail); break;
    case HIL_MSG_LOAD_INPUT: err = on_load_input(f.payload, f.len, rsp, &len, &detail); break;
    case HIL_MSG_INFER: err = on_infer(f.payload, rsp, &len, &detail); break;
    default: err = on_read_tensor(f.payload, rsp, &len, &detail); break;
    }
    if (err != 0) {
        send_error(f.seq, (uint8_t)err, f.type, detail, out);
    } else {
        send((uint8_t)(f.type | 0x80u), f.seq, rsp, len, out);
    }
}

int Dispatcher::on_ping(uint8_t *rsp, uint16_t *len, uint32_t *)
{
    hil_put_u16(rsp + HIL_PING_RSP_OFF_PROTO_VERSION, HIL_PROTO_VERSION);
    hil_put_u16(rsp + HIL_PING_RSP_OFF_MAX_PAYLOAD, HIL_MAX_PAYLOAD);
    hil_put_u32(rsp + HIL_PING_RSP_OFF_SPEC_HASH32, HIL_SPEC_HASH32);
    *len = HIL_PING_RSP_LEN;
    return 0;
}

int Dispatcher::on_info(uint8_t *rsp, uint16_t *len, uint32_t *)
{
    put_str(rsp + HIL_INFO_RSP_OFF_FW_VERSION, fw_version(), HIL_INFO_RSP_SIZE_FW_VERSION);
    put_str(rsp + HIL_INFO_RSP_OFF_BUILD_HASH, build_hash(), HIL_INFO_RSP_SIZE_BUILD_HASH);
    put_str(rsp + HIL_INFO_RSP_OFF_BOARD, info_.board, HIL_INFO_RSP_SIZE_BOARD);
    hil_put_u32(rsp + HIL_INFO_RSP_OFF_CLOCK_HZ, info_.clock_hz);
    rsp[HIL_INFO_RSP_OFF_COUNTER_KIND] = HIL_COUNTER_MODELLED;
    rsp[HIL_INFO_RSP_OFF_RUN_MODES] = kRunModes;
    rsp[HIL_INFO_RSP_OFF_MODEL_COUNT] = (uint8_t)model_count();
    *len = HIL_INFO_RSP_LEN;
    return 0;
}

int Dispatcher::on_model_info(const uint8_t *p, uint8_t *rsp, uint16_t *len, uint32_t *detail)
{
    uint8_t id = p[HIL_MODEL_INFO_OFF_MODEL_ID];
    const ModelDesc *m = model(id);
    if (m == 0) {
        *detail = (uint32_t)model_count();
        return HIL_ERR_UNKNOWN_MODEL;
    }
    rsp[HIL_MODEL_INFO_RSP_OFF_MODEL_ID] = id;
    put_str(rsp + HIL_MODEL_INFO_RSP_OFF_NAME, m->name, HIL_MODEL_INFO_RSP_SIZE_NAME);
    memcpy(rsp + HIL_MODEL_INFO_RSP_OFF_MODEL_HASH, m->hash, HIL_MODEL_INFO_RSP_SIZE_MODEL_HASH);
    rsp[HIL_MODEL_INFO_RSP_OFF_IN_DTYPE] = HIL_DTYPE_INT8;
    put_shape(rsp + HIL_MODEL_INFO_RSP_OFF_IN_NDIM, m->in_ndim, m->in_dims);
    hil_put_u32(rsp + HIL_MODEL_INFO_RSP_OFF_IN_BYTES, m->in_elems);
    rsp[HIL_MODEL_INFO_RSP_OFF_OUT_DTYPE] = m->out_dtype;
    put_shape(rsp + HIL_MODEL_INFO_RSP_OFF_OUT_NDIM, m->out_ndim, m->out_dims);
    hil_put_u32(rsp + HIL_MODEL_INFO_RSP_OFF_OUT_BYTES, (uint32_t)(m->out_elems * dtype_size(m->out_dtype)));
    hil_put_u16(rsp + HIL_MODEL_INFO_RSP_OFF_LAYER_COUNT, m->layer_count);
    hil_put_u32(rsp + HIL_MODEL_INFO_RSP_OFF_MACS, m->macs);
    *len = HIL_MODEL_INFO_RSP_LEN;
    return 0;
}

int Dispatcher::on_layer_info(const uint8_t *p, uint8_t *rsp, uint16_t *len, uint32_t *detail)
{
    uint8_t id = p[HIL_LAYER_INFO_OFF_MODEL_ID];
    uint16_t index = hil_get_u16(p + HIL_LAYER_INFO_OFF_LAYER);
    const ModelDesc *m = model(id);
    if (m == 0) {
        *detail = (uint32_t)model_count();
        return HIL_ERR_UNKNOWN_MODEL;
    }
    if (index >= m->layer_count) {
        *detail = m->layer_count;
        return HIL_ERR_BAD_LAYER;
    }
    const LayerDesc &L = m->layers[index];
    rsp[HIL_LAYER_INFO_RSP_OFF_MODEL_ID] = id;
    hil_put_u16(rsp + HIL_LAYER_INFO_RSP_OFF_LAYER, index);
    rsp[HIL_LAYER_INFO_RSP_OFF_OP] = L.op;
    put_str(rsp + HIL_LAYER_INFO_RSP_OFF_NAME, L.name, HIL_LAYER_INFO_RSP_SIZE_NAME);
    rsp[HIL_LAYER_INFO_RSP_OFF_OUT_DTYPE] = L.dtype;
    put_shape(rsp + HIL_LAYER_INFO_RSP_OFF_OUT_NDIM, L.ndim, L.dims);
    hil_put_u32(rsp + HIL_LAYER_INFO_RSP_OFF_OUT_BYTES, (uint32_t)(L.elems * dtype_size(L.dtype)));
    hil_put_u32(rsp + HIL_LAYER_INFO_RSP_OFF_MACS, L.macs);
    *len = HIL_LAYER_INFO_RSP_LEN;
    return 0;
}

int Dispatcher::on_load_input(const uint8_t *p, uint16_t plen, uint8_t *rsp, uint16_t *len, uint32_t *detail)
{
    uint8_t id = p[HIL_LOAD_INPUT_OFF_MODEL_ID];
    uint32_t total = hil_get_u32(p + HIL_LOAD_INPUT_OFF_TOTAL);
    uint32_t offset = hil_get_u32(p + HIL_LOAD_INPUT_OFF_OFFSET);
    uint32_t n = (uint32_t)plen - HIL_LOAD_INPUT_OFF_DATA;
    const ModelDesc *m = model(id);
    if (m == 0) {
        *detail = (uint32_t)model_count();
        return HIL_ERR_UNKNOWN_MODEL;
    }
    if (total != m->in_elems) {
        *detail = m->in_elems;
        return HIL_ERR_WRONG_INPUT_SIZE;
    }
    if (offset == 0) { /* a new input: the last INFER's results are gone */
        input_.assign(total, 0);
        input_model_ = id;
        filled_ = 0;
        result_model_ = -1;
    }
    if ((int)id != input_model_ || offset > filled_ || (uint64_t)offset + n > total) {
        *detail = filled_;
        return HIL_ERR_BAD_OFFSET;
    }
    memcpy(&input_[offset], p + HIL_LOAD_INPUT_OFF_DATA, n);
    if (offset + n > filled_) {
        filled_ = offset + n;
    }
    rsp[HIL_LOAD_INPUT_RSP_OFF_MODEL_ID] = id;
    hil_put_u32(rsp + HIL_LOAD_INPUT_RSP_OFF_TOTAL, total);
    hil_put_u32(rsp + HIL_LOAD_INPUT_RSP_OFF_FILLED, filled_);
    *len = HIL_LOAD_INPUT_RSP_LEN;
    return 0;
}

/* One inference of the loaded input; per-layer tensors when capture is set.
 * The trip counts of every pipelined loop are checked against the ones the
 * cycle model assumed: a mismatch means the counts would be wrong (INTERNAL). */
int Dispatcher::run_once(const ModelDesc *m, bool capture, uint32_t *detail)
{
    const int n = m->layer_count;
    out_values_.assign(m->out_elems, 0);
    trips_.assign(n, 0);
    captured_.resize(n);
    std::vector<int32_t *> tensors(n, (int32_t *)0);
    for (int i = 0; i < n; i++) {
        if (capture) {
            captured_[i].assign(m->layers[i].elems, 0);
            tensors[i] = &captured_[i][0];
        }
    }
    csim::Probe probe;
    probe.layers = n;
    probe.tensors = &tensors[0];
    probe.trips = &trips_[0];
    csim::probe() = &probe;
    m->run(&input_[0], &out_values_[0]);
    csim::probe() = 0;
    for (int i = 0; i < n; i++) {
        if (trips_[i] != m->layers[i].trips) {
            *detail = kInternalTrips + (uint32_t)i;
            return HIL_ERR_INTERNAL;
        }
    }
    return 0;
}

int Dispatcher::on_infer(const uint8_t *p, uint8_t *rsp, uint16_t *len, uint32_t *detail)
{
    uint8_t id = p[HIL_INFER_OFF_MODEL_ID];
    uint8_t mode = p[HIL_INFER_OFF_MODE];
    uint16_t repeat = hil_get_u16(p + HIL_INFER_OFF_REPEAT);
    const ModelDesc *m = model(id);
    if (m == 0) {
        *detail = (uint32_t)model_count();
        return HIL_ERR_UNKNOWN_MODEL;
    }
    if (mode > HIL_MODE_TIMING || !(kRunModes & (1u << mode))) {
        *detail = kRunModes;
        return HIL_ERR_BAD_MODE;
    }
    if (mode == HIL_MODE_TIMING ? repeat == 0 : repeat != 1) {
        *detail = HIL_INFER_LEN;
        return HIL_ERR_BAD_PAYLOAD;
    }
    if ((int)id != input_model_ || filled_ != m->in_elems) {
        *detail = (int)id == input_model_ ? filled_ : 0u;
        return HIL_ERR_INPUT_NOT_LOADED;
    }
    result_model_ = -1;
    const uint16_t runs = mode == HIL_MODE_TIMING ? repeat : 1;
    for (uint16_t r = 0; r < runs; r++) {
        int err = run_once(m, mode == HIL_MODE_LAYER_TENSORS, detail);
        if (err != 0) {
            return err;
        }
    }
    /* results of this INFER replace every earlier one */
    serialize(&out_values_[0], m->out_elems, m->out_dtype, &output_.bytes);
    output_.dtype = m->out_dtype;
    output_.present = true;
    layer_counts_.present = mode == HIL_MODE_LAYER_COUNTS || mode == HIL_MODE_LAYER_TENSORS;
    layer_counts_.dtype = HIL_DTYPE_UINT32;
    layer_counts_.bytes.resize(4u * m->layer_count);
    for (int i = 0; i < m->layer_count; i++) {
        hil_put_u32(&layer_counts_.bytes[4 * i], m->layers[i].cycles);
    }
    layers_.resize(m->layer_count);
    for (int i = 0; i < m->layer_count; i++) {
        layers_[i].present = mode == HIL_MODE_LAYER_TENSORS;
        if (layers_[i].present) {
            serialize(&captured_[i][0], m->layers[i].elems, m->layers[i].dtype, &layers_[i].bytes);
            layers_[i].dtype = m->layers[i].dtype;
        }
    }
    result_model_ = id;

    /* modelled counts are deterministic: every run takes the same number of cycles */
    const uint64_t total = m->total_cycles;
    rsp[HIL_INFER_RSP_OFF_MODEL_ID] = id;
    rsp[HIL_INFER_RSP_OFF_MODE] = mode;
    rsp[HIL_INFER_RSP_OFF_COUNTER_KIND] = HIL_COUNTER_MODELLED;
    hil_put_u16(rsp + HIL_INFER_RSP_OFF_REPEAT, runs);
    hil_put_u16(rsp + HIL_INFER_RSP_OFF_LAYER_COUNT, m->layer_count);
    hil_put_u32(rsp + HIL_INFER_RSP_OFF_OUT_BYTES, (uint32_t)output_.bytes.size());
    hil_put_u64(rsp + HIL_INFER_RSP_OFF_TOTAL_SUM, total * runs);
    hil_put_u64(rsp + HIL_INFER_RSP_OFF_TOTAL_MIN, total);
    hil_put_u64(rsp + HIL_INFER_RSP_OFF_TOTAL_MAX, total);
    size_t n = 0;
    if (mode != HIL_MODE_TIMING) {
        n = output_.bytes.size() < HIL_INFER_RSP_TAIL_MAX ? output_.bytes.size() : HIL_INFER_RSP_TAIL_MAX;
        memcpy(rsp + HIL_INFER_RSP_OFF_OUTPUT, &output_.bytes[0], n);
    }
    *len = (uint16_t)(HIL_INFER_RSP_MIN_LEN + n);
    return 0;
}

int Dispatcher::on_read_tensor(const uint8_t *p, uint8_t *rsp, uint16_t *len, uint32_t *detail)
{
    uint16_t tensor = hil_get_u16(p + HIL_READ_TENSOR_OFF_TENSOR);
    uint32_t offset = hil_get_u32(p + HIL_READ_TENSOR_OFF_OFFSET);
    if (result_model_ < 0) {
        return HIL_ERR_NO_RESULT;
    }
    const ModelDesc *m = model(result_model_);
    const Result *r;
    if (tensor == HIL_TENSOR_OUTPUT) {
        r = &output_;
    } else if (tensor == HIL_TENSOR_LAYER_COUNTS) {
        r = &layer_counts_;
    } else if (tensor >= m->layer_count) {
        *detail = m->layer_count;
        return HIL_ERR_BAD_LAYER;
    } else {
        r = &layers_[tensor];
    }
    if (!r->present) {
        return HIL_ERR_NO_RESULT;
    }
    const uint32_t total = (uint32_t)r->bytes.size();
    if (offset > total) {
        *detail = total;
        return HIL_ERR_BAD_OFFSET;
    }
    uint32_t n = total - offset;
    if (n > HIL_READ_TENSOR_RSP_TAIL_MAX) {
        n = HIL_READ_TENSOR_RSP_TAIL_MAX;
    }
    rsp[HIL_READ_TENSOR_RSP_OFF_MODEL_ID] = (uint8_t)result_model_;
    hil_put_u16(rsp + HIL_READ_TENSOR_RSP_OFF_TENSOR, tensor);
    rsp[HIL_READ_TENSOR_RSP_OFF_DTYPE] = r->dtype;
    hil_put_u32(rsp + HIL_READ_TENSOR_RSP_OFF_TOTAL, total);
    hil_put_u32(rsp + HIL_READ_TENSOR_RSP_OFF_OFFSET, offset);
    if (n > 0) {
        memcpy(rsp + HIL_READ_TENSOR_RSP_OFF_DATA, &r->bytes[offset], n);
    }
    *len = (uint16_t)(HIL_READ_TENSOR_RSP_MIN_LEN + n);
    return 0;
}

}  // namespace sim
}  // namespace hil
