"""Which reference an MLPerf Tiny device's answers are held to.

Built-in and torch/ONNX models: the integer simulator (the golden bundle's integer outputs, which
the runner compares with). `.tflite` models (imported with `hil golden build --tflite`, whose qmodel
says source format "tflite"): TFLite Micro's own interpreter (golden/tflm_ref.py) on the same int8
inputs, as for the lab's MLPerf firmware. The runner puts that comparison in the results' `tflm`
entry (hil/tflm_check.py) for every board; over MLPerf text the device's outputs are the integers
its printed %.3f values read back to (hil/mlperf/dut.py), and `model_info` refuses any model whose
outputs two integers would print alike, so an integer match there is a match at the printed
precision. `printed_mismatches` states that comparison directly on the printed text.
"""
from __future__ import annotations

import numpy as np

from golden import artifact, tflm_ref
from golden.paths import qmodel_path
from hil.errors import BoardError
from hil.mlperf.tasks import OutputFormat

INTSIM, TFLM = "intsim", "tflm"


def reference_kind(model: str) -> str:
    return TFLM if tflm_ref.is_tflite(artifact.load(qmodel_path(model))) else INTSIM


def check_reference(model: str) -> str:
    """The reference kind of `model`; for a `.tflite` model, BoardError (one line) when TFLM cannot
    run it (package missing, the imported file missing or changed): never judged against another."""
    kind = reference_kind(model)
    if kind == TFLM:
        from hil import tflm_check
        try:
            tflm_check.reference(artifact.load(qmodel_path(model)))
        except tflm_ref.TflmError as exc:
            raise BoardError(f"model '{model}' came from a .tflite file and its MLPerf reference is TFLM: "
                             f"{exc}") from None
    return kind


def reference_outputs(model: str, inputs: np.ndarray) -> np.ndarray:
    """TFLM's int8 outputs for `inputs` (a `.tflite` model), one row per vector."""
    from hil import tflm_check
    check_reference(model)
    ref = tflm_check.reference(artifact.load(qmodel_path(model)))
    return ref.outputs(np.asarray(inputs)).reshape(len(inputs), -1)


def printed_mismatches(fmt: OutputFormat, device_q: np.ndarray, reference_q: np.ndarray) -> np.ndarray:
    """Per vector: True where any output's %.3f text differs from the reference's dequantized output
    printed the same way (an output no integer prints, dut.NOT_PRINTED, always differs)."""
    dev = np.asarray(device_q, dtype=np.int64).reshape(len(device_q), -1)
    ref = np.asarray(reference_q, dtype=np.int64).reshape(len(reference_q), -1)
    bad = np.zeros(len(dev), dtype=bool)
    for k, (d, r) in enumerate(zip(dev, ref)):
        printable = d > np.iinfo(np.int64).min
        texts = fmt.text(np.where(printable, d, 0))
        bad[k] = not printable.all() or texts != fmt.text(r)
    return bad
