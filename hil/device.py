"""Host side of the wire protocol: one request, one response, by sequence number.

`Device` turns protocol messages (docs/protocol.md) into calls: info(),
load_input(), infer(), read_tensor(). Frames that are not the answer to the
outstanding request (stale responses after a reconnect, undecodable chunks)
are dropped and counted, never silently retried.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from hil.errors import FrameError, InputError, LinkTimeout, ModelNotOnDevice
from hil.link import SerialLink
from hil.protocol import codec, spec

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


class Device:
    """Talks to one device over a SerialLink."""

    def __init__(self, link: SerialLink, timeout: float = 10.0):
        self.link = link
        self.timeout = timeout
        self._seq = 0
        self._decoder = codec.FrameDecoder()
        self.dropped_frames = 0       # stale responses and undecodable chunks, reported in results
        self.payload_bytes = 0        # useful payload bytes moved, both directions
        self.max_payload = spec.MAX_PAYLOAD   # lowered to the device's own after sync()

    # ---- transport ---------------------------------------------------------
    def _next_seq(self) -> int:
        self._seq = (self._seq + 1) % spec.SEQ_NONE       # never SEQ_NONE
        return self._seq

    def request(self, name: str, timeout: float | None = None, **fields) -> dict:
        """Send request `name`, return its response fields; DeviceError on ERROR."""
        seq = self._next_seq()
        payload = codec.pack_payload(name, fields)
        # A leading delimiter ends any garbage or half frame already in the
        # device's buffer, so this request is never glued to it (an empty
        # chunk is ignored by the receiver).
        self.link.write(bytes([spec.DELIMITER]) + codec.encode_frame(codec.layout(name).id, seq, payload))
        self.payload_bytes += len(payload)
        deadline = time.monotonic() + (timeout or self.timeout)
        while time.monotonic() < deadline:
            for item in self._decoder.feed(self.link.read_some()):
                if isinstance(item, codec.Frame):
                    codec.raise_for_fault(item, self.link.board, name)
                if isinstance(item, codec.FrameFault) or item.seq != seq:
                    self.dropped_frames += 1
                    continue
                self.payload_bytes += len(item.payload)
                codec.raise_for_error(item)
                rname, rfields = codec.decode_message(item)
                if rname != name + "_RSP":
                    raise FrameError(f"{self.link.board}: {name} answered with {rname}")
                return rfields
        raise LinkTimeout(f"{self.link.board}: no answer to {name} (seq {seq}) on {self.link.url} "
                          f"within {timeout or self.timeout:.1f} s: is the firmware running and the "
                          f"baud rate {self.link.baudrate}?")

    def sync(self, attempts: int = 3) -> dict:
        """Resynchronise after connect: a delimiter flushes any half frame, then PING."""
        self.link.write(bytes([spec.DELIMITER]))
        last = None
        for _ in range(attempts):
            try:
                r = self.request("PING", timeout=2.0)
                self.max_payload = min(spec.MAX_PAYLOAD, r["max_payload"])   # an older, smaller device
                return r
            except LinkTimeout as exc:
                last = exc
                self.dropped_frames += 1
        raise last

    # ---- messages ----------------------------------------------------------
    def info(self) -> DeviceInfo:
        r = self.request("INFO")
        models = [self.model_info(i) for i in range(r["model_count"])]
        return DeviceInfo(r["fw_version"], r["build_hash"], r["board"], r["clock_hz"],
                          COUNTER_NAMES.get(r["counter_kind"], "unknown"), r["run_modes"], models)

    def model_info(self, model_id: int) -> ModelInfo:
        r = self.request("MODEL_INFO", model_id=model_id)
        m = ModelInfo(model_id, r["name"], "sha256:" + bytes(r["model_hash"]).hex(),
                      tuple(r["in_dims"][:r["in_ndim"]]), DTYPE_NAMES[r["in_dtype"]], r["in_bytes"],
                      tuple(r["out_dims"][:r["out_ndim"]]), DTYPE_NAMES[r["out_dtype"]], r["out_bytes"],
                      r["macs"])
        for i in range(r["layer_count"]):
            L = self.request("LAYER_INFO", model_id=model_id, layer=i)
            m.layers.append(LayerInfo(i, L["name"], OP_NAMES.get(L["op"], "other"),
                                      tuple(L["out_dims"][:L["out_ndim"]]), DTYPE_NAMES[L["out_dtype"]],
                                      L["out_bytes"], L["macs"]))
        return m

    def load_input(self, model_id: int, data: bytes) -> None:
        data = bytes(data)
        chunk = self.max_payload - codec.layout("LOAD_INPUT").fixed_len
        for off in range(0, max(1, len(data)), chunk):
            r = self.request("LOAD_INPUT", model_id=model_id, total=len(data), offset=off,
                             data=data[off:off + chunk])
        if r["filled"] != len(data):
            raise FrameError(f"{self.link.board}: input incomplete after load ({r['filled']}/{len(data)})")

    def read_tensor(self, tensor: int) -> tuple[bytes, str]:
        out, off, total, dtype = b"", 0, None, "none"
        while total is None or off < total:
            r = self.request("READ_TENSOR", tensor=tensor, offset=off)
            total, dtype = r["total"], DTYPE_NAMES[r["dtype"]]
            if not r["data"] and off < total:
                raise FrameError(f"{self.link.board}: READ_TENSOR {tensor} returned no data at {off}/{total}")
            out += r["data"]
            off += len(r["data"])
        return out, dtype

    def infer(self, model: ModelInfo, mode: str = "OUTPUTS", repeat: int = 1) -> InferResult:
        r = self.request("INFER", model_id=model.id, mode=MODES[mode], repeat=repeat,
                         timeout=self.timeout + 0.5 * repeat)
        out = bytes(r["output"])
        if len(out) < r["out_bytes"] and mode != "TIMING":
            out = self.read_tensor(SPECIAL["OUTPUT"])[0]
        res = InferResult(np.frombuffer(out, model.out_dtype).reshape(model.out_shape) if out else
                          np.zeros(0), COUNTER_NAMES.get(r["counter_kind"], "unknown"), r["repeat"],
                          r["total_sum"], r["total_min"], r["total_max"])
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
