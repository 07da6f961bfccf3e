"""Run golden vectors on a board and judge them: the core of `hil run`,
`hil profile` and the pytest plugin.

Results are plain dicts in the documented, versioned JSON format
(docs/results-json.md, `format: hil-run`, `version: 1`).
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from golden import artifact, bundle, models, subset
from golden.build import artifact_dir, qmodel_path
from golden.intsim.run import IntegerSimulator, dequantize
from hil.boards.base import Board, BoardError, Capability
from hil.compare import first_differing_layer, summarize

RESULTS_FORMAT, RESULTS_VERSION = "hil-run", 1
MEASURED = {"dwt", "systick", "systick_icount", "modelled"}


@dataclass
class ModelRun:
    """Golden references of one model plus the device's view of it."""
    name: str
    bundle: bundle.Bundle
    doc: dict
    device_model: object
    sim: IntegerSimulator = field(init=False)

    def __post_init__(self):
        self.sim = IntegerSimulator(self.doc)

    @property
    def task(self) -> str:
        return "regression" if self.doc.get("classes") is None else "classification"


def prepare(board: Board, name: str) -> ModelRun:
    """Load references and check the device runs the same quantized model."""
    b = bundle.read(artifact_dir(name))
    doc = artifact.load(qmodel_path(name))
    try:
        dm = board.info.model(name)
    except KeyError as exc:
        raise BoardError(f"{board.name}: {exc.args[0]}; rebuild the firmware with this model") from None
    if dm.model_hash != doc["hash"]:
        raise BoardError(f"{board.name}: model '{name}' on the device was built from {dm.model_hash[:19]}, "
                         f"the golden artifact is {doc['hash'][:19]}: rebuild/redeploy the firmware")
    return ModelRun(name, b, doc, dm)


def _layer_mode(board: Board) -> str:
    return "LAYER_COUNTS" if board.info.counter in MEASURED else "OUTPUTS"


def run_vector(board: Board, mr: ModelRun, i: int) -> dict:
    """Run vector i; on an integer mismatch, localise the first differing layer."""
    t0 = time.perf_counter()
    res = board.device.run(mr.device_model, mr.bundle.inputs[i], _layer_mode(board))
    rtt = time.perf_counter() - t0
    expected = mr.bundle.int_logits[i]
    out = dict(index=i, label=mr.bundle.labels[i].tolist(), device=res.output.reshape(-1).tolist(),
               int_match=bool(np.array_equal(res.output.reshape(-1), expected.reshape(-1))),
               count=res.total_sum if board.info.counter in MEASURED else None,
               layer_counts=res.layer_counts, round_trip_s=rtt)
    if not out["int_match"] and Capability.LAYER_TENSORS in board.capabilities:
        deep = board.device.run(mr.device_model, mr.bundle.inputs[i], "LAYER_TENSORS")
        _, sim_layers = mr.sim.run_one(mr.bundle.inputs[i], keep_layers=True)
        where = first_differing_layer(deep.layer_tensors, sim_layers, [L["name"] for L in mr.doc["layers"]])
        if where:
            out["first_bad_layer"], out["first_bad_index"] = where
    return out


def describe_mismatch(mr: ModelRun, v: dict) -> str:
    exp = mr.bundle.int_logits[v["index"]].reshape(-1)
    dev = np.asarray(v["device"])
    k = int(np.flatnonzero(dev != exp)[0])
    msg = (f"{mr.name} vector {v['index']}: output {k} is {dev[k]} on the device, {exp[k]} in the "
           f"integer simulator")
    if "first_bad_layer" in v:
        msg += f"; first differing layer: {v['first_bad_layer']} (index {v['first_bad_index']})"
    return msg


def run_model(board: Board, name: str, vectors: int | None = None,
              progress: Callable[[int, int], None] | None = None) -> dict:
    """All vectors, or a seeded class-stratified subset of `vectors` (golden.subset)."""
    mr = prepare(board, name)
    chosen = subset.select(mr.bundle.labels, vectors).tolist()
    link0 = (board.link.bytes_in + board.link.bytes_out, board.device.payload_bytes, time.perf_counter())
    per_vector = []
    for k, i in enumerate(chosen, start=1):
        per_vector.append(run_vector(board, mr, i))
        if progress:
            progress(k, len(chosen))
    return assemble(board, mr, per_vector, link0)


def assemble(board: Board, mr: ModelRun, per_vector: list[dict], link0: tuple) -> dict:
    """The results document of one model from its per-vector records."""
    n = len(per_vector)
    idx = np.array([v["index"] for v in per_vector], dtype=np.int64)
    dev = np.array([v["device"] for v in per_vector]).reshape((n,) + tuple(mr.bundle.int_logits.shape[1:]))
    rep = summarize(dev, mr.bundle.int_logits[idx], lambda q: dequantize(mr.doc, q),
                    mr.bundle.float_logits[idx], mr.bundle.labels[idx], mr.task, mr.doc.get("classes"))
    counts = [v["count"] for v in per_vector if v["count"] is not None]
    clock = board.info.clock_hz
    layers = layer_table(mr.doc, [v["layer_counts"] for v in per_vector if v["layer_counts"]])
    total = (dict(median=statistics.median(counts), min=min(counts), max=max(counts)) if counts else None)
    rtts = [v["round_trip_s"] for v in per_vector]
    return dict(
        format=RESULTS_FORMAT, version=RESULTS_VERSION,
        board=board.name, device_board=board.info.board, firmware=board.info.fw_version,
        build_hash=board.info.build_hash, clock_hz=clock, model=mr.name,
        model_hash=mr.doc["hash"], bundle_hash=mr.bundle.manifest["hash"],
        vectors=n, int_mismatches=rep.int_mismatches, mismatched_vectors=rep.mismatched_vectors,
        mismatch_details=[describe_mismatch(mr, v) for v in per_vector if not v["int_match"]][:20],
        accuracy=rep.accuracy, per_class=rep.per_class, vs_float=rep.vs_float,
        counter=board.info.counter, counter_note=counter_note(board.info.counter),
        total_count=total, layers=layers,
        latency_ms=dict(device=(total["median"] / clock * 1e3) if total and clock else None,
                        round_trip=statistics.median(rtts) * 1e3 if rtts else None),
        link=dict(payload_bytes=board.device.payload_bytes - link0[1],
                  wire_bytes=board.link.bytes_in + board.link.bytes_out - link0[0],
                  seconds=time.perf_counter() - link0[2], dropped_frames=board.device.dropped_frames),
        per_vector=[{k: v[k] for k in v if k != "layer_counts"} for v in per_vector],
    )


def counter_note(counter: str) -> str:
    return {
        "dwt": "silicon core clock cycles (DWT CYCCNT)",
        "systick": "core clock cycles from SysTick",
        "systick_icount": "instruction-count based (QEMU -icount), not silicon cycles",
        "modelled": "modelled HLS cycles from loop structure, not measured",
        "none": "no counter on this board",
    }.get(counter, counter)


def layer_table(doc: dict, layer_counts: list[list[int]]) -> list[dict]:
    """Per layer: name, type, MACs, median count, share of the total, MACs per count."""
    med = ([statistics.median(c[i] for c in layer_counts) for i in range(len(doc["layers"]))]
           if layer_counts else [None] * len(doc["layers"]))
    total = sum(m for m in med if m) or None
    out = []
    for L, c in zip(doc["layers"], med):
        out.append(dict(name=L["name"], type=L["op"], macs=L["macs"], count=c,
                        share=(c / total) if (c is not None and total) else None,
                        macs_per_count=(L["macs"] / c) if c else None))
    return out


def profile_model(board: Board, name: str, repeats: int = 5) -> dict:
    """Per-layer counts (median) over `repeats` vectors chosen as `run_model` chooses them."""
    mr = prepare(board, name)
    if board.info.counter not in MEASURED:
        raise BoardError(f"{board.name}: no cycle counter (counter kind '{board.info.counter}'), "
                         f"nothing to profile")
    counts, totals = [], []
    for i in subset.select(mr.bundle.labels, repeats).tolist():
        r = board.device.run(mr.device_model, mr.bundle.inputs[i], "LAYER_COUNTS")
        counts.append(r.layer_counts)
        totals.append(r.total_sum)
    return dict(format="hil-profile", version=RESULTS_VERSION, board=board.name, model=name,
                counter=board.info.counter, counter_note=counter_note(board.info.counter),
                clock_hz=board.info.clock_hz,
                total_count=dict(median=statistics.median(totals), min=min(totals), max=max(totals)),
                layers=layer_table(mr.doc, counts))


def default_models() -> list[str]:
    return [m for m in ("mnist_lenet", "kws_dscnn", "sine_mlp") if m in models.REGISTRY]
