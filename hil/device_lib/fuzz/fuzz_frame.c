/* fuzz_frame.c: libFuzzer harness for the frame layer (hil_frame.c). Any input
 * is a received byte stream. Every frame the receiver accepts must re-encode
 * and decode to itself (round trip), and its fields must be in range; ASan and
 * UBSan watch the COBS and CRC code on every byte. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_NAME "fuzz_frame"
#include "fuzz_check.h"
#include "hil_frame.h"

static hil_frame_rx_t rx, rx2;
static uint8_t wire[HIL_FRAME_MAX_WIRE];
static uint8_t payload[HIL_MAX_PAYLOAD];

static void round_trip(const hil_frame_t *f)
{
    CHECK(f->len <= HIL_MAX_PAYLOAD);
    memcpy(payload, f->payload, f->len);
    size_t n = hil_frame_encode(f->type, f->seq, payload, f->len, wire, sizeof wire);
    CHECK(n > 1u && n <= HIL_FRAME_MAX_WIRE && wire[n - 1u] == HIL_DELIMITER);
    for (size_t i = 0; i + 1u < n; ++i)
        CHECK(wire[i] != HIL_DELIMITER);      /* COBS: no 0x00 inside a frame */
    hil_frame_rx_init(&rx2);
    hil_frame_t g;
    int r = HIL_RX_MORE;
    for (size_t i = 0; i < n; ++i) {
        r = hil_frame_rx_byte(&rx2, wire[i], &g);
        CHECK(i + 1u == n ? r == HIL_RX_FRAME : r == HIL_RX_MORE);
    }
    CHECK(g.type == f->type && g.seq == f->seq && g.len == f->len && g.version == HIL_PROTO_VERSION);
    CHECK(memcmp(g.payload, payload, f->len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hil_frame_rx_init(&rx);
    for (size_t i = 0; i < size; ++i) {
        hil_frame_t f;
        int r = hil_frame_rx_byte(&rx, data[i], &f);
        if (r == HIL_RX_FRAME)
            round_trip(&f);
        else
            CHECK(r == HIL_RX_MORE || (r >= (int)HIL_ERR_BAD_COBS && r <= (int)HIL_ERR_PAYLOAD_TOO_LARGE));
    }
    /* the error encoder on input-derived fields */
    if (size >= 8u) {
        uint32_t detail = (uint32_t)data[4] | (uint32_t)data[5] << 8 | (uint32_t)data[6] << 16 | (uint32_t)data[7] << 24;
        size_t n = hil_frame_encode_error((uint16_t)(data[0] | data[1] << 8), data[2], data[3], detail, wire, sizeof wire);
        CHECK(n > 0u);
    }
    return 0;
}
