"""Each model's declared MLPerf Tiny task and how its output is printed (`m-results-`, %.3f).

The task is what a device answers in `m-model-[...]` and what the MLPerf Tiny runner reads to pick
its data set. The printed value of an output q is `(float32)(q - zero_point) * (float32)scale` as
%.3f: float32 as TFLM-based MLPerf firmware computes it, and exactly what the device library's
text front end prints (hil_mlperf_format_milli)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from golden.qmodel import QModel
from hil.errors import ConfigError

TASKS = ("kws01", "ic01", "vww01", "ad01")
# Performance mode's reference settings per task: (inferences N, warm-ups W) per window; 5 windows.
PERF_SETTINGS = {"kws01": (70, 10), "ic01": (20, 5), "vww01": (20, 5), "ad01": (1500, 10)}
PERF_WINDOWS = 5

# Built-in models -> MLPerf Tiny task. mnist_lenet and the 32x32x3 nets are image classifiers (ic01's
# kind of task, not its CIFAR-10 data); sine_mlp is a regression and has none.
DECLARED = {"kws_dscnn": "kws01", "kws_dscnn_fpga": "kws01", "mnist_lenet": "ic01", "resnet8": "ic01",
            "squeezenet_mini": "ic01", "shufflenetv2_mini": "ic01"}


def task_of(model: str, qm: QModel | None = None) -> str:
    """The model's task: declared above, else `mlperf_task` in its qmodel artifact, else "none"."""
    task = DECLARED.get(model) or (qm.mlperf_task if qm is not None else None) or "none"
    if task not in TASKS + ("none",):
        raise ConfigError(f"model '{model}': mlperf_task '{task}' is not one of {', '.join(TASKS)}")
    return task


@dataclass(frozen=True)
class OutputFormat:
    """How one model's outputs are printed at 3 decimals."""
    scale: np.float32
    zero_point: int
    dtype: str                     # int8 | int32

    @classmethod
    def of(cls, doc: QModel | dict) -> "OutputFormat":
        o = QModel.of(doc).output
        return cls(np.float32(o.scale), int(o.zero_point), o.dtype)

    def values(self, q) -> np.ndarray:
        """The float32 dequantized outputs, as the device computes them."""
        return (np.asarray(q, dtype=np.int64) - self.zero_point).astype(np.float32) * self.scale

    def text(self, q) -> list[str]:
        """The outputs as the device prints them (%.3f of the float32 value)."""
        return ["%.3f" % float(v) for v in self.values(np.asarray(q).reshape(-1))]

    def inverse(self) -> dict[str, int] | None:
        """printed text -> the one int8 value that prints so, or None when two int8 values print
        alike (scale below about 0.001): then equal text does not prove equal integers."""
        if self.dtype != "int8":
            return None
        q = np.arange(-128, 128)
        texts = self.text(q)
        return dict(zip(texts, q.tolist())) if len(set(texts)) == len(texts) else None
