/* hil_device.h: the device side of the hil wire protocol, one dispatcher for every target.
 *
 * Portable C99, no malloc, no board #ifdef: bytes in -> frames (hil_frame.c)
 * -> requests checked in the order docs/protocol.md gives -> one response
 * frame out. What differs between targets is behind hil_dev_backend_t: the
 * model table and its descriptors, running a model (with a per-layer hook
 * for counts), the counter kind, layer read-out, board identity and where
 * response bytes go. The STM32 firmware, the fpga-sim program and a lab's own
 * firmware (docs/own-firmware.md) each provide one backend and link the same
 * hil_device.c; hil/boards/sim.py is the executable reference they are all
 * held to by tests/board/.
 *
 *   static uint8_t input[MAX_IN], output[MAX_OUT], counts[HIL_DEV_COUNTS_BYTES(MAX_LAYERS)];
 *   static hil_device_t dev;
 *   hil_dev_buffers_t buf = {input, sizeof input, output, sizeof output, counts, MAX_LAYERS};
 *   hil_device_init(&dev, &my_backend, &buf);
 *   for (;;) { uint8_t b = uart_getc(); hil_device_feed(&dev, &b, 1); }
 */
#ifndef HIL_DEVICE_H
#define HIL_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#include "hil_frame.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes of the per-layer count buffer for max_layers layers (uint32 little-endian each). */
#define HIL_DEV_COUNTS_BYTES(max_layers) (4u * (uint32_t)(max_layers))

/* A tensor as the wire describes it (MODEL_INFO_RSP / LAYER_INFO_RSP). */
typedef struct {
    uint8_t dtype;                 /* HIL_DTYPE_* */
    uint8_t ndim;                  /* 1..HIL_MAX_DIMS */
    uint16_t dims[HIL_MAX_DIMS];   /* CHW, batch dropped, unused dims 0 */
    uint32_t bytes;                /* whole tensor in bytes, as sent over the wire */
} hil_dev_tensor_t;

typedef struct {
    const char *name;              /* model registry name (up to 24 chars are sent) */
    const uint8_t *hash;           /* 32 bytes: sha256 digest of the qmodel artifact */
    hil_dev_tensor_t in;           /* the input the host loads with LOAD_INPUT */
    hil_dev_tensor_t out;
    uint16_t layer_count;          /* >= 1; a black-box engine may report itself as one layer */
    uint32_t macs;
} hil_dev_model_t;

typedef struct {
    const char *name;              /* up to 16 chars are sent */
    uint8_t op;                    /* HIL_OP_*, HIL_OP_OTHER for anything else */
    hil_dev_tensor_t out;
    uint32_t macs;
} hil_dev_layer_t;

typedef struct {
    const char *fw_version;        /* up to 16 chars */
    const char *build_hash;        /* up to 20 chars: source revision, '+' if dirty */
    const char *board;             /* up to 24 chars */
    uint32_t clock_hz;             /* 0 if not meaningful */
    uint8_t counter_kind;          /* HIL_COUNTER_* of every count run() reports */
    uint8_t run_modes;             /* bit HIL_MODE_x set = mode x supported; OUTPUTS is required */
    uint8_t model_count;
} hil_dev_identity_t;

/* The per-layer hook: run() calls it after each layer with the counter
 * value that layer took (only when the library passes a hook, i.e. in
 * LAYER_COUNTS and LAYER_TENSORS modes). */
typedef void (*hil_dev_layer_hook_t)(void *hook_ctx, uint16_t layer, uint32_t count);

/* What a target provides. Every function gets `ctx` back. Model ids and
 * layer indices passed in are already range-checked against identity() and
 * model(). A nonzero uint32_t return is a failure: the host gets ERROR
 * INTERNAL with that value as detail (make the values unique per cause). */
typedef struct hil_dev_backend {
    void *ctx;
    void (*identity)(void *ctx, hil_dev_identity_t *out);
    /* Fill *out for model id; 0 or an INTERNAL detail. */
    uint32_t (*model)(void *ctx, uint8_t id, hil_dev_model_t *out);
    uint32_t (*layer)(void *ctx, uint8_t id, uint16_t layer, hil_dev_layer_t *out);
    /* One inference: input holds model.in.bytes, output receives model.out.bytes
     * (wire format: little-endian for multi-byte dtypes). *count receives the
     * whole-model counter value (0 with HIL_COUNTER_NONE). hook may be NULL.
     * mode is the request's run mode (LAYER_TENSORS: keep what layer_tensor() needs). */
    uint32_t (*run)(void *ctx, uint8_t id, uint8_t mode, const uint8_t *input, uint8_t *output,
                    hil_dev_layer_hook_t hook, void *hook_ctx, uint64_t *count);
    /* Layer `layer`'s output of the last LAYER_TENSORS run on `input`
     * (layer.out.bytes bytes): *data points at it until the next backend call.
     * May be NULL if run_modes lacks LAYER_TENSORS. */
    uint32_t (*layer_tensor)(void *ctx, uint8_t id, uint16_t layer, const uint8_t *input,
                             const uint8_t **data);
    /* Send bytes to the host (UART, socket). */
    void (*write)(void *ctx, const uint8_t *data, size_t len);
    /* Optional (may be NULL): a request type the protocol does not define,
     * e.g. a test-build request. Return -1 if not handled (the host gets
     * UNKNOWN_TYPE), 0 with rsp/rsp_len filled for a (type | 0x80) response,
     * or a HIL_ERR_* code with *detail. */
    int (*extra_request)(void *ctx, const hil_frame_t *f, uint8_t *rsp, uint16_t *rsp_len, uint32_t *detail);
} hil_dev_backend_t;

/* Memory the caller owns; sizes are checked on every request (too small: ERROR INTERNAL 1/2). */
typedef struct {
    uint8_t *input;                /* >= the largest model's in.bytes */
    uint32_t input_cap;
    uint8_t *output;               /* >= the largest model's out.bytes */
    uint32_t output_cap;
    uint8_t *counts;               /* HIL_DEV_COUNTS_BYTES(max_layers) */
    uint16_t max_layers;           /* >= the largest layer_count */
} hil_dev_buffers_t;

/* Device state: treat as opaque. About 1.6 KB (one frame in, one out). */
typedef struct hil_device {
    const hil_dev_backend_t *be;
    hil_dev_buffers_t buf;
    hil_frame_rx_t rx;
    uint8_t rsp[HIL_MAX_PAYLOAD];
    uint8_t tx[HIL_FRAME_MAX_WIRE];
    int input_model;               /* model of the input being loaded, -1 none */
    uint32_t filled;               /* contiguous input bytes from 0 */
    int result_model;              /* model of the last successful INFER, -1 none */
    uint8_t result_mode;
    uint16_t seq;                  /* seq of the request being handled, HIL_SEQ_NONE between requests */
    uint32_t answered;             /* frames sent */
} hil_device_t;

void hil_device_init(hil_device_t *dev, const hil_dev_backend_t *backend, const hil_dev_buffers_t *buffers);

/* Bytes from the host, in order; every complete request gets exactly one response. */
void hil_device_feed(hil_device_t *dev, const uint8_t *data, size_t len);

/* A new host connection: forget any half frame (device state is kept, as on a real board). */
void hil_device_reset_link(hil_device_t *dev);

/* Seq of the request being handled (HIL_SEQ_NONE if none): a fault handler
 * puts it in its FAULT frame so the host knows which request died. */
uint16_t hil_device_current_seq(const hil_device_t *dev);

/* Largest INFER repeat accepted for a model of `macs` MACs (>= 1):
 * min(HIL_MAX_INFER_REPEAT, HIL_MAX_INFER_MACS / macs); above it INFER is
 * refused with REPEAT_TOO_LARGE (detail = this value) before anything runs. */
uint32_t hil_device_max_repeat(uint32_t macs);

#ifdef __cplusplus
}
#endif

#endif /* HIL_DEVICE_H */
