/* model.h: what the emulator and the testbench know about a generated model.
 *
 * Not synthesised: the generated <model>_desc.cpp fills a ModelDesc with the
 * qmodel's shapes and hash, the modelled cycles from hil/targets/hls/cycles.py and a
 * run() that calls the synthesis top once. Dtype and op ids are the wire
 * protocol's (hil_protocol.h).
 */
#ifndef HIL_HLS_MODEL_H
#define HIL_HLS_MODEL_H

#include <stdint.h>

namespace hil {

struct LayerDesc {
    const char *name;
    uint8_t op;          /* HIL_OP_* */
    uint8_t dtype;       /* HIL_DTYPE_INT8 or HIL_DTYPE_INT32 (shift scheme) */
    uint8_t ndim;
    uint16_t dims[4];
    uint32_t elems;
    uint32_t macs;
    uint32_t cycles;     /* modelled: cycles this layer adds to the inference (its count) */
    uint32_t latency;    /* modelled: standalone latency of the layer's process */
    uint32_t trips;      /* pipelined-loop iterations per inference (checked in C simulation) */
    const char *kernel;  /* hil::<op>_<dtype> */
};

struct ModelDesc {
    const char *name;
    const char *qmodel_hash;   /* "sha256:<hex>" */
    uint8_t hash[32];          /* its digest: MODEL_INFO_RSP.model_hash */
    const char *scheme;        /* "shift" or "int8" */
    uint8_t in_ndim;
    uint16_t in_dims[4];
    uint32_t in_elems;         /* int8 input bytes */
    uint8_t out_dtype;
    uint8_t out_ndim;
    uint16_t out_dims[4];
    uint32_t out_elems;
    uint32_t macs;
    uint16_t layer_count;
    const LayerDesc *layers;
    uint32_t load_cycles;      /* modelled LOAD_IN process */
    uint64_t total_cycles;     /* modelled inference latency = load_cycles + sum of layer cycles */
    uint32_t interval;         /* modelled cycles between back-to-back inferences */
    void (*run)(const int8_t *in, int32_t *out);  /* one inference through the synthesis top */
};

/* The image's models (generated hil_models.cpp), in model-id order. */
int model_count();
const ModelDesc *model(int index);   /* 0 if out of range */
const char *fw_version();            /* INFO_RSP.fw_version */
const char *build_hash();            /* INFO_RSP.build_hash: git revision of the sources, '+' if dirty */

}  // namespace hil

#endif /* HIL_HLS_MODEL_H */
