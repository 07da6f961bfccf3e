"""squeezenet_mini, shufflenetv2_mini, resnet8: shapes, MACs, parameters, building blocks."""
import pytest
import torch
from torch import nn

from golden import models
from golden.model_stats import model_stats
from golden.tiny_cnns import Fire, ShuffleUnit, channel_shuffle, fire_plan

NAMES = ["squeezenet_mini", "shufflenetv2_mini", "resnet8"]
SRAM, FLASH = 128 * 1024, 1024 * 1024          # STM32F405
ALLOWED = (nn.Conv2d, nn.BatchNorm2d, nn.ReLU, nn.ReLU6, nn.MaxPool2d, nn.AdaptiveAvgPool2d,
           nn.AvgPool2d, nn.Linear, nn.Sequential, Fire, ShuffleUnit)

# (params, MACs) measured, to catch an accidental change of architecture
EXPECTED = {"squeezenet_mini": (44_586, 2_870_272), "shufflenetv2_mini": (125_962, 5_604_352),
            "resnet8": (78_186, 12_501_632)}


@pytest.mark.parametrize("name", NAMES)
def test_shape_and_registry(name):
    info = models.get(name)
    assert info.input_shape == (3, 32, 32) and len(info.classes) == 10 and info.dataset == "colour_mnist"
    torch.manual_seed(0)
    out = info.build().eval()(torch.rand(2, 3, 32, 32))
    assert out.shape == (2, 10)


@pytest.mark.parametrize("name", NAMES)
def test_size_fits_the_stm32f405(name):
    info = models.get(name)
    s = model_stats(info.build(), info.input_shape)
    assert (s.params, s.macs) == EXPECTED[name]
    assert s.params < FLASH // 4                      # int8 weights leave most of the flash to code
    # a skip or a split keeps a third tensor alive: three of the largest still leave 32 KiB of SRAM
    # (the graph's memory plan gives the exact peak)
    assert 3 * s.largest_tensor <= SRAM - 32 * 1024
    assert s.largest_pair <= SRAM // 2


def test_resnet8_is_the_mlperf_tiny_reference():
    # the Keras reference (resnet_v1_eembc) has 78,186 trainable parameters and ~12.5 M MACs
    s = model_stats(models.get("resnet8").build(), (3, 32, 32))
    assert s.params == 78_186 and 12.4e6 < s.macs < 12.6e6


@pytest.mark.parametrize("name", NAMES)
def test_only_supported_building_blocks(name):
    model = models.get(name).build()
    for mname, m in model.named_modules():
        if mname:
            assert isinstance(m, ALLOWED) or type(m).__module__ == "golden.tiny_cnns", f"{name}: {mname} {m}"
    # every BatchNorm directly follows a conv (conv_bn pairs), so it folds
    for seq in model.modules():
        if isinstance(seq, nn.Sequential):
            kids = list(seq)
            for i, k in enumerate(kids):
                if isinstance(k, nn.BatchNorm2d):
                    assert i > 0 and isinstance(kids[i - 1], nn.Conv2d)


def test_fire_plan_follows_seed_002_rules():
    # SqueezeNet v1.0's own numbers from the rules (base 128, incr 128, freq 2, SR 0.125, pct 0.5)
    plan = fire_plan(8, 128, 128, 2, 0.125, 0.5)
    assert plan[0] == (16, 64, 64) and plan[2] == (32, 128, 128) and plan[7] == (64, 256, 256)
    fire = Fire(32, 8, 16, 16)
    assert fire(torch.rand(1, 32, 8, 8)).shape == (1, 32, 8, 8)


def test_channel_shuffle_interleaves_the_two_halves():
    x = torch.arange(8.).view(1, 8, 1, 1)
    assert channel_shuffle(x, 2).flatten().tolist() == [0, 4, 1, 5, 2, 6, 3, 7]


def test_shuffle_units_keep_or_halve_the_resolution():
    x = torch.rand(1, 24, 16, 16)
    assert ShuffleUnit(24, 48, 2)(x).shape == (1, 48, 8, 8)
    assert ShuffleUnit(24, 24, 1)(x).shape == (1, 24, 16, 16)
    # the stride-1 unit passes the left half through untouched (it lands on the even channels)
    u = ShuffleUnit(24, 24, 1).eval()
    assert torch.equal(u(x)[:, 0::2], x[:, :12])
