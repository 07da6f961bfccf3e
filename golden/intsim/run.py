"""Run a quantized artifact on integer inputs: the bit-exact device reference."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from golden.errors import GoldenError
from golden.artifact import INPUT, chain_inputs, layer_arrays
from .kernels import KERNELS, MULTI_INPUT, REQUIRED_FIELDS
from .padding import pad4


@dataclass
class SimResult:
    outputs: np.ndarray                 # [N, *out_shape] integer outputs (logits)
    layers: list[np.ndarray] | None     # per layer [N, *shape], when requested


class IntegerSimulator:
    """Executes the graph `doc['layers']` (topological order, each layer reading
    its `inputs` by tensor name) with the kernels of golden.intsim.kernels."""

    def __init__(self, doc: dict):
        self.doc = doc
        self.scheme = doc["scheme"]
        self.layers = [layer_arrays(L) for L in chain_inputs(doc["layers"])]
        self.input_shape = tuple(doc["input"]["shape"])
        for L in self.layers:
            if (self.scheme, L["op"]) not in KERNELS:
                raise GoldenError(f"layer '{L['name']}': op {L['op']} has no {self.scheme} kernel")
            missing = [k for k in REQUIRED_FIELDS.get(L["op"], ()) if k not in L]
            if missing:
                raise GoldenError(f"layer '{L['name']}': op {L['op']} needs {', '.join(missing)}")
            pad4(L)     # a malformed padding is named here, not deep inside a kernel
            if L["op"] == "pad" and (len(L["pads"]) != 4 or min(L["pads"]) < 0):
                raise GoldenError(f"layer '{L['name']}': pads {L['pads']} is not [top, bottom, left, right] >= 0")

    def run_one(self, x: np.ndarray, keep_layers: bool = False):
        x = np.asarray(x)
        if tuple(x.shape) != self.input_shape:
            raise GoldenError(f"input shape {tuple(x.shape)} != model input {self.input_shape}")
        tensors = {INPUT: x.astype(np.int64)}
        per_layer = []
        for L in self.layers:
            ins = [tensors[n] for n in L["inputs"]]
            arg = ins if L["op"] in MULTI_INPUT else ins[0]
            t = KERNELS[(self.scheme, L["op"])](arg, L).reshape(L["out_shape"])
            tensors[L["name"]] = t
            if keep_layers:
                per_layer.append(t)
        return t, per_layer

    def run(self, xs: np.ndarray, keep_layers: bool = False) -> SimResult:
        outs, per = [], [[] for _ in self.layers]
        for x in xs:
            out, layers = self.run_one(x, keep_layers)
            outs.append(out)
            for i, t in enumerate(layers):
                per[i].append(t)
        # int8 activations in the int8 scheme; the shift scheme keeps int32 values
        dtype = np.int8 if self.scheme == "int8" else np.int32
        layers = [np.stack(p).astype(dtype) for p in per] if keep_layers else None
        return SimResult(np.stack(outs).astype(dtype), layers)


def dequantize(doc: dict, q: np.ndarray) -> np.ndarray:
    """Integer outputs -> real values with the artifact's output scale."""
    o = doc["output"]
    return (np.asarray(q, np.float64) - o["zero_point"]) * o["scale"]
