"""MACs, parameters and activation sizes of a float model, before quantization.

Counted with forward hooks on the layers that do arithmetic (Conv2d, Linear,
pooling). `largest_pair` is the largest (input + output) int8 byte count of
one such layer, the least SRAM a layer-by-layer engine needs for activations;
a graph with branches keeps more tensors alive (a skip connection, the other
half of a split), which the quantized graph's memory plan accounts for.

`python -m golden.model_stats [model ...]` prints the table.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass

import torch
from torch import nn

_COUNTED = (nn.Conv2d, nn.Linear, nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d)


@dataclass
class ModelStats:
    params: int                  # trainable (BatchNorm's included; folding leaves one bias per channel)
    macs: int
    largest_pair: int            # bytes (int8): input + output of one layer
    largest_pair_layer: str
    largest_tensor: int          # bytes (int8)


def model_stats(model: nn.Module, input_shape: tuple[int, ...]) -> ModelStats:
    macs, pair, tensor = 0, (0, ""), 0
    hooks = []

    def hook(name):
        def fn(mod, inp, out):
            nonlocal macs, pair, tensor
            i, o = inp[0][0].numel(), out[0].numel()     # batch of one
            if isinstance(mod, nn.Conv2d):
                k = mod.kernel_size[0] * mod.kernel_size[1] * mod.in_channels // mod.groups
                macs += o * k
            elif isinstance(mod, nn.Linear):
                macs += mod.in_features * mod.out_features
            if i + o > pair[0]:
                pair = (i + o, name)
            tensor = max(tensor, i, o)
        return fn

    for name, mod in model.named_modules():
        if isinstance(mod, _COUNTED):
            hooks.append(mod.register_forward_hook(hook(name)))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(torch.zeros(1, *input_shape))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    params = sum(p.numel() for p in model.parameters())
    return ModelStats(params, macs, pair[0], pair[1], tensor)


def main(argv: list[str] | None = None) -> int:
    from rich.console import Console
    from rich.table import Table

    from golden import models
    names = (argv if argv is not None else sys.argv[1:]) or list(models.REGISTRY)
    t = Table(title="float models (activation bytes at int8)")
    for col in ("model", "input", "params", "MACs", "largest in+out", "at layer", "largest tensor"):
        t.add_column(col, justify="left" if col in ("model", "at layer", "input") else "right")
    for name in names:
        info = models.get(name)
        s = model_stats(info.build(), info.input_shape)
        if not s.macs:    # custom layers (kws_dscnn_fpga) are not counted here
            t.add_row(name, "x".join(map(str, info.input_shape)), f"{s.params:,}", "n/a", "n/a", "", "n/a")
            continue
        t.add_row(name, "x".join(map(str, info.input_shape)), f"{s.params:,}", f"{s.macs:,}",
                  f"{s.largest_pair:,} B", s.largest_pair_layer, f"{s.largest_tensor:,} B")
    Console(width=120).print(t)
    return 0


if __name__ == "__main__":
    sys.exit(main())
