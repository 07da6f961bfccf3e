"""Run golden vectors on a board and judge them: the core of `hil run`,
`hil profile` and the pytest plugin.

Each vector gives a typed `hil.compare.VectorVerdict`; a model's results are
a `hil.results.model_result.ModelResult`, whose `to_json()` is the documented,
versioned JSON format (docs/results-json.md, `format: hil-run`, `version: 2`). Every figure carries its unit: `instructions`
on the QEMU twin, `cycles` on silicon (DWT), `modelled_cycles` on the FPGA
twin; never a bare count. Nothing here imports torch: the golden side is read
from its artifacts (golden.paths, golden.bundle, golden.intsim).
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

from golden import bundle, qmodel, subset
from golden.intsim.run import IntegerSimulator, dequantize
from golden.paths import artifact_dir, qmodel_path
from golden.qmodel import QModel
from golden.registry import DEFAULT_MODELS, check_built
from hil.boards.base import Board, BoardError, Capability
from hil.boards.identity import BoardIdentity
from hil import recovery, tflm_check
from hil.compare import VectorVerdict, first_differing_layer, summarize
from hil.errors import ModelNotOnDevice
from hil.inject import injected
from hil.results.model_result import (RESULTS_FORMAT, RESULTS_VERSION, UNITS, Accuracy, ClassAccuracy,  # noqa: F401
                                      FailedVector, LatencyMs, LayerFigure, LinkReport, ModelResult,
                                      ProfileResult, Restart, Total, VectorRecord, VsFloat, unit_of)

MEASURED = set(UNITS)


def _figures(counter: str, total, macs: int) -> tuple:
    """(figure, MACs per unit), both None without a counter or a total."""
    if unit_of(counter) is None or total is None:
        return None, None
    return total, (macs / total) if total else None


# Per-layer figures are read for the first N vectors of a run only: they hardly
# depend on the data, and reading them is one more round trip per vector.
LAYER_COUNT_VECTORS = 10


def first_vectors(order: list[int], n: int = LAYER_COUNT_VECTORS) -> frozenset[int]:
    """The bundle indices that read per-layer figures in a run that runs `order` in this order."""
    return frozenset(int(i) for i in order[:n])


@dataclass
class ModelRun:
    """Golden references of one model plus the device's view of it.

    `layer_vectors`: the bundle indices whose per-layer figures are read, set by whoever knows
    the run's order (`run_model`: the first N of its selection; the pytest plugin: the first N
    collected). None: the first LAYER_COUNT_VECTORS distinct vectors run through this ModelRun.
    `qmodel`: the artifact (its JSON document is turned into a QModel here).
    """
    name: str
    bundle: bundle.Bundle
    qmodel: QModel
    device_model: object
    layer_vectors: frozenset[int] | None = None
    sim: IntegerSimulator = field(init=False)
    _layers_read: set[int] = field(init=False, default_factory=set, repr=False)

    def __post_init__(self):
        self.qmodel = QModel.of(self.qmodel)
        self.sim = IntegerSimulator(self.qmodel.to_json())

    def reads_layers(self, i: int) -> bool:
        """Does vector i read per-layer figures (see `layer_vectors`)?"""
        if self.layer_vectors is not None:
            return i in self.layer_vectors
        if i not in self._layers_read and len(self._layers_read) >= LAYER_COUNT_VECTORS:
            return False
        self._layers_read.add(i)
        return True

    @property
    def task(self) -> str:
        return "regression" if self.classes is None else "classification"

    # the qmodel artifact's fields the run reads (golden/artifact.py defines the format)
    @property
    def model_hash(self) -> str:
        return self.qmodel.hash

    @property
    def macs(self) -> int:
        return self.qmodel.macs

    @property
    def classes(self) -> list[str] | None:
        classes = self.qmodel.classes
        return None if classes is None else list(classes)

    @property
    def layers(self) -> list[LayerFigure]:
        """Each layer's name, op and MACs (no figures)."""
        return [LayerFigure(L.name, L.op, L.macs) for L in self.qmodel.layers]


def prepare(board: Board, name: str) -> ModelRun:
    """Load references and check the device runs the same quantized model."""
    check_built(name)
    b = bundle.read(artifact_dir(name))
    qm = qmodel.load(qmodel_path(name))
    try:
        dm = board.info.model(name)
    except ModelNotOnDevice as exc:
        raise ModelNotOnDevice(f"{board.name}: {exc}; rebuild the firmware with this model") from None
    mr = ModelRun(name, b, qm, dm)
    if dm.model_hash != mr.model_hash:
        raise BoardError(f"{board.name}: model '{name}' on the device was built from {dm.model_hash[:19]}, "
                         f"the golden artifact is {mr.model_hash[:19]}: rebuild/redeploy the firmware")
    return mr


def _layer_mode(board: Board, mr: ModelRun, i: int) -> str:
    return "LAYER_COUNTS" if board.info.counter in MEASURED and mr.reads_layers(i) else "OUTPUTS"


def run_vector(board: Board, mr: ModelRun, i: int) -> VectorVerdict:
    """Run vector i, restarting a dead or hung device (hil/recovery.py)."""
    return recovery.with_restarts(board, mr.name, i, lambda: run_vector_once(board, mr, i))


def run_vector_once(board: Board, mr: ModelRun, i: int) -> VectorVerdict:
    """Run vector i; on an integer mismatch, localise the first differing layer."""
    t0 = time.perf_counter()
    res = board.device.run(mr.device_model, mr.bundle.inputs[i], _layer_mode(board, mr, i))
    rtt = time.perf_counter() - t0
    measured = board.info.counter in MEASURED
    v = VectorVerdict(index=i, label=mr.bundle.labels[i].tolist(), device=res.output.reshape(-1),
                      expected=mr.bundle.int_logits[i].reshape(-1),
                      count=res.total_sum if measured else None,
                      layer_counts=res.layer_counts or None, round_trip_s=rtt)
    if not v.int_match and Capability.LAYER_TENSORS in board.capabilities:
        deep = board.device.run(mr.device_model, mr.bundle.inputs[i], "LAYER_TENSORS")
        _, sim_layers = mr.sim.run_one(mr.bundle.inputs[i], keep_layers=True)
        where = first_differing_layer(deep.layer_tensors, sim_layers, [L.name for L in mr.layers])
        if where:
            v.first_bad_layer, v.first_bad_index = where
    return v


def describe_mismatch(mr: ModelRun, v: VectorVerdict) -> str:
    return f"{mr.name} {v.describe()}"


def run_model(board: Board, name: str, vectors: int | None = None,
              progress: Callable[[int, int], None] | None = None,
              sink: Callable[[ModelRun, VectorVerdict], None] | None = None,
              done: list[VectorVerdict] | None = None) -> ModelResult:
    """Run all vectors, or a seeded class-stratified subset of `vectors` (golden.subset). `sink`
    sees each verdict as it finishes (the results store commits it); `done` holds verdicts of an
    interrupted run, which are not run again (resume). Per-layer figures are read for the first
    LAYER_COUNT_VECTORS of the selection, in its order; a resumed run has the same selection, so the
    vectors it already recorded count towards them. A dead device is restarted (hil/recovery.py);
    a vector that kills it twice is listed as failed; a device dead after its restarts ends the
    run with what is done (`aborted`)."""
    mr = prepare(board, name)
    chosen = subset.select(mr.bundle.labels, vectors).tolist()
    mr.layer_vectors = first_vectors(chosen)
    link0 = link_mark(board)
    wanted = set(chosen)
    per_vector, failed, aborted = [v for v in (done or []) if v.index in wanted], [], None
    have = {v.index for v in per_vector}
    for k, i in enumerate(chosen, start=1):
        if i not in have:
            try:
                per_vector.append(run_vector(board, mr, i))
            except recovery.VectorFailed as exc:      # killed the device twice: judged as failed, run goes on
                failed.append(FailedVector(i, str(exc)))
            except BoardError as exc:                 # dead after its restarts: keep what is done
                aborted = str(exc)
                break
            else:
                if sink:
                    sink(mr, per_vector[-1])
        if progress:
            progress(k, len(chosen))
    return assemble(board.identity(), mr, per_vector, link_report(board, link0), failed,
                    restarts_of(board, name), aborted)


def restarts_of(board: Board, model: str) -> list[Restart]:
    """The board's restarts while it ran `model`."""
    return [r for r in board.restart_log if r.model == model]


def assemble(board: BoardIdentity, mr: ModelRun, per_vector: list[VectorVerdict], link: LinkReport,
             failed: list[FailedVector] = (), restarts: list[Restart] = (), aborted: str | None = None,
             boards: int | None = None) -> ModelResult:
    """The results of one model from its verdicts.

    Every figure is computed from the recorded vectors and the golden rows of
    *their* indices (a `-k` subset or a run with failures judges what ran).
    """
    per_vector = sorted(per_vector, key=lambda v: v.index)
    n = len(per_vector)
    idx = np.array([v.index for v in per_vector], dtype=np.int64)
    dev = np.array([v.device for v in per_vector]).reshape((n,) + tuple(mr.bundle.int_logits.shape[1:]))
    fl = mr.bundle.float_logits         # None: a .tflite import without a float model (no float column)
    rep = summarize(dev, mr.bundle.int_logits[idx], lambda q: dequantize(mr.qmodel.to_json(), q),
                    None if fl is None else fl[idx], mr.bundle.labels[idx], mr.task, mr.classes)
    # Whole-inference figures from the vectors that did not read per-layer
    # figures when there are any: the per-layer hook adds its own instructions.
    plain = [v for v in per_vector if v.count is not None and not v.layer_counts]
    counts = [v.count for v in (plain or per_vector) if v.count is not None]
    clock, counter = board.clock_hz, board.counter
    total = Total(statistics.median(counts), min(counts), max(counts)) if counts else None
    unit = unit_of(counter)
    figure, macs_per = _figures(counter, total.median if total else None, mr.macs)
    rtts = [v.round_trip_s for v in per_vector]
    fig = tflm_check.figures(mr, per_vector, idx, dev)     # .tflite models only
    records = [VectorRecord.of(v) for v in per_vector]
    if fig is not None:
        records = [replace(r, tflm_match=bool(ok)) for r, ok in zip(records, fig.per_vector_match)]
    return ModelResult(
        board=board.name, device_board=board.device_board, firmware=board.fw_version,
        build_hash=board.build_hash, clock_hz=clock, model=mr.name,
        model_hash=mr.model_hash, bundle_hash=mr.bundle.info.hash,
        vectors=n, int_mismatches=rep.int_mismatches,
        mismatched_vectors=[int(idx[k]) for k in rep.mismatched_vectors],
        mismatch_details=[describe_mismatch(mr, v) for v in per_vector if not v.int_match][:20],
        accuracy=Accuracy.from_json(rep.accuracy), per_class=[ClassAccuracy.from_json(c) for c in rep.per_class],
        vs_float=VsFloat.from_json(rep.vs_float),
        counter=counter, counter_note=counter_note(counter), unit=unit[0] if unit else None,
        total=total, figure=figure, macs_per=macs_per,
        layers=layer_table(mr.layers, [v.layer_counts for v in per_vector if v.layer_counts], counter),
        latency_ms=LatencyMs(device=(total.median / clock * 1e3) if total and clock else None,
                             round_trip=statistics.median(rtts) * 1e3 if rtts else None),
        link=link,
        restarts=list(restarts),
        failed_vectors=sorted(failed, key=lambda f: f.index),
        per_vector=records, tflm=None if fig is None else fig.report,
        aborted=aborted, boards=boards,
    )


def link_mark(board: Board) -> tuple:
    """Where the link counters stand now; link_report() gives what happened since."""
    return (board.wire_bytes(), board.device.payload_bytes, time.perf_counter(), board.device.stats.copy(),
            injected(board.link))


def link_report(board: Board, mark: tuple) -> LinkReport:
    """Bytes, time and every recovery the link needed since `mark` (docs/results-json.md)."""
    wire0, payload0, t0, stats0, inj0 = mark
    stats = board.device.stats.minus(stats0)
    extra = {}
    inj = injected(board.link)
    if inj is not None:
        before = (inj0 or {}).get("total", {})
        extra = dict(injected={k: v - before.get(k, 0) for k, v in inj["total"].items()},
                     inject_spec=str(board.link.spec))
    return LinkReport(payload_bytes=board.device.payload_bytes - payload0, wire_bytes=board.wire_bytes() - wire0,
                      seconds=time.perf_counter() - t0, **stats,
                      dropped_frames=stats["naks"] + stats["corrupt_frames"] + stats["stale_frames"], **extra)


def counter_note(counter: str) -> str:
    return {
        "icount": "guest instructions on the QEMU twin (exact, -icount shift=0), not silicon cycles",
        "dwt": "silicon core clock cycles (DWT CYCCNT)",
        "systick": "core clock cycles from SysTick",
        "systick_icount": "SysTick ticks under QEMU -icount (0.168 per instruction), not silicon cycles",
        "modelled": "modelled HLS cycles from loop structure, not measured",
        "lap_us": "microseconds of the device's own clock (MLPerf Tiny m-lap-us-)",
        "none": "no counter on this board",
    }.get(counter, counter)


def layer_table(layers: list[LayerFigure], layer_counts: list[list[int]], counter: str) -> list[LayerFigure]:
    """Per layer: name, type, MACs, and with a counter the median figure in its unit,
    its share of the summed layers and MACs per unit."""
    med = ([statistics.median(c[i] for c in layer_counts) for i in range(len(layers))]
           if layer_counts else [None] * len(layers))
    total = sum(m for m in med if m) or None
    return [LayerFigure(L.name, L.type, L.macs, (c / total) if (c is not None and total) else None,
                        *_figures(counter, c, L.macs))
            for L, c in zip(layers, med)]


def profile_model(board: Board, name: str, repeats: int = 5) -> ProfileResult:
    """Per-layer counts (median) over `repeats` vectors chosen as `run_model` chooses them."""
    mr = prepare(board, name)
    if board.info.counter not in MEASURED or Capability.MLPERF_TEXT in board.capabilities:
        raise BoardError(f"{board.name}: no per-layer cycle counter (counter kind '{board.info.counter}'), "
                         f"nothing to profile")
    counts, totals = [], []
    for i in subset.select(mr.bundle.labels, repeats).tolist():
        r = board.device.run(mr.device_model, mr.bundle.inputs[i], "LAYER_COUNTS")
        counts.append(r.layer_counts)
        # the total again without the per-layer hook (the input stays loaded)
        totals.append(board.device.infer(mr.device_model, "OUTPUTS").total_sum)
    counter = board.info.counter
    total = Total(statistics.median(totals), min(totals), max(totals))
    return ProfileResult(board=board.name, model=name, build_hash=board.info.build_hash,
                         counter=counter, counter_note=counter_note(counter), unit=unit_of(counter)[0],
                         clock_hz=board.info.clock_hz, macs=mr.macs, total=total,
                         figure=total.median, macs_per=_figures(counter, total.median, mr.macs)[1],
                         layers=layer_table(mr.layers, counts, counter), memory=_model_memory(board, name))


def _model_memory(board: Board, name: str) -> dict | None:
    """The board's memory record with this model's entry as `model`."""
    mem = board.memory()
    if not mem:
        return None
    mem = dict(mem)
    mem["model"] = mem.pop("models").get(name)
    return mem


def default_models() -> list[str]:
    return list(DEFAULT_MODELS)
