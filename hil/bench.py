"""Benchmarks (figures, not pass/fail tests; docs/performance.md).

`hil bench kernels`: the plain C reference kernels against the optimised ones.
Builds the STM32 firmware twice (KERNELS=ref and KERNELS=opt, separate build
directories), runs every model on the QEMU twin with each, and reports per
model and per layer the guest instructions of both (exact under -icount,
median over the first vectors), instructions per MAC and the ratio
(`format: hil-bench-kernels`).

`hil bench link`: what the link moves. Per model, loading inputs (LOAD_INPUT
exchanges only) and whole vectors (load + INFER): payload bytes per second,
the payload's share of the wire bytes, milliseconds per exchange
(`format: hil-bench-link`).
"""
from __future__ import annotations

import dataclasses
import statistics
import time
from dataclasses import dataclass

import numpy as np
from rich.table import Table

from golden import artifact
from golden.paths import qmodel_path

from hil.boards import BoardOptions, board_class
from hil.boards.base import BoardError
from hil.lab_config import BoardConfig

BENCH_FORMAT, BENCH_VERSION = "hil-bench-kernels", 1
LINK_FORMAT, LINK_VERSION = "hil-bench-link", 1
VARIANTS = ("ref", "opt")


def _per_mac(instr, macs):
    return (instr / macs) if instr and macs else None


@dataclass(frozen=True)
class KernelParams:
    """What a layer's kernel was given: padding as the artifact writes it ([ph, pw] symmetric, [top, bottom,
    left, right] asymmetric, e.g. TFLite's SAME with stride 2) and how many distinct requantization
    multiplier/shift pairs (1: per-tensor; more: per-channel, as TFLite's int8 weights have)."""
    layer: str
    padding: list | None
    requant_pairs: int

    @classmethod
    def from_json(cls, layer: dict) -> "KernelParams":
        """From a layer of the qmodel artifact."""
        pairs = set(zip(np.atleast_1d(layer.get("multiplier", [])).tolist(),
                        np.atleast_1d(layer.get("shift", [])).tolist()))
        return cls(layer["name"], layer.get("padding"), len(pairs))


@dataclass(frozen=True)
class KernelLayer:
    """One layer's figures with both kernel builds."""
    name: str
    type: str
    macs: int
    params: KernelParams | None      # None: no artifact layer of this name (the document then has no keys for it)
    ref: float | None
    opt: float | None
    ref_per_mac: float | None
    opt_per_mac: float | None
    speedup: float | None

    @property
    def padding(self) -> list | None:
        return self.params.padding if self.params else None

    @property
    def requant_pairs(self) -> int | None:
        return self.params.requant_pairs if self.params else None

    def to_json(self) -> dict:
        params = dict(padding=self.params.padding, requant_pairs=self.params.requant_pairs) if self.params else {}
        return dict(name=self.name, type=self.type, macs=self.macs, **params, ref=self.ref, opt=self.opt,
                    ref_per_mac=self.ref_per_mac, opt_per_mac=self.opt_per_mac, speedup=self.speedup)


@dataclass(frozen=True)
class KernelModel:
    """One model's whole-model figures with both kernel builds, and its layers'."""
    model: str
    macs: int
    ref: float
    opt: float
    ref_per_mac: float | None
    opt_per_mac: float | None
    speedup: float
    layers: list[KernelLayer]

    def to_json(self) -> dict:
        return dict(model=self.model, macs=self.macs, ref=self.ref, opt=self.opt, ref_per_mac=self.ref_per_mac,
                    opt_per_mac=self.opt_per_mac, speedup=self.speedup, layers=[L.to_json() for L in self.layers])


@dataclass(frozen=True)
class KernelsBench:
    """`hil bench kernels` (`format: hil-bench-kernels`)."""
    board: str
    unit: str
    counter: str
    counter_note: str
    repeats: int
    build_hashes: dict[str, str]     # kernel variant -> build hash of its firmware
    models: list[KernelModel]

    def to_json(self) -> dict:
        return dict(format=BENCH_FORMAT, version=BENCH_VERSION, board=self.board, unit=self.unit,
                    counter=self.counter, counter_note=self.counter_note, repeats=self.repeats,
                    build_hashes=dict(self.build_hashes), models=[m.to_json() for m in self.models])


def bench_kernels(board_name: str, models: list[str], repeats: int = 3,
                  config: BoardConfig | None = None) -> KernelsBench:
    """Profile `models` with both kernel builds on `board_name` (an STM32 board); `config`: its table
    of the lab config (the kernels key is set per build)."""
    from hil.runner import profile_model
    cls = board_class(board_name)
    if not hasattr(cls, "target"):
        raise BoardError(f"{board_name}: `hil bench kernels` needs an STM32 board (stm32f4-qemu)")
    prof = {}
    for variant in VARIANTS:
        cfg = dataclasses.replace(config or BoardConfig(), kernels=variant)
        with cls(BoardOptions(models=list(models), config=cfg)) as board:
            for m in models:
                prof[(variant, m)] = profile_model(board, m, repeats)
    unit = prof[(VARIANTS[0], models[0])].unit
    out = []
    for m in models:
        ref, opt = prof[("ref", m)], prof[("opt", m)]
        params = {k.layer: k for k in map(KernelParams.from_json, artifact.load(qmodel_path(m))["layers"])}
        layers = [KernelLayer(lr.name, lr.type, lr.macs, params.get(lr.name), lr.figure, lo.figure,
                              _per_mac(lr.figure, lr.macs), _per_mac(lo.figure, lo.macs),
                              (lr.figure / lo.figure) if lo.figure else None)
                  for lr, lo in zip(ref.layers, opt.layers)]
        out.append(KernelModel(m, ref.macs, ref.figure, opt.figure, _per_mac(ref.figure, ref.macs),
                               _per_mac(opt.figure, opt.macs), ref.figure / opt.figure, layers))
    first = prof[("opt", models[0])]
    return KernelsBench(board_name, unit, first.counter, first.counter_note, repeats,
                        {v: prof[(v, models[0])].build_hash for v in VARIANTS}, out)


def _pad_text(p) -> str:
    if not p or not any(p):
        return "-"
    return "/".join(str(v) for v in p) + (" asym" if len(p) == 4 and (p[0] != p[1] or p[2] != p[3]) else "")


def _f(v, spec=",.0f"):
    return "-" if v is None else format(v, spec)


def kernels_tables(bench: KernelsBench) -> list[Table]:
    u = bench.unit.replace("_", " ")
    summary = Table(title=f"reference vs optimised kernels on {bench.board} ({bench.counter_note})")
    for col in ("model", "MACs", f"ref {u}", f"opt {u}", "ref per MAC", "opt per MAC", "speed-up"):
        summary.add_column(col, justify="left" if col == "model" else "right")
    tables = [summary]
    for m in bench.models:
        summary.add_row(m.model, f"{m.macs:,}", _f(m.ref), _f(m.opt),
                        _f(m.ref_per_mac, ".2f"), _f(m.opt_per_mac, ".2f"), f"{m.speedup:.2f}x")
        t = Table(title=f"{m.model}: {u} per layer")
        for col in ("layer", "type", "padding", "requant", "MACs", "ref", "opt", "ref/MAC", "opt/MAC",
                    "speed-up"):
            t.add_column(col, justify="left" if col in ("layer", "type", "padding") else "right")
        t.caption = ("padding: top/bottom/left/right or h/w as given to the kernel; requant: distinct "
                     "multiplier/shift pairs (>1: per-channel). A speed-up near 1.00x marks reference code "
                     "running in the optimised build (or an op with one C kernel: pooling, softmax).")
        for L in m.layers:
            t.add_row(L.name, L.type, _pad_text(L.padding), str(L.requant_pairs or "-"), f"{L.macs:,}",
                      _f(L.ref), _f(L.opt),
                      _f(L.ref_per_mac, ".2f"), _f(L.opt_per_mac, ".2f"),
                      "-" if L.speedup is None else f"{L.speedup:.2f}x")
        tables.append(t)
    return tables


def _moved(board) -> tuple[int, int]:
    return board.device.payload_bytes, board.link.bytes_in + board.link.bytes_out


@dataclass(frozen=True)
class LinkPhase:
    """One phase of `hil bench link`: n exchanges of one kind."""
    calls: int
    payload_bytes: int
    wire_bytes: int
    payload_share: float
    payload_bytes_per_s: float         # over the time spent in the exchanges
    ms_median: float
    ms_min: float
    floor_bytes_per_s: float | None = None    # the raw floor measured alongside, where the board has one
    of_floor: float | None = None             # payload_bytes_per_s / floor_bytes_per_s

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class LinkModel:
    """One model's inputs over the link: loading them alone, and whole vectors."""
    model: str
    input_bytes: int
    frames_per_input: int
    load: LinkPhase
    vector: LinkPhase

    def to_json(self) -> dict:
        return dict(model=self.model, input_bytes=self.input_bytes, frames_per_input=self.frames_per_input,
                    load=self.load.to_json(), vector=self.vector.to_json())


@dataclass(frozen=True)
class LinkDevice:
    """What the device and its link said: its INFO board name, baud rate and max payload (PING)."""
    board: str
    baud: int
    max_payload: int

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class LinkBench:
    """`hil bench link` (`format: hil-bench-link`)."""
    board: str
    device: LinkDevice
    ping: LinkPhase
    floor: str | None                  # the raw floor's mechanism, None: the board has none
    models: list[LinkModel]

    def to_json(self) -> dict:
        return dict(format=LINK_FORMAT, version=LINK_VERSION, board=self.board, device=self.device.to_json(),
                    ping=self.ping.to_json(), floor=self.floor, models=[m.to_json() for m in self.models])


def _phase(board, fn, n: int, floor=None) -> LinkPhase:
    """Run fn(i) n times: payload and wire bytes, payload bytes/s (over the time spent in fn), share,
    ms per call. With a raw floor (hil/link_floor.py), one floor block after each call, and the
    payload bytes/s as a fraction of the floor's bytes/s measured alongside."""
    p0, w0 = _moved(board)
    times, floor_times = [], []
    for i in range(n):
        t0 = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - t0)
        if floor is not None:
            floor_times.append(floor.block())
    seconds = sum(times)
    p1, w1 = _moved(board)
    payload, wire = p1 - p0, w1 - w0
    out = LinkPhase(calls=n, payload_bytes=payload, wire_bytes=wire, payload_share=payload / wire,
                    payload_bytes_per_s=payload / seconds, ms_median=statistics.median(times) * 1e3,
                    ms_min=min(times) * 1e3)
    if floor is not None:
        floor_bytes_per_s = len(floor.data) * n / sum(floor_times)
        out = dataclasses.replace(out, floor_bytes_per_s=floor_bytes_per_s,
                                  of_floor=out.payload_bytes_per_s / floor_bytes_per_s)
    return out


def bench_link(board_name: str, models: list[str], n: int = 50, config=None) -> LinkBench:
    """Link figures for each model's inputs on one board (one session), each phase side by side
    with the raw floor of the same twin's UART where the board has one (hil/link_floor.py)."""
    from golden import bundle
    from golden.paths import artifact_dir
    from hil.link_floor import FLOORS, open_floor
    cls = board_class(board_name)
    out = []
    with cls(BoardOptions(models=list(models), config=config or BoardConfig())) as board:
        d = board.device
        ping = _phase(board, lambda i: d.request("PING"), n)
        for m in models:
            dm = board.info.model(m)
            xs = bundle.read(artifact_dir(m)).inputs
            k = min(n, len(xs))
            data = [xs[i].astype(dm.in_dtype).tobytes() for i in range(k)]
            with open_floor(board_name, dm.in_bytes) as floor:
                load = _phase(board, lambda i: d.load_input(dm.id, data[i]), k, floor)
                vec = _phase(board, lambda i: d.run(dm, xs[i], "OUTPUTS"), k, floor)
            out.append(LinkModel(m, dm.in_bytes, -(-dm.in_bytes // (d.max_payload - 9)), load, vec))
        info = LinkDevice(board.info.board, board.baudrate(), d.max_payload)
    floor = FLOORS.get(board_name)
    return LinkBench(board_name, info, ping, floor.mechanism if floor else None, out)


def link_table(bench: LinkBench) -> Table:
    t = Table(title=f"link of {bench.board} (max payload {bench.device.max_payload} bytes; "
                    f"PING median {bench.ping.ms_median:.2f} ms)")
    for col in ("model", "input bytes", "frames", "phase", "payload B/s", "payload share",
                "raw floor B/s", "of floor", "ms median", "ms min"):
        t.add_column(col, justify="left" if col in ("model", "phase") else "right")
    for m in bench.models:
        for what, p in (("load input", m.load), ("load + infer", m.vector)):
            t.add_row(m.model, f"{m.input_bytes:,}", str(m.frames_per_input), what,
                      f"{p.payload_bytes_per_s:,.0f}", f"{p.payload_share:.1%}",
                      "-" if p.floor_bytes_per_s is None else f"{p.floor_bytes_per_s:,.0f}",
                      "-" if p.of_floor is None else f"{p.of_floor:.0%}",
                      f"{p.ms_median:.1f}", f"{p.ms_min:.1f}")
    t.caption = (f"raw floor: {bench.floor}, a block of the input's size sunk after each exchange; "
                 f"of floor: payload B/s / raw floor B/s" if bench.floor
                 else "no raw floor for this board (hil/link_floor.py)")
    return t
