"""Write hil's own kws and Colour-MNIST-32 data as NHWC float .npz files for
scripts/make_tflite_fixtures.py (which runs in a TensorFlow venv without hil).

    .venv/bin/python scripts/export_tflite_training_data.py --out /tmp/hil-tfdata

`kws.npz` and `colour_mnist.npz` hold `x_train`, `y_train`, `x_test`, `y_test`: the same float
tensors hil's own models train on (golden.datasets.prepare), transposed from CHW to NHWC.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from golden import models
from golden.datasets import prepare


def export(model: str, out: Path) -> None:
    data = prepare(models.get(model))
    arrays = {}
    for split in ("train", "test"):
        x, y = data.splits[split]
        arrays[f"x_{split}"] = x.numpy().astype(np.float32).transpose(0, 2, 3, 1)   # NCHW -> NHWC
        arrays[f"y_{split}"] = y.numpy().astype(np.int64)
    np.savez(out, **arrays)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    export("kws_dscnn", args.out / "kws.npz")
    export("resnet8", args.out / "colour_mnist.npz")


if __name__ == "__main__":
    main()
