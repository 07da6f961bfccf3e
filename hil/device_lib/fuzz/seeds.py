"""Seed corpus for the fuzz harnesses: `python -m hil.device_lib.fuzz.seeds OUT_DIR [VECTORS_JSON]`.

One file per case of tests/vectors/protocol_frames.json (every decode rule,
every message), the streams of tests/vectors/regressions/ (inputs that once
found a bug), and whole sessions against the test backend (LOAD_INPUT in
chunks, INFER in every mode, READ_TENSOR of every tensor) so the fuzzer starts
deep inside the dispatcher; each session also in fuzz_dispatch's structured
form, where the harness computes the CRC so mutations reach request fields.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from hil.protocol import codec, spec
from hil.protocol.limits import max_repeat

REPO = Path(__file__).resolve().parents[3]
VECTORS = REPO / "tests" / "vectors" / "protocol_frames.json"
REGRESSIONS = REPO / "tests" / "vectors" / "fuzz_regressions"


def _msg(name: str, seq: int, **fields) -> bytes:
    return codec.encode_message(name, seq, **fields)


def sessions() -> dict[str, bytes]:
    """Request streams a host would send to the test backend (fuzz/test_backend.c)."""
    out = {}
    for model_id, in_bytes in ((0, 4), (1, 490)):
        data = bytes((i * 37) % 256 for i in range(in_bytes))
        load = b"".join(_msg("LOAD_INPUT", 10 + k, model_id=model_id, total=in_bytes, offset=off,
                             data=data[off:off + 200])
                        for k, off in enumerate(range(0, in_bytes, 200)))
        for mode in range(4):
            reads = b"".join(_msg("READ_TENSOR", 40 + t, tensor=tensor, offset=0)
                             for t, tensor in enumerate((0xFFFF, 0xFFFE, 0, 1, 2, 3)))
            out[f"session_m{model_id}_mode{mode}"] = (
                _msg("PING", 1) + _msg("INFO", 2) + _msg("MODEL_INFO", 3, model_id=model_id)
                + _msg("LAYER_INFO", 4, model_id=model_id, layer=0) + load
                + _msg("INFER", 30, model_id=model_id, mode=mode, repeat=3 if mode == 3 else 1) + reads)
    out["extra_request"] = codec.encode_frame(0x70, 5)
    # Refusals that must keep state: after a complete input and an INFER, a LOAD_INPUT with a gap, one
    # running past the end, one at offset 0 that is too long, INFERs over the repeat cap; then READ OUTPUT.
    good = _msg("LOAD_INPUT", 1, model_id=0, total=4, offset=0, data=bytes(4)) + \
        _msg("INFER", 2, model_id=0, mode=1, repeat=1)
    out["refusals_keep_state"] = good + b"".join([
        _msg("LOAD_INPUT", 3, model_id=0, total=4, offset=5, data=b"\x01"),
        _msg("LOAD_INPUT", 4, model_id=0, total=4, offset=3, data=b"\x01\x02"),
        _msg("LOAD_INPUT", 5, model_id=0, total=4, offset=0, data=bytes(5)),
        _msg("INFER", 6, model_id=0, mode=3, repeat=spec.MAX_INFER_REPEAT + 1),
        _msg("INFER", 7, model_id=0, mode=3, repeat=0xFFFF),
        _msg("READ_TENSOR", 8, tensor=0xFFFF, offset=0),
        _msg("READ_TENSOR", 9, tensor=0xFFFE, offset=0),
        _msg("INFER", 10, model_id=0, mode=3, repeat=max_repeat(1234)),
    ])
    out.update(mlperf_sessions())
    return out


def mlperf_sessions() -> dict[str, bytes]:
    """MLPerf Tiny text sessions (fuzz_mlperf.c), alone and mixed with binary frames."""
    data = bytes((i * 37) % 256 for i in range(490))
    db = b"".join(b"db " + data[k:k + 31].hex().encode() + b"%" for k in range(0, 490, 31))
    text = (b"name%profile%help%db load 490%" + db + b"db print 16 8%infer 2 1%results%timestamp%"
            + b"infer 1 0%")
    errors = (b"bogus%" + b"x" * 90 + b"%db 00%db load 4%db 0g%db 0011223344%infer 1 0%db load 0%"
              + b"infer x%db print 99%")
    ping = b"\x00" + _msg("PING", 1)
    return {"mlperf_text": text, "mlperf_errors": errors, "mlperf_mixed": ping + text + ping + errors + ping,
            "mlperf_percent_in_frame": b"\x00" + _msg("LOAD_INPUT", 7, model_id=1, total=490, offset=0,
                                                     data=b"name%" * 98) + text}


STRUCTURED = 0xA5        # fuzz_dispatch.c: a list of [type u8][len u16][payload], framed by the harness


def structured(stream: bytes) -> bytes:
    """A request stream in fuzz_dispatch's structured form (the harness adds COBS and CRC)."""
    out = bytearray([STRUCTURED])
    for item in codec.FrameDecoder().feed(stream):
        if isinstance(item, codec.Frame):
            out += bytes([item.type]) + len(item.payload).to_bytes(2, "little") + item.payload
    return bytes(out)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    out_dir = Path(argv[0])
    vectors = Path(argv[1]) if len(argv) > 1 else VECTORS
    out_dir.mkdir(parents=True, exist_ok=True)
    n = 0
    for case in json.loads(vectors.read_text())["cases"]:
        (out_dir / f"vec_{case['name']}").write_bytes(bytes.fromhex(case["stream"]))
        n += 1
    for path in sorted(REGRESSIONS.glob("*.bin")) if REGRESSIONS.is_dir() else []:
        (out_dir / f"reg_{path.stem}").write_bytes(path.read_bytes())
        n += 1
    for name, stream in sessions().items():
        (out_dir / name).write_bytes(stream)
        (out_dir / f"{name}_structured").write_bytes(structured(stream))
        n += 2
    sys.stdout.write(f"{n} seeds in {out_dir}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
