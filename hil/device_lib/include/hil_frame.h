/* hil_frame.h: the wire protocol's frame layer (COBS + CRC-16 + header).
 *
 * Portable C99, no malloc, no libc beyond <string.h>/<stdint.h>/<stddef.h>:
 * part of the device library (hil/device_lib/, C++ includes it as-is). Constants and payload offsets come from the generated
 * hil_protocol.h; the decode rules are spec.DECODE_RULES and are held to the
 * Python codec by tests/vectors/protocol_frames.json.
 *
 * hil_device.c does all of what follows for the hil requests; by hand it is:
 *
 *   static hil_frame_rx_t rx;          // hil_frame_rx_init(&rx) once
 *   static uint8_t tx[HIL_FRAME_MAX_WIRE], rsp[HIL_MAX_PAYLOAD];
 *   hil_frame_t f;
 *   int r = hil_frame_rx_byte(&rx, uart_getc(), &f);
 *   if (r == HIL_RX_FRAME) {
 *       // f.version != HIL_PROTO_VERSION -> hil_frame_encode_error(f.seq, HIL_ERR_BAD_VERSION, ...)
 *       // switch (f.type): parse f.payload with hil_get_*() at HIL_<MSG>_OFF_*,
 *       // fill rsp with hil_put_*(), then
 *       size_t n = hil_frame_encode(f.type | 0x80u, f.seq, rsp, rsp_len, tx, sizeof tx);
 *       uart_write(tx, n);
 *   } else if (r != HIL_RX_MORE) {     // r is a HIL_ERR_* code
 *       uart_write(tx, hil_frame_encode_error(HIL_SEQ_NONE, (uint8_t)r, 0u, 0u, tx, sizeof tx));
 *   }
 */
#ifndef HIL_FRAME_H
#define HIL_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "hil_protocol.h"

#ifdef __cplusplus
extern "C" {
#endif

/* hil_frame_rx_byte() results; any other value is a HIL_ERR_* code (1..255). */
#define HIL_RX_MORE 0    /* no complete frame yet: feed more bytes */
#define HIL_RX_FRAME 256 /* *out holds a CRC-checked frame */

typedef struct hil_frame {
    uint8_t version;        /* reported, not checked: the dispatcher answers BAD_VERSION */
    uint8_t type;
    uint16_t seq;
    uint16_t len;           /* payload length, 0..HIL_MAX_PAYLOAD */
    const uint8_t *payload; /* points into the rx context: valid until the next hil_frame_rx_byte() */
} hil_frame_t;

/* Receiver state; treat as opaque. About HIL_FRAME_MAX_RAW + 8 bytes. */
typedef struct hil_frame_rx {
    uint8_t buf[HIL_FRAME_MAX_RAW]; /* decoded header + payload + crc */
    uint16_t enc_len;               /* encoded bytes since the last delimiter, saturating */
    uint16_t dec_len;               /* decoded bytes; only the first HIL_FRAME_MAX_RAW are stored */
    uint8_t block_left;             /* data bytes still due in the current COBS block */
    uint8_t block_code;             /* code byte of the current block, 0 before the first */
} hil_frame_rx_t;

/* CRC-16/CCITT-FALSE: start with crc = HIL_CRC16_INIT; chain calls over split data. */
uint16_t hil_crc16(uint16_t crc, const uint8_t *data, size_t len);

/* Reset the receiver (also how it starts). Safe to call at any time. */
void hil_frame_rx_init(hil_frame_rx_t *rx);

/* Feed one received byte. Returns HIL_RX_MORE, HIL_RX_FRAME (with *out filled)
 * or a HIL_ERR_* code for a bad chunk (the receiver is already resynchronised:
 * just keep feeding). A 0x00 ends every frame; 0x00 0x00 yields nothing. */
int hil_frame_rx_byte(hil_frame_rx_t *rx, uint8_t byte, hil_frame_t *out);

/* Encode one frame (COBS + trailing 0x00) into out. payload may be NULL when
 * len is 0 and must not overlap out. Returns bytes written, or 0 if
 * len > HIL_MAX_PAYLOAD or out_cap is too small (HIL_FRAME_MAX_WIRE always fits). */
size_t hil_frame_encode(uint8_t type, uint16_t seq, const uint8_t *payload, uint16_t len,
                        uint8_t *out, size_t out_cap);

/* Encode an ERROR frame: the one response to a failed request. Use seq
 * HIL_SEQ_NONE and request_type 0 for chunks rx_byte rejected. Returns bytes written or 0. */
size_t hil_frame_encode_error(uint16_t seq, uint8_t code, uint8_t request_type, uint32_t detail,
                              uint8_t *out, size_t out_cap);

/* Little-endian field access at the HIL_<MSG>_OFF_* offsets (no alignment needed). */
static inline void hil_put_u16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void hil_put_u32(uint8_t *p, uint32_t v) { hil_put_u16(p, (uint16_t)v); hil_put_u16(p + 2, (uint16_t)(v >> 16)); }
static inline void hil_put_u64(uint8_t *p, uint64_t v) { hil_put_u32(p, (uint32_t)v); hil_put_u32(p + 4, (uint32_t)(v >> 32)); }
static inline uint16_t hil_get_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t hil_get_u32(const uint8_t *p) { return hil_get_u16(p) | ((uint32_t)hil_get_u16(p + 2) << 16); }
static inline uint64_t hil_get_u64(const uint8_t *p) { return hil_get_u32(p) | ((uint64_t)hil_get_u32(p + 4) << 32); }

#ifdef __cplusplus
}
#endif

#endif /* HIL_FRAME_H */
