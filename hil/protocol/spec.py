"""The hil wire protocol: data only, the single source of truth.

Everything else is derived from these tables: the Python codec
(hil/protocol/codec.py), the C header hil/device_lib/include/hil_protocol.h
and docs/protocol-tables.md (both written by `python -m hil.protocol.gen_c`),
and the shared frame vectors. Change a table here, regenerate, and bump
PROTOCOL_VERSION if an old peer could misread the new bytes.

Field entries are (name, type, count, description). type is one of
u8 u16 u32 u64 i32 (little-endian integers), char (ASCII, NUL-padded, not
necessarily NUL-terminated) or bytes (raw). count is the number of elements,
or "*" for "the rest of the payload" (only allowed on the last field).
"""

from dataclasses import dataclass

PROTOCOL_VERSION = 1
BYTE_ORDER = "little"

# ---- framing ---------------------------------------------------------------
# A frame on the wire is COBS(header + payload + crc) followed by one 0x00.
# COBS removes every 0x00 from the body, so a 0x00 always ends a frame and a
# receiver resynchronises on the next one whatever came before.
DELIMITER = 0x00
COBS_MAX_BLOCK = 254  # data bytes per COBS block (code byte 0xFF)

HEADER = (
    ("version", "u8", 1, "PROTOCOL_VERSION of the sender; the frame layer does not check it, the receiver answers BAD_VERSION"),
    ("type", "u8", 1, "message type id (MESSAGES); responses are request | 0x80, ERROR is 0xFF"),
    ("seq", "u16", 1, "host-chosen sequence number, echoed by the device in the response"),
    ("length", "u16", 1, "payload length in bytes (0..MAX_PAYLOAD)"),
)
HEADER_LEN = 6

CRC = {
    "name": "CRC-16/CCITT-FALSE",
    "width": 16,
    "poly": 0x1021,
    "init": 0xFFFF,
    "refin": False,
    "refout": False,
    "xorout": 0x0000,
    "check": 0x29B1,  # CRC of b"123456789"
    "covers": "header + payload",
    "stored": "u16 little-endian after the payload",
}
CRC_LEN = 2

# 1008: an MNIST input (784 bytes) or a KWS input (490) travels in one
# LOAD_INPUT frame, payload >= 95 % of the wire bytes of the exchange
# (docs/performance.md), and a whole encoded frame (1022 bytes) still fits
# twice in a 2 KB MCU RX ring. Hosts chunk by the device's max_payload (PING),
# so a device built with the old 512 keeps working.
MAX_PAYLOAD = 1008
MAX_FRAME_RAW = HEADER_LEN + MAX_PAYLOAD + CRC_LEN                 # 1016, before COBS
MAX_FRAME_ENCODED = MAX_FRAME_RAW + MAX_FRAME_RAW // COBS_MAX_BLOCK + 1  # 1021, COBS worst case
MAX_FRAME_WIRE = MAX_FRAME_ENCODED + 1                             # 1022, with the delimiter

# Sequence number the device uses in ERROR frames answering a frame it could
# not decode (its seq is not trustworthy). Hosts never send it.
SEQ_NONE = 0xFFFF

# Most work one INFER may ask for, so that no request blocks a device for long
# (a lab's other tools may send anything): repeat <= MAX_INFER_REPEAT and
# repeat x the model's MACs <= MAX_INFER_MACS, else ERROR REPEAT_TOO_LARGE with
# the largest repeat the model accepts (repeat 1 is always accepted). The host
# waits 0.5 s + 1 us per MAC (hil/device.py Timing): 98 s for mnist_lenet x1000,
# which took 4.9 s on the QEMU twin and 26 s on fpga-sim (host wall clock,
# 2026-12-02, loaded 2-core machine; 65,535 runs took minutes before the cap).
# A 200 M-MAC INFER (e.g. resnet8 x16) gets 200 s at the same per-MAC rates.
MAX_INFER_REPEAT = 1000
MAX_INFER_MACS = 200_000_000

# Order in which a receiver checks one delimited chunk E (bytes between two
# 0x00). Python and C must agree on this exactly; the frame vectors hold them to it.
DECODE_RULES = (
    ("empty", "len(E) == 0: ignored, no event (0x00 0x00 is a harmless resync)"),
    ("PAYLOAD_TOO_LARGE", "len(E) > MAX_FRAME_ENCODED"),
    ("BAD_COBS", "the last COBS block is cut short by the delimiter"),
    ("PAYLOAD_TOO_LARGE", "decoded length > MAX_FRAME_RAW"),
    ("BAD_LENGTH", "decoded length < HEADER_LEN + CRC_LEN"),
    ("BAD_CRC", "CRC over header + payload differs from the stored CRC"),
    ("BAD_LENGTH", "header length != decoded length - HEADER_LEN - CRC_LEN"),
    ("frame", "otherwise: a frame (version, type, seq, payload)"),
)

# ---- enumerations ----------------------------------------------------------
# (name, id, description)
ERRORS = (
    ("BAD_COBS", 0x01, "frame is not valid COBS (cut short); detail 0"),
    ("BAD_CRC", 0x02, "CRC mismatch; detail 0"),
    ("BAD_LENGTH", 0x03, "frame shorter than a header, or header length disagrees with the frame; detail 0"),
    ("PAYLOAD_TOO_LARGE", 0x04, "frame longer than MAX_FRAME_ENCODED/MAX_FRAME_RAW; detail MAX_PAYLOAD"),
    ("BAD_VERSION", 0x05, "header version differs from the device's; detail = device PROTOCOL_VERSION"),
    ("UNKNOWN_TYPE", 0x10, "no such request type; detail = the type"),
    ("BAD_PAYLOAD", 0x11, "payload size or a field value is wrong for the message; detail = expected fixed length"),
    ("UNKNOWN_MODEL", 0x12, "model_id >= model_count; detail = model_count"),
    ("BAD_MODE", 0x13, "run mode unknown or not supported by this device; detail = supported mode bitmask"),
    ("WRONG_INPUT_SIZE", 0x14, "LOAD_INPUT total differs from the model's input size; detail = expected bytes"),
    ("BAD_OFFSET", 0x15, "chunk would leave a gap or run past the end; detail = bytes loaded so far / tensor size"),
    ("INPUT_NOT_LOADED", 0x16, "INFER before a complete LOAD_INPUT for this model; detail = bytes loaded so far"),
    ("NO_RESULT", 0x17, "READ_TENSOR of something the last INFER did not produce; detail 0"),
    ("BAD_LAYER", 0x18, "layer or tensor index out of range; detail = layer_count"),
    ("REPEAT_TOO_LARGE", 0x19, "INFER repeat above MAX_INFER_REPEAT, or repeat x model MACs above MAX_INFER_MACS; "
                               "detail = the largest repeat this model accepts"),
    ("BUSY", 0x20, "device cannot take the request now; retry; detail 0"),
    ("INTERNAL", 0x21, "device-side failure (assert, arena too small); detail = board-specific code"),
)

RUN_MODES = (
    ("OUTPUTS", 0, "run once; output tensor only"),
    ("LAYER_COUNTS", 1, "run once; output + per-layer counter values (tensor LAYER_COUNTS)"),
    ("LAYER_TENSORS", 2, "run once; output + per-layer counts + every layer's output tensor (READ_TENSOR)"),
    ("TIMING", 3, "run `repeat` times; total counts only (sum/min/max), output readable with READ_TENSOR"),
)

COUNTER_KINDS = (
    ("NONE", 0, "no counter; counts are 0"),
    ("DWT", 1, "Cortex-M DWT CYCCNT: silicon core clock cycles"),
    ("SYSTICK", 2, "SysTick at the core clock (no DWT): core cycles, 24-bit wraps handled by firmware"),
    ("SYSTICK_ICOUNT", 3, "SysTick under QEMU -icount: instruction-count based, not silicon cycles"),
    ("MODELLED", 4, "modelled HLS cycles (trip count x II + depth), not measured"),
    ("ICOUNT", 5, "QEMU -icount shift=0: exact guest instruction count (TIM2 at 1 GHz of virtual time)"),
)

DTYPES = (
    # (name, id, description) - the name is the numpy dtype name; size in bytes follows it.
    ("none", 0, "0: no tensor"),
    ("int8", 1, "1: quantized activations / inputs"),
    ("uint8", 2, "1"),
    ("int16", 3, "2"),
    ("int32", 4, "4: int32 logits"),
    ("uint32", 5, "4: counter values"),
    ("float32", 6, "4"),
)

# Layer op codes; names match the `op` field of the qmodel artifact.
OPS = (
    ("other", 0, "an op this protocol version has no code for"),
    ("conv2d", 1, ""),
    ("depthwise_conv2d", 2, ""),
    ("fully_connected", 3, ""),
    ("maxpool2d", 4, ""),
    ("avgpool2d", 5, "also global / adaptive average pooling (kernel = stride = in / out)"),
    ("grouped_conv2d", 6, "convolution with groups > 1 (not depthwise)"),
    ("add", 7, "elementwise add of two int8 tensors, each requantized (TFLite Micro ADD)"),
    ("concat", 8, "concatenation on channels, each input requantized to the output scale"),
    ("channel_shuffle", 9, "ShuffleNet channel shuffle (groups)"),
    ("channel_slice", 10, "a channel range of a tensor (channel split)"),
    ("softmax", 11, "TFLite Micro int8 SOFTMAX over the classes (out scale 1/256, zero point -128)"),
    ("mean", 12, "TFLite Micro int8 MEAN over H and W (keep dims)"),
    ("pad", 13, "TFLite PAD on H and W with the zero point"),
)

# READ_TENSOR's `tensor` field: a layer index 0..layer_count-1, or one of these.
SPECIAL_TENSORS = (
    ("OUTPUT", 0xFFFF, "the model output; after any successful INFER"),
    ("LAYER_COUNTS", 0xFFFE, "per-layer counter values, uint32 each, layer order; after modes 1 and 2"),
)

MAX_DIMS = 4  # shapes are (ndim u8, dims u16[MAX_DIMS]), unused dims 0, CHW, batch dropped

# ---- messages --------------------------------------------------------------
@dataclass(frozen=True)
class Message:
    """One MESSAGES entry: a message type and its payload fields (see the module docstring)."""
    name: str
    id: int
    dir: str           # "h2d" host -> device, "d2h" device -> host
    doc: str
    fields: tuple = ()

    def to_json(self) -> dict:
        """As the spec hash reads it: the dict this entry was written as before it was typed."""
        return {"name": self.name, "id": self.id, "dir": self.dir, "doc": self.doc, "fields": self.fields}


# Each request gets exactly one response: its *_RSP (type | 0x80) or ERROR,
# carrying the request's seq. The device never sends anything unasked, with
# one exception: FAULT, the last words of a device whose fault handler runs.
MESSAGES = (
    Message(name="PING", id=0x01, dir="h2d",
            doc="sync/liveness; no side effects. Hosts resync with 0x00 + PING and drop frames until its seq "
                "comes back.", fields=()),
    Message(name="PING_RSP", id=0x81, dir="d2h", doc="answer to PING", fields=(
        ("proto_version", "u16", 1, "device PROTOCOL_VERSION"),
        ("max_payload", "u16", 1, "device MAX_PAYLOAD"),
        ("spec_hash32", "u32", 1, "first 4 bytes of the spec sha256, little-endian"),
    )),
    Message(name="INFO", id=0x02, dir="h2d", doc="device and build description", fields=()),
    Message(name="INFO_RSP", id=0x82, dir="d2h", doc="answer to INFO", fields=(
        ("fw_version", "char", 16, "firmware version string"),
        ("build_hash", "char", 20, "source revision the firmware was built from (git hash, '+' if dirty)"),
        ("board", "char", 24, "board name, e.g. stm32f429i-disc1, qemu-netduinoplus2"),
        ("clock_hz", "u32", 1, "core clock in Hz (0 if not meaningful)"),
        ("counter_kind", "u8", 1, "COUNTER_KINDS id of every count this device reports"),
        ("run_modes", "u8", 1, "bit i set = RUN_MODES id i supported"),
        ("model_count", "u8", 1, "models 0..model_count-1 are valid model_id values"),
    )),
    Message(name="MODEL_INFO", id=0x03, dir="h2d", doc="describe one model", fields=(
        ("model_id", "u8", 1, "0..model_count-1"),
    )),
    Message(name="MODEL_INFO_RSP", id=0x83, dir="d2h", doc="answer to MODEL_INFO", fields=(
        ("model_id", "u8", 1, ""),
        ("name", "char", 24, "model registry name"),
        ("model_hash", "bytes", 32, "sha256 digest of the qmodel artifact the firmware tables were generated from"),
        ("in_dtype", "u8", 1, "DTYPES id"),
        ("in_ndim", "u8", 1, ""),
        ("in_dims", "u16", 4, "CHW, unused dims 0"),
        ("in_bytes", "u32", 1, "input tensor size; LOAD_INPUT total must equal it"),
        ("out_dtype", "u8", 1, "DTYPES id"),
        ("out_ndim", "u8", 1, ""),
        ("out_dims", "u16", 4, ""),
        ("out_bytes", "u32", 1, ""),
        ("layer_count", "u16", 1, ""),
        ("macs", "u32", 1, "total multiply-accumulates of one inference"),
    )),
    Message(name="LAYER_INFO", id=0x04, dir="h2d", doc="describe one layer", fields=(
        ("model_id", "u8", 1, ""),
        ("layer", "u16", 1, "0..layer_count-1"),
    )),
    Message(name="LAYER_INFO_RSP", id=0x84, dir="d2h", doc="answer to LAYER_INFO", fields=(
        ("model_id", "u8", 1, ""),
        ("layer", "u16", 1, ""),
        ("op", "u8", 1, "OPS id"),
        ("name", "char", 16, "layer name as in the qmodel artifact"),
        ("out_dtype", "u8", 1, "DTYPES id"),
        ("out_ndim", "u8", 1, ""),
        ("out_dims", "u16", 4, ""),
        ("out_bytes", "u32", 1, ""),
        ("macs", "u32", 1, ""),
    )),
    Message(name="LOAD_INPUT", id=0x05, dir="h2d",
            doc="one chunk of the input tensor; offset 0 starts a new input and discards old results", fields=(
        ("model_id", "u8", 1, "model the input is for"),
        ("total", "u32", 1, "whole input size; must equal the model's in_bytes"),
        ("offset", "u32", 1, "where data goes; must be <= bytes loaded so far (re-sending a chunk is allowed)"),
        ("data", "bytes", "*", "chunk bytes; offset + len(data) <= total"),
    )),
    Message(name="LOAD_INPUT_RSP", id=0x85, dir="d2h", doc="answer to LOAD_INPUT", fields=(
        ("model_id", "u8", 1, ""),
        ("total", "u32", 1, ""),
        ("filled", "u32", 1, "contiguous bytes loaded from offset 0; the input is complete when filled == total"),
    )),
    Message(name="INFER", id=0x06, dir="h2d", doc="run the loaded input", fields=(
        ("model_id", "u8", 1, "must match the complete LOAD_INPUT"),
        ("mode", "u8", 1, "RUN_MODES id"),
        ("repeat", "u16", 1, "1 for modes 0-2; 1..the cap (MAX_INFER_REPEAT, MAX_INFER_MACS) for TIMING"),
    )),
    Message(name="INFER_RSP", id=0x86, dir="d2h", doc="answer to INFER", fields=(
        ("model_id", "u8", 1, ""),
        ("mode", "u8", 1, ""),
        ("counter_kind", "u8", 1, "COUNTER_KINDS id of the counts"),
        ("repeat", "u16", 1, "runs done"),
        ("layer_count", "u16", 1, ""),
        ("out_bytes", "u32", 1, "size of the whole output tensor"),
        ("total_sum", "u64", 1, "whole-model count summed over the runs"),
        ("total_min", "u64", 1, "smallest single-run count"),
        ("total_max", "u64", 1, "largest single-run count"),
        ("output", "bytes", "*", "as much of the output as fits the payload; empty in TIMING; "
                                 "READ_TENSOR OUTPUT for the rest"),
    )),
    Message(name="READ_TENSOR", id=0x07, dir="h2d", doc="read a chunk of a result tensor of the last INFER", fields=(
        ("tensor", "u16", 1, "layer index, or a SPECIAL_TENSORS id"),
        ("offset", "u32", 1, "byte offset; <= the tensor size"),
    )),
    Message(name="READ_TENSOR_RSP", id=0x87, dir="d2h", doc="answer to READ_TENSOR", fields=(
        ("model_id", "u8", 1, "model of the last INFER"),
        ("tensor", "u16", 1, ""),
        ("dtype", "u8", 1, "DTYPES id"),
        ("total", "u32", 1, "tensor size in bytes"),
        ("offset", "u32", 1, ""),
        ("data", "bytes", "*", "bytes from offset: as many as fit the payload, up to the end of the tensor"),
    )),
    Message(name="FAULT", id=0xFE, dir="d2h",
            doc="sent unasked by a device's fault handler before it stops: the fault registers; seq = the request "
                "that was running, SEQ_NONE if none", fields=(
        ("exception", "u32", 1, "exception number (IPSR): 3 HardFault, 4 MemManage, 5 BusFault, 6 UsageFault"),
        ("cfsr", "u32", 1, "Configurable Fault Status Register (SCB 0xE000ED28)"),
        ("hfsr", "u32", 1, "HardFault Status Register (SCB 0xE000ED2C)"),
        ("mmfar", "u32", 1, "MemManage Fault Address Register (valid if CFSR.MMARVALID)"),
        ("bfar", "u32", 1, "BusFault Address Register (valid if CFSR.BFARVALID)"),
        ("pc", "u32", 1, "stacked PC: the faulting instruction"),
        ("lr", "u32", 1, "stacked LR: the caller's return address"),
    )),
    Message(name="ERROR", id=0xFF, dir="d2h",
            doc="the one response to a request that failed; seq SEQ_NONE if the frame itself was undecodable", fields=(
        ("code", "u8", 1, "ERRORS id"),
        ("request_type", "u8", 1, "type of the failed request, 0 if unknown"),
        ("detail", "u32", 1, "code-specific value, see ERRORS"),
    )),
)

# Requests only test builds answer (STM32: make TEST_REQUESTS=1); every other
# build answers them UNKNOWN_TYPE, like any type not in MESSAGES. Not part of
# the protocol a host relies on. (name, id, description)
TEST_REQUESTS = (
    ("TEST_FAULT", 0x70, "provoke a fault (a load from an unmapped address); the device answers FAULT, then stops"),
)
