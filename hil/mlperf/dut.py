"""An MLPerf Tiny device behind the interface the runner drives (`hil.device.Device`'s run/infer,
stats, payload_bytes), so `hil run`, `hil nightly` and `pytest tests/board` judge it like any board.

Accuracy mode as the MLPerf Tiny runner does it: per vector `db load` + `db` lines + `infer 1 0`.
The printed outputs (%.3f) are read back into the integers that print exactly so
(hil/mlperf/tasks.py, OutputFormat): a value no integer prints as is a mismatch. The count is
`lap_us`: microseconds of the device's own clock, from its two m-lap-us- lines.
"""
from __future__ import annotations

import re
import statistics
from dataclasses import dataclass

import numpy as np

from typing import Callable

from hil.device import DeviceInfo, InferResult, LinkStats, ModelInfo
from hil.errors import InputError, ModelNotOnDevice
from hil.mlperf.client import MlperfClient
from hil.mlperf.tasks import OutputFormat

COUNTER = "lap_us"
NOT_PRINTED = np.iinfo(np.int64).min      # an output whose text no integer prints: always a mismatch
PRINTED = re.compile(r"-?[0-9]{1,16}\.[0-9]{3}")


def parse_outputs(fmt: OutputFormat, texts: list[str]) -> np.ndarray:
    """The integers whose %.3f text equals each printed value, NOT_PRINTED where none does."""
    out = np.full(len(texts), NOT_PRINTED, dtype=np.int64)
    for k, t in enumerate(texts):
        if not PRINTED.match(t.strip()):
            continue
        v = float(t)
        guess = int(round(v / float(fmt.scale))) + fmt.zero_point
        for q in (guess, guess - 1, guess + 1):
            if fmt.text([q])[0] == t.strip():
                out[k] = q
                break
    return out


@dataclass
class Performance:
    """Performance mode: windows of (load, `infer N W`), scored by the median throughput."""
    model: str
    n: int
    warmup: int
    window_us: list[int]            # t1 - t0 of each window, microseconds of the device's clock

    @property
    def throughput(self) -> list[float]:
        return [self.n / (us / 1e6) for us in self.window_us]

    @property
    def median_throughput(self) -> float:
        """Inferences per second of device time, the median window (the runner's score)."""
        return statistics.median(self.throughput)

    @property
    def median_latency_us(self) -> float:
        return 1e6 / self.median_throughput

    def to_json(self) -> dict:
        return dict(model=self.model, n=self.n, warmup=self.warmup, windows=len(self.window_us),
                    window_us=self.window_us, median_inferences_per_s=self.median_throughput,
                    median_latency_us=self.median_latency_us, unit="microseconds of the device's own clock")


class MlperfDevice:
    """Runs vectors on an MLPerf Tiny device through its text protocol."""

    def __init__(self, client: MlperfClient, info: DeviceInfo, serving: str, formats: dict[str, OutputFormat],
                 switch: Callable[[str], MlperfClient] | None = None, timeout_per_mac_s: float = 1e-6):
        self.client = client
        self.info_ = info
        self.serving = serving               # the model the device answers in text mode
        self.formats = formats               # per model: how its outputs are printed
        self.switch = switch                 # a twin that can serve another model: redeploys, new client
        self.stats = LinkStats()            # text commands are not retried: requests and timeouts only
        self.payload_bytes = 0
        self.per_mac_s = timeout_per_mac_s
        self.last_texts: list[str] = []

    def info(self) -> DeviceInfo:
        return self.info_

    def sync(self) -> None:
        self.client.flush()
        self.client.name()

    def _timeout(self, model: ModelInfo, runs: int) -> float:
        return self.client.timeout + self.per_mac_s * model.macs * runs

    def run(self, model: ModelInfo, x: np.ndarray, mode: str = "OUTPUTS") -> InferResult:
        """Load x and `infer 1 0` (the run mode is ignored: the protocol has outputs only)."""
        x = np.asarray(x)
        if x.nbytes != model.in_bytes:
            raise InputError(f"input of {x.nbytes} bytes does not match model '{model.name}' "
                             f"({model.in_bytes} bytes)")
        if model.name != self.serving:
            if self.switch is None:
                raise ModelNotOnDevice(f"the device serves '{self.serving}' in text mode, not '{model.name}'")
            self.client = self.switch(model.name)
            self.serving = model.name
        data = np.ascontiguousarray(x, dtype=model.in_dtype).tobytes()
        self.stats.requests += 1
        self.client.load(data)
        return self.infer(model, mode, n=1, warmup=0, loaded=len(data))

    def infer(self, model: ModelInfo, mode: str = "OUTPUTS", n: int = 1, warmup: int = 0,
              loaded: int = 0) -> InferResult:
        lap = self.client.infer(n, warmup, timeout=self._timeout(model, n + warmup))
        self.last_texts = lap.results
        out = parse_outputs(self.formats[model.name], lap.results)
        self.payload_bytes += loaded + len(lap.results) * (1 if model.out_dtype == "int8" else 4)
        us = lap.t1_us - lap.t0_us
        return InferResult(output=out.reshape(model.out_shape) if out.size == int(np.prod(model.out_shape)) else out,
                           counter=COUNTER, repeat=n, total_sum=us, total_min=us // n, total_max=us // n)
        # total_min/max: the mean of the N runs (the protocol gives only their sum)

    def performance(self, model: ModelInfo, x: np.ndarray, n: int, warmup: int, windows: int = 5) -> Performance:
        """As the MLPerf Tiny runner's performance mode: `windows` x (load, `infer N W`)."""
        if model.name != self.serving:
            self.run(model, x)                           # switches a twin to the model
        data = np.ascontiguousarray(x, dtype=model.in_dtype).tobytes()
        laps = []
        for _ in range(windows):
            self.client.load(data)
            laps.append(self.client.infer(n, warmup, timeout=self._timeout(model, n + warmup)))
        return Performance(model.name, n, warmup, [lap.t1_us - lap.t0_us for lap in laps])
