"""`sim`: a device answered by the integer simulator, over a real TCP socket.

No firmware and no emulator: a thread serves the wire protocol from
golden.intsim, so the plugin, the CLI and the host protocol code can be
exercised in a second. It has no counter (counter kind NONE) and is not a
substitute for the emulated boards, which run the real firmware.
"""
from __future__ import annotations

import socket
import threading

import numpy as np

from golden import qmodel
from golden.paths import qmodel_path
from golden.intsim.run import IntegerSimulator
from hil.boards.base import Board, Capability
from hil.protocol import codec, spec
from hil.protocol.limits import max_repeat

ERR = {n: i for n, i, _ in spec.ERRORS}
DTYPE_IDS = {n: i for n, i, _ in spec.DTYPES}
OP_IDS = {n: i for n, i, _ in spec.OPS}
SPECIAL = {n: i for n, i, _ in spec.SPECIAL_TENSORS}


def _wire_name(name: str) -> str:
    """A layer name as the 16-byte ASCII field carries it (layer names may hold anything: issue 17)."""
    return name.encode("ascii", "replace")[:16].decode("ascii")


class _Reject(Exception):
    def __init__(self, code: str, detail: int = 0):
        self.code, self.detail = ERR[code], detail


class SimDevice:
    """Protocol logic of a device whose kernels are the integer simulator."""

    def __init__(self, model_names: list[str]):
        self.models = [qmodel.load(qmodel_path(n)) for n in model_names]
        self.sims = [IntegerSimulator(q.to_json()) for q in self.models]
        self.input = bytearray()
        self.input_model, self.filled = -1, 0
        self.result: dict[int, tuple[bytes, str]] = {}
        self.result_model = -1

    def handle(self, frame: codec.Frame) -> bytes:
        if frame.version != spec.PROTOCOL_VERSION:
            return self._error(frame, ERR["BAD_VERSION"], spec.PROTOCOL_VERSION)
        lay = codec.LAYOUTS_BY_ID.get(frame.type)
        if lay is None or lay.dir != "h2d":
            return self._error(frame, ERR["UNKNOWN_TYPE"], frame.type)
        try:
            fields = codec.unpack_payload(lay.name, frame.payload)
        except Exception:  # noqa: BLE001 - any unpack failure is a bad payload
            return self._error(frame, ERR["BAD_PAYLOAD"], lay.fixed_len)
        try:
            rsp = getattr(self, "on_" + lay.name.lower())(**fields.as_dict())
        except _Reject as r:
            return self._error(frame, r.code, r.detail)
        except Exception:  # noqa: BLE001 - a device answers every request, even on a bug
            return self._error(frame, ERR["INTERNAL"], 0)
        rsp_name = lay.name + "_RSP"
        return codec.encode_frame(codec.layout(rsp_name).id, frame.seq, codec.pack_payload(rsp_name, rsp))

    def _error(self, frame, code: int, detail: int) -> bytes:
        return codec.encode_message("ERROR", frame.seq, code=code, request_type=frame.type, detail=detail)

    def _model(self, model_id: int) -> int:
        if model_id >= len(self.models):
            raise _Reject("UNKNOWN_MODEL", len(self.models))
        return model_id

    def on_ping(self):
        from hil.protocol.spec_hash import spec_hash32
        return dict(proto_version=spec.PROTOCOL_VERSION, max_payload=spec.MAX_PAYLOAD,
                    spec_hash32=spec_hash32())

    def on_info(self):
        return dict(fw_version="sim-1", build_hash="golden-intsim", board="sim", clock_hz=0,
                    counter_kind=0, run_modes=0b1111, model_count=len(self.models))

    def on_model_info(self, model_id):
        q = self.models[self._model(model_id)]
        i, o = q.input, q.output
        return dict(model_id=model_id, name=q.model, model_hash=bytes.fromhex(q.hash[7:]),
                    in_dtype=DTYPE_IDS["int8"], in_ndim=len(i.shape), in_dims=list(i.shape),
                    in_bytes=int(np.prod(i.shape)), out_dtype=DTYPE_IDS[o.dtype],
                    out_ndim=len(o.shape), out_dims=list(o.shape),
                    out_bytes=int(np.prod(o.shape)) * np.dtype(o.dtype).itemsize,
                    layer_count=len(q.layers), macs=q.macs)

    def on_layer_info(self, model_id, layer):
        q = self.models[self._model(model_id)]
        if layer >= len(q.layers):
            raise _Reject("BAD_LAYER", len(q.layers))
        L = q.layers[layer]
        dt = "int8" if q.scheme == "int8" else "int32"
        return dict(model_id=model_id, layer=layer, op=OP_IDS.get(L.op, 0), name=_wire_name(L.name),
                    out_dtype=DTYPE_IDS[dt], out_ndim=len(L.out_shape), out_dims=list(L.out_shape),
                    out_bytes=int(np.prod(L.out_shape)) * np.dtype(dt).itemsize, macs=L.macs)

    def on_load_input(self, model_id, total, offset, data):
        need = int(np.prod(self.models[self._model(model_id)].input.shape))
        if total != need:
            raise _Reject("WRONG_INPUT_SIZE", need)
        # Every check before any state changes, as hil_device.c: a refused chunk keeps input and results.
        if (offset != 0 and (model_id != self.input_model or offset > self.filled)) or offset + len(data) > total:
            raise _Reject("BAD_OFFSET", self.filled)
        if offset == 0:
            self.input, self.input_model, self.filled, self.result = bytearray(need), model_id, 0, {}
        self.input[offset:offset + len(data)] = data
        self.filled = max(self.filled, offset + len(data))
        return dict(model_id=model_id, total=total, filled=self.filled)

    def on_infer(self, model_id, mode, repeat):
        sim = self.sims[self._model(model_id)]
        if mode > 3:
            raise _Reject("BAD_MODE", 0b1111)
        if (mode < 3 and repeat != 1) or repeat == 0:
            raise _Reject("BAD_PAYLOAD", codec.layout("INFER").fixed_len)
        cap = max_repeat(self.models[model_id].macs)
        if repeat > cap:
            raise _Reject("REPEAT_TOO_LARGE", cap)
        if model_id != self.input_model or self.filled != len(self.input):
            raise _Reject("INPUT_NOT_LOADED", self.filled if model_id == self.input_model else 0)
        x = np.frombuffer(bytes(self.input), np.int8).reshape(sim.input_shape)
        out, layers = sim.run_one(x, keep_layers=True)
        dt = "int8" if sim.scheme == "int8" else "<i4"
        self.result = {SPECIAL["OUTPUT"]: (out.astype(dt).tobytes(), "int8" if dt == "int8" else "int32")}
        if mode in (1, 2):
            self.result[SPECIAL["LAYER_COUNTS"]] = (bytes(4 * len(layers)), "uint32")
        if mode == 2:
            for i, t in enumerate(layers):
                self.result[i] = (t.astype(dt).tobytes(), "int8" if dt == "int8" else "int32")
        self.result_model = model_id
        out_b = self.result[SPECIAL["OUTPUT"]][0]
        room = spec.MAX_PAYLOAD - codec.layout("INFER_RSP").fixed_len
        return dict(model_id=model_id, mode=mode, counter_kind=0, repeat=repeat, layer_count=len(layers),
                    out_bytes=len(out_b), total_sum=0, total_min=0, total_max=0,
                    output=b"" if mode == 3 else out_b[:room])

    def on_read_tensor(self, tensor, offset):
        n_layers = len(self.models[self.result_model].layers) if self.result_model >= 0 else 0
        if tensor < min(SPECIAL.values()) and self.result and tensor >= n_layers:
            raise _Reject("BAD_LAYER", n_layers)
        if tensor not in self.result:
            raise _Reject("NO_RESULT")
        data, dtype = self.result[tensor]
        if offset > len(data):
            raise _Reject("BAD_OFFSET", len(data))
        room = spec.MAX_PAYLOAD - codec.layout("READ_TENSOR_RSP").fixed_len
        return dict(model_id=self.result_model, tensor=tensor, dtype=DTYPE_IDS[dtype], total=len(data),
                    offset=offset, data=data[offset:offset + room])


class SimServer:
    """Serves one SimDevice on 127.0.0.1:<free port>, one client at a time."""

    def __init__(self, model_names: list[str]):
        self.device = SimDevice(model_names)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True, name="hil-sim")
        self.thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(0.2)
                decoder = codec.FrameDecoder()
                while not self._stop.is_set():
                    try:
                        data = conn.recv(4096)
                    except socket.timeout:
                        continue
                    except OSError:
                        break
                    if not data:
                        break   # host disconnected: a reconnect gets a fresh decoder
                    for item in decoder.feed(data):
                        if isinstance(item, codec.FrameFault):
                            too_large = item.code == ERR["PAYLOAD_TOO_LARGE"]
                            out = codec.encode_message("ERROR", spec.SEQ_NONE, code=item.code, request_type=0,
                                                       detail=spec.MAX_PAYLOAD if too_large else 0)
                        else:
                            out = self.device.handle(item)
                        conn.sendall(out)

    def close(self) -> None:
        self._stop.set()
        self.sock.close()
        self.thread.join(timeout=2)


class SimBoard(Board):
    name = "sim"
    description = "integer simulator behind the real wire protocol (no firmware, no counter)"
    capabilities = frozenset({Capability.EMULATED, Capability.LAYER_TENSORS})

    def build(self) -> None:
        self._server = None

    def deploy(self) -> str:
        self._server = SimServer(self.options.models)
        return f"socket://127.0.0.1:{self._server.port}"

    def stop(self) -> None:
        if getattr(self, "_server", None) is not None:
            self._server.close()
            self._server = None

