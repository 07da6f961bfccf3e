/* hil_frame.c: COBS + CRC-16 framing, byte-at-a-time receiver and encoder.
 * Decode rules and their order are spec.DECODE_RULES (hil/protocol/spec.py);
 * tests/test_protocol_c.py checks this file against the Python codec. */
#include "hil_frame.h"

#include <string.h>

uint16_t hil_crc16(uint16_t crc, const uint8_t *data, size_t len)
{
    /* Bitwise, no table: 520 bytes x 8 shifts is noise next to an inference,
     * and it saves 512 bytes of flash. */
    size_t i;
    int bit;
    for (i = 0; i < len; i++) {
        crc ^= (uint16_t)(data[i] << 8);
        for (bit = 0; bit < 8; bit++) {
            crc = (crc & 0x8000u) ? (uint16_t)((crc << 1) ^ HIL_CRC16_POLY) : (uint16_t)(crc << 1);
        }
    }
    return (uint16_t)(crc ^ HIL_CRC16_XOROUT);
}

void hil_frame_rx_init(hil_frame_rx_t *rx)
{
    rx->enc_len = 0;
    rx->dec_len = 0;
    rx->block_left = 0;
    rx->block_code = 0;
}

static void rx_put(hil_frame_rx_t *rx, uint8_t byte)
{
    /* Count past the buffer instead of stopping, so rule 4 sees the true length. */
    if (rx->dec_len < HIL_FRAME_MAX_RAW) {
        rx->buf[rx->dec_len] = byte;
    }
    rx->dec_len++;
}

static int rx_finish(hil_frame_rx_t *rx, hil_frame_t *out)
{
    uint16_t enc_len = rx->enc_len, dec_len = rx->dec_len, body_len;
    uint8_t block_left = rx->block_left;
    hil_frame_rx_init(rx); /* whatever the verdict, the next byte starts a new frame */

    if (enc_len == 0) {
        return HIL_RX_MORE;
    }
    if (enc_len > HIL_FRAME_MAX_ENCODED) {
        return HIL_ERR_PAYLOAD_TOO_LARGE;
    }
    if (block_left != 0) {
        return HIL_ERR_BAD_COBS;
    }
    if (dec_len > HIL_FRAME_MAX_RAW) {
        return HIL_ERR_PAYLOAD_TOO_LARGE;
    }
    if (dec_len < HIL_HEADER_LEN + HIL_CRC_LEN) {
        return HIL_ERR_BAD_LENGTH;
    }
    body_len = (uint16_t)(dec_len - HIL_CRC_LEN);
    if (hil_crc16(HIL_CRC16_INIT, rx->buf, body_len) != hil_get_u16(rx->buf + body_len)) {
        return HIL_ERR_BAD_CRC;
    }
    if (hil_get_u16(rx->buf + HIL_HDR_OFF_LENGTH) != body_len - HIL_HEADER_LEN) {
        return HIL_ERR_BAD_LENGTH;
    }
    out->version = rx->buf[HIL_HDR_OFF_VERSION];
    out->type = rx->buf[HIL_HDR_OFF_TYPE];
    out->seq = hil_get_u16(rx->buf + HIL_HDR_OFF_SEQ);
    out->len = (uint16_t)(body_len - HIL_HEADER_LEN);
    out->payload = rx->buf + HIL_HEADER_LEN;
    return HIL_RX_FRAME;
}

int hil_frame_rx_byte(hil_frame_rx_t *rx, uint8_t byte, hil_frame_t *out)
{
    if (byte == HIL_DELIMITER) {
        return rx_finish(rx, out);
    }
    if (rx->enc_len <= HIL_FRAME_MAX_ENCODED) {
        rx->enc_len++; /* saturates at MAX + 1: enough to know the frame is too long */
    }
    if (rx->enc_len > HIL_FRAME_MAX_ENCODED) {
        return HIL_RX_MORE; /* discard until the delimiter */
    }
    if (rx->block_left == 0) {
        /* A code byte. The previous block ended in an implied zero unless it
         * was a full 0xFF block; it is only written now that more data follows. */
        if (rx->block_code != 0 && rx->block_code != 0xFFu) {
            rx_put(rx, 0);
        }
        rx->block_code = byte;
        rx->block_left = (uint8_t)(byte - 1u);
    } else {
        rx_put(rx, byte);
        rx->block_left--;
    }
    return HIL_RX_MORE;
}

/* COBS encoder that writes straight into the output, so no raw frame buffer is needed. */
typedef struct {
    uint8_t *out;
    size_t n;        /* bytes written so far */
    size_t code_pos; /* where the current block's code byte goes */
    uint8_t code;    /* 1 + data bytes in the current block */
} cobs_enc_t;

static void enc_start_block(cobs_enc_t *e)
{
    e->code_pos = e->n++;
    e->code = 1;
}

static void enc_byte(cobs_enc_t *e, uint8_t byte)
{
    if (byte == 0) {
        e->out[e->code_pos] = e->code;
        enc_start_block(e);
        return;
    }
    e->out[e->n++] = byte;
    if (++e->code == 0xFFu) { /* 254 data bytes: close the block, no implied zero */
        e->out[e->code_pos] = e->code;
        enc_start_block(e);
    }
}

static void enc_bytes(cobs_enc_t *e, const uint8_t *data, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++) {
        enc_byte(e, data[i]);
    }
}

size_t hil_frame_encode(uint8_t type, uint16_t seq, const uint8_t *payload, uint16_t len,
                        uint8_t *out, size_t out_cap)
{
    uint8_t head[HIL_HEADER_LEN], crc_bytes[HIL_CRC_LEN];
    size_t raw_len = (size_t)HIL_HEADER_LEN + len + HIL_CRC_LEN;
    uint16_t crc;
    cobs_enc_t e;

    /* Worst-case COBS size + delimiter; checked up front so encoding never overruns. */
    if (len > HIL_MAX_PAYLOAD || out_cap < raw_len + raw_len / HIL_COBS_MAX_BLOCK + 2u) {
        return 0;
    }
    head[HIL_HDR_OFF_VERSION] = (uint8_t)HIL_PROTO_VERSION;
    head[HIL_HDR_OFF_TYPE] = type;
    hil_put_u16(head + HIL_HDR_OFF_SEQ, seq);
    hil_put_u16(head + HIL_HDR_OFF_LENGTH, len);
    crc = hil_crc16(HIL_CRC16_INIT, head, sizeof head);
    crc = hil_crc16(crc, payload, len);
    hil_put_u16(crc_bytes, crc);

    e.out = out;
    e.n = 0;
    enc_start_block(&e);
    enc_bytes(&e, head, sizeof head);
    enc_bytes(&e, payload, len);
    enc_bytes(&e, crc_bytes, sizeof crc_bytes);
    e.out[e.code_pos] = e.code;
    e.out[e.n++] = HIL_DELIMITER;
    return e.n;
}

size_t hil_frame_encode_error(uint16_t seq, uint8_t code, uint8_t request_type, uint32_t detail,
                              uint8_t *out, size_t out_cap)
{
    uint8_t payload[HIL_ERROR_LEN];
    memset(payload, 0, sizeof payload);
    payload[HIL_ERROR_OFF_CODE] = code;
    payload[HIL_ERROR_OFF_REQUEST_TYPE] = request_type;
    hil_put_u32(payload + HIL_ERROR_OFF_DETAIL, detail);
    return hil_frame_encode((uint8_t)HIL_MSG_ERROR, seq, payload, (uint16_t)sizeof payload, out, out_cap);
}
