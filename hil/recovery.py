"""A dead or hung device is restarted, not fatal.

The host notices a dead device when the link fails (socket closed, port
gone), when a request gets no valid answer after its retransmissions
(LinkRetriesExhausted), or when the device reports a fault. It records the
vector and the request in flight, restarts the board (a new emulator
process, a probe reset on a real board: Board.restart), resynchronises and
runs the vector again. A vector that kills the device twice is recorded as
failed and the run goes on; a device that stays dead ends the run with one
BoardError.
"""
from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import Callable, TypeVar

from hil.boards.base import Board, BoardError
from hil.device import LinkRetriesExhausted
from hil.errors import HilError, VectorFailed  # noqa: F401 - VectorFailed is defined in hil.errors
from hil.link import LinkError
from hil.results.model_result import Restart

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_RESTARTS = 5          # per board session: more means the device is broken, not unlucky
TRIES_PER_VECTOR = 2      # a vector that kills the device twice is failed, not retried forever


def _dead_device_errors() -> tuple[type[BaseException], ...]:
    from hil import errors
    fault = getattr(errors, "DeviceFault", None)   # the device's own fault report (FAULT frame)
    return (LinkError, LinkRetriesExhausted) + ((fault,) if fault else ())



def with_restarts(board: Board, model: str, index: int, run: Callable[[], T]) -> T:
    """run() with a restart of the board after each dead-device error."""
    dead = _dead_device_errors()
    for attempt in range(TRIES_PER_VECTOR):
        request = None
        try:
            return run()
        except dead as exc:
            request = board.device.in_flight if board.device else None
            registers = getattr(exc, "registers", None)
            record = Restart(model=model, vector=index, request=request, error=type(exc).__name__,
                             message=str(exc), registers=registers,
                             where=board.locate(registers["pc"]) if registers and "pc" in registers else None)
        _restart(board, record)
    raise VectorFailed(f"{board.name}: {model} vector {index} left the device dead {TRIES_PER_VECTOR} times "
                       f"(last: {record.error} during {request}); see the restarts in the results")


def _restart(board: Board, record: Restart) -> None:
    if board.restarts >= MAX_RESTARTS:
        raise BoardError(f"{board.name}: device dead after {board.restarts} restarts (last: {record.message}); "
                         f"check the board and its firmware")
    log.warning("%s: device dead during %s vector %d (%s: %s); restarting", board.name, record.model,
                record.vector, record.error, record.message)
    t0 = time.perf_counter()
    try:
        board.restart()
    except HilError as exc:
        raise BoardError(f"{board.name}: restart after a dead device failed: {exc}") from None
    board.restart_log.append(replace(record, restart_s=round(time.perf_counter() - t0, 3)))
