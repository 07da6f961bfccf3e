"""A typed, read-only view of a quantized-model artifact (`<model>.qmodel.json`, docs/architecture.md).

golden.artifact.load() reads and validates the document (golden/validate.py); `QModel.from_json`
turns it into attributes, which hil's code generators, boards and runner read. The view adds no
checks and drops none: loading is exactly as strict as before. `load()` does both steps. A
hand-made document (tests, the cycle model, an arena plan from shapes alone) that leaves out a
tensor's dtype, scale or zero point, the output, the model's name, hash or scheme, or a layer's op
or in_shape gets None or () there: validation is golden/validate.py's job, not the view's; only
`input`, `layers` and each layer's name and out_shape are needed.

Torch-free (the run path imports it).
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from golden import artifact

INPUT = artifact.INPUT


@dataclass(frozen=True)
class TensorSpec:
    """The model input or output: shape, dtype ("int8" | "int32"), scale and zero point
    (a checked artifact has all four)."""
    shape: tuple[int, ...]
    dtype: str | None
    scale: float | None
    zero_point: int | None

    @classmethod
    def from_json(cls, d: Mapping) -> "TensorSpec":
        return cls(tuple(d.get("shape", ())), d.get("dtype"), d.get("scale"), d.get("zero_point"))


@dataclass(frozen=True)
class Layer(Mapping):
    """One layer: the fields every layer has as attributes; its op's own fields by key.

    `inputs`, `in_shape` and `out_shape` are tuples; `macs` is None where the layer
    has none (the field is optional in the format).

    The op-specific fields (kernel, stride, padding, weights, multiplier, shift,
    input_zp, groups, ...) are read through this Mapping (`L["weights"]`, `L.get("global")`,
    `"weights" in L`), as the JSON holds them: which fields a layer has depends on its op
    and scheme, and the one table of them is golden/validate.py (OPS), which checks each
    on load. A typed record per op would copy that table, so a new op would be two edits;
    the mapping keeps it one. The mapping is the layer's whole JSON object, read-only.
    """
    name: str
    op: str
    inputs: tuple[str, ...]
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    macs: int | None
    fields: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Mapping, prev: str = INPUT) -> "Layer":
        """`prev`: the tensor a chain layer (version 1, no `inputs`) reads."""
        return cls(d["name"], d.get("op"), tuple(d.get("inputs", (prev,))), tuple(d.get("in_shape", ())),
                   tuple(d["out_shape"]), d.get("macs"), MappingProxyType(d))

    def to_json(self) -> Mapping[str, Any]:
        return self.fields

    def __getitem__(self, key: str) -> Any:
        return self.fields[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.fields)

    def __len__(self) -> int:
        return len(self.fields)

    # Mapping's __eq__ would compare the JSON objects; a record compares by identity of its fields
    __eq__ = object.__eq__
    __hash__ = object.__hash__


@dataclass(frozen=True)
class QModel:
    """A quantized model as its artifact describes it (docs/architecture.md lists the keys).

    `to_json()` gives back the checked document the view was made from: the golden side
    (integer simulator, TFLM reference, exporter) reads that dict; hil never writes an artifact.
    """
    model: str
    hash: str
    scheme: str                          # "int8" | "shift"
    input: TensorSpec
    output: TensorSpec
    layers: tuple[Layer, ...]
    classes: tuple[str, ...] | None      # None: a regression
    macs: int | None
    params: int | None
    source: Mapping[str, Any]            # where it came from: weights_sha256, or a .tflite's file/sha256
    mlperf_task: str | None              # a user's declared MLPerf Tiny task (hil/mlperf/tasks.py)
    version: int
    doc: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, d: Mapping) -> "QModel":
        layers, prev = [], INPUT
        for L in d["layers"]:
            layers.append(Layer.from_json(L, prev))
            prev = layers[-1].name
        classes = d.get("classes")
        return cls(d.get("model"), d.get("hash"), d.get("scheme"), TensorSpec.from_json(d["input"]),
                   TensorSpec.from_json(d.get("output") or {}), tuple(layers),
                   None if classes is None else tuple(classes), d.get("macs"), d.get("params"),
                   MappingProxyType(d.get("source") or {}), d.get("mlperf_task"), d.get("version"), d)

    @classmethod
    def of(cls, doc: "QModel | Mapping") -> "QModel":
        """`doc` itself if it is a QModel, else its view (callers that hold the JSON document)."""
        return doc if isinstance(doc, QModel) else cls.from_json(doc)

    def to_json(self) -> Mapping[str, Any]:
        return self.doc

    @property
    def digest(self) -> bytes:
        """The 32 bytes of the sha256 in `hash` ("sha256:<hex>")."""
        return bytes.fromhex(self.hash.split(":", 1)[1])

    def tensor_shapes(self) -> dict[str, list[int]]:
        """Every tensor's shape by name: the model input and each layer's output."""
        shapes = {INPUT: list(self.input.shape)}
        shapes.update({L.name: list(L.out_shape) for L in self.layers})
        return shapes


def load(path: Path) -> QModel:
    """The artifact at `path`, validated (golden.artifact.load), as a QModel."""
    return QModel.from_json(artifact.load(path))
