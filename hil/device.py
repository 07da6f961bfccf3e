"""Host side of the wire protocol: one request, one answer, by sequence number.

`Device` turns protocol messages (docs/protocol.md) into calls: info(),
load_input(), infer(), read_tensor(). A NAK, a damaged answer or a timeout
makes it send the request again under a new seq (every request is
idempotent), a bounded number of times; frames that answer no outstanding
attempt are dropped. All of it is counted in `Device.stats`, never silent.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass, field, replace

import numpy as np

from hil.errors import FrameError, InputError, LinkTimeout, ModelNotOnDevice
from hil.link import SerialLink
from hil.protocol import codec, spec
from hil.protocol.limits import max_repeat

DTYPE_NAMES = {i: n for n, i, _ in spec.DTYPES}
COUNTER_NAMES = {i: n.lower() for n, i, _ in spec.COUNTER_KINDS}
OP_NAMES = {i: n for n, i, _ in spec.OPS}
MODES = {n: i for n, i, _ in spec.RUN_MODES}
SPECIAL = {n: i for n, i, _ in spec.SPECIAL_TENSORS}


@dataclass
class LayerInfo:
    index: int
    name: str
    op: str
    shape: tuple[int, ...]
    dtype: str
    out_bytes: int
    macs: int


@dataclass
class ModelInfo:
    id: int
    name: str
    model_hash: str
    in_shape: tuple[int, ...]
    in_dtype: str
    in_bytes: int
    out_shape: tuple[int, ...]
    out_dtype: str
    out_bytes: int
    macs: int
    layers: list[LayerInfo] = field(default_factory=list)


@dataclass
class DeviceInfo:
    fw_version: str
    build_hash: str
    board: str
    clock_hz: int
    counter: str
    run_modes: int
    models: list[ModelInfo]

    def model(self, name_or_id) -> ModelInfo:
        for m in self.models:
            if m.name == name_or_id or m.id == name_or_id:
                return m
        known = ", ".join(f"{m.id}:{m.name}" for m in self.models)
        raise ModelNotOnDevice(f"device has no model '{name_or_id}' (it has {known})")


@dataclass
class InferResult:
    output: np.ndarray
    counter: str
    repeat: int
    total_sum: int
    total_min: int
    total_max: int
    layer_counts: list[int] | None = None
    layer_tensors: list[np.ndarray] | None = None


@dataclass
class LinkStats:
    """What recovery cost on this link; every number is shown in results, never hidden."""
    requests: int = 0          # logical requests (one answer each)
    retries: int = 0           # extra frames sent for them (new seq each, docs/protocol.md)
    naks: int = 0              # ERROR(SEQ_NONE): the device could not decode what it got
    corrupt_frames: int = 0    # chunks from the device that failed the decode rules
    stale_frames: int = 0      # valid frames answering no outstanding attempt (late answers)
    timeouts: int = 0          # attempts with no answer in time
    busy: int = 0              # ERROR(BUSY) answers, retried

    def as_dict(self) -> dict:
        return dict(self.__dict__)

    def minus(self, before: "LinkStats") -> dict:
        return {k: v - getattr(before, k) for k, v in self.__dict__.items()}

    def copy(self) -> "LinkStats":
        return LinkStats(**self.__dict__)


@dataclass(frozen=True)
class Timing:
    """How long one attempt may wait: base + wire time of its bytes + its work.

    Generous against a loaded host (the QEMU twin moves about 0.1 ms per byte),
    short enough that a lost frame costs well under a second, not 20 s.
    """
    base_s: float = 0.5
    per_byte_s: float = 4e-4    # both directions; 115200 baud is 87 us per byte
    per_mac_s: float = 1e-6     # 1 us per MAC: ~50x silicon, ~10x the QEMU twin and fpga-sim
    attempts: int = 32          # frames per request before the link is declared dead
    timeouts: int = 4           # of which timeouts (each doubles the wait)
    quiet_s: float = 0.15       # silence after part of a frame: its delimiter was lost

    def wait(self, wire_bytes: int, macs: int = 0) -> float:
        return self.base_s + self.per_byte_s * wire_bytes + self.per_mac_s * macs


class LinkRetriesExhausted(LinkTimeout):
    """A request got no usable answer after its attempts: the link or device is dead."""


class _TooNoisy(Exception):
    """Internal: a request asked to give up early on a noisy link (load_input shrinks its chunk)."""


ERROR_ID = codec.layout("ERROR").id
# The fault handler's report (CPU registers), on devices built with the
# device library's FAULT frame; any seq, sent unasked: the device has stopped.
FAULT_ID = codec.LAYOUTS["FAULT"].id if "FAULT" in codec.LAYOUTS else None
BUSY = codec.ERROR_CODES["BUSY"]
MIN_LOAD_CHUNK = 32


class Device:
    """Talks to one device over a SerialLink; retransmits on NAKs, corrupt answers and timeouts."""

    def __init__(self, link: SerialLink, timeout: float | None = None, timing: Timing | None = None,
                 rng: random.Random | None = None):
        self.link = link
        self.timing = timing or Timing()
        if timeout is not None:       # an explicit base wait (tests on slow links)
            self.timing = replace(self.timing, base_s=timeout)
        # A random first seq (docs/protocol.md): answers meant for an earlier
        # host session on the same device are recognisably stale.
        self._seq = (rng or random.SystemRandom()).randrange(spec.SEQ_NONE)
        self._decoder = codec.FrameDecoder()
        self.stats = LinkStats()
        self.payload_bytes = 0        # useful payload bytes moved, both directions
        self.max_payload = spec.MAX_PAYLOAD   # lowered to the device's own after sync()
        self.load_chunk = self.max_payload - codec.layout("LOAD_INPUT").fixed_len
        self.in_flight: str | None = None   # request being answered, for dead-device reports

    @property
    def dropped_frames(self) -> int:
        """Frames not used as an answer: NAKs, corrupt chunks and stale answers."""
        return self.stats.naks + self.stats.corrupt_frames + self.stats.stale_frames

    # ---- transport ---------------------------------------------------------
    def _next_seq(self) -> int:
        self._seq = (self._seq + 1) % spec.SEQ_NONE       # never SEQ_NONE
        return self._seq

    def request(self, name: str, timeout: float | None = None, macs: int = 0,
                give_up_after_naks: int | None = None, **fields) -> codec.Payload:
        """Send request `name`, return its response record; DeviceError on an ERROR answer.

        Every request is idempotent, so a NAK, a corrupt answer or a timeout
        makes the host send it again under a new seq; an answer carrying the
        seq of any attempt of this request is accepted (docs/protocol.md).
        """
        payload = codec.pack_payload(name, fields)
        frame_type = codec.layout(name).id
        rsp_max = spec.MAX_FRAME_WIRE if name in ("READ_TENSOR", "INFER") else 64
        wait = timeout if timeout is not None else self.timing.wait(len(payload) + 16 + rsp_max, macs)
        self.stats.requests += 1
        self.in_flight = name
        sent: set[int] = set()
        timeouts = naks = 0
        for attempt in range(self.timing.attempts):
            if attempt:
                self.stats.retries += 1
            seq = self._next_seq()
            sent.add(seq)
            # A leading delimiter ends any garbage or half frame already in the
            # device's buffer, so this request is never glued to it; a second
            # trailing one ends the frame even if its own delimiter is damaged
            # (empty chunks are ignored), so that costs a NAK, not a timeout.
            # Not after INFER: a byte arriving while the model runs would add
            # the RX interrupt's cycles to the counts.
            self.link.write(bytes([spec.DELIMITER]) + codec.encode_frame(frame_type, seq, payload)
                            + (b"" if name == "INFER" else bytes([spec.DELIMITER])))
            self.payload_bytes += len(payload)
            outcome = self._await(name, sent, wait)
            if isinstance(outcome, codec.Payload):
                self.in_flight = None
                return outcome
            if outcome == "timeout":
                timeouts += 1
                if timeouts >= self.timing.timeouts:
                    break
                wait *= 2
            else:
                naks += 1
                if give_up_after_naks is not None and naks >= give_up_after_naks:
                    raise _TooNoisy()
                if outcome == "busy":
                    time.sleep(min(wait, 0.05 * attempt))
        raise LinkRetriesExhausted(
            f"{self.link.board}: no valid answer to {name} on {self.link.url} after {len(sent)} attempts "
            f"({timeouts} timeouts of up to {wait:.1f} s, {naks} NAKs/corrupt answers): is the firmware "
            f"running and the baud rate {self.link.baudrate}?")

    def _await(self, name: str, sent: set[int], wait: float) -> codec.Payload | str:
        """The answer's record, or why to retransmit: 'nak', 'corrupt', 'busy' or 'timeout'."""
        deadline = time.monotonic() + wait
        retry, last_byte = None, time.monotonic()
        while time.monotonic() < deadline:
            data = self.link.read_some()
            now = time.monotonic()
            if data:
                last_byte = now
            elif self._decoder.pending and now - last_byte > self.timing.quiet_s:
                # Part of an answer, then silence: its delimiter was lost. A
                # device sends a frame in one go, so ask again now.
                self.stats.corrupt_frames += 1
                self._decoder.reset()
                return "corrupt"
            for item in self._decoder.feed(data):
                if FAULT_ID is not None and isinstance(item, codec.Frame) and item.type == FAULT_ID:
                    codec.raise_for_fault(item, self.link.board, name)   # DeviceFault: it stopped
                if isinstance(item, codec.FrameFault):
                    # Most likely our answer, damaged: ask again at once (idempotent).
                    self.stats.corrupt_frames += 1
                    retry = retry or "corrupt"
                    continue
                if item.type == ERROR_ID and item.seq == spec.SEQ_NONE:
                    self.stats.naks += 1
                    retry = retry or "nak"
                    continue
                if item.seq not in sent:
                    self.stats.stale_frames += 1
                    continue
                self.payload_bytes += len(item.payload)
                if item.type == ERROR_ID and codec.unpack_payload("ERROR", item.payload).code == BUSY:
                    self.stats.busy += 1
                    retry = retry or "busy"
                    continue
                codec.raise_for_error(item)
                rname, answer = codec.decode_message(item)
                if rname != name + "_RSP":
                    raise FrameError(f"{self.link.board}: {name} answered with {rname}")
                return answer
            if retry:
                return retry
        if self._decoder.pending:
            # Half an answer whose delimiter was lost: drop it now, or the
            # next answer would be glued to it and lost as well.
            self.stats.corrupt_frames += 1
            self._decoder.reset()
        self.stats.timeouts += 1
        return "timeout"

    def sync(self) -> codec.Payload:
        """Resynchronise after connect: a delimiter flushes any half frame, then PING (its PING_RSP)."""
        self.link.write(bytes([spec.DELIMITER]))
        ping = self.request("PING", timeout=1.0)
        self.max_payload = min(spec.MAX_PAYLOAD, ping.max_payload)   # an older, smaller device
        self.load_chunk = min(self.load_chunk, self.max_payload - codec.layout("LOAD_INPUT").fixed_len)
        return ping

    # ---- messages ----------------------------------------------------------
    def info(self) -> DeviceInfo:
        info = self.request("INFO")
        models = [self.model_info(i) for i in range(info.model_count)]
        return DeviceInfo(info.fw_version, info.build_hash, info.board, info.clock_hz,
                          COUNTER_NAMES.get(info.counter_kind, "unknown"), info.run_modes, models)

    def model_info(self, model_id: int) -> ModelInfo:
        rsp = self.request("MODEL_INFO", model_id=model_id)
        model = ModelInfo(model_id, rsp.name, "sha256:" + bytes(rsp.model_hash).hex(),
                          tuple(rsp.in_dims[:rsp.in_ndim]), DTYPE_NAMES[rsp.in_dtype], rsp.in_bytes,
                          tuple(rsp.out_dims[:rsp.out_ndim]), DTYPE_NAMES[rsp.out_dtype], rsp.out_bytes,
                          rsp.macs)
        for i in range(rsp.layer_count):
            layer = self.request("LAYER_INFO", model_id=model_id, layer=i)
            model.layers.append(LayerInfo(i, layer.name, OP_NAMES.get(layer.op, "other"),
                                          tuple(layer.out_dims[:layer.out_ndim]), DTYPE_NAMES[layer.out_dtype],
                                          layer.out_bytes, layer.macs))
        return model

    def load_input(self, model_id: int, data: bytes) -> None:
        """Send the input in chunks. The chunk size adapts to the link: halved
        when a chunk is NAKed twice (a long frame rarely survives a noisy
        link), grown again after clean answers. The device's `filled` says
        where the next chunk starts, so a changed size never leaves a gap."""
        data = bytes(data)
        biggest = self.max_payload - codec.layout("LOAD_INPUT").fixed_len
        off, clean = 0, 0
        while True:
            n = self.load_chunk
            retries0 = self.stats.retries
            try:
                rsp = self.request("LOAD_INPUT", model_id=model_id, total=len(data), offset=off,
                                   data=data[off:off + n],
                                   give_up_after_naks=2 if n > MIN_LOAD_CHUNK else None)
            except _TooNoisy:
                self.load_chunk, clean = max(MIN_LOAD_CHUNK, n // 2), 0
                continue
            clean = clean + 1 if self.stats.retries == retries0 else 0
            if clean >= 4 and n < biggest:
                self.load_chunk, clean = min(biggest, n * 2), 0
            if rsp.filled < off or rsp.filled > len(data) or rsp.total != len(data):
                raise FrameError(f"{self.link.board}: LOAD_INPUT answered filled {rsp.filled} of "
                                 f"{rsp.total} after offset {off} of {len(data)}")
            off = rsp.filled
            if off >= len(data):
                return

    def read_tensor(self, tensor: int) -> tuple[bytes, str]:
        out, off, total, dtype = b"", 0, None, "none"
        while total is None or off < total:
            rsp = self.request("READ_TENSOR", tensor=tensor, offset=off)
            total, dtype = rsp.total, DTYPE_NAMES[rsp.dtype]
            if not rsp.data and off < total:
                raise FrameError(f"{self.link.board}: READ_TENSOR {tensor} returned no data at {off}/{total}")
            out += rsp.data
            off += len(rsp.data)
        return out, dtype

    def infer(self, model: ModelInfo, mode: str = "OUTPUTS", repeat: int = 1) -> InferResult:
        if not 1 <= repeat <= 0xFFFF or (mode != "TIMING" and repeat != 1):
            raise InputError(f"repeat {repeat}: use 1 for mode {mode}, 1..65535 for TIMING")
        cap = max_repeat(model.macs)       # the device refuses more (REPEAT_TOO_LARGE): don't send it
        if repeat > cap:
            raise InputError(f"INFER of '{model.name}' x{repeat} is {model.macs * repeat:,} MACs, more than one "
                             f"request may take (at most {spec.MAX_INFER_REPEAT} runs and "
                             f"{spec.MAX_INFER_MACS:,} MACs): use repeat <= {cap} and several requests")
        work = model.macs * repeat * (2 if mode == "LAYER_TENSORS" else 1)
        rsp = self.request("INFER", model_id=model.id, mode=MODES[mode], repeat=repeat, macs=work)
        out = bytes(rsp.output)
        if len(out) < rsp.out_bytes and mode != "TIMING":
            out = self.read_tensor(SPECIAL["OUTPUT"])[0]
        res = InferResult(np.frombuffer(out, model.out_dtype).reshape(model.out_shape) if out else
                          np.zeros(0), COUNTER_NAMES.get(rsp.counter_kind, "unknown"), rsp.repeat,
                          rsp.total_sum, rsp.total_min, rsp.total_max)
        if mode in ("LAYER_COUNTS", "LAYER_TENSORS"):
            raw, _ = self.read_tensor(SPECIAL["LAYER_COUNTS"])
            res.layer_counts = np.frombuffer(raw, "<u4").astype(int).tolist()
        if mode == "LAYER_TENSORS":
            res.layer_tensors = []
            for L in model.layers:
                raw, dtype = self.read_tensor(L.index)
                res.layer_tensors.append(np.frombuffer(raw, dtype).reshape(L.shape))
        return res

    def run(self, model: ModelInfo, x: np.ndarray, mode: str = "OUTPUTS") -> InferResult:
        x = np.asarray(x)
        if tuple(x.shape) != tuple(model.in_shape) or x.nbytes != model.in_bytes:
            raise InputError(f"input shape {tuple(x.shape)} ({x.nbytes} bytes) does not match model "
                             f"'{model.name}' input {model.in_shape} ({model.in_bytes} bytes)")
        self.load_input(model.id, np.ascontiguousarray(x, dtype=model.in_dtype).tobytes())
        return self.infer(model, mode)
