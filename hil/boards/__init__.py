"""Board registry: classes register through the `hil.boards` entry point group,
so a lab can add its own board in its own package without touching hil."""
from __future__ import annotations

from importlib.metadata import entry_points

from hil.boards.base import Board, BoardError, BoardOptions, Capability

DEFAULT_BOARD = "stm32f4-qemu"

__all__ = ["Board", "BoardError", "BoardOptions", "Capability", "DEFAULT_BOARD", "board_class", "known_boards"]


def known_boards() -> dict:
    """Board name -> entry point (loaded only when that board is used)."""
    return {ep.name: ep for ep in entry_points(group="hil.boards")}


def board_class(name: str) -> type[Board]:
    """The class of board `name`: an installed board, or `package.module:Class` (a lab's own
    board class that is not installed as an entry point, e.g. the host example of docs/own-firmware.md)."""
    if ":" in name:
        return _import_board(name)
    boards = known_boards()
    if name not in boards:
        raise BoardError(f"unknown board '{name}'; known boards: {', '.join(sorted(boards))} "
                         f"(`hil boards` lists them)")
    return boards[name].load()


def _import_board(spec: str) -> type[Board]:
    import importlib
    module, _, attr = spec.partition(":")
    try:
        cls = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise BoardError(f"board '{spec}' cannot be loaded ({exc}): give an importable `module:Class`") from None
    if not (isinstance(cls, type) and issubclass(cls, Board)):
        raise BoardError(f"board '{spec}' is not a hil.boards.Board subclass")
    return cls
