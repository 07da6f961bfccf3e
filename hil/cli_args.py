"""Argument types shared by the `hil` command line and the pytest plugin's options."""
from __future__ import annotations

import argparse
from pathlib import Path


def positive_int(text: str) -> int:
    """A count such as --vectors: a whole number of at least 1 (the option left out means all)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value}: give 1 or more (leave the option out for all)")
    return value


def output_file(text: str) -> Path:
    """A file to write (e.g. --json): its folder must exist, checked before any work is done."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder: give a file path")
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: folder {path.parent} does not exist")
    return path


def existing_dir(text: str) -> Path:
    """A folder that must already exist (e.g. --artifacts to read models from)."""
    path = Path(text)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: {'not a folder' if path.exists() else 'no such folder'}")
    return path
