"""A user's own model in the registry: a PyTorch module with trained weights,
or an ONNX file. It must be built from the supported layer types
(golden.graph.SUPPORTED) and take the input of one of the built-in data sets,
whose test split then becomes its golden bundle."""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from golden.errors import DatasetError
from golden import models
from golden.graph import extract_layers
from golden.onnx_io import module_from_onnx

DATASETS = {"mnist": ("mnist_lenet",), "kws": ("kws_dscnn",), "sine": ("sine_mlp",)}


def _like(dataset: str) -> models.ModelInfo:
    if dataset not in DATASETS:
        raise DatasetError(f"unknown dataset '{dataset}'; use one of {sorted(DATASETS)}")
    return models.get(DATASETS[dataset][0])


def register_module(name: str, module: nn.Module, dataset: str) -> models.ModelInfo:
    """Register a trained module; fails now, naming the layer, if a layer is unsupported."""
    like = _like(dataset)
    extract_layers(module, like.input_shape)          # validate before anything is built
    state = {k: v.clone() for k, v in module.state_dict().items()}

    def build() -> nn.Module:
        m = module
        m.load_state_dict(state)
        return m.eval()

    return models.register(models.ModelInfo(
        name, build, like.input_shape, like.dataset, classes=like.classes,
        description=f"user model on {dataset} data", extra={"pretrained": True}))


def register_onnx(name: str, path: Path, dataset: str) -> models.ModelInfo:
    module, shape = module_from_onnx(path)
    like = _like(dataset)
    if tuple(shape) != tuple(like.input_shape):
        raise DatasetError(f"{path}: input shape {tuple(shape)} does not match the {dataset} "
                         f"data set's {tuple(like.input_shape)}")
    return register_module(name, module, dataset)


def load_torch(name: str, module: nn.Module, state_dict_path: Path, dataset: str) -> models.ModelInfo:
    module.load_state_dict(torch.load(state_dict_path, weights_only=True))
    return register_module(name, module, dataset)
