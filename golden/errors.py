"""The root of the one exception tree of hil and golden.

`HilError` is defined here, in the lowest layer, because golden never imports
the harness; `hil.errors` re-exports it and adds the harness's own errors.
Catch `HilError` to catch every error either package raises on purpose; each
carries a one-line message that says what to do.
"""


class HilError(Exception):
    """Base of every error hil and golden raise on purpose."""


class GoldenError(HilError):
    """The reference side: models, data, artifacts, bundles, the integer simulator."""


class UnknownModel(GoldenError):
    """A model name that is neither built in nor built under the artifacts root."""


class DatasetError(GoldenError):
    """A data set is missing, malformed or does not fit the model."""


class AccumulatorOverflow(GoldenError, ArithmeticError):
    """An int32 accumulator would overflow: the device result would be wrong."""


class MnistDataError(DatasetError):
    """The MNIST source files are missing or malformed."""


class CifarDataError(DatasetError):
    """The CIFAR-10 batches are missing or malformed."""


class ArtifactError(GoldenError):
    """A quantized-model artifact is missing, malformed or altered."""


class UnsupportedLayer(GoldenError):
    """A model uses a layer type the device kernels do not implement."""


class BundleError(GoldenError):
    """A golden bundle is missing, stale or corrupted."""


class BadName(GoldenError):
    """A model, board or place name outside the name rule (golden/names.py)."""


class TfliteError(GoldenError):
    """A `.tflite` file cannot be read or holds something hil cannot run (golden/tflite/)."""


class UnsupportedOp(TfliteError):
    """An operator (or an operator option) the `.tflite` importer does not convert."""


class TflmError(GoldenError):
    """TFLite Micro cannot run a model: package or file missing, file changed, or the run failed
    (golden/tflm_ref.py, golden/tflm_run.py)."""


class ExportError(GoldenError):
    """An artifact cannot be written as a .tflite file TFLite Micro runs the same way (golden/tflite_export.py)."""
