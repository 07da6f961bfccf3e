"""Model names, without torch: the built-in models and the default model lists.

The PyTorch definitions of the built-in models are in golden.models (which
imports torch); everything that only needs names (the run path, board
defaults, the firmware Makefile via `python -m golden.registry`) uses this.
"""
from __future__ import annotations

import logging
import sys
from pathlib import Path

from golden.errors import UnknownModel
from golden import paths
from golden.names import PATTERN, is_valid
from golden.paths import qmodel_path

log = logging.getLogger(__name__)
_WARNED: set[Path] = set()      # folders with a bad name, said once per process

# The seed models, in the order `hil golden build --model all` builds them.
BUILTIN_MODELS = ("mnist_lenet", "kws_dscnn", "kws_dscnn_fpga", "sine_mlp",
                  "squeezenet_mini", "shufflenetv2_mini", "resnet8")

# The data set each built-in model's figures come from (names: golden.data.names).
BUILTIN_DATASETS = {"mnist_lenet": "mnist", "kws_dscnn": "kws", "kws_dscnn_fpga": "kws_fpga",
                    "sine_mlp": "sine", "squeezenet_mini": "colour_mnist",
                    "shufflenetv2_mini": "colour_mnist", "resnet8": "colour_mnist"}

# What a board runs when no model is chosen: the int8 engine (STM32 firmware,
# the `sim` board) and the HLS image (fpga-sim, FPGA boards).
DEFAULT_MODELS = ("mnist_lenet", "kws_dscnn", "sine_mlp")
DEFAULT_MODELS_HLS = ("kws_dscnn_fpga", "mnist_lenet")


def built_models(root: Path | None = None) -> list[str]:
    """Every model with a quantized artifact under the root (built-in or a user's)."""
    base = Path(root or paths.root())
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir() if p.is_dir() and _good_folder(p)
                  and qmodel_path(p.name, base).exists())


def _good_folder(p: Path) -> bool:
    """A folder whose name follows the name rule; any other is skipped with one warning line."""
    if is_valid(p.name):
        return True
    if p not in _WARNED and (p / f"{p.name}.qmodel.json").exists():
        _WARNED.add(p)
        log.warning("skipping %s: the folder name is not a model name (%s)", p, PATTERN)
    return False


def known_models() -> list[str]:
    """Built-in models first, then every other model built under the artifacts root."""
    return list(BUILTIN_MODELS) + [m for m in built_models() if m not in BUILTIN_MODELS]


def check_built(name: str, root: Path | None = None) -> None:
    """Raise UnknownModel, naming the root(s) searched and what is there, unless `name` has an artifact."""
    if not qmodel_path(name, root).exists():
        where = [Path(root)] if root else paths.search_roots()
        have = ", ".join(sorted({m for r in where for m in built_models(r)})) or "none"
        raise UnknownModel(
            f"unknown model '{name}': no quantized artifact under {' or '.join(map(str, where))} "
            f"(built there: {have}); build it into the artifacts root with `hil golden build --model {name}` "
            f"(a new model: `hil golden build --onnx F.onnx` or `--torch F.py:Class --weights W.pt`, "
            f"with `--name {name} --dataset D`), or point --artifacts / ${paths.ENV} at the folder that has it")


if __name__ == "__main__":      # the firmware Makefile's default MODELS
    sys.stdout.write(" ".join(DEFAULT_MODELS) + "\n")
