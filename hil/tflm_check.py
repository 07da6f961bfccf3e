"""TFLite Micro as the third reference of a run (models imported from a `.tflite`, docs/tflite.md).

For the vectors a run judged, the TFLM interpreter runs the model's own `.tflite` on the same int8
inputs; the device and the integer simulator are compared with it bit for bit. A difference names
the first layer whose tensor differs between the integer simulator and TFLM's preserved tensors
(and the device's first differing layer against the simulator, found by the runner, when it has
one). Models not imported from a `.tflite` get no `tflm` entry: the results JSON stays as it was.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from golden import tflm_ref
from golden.qmodel import QModel
from hil.results.model_result import ModelResult, TflmReport

DETAIL_LINES = 20          # as mismatch_details
LOCATE_VECTORS = 5         # vectors whose first differing layer is looked up (each one more TFLM run)


@lru_cache(maxsize=8)
def _reference(model: str, qmodel_hash: str, path: str) -> tflm_ref.TflmReference:
    from golden import artifact
    from golden.paths import qmodel_path
    return tflm_ref.TflmReference(path, artifact.load(qmodel_path(model)))


def reference(doc: QModel | dict) -> tflm_ref.TflmReference:
    qm = QModel.of(doc)
    return _reference(qm.model, qm.hash, str(tflm_ref.tflite_path(qm.to_json())))


@dataclass(frozen=True)
class TflmFigures:
    """Device and integer simulator against TFLM over the vectors of one run: the model's `tflm` record,
    and per vector whether the device matched TFLM (that goes to the VectorRecords)."""
    report: TflmReport
    per_vector_match: list[bool] = field(default_factory=list)


def figures(mr, verdicts: list, idx: np.ndarray, device: np.ndarray) -> TflmFigures | None:
    """`mr` a hil.runner.ModelRun, `verdicts` its sorted VectorVerdicts, `device` their outputs."""
    qm = mr.qmodel
    if not tflm_ref.is_tflite(qm.to_json()):
        return None
    ref = reference(qm)
    n = len(idx)
    inputs = mr.bundle.inputs[idx]
    tflm = ref.outputs(inputs).reshape(n, -1) if n else np.zeros((0, 1), np.int8)
    dev = np.asarray(device).reshape(n, -1)
    sim = np.asarray(mr.bundle.int_logits[idx]).reshape(n, -1)
    dev_bad = (dev != tflm).any(axis=1) if n else np.zeros(0, bool)
    sim_bad = (sim != tflm).any(axis=1) if n else np.zeros(0, bool)
    names = [L.name for L in qm.layers]
    details = []
    for k in np.flatnonzero(dev_bad | sim_bad)[:DETAIL_LINES]:
        i = int(idx[k])
        what = ", ".join(w for w, bad in (("device", dev_bad[k]), ("integer simulator", sim_bad[k])) if bad)
        line = f"vector {i}: {what} differ(s) from TFLite Micro"
        if len(details) < LOCATE_VECTORS:
            _, sim_layers = mr.sim.run_one(mr.bundle.inputs[i], keep_layers=True)
            _, tflm_layers = ref.run_one(mr.bundle.inputs[i], keep_layers=True)
            where = tflm_ref.first_differing_layer(sim_layers, tflm_layers, names)
            if where:
                line += f"; first layer where the integer simulator differs from TFLM: {where[0]} at index {where[1]}"
        v = verdicts[k]
        if dev_bad[k] and v.first_bad_layer is not None:
            line += f"; device differs from the integer simulator first at {v.first_bad_layer}"
        details.append(line)
    report = TflmReport(qm.source["file"], n, int(dev_bad.sum()), int(sim_bad.sum()),
                        [int(idx[k]) for k in np.flatnonzero(dev_bad)], details)
    return TflmFigures(report, [not b for b in dev_bad])


def summary_line(result: ModelResult) -> str | None:
    """One line for the summary: device and simulator against TFLM."""
    t = result.tflm
    if t is None:
        return None
    return (f"{result.model}: against TFLite Micro ({t.file}, {t.vectors} vectors): device "
            f"{t.vectors - t.device_mismatches}/{t.vectors} bit-exact, integer simulator "
            f"{t.vectors - t.intsim_mismatches}/{t.vectors} bit-exact")
