"""Per-model data: float tensors for training and the device's integer input.

A `Prepared` holds every split as the float model sees it, plus how a float
input becomes the int8 (or int6) tensor the device receives. The float
reference logits of a bundle are computed on the *dequantized device input*,
so float and device see the same numbers.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from golden.data.names import dataset_name
from golden.errors import DatasetError
from golden.models import ModelInfo


@dataclass
class Prepared:
    splits: dict[str, tuple[torch.Tensor, torch.Tensor]]   # name -> (x float, y)
    input_scale: float | None = None      # None: calibrate from training data
    input_zp: int | None = None
    preprocessing: dict = field(default_factory=dict)      # how raw data became x

    def device_input(self, x: torch.Tensor, scale: float, zp: int, lo=-128, hi=127) -> np.ndarray:
        q = np.round(x.double().numpy() / scale) + zp
        return np.clip(q, lo, hi).astype(np.int8)


def data_root() -> Path:
    from golden.paths import data_root as root
    return root()


def prepare(info: ModelInfo, root: Path | None = None) -> Prepared:
    root = Path(root or data_root())
    if info.dataset == "mnist":
        from golden.data import mnist
        splits = {}
        for s in ("train", "validation", "test"):
            x, y = mnist.load_split(s, root / "mnist")
            splits[s] = (torch.from_numpy(x).float().unsqueeze(1) / 255.0, torch.from_numpy(y))
        # pixel/255 with zero point -128 makes every 8-bit pixel exact on the device
        return Prepared(splits, 1 / 255, -128, {"kind": "mnist", "input": "pixel / 255"})
    if info.dataset in ("colour_mnist", "cifar10"):
        return _rgb32(info.dataset, root)
    if info.dataset in ("kws", "kws_fpga"):
        from golden.data.kws import load_kws_features
        feats = load_kws_features(root / "kws", info.classes, seed=0)
        splits = {s: (torch.from_numpy(feats[s]["x"]).float(), torch.from_numpy(feats[s]["y"]))
                  for s in ("train", "validation", "test")}
        pre = {"kind": "mfcc", "feature_norm": feats["norm"], "words": info.classes}
        if info.dataset == "kws_fpga":
            from golden.quant.shift import INPUT_SCALE, quantize_input
            splits = {s: (quantize_input(x), y) for s, (x, y) in splits.items()}
            pre["input"] = "clamp(round(normalised_mfcc * 8), -32, 31)"
            return Prepared(splits, INPUT_SCALE, 0, pre)   # x is already integer-valued
        return Prepared(splits, None, None, pre)
    if info.dataset == "user":       # --data FILE.npz: the user's vectors calibrate and test (golden.user_data)
        return _user(info)
    if info.dataset == "sine":
        from golden.data import sine
        splits = {s: tuple(torch.from_numpy(a) for a in sine.load_split(s))
                  for s in ("train", "validation", "test")}
        return Prepared(splits, None, None, {"kind": "sine", "input": "x in [0, 2*pi]"})
    raise DatasetError(f"model '{info.name}': no data loader for dataset '{info.dataset}'")


def _rgb32(dataset: str, root: Path) -> Prepared:
    """32x32 RGB images: the Colour-MNIST-32 stand-in, or real CIFAR-10 (`$HIL_CIFAR10`)."""
    if dataset == "cifar10":
        from golden.data import cifar10 as src
        load = lambda s: src.load_split(s)   # noqa: E731  (root from $HIL_CIFAR10)
        kind = "cifar10"
    else:
        from golden.data import colour_mnist as src
        load = lambda s: src.load_split(s, root, seed=0)   # noqa: E731
        kind = f"colour_mnist v{src.VERSION} seed 0"
    splits = {}
    for s in ("train", "validation", "test"):
        x, y = load(s)
        splits[s] = (torch.from_numpy(x).float() / 255.0, torch.from_numpy(y))
    # as MNIST: pixel/255 with zero point -128 makes every 8-bit value exact on the device
    return Prepared(splits, 1 / 255, -128, {"kind": kind, "dataset": dataset_name(dataset),
                                            "input": "pixel / 255, CHW [3, 32, 32]"})


def _user(info: ModelInfo) -> Prepared:
    """A pretrained user model judged on its own data file: every split is the file's vectors
    (nothing is trained; quantization calibrates on them)."""
    from golden.user_data import load
    d = load(Path(info.extra["data"]), info.input_shape, layout=info.extra["layout"],
             classes=len(info.classes) if info.classes else None)
    x = torch.from_numpy(d.x).float()
    y = torch.from_numpy(np.asarray(d.y))
    return Prepared({s: (x, y) for s in ("train", "validation", "test")}, None, None,
                    {"kind": "user", "data": Path(info.extra["data"]).name,
                     "input": f"the file's x ({info.extra['layout'].upper()} -> CHW); calibrated on the same vectors"})
