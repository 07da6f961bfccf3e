"""The one name rule for models, boards and lab places (torch-free, imports nothing of hil).

A name becomes a folder (`<artifacts root>/<name>/`), a file name, a make
argument, part of a C/C++ identifier and a fixed-size protocol string, so it
is held to a conservative pattern where it enters (`--name`, `--model`, the
lab config, the artifacts root scan). Paths are built only from names that
passed `check()`. The longest name is what the device protocol carries in
MODEL_INFO_RSP.name (24 bytes, no terminator needed; hil/protocol/spec.py,
tests/test_hostile_names.py holds the two together).

Layer names are not held to this rule: they come from torch/ONNX and may
contain dots and more; generated code escapes them (hil/targets/c_text.py).
"""
from __future__ import annotations

import re

from golden.errors import GoldenError

NAME_MAX = 24        # bytes of MODEL_INFO_RSP.name (and INFO_RSP.board) in hil/protocol/spec.py
PATTERN = rf"[A-Za-z][A-Za-z0-9_-]{{0,{NAME_MAX - 1}}}"
_RE = re.compile(PATTERN)


class BadName(GoldenError):
    """A model, board or place name outside the name rule."""


def is_valid(name) -> bool:
    return isinstance(name, str) and _RE.fullmatch(name) is not None


def check(name, what: str = "model") -> str:
    """`name` if it follows the rule, else BadName: one line giving the pattern."""
    if not is_valid(name):
        shown = repr(name) if len(repr(name)) <= 60 else repr(name)[:57] + "..."
        raise BadName(f"{what} name {shown} is not allowed: use {PATTERN} (a letter, then up to "
                      f"{NAME_MAX - 1} letters, digits, '_' or '-')")
    return name
