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

import time

from rich.table import Table

from golden import bundle, subset
from golden.paths import artifact_dir
from hil.boards import BoardOptions, board_class
from hil.device import Device
from hil.mlperf.tasks import PERF_SETTINGS, PERF_WINDOWS, task_of

FORMAT, VERSION = "hil-bench-mlperf", 1


def _wire(board) -> int:
    return board.link.bytes_in + board.link.bytes_out


def _phase(board, run_one, inputs) -> dict:
    w0, t0 = _wire(board), time.perf_counter()
    for x in inputs:
        run_one(x)
    dt = time.perf_counter() - t0
    return dict(vectors=len(inputs), wire_bytes_per_vector=(_wire(board) - w0) / len(inputs),
                vectors_per_s=len(inputs) / dt)


def bench_mlperf(perf_model: str = "kws_dscnn", models: list[str] | None = None, vectors: int = 20,
                 n: int | None = None, warmup: int | None = None, windows: int = PERF_WINDOWS) -> dict:
    models = models or ["kws_dscnn", "mnist_lenet"]
    ref_n, ref_w = PERF_SETTINGS.get(task_of(perf_model), (20, 5))
    n, warmup = n or ref_n, ref_w if warmup is None else warmup
    board = board_class("mlperf-qemu")(BoardOptions(models=[perf_model] + [m for m in models if m != perf_model],
                                                    timeout=10))
    doc = dict(format=FORMAT, version=VERSION, board=board.name, perf=None, link=[])
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
            doc["link"].append(dict(model=name, input_bytes=dm.in_bytes, text=text, binary=binary,
                                    text_over_binary_bytes=text["wire_bytes_per_vector"] / binary["wire_bytes_per_vector"],
                                    binary_over_text_speed=binary["vectors_per_s"] / text["vectors_per_s"]))
            if name == perf_model:
                perf = board.device.performance(dm, inputs[0], n, warmup, windows)
                binary_dev.load_input(bm.id, inputs[0].astype("int8").tobytes())
                r = binary_dev.infer(bm, "TIMING", repeat=3)
                per = r.total_sum / r.repeat
                doc["perf"] = dict(**perf.to_json(), task=task_of(name), clock_hz=info.clock_hz,
                                   hil_counter=info.counter, hil_count=per,
                                   hil_latency_us=per / info.clock_hz * 1e6)
            board.device.client.flush()
    return doc


def tables(doc: dict) -> list[Table]:
    p = doc["perf"]
    t = Table(title=f"MLPerf Tiny performance mode on {doc['board']}: {p['model']} ({p['task']}), "
                    f"{p['windows']} windows of infer {p['n']} {p['warmup']}")
    for c in ("figure", "value", "unit / source"):
        t.add_column(c)
    t.add_row("median throughput", f"{p['median_inferences_per_s']:.3f}", "inferences per second of guest time")
    t.add_row("latency (median window)", f"{p['median_latency_us']:,.1f}",
              "microseconds of guest time (m-lap-us-: instructions at the nominal clock)")
    t.add_row("windows", ", ".join(f"{w:,}" for w in p["window_us"]), "microseconds per window (t1 - t0)")
    t.add_row("hil's own count", f"{p['hil_count']:,.0f}", f"{p['hil_counter']} (binary INFER, same image)")
    t.add_row("hil's own latency", f"{p['hil_latency_us']:,.1f}", f"microseconds at {p['clock_hz'] / 1e6:g} MHz")
    u = Table(title="text protocol against hil's binary protocol, per vector (load + inference + answer)")
    for c in ("model", "input bytes", "text wire bytes", "binary wire bytes", "text / binary",
              "text vectors/s", "binary vectors/s", "binary / text speed"):
        u.add_column(c, justify="right")
    for r in doc["link"]:
        u.add_row(r["model"], str(r["input_bytes"]), f"{r['text']['wire_bytes_per_vector']:,.0f}",
                  f"{r['binary']['wire_bytes_per_vector']:,.0f}", f"{r['text_over_binary_bytes']:.2f}",
                  f"{r['text']['vectors_per_s']:.1f}", f"{r['binary']['vectors_per_s']:.1f}",
                  f"{r['binary_over_text_speed']:.2f}")
    return [t, u]
