"""Run golden vectors on a board and judge them: the core of `hil run`,
`hil profile` and the pytest plugin.

Each vector gives a typed `hil.compare.VectorVerdict`; a model's results are
a plain dict in the documented, versioned JSON format (docs/results-json.md,
`format: hil-run`, `version: 2`). Every figure carries its unit: `instructions`
on the QEMU twin, `cycles` on silicon (DWT), `modelled_cycles` on the FPGA
twin; never a bare count. Nothing here imports torch: the golden side is read
from its artifacts (golden.paths, golden.bundle, golden.intsim).
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from golden import artifact, bundle, subset
from golden.intsim.run import IntegerSimulator, dequantize
from golden.paths import artifact_dir, qmodel_path
from golden.registry import DEFAULT_MODELS, check_built
from hil.boards.base import Board, BoardError, Capability
from hil import recovery, tflm_check
from hil.compare import VectorVerdict, first_differing_layer, summarize
from hil.errors import ModelNotOnDevice
from hil.inject import injected

RESULTS_FORMAT, RESULTS_VERSION = "hil-run", 2
# counter kind -> (unit key, singular for "MACs per ..."); kinds not listed measure nothing
UNITS = {
    "icount": ("instructions", "instruction"),
    "dwt": ("cycles", "cycle"),
    "systick": ("cycles", "cycle"),
    "modelled": ("modelled_cycles", "modelled_cycle"),
    "systick_icount": ("icount_ticks", "icount_tick"),   # old QEMU firmware: 0.168 ticks per instruction
    "lap_us": ("microseconds", "microsecond"),           # an MLPerf Tiny device's m-lap-us- (its own clock)
}
MEASURED = set(UNITS)


def unit_of(counter: str) -> tuple[str, str] | None:
    """(`instructions`, `instruction`) and so on, or None for a board without a counter."""
    return UNITS.get(counter)


def _figures(counter: str, total, macs: int) -> dict:
    """{unit: total, macs_per_<unit>: macs / total} or nothing without a counter."""
    u = unit_of(counter)
    if u is None:
        return {}
    return {u[0]: total, f"macs_per_{u[1]}": (macs / total) if total else None}


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
    """
    name: str
    bundle: bundle.Bundle
    doc: dict
    device_model: object
    layer_vectors: frozenset[int] | None = None
    sim: IntegerSimulator = field(init=False)
    _layers_read: set[int] = field(init=False, default_factory=set, repr=False)

    def __post_init__(self):
        self.sim = IntegerSimulator(self.doc)

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
        return "regression" if self.doc.get("classes") is None else "classification"


def prepare(board: Board, name: str) -> ModelRun:
    """Load references and check the device runs the same quantized model."""
    check_built(name)
    b = bundle.read(artifact_dir(name))
    doc = artifact.load(qmodel_path(name))
    try:
        dm = board.info.model(name)
    except ModelNotOnDevice as exc:
        raise ModelNotOnDevice(f"{board.name}: {exc}; rebuild the firmware with this model") from None
    if dm.model_hash != doc["hash"]:
        raise BoardError(f"{board.name}: model '{name}' on the device was built from {dm.model_hash[:19]}, "
                         f"the golden artifact is {doc['hash'][:19]}: rebuild/redeploy the firmware")
    return ModelRun(name, b, doc, dm)


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
        where = first_differing_layer(deep.layer_tensors, sim_layers, [L["name"] for L in mr.doc["layers"]])
        if where:
            v.first_bad_layer, v.first_bad_index = where
    return v


def describe_mismatch(mr: ModelRun, v: VectorVerdict) -> str:
    return f"{mr.name} {v.describe()}"


def run_model(board: Board, name: str, vectors: int | None = None,
              progress: Callable[[int, int], None] | None = None,
              sink: Callable[[ModelRun, VectorVerdict], None] | None = None,
              done: list[VectorVerdict] | None = None) -> dict:
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
                failed.append(dict(index=i, error=str(exc)))
            except BoardError as exc:                 # dead after its restarts: keep what is done
                aborted = str(exc)
                break
            else:
                if sink:
                    sink(mr, per_vector[-1])
        if progress:
            progress(k, len(chosen))
    doc = assemble(board, mr, per_vector, link0, failed)
    doc["aborted"] = aborted
    return doc


def assemble(board: Board, mr: ModelRun, per_vector: list[VectorVerdict], link0: tuple,
             failed: list[dict] = ()) -> dict:
    """The results document of one model from its verdicts.

    Every figure is computed from the recorded vectors and the golden rows of
    *their* indices (a `-k` subset or a run with failures judges what ran).
    """
    per_vector = sorted(per_vector, key=lambda v: v.index)
    n = len(per_vector)
    idx = np.array([v.index for v in per_vector], dtype=np.int64)
    dev = np.array([v.device for v in per_vector]).reshape((n,) + tuple(mr.bundle.int_logits.shape[1:]))
    fl = mr.bundle.float_logits         # None: a .tflite import without a float model (no float column)
    rep = summarize(dev, mr.bundle.int_logits[idx], lambda q: dequantize(mr.doc, q),
                    None if fl is None else fl[idx], mr.bundle.labels[idx], mr.task, mr.doc.get("classes"))
    # Whole-inference figures from the vectors that did not read per-layer
    # figures when there are any: the per-layer hook adds its own instructions.
    plain = [v for v in per_vector if v.count is not None and not v.layer_counts]
    counts = [v.count for v in (plain or per_vector) if v.count is not None]
    clock = board.info.clock_hz
    counter = board.info.counter
    layers = layer_table(mr.doc, [v.layer_counts for v in per_vector if v.layer_counts], counter)
    total = (dict(median=statistics.median(counts), min=min(counts), max=max(counts)) if counts else None)
    unit = unit_of(counter)
    rtts = [v.round_trip_s for v in per_vector]
    doc = dict(
        format=RESULTS_FORMAT, version=RESULTS_VERSION,
        board=board.name, device_board=board.info.board, firmware=board.info.fw_version,
        build_hash=board.info.build_hash, clock_hz=clock, model=mr.name,
        model_hash=mr.doc["hash"], bundle_hash=mr.bundle.manifest["hash"],
        vectors=n, int_mismatches=rep.int_mismatches,
        mismatched_vectors=[int(idx[k]) for k in rep.mismatched_vectors],
        mismatch_details=[describe_mismatch(mr, v) for v in per_vector if not v.int_match][:20],
        accuracy=rep.accuracy, per_class=rep.per_class, vs_float=rep.vs_float,
        counter=counter, counter_note=counter_note(counter), unit=unit[0] if unit else None,
        total=total, **_figures(counter, total["median"] if total else None, mr.doc["macs"]),
        layers=layers,
        latency_ms=dict(device=(total["median"] / clock * 1e3) if total and clock else None,
                        round_trip=statistics.median(rtts) * 1e3 if rtts else None),
        link=link0 if isinstance(link0, dict) else link_report(board, link0),   # a dict: merged by hil/xdist.py
        restarts=[r for r in getattr(board, "restart_log", []) if r["model"] == mr.name],
        failed_vectors=sorted(failed, key=lambda f: f["index"]),
        per_vector=[_vector_record(v.to_json(), unit) for v in per_vector],
    )
    return tflm_check.add_to_results(doc, tflm_check.figures(mr, per_vector, idx, dev))   # .tflite models only


def link_mark(board: Board) -> tuple:
    """Where the link counters stand now; link_report() gives what happened since."""
    return (board.wire_bytes(), board.device.payload_bytes, time.perf_counter(), board.device.stats.copy(),
            injected(board.link))


def link_report(board: Board, mark: tuple) -> dict:
    """Bytes, time and every recovery the link needed since `mark` (docs/results-json.md)."""
    wire0, payload0, t0, stats0, inj0 = mark
    out = dict(payload_bytes=board.device.payload_bytes - payload0, wire_bytes=board.wire_bytes() - wire0,
               seconds=time.perf_counter() - t0, **board.device.stats.minus(stats0))
    out["dropped_frames"] = out["naks"] + out["corrupt_frames"] + out["stale_frames"]
    inj = injected(board.link)
    if inj is not None:
        before = (inj0 or {}).get("total", {})
        out["injected"] = {k: v - before.get(k, 0) for k, v in inj["total"].items()}
        out["inject_spec"] = str(board.link.spec)
    return out


def _vector_record(rec: dict, unit) -> dict:
    """A VectorVerdict's JSON with its counter total under the unit's name."""
    count = rec.pop("count", None)
    if unit:
        rec[unit[0]] = count
    return rec


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


def layer_table(doc: dict, layer_counts: list[list[int]], counter: str) -> list[dict]:
    """Per layer: name, type, MACs, and with a counter the median figure in its unit,
    its share of the summed layers and MACs per unit."""
    med = ([statistics.median(c[i] for c in layer_counts) for i in range(len(doc["layers"]))]
           if layer_counts else [None] * len(doc["layers"]))
    total = sum(m for m in med if m) or None
    out = []
    for L, c in zip(doc["layers"], med):
        row = dict(name=L["name"], type=L["op"], macs=L["macs"],
                   share=(c / total) if (c is not None and total) else None)
        row.update(_figures(counter, c, L["macs"]))
        out.append(row)
    return out


def profile_model(board: Board, name: str, repeats: int = 5) -> dict:
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
    total = dict(median=statistics.median(totals), min=min(totals), max=max(totals))
    return dict(format="hil-profile", version=RESULTS_VERSION, board=board.name, model=name,
                build_hash=board.info.build_hash,
                counter=counter, counter_note=counter_note(counter), unit=unit_of(counter)[0],
                clock_hz=board.info.clock_hz, macs=mr.doc["macs"],
                total=total, **_figures(counter, total["median"], mr.doc["macs"]),
                layers=layer_table(mr.doc, counts, counter), memory=_model_memory(board, name))


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
