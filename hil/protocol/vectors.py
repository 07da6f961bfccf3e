"""Shared frame vectors: byte streams with the decode result every parser must give.

    python -m hil.protocol.vectors --write   # regenerate tests/vectors/protocol_frames.json
    python -m hil.protocol.vectors --check   # exit 1 if it is stale

Expectations are written down per case (not computed by the decoder), so the
Python codec and the C frame layer are both tested against them.
"""

import argparse
import hashlib
import json
import logging
import struct
import sys
from pathlib import Path

from hil.protocol import spec
from hil.protocol.codec import ERROR_CODES, LAYOUTS, cobs_encode, crc16, encode_frame, pack_payload
from hil.protocol.spec_hash import spec_hash, spec_hash32

VECTORS_PATH = Path(__file__).resolve().parents[2] / "tests" / "vectors" / "protocol_frames.json"
log = logging.getLogger(__name__)
_V = spec.PROTOCOL_VERSION
_IDS = {lay.name: lay.id for lay in LAYOUTS.values()}


def _code(table, name):
    return next(value for n, value, _ in table if n == name)


# One realistic field set per message: a KWS DS-CNN on the QEMU twin.
SAMPLES = {
    "PING": {},
    "PING_RSP": {"proto_version": _V, "max_payload": spec.MAX_PAYLOAD, "spec_hash32": spec_hash32()},
    "INFO": {},
    "INFO_RSP": {"fw_version": "0.1.0", "build_hash": "da1f35d+", "board": "qemu-netduinoplus2",
                 "clock_hz": 168_000_000, "counter_kind": _code(spec.COUNTER_KINDS, "SYSTICK_ICOUNT"),
                 "run_modes": 0x0F, "model_count": 2},
    "MODEL_INFO": {"model_id": 1},
    "MODEL_INFO_RSP": {"model_id": 1, "name": "kws_dscnn", "model_hash": hashlib.sha256(b"kws_dscnn").digest(),
                       "in_dtype": 1, "in_ndim": 3, "in_dims": (1, 49, 10, 0), "in_bytes": 490,
                       "out_dtype": 1, "out_ndim": 1, "out_dims": (12, 0, 0, 0), "out_bytes": 12,
                       "layer_count": 11, "macs": 2_656_768},
    "LAYER_INFO": {"model_id": 1, "layer": 3},
    "LAYER_INFO_RSP": {"model_id": 1, "layer": 3, "op": _code(spec.OPS, "depthwise_conv2d"), "name": "dw2",
                       "out_dtype": 1, "out_ndim": 3, "out_dims": (64, 25, 5, 0), "out_bytes": 8000, "macs": 72_000},
    "LOAD_INPUT": {"model_id": 1, "total": 490, "offset": 0, "data": bytes((i * 37) % 256 for i in range(490))},
    "LOAD_INPUT_RSP": {"model_id": 1, "total": 490, "filled": 490},
    "INFER": {"model_id": 1, "mode": _code(spec.RUN_MODES, "LAYER_COUNTS"), "repeat": 1},
    "INFER_RSP": {"model_id": 1, "mode": 1, "counter_kind": 3, "repeat": 1, "layer_count": 11, "out_bytes": 12,
                  "total_sum": 5_123_456, "total_min": 5_123_456, "total_max": 5_123_456,
                  "output": bytes([0x80, 0x85, 0x00, 0x7F, 0x01, 0xFF, 0x90, 0x80, 0x81, 0x00, 0x00, 0x10])},
    "READ_TENSOR": {"tensor": _code(spec.SPECIAL_TENSORS, "LAYER_COUNTS"), "offset": 0},
    "READ_TENSOR_RSP": {"model_id": 1, "tensor": 0xFFFE, "dtype": _code(spec.DTYPES, "uint32"), "total": 44,
                        "offset": 0, "data": struct.pack("<11I", *(1000 * (i + 1) ** 2 for i in range(11)))},
    "FAULT": {"exception": 3, "cfsr": 0x00008200, "hfsr": 0x40000000, "mmfar": 0xE000EDF8, "bfar": 0x30000000,
              "pc": 0x08000A3C, "lr": 0x08000B11},
    "ERROR": {"code": ERROR_CODES["WRONG_INPUT_SIZE"], "request_type": _IDS["LOAD_INPUT"], "detail": 490},
}


def _json_value(value):
    return value.hex() if isinstance(value, bytes) else list(value) if isinstance(value, tuple) else value


def _raw(type_, seq, payload, length=None, version=_V):
    """Header + payload + CRC before COBS; `length` overrides the header field."""
    body = struct.pack("<BBHH", version, type_, seq, len(payload) if length is None else length) + payload
    return body + struct.pack("<H", crc16(body))


def _frame(type_, seq, payload, version=_V, message=None):
    event = {"frame": {"version": version, "type": type_, "seq": seq, "payload": payload.hex()}}
    if message:
        event["message"] = message
        event["fields"] = {k: _json_value(v) for k, v in SAMPLES[message].items()}
    return event


def _error(name):
    return {"error": name, "code": ERROR_CODES[name]}


def _mid_block_cut(encoded: bytes) -> int:
    """An index inside the last COBS block with at least 2 data bytes, so a cut there is BAD_COBS."""
    i, cut = 0, None
    while i < len(encoded):
        if encoded[i] >= 3:
            cut = i + 2
        i += encoded[i]
    return cut


def _cases() -> list[dict]:
    cases = []

    def add(name, description, stream, expect, roundtrip=False):
        cases.append({"name": name, "description": description, "stream": stream.hex(),
                      "expect": expect, "roundtrip": roundtrip})

    for index, lay in enumerate(LAYOUTS.values()):
        seq = 0x0100 + index  # on the wire: index byte then 0x01 (msg 0 puts a 0x00 in the header)
        payload = pack_payload(lay.name, SAMPLES[lay.name])
        add(f"msg_{lay.name}", f"good {lay.name} frame", encode_frame(lay.id, seq, payload),
            [_frame(lay.id, seq, payload, message=lay.name)], roundtrip=True)

    ping = encode_frame(_IDS["PING"], 0, b"")
    infer_rsp_payload = pack_payload("INFER_RSP", SAMPLES["INFER_RSP"])
    infer_rsp = encode_frame(_IDS["INFER_RSP"], 0x1234, infer_rsp_payload)
    good_infer_rsp = _frame(_IDS["INFER_RSP"], 0x1234, infer_rsp_payload, message="INFER_RSP")
    add("zero_length_payload", "PING seq 0: header and CRC only", ping,
        [_frame(_IDS["PING"], 0, b"", message="PING")], roundtrip=True)
    add("unknown_type", "the frame layer passes any type up; dispatch answers UNKNOWN_TYPE",
        encode_frame(0x42, 7, b"\x00\x01"), [_frame(0x42, 7, b"\x00\x01")], roundtrip=True)
    add("other_version", "the frame layer reports the version; the receiver answers BAD_VERSION",
        encode_frame(_IDS["PING"], 9, b"", version=2), [_frame(_IDS["PING"], 9, b"", version=2)], roundtrip=True)
    add("error_seq_none", "ERROR answering an undecodable frame uses SEQ_NONE",
        encode_frame(_IDS["ERROR"], spec.SEQ_NONE, struct.pack("<BBI", ERROR_CODES["BAD_CRC"], 0, 0)),
        [_frame(_IDS["ERROR"], spec.SEQ_NONE, struct.pack("<BBI", ERROR_CODES["BAD_CRC"], 0, 0))], roundtrip=True)
    for n in (0, 1, 252, 253, 254, 500, spec.MAX_PAYLOAD):
        payload = bytes(0xA5 for _ in range(n))
        add(f"nonzero_payload_{n}", "runs of non-zero bytes across COBS 254-byte block boundaries",
            encode_frame(0x7E, 0x0101, payload), [_frame(0x7E, 0x0101, payload)], roundtrip=True)
    payload = bytes(spec.MAX_PAYLOAD)
    add("zero_payload_max", "MAX_PAYLOAD zero bytes: one COBS block per byte",
        encode_frame(0x7E, 0x0202, payload), [_frame(0x7E, 0x0202, payload)], roundtrip=True)

    add("two_frames_back_to_back", "no gap between frames", ping + infer_rsp,
        [_frame(_IDS["PING"], 0, b"", message="PING"), good_infer_rsp])
    add("leading_and_trailing_delimiters", "empty chunks (0x00 0x00) are ignored",
        b"\x00\x00\x00" + ping + b"\x00\x00", [_frame(_IDS["PING"], 0, b"", message="PING")])
    add("trailing_partial_frame", "bytes after the last delimiter stay pending: no event",
        ping + infer_rsp[:5], [_frame(_IDS["PING"], 0, b"", message="PING")])
    add("garbage_prefix_resync", "ASCII noise, a delimiter, then a frame", b"hello world\r\n\x00" + ping,
        [_error("BAD_COBS"), _frame(_IDS["PING"], 0, b"", message="PING")])
    add("garbage_glued_to_frame", "a complete COBS block of noise without delimiter spoils the next frame",
        b"\x02\x41" + ping + ping, [_error("BAD_CRC"), _frame(_IDS["PING"], 0, b"", message="PING")])
    cut = _mid_block_cut(infer_rsp[:-1])
    add("half_frame_then_resync", "frame cut mid-block by an earlier run, host sends 0x00 then a frame",
        infer_rsp[:cut] + b"\x00" + infer_rsp, [_error("BAD_COBS"), good_infer_rsp])
    add("half_frame_no_resync", "without the 0x00 the half frame swallows the next one",
        infer_rsp[:cut] + infer_rsp + ping, [_error("BAD_COBS"), _frame(_IDS["PING"], 0, b"", message="PING")])
    add("truncated_mid_block", "encoded frame cut inside a COBS block", infer_rsp[:cut] + b"\x00",
        [_error("BAD_COBS")])
    raw = _raw(_IDS["INFER_RSP"], 0x1234, infer_rsp_payload)
    add("truncated_raw", "frame whose last 3 raw bytes were lost before encoding",
        cobs_encode(raw[:-3]) + b"\x00", [_error("BAD_CRC")])
    add("truncated_runt", "only 5 raw bytes: shorter than header + CRC",
        cobs_encode(raw[:5]) + b"\x00", [_error("BAD_LENGTH")])
    add("runt_single_byte", "one-byte chunk", b"\x02\x05\x00", [_error("BAD_LENGTH")])
    add("encoded_empty_frame", "0x01 decodes to zero bytes", b"\x01\x00", [_error("BAD_LENGTH")])
    bad = bytearray(raw)
    bad[10] ^= 0x04
    add("bad_crc_payload_bit", "one payload bit flipped, COBS still valid", cobs_encode(bytes(bad)) + b"\x00",
        [_error("BAD_CRC")])
    bad = bytearray(raw)
    bad[-1] ^= 0x80
    add("bad_crc_stored_bit", "one bit of the stored CRC flipped", cobs_encode(bytes(bad)) + b"\x00",
        [_error("BAD_CRC")])
    add("bad_length_field", "CRC is right but header length says one byte more",
        cobs_encode(_raw(_IDS["PING"], 3, b"\x01\x02", length=3)) + b"\x00", [_error("BAD_LENGTH")])
    big = b"\x11" * (spec.MAX_PAYLOAD + 88)
    add("over_long_payload", "well-formed frame with a 600-byte payload: too long encoded",
        cobs_encode(_raw(0x7E, 4, big)) + b"\x00", [_error("PAYLOAD_TOO_LARGE")])
    add("over_long_then_frame", "the decoder recovers after discarding an over-long frame",
        cobs_encode(_raw(0x7E, 4, big)) + b"\x00" + ping,
        [_error("PAYLOAD_TOO_LARGE"), _frame(_IDS["PING"], 0, b"", message="PING")])
    add("over_long_encoded_by_one", "MAX_FRAME_ENCODED + 1 bytes before the delimiter",
        b"\x01" * (spec.MAX_FRAME_ENCODED + 1) + b"\x00", [_error("PAYLOAD_TOO_LARGE")])
    add("over_long_decoded", "MAX_FRAME_ENCODED bytes of 0x01 decode to MAX_FRAME_RAW + 2 zeros",
        b"\x01" * spec.MAX_FRAME_ENCODED + b"\x00", [_error("PAYLOAD_TOO_LARGE")])
    add("garbage_long_line", "2 KB without a delimiter, then one: one fault, memory stays capped",
        bytes(range(1, 256)) * 8 + b"\x00" + ping,
        [_error("PAYLOAD_TOO_LARGE"), _frame(_IDS["PING"], 0, b"", message="PING")])
    return cases


def render_vectors() -> str:
    """Text of tests/vectors/protocol_frames.json."""
    doc = {
        "generated_by": "python -m hil.protocol.vectors --write (from hil/protocol/spec.py); do not edit",
        "spec_hash": spec_hash(),
        "format": "stream: hex bytes fed to a fresh decoder; expect: events in order "
                  "(frame or error); roundtrip: stream == encode_frame(expect[0].frame)",
        "cases": _cases(),
    }
    return json.dumps(doc, indent=1) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", action="store_true", help="rewrite the vectors file")
    group.add_argument("--check", action="store_true", help="exit 1 if the vectors file is stale")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    text = render_vectors()
    if args.check:
        if not VECTORS_PATH.exists() or VECTORS_PATH.read_text() != text:
            log.error("stale: %s (run: python -m hil.protocol.vectors --write)", VECTORS_PATH)
            return 1
        return 0
    VECTORS_PATH.parent.mkdir(parents=True, exist_ok=True)
    VECTORS_PATH.write_text(text)
    log.info("wrote %s", VECTORS_PATH)
    return 0


if __name__ == "__main__":
    sys.exit(main())
