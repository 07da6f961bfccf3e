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
