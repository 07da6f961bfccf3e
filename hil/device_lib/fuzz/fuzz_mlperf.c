/* fuzz_mlperf.c: libFuzzer harness for the MLPerf Tiny text front end (hil_mlperf.c) in front of
 * the dispatcher and the test backend. It holds the library to the rule of docs/protocol.md
 * ("Two protocols on one port"), re-implemented here: a text command is a chunk (bytes since the
 * last 0x00 or text command) of >= 1 byte, only printable ASCII or CR/LF, ended by '%'.
 *   - every text command gets text only (printable, CR, LF; never 0x00) ending in exactly one
 *     "m-ready\r\n", and nothing else writes text;
 *   - every binary frame or bad chunk the rule leaves to the dispatcher gets exactly one
 *     well-formed response frame, as in fuzz_dispatch.
 * An input is a raw byte stream or, starting with STRUCTURED (0xA5), a list of items: [0x01][len
 * u8][text] sends text + '%'; any other first byte: [type u8][len u16 LE][payload] sends
 * 0x00 + a framed request (the harness computes COBS and CRC). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_NAME "fuzz_mlperf"
#include "fuzz_check.h"
#include "hil_device.h"
#include "hil_mlperf.h"
#include "test_backend.h"

static const hil_mlperf_model_t TABLE[] = {
    {"test_tiny", "ad01", 0.001f, 0},
    {"test_kws_shape", "kws01", 0.25f, 3},
};

static hil_device_t dev;
static hil_mlperf_t mp;
static hil_frame_rx_t mirror_rx;
static uint8_t outbuf[1u << 16];
static size_t outlen;
static uint16_t chunk_len;
static int chunk_text;

static void sink(void *ctx, const uint8_t *data, size_t len)
{
    (void)ctx;
    for (size_t i = 0; i < len && outlen < sizeof outbuf; ++i)
        outbuf[outlen++] = data[i];
}

static int is_text(uint8_t b)
{
    return (b >= 0x20u && b <= 0x7Eu) || b == '\r' || b == '\n';
}

/* What the device wrote for one byte: text for a text command, else frames. */
static void check_output(int text_command, int frame_events)
{
    if (text_command) {
        static const char ready[] = "m-ready\r\n";
        const size_t r = sizeof ready - 1u;
        CHECK(outlen >= r && memcmp(outbuf + outlen - r, ready, r) == 0);
        for (size_t i = 0; i < outlen; ++i)
            CHECK(is_text(outbuf[i]));
        for (size_t i = 0; i + r < outlen; ++i)
            CHECK(memcmp(outbuf + i, ready, r) != 0);   /* m-ready once, at the end */
        CHECK(outlen >= 5u && (outbuf[0] == 'm' || outbuf[0] == 'e') && outbuf[1] == '-');
    } else {
        hil_frame_rx_t host_rx;
        int frames = 0;
        hil_frame_rx_init(&host_rx);
        for (size_t i = 0; i < outlen; ++i) {
            hil_frame_t f;
            int r = hil_frame_rx_byte(&host_rx, outbuf[i], &f);
            CHECK(r == HIL_RX_MORE || r == HIL_RX_FRAME);
            frames += r == HIL_RX_FRAME;
        }
        CHECK(frames == frame_events);
        CHECK(outlen == 0u || outbuf[outlen - 1u] == 0x00u);
    }
    outlen = 0u;
}

static void feed_byte(uint8_t b)
{
    int text_command = 0, events = 0;
    if (b == '%' && chunk_text && chunk_len > 0u) {
        text_command = 1;
        chunk_len = 0u;
        chunk_text = 1;
        hil_frame_rx_init(&mirror_rx);
    } else {
        hil_frame_t f;
        events = hil_frame_rx_byte(&mirror_rx, b, &f) != HIL_RX_MORE;
        if (b == 0x00u) {
            chunk_len = 0u;
            chunk_text = 1;
        } else {
            chunk_text = chunk_text && is_text(b);
            chunk_len = chunk_len < UINT16_MAX ? (uint16_t)(chunk_len + 1u) : chunk_len;
        }
    }
    hil_mlperf_feed(&mp, &b, 1u);
    check_output(text_command, events);
}

#define STRUCTURED 0xA5u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t wire[HIL_FRAME_MAX_WIRE];
    test_backend_init(&dev, sink, NULL);
    hil_mlperf_init(&mp, &dev, TABLE, 2u, (size > 1u && (data[size - 1u] & 1u)) ? "test_kws_shape" : NULL);
    hil_frame_rx_init(&mirror_rx);
    chunk_len = 0u;
    chunk_text = 1;
    outlen = 0u;
    if (size > 0u && data[0] == STRUCTURED) {
        size_t i = 1u;
        for (uint16_t seq = 1u; i + 2u <= size; ++seq) {
            if (data[i] == 0x01u) {
                size_t len = data[i + 1u];
                i += 2u;
                len = len < size - i ? len : size - i;
                for (size_t k = 0; k < len; ++k)
                    feed_byte(data[i + k]);
                feed_byte('%');
                i += len;
            } else {
                if (i + 3u > size)
                    break;
                uint8_t type = data[i];
                size_t len = (size_t)(data[i + 1u] | data[i + 2u] << 8) % (HIL_MAX_PAYLOAD + 1u);
                i += 3u;
                len = len < size - i ? len : size - i;
                size_t n = hil_frame_encode(type, seq, data + i, (uint16_t)len, wire, sizeof wire);
                CHECK(n > 0u);
                feed_byte(0x00u);
                for (size_t k = 0; k < n; ++k)
                    feed_byte(wire[k]);
                i += len;
            }
        }
    } else {
        for (size_t i = 0; i < size; ++i)
            feed_byte(data[i]);
    }
    return 0;
}
