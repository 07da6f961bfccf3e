"""Run a `.tflite` file in TensorFlow Lite Micro (the tflite-micro package's own
interpreter and reference kernels) on hil's CHW int8 vectors."""
from __future__ import annotations

import numpy as np

from golden.errors import GoldenError


class TflmError(GoldenError):
    """TFLite Micro refused or failed to run a model."""


def tflm_outputs(data: bytes, xs: np.ndarray, out_shape) -> np.ndarray:
    """[N, *out_shape] int8 outputs of the model `data` on the CHW inputs `xs`."""
    try:
        from tflite_micro.python.tflite_micro import runtime
    except ImportError:
        raise TflmError("the TFLite Micro reference needs the tflite-micro package (pip install tflite-micro)") from None
    try:
        interp = runtime.Interpreter.from_bytes(data)
    except Exception as exc:      # the binding raises plain RuntimeError with TFLM's log text
        raise TflmError(f"TFLite Micro cannot load the model: {str(exc).strip().splitlines()[-1]}") from None
    outs = []
    for x in np.asarray(xs):
        nhwc = x.transpose(1, 2, 0)[None] if x.ndim == 3 else x[None]
        interp.set_input(np.ascontiguousarray(nhwc, np.int8), 0)
        interp.invoke()
        y = np.asarray(interp.get_output(0))
        outs.append(_to_chw(y, out_shape))
    return np.stack(outs)


def _to_chw(y: np.ndarray, out_shape) -> np.ndarray:
    out_shape = list(out_shape)
    if len(out_shape) == 3:
        return y.reshape(out_shape[1], out_shape[2], out_shape[0]).transpose(2, 0, 1)
    return y.reshape(out_shape)
