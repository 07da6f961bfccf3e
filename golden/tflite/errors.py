"""Errors of the `.tflite` importer (one line each)."""
from golden.errors import GoldenError


class TfliteError(GoldenError):
    """A `.tflite` file cannot be read or holds something hil cannot run."""


class UnsupportedOp(TfliteError):
    """An operator (or an operator option) the importer does not convert."""
