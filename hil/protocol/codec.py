"""Host-side codec for the wire protocol: COBS, CRC, frames, payloads.

Every constant and layout comes from hil/protocol/spec.py; the C frame layer
(hil/device_lib/src/hil_frame.c) implements the same decode rules and
both are held to tests/vectors/protocol_frames.json.
"""

import dataclasses
import functools
import struct
from dataclasses import dataclass

from hil.errors import DeviceError, DeviceFault, FrameError
from hil.protocol import spec

ERROR_CODES = {name: code for name, code, _ in spec.ERRORS}
ERROR_NAMES = {code: name for name, code, _ in spec.ERRORS}
ERROR_TEXT = {code: text for _, code, text in spec.ERRORS}

_STRUCT_CHAR = {"u8": "B", "u16": "H", "u32": "I", "u64": "Q", "i32": "i"}
TYPE_SIZES = {"u8": 1, "u16": 2, "u32": 4, "u64": 8, "i32": 4, "char": 1, "bytes": 1}
_HEADER = struct.Struct("<" + "".join(_STRUCT_CHAR[t] for _, t, _, _ in spec.HEADER))
_CRC = struct.Struct("<H")
assert _HEADER.size == spec.HEADER_LEN and _CRC.size == spec.CRC_LEN


# ---- COBS ------------------------------------------------------------------

def cobs_encode(data: bytes) -> bytes:
    """COBS-encode `data` (no delimiter added); output never contains 0x00."""
    out = bytearray()
    for part in bytes(data).split(b"\x00"):
        # Full 254-byte blocks carry no implied zero (code 0xFF); the encoder
        # then always closes with the remainder block, which may be empty (0x01).
        while len(part) >= spec.COBS_MAX_BLOCK:
            out.append(0xFF)
            out += part[:spec.COBS_MAX_BLOCK]
            part = part[spec.COBS_MAX_BLOCK:]
        out.append(len(part) + 1)
        out += part
    return bytes(out)


def cobs_decode(data: bytes) -> bytes:
    """Inverse of cobs_encode; FrameError(BAD_COBS) on a 0x00 or a block cut short."""
    out = bytearray()
    i, n = 0, len(data)
    while i < n:
        code = data[i]
        if code == 0:
            raise FrameError("COBS data contains 0x00", ERROR_CODES["BAD_COBS"])
        end = i + code
        if end > n:
            raise FrameError("COBS block cut short", ERROR_CODES["BAD_COBS"])
        out += data[i + 1:end]
        i = end
        if code != 0xFF and i < n:
            out.append(0)
    return bytes(out)


# ---- CRC -------------------------------------------------------------------

def crc16(data: bytes, crc: int = spec.CRC["init"]) -> int:
    """CRC-16/CCITT-FALSE (parameters in spec.CRC); pass `crc` to continue a running CRC."""
    poly = spec.CRC["poly"]
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ poly) if crc & 0x8000 else (crc << 1)
        crc &= 0xFFFF
    return crc ^ spec.CRC["xorout"]


# ---- frames ----------------------------------------------------------------

@dataclass(frozen=True)
class Frame:
    """A CRC-checked frame. The version is reported, not checked (see spec.HEADER)."""
    type: int
    seq: int
    payload: bytes
    version: int = spec.PROTOCOL_VERSION


@dataclass(frozen=True)
class FrameFault:
    """A delimited chunk that was not a frame; `code` is an ERRORS id."""
    code: int
    encoded_len: int

    @property
    def name(self) -> str:
        return ERROR_NAMES[self.code]


def encode_frame(type_: int, seq: int, payload: bytes = b"", version: int = spec.PROTOCOL_VERSION) -> bytes:
    """Wire bytes of one frame: COBS(header + payload + crc) + 0x00."""
    try:
        payload = bytes(payload)
    except (TypeError, ValueError) as exc:
        raise FrameError(f"payload must be bytes, got {type(payload).__name__}: {exc}") from None
    if len(payload) > spec.MAX_PAYLOAD:
        raise FrameError(f"payload of {len(payload)} bytes exceeds MAX_PAYLOAD {spec.MAX_PAYLOAD}",
                         ERROR_CODES["PAYLOAD_TOO_LARGE"])
    for what, value, top in (("version", version, 0xFF), ("type", type_, 0xFF), ("seq", seq, 0xFFFF)):
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= top:
            raise FrameError(f"frame {what} {value!r} is not an integer in 0..{top}")
    body = _HEADER.pack(version, type_, seq, len(payload)) + payload
    return cobs_encode(body + _CRC.pack(crc16(body))) + bytes([spec.DELIMITER])


def decode_chunk(encoded: bytes) -> Frame | FrameFault | None:
    """Apply spec.DECODE_RULES to the bytes between two delimiters."""
    n = len(encoded)
    if n == 0:
        return None
    if n > spec.MAX_FRAME_ENCODED:
        return FrameFault(ERROR_CODES["PAYLOAD_TOO_LARGE"], n)
    try:
        raw = cobs_decode(encoded)
    except FrameError as exc:
        return FrameFault(exc.code, n)
    if len(raw) > spec.MAX_FRAME_RAW:
        return FrameFault(ERROR_CODES["PAYLOAD_TOO_LARGE"], n)
    if len(raw) < spec.HEADER_LEN + spec.CRC_LEN:
        return FrameFault(ERROR_CODES["BAD_LENGTH"], n)
    body, (crc,) = raw[:-spec.CRC_LEN], _CRC.unpack(raw[-spec.CRC_LEN:])
    if crc16(body) != crc:
        return FrameFault(ERROR_CODES["BAD_CRC"], n)
    version, type_, seq, length = _HEADER.unpack_from(body)
    if length != len(body) - spec.HEADER_LEN:
        return FrameFault(ERROR_CODES["BAD_LENGTH"], n)
    return Frame(type_, seq, body[spec.HEADER_LEN:], version)


class FrameDecoder:
    """Streaming decoder: feed() any bytes, get frames and faults; never raises on input."""

    def __init__(self):
        self._chunk = bytearray()
        self._encoded_len = 0  # bytes since the last delimiter, including ones not kept

    @property
    def pending(self) -> int:
        """Bytes received since the last delimiter (a partial frame)."""
        return self._encoded_len

    def reset(self) -> None:
        """Drop any partial frame (the next delimiter would have done the same)."""
        self._chunk.clear()
        self._encoded_len = 0

    def feed(self, data: bytes) -> list[Frame | FrameFault]:
        events = []
        data = bytes(data)
        pos = 0
        while True:
            end = data.find(spec.DELIMITER, pos)
            self._keep(data[pos:] if end < 0 else data[pos:end])
            if end < 0:
                return events
            # A kept chunk of MAX_FRAME_ENCODED + 1 bytes already fails rule 2.
            event = decode_chunk(bytes(self._chunk))
            if event is not None:
                events.append(FrameFault(event.code, self._encoded_len) if isinstance(event, FrameFault) else event)
            self.reset()
            pos = end + 1

    def _keep(self, part: bytes) -> None:
        # Cap memory: a line of garbage without delimiters must not grow the buffer.
        self._encoded_len += len(part)
        room = spec.MAX_FRAME_ENCODED + 1 - len(self._chunk)
        if room > 0:
            self._chunk += part[:room]


# ---- payloads --------------------------------------------------------------

class Payload:
    """A decoded payload: base of the one frozen dataclass per message that _layout() builds
    from the message's spec fields (attributes named as the fields, in spec order)."""
    __slots__ = ()

    def as_dict(self) -> dict:
        """Field name -> value, as pack_payload() takes them."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


@dataclass(frozen=True)
class Layout:
    """A message's payload layout and its record type, derived from its spec entry."""
    name: str
    id: int
    dir: str
    doc: str
    fields: tuple        # spec field tuples, in order
    offsets: dict        # field name -> byte offset
    fixed: struct.Struct  # every field except a "*" tail
    tail: tuple | None   # the "*" field, if any

    @functools.cached_property
    def record(self) -> type:
        """The Payload dataclass unpack_payload() returns; made on first use, since making all of
        them costs every process that imports the codec (every `hil` command) about 20 ms."""
        record = dataclasses.make_dataclass(
            self.name.title().replace("_", ""), [(f[0], _value_type(f[1], f[2])) for f in self.fields],
            bases=(Payload,), frozen=True, slots=True)
        record.__module__ = __name__
        return record
    @property
    def fixed_len(self) -> int:
        return self.fixed.size

    @property
    def tail_max(self) -> int:
        """Bytes left for the tail in a full payload (0 without a tail)."""
        return spec.MAX_PAYLOAD - self.fixed.size if self.tail else 0


def _value_type(type_: str, count) -> type:
    if type_ in ("char", "bytes"):
        return str if type_ == "char" else bytes
    return int if count == 1 else tuple[int, ...]


def _layout(msg: spec.Message) -> Layout:
    fmt, offsets, offset, tail = "<", {}, 0, None
    for index, field in enumerate(msg.fields):
        name, type_, count, _ = field
        offsets[name] = offset
        if count == "*":
            if index != len(msg.fields) - 1:
                raise ValueError(f"{msg.name}.{name}: '*' field must be last")
            tail = field
            continue
        fmt += f"{count}s" if type_ in ("char", "bytes") else f"{count}{_STRUCT_CHAR[type_]}"
        offset += count * TYPE_SIZES[type_]
    return Layout(msg.name, msg.id, msg.dir, msg.doc, tuple(msg.fields), offsets, struct.Struct(fmt), tail)


LAYOUTS = {msg.name: _layout(msg) for msg in spec.MESSAGES}
LAYOUTS_BY_ID = {layout.id: layout for layout in LAYOUTS.values()}


def layout(name: str) -> Layout:
    try:
        return LAYOUTS[name]
    except KeyError:
        raise FrameError(f"unknown message {name!r}; see hil/protocol/spec.py MESSAGES") from None


def pack_payload(name: str, fields: dict) -> bytes:
    """Payload bytes of message `name` from a dict of field values (short arrays are zero-padded)."""
    lay = layout(name)
    unknown = set(fields) - {f[0] for f in lay.fields}
    if unknown:
        raise FrameError(f"{name}: unknown field(s) {sorted(unknown)}")
    values = []
    try:
        for fname, type_, count, _ in lay.fields:
            if count == "*":
                continue
            value = fields[fname]
            if type_ == "char":
                value = value.encode("ascii")
                if len(value) > count:
                    raise FrameError(f"{name}.{fname}: {value!r} longer than {count} bytes")
                values.append(value)
            elif type_ == "bytes":
                if len(value) != count:
                    raise FrameError(f"{name}.{fname}: need exactly {count} bytes, got {len(value)}")
                values.append(bytes(value))
            elif count == 1:
                values.append(value)
            else:
                if len(value) > count:
                    raise FrameError(f"{name}.{fname}: more than {count} elements")
                values.extend(list(value) + [0] * (count - len(value)))
        out = lay.fixed.pack(*values)
        if lay.tail:
            fname, type_, _, _ = lay.tail
            value = fields.get(fname, b"" if type_ == "bytes" else ())
            out += bytes(value) if type_ == "bytes" else struct.pack(f"<{len(value)}{_STRUCT_CHAR[type_]}", *value)
    except KeyError as exc:
        raise FrameError(f"{name}: missing field {exc.args[0]!r}") from None
    except (struct.error, TypeError, AttributeError, UnicodeEncodeError) as exc:
        raise FrameError(f"{name}: {exc}") from None
    if len(out) > spec.MAX_PAYLOAD:
        raise FrameError(f"{name}: payload {len(out)} bytes > MAX_PAYLOAD {spec.MAX_PAYLOAD}",
                         ERROR_CODES["PAYLOAD_TOO_LARGE"])
    return out


def unpack_payload(name: str, payload: bytes) -> Payload:
    """The record of message `name` (attributes named as its fields); FrameError(BAD_PAYLOAD)
    if the size does not fit the layout."""
    lay = layout(name)
    payload = bytes(payload)
    extra = len(payload) - lay.fixed_len
    elem = TYPE_SIZES[lay.tail[1]] if lay.tail else 0
    if extra < 0 or (not lay.tail and extra) or (lay.tail and extra % elem):
        raise FrameError(f"{name}: payload of {len(payload)} bytes does not fit its layout "
                         f"(fixed {lay.fixed_len}{' + tail' if lay.tail else ''})", ERROR_CODES["BAD_PAYLOAD"])
    flat = iter(lay.fixed.unpack_from(payload))
    fields = {}
    for fname, type_, count, _ in lay.fields:
        if count == "*":
            rest = payload[lay.fixed_len:]
            fields[fname] = rest if type_ == "bytes" else struct.unpack(f"<{len(rest) // elem}{_STRUCT_CHAR[type_]}", rest)
        elif type_ == "char":
            fields[fname] = next(flat).split(b"\x00", 1)[0].decode("ascii", "replace")
        elif type_ == "bytes" or count == 1:
            fields[fname] = next(flat)
        else:
            fields[fname] = tuple(next(flat) for _ in range(count))
    return lay.record(**fields)


def encode_message(name: str, seq: int, /, **fields) -> bytes:
    """Wire bytes of message `name` with sequence number `seq`; FrameError on any bad input.

    `name` and `seq` are positional-only, so a payload field may be called
    `name` too (MODEL_INFO_RSP, LAYER_INFO_RSP)."""
    return encode_frame(layout(name).id, seq, pack_payload(name, fields))


def decode_message(frame: Frame) -> tuple[str, Payload]:
    """(message name, its record) of a decoded frame."""
    lay = LAYOUTS_BY_ID.get(frame.type)
    if lay is None:
        raise FrameError(f"unknown message type 0x{frame.type:02x}", ERROR_CODES["UNKNOWN_TYPE"])
    return lay.name, unpack_payload(lay.name, frame.payload)


def raise_for_fault(frame: Frame, board: str = "device", request: str = "?") -> None:
    """Raise DeviceFault if `frame` is a FAULT report (whatever its seq: the device has stopped)."""
    if frame.type == LAYOUTS["FAULT"].id:
        raise DeviceFault(board, request, unpack_payload("FAULT", frame.payload).as_dict())


def raise_for_error(frame: Frame) -> None:
    """Raise DeviceError if `frame` is an ERROR response."""
    if frame.type != LAYOUTS["ERROR"].id:
        return
    error = unpack_payload("ERROR", frame.payload)
    request = LAYOUTS_BY_ID.get(error.request_type)
    raise DeviceError(error.code, ERROR_NAMES.get(error.code, "UNKNOWN_ERROR"), error.detail,
                      request.name if request else f"type 0x{error.request_type:02x}",
                      ERROR_TEXT.get(error.code, "error code not in this host's spec: check firmware/host versions"))
