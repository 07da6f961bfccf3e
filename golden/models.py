"""PyTorch float models of the seed documents, and the model registry.

The registry is open: `register()` adds a user's module (or an ONNX file via
golden.onnx_import) and it goes through the same quantize -> bundle pipeline,
provided its layers are in the supported set (golden.graph).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn
import torch.nn.functional as F

from golden.errors import UnknownModel
from golden.registry import BUILTIN_DATASETS, BUILTIN_MODELS

KWS_WORDS = ["_silence_", "one", "two", "three", "four", "five"]
KWS_FPGA_WORDS = ["_silence_", "one", "two", "three"]


class MnistLeNet(nn.Module):
    """Seed 003: LeNet-lite for 28x28 digits (conv 4, conv 8, fc 32, fc 10)."""

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.pool1 = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(4, 8, 3, padding=1)
        self.pool2 = nn.MaxPool2d(2, 2)
        self.fc1 = nn.Linear(8 * 7 * 7, 32)
        self.fc2 = nn.Linear(32, num_classes)

    def forward(self, x):
        x = self.pool1(F.relu(self.conv1(x)))
        x = self.pool2(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        return self.fc2(F.relu(self.fc1(x)))


class DSBlock(nn.Module):
    """Depthwise 3x3 + ReLU + pointwise 1x1 + ReLU."""

    def __init__(self, channels: int):
        super().__init__()
        self.depthwise = nn.Conv2d(channels, channels, 3, padding=1, groups=channels)
        self.pointwise = nn.Conv2d(channels, channels, 1)

    def forward(self, x):
        return F.relu(self.pointwise(F.relu(self.depthwise(x))))


class KwsDsCnn(nn.Module):
    """Seed 000 DS-CNN for 49x10 MFCC.

    The seed applies one DS block four times (shared weights). We use four
    independent blocks: each gets its own calibrated activation range after
    quantization (shared weights would force one range onto four different
    distributions), it matches Hello Edge / MLPerf Tiny's DS-CNN, and the
    extra 14 K parameters (44,870 vs 30,470) are nothing for a 1 MiB flash.
    """

    def __init__(self, num_classes: int = len(KWS_WORDS), channels: int = 64):
        super().__init__()
        self.conv1 = nn.Conv2d(1, channels, (4, 10), stride=(2, 2), padding=(1, 4))
        self.blocks = nn.Sequential(*[DSBlock(channels) for _ in range(4)])
        self.pool = nn.MaxPool2d((2, 1))
        self.fc1 = nn.Linear(12 * 5 * channels, num_classes)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = self.blocks(x)
        x = torch.flatten(self.pool(x), 1)
        return self.fc1(x)


class SineMlp(nn.Module):
    """Seed 004: 1 -> 16 -> 16 -> 1 regression of sin(x)."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(1, 16)
        self.fc2 = nn.Linear(16, 16)
        self.fc3 = nn.Linear(16, 1)

    def forward(self, x):
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


@dataclass
class ModelInfo:
    name: str
    build: Callable[[], nn.Module]
    input_shape: tuple[int, ...]
    dataset: str                       # "mnist" | "kws" | "kws_fpga" | "sine" | "colour_mnist" | "user"
    scheme: str = "int8"               # "int8" | "shift"
    classes: list[str] | None = None   # None: regression
    description: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def task(self) -> str:
        return "regression" if self.classes is None else "classification"


REGISTRY: dict[str, ModelInfo] = {}


def register(info: ModelInfo) -> ModelInfo:
    REGISTRY[info.name] = info
    return info


def get(name: str) -> ModelInfo:
    try:
        return REGISTRY[name]
    except KeyError:
        raise UnknownModel(f"unknown model '{name}'; known: {', '.join(sorted(REGISTRY))}") from None


def _kws_fpga():
    from golden.quant.shift import KwsDsCnnFpga
    return KwsDsCnnFpga(num_classes=len(KWS_FPGA_WORDS))


register(ModelInfo("mnist_lenet", MnistLeNet, (1, 28, 28), "mnist",
                   classes=[str(d) for d in range(10)],
                   description="seed 003 LeNet-lite, real MNIST digits"))
register(ModelInfo("kws_dscnn", KwsDsCnn, (1, 49, 10), "kws", classes=list(KWS_WORDS),
                   description="seed 000 DS-CNN keyword spotting, 49x10 MFCC"))
register(ModelInfo("kws_dscnn_fpga", _kws_fpga, (1, 49, 10), "kws_fpga", scheme="shift",
                   classes=list(KWS_FPGA_WORDS),
                   description="seed 001 integer DS-CNN, 6-bit weights, power-of-two shifts"))
register(ModelInfo("sine_mlp", SineMlp, (1,), "sine", classes=None,
                   description="seed 004 sine regression MLP"))


def _tiny_cnn(cls_name: str) -> Callable[[], nn.Module]:
    def build() -> nn.Module:
        from golden import tiny_cnns
        return getattr(tiny_cnns, cls_name)()
    return build


# 32x32x3 image classifiers; their golden data is the Colour-MNIST-32 stand-in, not CIFAR-10
# (docs/data.md), so their classes are digits
for _name, _cls, _desc in [
        ("squeezenet_mini", "SqueezeNetMini", "seed 002 SqueezeNet (fire modules), 32x32x3"),
        ("shufflenetv2_mini", "ShuffleNetV2Mini", "seed 002 ShuffleNetV2 units, 32x32x3"),
        ("resnet8", "ResNet8", "MLPerf Tiny image classification ResNet-8, 32x32x3")]:
    register(ModelInfo(_name, _tiny_cnn(_cls), (3, 32, 32), "colour_mnist",
                       classes=[str(d) for d in range(10)],
                       description=_desc + ", Colour-MNIST-32 stand-in data"))

assert tuple(REGISTRY) == BUILTIN_MODELS, "golden.registry.BUILTIN_MODELS must list the models registered here"
assert all(BUILTIN_DATASETS[n] == i.dataset for n, i in REGISTRY.items()), "golden.registry.BUILTIN_DATASETS"
