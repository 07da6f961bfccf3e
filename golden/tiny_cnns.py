"""Image classifiers for 32x32x3 input that are graphs, not chains.

SqueezeNet and ShuffleNetV2 follow seed 002's design rules, scaled down to
32x32 input and a microcontroller; ResNet-8 is MLPerf Tiny's image
classification model. All three use only these building blocks (what the
quantized graph pipeline takes): Conv2d (incl. groups), BatchNorm2d right
after a conv (folded at quantization), ReLU, MaxPool2d, AdaptiveAvgPool2d(1),
torch.cat on channels, channel split by slicing, channel shuffle as
view-transpose-view, residual `+`, Linear after flatten.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def conv_bn(cin: int, cout: int, k: int, stride: int = 1, groups: int = 1,
            bias: bool = False) -> nn.Sequential:
    """Conv + BatchNorm (the conv needs no bias: the BatchNorm supplies one)."""
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=bias),
                         nn.BatchNorm2d(cout))


# -- SqueezeNet (seed 002) ---------------------------------------------------------------------

class Fire(nn.Module):
    """Squeeze 1x1 -> ReLU -> (expand 1x1 | expand 3x3) -> ReLU -> concat on channels."""

    def __init__(self, cin: int, squeeze: int, e1: int, e3: int):
        super().__init__()
        self.squeeze = conv_bn(cin, squeeze, 1)
        self.expand1x1 = conv_bn(squeeze, e1, 1)
        self.expand3x3 = conv_bn(squeeze, e3, 3)

    def forward(self, x):
        s = F.relu(self.squeeze(x))
        return torch.cat([F.relu(self.expand1x1(s)), F.relu(self.expand3x3(s))], 1)


def fire_plan(n: int, base_e: int, incr_e: int, freq: int, sr: float, pct3x3: float):
    """Seed 002's SqueezeNet rules: e_i = base_e + incr_e * floor(i / freq),
    squeeze s_i = SR * e_i, expand 3x3 = pct3x3 * e_i, expand 1x1 = the rest."""
    plan = []
    for i in range(n):
        e = base_e + incr_e * (i // freq)
        e3 = int(round(pct3x3 * e))
        plan.append((int(round(sr * e)), e - e3, e3))
    return plan


class SqueezeNetMini(nn.Module):
    """SqueezeNet v1.1 layout for 32x32x3: conv 3x3 -> maxpool -> fire x2 -> maxpool -> fire x2
    -> maxpool -> fire x2 -> conv 1x1 (classes) -> global average pool.

    Fire sizes by seed 002's rules with base_e 32, incr_e 32, freq 2, SR 0.25,
    pct3x3 0.5 (SqueezeNet's own: 128, 128, 2, 0.125, 0.5). Differences from
    the seed, for a 32x32 input and a small training set: the first conv has
    stride 1 (the input is 7x smaller than 224x224), every conv has a
    BatchNorm (folded away at quantization), no dropout, and no ReLU after the
    classifier conv (it would clip negative logits before the average).
    """

    def __init__(self, num_classes: int = 10, stem: int = 32,
                 base_e: int = 32, incr_e: int = 32, freq: int = 2, sr: float = 0.25, pct3x3: float = 0.5):
        super().__init__()
        plan = fire_plan(6, base_e, incr_e, freq, sr, pct3x3)
        self.conv1 = conv_bn(3, stem, 3)
        fires, cin = [], stem
        for s, e1, e3 in plan:
            fires.append(Fire(cin, s, e1, e3))
            cin = e1 + e3
        self.fire2, self.fire3, self.fire4, self.fire5, self.fire6, self.fire7 = fires
        self.pool = nn.MaxPool2d(2, 2)
        self.conv10 = nn.Conv2d(cin, num_classes, 1)
        self.gap = nn.AdaptiveAvgPool2d(1)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))            # 16x16
        x = self.pool(self.fire3(self.fire2(x)))        # 8x8
        x = self.pool(self.fire5(self.fire4(x)))        # 4x4
        x = self.fire7(self.fire6(x))
        return torch.flatten(self.gap(self.conv10(x)), 1)


# -- ShuffleNetV2 (seed 002) -------------------------------------------------------------------

def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    n, c, h, w = x.shape
    return x.view(n, groups, c // groups, h, w).transpose(1, 2).contiguous().view(n, c, h, w)


class ShuffleUnit(nn.Module):
    """ShuffleNetV2 unit. Stride 1: split channels in half, the right half goes through
    pw-dw-pw, concat, shuffle. Stride 2 (down-sampling): both branches see the whole input
    (left: dw s2 + pw; right: pw + dw s2 + pw), concat doubles the channels, shuffle."""

    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.stride = stride
        self.half = cin // 2     # an int, not x.shape[1] // 2: graph tracing sees constants
        branch = cout // 2
        right_in = cin if stride == 2 else cin // 2
        if stride == 2:
            self.left = nn.Sequential(conv_bn(cin, cin, 3, 2, groups=cin), conv_bn(cin, branch, 1), nn.ReLU())
        self.right = nn.Sequential(conv_bn(right_in, branch, 1), nn.ReLU(),
                                   conv_bn(branch, branch, 3, stride, groups=branch),
                                   conv_bn(branch, branch, 1), nn.ReLU())

    def forward(self, x):
        if self.stride == 1:
            out = torch.cat([x[:, :self.half], self.right(x[:, self.half:])], 1)
        else:
            out = torch.cat([self.left(x), self.right(x)], 1)
        return channel_shuffle(out, 2)


class ShuffleNetV2Mini(nn.Module):
    """ShuffleNetV2 for 32x32x3: conv 3x3 (24) -> stages of (stride-2 unit + stride-1 units)
    with 48, 96, 192 channels at 16x16, 8x8, 4x4 -> conv 1x1 (256) -> global average pool -> fc.

    Seed 002's ShuffleNetV2 at width 0.5x has stages 48/96/192 with 4/8/4 units
    and conv5 1024 after a stride-2 stem and a maxpool (224x224). For 32x32 the
    stem has stride 1 and no maxpool, the stages repeat 2/3/2 units and conv5
    has 256 channels.
    """

    def __init__(self, num_classes: int = 10, stem: int = 24, stages=(48, 96, 192),
                 repeats=(2, 3, 2), last: int = 256):
        super().__init__()
        self.conv1 = nn.Sequential(conv_bn(3, stem, 3), nn.ReLU())
        units, cin = [], stem
        for cout, n in zip(stages, repeats):
            units.append(ShuffleUnit(cin, cout, 2))
            units += [ShuffleUnit(cout, cout, 1) for _ in range(n - 1)]
            cin = cout
        self.stages = nn.Sequential(*units)
        self.conv5 = nn.Sequential(conv_bn(cin, last, 1), nn.ReLU())
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(last, num_classes)

    def forward(self, x):
        x = self.conv5(self.stages(self.conv1(x)))
        return self.fc(torch.flatten(self.gap(x), 1))


# -- ResNet-8 (MLPerf Tiny image classification) -----------------------------------------------

class ResidualStack(nn.Module):
    """conv 3x3 (stride s) BN ReLU, conv 3x3 BN, + shortcut (identity, or conv 1x1 stride s
    when the shape changes), ReLU."""

    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = conv_bn(cin, cout, 3, stride, bias=True)
        self.conv2 = conv_bn(cout, cout, 3, bias=True)
        self.shortcut = None if stride == 1 and cin == cout else nn.Conv2d(cin, cout, 1, stride)

    def forward(self, x):
        y = self.conv2(F.relu(self.conv1(x)))
        skip = x if self.shortcut is None else self.shortcut(x)
        return F.relu(y + skip)


class ResNet8(nn.Module):
    """MLPerf Tiny IC ResNet-8 (`resnet_v1_eembc`): conv 3x3 16 BN ReLU, residual stacks of
    16, 32 (stride 2), 64 (stride 2) filters, average pool 8x8, dense 10.

    As the reference: convs carry biases (Keras default) followed by BatchNorm; the 1x1
    shortcuts have no BatchNorm. Padding is PyTorch's symmetric 1 where Keras' 'same' pads
    stride-2 convs one pixel at the bottom/right only; the shapes are the same.
    """

    def __init__(self, num_classes: int = 10, filters=(16, 32, 64)):
        super().__init__()
        self.conv1 = conv_bn(3, filters[0], 3, bias=True)
        stacks, cin = [], filters[0]
        for i, f in enumerate(filters):
            stacks.append(ResidualStack(cin, f, 1 if i == 0 else 2))
            cin = f
        self.stacks = nn.Sequential(*stacks)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = self.stacks(F.relu(self.conv1(x)))
        return self.fc(torch.flatten(self.gap(x), 1))
