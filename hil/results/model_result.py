"""The results of one model on one board as typed records: `ModelResult` and its parts.

`ModelResult.to_json()` / `ModelResult.from_json()` (and `ProfileResult.to_json()`) are the
only code that knows the keys of docs/results-json.md: the runner builds these records, the
report, recorder, store, soak, HTML report and CLI read their attributes. Every figure is
kept as a number plus the run's `unit` (`instructions`, `cycles`, `modelled_cycles`,
`icount_ticks` or None); the JSON stores it under the unit's name.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

RESULTS_FORMAT, RESULTS_VERSION = "hil-run", 2
PROFILE_FORMAT = "hil-profile"

# counter kind -> (unit, singular for "MACs per ..."); kinds not listed measure nothing
UNITS = {
    "icount": ("instructions", "instruction"),
    "dwt": ("cycles", "cycle"),
    "systick": ("cycles", "cycle"),
    "modelled": ("modelled_cycles", "modelled_cycle"),
    "systick_icount": ("icount_ticks", "icount_tick"),   # old QEMU firmware: 0.168 ticks per instruction
    "lap_us": ("microseconds", "microsecond"),           # an MLPerf Tiny device's m-lap-us- (its own clock)
}
SINGULAR = dict(UNITS.values())


def unit_of(counter: str | None) -> tuple[str, str] | None:
    """(`instructions`, `instruction`) and so on, or None for a board without a counter."""
    return UNITS.get(counter)


def _figures(unit: str | None, figure, macs_per) -> dict:
    """{unit: figure, macs_per_<singular>: macs_per}, or nothing without a unit."""
    if unit is None:
        return {}
    return {unit: figure, f"macs_per_{SINGULAR[unit]}": macs_per}


@dataclass(frozen=True)
class Total:
    """Whole inference over the vectors, in the run's unit."""
    median: float
    min: float
    max: float

    def to_json(self) -> dict:
        return dict(median=self.median, min=self.min, max=self.max)

    @classmethod
    def from_json(cls, j: dict | None) -> "Total | None":
        return None if j is None else cls(j["median"], j["min"], j["max"])


@dataclass(frozen=True)
class Accuracy:
    """Against the labels: fraction right (`accuracy`) or mean absolute error (`mae`, regression)."""
    metric: str
    device: float | None
    float: float | None
    int: float | None

    def to_json(self) -> dict:
        return dict(metric=self.metric, device=self.device, float=self.float, int=self.int)

    @classmethod
    def from_json(cls, j: dict) -> "Accuracy":
        return cls(j.get("metric", "accuracy"), j.get("device"), j.get("float"), j.get("int"))


@dataclass(frozen=True)
class ClassAccuracy:
    cls: str
    vectors: int
    device: float
    float: float
    int: float

    def to_json(self) -> dict:
        return dict(cls=self.cls, vectors=self.vectors, device=self.device, float=self.float, int=self.int)

    @classmethod
    def from_json(cls, j: dict) -> "ClassAccuracy":
        return cls(j["cls"], j["vectors"], j["device"], j["float"], j["int"])


@dataclass(frozen=True)
class VsFloat:
    """Device against the float model; all None when no vector was judged."""
    max_abs_err: float | None = None
    rmse: float | None = None
    mae: float | None = None
    cosine: float | None = None
    agreement: float | None = None     # argmax agreement, classification only

    def to_json(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}

    @classmethod
    def from_json(cls, j: dict) -> "VsFloat":
        return cls(**{f.name: j.get(f.name) for f in fields(cls)})


@dataclass(frozen=True)
class LatencyMs:
    device: float | None           # median total / clock
    round_trip: float | None       # host-measured median per vector, link included

    def to_json(self) -> dict:
        return dict(device=self.device, round_trip=self.round_trip)

    @classmethod
    def from_json(cls, j: dict) -> "LatencyMs":
        return cls(j.get("device"), j.get("round_trip"))


@dataclass(frozen=True)
class LayerFigure:
    """One layer: its MACs and, with a counter, the median figure in the run's unit."""
    name: str
    type: str
    macs: int
    share: float | None = None
    figure: float | None = None
    macs_per: float | None = None

    def to_json(self, unit: str | None) -> dict:
        return dict(name=self.name, type=self.type, macs=self.macs, share=self.share,
                    **_figures(unit, self.figure, self.macs_per))

    @classmethod
    def from_json(cls, j: dict, unit: str | None) -> "LayerFigure":
        fig = (j.get(unit), j.get(f"macs_per_{SINGULAR[unit]}")) if unit else (None, None)
        return cls(j["name"], j["type"], j["macs"], j.get("share"), *fig)


@dataclass(frozen=True)
class LinkReport:
    """Bytes, time and every recovery the link needed; `a + b` sums two (seconds become
    board-seconds), so links across restarts and xdist workers are one `sum()`."""
    payload_bytes: int = 0
    wire_bytes: int = 0
    seconds: float = 0.0
    requests: int = 0
    retries: int = 0
    naks: int = 0
    corrupt_frames: int = 0
    stale_frames: int = 0
    timeouts: int = 0
    busy: int = 0
    dropped_frames: int = 0
    injected: dict[str, int] | None = None     # with --inject: what was injected, both directions
    inject_spec: str | None = None

    def __add__(self, other: "LinkReport") -> "LinkReport":
        if not isinstance(other, LinkReport):
            return NotImplemented
        nums = {f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)
                if f.name not in ("injected", "inject_spec")}
        injected = None
        if self.injected is not None or other.injected is not None:
            a, b = self.injected or {}, other.injected or {}
            injected = {k: a.get(k, 0) + b.get(k, 0) for k in dict.fromkeys([*a, *b])}
        return LinkReport(**nums, injected=injected, inject_spec=self.inject_spec or other.inject_spec)

    def __radd__(self, other):
        return self if other == 0 else NotImplemented      # sum() starts at 0

    def to_json(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("injected", "inject_spec")}
        if self.injected is not None:
            out["injected"] = dict(self.injected)
            out["inject_spec"] = self.inject_spec
        return out

    @classmethod
    def from_json(cls, j: dict | None) -> "LinkReport":
        j = j or {}
        return cls(**{f.name: j[f.name] for f in fields(cls) if f.name in j})


@dataclass(frozen=True)
class Restart:
    """One restart of a dead or hung device (hil/recovery.py)."""
    model: str
    vector: int
    request: str | None
    error: str
    message: str
    registers: dict | None = None
    where: str | None = None
    restart_s: float | None = None

    def to_json(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_json(cls, j: dict) -> "Restart":
        return cls(**{f.name: j.get(f.name) for f in fields(cls)})


@dataclass(frozen=True)
class FailedVector:
    """A vector that ended without a verdict."""
    index: int
    error: str

    def to_json(self) -> dict:
        return dict(index=self.index, error=self.error)

    @classmethod
    def from_json(cls, j: dict) -> "FailedVector":
        return cls(j["index"], j["error"])


@dataclass(frozen=True)
class TflmReport:
    """A `.tflite` model's run against TFLite Micro, the third reference (hil/tflm_check.py)."""
    file: str
    vectors: int
    device_mismatches: int
    intsim_mismatches: int
    mismatched_vectors: list[int] = field(default_factory=list)     # device != TFLM
    details: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return dict(file=self.file, vectors=self.vectors, device_mismatches=self.device_mismatches,
                    intsim_mismatches=self.intsim_mismatches, mismatched_vectors=list(self.mismatched_vectors),
                    details=list(self.details))

    @classmethod
    def from_json(cls, j: dict | None) -> "TflmReport | None":
        return None if j is None else cls(j["file"], j["vectors"], j["device_mismatches"], j["intsim_mismatches"],
                                          list(j.get("mismatched_vectors", [])), list(j.get("details", [])))


@dataclass(frozen=True)
class VectorRecord:
    """The per-vector entry of a results document (from a `hil.compare.VectorVerdict`)."""
    index: int
    label: Any
    device: list
    int_match: bool
    round_trip_s: float
    count: float | None = None              # whole inference in the run's unit
    first_bad_layer: str | None = None
    first_bad_index: int | None = None
    tflm_match: bool | None = None           # a .tflite model: device == TFLite Micro

    @classmethod
    def of(cls, v) -> "VectorRecord":
        return cls(index=v.index, label=v.label, device=v.device.reshape(-1).tolist(), int_match=v.int_match,
                   round_trip_s=v.round_trip_s, count=v.count, first_bad_layer=v.first_bad_layer,
                   first_bad_index=v.first_bad_index)

    def to_json(self, unit: str | None) -> dict:
        out = dict(index=self.index, label=self.label, device=self.device, int_match=self.int_match,
                   round_trip_s=self.round_trip_s)
        if self.first_bad_layer is not None:
            out.update(first_bad_layer=self.first_bad_layer, first_bad_index=self.first_bad_index)
        if unit:
            out[unit] = self.count
        if self.tflm_match is not None:
            out["tflm_match"] = self.tflm_match
        return out

    @classmethod
    def from_json(cls, j: dict, unit: str | None) -> "VectorRecord":
        return cls(j["index"], j.get("label"), j["device"], j["int_match"], j.get("round_trip_s"),
                   j.get(unit) if unit else None, j.get("first_bad_layer"), j.get("first_bad_index"),
                   j.get("tflm_match"))


@dataclass
class ModelResult:
    """One model's results on one board (docs/results-json.md, `format: hil-run`)."""
    board: str
    device_board: str
    firmware: str
    build_hash: str
    clock_hz: int
    model: str
    model_hash: str
    bundle_hash: str
    vectors: int
    int_mismatches: int
    mismatched_vectors: list[int]
    mismatch_details: list[str]
    accuracy: Accuracy
    per_class: list[ClassAccuracy]
    vs_float: VsFloat
    counter: str
    counter_note: str
    unit: str | None
    total: Total | None
    figure: float | None               # median whole inference in `unit`
    macs_per: float | None             # model MACs / figure
    layers: list[LayerFigure]
    latency_ms: LatencyMs
    link: LinkReport
    restarts: list[Restart] = field(default_factory=list)
    failed_vectors: list[FailedVector] = field(default_factory=list)
    per_vector: list[VectorRecord] = field(default_factory=list)
    tflm: TflmReport | None = None     # a .tflite model: device and integer simulator against TFLite Micro
    aborted: str | None = None         # why the run stopped early (device dead after its restarts)
    run_id: int | None = None          # `hil run`: the run's id in the results store
    boards: int | None = None          # a merged `pytest -n N` run: boards that ran this model

    @property
    def singular(self) -> str | None:
        return SINGULAR[self.unit] if self.unit else None

    def replace(self, **changes) -> "ModelResult":
        return replace(self, **changes)

    def to_json(self) -> dict:
        u = self.unit
        out = dict(
            format=RESULTS_FORMAT, version=RESULTS_VERSION,
            board=self.board, device_board=self.device_board, firmware=self.firmware,
            build_hash=self.build_hash, clock_hz=self.clock_hz, model=self.model,
            model_hash=self.model_hash, bundle_hash=self.bundle_hash,
            vectors=self.vectors, int_mismatches=self.int_mismatches,
            mismatched_vectors=list(self.mismatched_vectors), mismatch_details=list(self.mismatch_details),
            accuracy=self.accuracy.to_json(), per_class=[c.to_json() for c in self.per_class],
            vs_float=self.vs_float.to_json(),
            counter=self.counter, counter_note=self.counter_note, unit=u,
            total=self.total.to_json() if self.total else None, **_figures(u, self.figure, self.macs_per),
            layers=[L.to_json(u) for L in self.layers],
            latency_ms=self.latency_ms.to_json(),
            link=self.link.to_json(),
            restarts=[r.to_json() for r in self.restarts],
            failed_vectors=[f.to_json() for f in self.failed_vectors],
            per_vector=[v.to_json(u) for v in self.per_vector],
        )
        if self.tflm is not None:
            out["tflm"] = self.tflm.to_json()
        out["aborted"] = self.aborted
        if self.run_id is not None:
            out["run_id"] = self.run_id
        if self.boards is not None:
            out["boards"] = self.boards
        return out

    @classmethod
    def from_json(cls, j: dict) -> "ModelResult":
        u = j.get("unit")
        return cls(
            board=j["board"], device_board=j.get("device_board"), firmware=j.get("firmware"),
            build_hash=j.get("build_hash"), clock_hz=j.get("clock_hz"), model=j["model"],
            model_hash=j.get("model_hash"), bundle_hash=j.get("bundle_hash"),
            vectors=j["vectors"], int_mismatches=j["int_mismatches"],
            mismatched_vectors=list(j.get("mismatched_vectors", [])),
            mismatch_details=list(j.get("mismatch_details", [])),
            accuracy=Accuracy.from_json(j.get("accuracy") or {}),
            per_class=[ClassAccuracy.from_json(c) for c in j.get("per_class") or []],
            vs_float=VsFloat.from_json(j.get("vs_float") or {}),
            counter=j.get("counter"), counter_note=j.get("counter_note"), unit=u,
            total=Total.from_json(j.get("total")),
            figure=j.get(u) if u else None, macs_per=j.get(f"macs_per_{SINGULAR[u]}") if u else None,
            layers=[LayerFigure.from_json(L, u) for L in j.get("layers", [])],
            latency_ms=LatencyMs.from_json(j.get("latency_ms") or {}),
            link=LinkReport.from_json(j.get("link")),
            restarts=[Restart.from_json(r) for r in j.get("restarts", [])],
            failed_vectors=[FailedVector.from_json(f) for f in j.get("failed_vectors", [])],
            per_vector=[VectorRecord.from_json(v, u) for v in j.get("per_vector", [])],
            tflm=TflmReport.from_json(j.get("tflm")), aborted=j.get("aborted"), run_id=j.get("run_id"), boards=j.get("boards"),
        )


@dataclass
class ProfileResult:
    """`hil profile`: per-layer figures of one model (`format: hil-profile`)."""
    board: str
    model: str
    build_hash: str
    counter: str
    counter_note: str
    unit: str
    clock_hz: int
    macs: int
    total: Total
    figure: float | None
    macs_per: float | None
    layers: list[LayerFigure]
    memory: dict | None = None        # the board's memory record (docs/results-json.md)

    @property
    def singular(self) -> str:
        return SINGULAR[self.unit]

    def to_json(self) -> dict:
        return dict(format=PROFILE_FORMAT, version=RESULTS_VERSION, board=self.board, model=self.model,
                    build_hash=self.build_hash, counter=self.counter, counter_note=self.counter_note,
                    unit=self.unit, clock_hz=self.clock_hz, macs=self.macs, total=self.total.to_json(),
                    **_figures(self.unit, self.figure, self.macs_per),
                    layers=[L.to_json(self.unit) for L in self.layers], memory=self.memory)
