"""Argument types shared by the `hil` command line and the pytest plugin's options."""
from __future__ import annotations

import argparse


def positive_int(text: str) -> int:
    """A count such as --vectors: a whole number of at least 1 (the option left out means all)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value}: give 1 or more (leave the option out for all)")
    return value
