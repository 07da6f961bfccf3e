"""Every bundle vector of every built-in int8 model through TFLite Micro (`make tflm-check`).

Exports each model with golden.tflite_export, runs the file in the tflite-micro
package's interpreter (TFLM's reference kernels) and prints, per model, how many
vectors give outputs bit-identical to the committed bundle's int_logits and to
golden/intsim run on the artifact (both must be all: the export refuses an
artifact whose multipliers TFLM would not derive itself; see
docs/integer-arithmetic.md). Exits 1 if any vector differs.
"""
from __future__ import annotations

import sys
import time

import numpy as np

from golden import artifact, bundle
from golden.build import artifact_dir, qmodel_path
from golden.intsim.run import IntegerSimulator
from golden.tflite_export import export
from golden.tflm_run import tflm_outputs

MODELS = ("sine_mlp", "mnist_lenet", "kws_dscnn", "squeezenet_mini", "shufflenetv2_mini", "resnet8")


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a.reshape(len(a), -1) == b.reshape(len(b), -1)).all(axis=1)


def main(names) -> int:
    failed = False
    for name in names:
        doc = artifact.load(qmodel_path(name))
        b = bundle.read(artifact_dir(name))
        e = export(doc)
        t0 = time.perf_counter()
        got = tflm_outputs(e.data, b.inputs, doc["layers"][-1]["out_shape"])
        secs = time.perf_counter() - t0
        sim = _same(got, IntegerSimulator(doc).run(b.inputs).outputs)
        own = _same(got, b.int_logits)
        failed |= not (sim.all() and own.all())
        print(f"{name}: {len(b)} vectors; TFLM == bundle int_logits {int(own.sum())}; TFLM == intsim "
              f"{int(sim.sum())}; {e.scales.multipliers} requantization parameters checked equal to TFLM's; "
              f"TFLM {secs / len(b) * 1e3:.1f} ms/vector wall", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or MODELS))
