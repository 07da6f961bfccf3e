"""Errors of the `.tflite` importer (one line each); defined in golden/errors.py with every other."""
from golden.errors import TfliteError, UnsupportedOp  # noqa: F401 - re-exported
