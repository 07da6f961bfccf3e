"""Small graph rewrites shared by the torch.fx and ONNX paths: BatchNorm folding
and SAME / asymmetric padding. Both paths must give bit-identical float
weights, so the fold uses the exact float32 operation order of torch's ONNX
exporter (checked by tests/test_graph_ops.py)."""
from __future__ import annotations

import copy

import torch
from torch import nn


def fold_bn(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    """A copy of `conv` with the eval-mode `bn` after it folded in.

    s = gamma / sqrt(var + eps); w' = w * s; b' = (b - mean) * s + beta,
    in float32, as torch.onnx.export(..., dynamo=False) folds it in eval mode.
    """
    from golden.graph import UnsupportedLayer
    if bn.running_mean is None or bn.running_var is None:
        raise UnsupportedLayer("BatchNorm2d without running statistics cannot be folded")
    with torch.no_grad():
        gamma = bn.weight if bn.weight is not None else torch.ones_like(bn.running_var)
        beta = bn.bias if bn.bias is not None else torch.zeros_like(bn.running_var)
        s = gamma / torch.sqrt(bn.running_var + bn.eps)
        b = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
        out = copy.deepcopy(conv)
        out.padding = conv.padding
        out.weight = nn.Parameter(conv.weight * s.reshape(-1, 1, 1, 1))
        out.bias = nn.Parameter((b - bn.running_mean) * s + beta)
    return out


def _extent(n: int, k: int, s: int, lo: int, hi: int) -> int:
    return (n + lo + hi - k) // s + 1


def symmetric_padding(name: str, hw, kernel, stride, pads) -> tuple[int, int]:
    """(top, left) padding equivalent to pads (top, left, bottom, right).

    The kernels pad both sides by the same amount; asymmetric padding is the
    same computation whenever the output size agrees (the windows start at the
    same place and the extra rows are never read). Otherwise UnsupportedLayer.
    """
    from golden.graph import UnsupportedLayer
    t, l, b, r = pads
    for n, k, s, lo, hi, axis in ((hw[0], kernel[0], stride[0], t, b, "H"),
                                  (hw[1], kernel[1], stride[1], l, r, "W")):
        if _extent(n, k, s, lo, hi) != _extent(n, k, s, lo, lo):
            raise UnsupportedLayer(
                f"layer '{name}': padding {lo} before / {hi} after along {axis} is asymmetric in a way "
                f"the kernels cannot run (e.g. SAME_UPPER with stride 2); use symmetric or SAME_LOWER padding")
    return t, l


def same_pads(hw, kernel, stride, upper: bool = True) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) of SAME padding: output = ceil(input / stride).

    SAME_UPPER (TensorFlow, torch 'same') puts the odd pixel at the end,
    SAME_LOWER at the start."""
    out = []
    for n, k, s in zip(hw, kernel, stride):
        total = max((-(-n // s) - 1) * s + k - n, 0)
        small, big = total // 2, total - total // 2
        out.append((small, big) if upper else (big, small))
    (t, b), (l, r) = out
    return t, l, b, r


def same_padding(name: str, hw, kernel, stride) -> tuple[int, int]:
    """torch padding='same' as symmetric (top, left) padding, or UnsupportedLayer."""
    return symmetric_padding(name, hw, kernel, stride, same_pads(hw, kernel, stride, upper=True))
