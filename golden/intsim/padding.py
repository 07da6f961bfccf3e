"""Padding of a spatial layer as four values (top, bottom, left, right).

Artifacts store `padding` either as 2 values `[ph, pw]` (symmetric) or as 4
values `[top, bottom, left, right]` (TFLite SAME with an odd total pads the
extra row/column at the bottom/right). Every engine reads it through pad4.
"""
from __future__ import annotations

from golden.errors import GoldenError


def pad4(L: dict) -> tuple[int, int, int, int]:
    """The layer's padding as (top, bottom, left, right); no `padding` means none."""
    p = [int(v) for v in L.get("padding", (0, 0))]
    if len(p) == 2:
        return p[0], p[0], p[1], p[1]
    if len(p) == 4 and min(p) >= 0:
        return p[0], p[1], p[2], p[3]
    raise GoldenError(f"layer '{L.get('name', '?')}': padding {p} is not [ph, pw] or "
                      f"[top, bottom, left, right] with non-negative values")
