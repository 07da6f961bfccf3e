"""Which reference an MLPerf Tiny device's answers are held to.

Built-in and torch/ONNX models: the integer simulator (the golden bundle's integer outputs, which
the runner compares with). `.tflite` models (imported with `hil golden build --tflite`, whose
source.json says kind "tflite"): TFLM's own interpreter is the reference, as it is for the lab's
MLPerf firmware. THE HOOK: the integrator wires TFLM in here (`reference_outputs` returning TFLM's
int8 outputs for the bundle's inputs); until then such a model is refused with one line, never
compared against the wrong reference.
"""
from __future__ import annotations

import json

from golden.paths import artifact_dir
from hil.errors import BoardError

INTSIM, TFLM = "intsim", "tflm"


def reference_kind(model: str) -> str:
    src = artifact_dir(model) / "source.json"
    try:
        kind = json.loads(src.read_text()).get("kind") if src.exists() else None
    except (OSError, ValueError):
        kind = None
    return TFLM if kind == "tflite" else INTSIM


def check_reference(model: str) -> str:
    """The reference kind of `model`; BoardError while TFLM is not wired in as the reference."""
    kind = reference_kind(model)
    if kind == TFLM:
        raise BoardError(f"model '{model}' came from a .tflite file: its MLPerf reference is TFLM, "
                         f"which is not wired into hil.mlperf.reference yet")
    return kind
