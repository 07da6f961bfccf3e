"""Liveness-based activation arena plan for a quantized model graph.

Each layer's output tensor lives from the layer that writes it to the last
layer that reads it (the model output to the end, where it is copied out).
Tensors are placed greedily, largest first, at the lowest 4-byte-aligned
offset that overlaps no tensor live at the same time (TFLite Micro's greedy
planner). A layer never writes over its own inputs. The STM32 generator emits
the offsets; `hil golden show` and the firmware size report print the planned
peak against the naive sum (every tensor its own bytes).

The model input has the arena's first bytes, [0, input_bytes), for the whole
run: the STM32 firmware loads it there (LOAD_INPUT) and keeps it across runs
(INFER again, TIMING repeats, a layer read-out re-runs from it), so no input
buffer of its own is needed. Layer tensors are planned above it.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import prod

from golden.artifact import INPUT
from golden.qmodel import Layer, QModel

ALIGN = 4


@dataclass(frozen=True)
class ArenaPlan:
    offsets: tuple[int, ...]    # byte offset of each layer's output tensor
    sizes: tuple[int, ...]      # bytes of each layer's output tensor
    peak: int                   # arena bytes the plan needs (input slot included)
    naive: int                  # bytes if every tensor, the input too, had its own place (4-byte aligned)
    input_bytes: int = 0        # the input slot at offset 0 (4-byte aligned), live for the whole run

    @property
    def saved(self) -> float:
        return 1.0 - self.peak / self.naive if self.naive else 0.0


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


def lifetimes(layers: tuple[Layer, ...]) -> list[tuple[int, int]]:
    """(first, last) layer index during which each layer's output must be kept."""
    index = {L.name: i for i, L in enumerate(layers)}
    last = list(range(len(layers)))
    for i, L in enumerate(layers):
        for name in L.inputs:
            if name != INPUT:
                last[index[name]] = max(last[index[name]], i)
    if layers:
        last[-1] = len(layers)          # the model output is copied out after the last layer
    return [(i, last[i]) for i in range(len(layers))]


def plan(doc: QModel | dict) -> ArenaPlan:
    qm = QModel.of(doc)
    layers = qm.layers
    base = _align(prod(qm.input.shape))      # the input slot, [0, base) for the whole run
    sizes = [prod(L.out_shape) for L in layers]
    life = lifetimes(layers)
    placed: list[tuple[int, int, int]] = []     # (offset, end, layer)
    offsets = [0] * len(layers)
    for i in sorted(range(len(layers)), key=lambda k: (-sizes[k], k)):
        a, b = life[i]
        busy = sorted((o, e) for o, e, j in placed if life[j][0] <= b and a <= life[j][1])
        off = base
        for o, e in busy:
            if off + sizes[i] <= o:
                break
            off = max(off, _align(e))
        offsets[i] = off
        placed.append((off, off + sizes[i], i))
    peak = max((o + s for o, s in zip(offsets, sizes)), default=base)
    return ArenaPlan(tuple(offsets), tuple(sizes), peak, base + sum(_align(s) for s in sizes), base)


def check(doc: QModel | dict, p: ArenaPlan) -> None:
    """Raise AssertionError if two tensors live at the same time share a byte."""
    life = lifetimes(QModel.of(doc).layers)
    n = len(p.sizes)
    assert all(o >= p.input_bytes for o in p.offsets), "a layer tensor overlaps the input slot"
    for i in range(n):
        for j in range(i + 1, n):
            if life[i][0] <= life[j][1] and life[j][0] <= life[i][1]:
                assert p.offsets[i] + p.sizes[i] <= p.offsets[j] or p.offsets[j] + p.sizes[j] <= p.offsets[i], \
                    f"layers {i} and {j} overlap in the arena while both live"
