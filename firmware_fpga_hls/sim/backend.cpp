/* backend.cpp: see backend.h. Request handling is hil_device.c; this file
 * only answers the backend calls from the generated ModelDesc table. */
#include "backend.h"

#include <string.h>

#include <vector>

#include "hil_hls/csim.h"
#include "hil_mlperf.h"
#include "hil_hls/model.h"

/* The image's MLPerf table (python -m hil.mlperf.gen_c, written by hil/targets/hls/build.py):
 * the MLPerf Tiny text protocol serves the image's first model (docs/mlperf-tiny.md). */
extern "C" {
extern const hil_mlperf_model_t hil_mlperf_models[];
extern const size_t hil_mlperf_model_count;
}

namespace hil {
namespace sim {

namespace {

const uint8_t kRunModes = (1u << HIL_MODE_OUTPUTS) | (1u << HIL_MODE_LAYER_COUNTS) |
                          (1u << HIL_MODE_LAYER_TENSORS) | (1u << HIL_MODE_TIMING);
const uint32_t kInternalTrips = 0x100; /* INTERNAL detail: 0x100 + layer whose loops ran an unmodelled trip count */

size_t dtype_size(uint8_t dtype)
{
    return dtype == HIL_DTYPE_INT32 || dtype == HIL_DTYPE_UINT32 ? 4u : 1u;
}

/* int32 values -> wire bytes of dtype (int8, or int32 little-endian for the shift scheme) */
void serialize(const int32_t *values, size_t n, uint8_t dtype, uint8_t *out)
{
    for (size_t i = 0; i < n; i++) {
        if (dtype == HIL_DTYPE_INT8) {
            out[i] = (uint8_t)(int8_t)values[i];
        } else {
            hil_put_u32(out + 4 * i, (uint32_t)values[i]);
        }
    }
}

void to_tensor(hil_dev_tensor_t *t, uint8_t dtype, uint8_t ndim, const uint16_t dims[4], uint32_t elems)
{
    t->dtype = dtype;
    t->ndim = ndim;
    for (int i = 0; i < 4; i++) {
        t->dims[i] = dims[i];
    }
    t->bytes = (uint32_t)(elems * dtype_size(dtype));
}

uint32_t max_input_bytes()
{
    uint32_t n = 0;
    for (int i = 0; i < model_count(); i++) {
        n = model(i)->in_elems > n ? model(i)->in_elems : n;
    }
    return n;
}

}  // namespace

struct Device::State {
    BoardInfo info;
    Output *out;                       /* valid during feed() */
    hil_dev_backend_t backend;
    hil_device_t dev;
    hil_mlperf_t mlperf;               /* text commands on the same socket (hil_mlperf.h) */
    std::vector<uint8_t> input, output, counts;
    std::vector<int32_t> out_values;
    std::vector<std::vector<int32_t> > captured;  /* per layer, last LAYER_TENSORS run */
    std::vector<uint8_t> layer_bytes;             /* one layer serialized for read-out */
    std::vector<uint64_t> trips;

    static State *self(void *ctx) { return static_cast<State *>(ctx); }

    static void identity(void *ctx, hil_dev_identity_t *id)
    {
        State *s = self(ctx);
        id->fw_version = fw_version();
        id->build_hash = build_hash();
        id->board = s->info.board;
        id->clock_hz = s->info.clock_hz;
        id->counter_kind = HIL_COUNTER_MODELLED;
        id->run_modes = kRunModes;
        id->model_count = (uint8_t)model_count();
    }

    static uint32_t model_desc(void *, uint8_t id, hil_dev_model_t *out)
    {
        const ModelDesc *m = model(id);
        out->name = m->name;
        out->hash = m->hash;
        to_tensor(&out->in, HIL_DTYPE_INT8, m->in_ndim, m->in_dims, m->in_elems);
        to_tensor(&out->out, m->out_dtype, m->out_ndim, m->out_dims, m->out_elems);
        out->layer_count = m->layer_count;
        out->macs = m->macs;
        return 0;
    }

    static uint32_t layer_desc(void *, uint8_t id, uint16_t layer, hil_dev_layer_t *out)
    {
        const LayerDesc &L = model(id)->layers[layer];
        out->name = L.name;
        out->op = L.op;
        to_tensor(&out->out, L.dtype, L.ndim, L.dims, L.elems);
        out->macs = L.macs;
        return 0;
    }

    /* One inference through the synthesis top; per-layer tensors when the mode
     * wants them. The trip counts of every pipelined loop are checked against
     * the ones the cycle model assumed: a mismatch means the counts would be wrong. */
    static uint32_t run(void *ctx, uint8_t id, uint8_t mode, const uint8_t *input, uint8_t *output,
                        hil_dev_layer_hook_t hook, void *hook_ctx, uint64_t *count)
    {
        State *s = self(ctx);
        const ModelDesc *m = model(id);
        const int n = m->layer_count;
        const bool capture = mode == HIL_MODE_LAYER_TENSORS;
        s->out_values.assign(m->out_elems, 0);
        s->trips.assign(n, 0);
        s->captured.resize(n);
        std::vector<int32_t *> tensors(n, (int32_t *)0);
        for (int i = 0; i < n; i++) {
            s->captured[i].assign(capture ? m->layers[i].elems : 0, 0);
            tensors[i] = capture ? &s->captured[i][0] : 0;
        }
        csim::Probe probe;
        probe.layers = n;
        probe.tensors = &tensors[0];
        probe.trips = &s->trips[0];
        csim::probe() = &probe;
        m->run(reinterpret_cast<const int8_t *>(input), &s->out_values[0]);
        csim::probe() = 0;
        for (int i = 0; i < n; i++) {
            if (s->trips[i] != m->layers[i].trips) {
                return kInternalTrips + (uint32_t)i;
            }
        }
        serialize(&s->out_values[0], m->out_elems, m->out_dtype, output);
        for (int i = 0; hook != 0 && i < n; i++) {
            hook(hook_ctx, (uint16_t)i, m->layers[i].cycles);
        }
        *count = m->total_cycles;      /* modelled: every run takes the same number of cycles */
        return 0;
    }

    static uint32_t layer_tensor(void *ctx, uint8_t id, uint16_t layer, const uint8_t *, const uint8_t **data)
    {
        State *s = self(ctx);
        const LayerDesc &L = model(id)->layers[layer];
        s->layer_bytes.resize(L.elems * dtype_size(L.dtype));
        serialize(&s->captured[layer][0], L.elems, L.dtype, &s->layer_bytes[0]);
        *data = &s->layer_bytes[0];
        return 0;
    }

    static void write(void *ctx, const uint8_t *data, size_t len)
    {
        State *s = self(ctx);
        if (s->out != 0) {
            s->out->write(data, len);
        }
    }
};

Device::Device(const BoardInfo &info) : s_(new State())
{
    s_->info = info;
    s_->out = 0;
    uint16_t max_layers = 0;
    uint32_t max_out = 0;
    for (int i = 0; i < model_count(); i++) {
        const ModelDesc *m = model(i);
        max_layers = m->layer_count > max_layers ? m->layer_count : max_layers;
        uint32_t ob = (uint32_t)(m->out_elems * dtype_size(m->out_dtype));
        max_out = ob > max_out ? ob : max_out;
    }
    s_->input.assign(max_input_bytes() + 1, 0);      /* +1: never a zero-size buffer */
    s_->output.assign(max_out + 1, 0);
    s_->counts.assign(HIL_DEV_COUNTS_BYTES(max_layers) + 1, 0);
    hil_dev_backend_t be = {s_, State::identity, State::model_desc, State::layer_desc, State::run,
                            State::layer_tensor, State::write, 0};
    s_->backend = be;
    hil_dev_buffers_t buf = {&s_->input[0], (uint32_t)s_->input.size(), &s_->output[0],
                             (uint32_t)s_->output.size(), &s_->counts[0], max_layers};
    hil_device_init(&s_->dev, &s_->backend, &buf);
    hil_mlperf_init(&s_->mlperf, &s_->dev, hil_mlperf_models, hil_mlperf_model_count, "");
}

Device::~Device()
{
    delete s_;
}

void Device::reset_link()
{
    hil_mlperf_reset_link(&s_->mlperf);
}

void Device::feed(const uint8_t *data, size_t len, Output &out)
{
    s_->out = &out;
    hil_mlperf_feed(&s_->mlperf, data, len);   /* text commands here, binary frames to dev */
    s_->out = 0;
}

}  // namespace sim
}  // namespace hil
