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
    boards = known_boards()
    if name not in boards:
        raise BoardError(f"unknown board '{name}'; known boards: {', '.join(sorted(boards))} "
                         f"(`hil boards` lists them)")
    return boards[name].load()
