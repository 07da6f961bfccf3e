/* fuzz_dispatch.c: libFuzzer harness for the request dispatcher (hil_device.c)
 * behind the test backend. An input is either a raw byte stream from the host
 * or, when it starts with STRUCTURED (0xA5), a list of requests
 * [type u8][len u16 LE][payload] that the harness frames itself: the CRC
 * would otherwise keep the fuzzer from ever reaching a request's fields. Beyond
 * ASan/UBSan it checks the protocol's promises: every decoded request frame
 * and every undecodable chunk gets exactly one response, and every response is
 * a well-formed frame (CRC, length, type = request | 0x80 or ERROR) carrying
 * the request's seq (SEQ_NONE for chunks); a refused LOAD_INPUT or INFER leaves
 * the loaded input and the last results as they were; no INFER runs more than
 * hil_device_max_repeat() times. */
#include <stdio.h>
#include <stdlib.h>

#define FUZZ_NAME "fuzz_dispatch"
#include "fuzz_check.h"
#include "hil_device.h"
#include "test_backend.h"

static hil_device_t dev;
static hil_frame_rx_t host_rx;       /* decodes what the device sends */
static hil_frame_rx_t mirror_rx;     /* decodes what the host sent, as the device should */
static uint32_t responses;
static uint8_t expect_type;
static uint16_t expect_seq;
static uint8_t last_type;            /* type of the last response frame */
static uint8_t last_code;            /* its ERROR code (0 for other frames) */

typedef struct {
    int input_model, result_model;
    uint32_t filled;
    uint8_t result_mode;
} state_t;

static state_t state_of(const hil_device_t *d)
{
    state_t s = {d->input_model, d->result_model, d->filled, d->result_mode};
    return s;
}

static void sink(void *ctx, const uint8_t *data, size_t len)
{
    (void)ctx;
    for (size_t i = 0; i < len; ++i) {
        hil_frame_t f;
        int r = hil_frame_rx_byte(&host_rx, data[i], &f);
        CHECK(r == HIL_RX_MORE || r == HIL_RX_FRAME);   /* the device never sends a bad frame */
        if (r == HIL_RX_FRAME) {
            responses++;
            CHECK(f.version == HIL_PROTO_VERSION);
            CHECK(f.seq == expect_seq);
            CHECK(f.type == HIL_MSG_ERROR || f.type == (uint8_t)(expect_type | 0x80u));
            CHECK(f.len <= HIL_MAX_PAYLOAD);
            last_type = f.type;
            last_code = f.type == HIL_MSG_ERROR ? f.payload[HIL_ERROR_OFF_CODE] : 0u;
            if (f.type == (HIL_MSG_INFER | 0x80u))   /* the test backend's models have 1234 MACs */
                CHECK(hil_get_u16(f.payload + HIL_INFER_RSP_OFF_REPEAT) <= hil_device_max_repeat(1234u));
        }
    }
}

#define STRUCTURED 0xA5u

/* Feed bytes one at a time, checking one response per decoded frame or bad chunk. */
static void feed_stream(const uint8_t *data, size_t size, uint32_t *events)
{
    for (size_t i = 0; i < size; ++i) {
        hil_frame_t f;
        int r = hil_frame_rx_byte(&mirror_rx, data[i], &f);
        if (r == HIL_RX_FRAME) {
            expect_type = f.type;
            expect_seq = f.seq;
        } else if (r != HIL_RX_MORE) {
            expect_type = 0x7Fu;          /* only ERROR matches */
            expect_seq = HIL_SEQ_NONE;
        }
        *events += r != HIL_RX_MORE;
        state_t before = state_of(&dev);
        last_type = 0u;
        hil_device_feed(&dev, data + i, 1u);
        CHECK(responses == *events);
        /* (an INFER whose run failed, INTERNAL, has no valid results left to keep) */
        if (r == HIL_RX_FRAME && last_type == HIL_MSG_ERROR && last_code != HIL_ERR_INTERNAL
            && (f.type == HIL_MSG_LOAD_INPUT || f.type == HIL_MSG_INFER)) {
            state_t after = state_of(&dev);
            CHECK(after.input_model == before.input_model && after.filled == before.filled);
            CHECK(after.result_model == before.result_model && after.result_mode == before.result_mode);
        }
        CHECK(hil_device_current_seq(&dev) == HIL_SEQ_NONE);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t wire[HIL_FRAME_MAX_WIRE];
    hil_frame_rx_init(&host_rx);
    hil_frame_rx_init(&mirror_rx);
    test_backend_init(&dev, sink, NULL);
    uint32_t events = 0u;
    if (size > 0u && data[0] == STRUCTURED) {
        size_t i = 1u;
        for (uint16_t seq = 1u; i + 3u <= size; ++seq) {
            uint8_t type = data[i];
            size_t len = (size_t)(data[i + 1u] | data[i + 2u] << 8) % (HIL_MAX_PAYLOAD + 1u);
            i += 3u;
            len = len < size - i ? len : size - i;
            size_t n = hil_frame_encode(type, seq, data + i, (uint16_t)len, wire, sizeof wire);
            CHECK(n > 0u);
            feed_stream(wire, n, &events);
            i += len;
        }
    } else {
        feed_stream(data, size, &events);
    }
    responses = 0u;
    return 0;
}
