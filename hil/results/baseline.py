"""Baselines and regression alarms.

A model's run is compared with its baseline: the run pinned for the same
board, model and counter kind (`hil baseline pin RUN`), else the last good
run (complete, no integer mismatch, no regression) of that board, model and
counter kind. A regression is

* any new integer mismatch (a vector that matched in the baseline, or any
  mismatch when there is no baseline: integer outputs have no tolerance);
* an accuracy drop beyond `accuracy` (absolute; relative rise for MAE);
* the total count up by more than `total` (default 2 %), or a layer's count
  up by more than its threshold (`layer`, or `layers.<name>`) and by at
  least `layer_min` counts;
* link payload throughput down by more than `link`.

Deterministic counters (instruction counts on the QEMU twin, modelled HLS
cycles) are compared vector by vector on the vectors both runs share: the
same input gives the same count, so any change is real and is reported; the
thresholds decide what is a regression. Measured counters (silicon cycles)
compare medians with an extra `tolerance` for noise.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:      # the store parses stored verdicts with Verdict.from_json: no import cycle
    from hil.results.store import Store, StoredRun, StoredSummary, StoredVector

# Counter kinds whose count is a function of the input alone (QEMU -icount, the HLS cycle model).
DETERMINISTIC = {"icount", "systick_icount", "modelled"}
# How a counter kind's figures read in messages (the kind itself stays in the store).
UNIT_NAMES = {"icount": "instructions", "systick_icount": "SysTick ticks (icount)", "modelled": "modelled cycles",
              "dwt": "cycles", "systick": "cycles"}


@dataclass
class Thresholds:
    total: float = 0.02          # relative rise of the whole-inference count
    layer: float = 0.05          # relative rise of one layer's count
    layer_min: float = 100       # ... and by at least this many counts per inference
    layers: dict = field(default_factory=dict)     # per-layer override: name -> relative rise
    accuracy: float = 0.01       # absolute accuracy drop (relative MAE rise for regression models)
    link: float = 0.5            # relative drop of link payload throughput (wall clock)
    link_emulated: bool = False  # judge the link of emulated boards too (there it measures the host's load)
    tolerance: float = 0.01      # extra allowance for measured (non-deterministic) counters

    @classmethod
    def from_config(cls, section: dict | None) -> "Thresholds":
        section = dict(section or {})
        known = set(cls.__dataclass_fields__)
        bad = sorted(set(section) - known)
        from hil.errors import ConfigError
        if bad:
            raise ConfigError(f"unknown threshold key(s) {', '.join(bad)} in [thresholds]; "
                              f"known: {', '.join(sorted(known))}")
        for k, v in section.items():
            want, what = ((dict, "a table") if k == "layers" else (bool, "true/false") if k == "link_emulated"
                          else ((int, float), "a number"))
            if isinstance(v, bool) != (want is bool) or not isinstance(v, want):
                raise ConfigError(f"[thresholds] {k}: expected {what}, got {v!r}")
        for name, v in section.get("layers", {}).items():
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise ConfigError(f"[thresholds.layers] {name}: expected a number, got {v!r}")
        return cls(**section)


@dataclass(frozen=True)
class Finding:
    """One change against the baseline; `regression` when it crosses its threshold."""
    kind: str                    # int_mismatch | accuracy | total | layer | link
    what: str
    before: float | int | None
    after: float | int | None
    change: float | None         # relative, None when it has no meaning
    threshold: float
    regression: bool
    unit: str = ""

    @classmethod
    def of(cls, kind, what, before, after, threshold, regression, unit="") -> "Finding":
        return cls(kind, what, before, after,
                   _rise(before, after) if isinstance(before, (int, float)) and before is not None
                   and after is not None else None, threshold, bool(regression), unit)

    def to_json(self) -> dict:
        return dict(kind=self.kind, what=self.what, before=self.before, after=self.after, change=self.change,
                    threshold=self.threshold, regression=self.regression, unit=self.unit)

    @classmethod
    def from_json(cls, j: dict) -> "Finding":
        return cls(j["kind"], j["what"], j.get("before"), j.get("after"), j.get("change"), j.get("threshold"),
                   bool(j.get("regression")), j.get("unit", ""))


@dataclass(frozen=True)
class LayerDelta:
    """A layer's figure in the baseline and in the run."""
    name: str
    before: float
    after: float

    def to_json(self) -> dict:
        return dict(name=self.name, before=self.before, after=self.after)

    @classmethod
    def from_json(cls, j: dict) -> "LayerDelta":
        return cls(j["name"], j["before"], j["after"])


@dataclass(frozen=True)
class TotalDelta:
    """The whole inference's figure in the baseline and in the run, and `how` it was aggregated."""
    before: float
    after: float
    how: str

    def to_json(self) -> dict:
        return dict(before=self.before, after=self.after, how=self.how)

    @classmethod
    def from_json(cls, j: dict | None) -> "TotalDelta | None":
        return None if j is None else cls(j["before"], j["after"], j["how"])


@dataclass(frozen=True)
class Verdict:
    """A model's run against its baseline (stored with the run's model, `hil compare --format json`)."""
    baseline: int | None          # the baseline run; None: there was none
    counter: str
    regression: bool
    findings: list[Finding] = field(default_factory=list)
    layers_moved: list[str] = field(default_factory=list)      # layers whose rise is a regression
    note: str | None = None       # without a baseline: why there is nothing to compare
    shared_vectors: int | None = None
    total: TotalDelta | None = None
    layers: list[LayerDelta] = field(default_factory=list)     # every layer, changed or not

    def to_json(self) -> dict:
        out = dict(baseline=self.baseline, counter=self.counter, regression=self.regression,
                   findings=[f.to_json() for f in self.findings], layers_moved=list(self.layers_moved))
        if self.baseline is None:
            return dict(out, note=self.note)
        return dict(out, shared_vectors=self.shared_vectors, total=self.total.to_json() if self.total else None,
                    layers=[L.to_json() for L in self.layers])

    @classmethod
    def from_json(cls, j: dict) -> "Verdict":
        return cls(j.get("baseline"), j.get("counter"), bool(j.get("regression")),
                   [Finding.from_json(f) for f in j.get("findings", [])], list(j.get("layers_moved", [])),
                   j.get("note"), j.get("shared_vectors"), TotalDelta.from_json(j.get("total")),
                   [LayerDelta.from_json(L) for L in j.get("layers") or []])


def _by_index(store: Store, run_id: int, model: str) -> dict[int, StoredVector]:
    return {v.index: v for v in store.vectors(run_id, model)}


def _rise(before: float, after: float) -> float:
    return (after - before) / before if before else (0.0 if after == before else float("inf"))


def _counts(vs: dict[int, StoredVector], idx: list[int], deterministic: bool, layer_idx: list[int] | None = None):
    """(total, per-layer list) over `idx` (layers over `layer_idx`, default `idx`): exact means of
    the paired vectors for deterministic counters, medians (robust to outliers) for measured ones."""
    tot = [vs[i].count for i in idx if vs[i].count is not None]
    lay = [vs[i].layer_counts for i in (idx if layer_idx is None else layer_idx) if vs[i].layer_counts]
    if not tot:
        return None, None
    agg = (lambda xs: round(sum(xs) / len(xs), 1)) if deterministic else statistics.median
    layers = [agg([c[k] for c in lay]) for k in range(len(lay[0]))] if lay else None
    return agg(tot), layers


def compare_model(store: Store, run: StoredRun, model: str, base_id: int | None, th: Thresholds) -> Verdict:
    """The verdict of `model` in `run` against baseline run `base_id` (None: no baseline)."""
    cur = _by_index(store, run.id, model)
    counter = run.counter or "none"
    findings: list[Finding] = []
    bad = sorted(i for i, v in cur.items() if not v.int_match)
    if base_id is None:
        if bad:
            findings.append(Finding.of("int_mismatch", f"{len(bad)} vectors differ from the integer simulator "
                                       f"(e.g. {bad[:5]})", 0, len(bad), 0, True, "vectors"))
        return Verdict(baseline=None, counter=counter, regression=bool(bad), findings=findings, layers_moved=[],
                       note="no baseline yet: this run becomes one if it is good")
    base_run = store.run(base_id)
    base = _by_index(store, base_id, model)
    common = sorted(set(cur) & set(base))
    new_bad = [i for i in bad if i not in base or base[i].int_match]
    if new_bad:
        findings.append(Finding.of("int_mismatch", f"{len(new_bad)} vectors newly differ from the integer "
                                   f"simulator (e.g. {new_bad[:5]})", 0, len(new_bad), 0, True, "vectors"))
    findings += _accuracy(store, run, base_id, model, cur, base, common, th)
    moved: list[str] = []
    layers: list[LayerDelta] = []       # every layer, changed or not (hil compare, the report)
    total = None
    if counter != "none" and (base_run.counter or "none") == counter and common:
        det = counter in DETERMINISTIC
        extra = 0.0 if det else th.tolerance
        # layers: on the shared vectors that read per-layer figures in both runs (the same inputs)
        paired = [i for i in common if base[i].layer_counts and cur[i].layer_counts]
        t0, l0 = _counts(base, common, det, paired)
        t1, l1 = _counts(cur, common, det, paired)
        how = f"{'mean' if det else 'median'} of {len(common)} shared vectors"
        if t0 is not None and t1 is not None:
            total = TotalDelta(before=t0, after=t1, how=how)
            if t1 != t0:
                findings.append(Finding.of("total", f"total count ({how})", t0, t1, th.total,
                                           _rise(t0, t1) > th.total + extra, UNIT_NAMES.get(counter, counter)))
            names = [L.name for L in store_layers(store, run.id, model)]
            if l0 and l1 and len(l0) == len(l1):
                for name, a, b in zip(names or [f"layer{k}" for k in range(len(l0))], l0, l1):
                    layers.append(LayerDelta(name=name, before=a, after=b))
                    if a == b:
                        continue
                    limit = float(th.layers.get(name, th.layer))
                    reg = _rise(a, b) > limit + extra and (b - a) >= th.layer_min
                    findings.append(Finding.of("layer", f"layer {name}", a, b, limit, reg,
                                               UNIT_NAMES.get(counter, counter)))
                    if reg:
                        moved.append(name)
    findings += _link(store, run, base_id, model, th)
    return Verdict(baseline=base_id, counter=counter, regression=any(f.regression for f in findings),
                   findings=findings, layers_moved=moved, shared_vectors=len(common), total=total, layers=layers)


def store_layers(store: Store, run_id: int, model: str) -> list:
    """The model's layers as registered in the run (name, type, MACs), [] if none."""
    m = store.run_model(run_id, model)
    return m.layers if m is not None else []


def _summary(store: Store, run_id: int, model: str) -> StoredSummary | None:
    m = store.run_model(run_id, model)
    return m.summary if m is not None else None


def _accuracy(store, run, base_id, model, cur, base, common, th) -> list[Finding]:
    m = store.run_model(run.id, model)
    if m is not None and m.task == "classification" and common:
        def acc(vs):
            return float(np.mean([int(np.argmax(vs[i].device)) == vs[i].label for i in common]))
        a0, a1 = acc(base), acc(cur)
        if a0 != a1:
            return [Finding.of("accuracy", f"device accuracy on {len(common)} shared vectors", a0, a1,
                               th.accuracy, a0 - a1 > th.accuracy)]
        return []
    s0, s1 = _summary(store, base_id, model), _summary(store, run.id, model)
    if s0 and s1 and s0.accuracy and s1.accuracy and s0.vectors == s1.vectors:
        a0, a1 = s0.accuracy.device, s1.accuracy.device
        if a0 != a1:      # MAE: lower is better
            return [Finding.of("accuracy", "device MAE", a0, a1, th.accuracy, _rise(a0, a1) > th.accuracy)]
    return []


def throughput(summary: StoredSummary | None) -> float | None:
    link = summary.link if summary is not None else None
    return link.payload_bytes / link.seconds if link is not None and link.seconds else None


def _link(store, run, base_id, model, th) -> list[Finding]:
    b0, b1 = throughput(_summary(store, base_id, model)), throughput(_summary(store, run.id, model))
    if not b0 or b1 is None:
        return []
    drop = (b0 - b1) / b0
    # An emulated board's "link" is a local socket: its speed is the host's load, not a cable.
    judged = th.link_emulated or "emulated" not in run.meta.capabilities
    what = "link payload throughput" + ("" if judged else " (emulated board: not judged)")
    return [Finding.of("link", what, round(b0), round(b1), th.link, judged and drop > th.link,
                       "bytes/s")] if abs(drop) > 0.05 else []


def judge(store: Store, run_id: int, model: str, th: Thresholds) -> Verdict:
    """Find the baseline, compare, store and return the verdict."""
    run = store.run(run_id)
    verdict = compare_model(store, run, model, store.baseline_for(run, model), th)
    store.set_verdict(run_id, model, verdict)
    return verdict


def fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:,.1f}" if abs(v) >= 10 else f"{v:.4f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def describe(board: str, model: str, verdict: Verdict, all_changes: bool = False) -> list[str]:
    """One line per regression (or per change with all_changes), naming board, model and layer."""
    lines = []
    for f in verdict.findings:
        if not (f.regression or all_changes):
            continue
        ch = "" if f.change is None else f" ({f.change:+.1%}, threshold {f.threshold:.0%})"
        tag = "REGRESSION" if f.regression else "change"
        lines.append(f"{tag} {board} / {model} vs run {verdict.baseline}: {f.what}: {fmt(f.before)} "
                     f"-> {fmt(f.after)} {f.unit}{ch}".rstrip())
    return lines
