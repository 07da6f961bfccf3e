"""Model names, without torch: the built-in models and the default model lists.

The PyTorch definitions of the built-in models are in golden.models (which
imports torch); everything that only needs names (the run path, board
defaults, the firmware Makefile via `python -m golden.registry`) uses this.
"""
from __future__ import annotations

import sys
from pathlib import Path

from golden.errors import UnknownModel
from golden.paths import ARTIFACTS, qmodel_path

# The seed models, in the order `hil golden build --model all` builds them.
BUILTIN_MODELS = ("mnist_lenet", "kws_dscnn", "kws_dscnn_fpga", "sine_mlp")

# What a board runs when no model is chosen: the int8 engine (STM32 firmware,
# the `sim` board) and the HLS image (fpga-sim, FPGA boards).
DEFAULT_MODELS = ("mnist_lenet", "kws_dscnn", "sine_mlp")
DEFAULT_MODELS_HLS = ("kws_dscnn_fpga", "mnist_lenet")


def built_models(root: Path | None = None) -> list[str]:
    """Every model with a quantized artifact under the root (built-in or a user's)."""
    base = Path(root or ARTIFACTS)
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir() if qmodel_path(p.name, base).exists())


def check_built(name: str, root: Path | None = None) -> None:
    """Raise UnknownModel, naming the root and what is there, unless `name` has an artifact."""
    if not qmodel_path(name, root).exists():
        have = ", ".join(built_models(root)) or "none"
        raise UnknownModel(f"model '{name}' has no quantized artifact under {root or ARTIFACTS} "
                           f"(built there: {have}); build it with `hil golden build`")


if __name__ == "__main__":      # the firmware Makefile's default MODELS
    sys.stdout.write(" ".join(DEFAULT_MODELS) + "\n")
