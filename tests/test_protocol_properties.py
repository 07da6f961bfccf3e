"""Hypothesis properties of the Python codec: every encode path either gives
bytes that decode back to the same message or raises FrameError (never
struct.error, TypeError, ...); any bytes decode without raising; one damaged
byte in a frame is always detected."""
import pytest

hypothesis = pytest.importorskip("hypothesis")    # in the dev extra
from hypothesis import given, settings, strategies as st  # noqa: E402

from hil.errors import DeviceError, FrameError  # noqa: E402
from hil.protocol import codec, spec  # noqa: E402
from hil.protocol.codec import Frame, FrameDecoder  # noqa: E402

MESSAGES = sorted(codec.LAYOUTS)
# Anything a caller might pass as a field value, right or wrong.
ANY_VALUE = st.one_of(
    st.integers(-2**70, 2**70), st.text(max_size=40), st.binary(max_size=600), st.none(), st.booleans(),
    st.floats(allow_nan=True), st.lists(st.integers(-2**20, 2**20), max_size=6))


def _valid_value(field):
    _, type_, count, _ = field
    if type_ == "char":
        return st.text(st.characters(min_codepoint=1, max_codepoint=127), max_size=count)
    if type_ == "bytes":
        return st.binary(max_size=64) if count == "*" else st.binary(min_size=count, max_size=count)
    top = {"u8": 0xFF, "u16": 0xFFFF, "u32": 2**32 - 1, "u64": 2**64 - 1}.get(type_, 2**31 - 1)
    bottom = -2**31 if type_ == "i32" else 0
    scalar = st.integers(bottom, top)
    return scalar if count == 1 else st.lists(scalar, max_size=3 if count == "*" else count).map(tuple)


@st.composite
def valid_message(draw):
    name = draw(st.sampled_from(MESSAGES))
    fields = {f[0]: draw(_valid_value(f)) for f in codec.LAYOUTS[name].fields}
    return name, fields


@settings(max_examples=300, deadline=None)
@given(valid_message(), st.integers(0, 0xFFFF))
def test_every_message_round_trips(msg, seq):
    name, fields = msg
    (frame,) = FrameDecoder().feed(codec.encode_message(name, seq, **fields))
    assert frame.seq == seq
    got_name, got = codec.decode_message(frame)
    assert got_name == name
    for fname, type_, count, _ in codec.LAYOUTS[name].fields:
        want, value = fields[fname], getattr(got, fname)
        if type_ == "char":
            assert value == want
        elif type_ != "bytes" and count not in (1, "*"):
            assert tuple(value) == tuple(want) + (0,) * (count - len(want))
        else:
            assert value == want


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(MESSAGES + ["NOPE"]), st.one_of(st.integers(-5, 70000), st.none(), st.text(max_size=3)),
       st.dictionaries(st.sampled_from(["name", "seq", "model_id", "data", "offset", "repeat", "code", "x",
                                        "board", "in_dims", "model_hash", "total", "output"]), ANY_VALUE,
                       max_size=6))
def test_encode_message_raises_only_frame_error(name, seq, fields):
    try:
        wire = codec.encode_message(name, seq, **fields)
    except FrameError:
        return
    assert wire.endswith(b"\x00") and b"\x00" not in wire[:-1]


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.integers(-3, 300), st.text(max_size=2)), st.one_of(st.integers(-3, 70000), st.none()),
       st.one_of(st.binary(max_size=spec.MAX_PAYLOAD + 3), st.text(max_size=4), st.integers(-1, 3)),
       st.one_of(st.integers(-3, 300), st.floats()))
def test_encode_frame_raises_only_frame_error(type_, seq, payload, version):
    try:
        codec.encode_frame(type_, seq, payload, version)
    except FrameError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000))
def test_any_bytes_decode_without_raising(data):
    for event in FrameDecoder().feed(data):
        assert isinstance(event, (Frame, codec.FrameFault))


@settings(max_examples=500, deadline=None)
@given(st.integers(0, 255), st.integers(0, 0xFFFF), st.binary(max_size=spec.MAX_PAYLOAD),
       st.data())
def test_one_damaged_byte_is_always_detected(type_, seq, payload, data):
    wire = bytearray(codec.encode_frame(type_, seq, payload))
    pos = data.draw(st.integers(0, len(wire) - 2))          # the delimiter itself: see the next test
    wire[pos] ^= data.draw(st.integers(1, 255))
    frames = [e for e in FrameDecoder().feed(bytes(wire)) if isinstance(e, Frame)]
    assert frames == [] or frames == [Frame(type_, seq, payload)]


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 255), st.binary(max_size=spec.MAX_PAYLOAD))
def test_decoding_any_payload_raises_only_frame_error(type_, payload):
    """A CRC-valid frame with any type and payload: a message, FrameError, or (ERROR frames) DeviceError."""
    frame = Frame(type_, 1, payload)
    try:
        codec.decode_message(frame)
        codec.raise_for_error(frame)
    except (FrameError, DeviceError):
        pass
