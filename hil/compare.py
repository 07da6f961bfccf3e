"""Judging a device against the two golden references.

Integer outputs must equal the integer simulator bit for bit (no tolerance);
against the float model we report what ST's on-target validation reports:
argmax agreement, max abs error, RMSE, cosine similarity, and accuracy
against the labels for device, float model and integer model.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class VectorVerdict:
    """One golden vector run on a device, judged against the integer simulator.

    This is the record that crosses modules: the runner makes it, the pytest
    plugin and `hil run` collect it, `assemble()` summarises a list of them.
    """
    index: int                       # row of the golden bundle
    label: int | float | list | None
    device: np.ndarray               # integer outputs from the device (flat)
    expected: np.ndarray             # integer simulator outputs (flat)
    count: int | None = None         # device counter total (None: no counter on this board)
    layer_counts: list[int] | None = None
    round_trip_s: float = 0.0        # host wall time of the request(s), seconds
    first_bad_layer: str | None = None
    first_bad_index: int | None = None

    @property
    def int_match(self) -> bool:
        return bool(np.array_equal(self.device.reshape(-1), self.expected.reshape(-1)))

    def describe(self) -> str:
        if self.int_match:
            return f"vector {self.index}: ok"
        diff = np.flatnonzero(self.device.reshape(-1) != self.expected.reshape(-1))
        k = int(diff[0])
        msg = (f"vector {self.index}: {diff.size} of {self.expected.size} outputs differ from the "
               f"integer simulator (first at output {k}: device {self.device.reshape(-1)[k]}, "
               f"expected {self.expected.reshape(-1)[k]})")
        if self.first_bad_layer is not None:
            msg += f"; first differing layer: {self.first_bad_layer} at index {self.first_bad_index}"
        return msg

    def to_json(self) -> dict:
        """The per-vector entry of the results JSON (docs/results-json.md)."""
        out = dict(index=self.index, label=self.label, device=self.device.reshape(-1).tolist(),
                   int_match=self.int_match, count=self.count, round_trip_s=self.round_trip_s)
        if self.first_bad_layer is not None:
            out.update(first_bad_layer=self.first_bad_layer, first_bad_index=self.first_bad_index)
        return out


def first_differing_layer(device_layers: list[np.ndarray], sim_layers: list[np.ndarray],
                          names: list[str]) -> tuple[str, int] | None:
    """(layer name, flat index) of the first layer whose tensor differs, else None."""
    for name, d, s in zip(names, device_layers, sim_layers):
        bad = np.flatnonzero(np.asarray(d).reshape(-1) != np.asarray(s).reshape(-1))
        if bad.size:
            return name, int(bad[0])
    return None


@dataclass
class Report:
    """Aggregate over all vectors of one run."""
    task: str                                   # classification | regression
    n: int
    int_mismatches: int
    accuracy: dict = field(default_factory=dict)       # device / float / int
    vs_float: dict = field(default_factory=dict)       # agreement, max_abs_err, rmse, cosine
    mismatched_vectors: list[int] = field(default_factory=list)
    per_class: list[dict] = field(default_factory=list)  # classification: one row per class


def per_class_accuracy(labels, device, float_, int_, classes: list[str] | None) -> list[dict]:
    """Per class present in ``labels``: name, vectors, device/float/int accuracy (argmax indices)."""
    y = np.asarray(labels).reshape(-1)
    rows = []
    for c in np.unique(y).tolist():
        sel = y == c
        rows.append(dict(cls=classes[c] if classes and c < len(classes) else str(c), vectors=int(sel.sum()),
                         device=float((device[sel] == c).mean()), float=float((float_[sel] == c).mean()),
                         int=float((int_[sel] == c).mean())))
    return rows


def summarize(device_int: np.ndarray, sim_int: np.ndarray, to_real, float_out: np.ndarray,
              labels: np.ndarray, task: str, classes: list[str] | None = None) -> Report:
    """Compare device integer outputs with the simulator (exact) and the float model.

    `to_real` dequantizes integer outputs with the model's output scale.
    """
    if len(device_int) == 0:     # every vector failed: nothing to judge, nothing to average
        return Report(task, 0, 0, dict(metric="accuracy" if task == "classification" else "mae",
                                       device=None, float=None, int=None), {}, [])
    device_int = np.asarray(device_int).reshape(len(device_int), -1)
    sim_int = np.asarray(sim_int).reshape(len(sim_int), -1)
    dev = np.asarray(to_real(device_int), np.float64)
    if float_out is None:       # no float model: the float column is absent, never guessed
        return _summarize_without_float(device_int, sim_int, dev, to_real, labels, task, classes)
    ref = np.asarray(float_out, np.float64).reshape(len(float_out), -1)
    bad = np.flatnonzero((device_int != sim_int).any(axis=1))
    err = dev - ref
    norms = np.linalg.norm(dev, axis=1) * np.linalg.norm(ref, axis=1)
    cos = np.where(norms > 0, (dev * ref).sum(1) / np.where(norms > 0, norms, 1), 1.0)
    vs = dict(max_abs_err=float(np.abs(err).max()) if err.size else 0.0,
              rmse=float(np.sqrt((err ** 2).mean())) if err.size else 0.0,
              mae=float(np.abs(err).mean()) if err.size else 0.0,
              cosine=float(cos.mean()) if cos.size else 1.0)
    acc: dict = {}
    per_class: list[dict] = []
    if task == "classification":
        d, f, s = dev.argmax(1), ref.argmax(1), sim_int.argmax(1)
        y = np.asarray(labels).reshape(-1)
        vs["agreement"] = float((d == f).mean())
        acc = dict(metric="accuracy", device=float((d == y).mean()), float=float((f == y).mean()),
                   int=float((s == y).mean()))
        per_class = per_class_accuracy(y, d, f, s, classes)
        if len(y) and (y < 0).all():     # a user's data without labels (docs/tflite.md): no accuracy
            acc, per_class = dict(metric="accuracy", device=None, float=None, int=None), []
    else:   # regression: the same keys hold the mean absolute error against the labels
        y = np.asarray(labels, np.float64).reshape(len(labels), -1)
        sim = np.asarray(to_real(sim_int), np.float64)
        acc = dict(metric="mae", device=float(np.abs(dev - y).mean()),
                   float=float(np.abs(ref - y).mean()), int=float(np.abs(sim - y).mean()))
    return Report(task, len(device_int), int(bad.size), acc, vs, bad.tolist(), per_class)


def _summarize_without_float(device_int, sim_int, dev, to_real, labels, task, classes) -> Report:
    """As summarize() for a model without a float reference: `float` is None, `vs_float` empty.
    Labels below 0 mean "no label" (a user's data without `y`): accuracy is then None too."""
    bad = np.flatnonzero((device_int != sim_int).any(axis=1))
    y = np.asarray(labels)
    if task == "classification":
        d, s = dev.argmax(1), sim_int.argmax(1)
        y = y.reshape(-1)
        known = bool(len(y)) and bool((y >= 0).all())
        acc = dict(metric="accuracy", device=float((d == y).mean()) if known else None, float=None,
                   int=float((s == y).mean()) if known else None)
        per_class = [dict(r, float=None) for r in per_class_accuracy(y, d, d, s, classes)] if known else []
        return Report(task, len(device_int), int(bad.size), acc, {}, bad.tolist(), per_class)
    y = y.astype(np.float64).reshape(len(y), -1)
    sim = np.asarray(to_real(sim_int), np.float64)
    acc = dict(metric="mae", device=float(np.abs(dev - y).mean()), float=None, int=float(np.abs(sim - y).mean()))
    return Report(task, len(device_int), int(bad.size), acc, {}, bad.tolist(), [])
