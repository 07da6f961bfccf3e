"""`hil bench mlperf`: hil's firmware measured the MLPerf Tiny way, beside hil's own figures
(format `hil-bench-mlperf`; docs/mlperf-tiny.md).

1. Performance mode on the QEMU twin (`mlperf-qemu`, one image serving the model): 5 windows of
   (db load, `infer N W`), the median throughput and its latency in microseconds of guest time
   (m-lap-us-: exact guest instructions at the nominal 168 MHz). Beside it, on the same image and
   connection, hil's own count of one inference (binary INFER in TIMING mode: guest instructions),
   converted at the same clock.
2. The cost of the text protocol against hil's binary one, per model, on the same twin one after
   the other: bytes on the wire per vector (load + inference + answer, both directions, counted
   at the link) and vectors per second of host wall time (which varies about 30 % run to run here:
   read the ratio, measured side by side).
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

from rich.table import Table

from golden import bundle, subset
from golden.paths import artifact_dir
from hil.boards import BoardOptions, board_class
from hil.device import Device
from hil.mlperf.dut import Performance
from hil.mlperf.tasks import PERF_SETTINGS, PERF_WINDOWS, task_of

FORMAT, VERSION = "hil-bench-mlperf", 1


def _wire(board) -> int:
    return board.link.bytes_in + board.link.bytes_out


@dataclass(frozen=True)
class ProtocolPhase:
    """Vectors run through one protocol: wire bytes per vector and vectors per second of wall time."""
    vectors: int
    wire_bytes_per_vector: float
    vectors_per_s: float

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class ProtocolCost:
    """One model's vectors through the text protocol and through hil's binary one, on the same twin."""
    model: str
    input_bytes: int
    text: ProtocolPhase
    binary: ProtocolPhase

    @property
    def text_over_binary_bytes(self) -> float:
        return self.text.wire_bytes_per_vector / self.binary.wire_bytes_per_vector

    @property
    def binary_over_text_speed(self) -> float:
        return self.binary.vectors_per_s / self.text.vectors_per_s

    def to_json(self) -> dict:
        return dict(model=self.model, input_bytes=self.input_bytes, text=self.text.to_json(),
                    binary=self.binary.to_json(), text_over_binary_bytes=self.text_over_binary_bytes,
                    binary_over_text_speed=self.binary_over_text_speed)


@dataclass(frozen=True)
class PerfFigures:
    """Performance mode, and hil's own count of one inference on the same image, at the same clock."""
    performance: Performance
    task: str
    clock_hz: int
    hil_counter: str
    hil_count: float              # counts per inference (binary INFER in TIMING mode)

    @property
    def hil_latency_us(self) -> float:
        return self.hil_count / self.clock_hz * 1e6

    def to_json(self) -> dict:
        return dict(**self.performance.to_json(), task=self.task, clock_hz=self.clock_hz,
                    hil_counter=self.hil_counter, hil_count=self.hil_count, hil_latency_us=self.hil_latency_us)


@dataclass
class MlperfBench:
    """`hil bench mlperf` (`format: hil-bench-mlperf`)."""
    board: str
    perf: PerfFigures | None = None
    link: list[ProtocolCost] = field(default_factory=list)

    def to_json(self) -> dict:
        return dict(format=FORMAT, version=VERSION, board=self.board,
                    perf=self.perf.to_json() if self.perf else None, link=[c.to_json() for c in self.link])


def _phase(board, run_one, inputs) -> ProtocolPhase:
    w0, t0 = _wire(board), time.perf_counter()
    for x in inputs:
        run_one(x)
    dt = time.perf_counter() - t0
    return ProtocolPhase(len(inputs), (_wire(board) - w0) / len(inputs), len(inputs) / dt)


def bench_mlperf(perf_model: str = "kws_dscnn", models: list[str] | None = None, vectors: int = 20,
                 n: int | None = None, warmup: int | None = None, windows: int = PERF_WINDOWS) -> MlperfBench:
    models = models or ["kws_dscnn", "mnist_lenet"]
    ref_n, ref_w = PERF_SETTINGS.get(task_of(perf_model), (20, 5))
    n, warmup = n or ref_n, ref_w if warmup is None else warmup
    board = board_class("mlperf-qemu")(BoardOptions(models=[perf_model] + [m for m in models if m != perf_model],
                                                    timeout=10))
    out = MlperfBench(board.name)
    with board:
        for name in [perf_model] + [m for m in models if m != perf_model]:
            b = bundle.read(artifact_dir(name))
            dm = board.info.model(name)
            chosen = subset.select(b.labels, vectors).tolist()
            inputs = [b.inputs[i].reshape(dm.in_shape) for i in chosen]
            board.device.run(dm, inputs[0])                         # serve this model (a twin redeploys)
            text = _phase(board, lambda x: board.device.run(dm, x), inputs)
            binary_dev = Device(board.link, timeout=10)             # the same image, the same connection
            binary_dev.sync()
            info = binary_dev.info()
            bm = info.model(name)
            binary = _phase(board, lambda x: binary_dev.run(bm, x), inputs)
            out.link.append(ProtocolCost(name, dm.in_bytes, text, binary))
            if name == perf_model:
                perf = board.device.performance(dm, inputs[0], n, warmup, windows)
                binary_dev.load_input(bm.id, inputs[0].astype("int8").tobytes())
                r = binary_dev.infer(bm, "TIMING", repeat=3)
                out.perf = PerfFigures(perf, task_of(name), info.clock_hz, info.counter, r.total_sum / r.repeat)
            board.device.client.flush()
    return out


def tables(bench: MlperfBench) -> list[Table]:
    p, perf = bench.perf, bench.perf.performance
    t = Table(title=f"MLPerf Tiny performance mode on {bench.board}: {perf.model} ({p.task}), "
                    f"{len(perf.window_us)} windows of infer {perf.n} {perf.warmup}")
    for c in ("figure", "value", "unit / source"):
        t.add_column(c)
    t.add_row("median throughput", f"{perf.median_throughput:.3f}", "inferences per second of guest time")
    t.add_row("latency (median window)", f"{perf.median_latency_us:,.1f}",
              "microseconds of guest time (m-lap-us-: instructions at the nominal clock)")
    t.add_row("windows", ", ".join(f"{w:,}" for w in perf.window_us), "microseconds per window (t1 - t0)")
    t.add_row("hil's own count", f"{p.hil_count:,.0f}", f"{p.hil_counter} (binary INFER, same image)")
    t.add_row("hil's own latency", f"{p.hil_latency_us:,.1f}", f"microseconds at {p.clock_hz / 1e6:g} MHz")
    u = Table(title="text protocol against hil's binary protocol, per vector (load + inference + answer)")
    for c in ("model", "input bytes", "text wire bytes", "binary wire bytes", "text / binary",
              "text vectors/s", "binary vectors/s", "binary / text speed"):
        u.add_column(c, justify="right")
    for c in bench.link:
        u.add_row(c.model, str(c.input_bytes), f"{c.text.wire_bytes_per_vector:,.0f}",
                  f"{c.binary.wire_bytes_per_vector:,.0f}", f"{c.text_over_binary_bytes:.2f}",
                  f"{c.text.vectors_per_s:.1f}", f"{c.binary.vectors_per_s:.1f}",
                  f"{c.binary_over_text_speed:.2f}")
    return [t, u]
