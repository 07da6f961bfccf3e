"""Seed 001: the integer DS-CNN for FPGA hardware, power-of-two rescaling only.

    input int6 [-32, 31], 1x49x10
    conv 48 @ 4x4 stride 2, no padding, no bias -> floor(/8)   -> ReLU
    depthwise 3x3 pad 1, no bias               -> floor(/16)  -> ReLU
    global max pool (48 values)
    pointwise 48 -> 16, no bias                -> floor(/256) -> ReLU
    fully connected 16 -> classes, int32 bias  -> int32 logits

Weights are integers in [-32, 31] (6 bits). With no biases before the last
layer, scaling every weight of a layer scales its output, so the network can
be trained directly in the integer domain: the float twin uses the trained
(real-valued) weights and exact division, the integer model rounds weights to
6 bits and divides with floor (an arithmetic shift), as the seed describes.
Quantization-aware training (straight-through estimators for rounding and
floor) makes the two agree. The seed's 768-cycle pointwise dataflow is the
48 x 16 = 768 multiply-accumulates of the pointwise layer applied to the
pooled 48-vector. ReLU after each rescale follows Hello Edge's DS-CNN; the
seed's notes do not saturate, and neither do we (int32 accumulators, checked).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

W_MIN, W_MAX = -32, 31
X_MIN, X_MAX = -32, 31
INPUT_SCALE = 1 / 8          # normalised MFCC (unit variance) * 8 -> +-4 sigma in 6 bits
SHIFTS = {"conv1": 3, "depthwise": 4, "pointwise": 8}
LOGIT_SCALE = 1 / 64         # training temperature only: integer logits are large


def ste_round_clamp(w: torch.Tensor, lo: int, hi: int) -> torch.Tensor:
    return w + (torch.clamp(torch.round(w), lo, hi) - w).detach()


def ste_floor(x: torch.Tensor) -> torch.Tensor:
    return x + (torch.floor(x) - x).detach()


def quantize_input(x_norm: torch.Tensor) -> torch.Tensor:
    """Normalised features -> integer input in [-32, 31] (as float values)."""
    return torch.clamp(torch.round(x_norm / INPUT_SCALE), X_MIN, X_MAX)


class KwsDsCnnFpga(nn.Module):
    """Float twin (``quantized=False``) and fake-quantized integer model (``True``)."""

    logit_scale = LOGIT_SCALE

    def __init__(self, num_classes: int = 4, channels: int = 48, pw_out: int = 16):
        super().__init__()
        self.conv1 = nn.Conv2d(1, channels, 4, stride=2, bias=False)
        self.depthwise = nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False)
        self.pointwise = nn.Conv2d(channels, pw_out, 1, bias=False)
        self.fc1 = nn.Linear(pw_out, num_classes)
        self.quantized = False
        with torch.no_grad():   # start with weights that use the 6-bit range
            for m in (self.conv1, self.depthwise, self.pointwise, self.fc1):
                m.weight.mul_(20.0 / m.weight.abs().max())
            self.fc1.bias.zero_()

    def _w(self, m: nn.Module) -> torch.Tensor:
        return ste_round_clamp(m.weight, W_MIN, W_MAX) if self.quantized else m.weight

    def _rescale(self, x: torch.Tensor, name: str) -> torch.Tensor:
        x = x / (1 << SHIFTS[name])
        return ste_floor(x) if self.quantized else x

    def forward(self, x):
        x = F.relu(self._rescale(F.conv2d(x, self._w(self.conv1), stride=2), "conv1"))
        x = F.relu(self._rescale(F.conv2d(x, self._w(self.depthwise), padding=1,
                                          groups=self.depthwise.groups), "depthwise"))
        x = torch.amax(x, dim=(2, 3), keepdim=True)
        x = F.relu(self._rescale(F.conv2d(x, self._w(self.pointwise)), "pointwise"))
        bias = torch.round(self.fc1.bias) if self.quantized else self.fc1.bias
        bias = self.fc1.bias + (bias - self.fc1.bias).detach()
        return F.linear(x.flatten(1), self._w(self.fc1), bias)

    def clamp_(self) -> None:
        """Keep latent weights where rounding can still move them."""
        with torch.no_grad():
            for m in (self.conv1, self.depthwise, self.pointwise, self.fc1):
                m.weight.clamp_(W_MIN - 0.49, W_MAX + 0.49)


def _int_list(t: torch.Tensor) -> list[int]:
    return torch.clamp(torch.round(t.detach()), W_MIN, W_MAX).to(torch.int64).reshape(-1).tolist()


def export_layers(model: KwsDsCnnFpga, input_shape=(1, 49, 10)) -> list[dict]:
    """Artifact layer dicts (scheme "shift") for the integer model."""
    c = model.conv1.out_channels
    _, h, w = input_shape
    oh, ow = (h - 4) // 2 + 1, (w - 4) // 2 + 1
    p = model.pointwise.out_channels
    n = model.fc1.out_features

    def conv(name, op, m, in_shape, out_shape, kernel, stride, pad, rshift, macs):
        return dict(name=name, op=op, in_shape=in_shape, out_shape=out_shape, macs=macs,
                    kernel=kernel, stride=stride, padding=pad, weights_shape=list(m.weight.shape),
                    weights=_int_list(m.weight), bias=None, rshift=rshift, relu=True)

    return [
        conv("conv1", "conv2d", model.conv1, [1, h, w], [c, oh, ow], [4, 4], [2, 2], [0, 0],
             SHIFTS["conv1"], c * oh * ow * 16),
        conv("depthwise", "depthwise_conv2d", model.depthwise, [c, oh, ow], [c, oh, ow],
             [3, 3], [1, 1], [1, 1], SHIFTS["depthwise"], c * oh * ow * 9),
        dict(name="pool", op="maxpool2d", **{"global": True}, in_shape=[c, oh, ow],
             out_shape=[c, 1, 1], kernel=[oh, ow], stride=[oh, ow], padding=[0, 0], macs=0),
        conv("pointwise", "conv2d", model.pointwise, [c, 1, 1], [p, 1, 1], [1, 1], [1, 1],
             [0, 0], SHIFTS["pointwise"], c * p),
        dict(name="fc1", op="fully_connected", in_shape=[p, 1, 1], out_shape=[n], macs=p * n,
             weights_shape=list(model.fc1.weight.shape), weights=_int_list(model.fc1.weight),
             bias=torch.round(model.fc1.bias.detach()).to(torch.int64).tolist(), rshift=0,
             relu=False),
    ]
